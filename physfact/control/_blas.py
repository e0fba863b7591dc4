"""Copy-free BLAS ``ztrsv`` on a leading sub-block of a Fortran-ordered matrix.

scipy's wrappers copy a non-contiguous sub-block (``T[:k, :k]``) before every call, which makes a
column-by-column Hammarling sweep memory-bound on copies (O(n^3) bytes moved). The function
pointers that ``scipy.linalg.cython_blas`` exports let us call the same BLAS routine with the
leading dimension of the full array instead. When that is unavailable (an unusual scipy build) the
caller falls back to :func:`scipy.linalg.solve_triangular` on a copy.
"""
from __future__ import annotations

import ctypes

import numpy as np

_ZTRSV = None
_LOADED = False


def _load_ztrsv():
    global _ZTRSV, _LOADED
    if _LOADED:
        return _ZTRSV
    _LOADED = True
    try:
        import scipy.linalg.cython_blas as cython_blas

        capsule = cython_blas.__pyx_capi__["ztrsv"]
        get_name = ctypes.pythonapi.PyCapsule_GetName
        get_name.restype = ctypes.c_char_p
        get_name.argtypes = [ctypes.py_object]
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype = ctypes.c_void_p
        get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        pointer = get_pointer(capsule, get_name(capsule))
        c_int_p = ctypes.POINTER(ctypes.c_int)
        proto = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, c_int_p,
                                 ctypes.c_void_p, c_int_p, ctypes.c_void_p, c_int_p)
        _ZTRSV = proto(pointer)
    except Exception:  # any failure: use the copying fallback
        _ZTRSV = None
    return _ZTRSV


def have_fast_trsv() -> bool:
    """True when the copy-free ``ztrsv`` is available."""
    return _load_ztrsv() is not None


def trsv_upper_leading(T: np.ndarray, k: int, x: np.ndarray, fast: bool = True) -> np.ndarray:
    """Solve ``T[:k, :k] y = x`` in place for upper-triangular complex ``T`` (Fortran order).

    Parameters
    ----------
    T : ndarray, complex128, Fortran-contiguous, shape (n, n)
    k : int
        Size of the leading block.
    x : ndarray, complex128, contiguous, shape (k,)
        Right-hand side; overwritten with the solution and returned.
    fast : bool
        Use the copy-free BLAS call when available.
    """
    f = _load_ztrsv() if fast else None
    if f is None or not T.flags.f_contiguous or T.dtype != np.complex128 or not x.flags.c_contiguous:
        from scipy.linalg import solve_triangular

        x[:] = solve_triangular(T[:k, :k], x, lower=False, check_finite=False)
        return x
    f(b"U", b"N", b"N", ctypes.byref(ctypes.c_int(k)), T.ctypes.data,
      ctypes.byref(ctypes.c_int(T.shape[0])), x.ctypes.data, ctypes.byref(ctypes.c_int(1)))
    return x


# Thread limits are shared plumbing; re-exported for the control modules that import them from here.
from physfact.threads import SMALL_DENSE, blas_threads_for, single_blas_thread  # noqa: E402,F401
