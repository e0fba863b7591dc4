"""Low-rank operators A = U V^T and column compression of symmetric factors Z Z^T."""
from __future__ import annotations

import numbers

import numpy as np

from physfact.errors import InputError
from physfact.lowrank.svd import truncate
from physfact.lowrank.truncation import Truncation, as_truncation
from physfact.lowrank.tsqr import tsqr_r
from physfact.validation import as_array, check_int


class LowRankMatrix:
    """The m x n matrix A = U V^T held by its factors U (m x k) and V (n x k).

    Products cost O((m + n) k) per vector instead of O(m n); ``power(n)`` uses
    A^n = U (V^T U)^{n-1} V^T, a k x k matrix power.
    """

    __array_priority__ = 20  # so ndarray @ LowRankMatrix dispatches to __rmatmul__

    def __init__(self, U, V):
        U = as_array(U, "U", ndim=(1, 2), allow_complex=True)
        V = as_array(V, "V", ndim=(1, 2), allow_complex=True)
        U = U[:, None] if U.ndim == 1 else U
        V = V[:, None] if V.ndim == 1 else V
        if U.shape[1] != V.shape[1]:
            raise InputError(f"U and V must have the same number of columns, got {U.shape[1]} and {V.shape[1]}")
        self.U, self.V = U, V

    @classmethod
    def from_svd(cls, svd):
        """Build from an :class:`~physfact.lowrank.SVD` (U diag(s), V)."""
        if not all(hasattr(svd, f) for f in ("U", "s", "Vt")):
            raise InputError(f"from_svd needs an SVD result (fields U, s, Vt), got {type(svd).__name__}")
        return cls(svd.U * svd.s, svd.Vt.conj().T)

    @property
    def shape(self):
        return (self.U.shape[0], self.V.shape[0])

    @property
    def rank(self) -> int:
        """Number of columns of the factors (an upper bound on the true rank)."""
        return self.U.shape[1]

    @property
    def dtype(self):
        return np.result_type(self.U, self.V)

    @property
    def nbytes(self) -> int:
        return self.U.nbytes + self.V.nbytes

    @property
    def T(self):
        return LowRankMatrix(self.V, self.U)

    def to_dense(self) -> np.ndarray:
        return self.U @ self.V.T

    def __matmul__(self, other):
        if isinstance(other, LowRankMatrix):
            if other.shape[0] != self.shape[1]:
                raise InputError(f"shape mismatch: {self.shape} @ {other.shape}")
            return LowRankMatrix(self.U @ (self.V.T @ other.U), other.V)
        x = _operand(other)
        if x.shape[0] != self.shape[1]:
            raise InputError(f"shape mismatch: {self.shape} @ {x.shape}")
        return self.U @ (self.V.T @ x)

    def __rmatmul__(self, other):
        x = _operand(other)
        if x.shape[-1] != self.shape[0]:
            raise InputError(f"shape mismatch: {x.shape} @ {self.shape}")
        return (x @ self.U) @ self.V.T

    def __add__(self, other):
        if not isinstance(other, LowRankMatrix):
            raise InputError(f"a LowRankMatrix adds only to another LowRankMatrix, got {type(other).__name__}; "
                             "use .to_dense() for dense arithmetic")
        if other.shape != self.shape:
            raise InputError(f"shape mismatch: {self.shape} + {other.shape}")
        return LowRankMatrix(np.hstack([self.U, other.U]), np.hstack([self.V, other.V]))

    def __neg__(self):
        return LowRankMatrix(-self.U, self.V)

    def __sub__(self, other):
        return self + (-other)

    def __mul__(self, scalar):
        if not isinstance(scalar, numbers.Number) or isinstance(scalar, bool) or not np.isfinite(scalar):
            raise InputError(f"a LowRankMatrix is multiplied by a finite scalar (use @ for products), got {scalar!r}")
        return LowRankMatrix(scalar * self.U, self.V)

    __rmul__ = __mul__

    def power(self, n: int) -> "LowRankMatrix":
        """A^n for n >= 1 as U (V^T U)^{n-1} V^T (A must be square)."""
        n = check_int(n, "n", minimum=1, allow_none=False)
        if n > 10**6:
            raise InputError(f"power n = {n}: use n <= 10^6 (repeated squaring of the k x k core beyond that only "
                             "overflows or underflows)")
        if self.shape[0] != self.shape[1]:
            raise InputError(f"power needs a square matrix, got shape {self.shape}")
        core = np.linalg.matrix_power(self.V.T @ self.U, n - 1)
        return LowRankMatrix(self.U @ core, self.V)

    def compress(self, rule: Truncation | int | float | None = None) -> "LowRankMatrix":
        """Recompress to the rank chosen by ``rule`` via QR of both factors and an SVD of the core."""
        Qu, Ru = np.linalg.qr(self.U)
        Qv, Rv = np.linalg.qr(self.V)
        W, s, Zt = np.linalg.svd(Ru @ Rv.T)
        svd = truncate(Qu @ W, s, Zt @ Qv.T, rule, shape=self.shape)
        return LowRankMatrix.from_svd(svd)

    def __repr__(self):
        return f"LowRankMatrix(shape={self.shape}, rank={self.rank}, nbytes={self.nbytes})"


