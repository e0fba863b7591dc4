"""BLAS thread limits for kernels made of many small dense operations.

Loops of small BLAS calls (the Hammarling column sweep, per-frequency solves, Davidson subspace
problems, per-leaf gradients) gain nothing from threads, and on a busy machine a threaded BLAS
spends most of its time waking and parking them (10-15x slowdowns measured). threadpoolctl is
imported on first use.
"""
from __future__ import annotations

import contextlib
import functools

#: Below this matrix order the dense O(n^3) kernels (Schur, QR, SVD, eig) run on one BLAS thread.
SMALL_DENSE = 1200


@functools.lru_cache(maxsize=1)
def _controller():
    """One threadpoolctl controller for the process: building one inspects every loaded library
    (0.64 ms a call, measured; ~10 calls per frequency-limited BT), limiting through it 0.013 ms.
    numpy's and scipy's BLAS are loaded at import, before the first call."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_threads(n: int | None):
    """Context limiting BLAS to ``n`` threads; ``None`` leaves the setting alone."""
    if n is None:
        return contextlib.nullcontext()
    return _controller().limit(limits=n, user_api="blas")


def single_blas_thread():
    """Context limiting BLAS to one thread."""
    return blas_threads(1)


def blas_threads_for(n: int):
    """One BLAS thread for dense problems of order ``n <= SMALL_DENSE``; unchanged above."""
    return single_blas_thread() if n <= SMALL_DENSE else contextlib.nullcontext()


def with_single_blas_thread(func):
    """Decorator: run ``func`` with BLAS limited to one thread (a kernel of many small or
    medium dense operations, see the module docstring)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with single_blas_thread():
            return func(*args, **kwargs)

    return wrapper
