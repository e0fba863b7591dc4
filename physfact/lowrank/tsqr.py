"""Tall-skinny QR: the R factor of a tall matrix given by row blocks, one block in memory at a time.

TSQR (Demmel, Grigori, Hoemmen & Langou, SIAM J. Sci. Comput. 34 (2012) A206): the R of
[M_1; M_2; ...] is the R of the stacked R factors of the blocks, as accurate as Householder QR of
the whole matrix. Used where the matrix is too large to copy (tensor-train unfoldings, growing
ADI factors held as column chunks).
"""
from __future__ import annotations

import functools

import numpy as np
import scipy.linalg as sla

from physfact.errors import InputError

#: reduce the stack of block R factors after this many blocks (keeps it small next to the input)
REDUCE_EVERY = 16
#: triangle masks are cached for R factors up to this many entries (1 MiB of bools)
_MASK_CACHE_ELEMENTS = 1 << 20


def r_factor(M: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """Upper-triangular R (min(rows, k) x k) of the QR of ``M`` (rows x k) by LAPACK geqrf.

    Only R is formed (no Q). A wide ``M`` (rows < k) gives the upper-trapezoidal factor.

    Parameters
    ----------
    M : ndarray, shape (rows, k)
    overwrite : bool
        Let geqrf work in ``M``'s own memory when ``M`` is a writeable Fortran-contiguous array of
        the LAPACK type (``M`` is then destroyed); saves a copy when factoring temporaries. With
        the default ``False`` (or any other layout) ``M`` is never modified.

    Returns
    -------
    R : ndarray, shape (min(rows, k), k)
        Fortran-ordered. A new array, except that with ``overwrite`` and rows <= k it may be
        ``M``'s own memory; it never keeps a tall ``M``'s Householder vectors alive.
    """
    if not isinstance(M, np.ndarray) or M.ndim != 2:
        raise InputError(f"r_factor needs a 2-D array, got {getattr(M, 'shape', type(M).__name__)}")
    rows, k = M.shape
    if rows == 0:
        return np.zeros((0, k), dtype=M.dtype)
    geqrf, = sla.get_lapack_funcs(("geqrf",), (M,))
    a = M if (overwrite and M.flags.f_contiguous and M.flags.writeable and M.dtype == geqrf.dtype) \
        else np.array(M, dtype=geqrf.dtype, order="F", copy=True)
    qr, _, _, info = geqrf(a, lwork=_geqrf_lwork(geqrf.dtype, rows, k), overwrite_a=True)
    if info != 0:
        raise InputError(f"QR failed (LAPACK geqrf info={info}); check the input for NaN/inf")
    m = min(rows, k)
    R = qr[:m].copy(order="F") if rows > m else qr
    _zero_strict_lower(R)
    if not np.isfinite(R).all():  # R is small: NaN/inf anywhere in M shows here
        raise InputError("the matrix has non-finite entries (NaN or inf): QR failed; clean the input first")
    return R


def _zero_strict_lower(R: np.ndarray) -> None:
    """Set the entries below the diagonal of R to zero, in place.

    np.triu builds its mask and a new array on every call (4x the cost of this at 64 x 64, where
    TT sweeps call it hundreds of times); assignment rather than a product with a 0/1 mask keeps
    inf/NaN visible.
    """
    m, k = R.shape
    if m <= 1:
        return
    if m * k <= _MASK_CACHE_ELEMENTS:
        np.copyto(R, 0, where=_strict_lower(m, k))
    else:  # large: a column loop costs nothing next to the QR and caches no big masks
        for j in range(min(m - 1, k)):
            R[j + 1:, j] = 0


@functools.lru_cache(maxsize=64)
def _geqrf_lwork(dtype: np.dtype, rows: int, k: int) -> int:
    """Workspace for geqrf on a rows x k matrix, queried once per shape.

    Below ~128 columns geqrf is unblocked whatever the workspace, so the minimal k is enough; from
    there on the minimal k would force its BLAS-2 path (3x slower) and the optimal size is used.
    """
    if k < 128:
        return max(k, 1)
    # the *_lwork query takes the shape only (a query through geqrf itself copies a rows x k array)
    query, = sla.get_lapack_funcs(("geqrf_lwork",), dtype=dtype)
    lwork, info = query(rows, k)
    return max(k, int(np.real(lwork))) if info == 0 else max(k, 1)


@functools.lru_cache(maxsize=32)
def _strict_lower(m: int, k: int) -> np.ndarray:
    """Read-only boolean mask of the strictly lower triangle of an m x k matrix."""
    mask = np.tri(m, k, -1, dtype=bool)
    mask.setflags(write=False)
    return mask


def tsqr_r(blocks, overwrite: bool = False) -> np.ndarray:
    """R factor of the tall matrix whose consecutive row blocks are ``blocks``.

    Parameters
    ----------
    blocks : iterable of ndarray, each (b_i x k)
        Row blocks (views are fine: each is copied once, then released). A generator keeps only
        one block alive at a time.
    overwrite : bool
        The blocks are temporaries: QR in their own memory when they are Fortran-ordered float
        arrays (no copy of each block; see :func:`r_factor`).

    Returns
    -------
    R : ndarray, shape (min(sum b_i, k), k)
        Upper triangular; ``R^H R = M^H M`` and the singular values of R are those of M.
    """
    Rs = []
    k = None
    for block in blocks:
        if not isinstance(block, np.ndarray) or block.ndim != 2:
            raise InputError(f"tsqr_r needs 2-D row blocks, got {getattr(block, 'shape', type(block).__name__)}")
        if k is not None and block.shape[1] != k:
            raise InputError(f"row blocks must all have {k} columns, got {block.shape[1]}")
        k = block.shape[1]
        # a block with fewer rows than columns is its own "R" (stacking rows keeps M^H M)
        Rs.append(r_factor(block, overwrite) if block.shape[0] >= block.shape[1] else np.array(block))
        del block  # a generator's next block is built before this one would go otherwise
        if len(Rs) >= REDUCE_EVERY:
            Rs = [r_factor(np.concatenate(Rs, axis=0))]
    if not Rs:
        raise InputError("tsqr_r needs at least one row block")
    return r_factor(Rs[0] if len(Rs) == 1 else np.concatenate(Rs, axis=0))