def _operand(other):
    """A vector or matrix operand of @: a finite numeric array with at least one dimension."""
    x = as_array(other, "operand", ndim=(1, 2), allow_complex=True)
    return x


def compress_factor(Z, rule: Truncation | int | float | None = None, block_rows: int = 4096):
    """Column compression of a symmetric factor: Z Z^T ~= Zc Zc^T with few columns.

    Uses Z = Q R (TSQR over row blocks of ``block_rows``, so Z is never copied whole), then the
    SVD R = W diag(s) Y^T, so Z Z^T = (Q W s)(Q W s)^T = (Z Y)(Z Y)^T; the rule acts on s (the
    singular values of Z, square roots of the eigenvalues of Z Z^T). The Frobenius error of Z Z^T
    is sqrt(sum_{i>r} s_i^4), the 2-norm error s_{r+1}^2.

    Parameters
    ----------
    Z : ndarray (n, k), or a sequence of column chunks (n, k_i) standing for their hstack
        Chunks let a growing factor (low-rank ADI) be compressed without concatenating it.
    rule : Truncation, int or float, optional
        None drops only numerically zero columns (s_i <= max(n, k) eps s_1).

    Returns
    -------
    Zc : ndarray, shape (n, r)
    s : ndarray
        All singular values of Z.
    """
    block_rows = check_int(block_rows, "block_rows", minimum=1, allow_none=False)
    chunks = [Z] if isinstance(Z, np.ndarray) or not isinstance(Z, (list, tuple)) else list(Z)
    if not chunks:
        raise InputError("Z has no column chunks; give an (n, k) array or a non-empty list of them")
    chunks = [as_array(c, "Z", ndim=2, allow_complex=True, allow_empty=True) for c in chunks]
    n = chunks[0].shape[0]
    if any(c.shape[0] != n for c in chunks):
        raise InputError("all column chunks of Z must have the same number of rows")
    k = sum(c.shape[1] for c in chunks)
    dtype = np.result_type(*chunks)
    if k == 0 or n == 0:
        return np.zeros((n, 0), dtype=dtype), np.zeros(0)
    R = tsqr_r(_row_blocks(chunks, block_rows, dtype), overwrite=True)
    W, s, Yt = np.linalg.svd(R, full_matrices=False)
    del R, W  # k x k each: freed before the product (peak memory at large k)
    if rule is None:  # drop only what is numerically zero
        r = int(np.count_nonzero(s > s[0] * max(n, k) * np.finfo(float).eps))
    else:
        r = as_truncation(rule).choose(s, shape=(n, k))
    # Z Y_r = Q R Y_r = Q W_r diag(s_r): the compressed factor without forming Q, row block by row
    # block (a chunk-by-chunk sum would need an n x r temporary per chunk)
    Y = Yt[:r].conj().T
    del Yt
    Zc = np.empty((n, r), dtype=dtype)
    # rows are independent here, so smaller blocks give the same product with a smaller temporary
    rows = min(block_rows, 256)
    for r0, M in zip(range(0, n, rows), _row_blocks(chunks, rows, dtype)):
        Zc[r0:r0 + rows] = M @ Y
    return Zc, s


def _row_blocks(chunks, block_rows, dtype):
    """Row blocks of the hstack of ``chunks``, each a new Fortran-ordered array (geqrf can work in
    it: no further copy), the previous one released before the next is built."""
    n, k = chunks[0].shape[0], sum(c.shape[1] for c in chunks)
    for r0 in range(0, n, block_rows):
        r1 = min(n, r0 + block_rows)
        M = np.empty((r1 - r0, k), dtype=dtype, order="F")
        j = 0
        for c in chunks:
            M[:, j:j + c.shape[1]] = c[r0:r1]
            j += c.shape[1]
        yield M
        del M
