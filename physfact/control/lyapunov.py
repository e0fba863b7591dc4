"""Gramian factors: one entry point that picks the dense (Hammarling) or low-rank (ADI) solver,
plus a dense full-matrix Lyapunov/Stein solver."""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.control.lyapunov_result import LyapunovFactor
from physfact.errors import InputError
from physfact.validation import as_array, as_matrix, check_int, check_positive

#: upper bound for ``maxiter`` (every ADI step adds m columns to the factor)
MAX_ITER = 100_000

#: "auto" uses the dense Hammarling solver up to this order, LR-ADI above (sparse input only).
AUTO_DENSE_LIMIT = 2000

METHODS = ("auto", "hammarling", "adi")


def check_lyapunov_operands(A, B, E=None, trans: bool = False):
    """Validated (A, B, E) of a Lyapunov equation: A (and E) square n x n, finite, dense or sparse;
    B a dense n x m array (a vector becomes one column). For ``trans=True`` B stands for C^T."""
    A = as_matrix(A, "A", square=True)
    n = A.shape[0]
    what = "C^T" if trans else "B"
    B = as_array(B.toarray() if sp.issparse(B) else B, what, ndim=(1, 2))
    if B.ndim == 1:
        B = B[:, None]
    if B.shape[0] != n:
        raise InputError(f"{what} must have n = {n} rows (A is {n} x {n}), got shape {B.shape}; "
                         "for the observability Gramian pass C^T with trans=True")
    if E is not None:
        E = as_matrix(E, "E", square=True)
        if E.shape != A.shape:
            raise InputError(f"E must have the shape of A {A.shape}, got {E.shape}")
    return A, B, E


def lyapunov_factor(A, B, E=None, trans: bool = False, method: str = "auto", tol: float = 1e-10,
                    maxiter: int = 300, discrete: bool = False, residual: bool = True,
                    **adi_options) -> LyapunovFactor:
    """Factor Z (X ~= Z Z^T) of a Gramian.

    Controllability (``trans=False``): A X E^T + E X A^T + B B^T = 0;
    observability (``trans=True``, pass C^T as ``B``): A^T X E + E^T X A + C^T C = 0;
    with ``discrete=True`` the Stein equations A X A^T - E X E^T + B B^T = 0 (and transposed).

    Parameters
    ----------
    A, E : array_like or sparse, shape (n, n)
    B : array_like, shape (n, m)
    method : {"auto", "hammarling", "adi"}
        "hammarling": dense factor-direct solver (:mod:`physfact.control.hammarling`), exact up to
        roundoff, O(n^3). "adi": low-rank ADI (:mod:`physfact.control.lradi`, sparse, continuous
        time only), stops at relative residual ``tol``. "auto": hammarling for dense input or
        n <= 2000, adi for larger sparse continuous-time problems.
    tol, maxiter, adi_options :
        Passed to the ADI solver (``shifts``, ``truncation``).
    residual : bool
        Hammarling only: also compute the relative residual (an extra O(n^3)).
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}")
    A, B, E = check_lyapunov_operands(A, B, E, trans)
    tol = check_positive(tol, "tol", allow_none=False)
    if tol >= 1:
        raise InputError(f"tol is a relative residual and must be < 1, got {tol}")
    maxiter = check_int(maxiter, "maxiter", minimum=1, allow_none=False)
    if maxiter > MAX_ITER:
        raise InputError(f"maxiter must be at most {MAX_ITER} (each step adds columns to the factor), got {maxiter}")
    n = A.shape[0]
    if method == "auto":
        sparse = sp.issparse(A) or sp.issparse(E)
        method = "adi" if (sparse and n > AUTO_DENSE_LIMIT and not discrete) else "hammarling"
    if method == "adi":
        if discrete:
            raise InputError("the low-rank ADI solver handles continuous time only; use method='hammarling' "
                             "for the Stein equation")
        from physfact.control.lradi import lradi

        return lradi(A, B, E=E, trans=trans, tol=tol, maxiter=maxiter, **adi_options)
    if n > 20000:
        raise InputError(f"the dense Hammarling solver at n = {n} would need {8 * n * n / 2**30:.0f} GiB per "
                         "n x n array; use method='adi'")
    from physfact.control._blas import blas_threads_for
    from physfact.control.hammarling import hammarling

    with blas_threads_for(n):
        return hammarling(A, B, E, trans=trans, discrete=discrete, residual=residual)


def solve_lyapunov(A, Q, E=None, discrete: bool = False) -> np.ndarray:
    """Dense solution X of A X E^T + E X A^T + Q = 0 (or A X A^T - E X E^T + Q = 0).

    E is removed by an LU of E (X solves the standard equation with E^{-1}A and E^{-1} Q E^{-T});
    the standard equation goes to ``scipy.linalg.solve_continuous_lyapunov`` (Bartels–Stewart)
    or ``solve_discrete_lyapunov``. Q need not be symmetric: a non-symmetric Q is solved as
    given (the solution is then non-symmetric too), never symmetrised behind the caller's back.
    """
    from physfact.control.descriptor import EFactor

    A = as_matrix(A, "A", square=True, sparse_ok=False)
    Q = as_matrix(Q, "Q", square=True, sparse_ok=False)
    if Q.shape != A.shape:
        raise InputError(f"Q must have the shape of A {A.shape}, got {Q.shape}")
    if E is not None:
        E = as_matrix(E, "E", square=True)
        if E.shape != A.shape:
            raise InputError(f"E must have the shape of A {A.shape}, got {E.shape}")
        ef = EFactor(E)
        A = ef.solve(A)
        Q = ef.solve(ef.solve(Q).T).T  # E^{-1} Q E^{-T}; a non-symmetric Q is solved as given
    # the equation is singular when two eigenvalues of E^{-1}A satisfy l_i + l_j = 0 (l_i l_j = 1 in
    # discrete time: a pole at 0, a pair +-i w, ...); the solvers then return huge garbage
    lam = np.linalg.eigvals(A)
    gap = min(float((np.abs(lam[i:i + 512, None] * lam[None, :] - 1) if discrete else
                     np.abs(lam[i:i + 512, None] + lam[None, :])).min()) for i in range(0, lam.size, 512))
    size = (np.abs(lam).max() ** 2 + 1) if discrete else max(np.abs(lam).max(), np.finfo(float).tiny)
    if gap <= 1e3 * np.finfo(float).eps * size:
        from physfact.errors import SingularMatrixError

        raise SingularMatrixError("the Lyapunov equation is singular (two eigenvalues of E^{-1}A add up to 0, "
                                  "e.g. a pole at 0 or a pair +-i w; in discrete time their product is 1): it "
                                  "has no unique solution; check the stability of A")
    X = sla.solve_discrete_lyapunov(A, Q) if discrete else sla.solve_continuous_lyapunov(A, -Q)
    return X
