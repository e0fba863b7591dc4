"""Fast-diagonalisation direct solver for two-term Kronecker sums K = A_1 (x) B_1 + A_2 (x) B_2.

Lynch, Rice & Thomas, "Direct solution of partial difference equations by tensor product
methods", Numer. Math. 6 (1964) 185--199; here in the "matrix decomposition" variant of Buzbee,
Golub & Nielson (SIAM J. Numer. Anal. 7 (1970) 627--656): only the cross-section pair is
diagonalised and the axial direction keeps its banded structure.

With B_1 symmetric positive definite, the generalized eigenproblem B_2 v = lambda B_1 v gives
V^T B_1 V = I, V^T B_2 V = Lambda, so that

    (I (x) V)^T K (I (x) V) = A_1 (x) I + A_2 (x) Lambda,

n_section independent banded systems (A_1 + lambda_j A_2) z_j = c_j along the axis, each
factored once by banded Cholesky (they are s.p.d. when K is). A solve costs two dense
n_stations x n_section x n_section transforms (X V and Z V^T) plus O(n) banded substitutions:
O(n * n_section) flops and O(n) memory, against the fill-in of a sparse LU.

When the two terms come from a black-box fit their factors are mixtures; the pair is rotated
(an orthogonal 2 x 2 recombination, which leaves the sum unchanged) until the section factor of
the first term is positive definite.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.errors import InputError, SingularMatrixError
from physfact.fem.problem import SolveResult
from physfact.validation import as_array, check_int

MAX_SECTION = 6000  # dense eigendecomposition of the cross-section pair
SINE_MIN = 400      # below this section size a BLAS product with V beats the fast sine transform
_pbtrf, _pbtrs = sla.lapack.dpbtrf, sla.lapack.dpbtrs
#: most iterative-refinement steps fdm_solve accepts
MAX_REFINE = 100
_lapack_pttrf, _lapack_pttrs = sla.lapack.dpttrf, sla.lapack.dpttrs


def _pttrf(d, e):
    """LAPACK dpttrf, also for a 1 x 1 system (one axial station), which the wrapper rejects."""
    if d.size == 1:
        return d.copy(), np.zeros(0), 0 if d[0] > 0 else 1
    return _lapack_pttrf(d, e)


def _pttrs(d, e, b):
    if d.size == 1:
        return (b / d[0],)
    return _lapack_pttrs(d, e, b)


def _dense(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M, dtype=float)


def _is_symmetric(M, rtol=1e-12) -> bool:
    if sp.issparse(M) and M.format == "dia":   # banded: compare diagonal o with diagonal -o
        scale = max(float(np.abs(M.data).max()) if M.data.size else 0.0, 1e-300)
        return all(np.abs(M.diagonal(o) - M.diagonal(-o)).max(initial=0.0) <= rtol * scale for o in M.offsets)
    if sp.issparse(M):
        M = sp.csr_matrix(M)
        scale = abs(M).max() if M.nnz else 0.0
        D = M - M.T
        return (abs(D).max() if D.nnz else 0.0) <= rtol * max(scale, 1e-300)
    M = np.asarray(M)
    return bool(np.abs(M - M.T).max() <= rtol * max(np.abs(M).max(), 1e-300))


def _toeplitz_tridiagonal(M, rtol=1e-13):
    """(diagonal, off-diagonal) if the dense symmetric M is tridiagonal Toeplitz, else None."""
    n = M.shape[0]
    if n < 3:
        return None
    scale = max(float(np.abs(M).max()), 1e-300)
    d, e = np.diag(M), np.diag(M, 1)
    rest = M - np.diag(d) - np.diag(e, 1) - np.diag(e, -1)
    if np.abs(rest).max() > rtol * scale or np.ptp(d) > rtol * scale or np.ptp(e) > rtol * scale:
        return None
    return float(d[0]), float(e[0])


def _is_spd(M) -> bool:
    try:
        sla.cholesky(M, check_finite=False)
        return True
    except np.linalg.LinAlgError:
        return False


def _bandwidth(*mats) -> int:
    bw = 0
    for A in mats:
        if sp.issparse(A) and A.format == "dia":
            bw = max(bw, int(np.abs(A.offsets).max(initial=0)))
            continue
        C = sp.coo_matrix(A)
        if C.nnz:
            bw = max(bw, int(np.max(np.abs(C.row - C.col))))
    return bw


def _to_banded_lower(A, bw):
    """LAPACK lower banded storage ab[k, j] = A[j + k, j] of a sparse symmetric matrix."""
    n = A.shape[0]
    ab = np.zeros((bw + 1, n))
    if sp.issparse(A) and A.format == "dia" and A.shape[1] == n:
        # DIA data[d, j] = A[j - offset_d, j]: offset -k is exactly LAPACK's row k
        for d, off in enumerate(A.offsets):
            if off <= 0:
                ab[-off] += A.data[d]
        return ab
    C = sp.coo_matrix(A)
    low = C.row >= C.col
    ab[C.row[low] - C.col[low], C.col[low]] += C.data[low]
    return ab


class FDMFactor:
    """Factorisation of a two-term Kronecker sum by fast diagonalisation of the cross-section.

    Parameters
    ----------
    op : KroneckerOperator
        With exactly two terms after :meth:`~KroneckerOperator.recompress`; symmetric factors and a
        symmetric positive definite sum.
    transform : {"auto", "dense", "sine"}
        How the section eigenvectors are applied (see the ``transform`` attribute).

    Attributes
    ----------
    eigenvalues : ndarray, shape (n_section,)
        lambda_j of the cross-section pencil (B_2, B_1).
    V : ndarray, shape (n_section, n_section)
        B_1-orthonormal eigenvectors.
    transform : {"dense", "sine"}
        How V is applied: a dense product, or a fast sine transform when both section factors are
        tridiagonal Toeplitz (uniform section mesh, coefficient constant across the section);
        ``"auto"`` (the constructor default) picks the sine transform for sections of 400 DOFs or more.
    bandwidth : int
        Half-bandwidth of the axial factors.
    nbytes : int
        Storage of the factor (V plus the banded Cholesky factors).
    """

    def __init__(self, op, transform: str = "auto"):
        from physfact.fem.kronecker import KroneckerOperator

        if transform not in ("auto", "dense", "sine"):
            raise InputError(f"transform must be 'auto', 'dense' or 'sine', got {transform!r}")
        if not isinstance(op, KroneckerOperator):
            raise InputError(f"fdm needs a KroneckerOperator, got {type(op).__name__}")
        if op.rank > 2:
            op = op.recompress()
        if op.rank > 2:
            raise InputError(f"fast diagonalisation needs a two-term Kronecker sum; this operator has rank {op.rank} "
                             "(elasticity: use pcg_solve, which applies FDM per displacement component)")
        if op.n_section > MAX_SECTION:
            raise InputError(f"cross-section of {op.n_section} DOFs is too large for the dense eigendecomposition "
                             f"(limit {MAX_SECTION}); use pcg_solve or a coarser section")
        self.op = op
        t0 = time.perf_counter()
        terms = list(op.terms)
        if len(terms) == 1:  # K = A (x) B: the pencil is (B, 0)
            A, B = terms[0]
            Bd = [_dense(B), np.zeros(B.shape)]
            Aa = [A, sp.csr_matrix(A.shape)]
        else:
            Bd = [_dense(terms[0][1]), _dense(terms[1][1])]
            Aa = [terms[0][0], terms[1][0]]
        for M in Bd + list(Aa):
            if not _is_symmetric(M):
                raise InputError("fast diagonalisation needs symmetric Kronecker factors (a symmetric K)")
        # rotate the pair until the first section factor is s.p.d. (orthogonal recombination)
        found = None
        for theta in np.linspace(0.0, 2 * np.pi, 48, endpoint=False):
            c, s = np.cos(theta), np.sin(theta)
            B1 = c * Bd[0] + s * Bd[1]
            if _is_spd(B1):
                found = (c, s)
                break
        if found is None:
            raise SingularMatrixError("no combination of the cross-section factors is positive definite: K is not "
                                      "a symmetric positive definite two-term Kronecker sum")
        c, s = found
        B1 = c * Bd[0] + s * Bd[1]
        B2 = -s * Bd[0] + c * Bd[1]
        if s == 0.0:   # the usual case: the first section factor is already s.p.d.
            A1, A2 = Aa[0], Aa[1]
        else:
            A1, A2 = c * Aa[0] + s * Aa[1], -s * Aa[0] + c * Aa[1]
        A1 = A1 if sp.issparse(A1) else sp.csr_matrix(A1)
        A2 = A2 if sp.issparse(A2) else sp.csr_matrix(A2)
        toeplitz = _toeplitz_tridiagonal(B1), _toeplitz_tridiagonal(B2)
        self.transform = "dense"
        is_toeplitz = toeplitz[0] is not None and toeplitz[1] is not None
        if transform == "sine" and not is_toeplitz:
            raise InputError("transform='sine' needs tridiagonal Toeplitz section factors (uniform section mesh, "
                             "coefficient constant across the section)")
        if is_toeplitz and (transform == "sine" or (transform == "auto" and B1.shape[0] >= SINE_MIN)):
            # uniform section mesh, constant coefficient across it: the eigenvectors of the pencil
            # are discrete sines, V = S diag(scale), applied by a fast sine transform (DST-I) --
            # the classical fast Poisson solver (Hockney 1965; Buzbee, Golub & Nielson 1970)
            m = B1.shape[0]
            theta_k = np.pi * np.arange(1, m + 1) / (m + 1)
            (a1, b1), (a2, b2) = toeplitz
            mu1 = a1 + 2 * b1 * np.cos(theta_k)            # s_k^T B s_k / (s_k^T s_k), s_k sine vectors
            mu2 = a2 + 2 * b2 * np.cos(theta_k)
            lam = mu2 / mu1
            self._scale = 1.0 / np.sqrt(mu1 * (m + 1) / 2)  # B1-normalisation (s_k^T s_k = (m + 1) / 2)
            self.transform = "sine"
            V = np.sin(np.outer(np.arange(1, m + 1), np.arange(1, m + 1)) * np.pi / (m + 1)) * self._scale
        else:
            lam, V = sla.eigh(B2, B1, check_finite=False)
        self.eigenvalues, self.V = lam, np.ascontiguousarray(V)
        bw = _bandwidth(A1, A2)
        self.bandwidth = bw
        ab1, ab2 = _to_banded_lower(A1, bw), _to_banded_lower(A2, bw)
        na = op.n_stations
        # tridiagonal (linear elements): LAPACK's LDL^T for s.p.d. tridiagonals (pttrf/pttrs) is
        # ~10x faster than the general banded Cholesky (pbtrf/pbtrs) used otherwise
        self._tridiagonal = bw <= 1
        if self._tridiagonal:
            self._d = np.empty((lam.size, na))
            self._e = np.empty((lam.size, max(na - 1, 0)))
        else:
            self._chol = np.empty((lam.size, bw + 1, na))
        for j, lj in enumerate(lam):
            ab = ab1 + lj * ab2
            if self._tridiagonal:
                d, e, info = _pttrf(ab[0], ab[1, :-1] if ab.shape[0] > 1 else np.zeros(max(na - 1, 0)))
                self._d[j], self._e[j] = d, e
            else:
                c, info = _pbtrf(ab, lower=1)
                self._chol[j] = c
            if info != 0:
                raise SingularMatrixError(
                    f"axial system {j} (eigenvalue {lj:.3e}) is not positive definite: K is singular or indefinite "
                    "(missing supports?)")
        self.setup_seconds = time.perf_counter() - t0

    @property
    def nbytes(self) -> int:
        """Stored bytes: V (omitted for the sine transform) and the axial factors."""
        fac = self._d.nbytes + self._e.nbytes if self._tridiagonal else self._chol.nbytes
        return int((0 if self.transform == "sine" else self.V.nbytes) + fac)

    @property
    def shape(self):
        return self.op.shape

    def solve_kron(self, bk):
        """Solve in Kronecker order; ``bk`` of shape (n,) or (n, k)."""
        na, nb = self.op.n_stations, self.op.n_section
        vec = bk.ndim == 1
        k = 1 if vec else bk.shape[1]
        # C[j] = column j of X V (one GEMM or a sine transform), Z[j] = (A_1 + lambda_j A_2)^{-1} C[j], X = Z V^T
        Bt = np.ascontiguousarray(bk.reshape(na, nb, k).transpose(0, 2, 1)).reshape(na * k, nb)
        C = np.ascontiguousarray(self._right_V(Bt).reshape(na, k, nb).transpose(2, 0, 1))
        Z = np.empty_like(C)
        for j in range(nb):  # LAPACK directly: the scipy wrappers' checks cost more than the solve
            if self._tridiagonal:
                Z[j] = _pttrs(self._d[j], self._e[j], C[j])[0]
            else:
                Z[j] = _pbtrs(self._chol[j], C[j], lower=1)[0]
        Zt = np.ascontiguousarray(Z.transpose(1, 2, 0)).reshape(na * k, nb)
        X = self._right_VT(Zt).reshape(na, k, nb).transpose(0, 2, 1)
        X = X.reshape(na * nb, k)
        return X[:, 0] if vec else X

    def _right_V(self, X):
        """X @ V for X of shape (rows, n_section)."""
        if self.transform == "sine":
            from scipy.fft import dst

            return dst(X, type=1, axis=1) * (0.5 * self._scale)
        return X @ self.V

    def _right_VT(self, Z):
        """Z @ V^T."""
        if self.transform == "sine":
            from scipy.fft import dst

            return dst(Z * (0.5 * self._scale), type=1, axis=1)
        return Z @ self.V.T

    def solve(self, b):
        """Solve K x = b for b in the problem's DOF order, shape (n,) or (n, k)."""
        b = np.asarray(b, dtype=float)
        return self.op._from_kron(self.solve_kron(self.op._to_kron(b)))

    def __repr__(self):
        return (f"FDMFactor(n={self.op.shape[0]}, section={self.op.n_section}, bandwidth={self.bandwidth}, "
                f"nbytes={self.nbytes})")


