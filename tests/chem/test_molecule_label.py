"""Molecules are named by formula in output and plots (one helper for df and tt molecule)."""
import pytest

from physfact.chem.molecules import formula, molecule_label


@pytest.mark.parametrize("text, expected", [
    ("N 0 0 0; N 0 0 1.1", "N2 (d = 1.10 A)"),
    ("O 0 0 0; H 0 0.757 0.587; H 0 -0.757 0.587", "H2O"),
    ("H 0 0 0; C 0 0 1.1; N 0 0 2.25", "CHN"),          # Hill order: C, H, then alphabetical
    ("lih", "LiH"),                                      # library names in their own spelling
    ("hchain4", "H4 chain (1.0 A)"),
])
def test_molecule_label(text, expected):
    assert molecule_label(text) == expected


def test_bond_length_in_angstrom_also_for_bohr_input():
    assert molecule_label("H 0 0 0; H 0 0 1.4", unit="bohr") == "H2 (d = 0.74 A)"


def test_formula_counts_every_atom():
    assert formula("C 0 0 0; H 1 1 1; H -1 -1 1; H 1 -1 -1; H -1 1 -1; Cl 3 0 0") == "CH4Cl"

