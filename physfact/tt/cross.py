"""TT-cross: a tensor train from function values at a few adaptively chosen indices.

Rank-adaptive two-site ("DMRG") cross interpolation: Savostyanov & Oseledets, "Fast adaptive
interpolation of multi-dimensional arrays in tensor train format", Proc. nDS'11 (2011); Oseledets &
Tyrtyshnikov, "TT-cross approximation for multidimensional arrays", Linear Algebra Appl. 432
(2010) 70. Row selection by maxvol (Goreinov, Oseledets, Savostyanov, Tyrtyshnikov, Zamarashkin,
"How to find a good submatrix", 2010).

Nested index sets I_k (left multi-indices for sites 0..k-1) and J_k (right multi-indices for sites
k..d-1) are refined by sweeps. At bond k the supercore

    S[a, i_k, i_{k+1}, b] = f(I_k[a], i_k, i_{k+1}, J_{k+2}[b])

is evaluated, its SVD truncated by the shared rule (atol = tol ||S||_F / sqrt(d-1), ``max_rank``),
which is where the rank adapts, and maxvol on the left factor U picks the r rows that become
I_{k+1}; core k is the interpolant U U[rows]^{-1} (entries bounded by ~1). A right-to-left sweep
is the same on the reversed problem. Sweeps stop when two consecutive trains differ by less than
tol in relative Frobenius norm (computed exactly in TT arithmetic).

The error is *not* guaranteed (cross interpolation only sees the sampled entries); check it on
random samples with :func:`sample_error`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from physfact.errors import ConvergenceError, InputError
from physfact.lowrank import Truncation, scaled_norm, truncate
from physfact.tt.tensor_train import TensorTrain
from physfact.validation import as_generator, check_int, check_positive


def maxvol(A: np.ndarray, tol: float = 1.05, max_iters: int = 200) -> np.ndarray:
    """Row indices of a dominant r x r submatrix of the tall A (m x r): every entry of
    A A[rows]^{-1} is at most ``tol`` in modulus (Goreinov et al. 2010); ``tol`` >= 1,
    ``max_iters`` row swaps at most (1 .. 10^6)."""
    from physfact.validation import as_array

    A = as_array(A, "A", ndim=2, allow_complex=True, allow_empty=True)
    tol = check_positive(tol, "tol")
    if tol < 1:
        raise InputError(f"maxvol tol bounds |A A[rows]^-1| and must be >= 1, got {tol}")
    max_iters = check_int(max_iters, "max_iters", minimum=1)
    if max_iters > 10**6:
        raise InputError(f"max_iters = {max_iters}: use at most 10^6")
    m, r = A.shape
    if m < r:
        raise InputError(f"maxvol needs a tall matrix, got shape {A.shape}")
    if r == 0:
        return np.zeros(0, dtype=int)
    # start from LU with partial pivoting (the pivots are a good first guess)
    P, _, _ = sla.lu(A, check_finite=False)
    rows = np.argmax(P, axis=0)[:r]
    sub = A[rows]
    try:
        B = sla.solve(sub.T, A.T, check_finite=False).T  # B = A sub^{-1}
    except (np.linalg.LinAlgError, ValueError):
        B = A @ np.linalg.pinv(sub)
    for _ in range(max_iters):
        i, j = np.unravel_index(np.argmax(np.abs(B)), B.shape)
        if abs(B[i, j]) <= tol:
            break
        rows[j] = i
        # rank-1 update of B after replacing row j of the submatrix by row i
        bj = B[:, j].copy()
        bi = B[i, :].copy()
        bi[j] -= 1.0
        B -= np.outer(bj, bi / B[i, j])
    return rows


@dataclass(frozen=True, repr=False)
class CrossResult:
    """Result of :func:`tt_cross`.

    Attributes
    ----------
    tt : TensorTrain
    evaluations : int
        Number of function values requested (with repeats across sweeps).
    sweeps : int
    history : list of float
        Relative change between consecutive trains after each sweep.
    """

    tt: TensorTrain
    evaluations: int
    sweeps: int
    history: list

    def __repr__(self):
        return (f"CrossResult(ranks max {max(self.tt.ranks) if self.tt.ranks else 1}, evaluations={self.evaluations}, "
                f"sweeps={self.sweeps}, last change={self.history[-1] if self.history else float('nan'):.2e})")


def _sweep(f, dims, J, tol, max_rank, counter):
    """One left-to-right sweep. J[k]: right index sets (r, d-k) for k = 1..d (J[d] = empty).
    Returns (cores, I) with I[k] the new left sets."""
    d = len(dims)
    I = [np.zeros((1, 0), dtype=np.int64)]
    cores = []
    for k in range(d - 1):
        Ik, Jk2 = I[k], J[k + 2]
        n1, n2 = dims[k], dims[k + 1]
        ra, rb = Ik.shape[0], Jk2.shape[0]
        check_supercore_size(ra, n1, n2, rb, d)
        # all combinations (a, i, j, b) in C order
        a, i, j, b = np.meshgrid(np.arange(ra), np.arange(n1), np.arange(n2), np.arange(rb), indexing="ij")
        idx = np.concatenate([Ik[a.ravel()], i.reshape(-1, 1), j.reshape(-1, 1), Jk2[b.ravel()]], axis=1)
        vals = np.asarray(f(idx))
        counter[0] += idx.shape[0]
        if vals.shape != (idx.shape[0],):
            raise InputError(f"the function must return one value per index row; got shape {vals.shape} "
                             f"for {idx.shape[0]} rows")
        if not np.all(np.isfinite(vals)):
            raise InputError("the function returned non-finite values")
        S = vals.reshape(ra * n1, n2 * rb)
        U, s, Vt = sla.svd(S, full_matrices=False, check_finite=False)
        nrm = scaled_norm(s)
        svd = truncate(U, s, Vt, Truncation(atol=tol * nrm / np.sqrt(max(d - 1, 1)), rank=max_rank), shape=S.shape)
        r = max(svd.rank, 1)
        U = U[:, :r]
        rows = maxvol(U)
        core = sla.solve(U[rows].T, U.T, check_finite=False).T  # U U[rows]^{-1}
        cores.append(core.reshape(ra, n1, r))
        left = np.concatenate([np.repeat(Ik, n1, axis=0), np.tile(np.arange(n1), ra).reshape(-1, 1)], axis=1)
        I.append(left[rows])
        if k == d - 2:
            last = S[rows]  # f(I_{d-1}, i_{d-1}) rows of the final supercore
            cores.append(last.reshape(r, n2, rb))
    return cores, I


#: more sweeps than this never help: a converging cross stops after a handful
MAX_SWEEPS = 1000


def check_supercore_size(ra, n1, n2, rb, d):
    """Refuse a supercore evaluation that cannot fit in memory before building its index array:
    ra n1 n2 rb rows of d + 1 int64 indices, the values and the SVD (about 4 more floats each)."""
    from physfact.validation import check_memory

    rows = float(ra) * n1 * n2 * rb
    check_memory(8.0 * rows * (d + 6), f"a TT-cross supercore of {ra} x {n1} x {n2} x {rb} entries",
                 "use smaller mode sizes (quantics: qtt_cross splits a large grid into 2 x 2 x ...) or a smaller max_rank")


def tt_cross(f, dims, tol=1e-8, max_rank=None, max_sweeps=12, seed=None, init_rank=2, progress=None) -> CrossResult:
    """Rank-adaptive TT-cross approximation of a function on a grid.

    Parameters
    ----------
    f : callable
        ``f(idx)`` with ``idx`` an (m, d) int array of multi-indices (site 0 first) returns m values.
    dims : sequence of int
        Mode sizes.
    tol : float
        Relative truncation tolerance of each supercore and the stopping threshold for the relative
        change between sweeps.
    max_rank : int, optional
    max_sweeps : int
        Pairs of (left-to-right, right-to-left) sweeps at most; :class:`ConvergenceError` (with the
        history) if not converged.
    seed : int, optional
        For the random initial right index sets.
    init_rank : int
        Size of the random initial index sets.
    progress : callable, optional
        ``progress(None, total, desc)`` returning a tqdm-like bar (``update``, ``set_postfix_str``,
        ``close``), advanced per sweep pair with the relative change, evaluations and largest rank.
    """
    if not callable(f):
        raise InputError(f"f must be a callable f(idx) returning one value per index row, got {type(f).__name__}")
    dims = _check_dims(dims)
    d = len(dims)
    if d < 2:
        raise InputError("tt_cross needs at least 2 dimensions")
    tol = check_positive(tol, "tol")
    if tol >= 1:
        raise InputError(f"tol is a relative error in (0, 1), got {tol}")
    max_rank = check_int(max_rank, "max_rank", minimum=1)
    max_sweeps = check_int(max_sweeps, "max_sweeps", minimum=1)
    if max_sweeps > MAX_SWEEPS:
        raise InputError(f"max_sweeps = {max_sweeps}: use at most {MAX_SWEEPS} (a converging cross needs a handful)")
    init_rank = check_int(init_rank, "init_rank", minimum=1)
    rng = as_generator(seed)
    # the first supercores: sizes known before any evaluation (later ones are checked as ranks grow)
    check_supercore_size(1, dims[0], dims[1], min(init_rank, int(np.prod(dims[2:], dtype=object))), d)
    J = [None] * (d + 1)
    J[d] = np.zeros((1, 0), dtype=np.int64)
    for k in range(d - 1, 0, -1):
        r = min(init_rank, int(np.prod(dims[k:], dtype=object)))
        J[k] = np.stack([rng.integers(0, n, size=r) for n in dims[k:]], axis=1)
    bar = progress(None, total=max_sweeps, desc="TT-cross sweeps") if progress is not None else None
    try:
        return _cross_sweeps(f, dims, J, tol, max_rank, max_sweeps, bar)
    finally:
        if bar is not None:
            bar.close()


def _cross_sweeps(f, dims, J, tol, max_rank, max_sweeps, bar):
    """Sweep pairs of :func:`tt_cross` until the relative change is below ``tol``."""
    d = len(dims)
    f_rev = lambda idx: f(idx[:, ::-1])  # noqa: E731  (the reversed problem for right-to-left sweeps)
    counter = [0]
    history = []
    prev = None
    for sweep in range(1, max_sweeps + 1):
        _, I = _sweep(f, dims, J, tol, max_rank, counter)  # forward sweep: refines the left sets
        # right-to-left = left-to-right on the reversed problem; its left sets are our right sets
        Jrev = [None] * (d + 1)
        Jrev[d] = np.zeros((1, 0), dtype=np.int64)
        for k in range(1, d):
            Jrev[d - k] = I[k][:, ::-1]
        rcores, Irev = _sweep(f_rev, dims[::-1], Jrev, tol, max_rank, counter)
        for k in range(1, d):
            J[d - k] = Irev[k][:, ::-1]
        tt = TensorTrain([c.transpose(2, 1, 0) for c in reversed(rcores)])
        if prev is not None:
            nrm = tt.norm()
            change = (tt - prev).norm() / nrm if nrm > 0 else 0.0
            history.append(float(change))
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str((f"change {history[-1]:.1e}, " if history else "")
                                + f"{counter[0]} evaluations, max rank {max(tt.ranks)}", refresh=False)
        if prev is not None and change <= tol:
            return CrossResult(tt.round(tol=min(0.1 * tol, 0.5)), counter[0], sweep, history)
        prev = tt
    raise ConvergenceError(f"TT-cross did not converge in {max_sweeps} sweeps (relative changes {history}); "
                           "raise max_sweeps or max_rank, or loosen tol", history=history)


def _check_dims(dims):
    try:
        dims = [int(n) if float(n).is_integer() else n for n in np.atleast_1d(dims).tolist()]
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"dims must be a sequence of positive integers, got {dims!r}") from None
    return tuple(check_int(n, "dims entry", minimum=1) for n in dims)


def sample_error(tt: TensorTrain, f, n_samples: int = 1000, seed=None) -> float:
    """Relative RMS error of ``tt`` against ``f`` on random grid points (a check for cross results)."""
    if not isinstance(tt, TensorTrain):
        raise InputError(f"sample_error needs a TensorTrain, got {type(tt).__name__}")
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    rng = as_generator(seed)
    idx = np.stack([rng.integers(0, n, size=n_samples) for n in tt.dims], axis=1)
    ref = np.asarray(f(idx))
    if ref.shape != (n_samples,) or not np.all(np.isfinite(ref)):
        raise InputError(f"f must return {n_samples} finite values for {n_samples} index rows, got shape {ref.shape}")
    got = np.array([tt.entry(row) for row in idx])
    ref_norm = scaled_norm(ref)
    return scaled_norm(got - ref) / ref_norm if ref_norm > 0 else scaled_norm(got)
