"""Euclidean norms that neither overflow nor underflow: the overall scale of the input never matters.

Squaring raw values loses everything outside ~1e-154 .. 1e+154 (``(1e-170)**2`` is 0 and
``(1e+300)**2`` is inf), which would make a rank decision or an error report depend on the units
of the input. The norms here divide by the largest modulus first, as LAPACK's ``dnrm2`` does
(Blue, ACM TOMS 4 (1978) 15), and tails of sorted values are accumulated with ``hypot``.
"""
from __future__ import annotations

import numpy as np


_CHUNK = 1 << 16


def scaled_norm(x) -> float:
    """||x||_2 of the flattened array ``x`` (real or complex, dense or scipy.sparse) without overflow
    or underflow: max|x| * ||x / max|x|||_2, over chunks (no copy of a large ``x``).

    Returns ``nan`` when ``x`` holds NaN, ``inf`` when it holds inf, 0 for an empty or zero array.
    """
    if hasattr(x, "tocoo") and hasattr(x, "nnz"):  # scipy.sparse: the stored values
        x = x.tocoo().data
    a = np.asarray(x)
    if a.size == 0:
        return 0.0
    flat = a.ravel(order="K")  # a view for contiguous input
    chunks = [flat[i:i + _CHUNK] for i in range(0, flat.size, _CHUNK)]
    m = max(float(np.max(np.abs(c))) for c in chunks)
    if m == 0 or not np.isfinite(m):
        return m
    total = sum(float(np.sum(np.square(np.abs(c) / m))) for c in chunks)
    return m * float(np.sqrt(total))


def tail_norms(s) -> np.ndarray:
    """tail[r] = ||s[r:]||_2 for r = 0 .. k (tail[k] = 0) of non-negative values ``s``, from the small
    end by ``hypot`` (no squares: exact scaling for any magnitude)."""
    s = np.asarray(s, dtype=float)
    if s.size == 0:
        return np.zeros(1)
    return np.append(np.hypot.accumulate(s[::-1])[::-1], 0.0)
