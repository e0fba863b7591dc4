"""The molecule library shipped in ``data/molecules`` (xyz files) and the hydrogen-chain generator."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from physfact.errors import DataFileError, InputError, UnknownNameError
from physfact.validation import check_int, check_positive

_CHAIN = re.compile(r"^h-?chain-?(\d+)$|^h(\d+)-?chain$", re.IGNORECASE)


def molecules_dir() -> Path:
    """``<repo>/data/molecules`` (the xyz library)."""
    return Path(__file__).resolve().parent.parent.parent / "data" / "molecules"


def known_molecules() -> list[str]:
    """Names of the shipped molecules (file stems of data/molecules/*.xyz)."""
    d = molecules_dir()
    return sorted(p.stem for p in d.glob("*.xyz")) if d.is_dir() else []


def read_xyz(path) -> tuple[str, str]:
    """Read an xyz file (count line, comment line, ``El x y z`` in Angstrom); return (atom string, comment)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        n = int(lines[0].split()[0])
        atoms = []
        for line in lines[2 : 2 + n]:
            el, x, y, z = line.split()[:4]
            atoms.append(f"{el} {float(x):.10f} {float(y):.10f} {float(z):.10f}")
    except (IndexError, ValueError) as exc:
        raise DataFileError(f"{path}: not an xyz file (count line, comment line, then 'El x y z' lines): {exc}") from None
    if len(atoms) != n:
        raise DataFileError(f"{path}: count line says {n} atoms but {len(atoms)} are listed")
    return "; ".join(atoms), lines[1].strip() if len(lines) > 1 else ""


def h_chain(n: int, spacing: float = 1.0) -> str:
    """Atom string of a linear chain of ``n`` hydrogen atoms ``spacing`` Angstrom apart (along z)."""
    n = check_int(n, "n", minimum=1, allow_none=False)
    spacing = check_positive(spacing, "spacing", allow_none=False)
    return "; ".join(f"H 0 0 {i * spacing:.10f}" for i in range(n))


def looks_like_atom_string(text: str) -> bool:
    """True for PySCF atom specs like ``"H 0 0 0; H 0 0 0.74"`` (an element followed by 3 numbers)."""
    first = re.split(r"[;\n]", text.strip())[0].split()
    if len(first) != 4:
        return False
    try:
        [float(v) for v in first[1:]]
    except ValueError:
        return False
    return bool(re.fullmatch(r"[A-Za-z]{1,2}\d*", first[0]))


def resolve_geometry(molecule: str) -> tuple[str, str]:
    """Turn a library name, an ``hchain<n>`` name, an xyz path or an atom string into (atom string, label)."""
    if not isinstance(molecule, str) or not molecule.strip():
        raise InputError(f"molecule must be a name, an .xyz path or a PySCF atom string, got {molecule!r}")
    text = molecule.strip()
    m = _CHAIN.match(text)
    if m:
        return h_chain(int(m.group(1) or m.group(2))), f"H{int(m.group(1) or m.group(2))} chain (1.0 A)"
    if looks_like_atom_string(text):
        return text, "atoms"
    if text.lower().endswith(".xyz"):
        return read_xyz(text)[0], Path(text).stem
    known = known_molecules()
    lookup = {k.lower(): k for k in known}
    if text.lower() in lookup:
        name = lookup[text.lower()]
        return read_xyz(molecules_dir() / f"{name}.xyz")[0], name
    raise UnknownNameError(f"unknown molecule {molecule!r}; known: {', '.join(known)}, "
                           "'hchain<n>' (n H atoms 1 A apart), an .xyz file, or an atom string like 'H 0 0 0; H 0 0 0.74'")


def geometry_array(atom_string: str) -> tuple[list[str], np.ndarray]:
    """Elements and (n, 3) coordinates in Angstrom of an atom string."""
    els, xyz = [], []
    for part in re.split(r"[;\n]", atom_string):
        if part.strip():
            el, *c = part.split()
            els.append(el)
            xyz.append([float(v) for v in c[:3]])
    return els, np.array(xyz)


#: atoms closer than this (Angstrom) are refused: the basis becomes linearly dependent
MIN_DISTANCE_ANGSTROM = 0.01
_UNITS = {"angstrom": 1.0, "ang": 1.0, "a": 1.0, "bohr": 0.529177210903, "b": 0.529177210903, "au": 0.529177210903}


def check_molecule(atoms: str, label: str, charge, spin, unit: str = "angstrom") -> tuple[int, int]:
    """Refuse what PySCF would answer with an assertion, a singular matrix or a MemoryError.

    Checks: integer charge and spin, a known length unit, finite coordinates, no two atoms closer
    than ``MIN_DISTANCE_ANGSTROM``, an electron count n = sum Z - charge with n >= |spin| and
    n - spin even, and a size whose integrals (at least N^3 numbers for N >= number of atoms
    orbitals, whatever the route) fit in memory. Returns (charge, spin) as ints.
    """
    from pyscf.data import elements

    from physfact.validation import check_memory

    label = "the molecule" if label == "atoms" else label
    charge = check_int(charge, "charge", minimum=-10_000, allow_none=False)
    spin = check_int(spin, "spin", minimum=-10_000, allow_none=False)
    if str(unit).lower() not in _UNITS:
        raise InputError(f"unit must be 'angstrom' or 'bohr', got {unit!r}")
    n_atoms = len([part for part in re.split(r"[;\n]", atoms) if part.strip()])
    check_memory(8.0 * float(n_atoms) ** 3, f"{label} ({n_atoms} atoms: N >= {n_atoms} orbitals, N^3 integrals)",
                 "use a smaller molecule or an active space of a smaller one")
    try:
        els, xyz = geometry_array(atoms)
    except ValueError as exc:
        raise InputError(f"{label}: coordinates must be numbers ('El x y z' per atom): {exc}") from None
    if xyz.shape != (len(els), 3) or not np.all(np.isfinite(xyz)):
        raise InputError(f"{label}: every atom needs three finite coordinates ('El x y z')")
    xyz = xyz * _UNITS[str(unit).lower()]
    if len(els) > 1:
        from scipy.spatial import cKDTree

        pairs = cKDTree(xyz).query_pairs(MIN_DISTANCE_ANGSTROM, output_type="ndarray")
        if len(pairs):
            i, j = (int(v) for v in pairs[0])
            d = float(np.linalg.norm(xyz[i] - xyz[j]))
            raise InputError(f"{label}: atoms {i + 1} ({els[i]}) and {j + 1} ({els[j]}) are {d:.3g} A apart; atoms "
                             f"closer than {MIN_DISTANCE_ANGSTROM} A make the basis linearly dependent")
    unknown = [el for el in els if int(elements.charge(el)) == 0]
    if unknown:
        raise InputError(f"{label}: unknown element symbol {unknown[0]!r}; write e.g. 'H', 'Li', 'O'")
    protons = sum(int(elements.charge(el)) for el in els)
    n_el = protons - charge
    if n_el < 0 or n_el < abs(spin) or (n_el - spin) % 2:
        raise InputError(f"{label} with charge {charge} has {n_el} electrons ({protons} protons); spin 2S = {spin} "
                         "is impossible with it: need n_electrons >= |spin| and n_electrons - spin even")
    return charge, spin


def formula(atom_string: str) -> str:
    """Chemical formula of an atom string in Hill order (C, H, then alphabetical; without carbon all
    alphabetical): ``"O 0 0 0; H 0 .76 .59; H 0 -.76 .59"`` -> ``"H2O"``."""
    els, _ = geometry_array(atom_string)
    els = [re.sub(r"\d+$", "", el).capitalize() for el in els]  # PySCF's "H1"-style labels count as H
    counts = {el: els.count(el) for el in set(els)}
    first = ["C", "H"] if "C" in counts else []
    order = first + sorted(el for el in counts if el not in first)
    return "".join(el + (str(counts[el]) if counts[el] > 1 else "") for el in order)


def molecule_label(molecule: str, unit: str = "angstrom") -> str:
    """How a molecule is named in printed output, plot titles and files.

    A library name in its own spelling (``h2o`` -> ``H2O``), ``hchain<n>`` as ``H<n> chain (1.0 A)``,
    an .xyz file by its stem, and an atom string by its formula, with the bond length for two
    atoms: ``"N 0 0 0; N 0 0 1.1"`` -> ``N2 (d = 1.10 A)`` (Angstrom; ``unit`` is the atom string's).
    """
    atoms, label = resolve_geometry(molecule)
    if label != "atoms":
        return label
    try:
        _, xyz = geometry_array(atoms)
        name = formula(atoms)
    except ValueError:  # not readable as 'El x y z': check_molecule reports it
        return " ".join(atoms.split())[:60]
    if xyz.shape == (2, 3):
        scale = _UNITS.get(str(unit).lower(), 1.0)
        name += f" (d = {scale * float(np.linalg.norm(xyz[1] - xyz[0])):.2f} A)"
    return name
