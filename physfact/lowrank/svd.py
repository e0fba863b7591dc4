"""Truncated SVD through the shared :class:`~physfact.lowrank.Truncation` rule.

Eckart--Young--Mirsky: the rank-r truncation of the SVD is the best rank-r approximation in
every unitarily invariant norm, and its Frobenius error is sqrt(sum_{i>r} s_i^2), which is
returned as ``discarded``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.errors import ConvergenceError
from physfact.lowrank.scaled import scaled_norm
from physfact.lowrank.truncation import Truncation, as_truncation, choose_rank
from physfact.validation import as_matrix, check_memory


@dataclass(frozen=True, repr=False)
class SVD:
    """A (truncated) singular value decomposition A ~= U diag(s) Vt.

    Attributes
    ----------
    U : ndarray, shape (m, r)
    s : ndarray, shape (r,)
        Kept singular values, non-increasing.
    Vt : ndarray, shape (r, n)
    discarded : float
        Frobenius norm of the dropped singular values (the Frobenius error of the approximation).
    all_s : ndarray
        Every singular value that was computed (kept and dropped), for plots and diagnostics.
    """

    U: np.ndarray
    s: np.ndarray
    Vt: np.ndarray
    discarded: float
    all_s: np.ndarray | None = None

    @property
    def rank(self) -> int:
        return int(self.s.size)

    @property
    def shape(self):
        return (self.U.shape[0], self.Vt.shape[1])

    def to_dense(self) -> np.ndarray:
        """The approximation U diag(s) Vt as a dense array."""
        return (self.U * self.s) @ self.Vt

    # ``U, s, Vt = truncated_svd(A, rule)`` as with scipy.linalg.svd / sklearn's randomized_svd;
    # the named fields (``discarded``, ``all_s``) stay available on the object
    def __iter__(self):
        return iter((self.U, self.s, self.Vt))

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return (self.U, self.s, self.Vt)[i]

    def __repr__(self):
        return (f"SVD(shape={self.shape}, rank={self.rank}, s[0]={self.s[0] if self.rank else 0:.3e}, "
                f"discarded={self.discarded:.3e})")


def truncate(U, s, Vt, rule=None, shape=None, all_s=None) -> SVD:
    """Apply ``rule`` to an existing SVD (U, s, Vt); ``discarded`` counts every dropped value."""
    all_s = np.asarray(s if all_s is None else all_s, dtype=float)
    r = choose_rank(all_s, as_truncation(rule), shape=shape)
    r = min(r, len(s))
    discarded = scaled_norm(all_s[r:])
    return SVD(U[:, :r], np.asarray(s[:r]), Vt[:r], discarded, all_s)


def robust_svd(A: np.ndarray, compute_uv: bool = True):
    """Economy SVD of a dense matrix: LAPACK gesdd, and gesvd where gesdd does not converge.

    gesdd (divide and conquer) is the fast driver but occasionally fails to converge; gesvd is
    slower and robust. Returns ``(U, s, Vt)``, or ``s`` alone with ``compute_uv=False``. The input
    is not checked for NaN/inf (callers validate once, not per call).
    """
    try:
        return sla.svd(A, full_matrices=False, compute_uv=compute_uv, lapack_driver="gesdd", check_finite=False)
    except np.linalg.LinAlgError:
        pass
    try:
        return sla.svd(A, full_matrices=False, compute_uv=compute_uv, lapack_driver="gesvd", check_finite=False)
    except np.linalg.LinAlgError as exc:
        raise ConvergenceError(f"the SVD of a {A.shape[0]} x {A.shape[1]} matrix did not converge (LAPACK gesdd "
                               f"and gesvd: {exc}); check the input for NaN/inf or extreme values") from None


def truncated_svd(A, rule: Truncation | int | float | None = None) -> SVD:
    """SVD of ``A`` truncated by ``rule``.

    Parameters
    ----------
    A : array_like or sparse matrix, shape (m, n)
        Sparse input is densified (use :func:`randomized_svd` for large sparse matrices).
    rule : Truncation, int or float, optional
        A :class:`Truncation`; an int means ``Truncation(rank=int)``, a float ``Truncation(rtol=float)``.
        None keeps every non-zero singular value.

    Returns
    -------
    SVD
        ``U @ diag(s) @ Vt`` is the best approximation of its rank; ``discarded`` is its Frobenius
        error. Unpacks as ``U, s, Vt = truncated_svd(A, rule)``.

    Raises
    ------
    InputError
        ``A`` is not a finite 2-D non-empty matrix, or ``rule`` is not a valid rule.
    ResourceError
        A sparse ``A`` whose dense copy and SVD would not fit in memory.
    """
    rule = as_truncation(rule)
    A = as_matrix(A, "A", allow_complex=True)
    m, n = A.shape
    # dense copy (sparse input), U, Vt and LAPACK workspace: about 3 m n entries
    check_memory(3.0 * m * n * np.dtype(A.dtype).itemsize, f"the SVD of a {m} x {n} matrix",
                 "use randomized_svd(A, rank) for a few singular triplets")
    if sp.issparse(A):
        A = A.toarray()
    U, s, Vt = robust_svd(A)
    return truncate(U, s, Vt, rule, shape=A.shape)
