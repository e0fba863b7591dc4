"""TT-SVD: a dense tensor as a tensor train, with a global relative Frobenius error guarantee.

Oseledets, "Tensor-train decomposition", SIAM J. Sci. Comput. 33 (2011) 2295, Algorithm 1.
The tensor A (dims n_0 ... n_{d-1}) is swept from the left. At step k the remainder is unfolded
as C_k with r_{k-1} n_k rows; its SVD C_k = U s W^H is truncated by the shared rule
``Truncation(atol=delta, rank=max_rank)`` with

    delta = tol * ||A||_F / sqrt(d - 1),

U_r becomes core k and U_r^H C_k (= s_r W_r^H) the next remainder. Because every U_r is
orthonormal the per-step errors are orthogonal, so the total error is exactly

    ||A - TT||_F = sqrt(sum_k discarded_k^2) <= tol * ||A||_F

(up to roundoff), and that number is returned, not just the bound.

Lean memory. The first unfoldings of a state are very wide (2 x 2^23 for 24 qubits). Instead of
an SVD that returns a W of the size of the input, the singular values and U come from the small
triangular factor R of a tall-skinny QR of C_k^T = Q R computed chunk by chunk (TSQR: Demmel,
Grigori, Hoemmen, Langou, SIAM J. Sci. Comput. 34 (2012) A206): C_k = R^T Q^T, so
svd(R^T) = U s V^H gives C_k's U and s exactly (Q has orthonormal columns). The next remainder
U_r^H C_k is then a column-chunked GEMM written into one work buffer, in place from the second
step on. Peak extra memory is one remainder (<= the input) plus a few chunk temporaries; rank
decisions come from the SVD of R, never from Gram-matrix eigenvalues.

The TSQR kernel itself is :func:`physfact.lowrank.tsqr_r`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physfact.errors import InputError
from physfact.lowrank import Truncation, robust_svd, scaled_norm, truncate
from physfact.lowrank import tsqr_r as lowrank_tsqr_r
from physfact.validation import check_int, check_memory, check_positive

# chunk size (elements) for the TSQR / projection passes: large enough for BLAS, small next to N
_CHUNK_ELEMENTS = 1 << 19
DEFAULT_TOL = 1e-14


@dataclass(frozen=True, repr=False)
class TTSVDInfo:
    """Truncation accounting of one TT-SVD sweep.

    Attributes
    ----------
    discarded : ndarray, shape (d-1,)
        Frobenius norm of the singular values dropped at each bond (absolute, same units as A).
    singular_values : tuple of ndarray
        Every singular value computed at each bond (kept and dropped) during the sweep.
    norm : float
        ||A||_F (from the first unfolding's singular values).
    tol : float
        The relative tolerance used.
    center : int
        Orthogonality center of the cores: d-1 after a left-to-right sweep (C-contiguous input),
        0 after a right-to-left one (F-contiguous input).
    """

    discarded: np.ndarray
    singular_values: tuple
    norm: float
    tol: float
    center: int = 0

    @property
    def error(self) -> float:
        """||A - TT||_F = sqrt(sum discarded^2) (exact for TT-SVD up to roundoff)."""
        return scaled_norm(self.discarded)

    def __repr__(self):
        return f"TTSVDInfo(norm={self.norm:.6g}, error={self.error:.3e}, tol={self.tol:g})"


def tsqr_r(C: np.ndarray, chunk_elements: int = _CHUNK_ELEMENTS) -> np.ndarray:
    """Triangular factor R (m x m) of the QR of C^T for a wide C (m x n, m <= n): C^T = Q R.

    :func:`physfact.lowrank.tsqr_r` over column chunks of C (row blocks of C^T), so only one
    chunk is copied at a time; C is not modified. The singular values of R are those of C.
    """
    if not isinstance(C, np.ndarray) or C.ndim != 2:
        raise InputError(f"tsqr_r needs a 2-D array, got {getattr(C, 'shape', type(C).__name__)}")
    m, n = C.shape
    b = max(4 * m, chunk_elements // max(m, 1))
    return lowrank_tsqr_r(C[:, j0:j0 + b].T for j0 in range(0, n, b))


def _project_rows(Uh: np.ndarray, C: np.ndarray, out: np.ndarray | None, chunk_elements=_CHUNK_ELEMENTS):
    """Return Uh @ C (r x n) computed over column chunks.

    ``out=None`` allocates the result; ``out is C``'s own buffer computes in place: chunk j of the
    result overwrites only rows :r of chunk j of C, which have been read already.
    """
    r = Uh.shape[0]
    m, n = C.shape
    b = max(1, chunk_elements // max(m, 1))
    if out is None:
        res = np.empty((r, n), dtype=np.result_type(Uh, C))
        for j0 in range(0, n, b):
            np.matmul(Uh, C[:, j0:j0 + b], out=res[:, j0:j0 + b])
        return res
    flat = out.reshape(-1)
    res = flat[: r * n].reshape(r, n)
    for j0 in range(0, n, b):
        tmp = Uh @ C[:, j0:j0 + b]
        res[:, j0:j0 + b] = tmp
    return res


def _as_tensor(x, dims, order):
    """Input as a float64/complex128 tensor of shape ``dims`` read in ``order`` (a view if possible)."""
    try:
        a = np.asarray(x)
    except Exception as exc:
        raise InputError(f"the tensor could not be read as an array: {exc}") from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise InputError(f"the tensor must be numeric, got dtype {a.dtype}")
    if a.size == 0 or a.ndim == 0:
        raise InputError(f"the tensor needs at least one dimension and one entry, got shape {a.shape}")
    if np.iscomplexobj(a):
        a = a.astype(np.complex128, copy=False)
    else:
        a = a.astype(np.float64, copy=False)
    if order not in ("C", "F"):
        raise InputError(f"order must be 'C' (site 0 most significant) or 'F' (site 0 least significant), got {order!r}")
    if dims is None:
        dims = a.shape
    dims = tuple(check_int(n, "dims entry", minimum=1) for n in np.atleast_1d(dims).tolist())
    if not a.flags.c_contiguous and not a.flags.f_contiguous:  # a broadcast or strided view: copied below
        check_memory(2.0 * a.size * np.dtype(a.dtype).itemsize, f"TT-SVD of a {a.size}-entry tensor (a contiguous "
                     "copy and one remainder)", "pass a smaller tensor, or build the TT by tt_cross")
    else:
        check_memory(1.0 * a.size * np.dtype(a.dtype).itemsize, f"TT-SVD of a {a.size}-entry tensor (one remainder)",
                     "pass a smaller tensor, or build the TT by tt_cross")
    if int(np.prod(dims, dtype=object)) != a.size:
        raise InputError(f"dims {dims} hold {int(np.prod(dims, dtype=object))} entries but the tensor has {a.size}")
    if a.shape != dims:
        a = a.reshape(dims, order=order)  # a view for contiguous input in the matching order
    return a, dims


def tt_svd(x, dims=None, tol=None, max_rank=None, order="C"):
    """TT-SVD of a dense tensor (Oseledets 2011, Algorithm 1) with the lean first unfoldings.

    Parameters
    ----------
    x : array_like
        The tensor: an ndarray of shape ``dims``, or any array with prod(dims) entries, read in
        ``order`` (C: site 0 is the most significant index, F: the least significant).
    dims : sequence of int, optional
        Mode sizes n_0 ... n_{d-1}; default ``x.shape``.
    tol : float, optional
        Relative Frobenius tolerance: ||A - TT||_F <= tol ||A||_F. Default 1e-14 (exact up to
        roundoff: drops only numerically zero singular values).
    max_rank : int, optional
        Cap on every bond rank (then the guarantee no longer holds; the returned error is exact).
    order : {"C", "F"}

    Returns
    -------
    cores : list of ndarray, core k of shape (r_{k-1}, n_k, r_k) with r_{-1} = r_{d-1} = 1
    info : TTSVDInfo
    """
    tol = DEFAULT_TOL if tol is None else check_positive(tol, "tol", allow_zero=True)
    if tol >= 1:
        raise InputError(f"tol is a relative error in [0, 1), got {tol}")
    max_rank = check_int(max_rank, "max_rank", minimum=1)
    a, dims = _as_tensor(x, dims, order)
    d = len(dims)
    if d == 1:
        nrm = scaled_norm(a)
        return [np.array(a, copy=True).reshape(1, dims[0], 1)], TTSVDInfo(np.zeros(0), (), nrm, tol, 0)
    # sweep over the contiguous direction: a C-contiguous tensor from the left, an F-contiguous one
    # (e.g. a flat vector read in F order) from the right, by TT-SVD of its transpose (a view).
    reverse = (not a.flags.c_contiguous) and a.flags.f_contiguous
    if reverse:
        a = a.T
    elif not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    cores, info = _tt_svd_c(a, a.shape, tol, max_rank)
    if reverse:
        cores = [c.transpose(2, 1, 0) for c in reversed(cores)]
        info = TTSVDInfo(info.discarded[::-1].copy(), tuple(reversed(info.singular_values)), info.norm, tol, 0)
    return cores, info


def _tt_svd_c(a, dims, tol, max_rank):
    d = len(dims)
    N = a.size
    cur = a.reshape(1, N)  # view of the caller's data: read only
    own = False  # whether ``cur`` lives in our work buffer (then in-place updates are allowed)
    r_prev = 1
    cores, discarded, svals = [], [], []
    norm = None
    delta = None
    chunk = min(_CHUNK_ELEMENTS, max(1 << 14, N // 64))  # temporaries stay a few % of the input
    for k in range(d - 1):
        rows = r_prev * dims[k]
        cols = cur.size // rows
        C = cur.reshape(rows, cols)
        if rows <= cols and rows <= 4096:
            R = tsqr_r(C, chunk)
            if not np.all(np.isfinite(R)):
                raise InputError("the tensor has non-finite entries (NaN or inf); clean the input first")
            U, s, _ = robust_svd(R.T)
        else:
            if not own and not np.all(np.isfinite(C)):
                raise InputError("the tensor has non-finite entries (NaN or inf); clean the input first")
            U, s, _ = robust_svd(C)
        if norm is None:
            norm = scaled_norm(s)
            delta = tol * norm / np.sqrt(d - 1)
        svd = truncate(U, s, np.empty((s.size, 0)), Truncation(atol=delta, rank=max_rank), shape=(rows, cols))
        r = max(svd.rank, 1)  # keep a rank-1 zero core rather than an empty train
        Ur = U[:, :r]
        discarded.append(scaled_norm(s[r:]))
        svals.append(np.array(s))
        cores.append(np.ascontiguousarray(Ur).reshape(r_prev, dims[k], r))
        cur = _project_rows(Ur.conj().T, C, out=C if own else None, chunk_elements=chunk)
        own = True
        r_prev = r
    cores.append(np.array(cur, copy=True).reshape(r_prev, dims[-1], 1))
    return cores, TTSVDInfo(np.array(discarded), tuple(svals), norm, tol, d - 1)
