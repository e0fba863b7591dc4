r"""Compressed double factorization: optimise the leaves of a truncated DF to cut the ERI error.

A truncated double factorization keeps L leaves with rank-one cores,
:math:`(pq|rs) \approx \sum_l \sum_{ij} U^{(l)}_{pi} U^{(l)}_{qi}\,\lambda^{(l)}_i\lambda^{(l)}_j\,
U^{(l)}_{rj} U^{(l)}_{sj}`. The compressed form (Cohn, Motta, Parrish, PRX Quantum 2, 040352
(2021), "Quantum filter diagonalization with compressed double-factorized Hamiltonians"; Motta et
al., npj Quantum Inf. 7, 83 (2021)) frees each core to a symmetric matrix :math:`Z^{(l)}` and
optimises the orbital rotations :math:`U^{(l)} = U^{(l)}_0\,e^{K^{(l)}}` (:math:`K^{(l)}`
antisymmetric, :math:`U^{(l)}_0` the starting rotation) and the cores together:

.. math::
    f(K, Z) = \tfrac12 \Big\| V - \sum_{l=1}^{L} P_l Z^{(l)} P_l^T \Big\|_F^2, \qquad
    (P_l)_{pq,i} = U^{(l)}_{pi} U^{(l)}_{qi},

with V the :math:`n^2 \times n^2` supermatrix of (pq|rs). Each leaf is still one orbital rotation
followed by a diagonal Coulomb operator :math:`\sum_{ij} Z_{ij} n_i n_j`, so it is still measured in
one rotated basis: the same L measurement groups, with a smaller error, or fewer groups at equal
error.

Analytic gradient (R = sum_l P_l Z_l P_l^T - V, symmetric under p<->q, r<->s and pq<->rs):

.. math::
    \frac{\partial f}{\partial Z^{(l)}} = P_l^T R P_l, \qquad
    \frac{\partial f}{\partial U^{(l)}_{pi}} = 4 \sum_q (R P_l Z^{(l)})_{pq,i}\, U^{(l)}_{qi}, \qquad
    \frac{\partial f}{\partial K^{(l)}} = \mathcal{L}_{\exp}\big(K^{(l)T},\, U_0^{(l)T}
        \tfrac{\partial f}{\partial U^{(l)}}\big),

the last by the adjoint of the Fréchet derivative of the matrix exponential,
:math:`\langle G, \mathcal{L}_{\exp}(K, E)\rangle = \langle \mathcal{L}_{\exp}(K^T, G), E\rangle`.
The parameters are the strict upper triangle of each K (n(n-1)/2) and the upper triangle of each Z
(n(n+1)/2): n^2 per leaf. Minimised with scipy's L-BFGS-B. One evaluation costs O(L n^5).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from physfact.errors import InputError
from physfact.validation import as_array, check_int, check_positive
from physfact.threads import single_blas_thread

#: most L-BFGS iterations accepted
MAXITER_LIMIT = 100_000

__all__ = [
    "CompressedDoubleFactorization", "compress", "compress_leaves", "compressed_double_factorize",
    "leaves_from_factorization", "reconstruct_two_body",
]


@dataclass(frozen=True)
class CompressedDoubleFactorization:
    """Result of a compressed double factorization.

    Attributes
    ----------
    core_tensors : (L, n, n) array
        Symmetric :math:`Z^{(l)}` (Hartree), so that
        :math:`(pq|rs) \\approx \\sum_l \\sum_{ij} U^{(l)}_{pi}U^{(l)}_{qi} Z^{(l)}_{ij} U^{(l)}_{rj}U^{(l)}_{sj}`.
    orbital_rotations : (L, n, n) array
        Orthogonal :math:`U^{(l)}` (columns = rotated orbitals).
    n_leaves : int
        L, the number of leaves (= measurement groups of the two-body part).
    initial_error, error : float
        Frobenius norm of the ERI error :math:`\\|V - V_L\\|_F` (Hartree) before (the truncated DF
        it started from) and after the optimisation.
    initial_max_error, max_error : float
        The same in the max-abs norm.
    iterations : int
        L-BFGS-B iterations (summed over the L tried in ``target_error`` mode).
    converged : bool
        Whether L-BFGS-B met its tolerance (a stop at ``maxiter`` still returns the improved
        factorization; check ``error``).
    plain_leaves : int or None
        ``target_error`` mode: the fewest leaves of the plain truncated DF that meet the target.
    groups_saved : int or None
        ``plain_leaves - n_leaves`` (``target_error`` mode).
    history : tuple of float
        :math:`\\|V - V_L\\|_F` at each objective evaluation of the last optimisation (the first
        entry is the starting point; line-search trial points included).
    """

    core_tensors: np.ndarray = field(repr=False)
    orbital_rotations: np.ndarray = field(repr=False)
    n_leaves: int
    initial_error: float
    error: float
    initial_max_error: float
    max_error: float
    iterations: int
    converged: bool
    plain_leaves: int | None = None
    groups_saved: int | None = None
    history: tuple = field(default=(), repr=False)

    @property
    def n_orbitals(self) -> int:
        return int(self.core_tensors.shape[1])

    def two_body(self) -> np.ndarray:
        """The approximated (pq|rs), shape (n, n, n, n), chemist order."""
        return reconstruct_two_body(self.core_tensors, self.orbital_rotations)

    def __repr__(self):
        s = (f"CompressedDoubleFactorization(n_orbitals={self.n_orbitals}, n_leaves={self.n_leaves}, "
             f"error={self.error:.3e} (from {self.initial_error:.3e}), max_error={self.max_error:.3e} "
             f"(from {self.initial_max_error:.3e}), iterations={self.iterations}, converged={self.converged}")
        if self.groups_saved is not None:
            s += f", plain_leaves={self.plain_leaves}, groups_saved={self.groups_saved}"
        return s + ")"


# ------------------------------------------------------------------------------------------------
def reconstruct_two_body(core_tensors, orbital_rotations) -> np.ndarray:
    """:math:`\\sum_l \\sum_{ij} U_{pi}U_{qi} Z_{ij} U_{rj}U_{sj}` as an (n, n, n, n) array."""
    Z = np.asarray(core_tensors, dtype=float)
    U = np.asarray(orbital_rotations, dtype=float)
    n = U.shape[1]
    if Z.shape[0] == 0:
        return np.zeros((n, n, n, n))
    A, B = _pair_factors(Z, U)
    return (A @ B.T).reshape(n, n, n, n)


def _pair_factors(Z, U):
    """A = [P_1 ... P_L] and B = [P_1 Z_1 ... P_L Z_L], both n^2 x (L n)."""
    L, n, _ = U.shape
    P = np.einsum("lpi,lqi->pqli", U, U).reshape(n * n, L, n)
    Q = np.einsum("ali,lij->alj", P, Z)
    return P.reshape(n * n, L * n), Q.reshape(n * n, L * n)


def _complete_basis(U):
    """Extend n x k orthonormal columns to an n x n orthogonal matrix."""
    n, k = U.shape
    if k == n:
        return U
    q, _ = np.linalg.qr(np.hstack([U, np.eye(n)]))
    # Gram-Schmidt order: q's first k columns span U's, the next n - k complete the basis
    return np.hstack([U, q[:, k:n]])


def leaves_from_factorization(df, n_leaves: int | None = None):
    """(core_tensors, orbital_rotations), each (L, n, n), from a DoubleFactorization's first L leaves.

    The rank-one cores :math:`\\lambda\\lambda^T` of the plain DF become full symmetric matrices;
    a leaf that kept k < n eigenvectors is completed to an orthogonal basis with zero cores on the
    added orbitals (the same tensor, room for the optimiser).
    """
    eigs = list(df.eigenvalues)
    rots = list(df.orbital_rotations)
    if len(eigs) != len(rots) or not eigs:
        raise InputError("the factorization must have at least one leaf with matching eigenvalues and rotations")
    L = len(eigs) if n_leaves is None else check_int(n_leaves, "n_leaves", minimum=1, allow_none=False)
    if L > len(eigs):
        raise InputError(f"n_leaves = {L} exceeds the {len(eigs)} leaves of the factorization; "
                         "factorize with a looser truncation or ask for fewer leaves")
    n = np.asarray(rots[0]).shape[0]
    Z = np.zeros((L, n, n))
    U = np.zeros((L, n, n))
    for l in range(L):
        lam = np.asarray(eigs[l], dtype=float).ravel()
        Ul = np.asarray(rots[l], dtype=float).reshape(n, -1)
        if Ul.shape[1] != lam.size:
            raise InputError(f"leaf {l}: {lam.size} eigenvalues but {Ul.shape[1]} rotation columns")
        k = lam.size
        U[l] = _complete_basis(Ul)
        Z[l, :k, :k] = np.outer(lam, lam)
    return Z, U


# ------------------------------------------------------------------------------------------------
class _Objective:
    """f = 1/2 ||V - sum_l P_l Z_l P_l^T||_F^2 and its gradient in (theta, z)."""

    def __init__(self, V, U0):
        self.V = V                        # n^2 x n^2
        self.U0 = U0                      # (L, n, n)
        self.L, self.n, _ = U0.shape
        n = self.n
        self.iu_k = np.triu_indices(n, 1)
        self.iu_z = np.triu_indices(n)
        self.nk = len(self.iu_k[0])
        self.nz = len(self.iu_z[0])
        self.zweight = np.where(self.iu_z[0] == self.iu_z[1], 1.0, 2.0)

    def pack(self, K, Z):
        return np.concatenate([K[:, self.iu_k[0], self.iu_k[1]], Z[:, self.iu_z[0], self.iu_z[1]]], axis=1).ravel()

    def unpack(self, x):
        L, n = self.L, self.n
        x = x.reshape(L, self.nk + self.nz)
        K = np.zeros((L, n, n))
        K[:, self.iu_k[0], self.iu_k[1]] = x[:, :self.nk]
        K -= K.transpose(0, 2, 1)
        Z = np.zeros((L, n, n))
        Z[:, self.iu_z[0], self.iu_z[1]] = x[:, self.nk:]
        Z[:, self.iu_z[1], self.iu_z[0]] = x[:, self.nk:]
        return K, Z

    @staticmethod
    def _exp_data(K):
        """Eigen-decomposition of the antisymmetric K = W diag(i w) W^H (batched over leaves)."""
        w, W = np.linalg.eigh(-1j * K)
        return w, W

    def rotations(self, K, exp_data=None):
        w, W = self._exp_data(K) if exp_data is None else exp_data
        E = np.einsum("lab,lb,lcb->lac", W, np.exp(1j * w), W.conj()).real
        return np.einsum("lab,lbc->lac", self.U0, E)

    @staticmethod
    def _exp_frechet_adjoint(exp_data, G):
        """L_exp(K^T, G) for each leaf: W [(W^H G W) o Phi] W^H with K^T = W diag(-i w) W^H.

        Phi_ab = (e^{m_a} - e^{m_b}) / (m_a - m_b) for m = -i w, written stably as
        e^{-i (w_a + w_b)/2} sinc((w_a - w_b) / (2 pi)).
        """
        w, W = exp_data
        phi = np.exp(-0.5j * (w[:, :, None] + w[:, None, :])) * np.sinc((w[:, :, None] - w[:, None, :]) / (2 * np.pi))
        Wh = W.conj().transpose(0, 2, 1)
        inner = Wh @ G @ W
        return (W @ (inner * phi) @ Wh).real

    def value_and_grad(self, x):
        L, n = self.L, self.n
        K, Z = self.unpack(x)
        exp_data = self._exp_data(K)
        U = self.rotations(K, exp_data)
        A, B = _pair_factors(Z, U)
        R = A @ B.T
        R -= self.V
        f = 0.5 * float(np.vdot(R, R))
        RA = (R @ A).reshape(n * n, L, n)                      # (R P_l)_{pq, i}
        P = A.reshape(n * n, L, n)
        gZ = np.einsum("ali,alj->lij", P, RA)                  # P_l^T R P_l
        gP = np.einsum("alj,lji->lai", RA, Z).reshape(L, n, n, n)   # (R P_l Z_l)_{p,q,i}
        gU = 4.0 * np.einsum("lpqi,lqi->lpi", gP, U)
        gK = self._exp_frechet_adjoint(exp_data, np.einsum("lqp,lqi->lpi", self.U0, gU))
        grad = np.empty((L, self.nk + self.nz))
        grad[:, :self.nk] = (gK - gK.transpose(0, 2, 1))[:, self.iu_k[0], self.iu_k[1]]
        gZs = 0.5 * (gZ + gZ.transpose(0, 2, 1))
        grad[:, self.nk:] = gZs[:, self.iu_z[0], self.iu_z[1]] * self.zweight
        return f, grad.ravel()


def _errors(V, Z, U):
    if Z.shape[0] == 0:
        D = V
    else:
        A, B = _pair_factors(Z, U)
        D = A @ B.T - V
    return float(np.linalg.norm(D)), float(np.max(np.abs(D)))


def compress_leaves(two_body, core_tensors, orbital_rotations, maxiter: int = 500, gtol: float = 1e-10,
                    ftol: float = 1e-15) -> CompressedDoubleFactorization:
    """Optimise given leaves (Z_l, U_l) at fixed L with L-BFGS-B and the analytic gradient.

    Parameters
    ----------
    two_body : (n, n, n, n) array
        The exact (pq|rs), chemist order, Hartree.
    core_tensors, orbital_rotations : (L, n, n) arrays
        The starting leaves (e.g. :func:`leaves_from_factorization`).
    maxiter : int
        L-BFGS-B iteration cap.
    gtol, ftol : float
        L-BFGS-B tolerances (projected gradient; relative decrease of f).
    """
    eri = _check_eri(two_body)
    n = eri.shape[0]
    Z0 = as_array(core_tensors, "core_tensors", ndim=3)
    U0 = as_array(orbital_rotations, "orbital_rotations", ndim=3)
    if Z0.shape != U0.shape or Z0.shape[1:] != (n, n):
        raise InputError(f"core_tensors and orbital_rotations must both have shape (L, {n}, {n}); "
                         f"got {Z0.shape} and {U0.shape}")
    if Z0.shape[0] == 0:
        raise InputError("give at least one leaf to optimise")
    dev = np.max(np.abs(np.einsum("lpi,lpj->lij", U0, U0) - np.eye(n)))
    if dev > 1e-8:
        raise InputError(f"orbital_rotations must be orthogonal (max |U^T U - I| = {dev:.1e}); "
                         "complete the basis with leaves_from_factorization")
    if np.max(np.abs(Z0 - Z0.transpose(0, 2, 1))) > 1e-10 * max(1.0, np.max(np.abs(Z0))):
        raise InputError("core_tensors must be symmetric matrices")
    maxiter = check_int(maxiter, "maxiter", minimum=1, allow_none=False)
    if maxiter > MAXITER_LIMIT:
        raise InputError(f"maxiter={maxiter} is beyond {MAXITER_LIMIT} L-BFGS iterations; loosen gtol/ftol instead")
    gtol = check_positive(gtol, "gtol", allow_none=False)
    ftol = check_positive(ftol, "ftol", allow_none=False)
    return _optimize(eri.reshape(n * n, n * n), Z0, U0, maxiter, gtol, ftol)


def _optimize(V, Z0, U0, maxiter, gtol, ftol):
    from scipy.optimize import minimize

    obj = _Objective(V, U0)
    x0 = obj.pack(np.zeros_like(U0), Z0)
    e0, m0 = _errors(V, Z0, U0)
    hist_f = []

    def fun(x):
        f, g = obj.value_and_grad(x)
        hist_f.append(f)
        return f, g

    with single_blas_thread():
        res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                       options=dict(maxiter=maxiter, gtol=gtol, ftol=ftol, maxcor=30))
    K, Z = obj.unpack(res.x)
    U = obj.rotations(K)
    e1, m1 = _errors(V, Z, U)
    if e1 > e0:       # never hand back something worse than the start
        Z, U, e1, m1 = Z0.copy(), U0.copy(), e0, m0
    history = tuple(float(np.sqrt(2.0 * max(f, 0.0))) for f in hist_f)
    return CompressedDoubleFactorization(
        core_tensors=Z, orbital_rotations=U, n_leaves=Z.shape[0], initial_error=e0, error=e1,
        initial_max_error=m0, max_error=m1, iterations=int(res.nit), converged=bool(res.success),
        history=history)


def _check_eri(two_body):
    eri = getattr(two_body, "two_body", two_body)
    eri = as_array(eri, "two_body", ndim=4)
    n = eri.shape[0]
    if eri.shape != (n, n, n, n):
        raise InputError(f"two_body must have shape (n, n, n, n) (chemist order (pq|rs)), got {eri.shape}")
    sym_dev = max(np.max(np.abs(eri - eri.transpose(1, 0, 2, 3))), np.max(np.abs(eri - eri.transpose(2, 3, 0, 1))))
    if sym_dev > 1e-8 * max(1.0, np.max(np.abs(eri))):
        raise InputError(f"two_body lacks the 8-fold symmetry of real-orbital ERIs (deviation {sym_dev:.1e}); "
                         "pass a real, symmetric (pq|rs) in chemist order")
    return eri


def _plain_factorization(eri, n_leaves):
    """The plain truncated DF to start from, via physfact.chem.double_factorize (untruncated
    second level: the optimiser may use every orbital of each leaf)."""
    from physfact.chem.double_factorization import double_factorize

    return double_factorize(eri, rank=n_leaves)


def compress(df, n_leaves: int | None = None, *, target_error: float | None = None,
             error_norm: str = "frobenius", maxiter: int = 500, gtol: float = 1e-10
             ) -> CompressedDoubleFactorization:
    """Compress a :class:`~physfact.chem.DoubleFactorization` (``DoubleFactorization.compress``).

    Starts from the factorization's own leaves and the exact ERI it carries. With neither
    ``n_leaves`` nor ``target_error``, optimises at the factorization's L. See
    :func:`compressed_double_factorize` for the parameters.
    """
    eri = getattr(df, "exact_two_body", None)
    if eri is None:
        raise InputError("this DoubleFactorization does not carry the exact ERI; call "
                         "compressed_double_factorize(two_body, ..., initial=df) instead")
    if n_leaves is None and target_error is None:
        n_leaves = len(df.eigenvalues)
    return compressed_double_factorize(eri, n_leaves, target_error=target_error, error_norm=error_norm,
                                       initial=df, maxiter=maxiter, gtol=gtol)


def compressed_double_factorize(hamiltonian_or_two_body, n_leaves: int | None = None, *,
                                target_error: float | None = None, error_norm: str = "frobenius",
                                initial=None, maxiter: int = 500, gtol: float = 1e-10
                                ) -> CompressedDoubleFactorization:
    """Compressed double factorization: fewer leaves or a smaller error than the plain truncated DF.

    Two modes:

    * ``n_leaves`` given: optimise the first L leaves of the plain DF (error down at fixed L).
    * ``target_error`` given: find the fewest leaves of the plain DF meeting the target
      (``plain_leaves``), then drop leaves one by one -- removing the leaf with the smallest core
      norm and re-optimising from the previous optimum -- while the compressed error still meets
      the target; ``groups_saved = plain_leaves - n_leaves``.

    Parameters
    ----------
    hamiltonian_or_two_body : MolecularHamiltonian or (n, n, n, n) array
        The exact (pq|rs) (chemist order, Hartree) or an object with ``.two_body``.
    n_leaves : int, optional
        L for the fixed-L mode (and a cap in target mode).
    target_error : float, optional
        Allowed ERI error in Hartree, in the norm ``error_norm``.
    error_norm : {"frobenius", "max_abs"}
        Norm of ``target_error`` (the optimiser always minimises the Frobenius norm).
    initial : DoubleFactorization or (core_tensors, orbital_rotations), optional
        Starting leaves. Default: ``physfact.chem.double_factorize(two_body, rank=...)``.
    maxiter, gtol :
        L-BFGS-B controls per optimisation.

    Returns
    -------
    CompressedDoubleFactorization

    References
    ----------
    Cohn, Motta, Parrish, PRX Quantum 2, 040352 (2021); Motta et al., npj Quantum Inf. 7, 83 (2021).
    """
    eri = _check_eri(hamiltonian_or_two_body)
    n = eri.shape[0]
    V = eri.reshape(n * n, n * n)
    if n_leaves is None and target_error is None:
        raise InputError("give n_leaves (optimise at fixed L) or target_error (fewest leaves at that error)")
    if error_norm not in ("frobenius", "max_abs"):
        raise InputError(f"error_norm must be 'frobenius' or 'max_abs', got {error_norm!r}")
    n_leaves = check_int(n_leaves, "n_leaves", minimum=1)
    target_error = check_positive(target_error, "target_error")
    maxiter = check_int(maxiter, "maxiter", minimum=1, allow_none=False)
    if maxiter > MAXITER_LIMIT:
        raise InputError(f"maxiter={maxiter} is beyond {MAXITER_LIMIT} L-BFGS iterations; loosen gtol/ftol instead")
    gtol = check_positive(gtol, "gtol", allow_none=False)

    if initial is None:
        initial = _plain_factorization(eri, n_leaves if target_error is None else None)
    if isinstance(initial, tuple):
        Zall = as_array(initial[0], "initial core_tensors", ndim=3)
        Uall = as_array(initial[1], "initial orbital_rotations", ndim=3)
    else:
        Zall, Uall = leaves_from_factorization(initial)
    if Zall.shape[1:] != (n, n) or Uall.shape != Zall.shape:
        raise InputError(f"initial leaves must have shape (L, {n}, {n}), got {Zall.shape} and {Uall.shape}")

    if target_error is None:
        if n_leaves > Zall.shape[0]:
            raise InputError(f"n_leaves = {n_leaves} exceeds the {Zall.shape[0]} leaves of the initial factorization")
        return _optimize(V, Zall[:n_leaves], Uall[:n_leaves], maxiter, gtol, 1e-15)

    pick = 0 if error_norm == "frobenius" else 1
    cap = Zall.shape[0] if n_leaves is None else min(n_leaves, Zall.shape[0])
    plain = None
    for L in range(1, cap + 1):   # errors of the plain truncations, shortest first
        if _errors(V, Zall[:L], Uall[:L])[pick] <= target_error:
            plain = L
            break
    if plain is None:
        raise InputError(f"even {cap} plain leaves miss target_error = {target_error:g} Ha "
                         f"({error_norm}); factorize with a tighter truncation or raise the target")
    Z, U = Zall[:plain], Uall[:plain]
    e0, m0 = _errors(V, Z, U)
    best = CompressedDoubleFactorization(Z.copy(), U.copy(), plain, e0, e0, m0, m0, 0, True)
    total_it = 0
    while Z.shape[0] > 1:
        drop = int(np.argmin(np.linalg.norm(Z, axis=(1, 2))))
        Z, U = np.delete(Z, drop, axis=0), np.delete(U, drop, axis=0)
        res = _optimize(V, Z, U, maxiter, gtol, 1e-15)
        total_it += res.iterations
        if (res.error, res.max_error)[pick] > target_error:
            break
        best = res
        Z, U = res.core_tensors, res.orbital_rotations
    return CompressedDoubleFactorization(
        core_tensors=best.core_tensors, orbital_rotations=best.orbital_rotations, n_leaves=best.n_leaves,
        initial_error=e0, error=best.error, initial_max_error=m0, max_error=best.max_error,
        iterations=total_it, converged=best.converged, plain_leaves=plain,
        groups_saved=plain - best.n_leaves, history=best.history)
