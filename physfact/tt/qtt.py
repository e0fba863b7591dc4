"""Quantics tensor trains (QTT): a function on 2^L grid points as an L-site train of 2 x 2 x ... x 2.

Oseledets, "Approximation of 2^d x 2^d matrices using tensor decomposition", SIAM J. Matrix Anal.
Appl. 31 (2010) 2130; Khoromskij, "O(d log N)-quantics approximation of N-d tensors in
high-dimensional numerical modeling", Constr. Approx. 34 (2011) 257.

Grid: x_j = a + (b - a) j / 2^L, j = 0 .. 2^L - 1 (``endpoint=False``) or j / (2^L - 1) with
``endpoint=True``. The grid index j = sum_k i_k 2^{L-1-k}: site 0 is the most significant bit
(C order), so ``qtt.to_vector()`` lists f(x_0), f(x_1), ... in order.
"""
from __future__ import annotations

import numpy as np

from physfact.errors import InputError
from physfact.tt.cross import CrossResult, tt_cross
from physfact.tt.tensor_train import TensorTrain
from physfact.validation import check_int, check_memory


#: 2^62 grid points is the most an int64 grid index holds
MAX_LEVELS = 62


def quantics_index(bits) -> np.ndarray:
    """Grid indices j from bit rows (m, L), site 0 most significant."""
    bits = np.asarray(bits)
    if bits.ndim != 2 or bits.shape[1] > MAX_LEVELS or not np.isin(bits, (0, 1)).all():
        raise InputError(f"bits must be an (m, L) array of 0/1 with L <= {MAX_LEVELS}, got shape {bits.shape}")
    bits = bits.astype(np.int64)
    L = bits.shape[1]
    return bits @ (1 << np.arange(L - 1, -1, -1, dtype=np.int64))


def quantics_grid(a: float, b: float, levels: int, endpoint: bool = False) -> np.ndarray:
    """The 2^levels grid points x_j (see the module docstring)."""
    levels = check_int(levels, "levels", minimum=1)
    a, b = _interval(a, b)
    check_memory(8.0 * 2.0**levels, f"a quantics grid of 2^{levels} points", "use fewer levels")
    N = 2**levels
    return a + (b - a) * np.arange(N) / (N - 1 if endpoint else N)


def qtt_from_vector(v, tol=None, max_rank=None) -> TensorTrain:
    """TT-SVD of a vector of length 2^L as an L-site quantics train."""
    v = np.asarray(v)
    L = int(round(np.log2(v.size))) if v.size > 0 else 0
    if v.ndim != 1 or v.size < 2 or 2**L != v.size:
        raise InputError(f"a quantics vector needs length 2^L (L >= 1), got shape {v.shape}")
    return TensorTrain.from_dense(v, dims=(2,) * L, tol=tol, max_rank=max_rank)


def qtt_cross(f, a: float, b: float, levels: int, tol=1e-10, max_rank=None, endpoint=False, seed=0,
              **kwargs) -> CrossResult:
    """Quantics TT of a vectorized function f(x) on 2^levels points by TT-cross: only a few
    thousand evaluations of f instead of 2^levels. ``kwargs`` go to :func:`tt_cross`."""
    levels = check_int(levels, "levels", minimum=2)
    if levels > MAX_LEVELS:
        raise InputError(f"levels = {levels}: a quantics grid index holds at most 2^{MAX_LEVELS} points")
    if not callable(f):
        raise InputError(f"f must be a vectorized callable f(x), got {type(f).__name__}")
    a, b = _interval(a, b)
    N = 2**levels
    h = (b - a) / (N - 1 if endpoint else N)

    def g(bits):
        return np.asarray(f(a + h * quantics_index(bits)), dtype=float)

    return tt_cross(g, (2,) * levels, tol=tol, max_rank=max_rank, seed=seed, **kwargs)


def _interval(a, b):
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        raise InputError(f"the interval [a, b] needs two numbers, got {a!r}, {b!r}") from None
    if not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise InputError(f"the interval [a, b] needs finite a < b, got [{a}, {b}]")
    return a, b


def qtt_values(tt: TensorTrain, j) -> np.ndarray:
    """Entries of a quantics train at grid indices j (array of ints)."""
    if not isinstance(tt, TensorTrain) or set(tt.dims) != {2}:
        raise InputError("qtt_values needs a quantics TensorTrain (every mode of size 2)")
    j = np.atleast_1d(np.asarray(j))
    if j.dtype.kind not in "iu" or np.any(j < 0) or np.any(j >= 2**tt.ndim):
        raise InputError(f"grid indices must be integers in 0 .. 2^{tt.ndim} - 1")
    j = j.astype(np.int64)
    L = tt.ndim
    bits = (j[:, None] >> np.arange(L - 1, -1, -1)[None, :]) & 1
    return np.array([tt.entry(row) for row in bits])
