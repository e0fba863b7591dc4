"""Randomized SVD (Halko, Martinsson & Tropp, SIAM Review 53 (2011) 217, Algorithms 4.4 and 5.1).

A Gaussian sketch Y = A Omega with ``rank + oversample`` columns captures the dominant range of A;
``power_iters`` subspace iterations (re-orthonormalized by QR after each product, Alg. 4.4) sharpen
it when the spectrum decays slowly. The expected error is within a small factor of
s_{rank+1} * (1 + ...)^(1/(2q+1)).

Every product is followed by a QR, so the iterates stay orthonormal whatever the scale of A; the
Frobenius norm is computed scaled (:func:`~physfact.lowrank.scaled.scaled_norm`), so ``discarded``
scales exactly with A (1e-170 and 1e+300 included).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from physfact.errors import InputError
from physfact.lowrank.scaled import scaled_norm
from physfact.lowrank.svd import SVD
from physfact.validation import as_generator, as_matrix, check_int, check_memory

#: more subspace iterations gain nothing in double precision: the error factor
#: (s_{k+1}/s_k)^(2q+1) is below eps for q = 50 unless s_{k+1}/s_k > 0.7
MAX_POWER_ITERS = 50


def randomized_svd(A, rank: int, oversample: int = 10, power_iters: int = 2, seed=None) -> SVD:
    """Approximate rank-``rank`` SVD of ``A`` by randomized range finding.

    Parameters
    ----------
    A : ndarray, sparse matrix or scipy LinearOperator, shape (m, n)
    rank : int
        Number of singular triplets returned, 1 <= rank <= min(m, n).
    oversample : int
        Extra sketch columns (10 is the usual choice); the sketch has min(rank + oversample,
        min(m, n)) columns.
    power_iters : int
        Subspace iterations q, 0 <= q <= 50; error decays like (s_{k+1}/s_k)^(2q+1).
    seed : None, int >= 0 or numpy.random.Generator

    Returns
    -------
    SVD
        ``discarded`` is sqrt(||A||_F^2 - sum s^2) when ||A||_F is cheap (dense or sparse A),
        else NaN. Unpacks as ``U, s, Vt = randomized_svd(A, rank)`` (scikit-learn's order).

    Raises
    ------
    InputError
        Bad ``A`` (shape, NaN/inf), ``rank``, ``oversample``, ``power_iters`` or ``seed``, or an
        operator that returns non-finite values.
    ResourceError
        The sketch would not fit in memory.
    """
    rank = check_int(rank, "rank", minimum=1, allow_none=False)
    oversample = check_int(oversample, "oversample", minimum=0, allow_none=False)
    power_iters = check_int(power_iters, "power_iters", minimum=0, allow_none=False)
    if power_iters > MAX_POWER_ITERS:
        raise InputError(f"power_iters = {power_iters} gains nothing over {MAX_POWER_ITERS} in double precision; "
                         f"use 0 .. {MAX_POWER_ITERS} (2 is the usual choice)")
    rng = as_generator(seed)
    fro = np.nan
    if isinstance(A, LinearOperator):
        op = A
        if len(op.shape) != 2 or min(op.shape) < 1:
            raise InputError(f"A must be a non-empty 2-D operator, got shape {op.shape}")
    else:
        A = as_matrix(A, "A")
        op = aslinearoperator(A)
        fro = scaled_norm(A)
    m, n = op.shape
    if rank > min(m, n):
        raise InputError(f"rank {rank} exceeds min(m, n) = {min(m, n)}")
    k = min(rank + oversample, min(m, n))
    check_memory(8.0 * (2 * (m + n) * k + k * k), f"a randomized SVD sketch of {k} columns for a {m} x {n} matrix",
                 "lower rank or oversample")
    Q = _orthonormal(op.matmat(rng.standard_normal((n, k))))
    for _ in range(power_iters):
        Z = _orthonormal(op.rmatmat(Q))
        Q = _orthonormal(op.matmat(Z))
    B = np.asarray(op.rmatmat(Q)).T  # B = Q^T A, shape (k, n)
    if not np.all(np.isfinite(B)):
        raise InputError("the operator returned non-finite values (NaN or inf); check A")
    Ub, s, Vt = sla.svd(B, full_matrices=False, check_finite=False)
    U = Q @ Ub[:, :rank]
    s, Vt = s[:rank], Vt[:rank]
    discarded = np.nan
    if np.isfinite(fro):
        kept = np.sum(np.square(s / fro)) if fro > 0 else 0.0  # fractions of ||A||_F^2: no raw squares
        discarded = fro * float(np.sqrt(max(1.0 - kept, 0.0)))
    return SVD(U, s, Vt, float(discarded), s.copy())


def _orthonormal(Y):
    """Orthonormal basis of the columns of a sketch (QR), refusing NaN/inf from the operator."""
    Y = np.asarray(Y)
    if not np.all(np.isfinite(Y)):
        raise InputError("the operator returned non-finite values (NaN or inf); check A")
    return np.linalg.qr(Y)[0]
