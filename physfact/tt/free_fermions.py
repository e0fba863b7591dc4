"""Exact free-fermion solution of the transverse-field Ising chain (an independent reference).

H = -J sum_i Z_i Z_{i+1} - g sum_i X_i is mapped by the Jordan-Wigner transformation to Majorana
operators a_{2i} = (prod_{j<i} X_j) Z_i, a_{2i+1} = (prod_{j<i} X_j) Y_i ({a_m, a_n} = 2 delta_mn):

    X_i = i a_{2i} a_{2i+1},    Z_i Z_{i+1} = i a_{2i+1} a_{2i+2},
    H = (i/4) sum_{mn} A_mn a_m a_n,   A_{2i,2i+1} = -2g,  A_{2i+1,2i+2} = -2J,  A = -A^T.

(Lieb, Schultz, Mattis, Ann. Phys. 16 (1961) 407; Pfeuty, Ann. Phys. 57 (1970) 79.)
A real antisymmetric A has singular values eps_k, each twice (the Bogoliubov-de Gennes
single-particle energies), and the ground-state energy of the OPEN chain is

    E_0 = -(1/2) sum_k eps_k = -(1/4) sum(svd(A)).

The PERIODIC chain's ground state lies in the even-parity sector with antiperiodic fermion
momenta k = pi (2n + 1) / L, n = 0 .. L-1:

    E_0 = -sum_k sqrt(J^2 + g^2 - 2 J g cos k).

Entanglement (Peschel, J. Phys. A 36 (2003) L205; Vidal, Latorre, Rico, Kitaev, PRL 90 (2003)
227902): the ground-state Majorana correlation matrix Gamma_mn = <i[a_m, a_n]>/2 is minus the
orthogonal polar factor of A (Gamma = -U V^T for A = U S V^T). The first l spins are described by
the Majoranas 0 .. 2l-1; the eigenvalues +-i nu_k of Gamma restricted to them give

    S(l) = sum_k h((1 + nu_k)/2),   h(x) = -x ln x - (1 - x) ln(1 - x)   (nats),
    S_alpha(l) = sum_k ln[((1+nu_k)/2)^alpha + ((1-nu_k)/2)^alpha] / (1 - alpha).

Cost O(L^3) for A and O(l^3) per block, so any L in the hundreds is fast.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from physfact.errors import InputError
from physfact.tt.entropy import _log_base, check_alpha, renyi_nats
from physfact.validation import check_finite, check_int, check_memory


def tfim_majorana_matrix(L: int, g: float = 1.0, J: float = 1.0) -> np.ndarray:
    """The real antisymmetric 2L x 2L matrix A of the open chain, H = (i/4) sum A_mn a_m a_n."""
    L = check_int(L, "L", minimum=1)
    g, J = check_finite(g, "g"), check_finite(J, "J")
    check_memory(8.0 * 4 * (2 * L) ** 2, f"the free-fermion solution of L = {L} sites (2L x 2L matrices)",
                 "use L up to a few thousand")
    A = np.zeros((2 * L, 2 * L))
    for i in range(L):
        A[2 * i, 2 * i + 1] = -2.0 * g
        if i < L - 1:
            A[2 * i + 1, 2 * i + 2] = -2.0 * J
    return A - A.T


def tfim_energy_exact(L: int, g: float = 1.0, J: float = 1.0, boundary: str = "open") -> float:
    """Exact TFIM ground-state energy: open chain from the BdG (Majorana) spectrum, periodic chain
    from the closed formula with antiperiodic momenta (see the module docstring)."""
    L = check_int(L, "L", minimum=1)
    g, J = check_finite(g, "g"), check_finite(J, "J")
    if boundary == "open":
        s = sla.svdvals(tfim_majorana_matrix(L, g, J))
        return float(-0.25 * np.sum(s))
    if boundary == "periodic":
        k = np.pi * (2 * np.arange(L) + 1) / L
        return float(-np.sum(np.sqrt(J * J + g * g - 2 * J * g * np.cos(k))))
    raise InputError(f"boundary must be 'open' or 'periodic', got {boundary!r}")


#: a BdG energy below this fraction of the largest is an edge zero mode (ordered phase, eps ~ g^L):
#: there the polar factor U V^T of A is not determined by A in floating point
ZERO_MODE_RTOL = 1e-8


def tfim_correlation_matrix(L: int, g: float = 1.0, J: float = 1.0) -> np.ndarray:
    """Ground-state Majorana correlation matrix Gamma_mn = <i [a_m, a_n]>/2 of the open chain.

    Deep in the ordered phase the edge Majoranas form a zero mode (eps ~ g^L below machine
    resolution); its 2-plane (a, b) is still well determined, and Gamma there is +-(a b^T - b a^T),
    the sign fixing the parity <prod_i X_i> = Pf(Gamma) (Wick's theorem). It is chosen as the finite-
    size ground state's, sign(g)^L (+1 for g = 0; :func:`physfact.tt.symmetry.default_sector`), so
    the state is the symmetric (cat) ground state at any L."""
    U, s, Vt = sla.svd(tfim_majorana_matrix(L, g, J))
    zero = s <= ZERO_MODE_RTOL * s[0]
    G = -(U[:, ~zero] @ Vt[~zero])
    if zero.any():
        if zero.sum() != 2:
            raise InputError(f"the free-fermion spectrum has {zero.sum() // 2} zero modes (g = {g}, J = {J}); "
                             "choose g != 0 or J != 0")
        a, b = U[:, zero].T
        plane = np.outer(a, b) - np.outer(b, a)
        parity = -1.0 if (g < 0 and L % 2 == 1) else 1.0
        G = G + plane if _pfaffian_sign(G + plane) == parity else G - plane
    return G


def _pfaffian_sign(G: np.ndarray) -> float:
    """Pf(G) of a real antisymmetric orthogonal matrix (+-1): from the real Schur form G = Z T Z^T with
    2x2 blocks [[0, t_k], [-t_k, 0]], Pf(G) = det(Z) prod_k t_k."""
    T, Z = sla.schur(G, output="real")
    t = np.diag(T, 1)[::2]
    return float(np.sign(np.linalg.det(Z)) * np.prod(np.sign(t)))


def tfim_entropies_exact(L: int, g: float = 1.0, J: float = 1.0, alpha: float = 1, base=None) -> np.ndarray:
    """Exact entanglement entropies S(l), l = 1 .. L-1, of the open TFIM ground state, where the
    block is the first l sites (= bond l-1 of an MPS). Nats by default, ``base=2`` for bits;
    ``alpha`` != 1 gives Renyi entropies."""
    L = check_int(L, "L", minimum=2)
    lb = _log_base(base)
    alpha = check_alpha(alpha)
    G = tfim_correlation_matrix(L, g, J)
    S = np.empty(L - 1)
    half = L // 2
    for ell in range(1, L):
        if ell > half:
            S[ell - 1] = S[L - ell - 1]  # a pure state: S(l) = S(L - l)
            continue
        GB = G[: 2 * ell, : 2 * ell]
        # singular values of the real antisymmetric block = |eigenvalues| = nu_k, each twice
        nu = sla.svdvals(GB, check_finite=False)
        nu = np.clip(nu[::2], 0.0, 1.0)  # one per pair
        p = (1 + nu) / 2
        q = (1 - nu) / 2
        # each mode is a two-outcome distribution (p, q): its Renyi entropy, stable near alpha = 1
        S[ell - 1] = np.sum(renyi_nats(np.stack([p, q], axis=1), alpha, axis=1))
    return np.maximum(S, 0.0) / lb

