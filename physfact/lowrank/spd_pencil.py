"""Sparse LDL^T factorizations of a K + b M (K, M symmetric positive definite), one analysis shared.

Shifted solves (low-rank ADI, rational Krylov, implicit time stepping) factor K + s M for many s on
one sparsity pattern. When K and M are symmetric positive definite (SPD), every a K + b M with
a, b >= 0 (not both zero) is SPD, so a symmetric factorization P (a K + b M) P^T = L D L^T without
pivoting is backward stable (it is Cholesky with the square roots left out) and costs about half the
flops and memory of an LU. The fill-reducing ordering P (approximate minimum degree: Amestoy, Davis
& Duff, SIAM J. Matrix Anal. Appl. 17 (1996) 886) and the elimination tree are computed once for
the union pattern of K and M; each (a, b) then costs only the numeric factorization.

Definiteness can be checked once, when the pencil is built (``check_definite``): K and M are
factored and every pivot of D must be positive (LDL^T without pivoting exists with D > 0 exactly
when the matrix is SPD); every later factorization is then SPD by the argument above. That check
reads L back from the backend (a transient copy as large as the factor), so callers that must
stay lean check the solves instead (``LDLFactor.solve(..., check=True)``: the backward error of one
combined right-hand side, one product with the matrix), which is what accuracy needs: an unstable
LDL^T (of an indefinite matrix) shows there, a stable one is a correct solve either way.

Backend: QDLDL (the LDL^T of OSQP; Stellato, Banjac, Goulart, Bemporad & Boyd, Math. Program.
Comput. 12 (2020) 637) through the ``qdldl`` package. Measured against SuperLU (scipy ``splu``,
its best ordering, one thread) on the ADI pencils -A + s E: rail n = 20209 10 ms vs 85 ms per
factorization (fill nnz(L) 0.31 M vs nnz(L + U) 1.55 M); P1 heat model n = 65025 156 ms vs
352 ms (2.5 M vs 5.6 M).
"""
from __future__ import annotations

import weakref

import numpy as np
import scipy.sparse as sp

from physfact.errors import InputError, NotPositiveDefiniteError

__all__ = ["SPDPencil", "LDLFactor", "is_symmetric", "ldl_available", "BACKWARD_ERROR_MAX"]


def ldl_available() -> bool:
    """Whether the LDL^T backend (the ``qdldl`` package) can be imported."""
    try:
        import qdldl  # noqa: F401
    except ImportError:
        return False
    return True


def is_symmetric(M) -> bool:
    """Exact symmetry of a square sparse or dense matrix (pattern and values).

    Sparse: the canonical CSC arrays of M are those of M^T's CSC, i.e. of M's CSR; this costs one
    format conversion, not the boolean matrix of ``M != M.T``. Explicitly stored zeros count as
    pattern, so a matrix with asymmetric stored zeros is reported non-symmetric (conservative).
    """
    if len(getattr(M, "shape", ())) != 2:
        raise InputError(f"is_symmetric needs a 2-D matrix, got shape {getattr(M, 'shape', None)}")
    if M.shape[0] != M.shape[1]:
        return False
    if sp.issparse(M):
        c = _canonical_csc(M)
        r = c.tocsr()  # the CSC arrays of M^T
        r.sort_indices()
        return (np.array_equal(c.indptr, r.indptr) and np.array_equal(c.indices, r.indices)
                and np.array_equal(c.data, r.data))
    M = np.asarray(M)
    return bool(np.array_equal(M, M.T))


def _canonical_csc(X) -> sp.csc_matrix:
    """X as CSC with sorted indices and no duplicates; X itself when it already is (no copy)."""
    if X.format == "csc" and X.has_canonical_format:
        return X
    c = sp.csc_matrix(X, copy=True)
    c.sum_duplicates()
    return c


def _upper_csc(X) -> sp.csc_matrix:
    """Upper triangle (diagonal included) of sparse X as canonical CSC without stored zeros, by a
    mask on the CSC arrays (``scipy.sparse.triu`` goes through COO: several full copies)."""
    X = _canonical_csc(X)
    n = X.shape[1]
    cols = np.repeat(np.arange(n, dtype=X.indices.dtype), np.diff(X.indptr))
    keep = (X.indices <= cols) & (X.data != 0)
    indptr = np.zeros(n + 1, dtype=X.indptr.dtype)
    np.cumsum(np.bincount(cols[keep], minlength=n), out=indptr[1:])
    return sp.csc_matrix((X.data[keep], X.indices[keep], indptr), shape=X.shape)


#: a solve whose normwise backward error exceeds this is rejected (a stable LDL^T of an SPD matrix
#: gives ~ n eps; an unstable one of an indefinite matrix gives O(1))
BACKWARD_ERROR_MAX = 1e-8


