"""Export to OpenFermion.

OpenFermion's ``InteractionOperator`` is H = c + sum_PQ h_PQ a+_P a_Q + sum_PQRS g_PQRS a+_P a+_Q a_R a_S
over spin orbitals P = 2p + sigma (alpha = 0, beta = 1), in *physicist* operator order without
the 1/2 of our chemist form. From

    H = E_0 + sum_{pq,sigma} h_pq a+_{p sigma} a_{q sigma}
        + 1/2 sum_{pqrs, sigma tau} (pq|rs) a+_{p sigma} a+_{r tau} a_{s tau} a_{q sigma}

the coefficients are h_{2p+s, 2q+s} = h_pq and g_{2p+s, 2r+t, 2s+t, 2q+s} = (pq|rs) / 2, i.e. the
chemist tensor transposed (p, q, r, s) -> (p, r, s, q). (OpenFermion's own
``MolecularData.get_molecular_hamiltonian`` builds the same from its physicist-order tensor.)
"""
from __future__ import annotations

import numpy as np


def spin_orbital_tensors(one_body: np.ndarray, two_body: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(h_PQ, g_PQRS) over 2N spin orbitals (index 2p + sigma) in OpenFermion's convention."""
    n = one_body.shape[0]
    h = np.kron(one_body, np.eye(2))
    g = np.zeros((2 * n,) * 4)
    phys = 0.5 * np.asarray(two_body).transpose(0, 2, 3, 1)  # phys[p, r, s, q] = (pq|rs) / 2
    for s in range(2):
        for t in range(2):
            g[s::2, t::2, t::2, s::2] = phys
    return h, g


def interaction_operator(constant: float, one_body: np.ndarray, two_body: np.ndarray):
    """openfermion.InteractionOperator of E_0 + h + (pq|rs) (chemist order, spatial orbitals)."""
    from openfermion import InteractionOperator

    from physfact.chem.integrals import restore_two_body
    from physfact.validation import as_matrix, check_finite

    one_body = as_matrix(one_body, "one_body", square=True, sparse_ok=False)
    two_body = restore_two_body(two_body, n_orbitals=one_body.shape[0])
    constant = check_finite(constant, "constant (Hartree)")
    h, g = spin_orbital_tensors(one_body, two_body)
    return InteractionOperator(float(constant), h, g)


def ground_energy_openfermion(operator, n_electrons: int) -> float:
    """Lowest eigenvalue of an OpenFermion operator among n-electron states with S_z = 0 (n even)
    or S_z = 1/2 (n odd), independent of PySCF: openfermion.get_number_preserving_sparse_operator
    on the normal-ordered FermionOperator, then dense eigvalsh of that (small) block.
    """
    from openfermion import FermionOperator, count_qubits, get_fermion_operator, get_number_preserving_sparse_operator

    fop = operator if isinstance(operator, FermionOperator) else get_fermion_operator(operator)
    n_qubits = count_qubits(fop)
    n_qubits += n_qubits % 2
    block = get_number_preserving_sparse_operator(fop, n_qubits, int(n_electrons), spin_preserving=True)
    return float(np.linalg.eigvalsh(block.toarray())[0])
