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
from physfact.validation import check_int


def quantics_index(bits) -> np.ndarray:
    """Grid indices j from bit rows (m, L), site 0 most significant."""
    bits = np.asarray(bits, dtype=np.int64)
    L = bits.shape[1]
    return bits @ (1 << np.arange(L - 1, -1, -1, dtype=np.int64))


def quantics_grid(a: float, b: float, levels: int, endpoint: bool = False) -> np.ndarray:
    """The 2^levels grid points x_j (see the module docstring)."""
    levels = check_int(levels, "levels", minimum=1)
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
    N = 2**levels
    h = (b - a) / (N - 1 if endpoint else N)

    def g(bits):
        return np.asarray(f(a + h * quantics_index(bits)), dtype=float)

    return tt_cross(g, (2,) * levels, tol=tol, max_rank=max_rank, seed=seed, **kwargs)


def qtt_values(tt: TensorTrain, j) -> np.ndarray:
    """Entries of a quantics train at grid indices j (array of ints)."""
    j = np.atleast_1d(np.asarray(j, dtype=np.int64))
    L = tt.ndim
    bits = (j[:, None] >> np.arange(L - 1, -1, -1)[None, :]) & 1
    return np.array([tt.entry(row) for row in bits])
