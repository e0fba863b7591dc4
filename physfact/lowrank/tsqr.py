"""Tall-skinny QR: the R factor of a tall matrix given by row blocks, one block in memory at a time.

TSQR (Demmel, Grigori, Hoemmen & Langou, SIAM J. Sci. Comput. 34 (2012) A206): the R of
[M_1; M_2; ...] is the R of the stacked R factors of the blocks, as accurate as Householder QR of
the whole matrix. Used where the matrix is too large to copy (tensor-train unfoldings, growing
ADI factors held as column chunks).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from physfact.errors import InputError

#: reduce the stack of block R factors after this many blocks (keeps it small next to the input)
REDUCE_EVERY = 16


def r_factor(M: np.ndarray) -> np.ndarray:
    """Upper-triangular R (min(rows, k) x k) of the QR of ``M`` (rows x k) by LAPACK geqrf.

    ``M`` is never modified (geqrf works on a private Fortran-ordered copy).
    """
    rows, k = M.shape
    if rows == 0:
        return np.zeros((0, k), dtype=M.dtype)
    geqrf, = sla.get_lapack_funcs(("geqrf",), (M,))
    lwork = k
    if k >= 128:  # LAPACK blocks only from ~128 columns on; then the minimal lwork would force BLAS-2 (3x slower)
        lwork = max(k, int(geqrf(np.empty((rows, k), dtype=M.dtype, order="F"), lwork=-1)[2][0].real))
    qr, _, _, info = geqrf(np.array(M, order="F", copy=True), lwork=lwork, overwrite_a=True)
    if info != 0:
        raise InputError(f"QR failed (LAPACK geqrf info={info}); check the input for NaN/inf")
    return np.triu(qr[: min(rows, k)])


def tsqr_r(blocks) -> np.ndarray:
    """R factor of the tall matrix whose consecutive row blocks are ``blocks``.

    Parameters
    ----------
    blocks : iterable of ndarray, each (b_i x k)
        Row blocks (views are fine: each is copied once, then released). A generator keeps only
        one block alive at a time.

    Returns
    -------
    R : ndarray, shape (min(sum b_i, k), k)
        Upper triangular; ``R^H R = M^H M`` and the singular values of R are those of M.
    """
    Rs = []
    for block in blocks:
        # a block with fewer rows than columns is its own "R" (stacking rows keeps M^H M)
        Rs.append(r_factor(block) if block.shape[0] >= block.shape[1] else np.array(block))
        if len(Rs) >= REDUCE_EVERY:
            Rs = [r_factor(np.concatenate(Rs, axis=0))]
    if not Rs:
        raise InputError("tsqr_r needs at least one row block")
    return r_factor(Rs[0] if len(Rs) == 1 else np.concatenate(Rs, axis=0))
