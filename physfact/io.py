"""File output that never loses what a user had: every write goes to a temporary file in the
target directory and is renamed over the target only when complete (``os.replace`` is atomic on
POSIX and Windows). ``.npz`` and ``.h5`` files carry a ``format_version`` so readers can refuse
what they do not understand.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from physfact.errors import DataFileError, InputError

FORMAT_VERSION = 1


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, else delete it.

    Example
    -------
    >>> with atomic_path("rom.npz") as tmp:   # doctest: +SKIP
    ...     np.savez(tmp, A=A)
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=directory)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON atomically (numpy scalars and arrays converted)."""
    return write_text(path, json.dumps(to_jsonable(obj), indent=2) + "\n")


def to_jsonable(obj):
    """Convert numpy types, dataclasses and paths into plain JSON types."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if np.iscomplexobj(obj):
            return {"real": obj.real.tolist(), "imag": obj.imag.tolist()}
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None if np.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, Path):
        return str(obj)
    return obj


def save_npz(path, kind: str, **arrays) -> Path:
    """Save arrays to ``path`` (.npz, compressed) atomically with ``format_version`` and ``kind``."""
    path = Path(path)
    if path.suffix != ".npz":
        raise InputError(f"{path}: an .npz file name must end in .npz")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, format_version=FORMAT_VERSION, kind=kind, **arrays)
    return path


def load_npz(path, kind: str | None = None) -> dict:
    """Load a physfact .npz; check its format version (and ``kind`` if given)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {k: data[k] for k in data.files}
    except Exception as exc:
        raise DataFileError(f"{path}: not a readable .npz file ({exc})") from None
    _check_header(path, out.pop("format_version", None), out.pop("kind", None), kind)
    return out


def _check_header(path, version, stored_kind, kind):
    if version is None:
        raise DataFileError(f"{path}: no format_version; was it written by physfact?")
    if int(version) > FORMAT_VERSION:
        raise DataFileError(f"{path}: format_version {int(version)} is newer than this physfact reads "
                            f"({FORMAT_VERSION}); upgrade physfact")
    if kind is not None and stored_kind is not None and str(stored_kind) != kind:
        raise DataFileError(f"{path}: holds a {stored_kind!s}, expected a {kind}")


def save_h5(path, kind: str, attrs: dict | None = None, **arrays) -> Path:
    """Save arrays (datasets) and scalar ``attrs`` to an HDF5 file atomically."""
    import h5py

    path = Path(path)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as fh:
            fh.attrs["format_version"] = FORMAT_VERSION
            fh.attrs["kind"] = kind
            for k, v in (attrs or {}).items():
                fh.attrs[k] = v
            for k, v in arrays.items():
                fh.create_dataset(k, data=np.asarray(v), compression="gzip" if np.size(v) > 1024 else None)
    return path


def load_h5(path, kind: str | None = None) -> tuple[dict, dict]:
    """Load (arrays, attrs) from a physfact HDF5 file; check format version and kind."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as fh:
            attrs = dict(fh.attrs)
            arrays = {k: fh[k][()] for k in fh.keys()}
    except OSError as exc:
        raise DataFileError(f"{path}: not a readable HDF5 file ({exc})") from None
    _check_header(path, attrs.pop("format_version", None), attrs.pop("kind", None), kind)
    return arrays, attrs


def save_arrays(path, kind: str, attrs: dict | None = None, **arrays) -> Path:
    """Save to .npz or .h5/.hdf5 by the file suffix (attrs stored as 0-d arrays in .npz)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npz":
        extra = {k: np.asarray(v) for k, v in (attrs or {}).items()}
        return save_npz(path, kind, **extra, **arrays)
    if suffix in (".h5", ".hdf5"):
        return save_h5(path, kind, attrs, **arrays)
    raise InputError(f"{path}: unknown output format {suffix!r}; use .npz or .h5")
