"""Input checks shared by every subpackage: one place that turns bad input into :class:`InputError`."""
from __future__ import annotations

import numpy as np

from physfact.errors import InputError


def as_array(x, name: str, ndim=None, dtype=float, allow_empty: bool = False, allow_complex: bool = False):
    """Return ``x`` as a finite numpy array, or raise :class:`InputError` saying what is wrong.

    Parameters
    ----------
    x : array_like
        The input.
    name : str
        Its name in messages (``"A"``, ``"two_body"`` ...).
    ndim : int or tuple of int, optional
        Allowed number of dimensions.
    dtype : numpy dtype
        Real dtype to convert to; complex input is kept complex only if ``allow_complex``.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise InputError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype == object:
        raise InputError(f"{name} must be a numeric array, got objects (ragged nesting?)")
    if np.iscomplexobj(arr):
        if not allow_complex:
            if np.any(arr.imag != 0):
                raise InputError(f"{name} must be real; it has non-zero imaginary parts")
            arr = arr.real
        else:
            dtype = np.result_type(dtype, np.complex128)
    try:
        arr = arr.astype(dtype, copy=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if np.isscalar(ndim) else tuple(ndim)
        if arr.ndim not in allowed:
            raise InputError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise InputError(f"{name} is empty (shape {arr.shape}); give at least one entry")
    # one pass without a boolean temporary: a NaN/inf anywhere makes the sum non-finite; the
    # elementwise test runs only then (it also clears a sum that merely overflowed)
    with np.errstate(over="ignore", invalid="ignore"):
        suspicious = arr.size and not np.isfinite(arr.sum())
    if suspicious and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InputError(f"{name} has {bad} non-finite entries (NaN or inf); clean the input first")
    return arr


def as_matrix(x, name: str, square: bool = False, sparse_ok: bool = True, allow_complex: bool = False):
    """Return a 2-D finite matrix (dense ndarray, or CSR/CSC sparse if ``sparse_ok``)."""
    import scipy.sparse as sp  # lazy: keeps ``import physfact.chem`` light

    if sp.issparse(x):
        if not sparse_ok:
            x = x.toarray()
        else:
            m = x.tocsr() if x.format not in ("csr", "csc") else x
            if m.ndim != 2:
                raise InputError(f"{name} must be 2-D, got shape {m.shape}")
            if 0 in m.shape:
                raise InputError(f"{name} is empty (shape {m.shape})")
            if not np.all(np.isfinite(m.data)):
                raise InputError(f"{name} has non-finite entries (NaN or inf); clean the input first")
            if np.iscomplexobj(m.data) and not allow_complex:
                if np.any(m.data.imag != 0):
                    raise InputError(f"{name} must be real; it has non-zero imaginary parts")
                m = m.real
            m = m.astype(np.result_type(m.dtype, float), copy=False)
            if square and m.shape[0] != m.shape[1]:
                raise InputError(f"{name} must be square, got shape {m.shape}")
            return m
    arr = as_array(x, name, ndim=2, allow_complex=allow_complex)
    if square and arr.shape[0] != arr.shape[1]:
        raise InputError(f"{name} must be square, got shape {arr.shape}")
    return arr


def check_positive(value, name: str, allow_zero: bool = False, allow_none: bool = True):
    """Check a scalar option is a finite positive number (or None); return it as float."""
    if value is None:
        if allow_none:
            return None
        raise InputError(f"{name} must be given")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = "non-negative" if allow_zero else "positive"
        raise InputError(f"{name} must be a finite {need} number, got {value!r}")
    return v


def check_int(value, name: str, minimum: int = 0, allow_none: bool = True):
    """Check an integer option is >= ``minimum`` (or None); return it as int."""
    if value is None:
        if allow_none:
            return None
        raise InputError(f"{name} must be given")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InputError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
          "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}


def parse_bytes(text) -> int:
    """Parse a memory size such as ``"64G"``, ``"512MiB"`` or ``"1e9"`` (bytes) into bytes."""
    import re

    m = re.fullmatch(r"\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*", str(text))
    unit = m.group(2).upper() if m else None
    try:
        value = float(m.group(1)) if m else float("nan")
    except ValueError:
        value = float("nan")
    if m is None or unit not in _UNITS or not np.isfinite(value) or value <= 0:
        raise InputError(f"memory size {text!r} not understood; write e.g. 64G, 512M or 1e9")
    return int(value * _UNITS[unit])


def format_bytes(nbytes: float) -> str:
    """``1.5e9`` -> ``'1.4 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(nbytes) < 1024 or unit == "PiB":
            return f"{nbytes:.3g} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1024
    return f"{nbytes:.3g} EiB"


def memory_limit() -> int:
    """Bytes a single request may use: ``PHYSFACT_MAX_MEMORY`` if set, else the memory available now
    (``MemAvailable`` on Linux, physical memory elsewhere)."""
    import os

    env = os.environ.get("PHYSFACT_MAX_MEMORY")
    if env:
        return parse_bytes(env)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2**63 - 1


def check_memory(nbytes: float, what: str, hint: str = "") -> None:
    """Refuse a request whose estimated memory ``nbytes`` exceeds :func:`memory_limit`, before allocating.

    Raises
    ------
    ResourceError
        With the estimate, the limit, ``hint`` (what to change) and how to override the limit.
    """
    from physfact.errors import ResourceError

    limit = memory_limit()
    if not np.isfinite(nbytes) or nbytes > limit:
        est = format_bytes(nbytes) if np.isfinite(nbytes) else "an unbounded amount"
        raise ResourceError(
            f"{what} needs about {est} of memory but {format_bytes(limit)} is available"
            + (f"; {hint}" if hint else "")
            + " (on a bigger machine set PHYSFACT_MAX_MEMORY=SIZE or pass --max-memory SIZE to go on)")


def as_generator(seed, name: str = "seed"):
    """``numpy.random.Generator`` from ``seed`` (None, a non-negative int, or a Generator), or
    :class:`InputError` saying what a seed may be (numpy's own TypeError/ValueError otherwise leak)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise InputError(f"{name} must be None, a non-negative integer or a numpy.random.Generator, got {seed!r}")
    return np.random.default_rng(seed)


#: figure formats the CLI's --plot writes
PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".svgz", ".eps", ".ps", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".pgf")


def check_out_path(path, suffixes=(".npz", ".h5", ".hdf5", ".json")):
    """Refuse an output file name before any computation: a suffix not in ``suffixes`` or a
    directory that does not exist. Returns the path as a ``pathlib.Path``."""
    from pathlib import Path

    from physfact.io import check_writable

    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise InputError(f"{p}: unknown output format {p.suffix or '(no suffix)'!r}; use one of {', '.join(suffixes)}")
    check_writable(p)
    return p


def check_finite(value, name: str) -> float:
    """A scalar model parameter (a field, a coupling) as a finite float, or :class:`InputError`."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a finite number, got {value!r}") from None
    if not np.isfinite(v):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return v
