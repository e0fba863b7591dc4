"""Factorizations of the descriptor matrix E (x' = E^{-1}(A x + B u)), with singularity checks.

Dense E: LU with a reciprocal condition estimate (LAPACK ``dgecon``); sparse E: SuperLU. A
singular (or numerically singular, rcond < 1e3 eps) E raises :class:`SingularMatrixError` — the
system is then a differential-algebraic equation, which these solvers do not handle.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.errors import SingularMatrixError

RCOND_MIN = 1e3 * np.finfo(float).eps


class EFactor:
    """LU factors of E, for solves with E and E^T.

    Parameters
    ----------
    E : ndarray or sparse matrix, shape (n, n)
    name : str
        Name used in error messages.

    Attributes
    ----------
    rcond : float
        Reciprocal 1-norm condition estimate (dense only; NaN for sparse).
    """

    def __init__(self, E, name: str = "E"):
        self.n = E.shape[0]
        self.sparse = sp.issparse(E)
        self.rcond = float("nan")
        if self.sparse:
            try:
                self._lu = sparse_lu(E)
            except RuntimeError as exc:  # "Factor is exactly singular"
                raise SingularMatrixError(
                    f"{name} is singular ({exc}); the system is a DAE (descriptor with algebraic "
                    "parts), which balanced truncation here does not handle — remove the algebraic "
                    "states or pass a nonsingular E") from None
            diag = np.abs(self._lu.U.diagonal())
            if diag.size and (diag.min() <= RCOND_MIN * diag.max()):
                raise SingularMatrixError(
                    f"{name} is numerically singular (LU pivot ratio {diag.min() / diag.max():.1e}); "
                    "pass a nonsingular E")
        else:
            E = np.asarray(E, dtype=float)
            import warnings

            with warnings.catch_warnings():  # singularity is reported below, as an error
                warnings.simplefilter("ignore", sla.LinAlgWarning)
                lu, piv = sla.lu_factor(E, check_finite=False)
            anorm = np.linalg.norm(E, 1)
            if anorm == 0:
                raise SingularMatrixError(f"{name} is the zero matrix; pass a nonsingular E")
            rcond, info = sla.lapack.dgecon(lu, anorm, norm="1")
            self.rcond = float(rcond)
            if not np.isfinite(rcond) or rcond < RCOND_MIN:
                raise SingularMatrixError(
                    f"{name} is numerically singular (reciprocal condition {rcond:.1e}); the system is "
                    "a DAE or badly scaled — pass a nonsingular, well-conditioned E")
            self._lu = (lu, piv)

    def solve(self, X, trans: bool = False):
        """E^{-1} X (or E^{-T} X with ``trans``)."""
        X = np.asarray(X)
        if self.sparse:
            if np.iscomplexobj(X):
                return self.solve(X.real, trans) + 1j * self.solve(X.imag, trans)
            return self._lu.solve(np.asarray(X, dtype=float), trans="T" if trans else "N")
        return sla.lu_solve(self._lu, X, trans=1 if trans else 0, check_finite=False)

    def solve_matrix(self, A, trans: bool = False) -> np.ndarray:
        """Dense E^{-1} A (A dense or sparse)."""
        if sp.issparse(A):
            A = A.toarray()
        return self.solve(A, trans)


def sparse_lu(M):
    """SuperLU of a sparse matrix with an ordering suited to (nearly) structurally symmetric
    FE/FD pencils: minimum degree on A^T + A with a preference for diagonal pivots (threshold 1e-3).
    On a 2-D FE heat pencil (n = 3481) this is 25-70x faster than SuperLU's default COLAMD with
    partial pivoting, at the same fill. Raises RuntimeError for an exactly singular matrix."""
    from scipy.sparse.linalg import splu

    M = sp.csc_matrix(M)
    if not np.all(M.diagonal()):
        # zero diagonal entries (a DAE's algebraic block, e.g. a saddle point [[K, G], [G^T, 0]]):
        # diagonal pivoting cannot follow the symmetric ordering and the fill explodes (stokes:60,
        # n = 10679: 42e6 entries and 55 s with minimum degree, 1.4e6 and 0.09 s with COLAMD)
        return splu(M)
    return splu(M, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=1e-3, options={"SymmetricMode": True})