class LDLFactor:
    """P (a K + b M) P^T = L D L^T of an :class:`SPDPencil`; ``solve`` applies (a K + b M)^{-1}.

    Attributes
    ----------
    a, b : float
        The coefficients of this factorization.
    n : int
    """

    def __init__(self, solver, pencil: "SPDPencil", a: float, b: float):
        self._solver, self._pencil = solver, pencil
        self.a, self.b, self.n = a, b, pencil.n

    def solve(self, B, check: bool = False) -> np.ndarray:
        """X = (a K + b M)^{-1} B for B of shape (n,) or (n, k), real or complex.

        With ``check`` the normwise backward error of the solve (for the sum of the columns of B,
        one product with the pencil) must be below :data:`BACKWARD_ERROR_MAX`, else
        :class:`~physfact.errors.NotPositiveDefiniteError` is raised: LDL^T without pivoting is
        stable for SPD matrices, and a failed check means the matrix is not one.
        """
        B = np.asarray(B)
        if B.ndim not in (1, 2) or B.shape[0] != self.n:
            raise InputError(f"right-hand side has {B.shape[0]} rows, the matrix is {self.n} x {self.n}")
        if not np.all(np.isfinite(B)):
            raise InputError("right-hand side has NaN or inf entries")
        if np.iscomplexobj(B):
            return self.solve(B.real, check) + 1j * self.solve(B.imag, check)
        s = self._solver
        if B.ndim == 1:
            X = s.solve(np.ascontiguousarray(B, dtype=float))
        else:  # the backend solves one vector at a time: walk contiguous columns
            Bf = np.asfortranarray(B, dtype=float)
            X = np.empty(Bf.shape, order="F")
            for j in range(Bf.shape[1]):
                X[:, j] = s.solve(Bf[:, j])
        if check:
            self._check(B, X)
        return X

    def _check(self, B, X):
        b = B if B.ndim == 1 else B.sum(axis=1)
        x = X if X.ndim == 1 else X.sum(axis=1)
        U = self._pencil.upper(self.a, self.b)
        r = U @ x + U.T @ x - U.diagonal() * x - b  # the symmetric matrix from its upper triangle
        norm1 = self._pencil.norm1_bound(self.a, self.b)
        scale = norm1 * np.linalg.norm(x, 1) + np.linalg.norm(b, 1)
        err = np.linalg.norm(r, 1) / scale if scale > 0 else 0.0
        if not np.isfinite(err) or err > BACKWARD_ERROR_MAX:
            raise NotPositiveDefiniteError(
                f"LDL^T solve with a K + b M (a={self.a:.6g}, b={self.b:.6g}) has backward error "
                f"{err:.1e}: the matrix is not (numerically) positive definite; use an LU")