def relative_residual(apply, x, b):
    """||b - K x|| / ||b|| per column."""
    r = b - apply(x)
    nb = np.linalg.norm(b, axis=0)
    return np.linalg.norm(r, axis=0) / np.where(nb > 0, nb, 1.0)


def fdm_solve(op, b, refine: int = 1, matrix=None, factor: FDMFactor | None = None) -> SolveResult:
    """Solve K x = b by fast diagonalisation, with iterative refinement.

    Parameters
    ----------
    op : KroneckerOperator
        A two-term Kronecker sum (Poisson, heat steps M + dt K, K + sigma M; an operator with
        more terms is first recompressed exactly).
    b : array_like, shape (n,) or (n, k)
        Right-hand side(s) in the problem's DOF order; a block is solved in one sweep.
    refine : int
        Steps of iterative refinement x <- x + K_op^{-1} (b - K x) (default 1).
    matrix : sparse matrix, optional
        The assembled K to refine against (e.g. when ``op`` is a truncated fit); else ``op``.
    factor : FDMFactor, optional
        Reuse an existing factorisation of ``op``.

    Returns
    -------
    SolveResult
        ``iterations`` = refinement steps, ``residual`` = ||b - K x|| / ||b|| per column (with
        ``matrix`` if given), ``seconds`` including the factorisation.
    """
    t0 = time.perf_counter()
    b = as_array(b, "b", ndim=(1, 2))
    if b.shape[0] != op.shape[0]:
        raise InputError(f"b has {b.shape[0]} rows but the operator has {op.shape[0]}")
    refine = check_int(refine, "refine", minimum=0, allow_none=False)
    if refine > MAX_REFINE:
        raise InputError(f"refine={refine} is beyond {MAX_REFINE}: each step gains about -log10(cond error) digits, "
                         "two or three reach the rounding floor")
    fac = factor if factor is not None else FDMFactor(op)
    apply = (lambda v: matrix @ v) if matrix is not None else (lambda v: op @ v)
    x = fac.solve(b)
    for _ in range(refine):
        x = x + fac.solve(b - apply(x))
    res = relative_residual(apply, x, b)
    res = float(res) if np.ndim(res) == 0 else res
    return SolveResult(x=x, iterations=refine, residual=res, seconds=time.perf_counter() - t0)
