"""Chemistry: PySCF integrals, double factorization of the two-electron integrals, measurement
groups, energies of the truncated Hamiltonian, OpenFermion/FCIDUMP export.

Chemist index order throughout: ``two_body[p, q, r, s] = (pq|rs)`` over real spatial orbitals.
PySCF and OpenFermion are imported only inside the functions that need them.
"""
from physfact.chem.double_factorization import DoubleFactorization, double_factorize, load_double_factorization
from physfact.chem.energies import energy_errors, truncated_hamiltonian
from physfact.chem.hamiltonian import MolecularHamiltonian, from_fcidump, molecular_hamiltonian
from physfact.chem.integrals import check_symmetry, restore_two_body, symmetrize_two_body
from physfact.chem.molecules import h_chain, known_molecules
from physfact.chem.pivoted_cholesky import PivotedCholesky, pivoted_cholesky

_LAZY = {
    "df_cost": "physfact.chem.resource_estimates", "df_lambda": "physfact.chem.resource_estimates",
    "DFCost": "physfact.chem.resource_estimates", "DFLambda": "physfact.chem.resource_estimates",
    "df_qubitization_cost": "physfact.chem.resource_estimates",
    "compress": "physfact.chem.compressed", "compressed_double_factorize": "physfact.chem.compressed",
    "CompressedDoubleFactorization": "physfact.chem.compressed",
    "measurement_groups": "physfact.chem.measurement", "MeasurementGroup": "physfact.chem.measurement",
    "pauli_groups": "physfact.chem.measurement", "PauliGrouping": "physfact.chem.measurement",
    "interaction_operator": "physfact.chem.export",
    "ThreeIndexHamiltonian": "physfact.chem.three_index",
    "load_three_index_hamiltonian": "physfact.chem.three_index",
    "ThreeIndexDoubleFactorization": "physfact.chem.df_three_index",
    "ao_cholesky": "physfact.chem.ao_eri_cholesky",
}


def __getattr__(name):
    # cost, compression, grouping and export live in their own modules, imported on first use
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'physfact.chem' has no attribute {name!r}")


__all__ = [
    "MolecularHamiltonian", "molecular_hamiltonian", "from_fcidump", "h_chain", "known_molecules",
    "DoubleFactorization", "double_factorize", "load_double_factorization",
    "energy_errors", "truncated_hamiltonian",
    "restore_two_body", "check_symmetry", "symmetrize_two_body",
    "pivoted_cholesky", "PivotedCholesky",
    *_LAZY,
]