class SPDPencil:
    """Factorizations of a K + b M for sparse symmetric positive definite K and M.

    Parameters
    ----------
    K : (n, n) sparse matrix
        Symmetric positive definite.
    M : (n, n) sparse matrix, optional
        Symmetric positive definite (identity when None).
    check_definite : bool
        Verify that K and M are positive definite (two factorizations; every pivot of D > 0). The
        check reads the factor back from the backend (a transient copy of L, as large as the
        factor itself). Without it, use ``LDLFactor.solve(..., check=True)``, which rejects
        an inaccurate solve instead (what matters for an indefinite matrix: LDL^T without pivoting
        may still be accurate there, or not).

    Raises
    ------
    InputError
        K or M is not a square sparse matrix of size n, or not exactly symmetric.
    NotPositiveDefiniteError
        ``check_definite`` and K or M has a non-positive pivot (not positive definite, or
        numerically singular).
    ImportError
        The ``qdldl`` package is missing.

    Notes
    -----
    Factors are independent objects; a factor that is no longer referenced hands its storage back
    for the next :meth:`factor` (one symbolic analysis for the pencil's lifetime).
    """

    def __init__(self, K, M=None, check_definite: bool = True):
        import qdldl

        self._qdldl = qdldl
        if len(getattr(K, "shape", ())) != 2 or (M is not None and len(getattr(M, "shape", ())) != 2):
            raise InputError("K and M must be 2-D scipy.sparse matrices")
        n = K.shape[0]
        if K.shape != (n, n) or (M is not None and M.shape != (n, n)):
            raise InputError(f"K and M must be square of one size, got {K.shape} and "
                             f"{None if M is None else M.shape}")
        M = sp.identity(n, format="csc") if M is None else M
        for X, name in ((K, "K"), (M, "M")):
            if not sp.issparse(X):
                raise InputError(f"{name} must be a scipy.sparse matrix")
            if not np.all(np.isfinite(X.data)):
                raise InputError(f"{name} has NaN or inf entries")
            if not is_symmetric(X):
                raise InputError(f"{name} is not exactly symmetric; use an LU (scipy splu) instead")
        self.n = n
        Ku, Mu = _upper_csc(K), _upper_csc(M)
        # one pattern for every a K + b M: the union of both triangles (|.| so nothing cancels)
        pattern = abs(Ku) + abs(Mu)
        pattern = pattern.tocsc()
        pattern.sort_indices()
        self._indptr, self._indices = pattern.indptr, pattern.indices
        del pattern
        self._K = self._on_pattern(Ku)
        self._M = self._on_pattern(Mu)
        self._norm1 = (_norm1(Ku), _norm1(Mu))
        del Ku, Mu
        self._idle: list = []  # at most one spare backend solver (its L storage), reused by factor()
        self.factorizations = 0
        if check_definite:
            self._check_definite(1.0, 0.0, "K")
            self._check_definite(0.0, 1.0, "M")

    @property
    def nnz_pattern(self) -> int:
        """Entries of the upper triangle of the union pattern of K and M."""
        return int(self._indices.size)

    def upper(self, a: float, b: float) -> sp.csc_matrix:
        """Upper triangle of a K + b M (CSC on the pencil's pattern)."""
        return sp.csc_matrix((a * self._K + b * self._M, self._indices, self._indptr), shape=(self.n, self.n))

    def norm1_bound(self, a: float, b: float) -> float:
        """Upper bound of ||a K + b M||_1 (from the norms of K and M)."""
        return abs(a) * self._norm1[0] + abs(b) * self._norm1[1]

    def _on_pattern(self, X):
        """Values of canonical upper-triangular CSC ``X`` placed on the union pattern."""
        n = self.n
        key = np.repeat(np.arange(n, dtype=np.int64), np.diff(self._indptr)) * n + self._indices
        xkey = np.repeat(np.arange(n, dtype=np.int64), np.diff(X.indptr)) * n + X.indices
        pos = np.searchsorted(key, xkey)
        assert np.array_equal(key[pos], xkey), "pattern of the pencil misses an entry"
        out = np.zeros(key.size)
        out[pos] = X.data
        return out

    def _check_definite(self, a: float, b: float, name: str):
        try:
            f = self.factor(a, b)
        except NotPositiveDefiniteError:
            raise NotPositiveDefiniteError(f"{name} is not positive definite (a zero LDL^T pivot)") from None
        d = f._solver.factors()[1]
        if not (np.all(np.isfinite(d)) and np.all(d > 0)):
            bad = int(np.count_nonzero(~(d > 0)))
            raise NotPositiveDefiniteError(
                f"{name} is not positive definite ({bad} of {self.n} LDL^T pivots are not positive)")

    def factor(self, a: float = 1.0, b: float = 0.0) -> LDLFactor:
        """LDL^T of a K + b M (a, b >= 0 finite, not both zero: then it is SPD).

        Raises
        ------
        InputError
            Coefficients outside that range (the matrix might be indefinite).
        NotPositiveDefiniteError
            A zero pivot (only detected when the backend builds a new factor; a reused one is
            checked by ``solve(..., check=True)``).
        """
        a, b = float(a), float(b)
        if not (np.isfinite(a) and np.isfinite(b) and a >= 0 and b >= 0 and a + b > 0):
            raise InputError(f"a K + b M is positive definite only for a, b >= 0, not both 0; got a={a}, b={b}")
        A = self.upper(a, b)
        if self._idle:  # same pattern: reuse ordering, elimination tree and storage
            solver = self._idle.pop()
            solver.update(A, upper=True)
        else:
            try:
                solver = self._qdldl.Solver(A, upper=True)
            except (ValueError, RuntimeError) as exc:  # QDLDL: zero pivot
                raise NotPositiveDefiniteError(f"a K + b M (a={a}, b={b}) has a zero pivot ({exc})") from None
        self.factorizations += 1
        f = LDLFactor(solver, self, a, b)
        weakref.finalize(f, _give_back, self._idle, solver)
        return f


def _norm1(U) -> float:
    """||X||_1 of the symmetric X with upper triangle U (bound: column sums of |U| + |U|^T)."""
    absU = abs(U)
    return float(np.max(np.asarray(absU.sum(axis=0)).ravel() + np.asarray(absU.sum(axis=1)).ravel(),
                        initial=0.0))


def _give_back(idle: list, solver):
    # keep one spare (the common case: one live factor at a time); free the rest
    if not idle:
        idle.append(solver)
