"""Randomized SVD (Halko, Martinsson & Tropp, SIAM Review 53 (2011) 217, Algorithms 4.4 and 5.1).

A Gaussian sketch Y = A Omega with ``rank + oversample`` columns captures the dominant range of A;
``power_iters`` subspace iterations (re-orthonormalized by QR after each product, Alg. 4.4) sharpen
it when the spectrum decays slowly. The expected error is within a small factor of
s_{rank+1} * (1 + ...)^(1/(2q+1)).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from physfact.errors import InputError
from physfact.lowrank.svd import SVD
from physfact.validation import as_matrix, check_int


def randomized_svd(A, rank: int, oversample: int = 10, power_iters: int = 2, seed=None) -> SVD:
    """Approximate rank-``rank`` SVD of ``A`` by randomized range finding.

    Parameters
    ----------
    A : ndarray, sparse matrix or scipy LinearOperator, shape (m, n)
    rank : int
        Number of singular triplets returned.
    oversample : int
        Extra sketch columns (10 is the usual choice).
    power_iters : int
        Subspace iterations q; error decays like (s_{k+1}/s_k)^(2q+1).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    SVD
        ``discarded`` is sqrt(||A||_F^2 - sum s^2) when ||A||_F is cheap (dense or sparse A),
        else NaN.
    """
    rank = check_int(rank, "rank", minimum=1, allow_none=False)
    oversample = check_int(oversample, "oversample", minimum=0, allow_none=False)
    power_iters = check_int(power_iters, "power_iters", minimum=0, allow_none=False)
    fro2 = np.nan
    if isinstance(A, LinearOperator):
        op = A
    else:
        A = as_matrix(A, "A")
        op = aslinearoperator(A)
        fro2 = float(sp.linalg.norm(A, "fro") ** 2 if sp.issparse(A) else np.sum(A * A))
    m, n = op.shape
    if rank > min(m, n):
        raise InputError(f"rank {rank} exceeds min(m, n) = {min(m, n)}")
    rng = np.random.default_rng(seed)
    k = min(rank + oversample, min(m, n))
    Q = np.linalg.qr(op.matmat(rng.standard_normal((n, k))))[0]
    for _ in range(power_iters):
        Z = np.linalg.qr(op.rmatmat(Q))[0]
        Q = np.linalg.qr(op.matmat(Z))[0]
    B = op.rmatmat(Q).T  # B = Q^T A, shape (k, n)
    Ub, s, Vt = sla.svd(B, full_matrices=False)
    U = Q @ Ub[:, :rank]
    s, Vt = s[:rank], Vt[:rank]
    discarded = float(np.sqrt(max(fro2 - np.sum(s**2), 0.0))) if np.isfinite(fro2) else np.nan
    return SVD(U, s, Vt, discarded, s.copy())
