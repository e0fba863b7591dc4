"""Blocked, greedy pivoted Cholesky of a positive semidefinite matrix given by its rows.

General kernel (not chemistry specific; a candidate for ``physfact.lowrank``): returns vectors
L (k x n) with V ~= L^T L, choosing at every step the largest diagonal of the residual
R = V - L^T L (Higham, "Accuracy and Stability of Numerical Algorithms", ch. 10; for electron
repulsion integrals Beebe & Linderberg 1977, Koch, Sanchez de Meras & Pedersen 2003). It stops
when max_i R_ii <= tol. For PSD R, |R_ij| <= sqrt(R_ii R_jj) <= max_i R_ii, so ``tol`` bounds the
largest entry of the residual.

Blocking: the rows of the b largest residual diagonals are fetched and updated with one
matrix-matrix product; pivots inside the block are taken one at a time by the same greedy rule
as the unblocked algorithm and the block ends as soon as the global largest residual diagonal lies
outside it. So the pivots are exactly the unblocked greedy ones, at matrix-matrix speed. Memory:
the k x n vectors plus one b x n block; V itself is only read (row slices).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from physfact.errors import ConvergenceError, InputError
from physfact.validation import as_array, check_int, check_positive


@dataclass(frozen=True, eq=False)
class PivotedCholesky:
    """Result of :func:`pivoted_cholesky`.

    Attributes
    ----------
    vectors : ndarray, shape (k, n)
        Rows L_k with V ~= sum_k L_k L_k^T, in pivot order.
    pivots : ndarray of int, shape (k,)
        The pivot indices, in order.
    residual_max : ndarray, shape (k + 1,)
        max_i R_ii before step 0 and after each step (non-increasing up to rounding).
    residual_trace : ndarray, shape (k + 1,)
        trace of the residual before step 0 and after each step.
    """

    vectors: np.ndarray = field(repr=False)
    pivots: np.ndarray = field(repr=False)
    residual_max: np.ndarray = field(repr=False)
    residual_trace: np.ndarray = field(repr=False)

    @property
    def rank(self) -> int:
        return int(self.vectors.shape[0])

    def __repr__(self):
        return (f"PivotedCholesky(rank={self.rank}, n={self.vectors.shape[1]}, "
                f"residual_max={self.residual_max[-1]:.3e})")


def pivoted_cholesky(V: np.ndarray, tol: float = 0.0, max_rank: int | None = None, block: int = 16,
                     psd_tol: float = 1e-10, stop: str = "max") -> PivotedCholesky:
    """Greedy pivoted Cholesky of a symmetric PSD matrix V (n x n), stopped at max diag residual <= tol.

    Parameters
    ----------
    V : ndarray, shape (n, n)
        Symmetric positive semidefinite; only rows ``V[idx]`` are read (a reshaped view of an ERI
        array costs no copy).
    tol : float
        Stop when the largest residual diagonal is <= tol (also when it is <= 0).
    max_rank : int, optional
        Stop after this many vectors.
    block : int
        Rows fetched and updated per matrix-matrix product.
    stop : {"max", "trace"}
        Which residual measure ``tol`` bounds: the largest residual diagonal (default) or the
        residual trace (sum of the diagonal, which bounds the Frobenius and nuclear norms of R).
    psd_tol : float
        A residual diagonal below ``-psd_tol * max diag V`` means V is not PSD: InputError.
    """
    V = as_array(V, "V", ndim=2)
    n = V.shape[0]
    if V.shape != (n, n):
        raise InputError(f"pivoted_cholesky needs a square matrix, got shape {V.shape}")
    tol = check_positive(tol, "tol", allow_zero=True, allow_none=False)
    block = check_int(block, "block", minimum=1, allow_none=False)
    psd_tol = check_positive(psd_tol, "psd_tol", allow_zero=True, allow_none=False)
    max_rank = n if max_rank is None else min(check_int(max_rank, "max_rank", minimum=0), n)
    d = np.array(np.diagonal(V), dtype=float)
    scale = max(float(d.max(initial=0.0)), 1e-300)
    if d.min(initial=0.0) < -psd_tol * scale:
        raise InputError(f"the matrix is not positive semidefinite: diagonal entry {d.min():.3e} < 0")
    cap = max(max_rank, 1)
    L = np.empty((min(cap, 64), n))
    k = 0
    pivots = []
    res_max = [float(d.max(initial=0.0))]
    res_tr = [float(d.sum())]
    if stop not in ("max", "trace"):
        raise InputError(f"stop must be 'max' or 'trace', got {stop!r}")
    measure = res_max if stop == "max" else res_tr
    slot = np.full(n, -1)  # position of an index in the current block, -1 outside it

    # ties (symmetry-equal diagonals, equal to rounding) go to the lowest index, so rounding does
    # not pick the pivot; noise is measured against the initial scale (it does not shrink with d)
    tie = 64 * np.finfo(float).eps * scale

    def greedy_pivot():
        top = float(d.max())
        return int(np.argmax(d >= top - max(tie, 1e-12 * abs(top))))

    while k < max_rank and measure[-1] > tol and res_max[-1] > 0:
        b = min(block, max_rank - k, n)
        cand = np.argpartition(-d, b - 1)[:b] if b < n else np.arange(n)
        first = greedy_pivot()
        if first not in cand:  # a tie beyond the block: the block must hold the next pivot (progress)
            cand[np.argmin(d[cand])] = first
        # residual rows of the candidates at the block start: V[cand] - L[:k, cand]^T L[:k] (one GEMM)
        rows = np.array(V[cand], dtype=float)
        if k:
            rows -= L[:k, cand].T @ L[:k]
        slot[cand] = np.arange(b)
        k0 = k
        trace = res_tr[-1]
        while k < max_rank:
            piv = greedy_pivot()
            dmax = float(d[piv])
            j = slot[piv]
            if measure[-1] <= tol or dmax <= 0 or j < 0:
                break  # done, or the greedy pivot lies outside this block: fetch a new block
            # left-looking inside the block: subtract only the vectors found since the block start
            row = rows[j] - L[k0:k, piv] @ L[k0:k] if k > k0 else rows[j]
            vec = row / np.sqrt(dmax)
            if k == L.shape[0]:
                L = np.concatenate([L, np.empty((min(L.shape[0], cap - L.shape[0]) or 1, n))])
            L[k] = vec
            k += 1
            pivots.append(piv)
            slot[piv] = -1
            d -= vec * vec
            trace -= float(vec @ vec)  # the diagonal drops by vec_i^2
            d[piv] = 0.0  # exact in exact arithmetic; avoids re-picking through rounding
            res_max.append(float(d.max()))
            res_tr.append(max(trace, 0.0))
        slot[cand] = -1
        if k == k0:  # cannot happen (the block holds the greedy pivot); never loop without progress
            raise ConvergenceError(f"pivoted Cholesky made no progress at rank {k} (largest residual diagonal "
                                   f"{res_max[-1]:.3e}); report this with the input", history=res_max)
        neg = float(d.min())
        if neg < -psd_tol * scale:
            raise InputError(f"the matrix is not positive semidefinite: a residual diagonal reached {neg:.3e} "
                             "during pivoted Cholesky (electron repulsion integrals always give a PSD (pq),(rs) "
                             "supermatrix; check the integrals)")
        res_tr[-1] = float(d.sum())  # resynchronise the running trace once per block
    return PivotedCholesky(L[:k].copy(), np.array(pivots, dtype=int), np.array(res_max), np.array(res_tr))
