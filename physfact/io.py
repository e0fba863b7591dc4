"""Files physfact writes and reads back.

Writing never loses what a user had
-----------------------------------
Every write goes to a temporary file beside the target and is renamed over it only when complete
(``os.replace`` is atomic on POSIX and Windows), so a crash, a full disk or a ``kill`` leaves the old
file intact and no temporary behind (the command line turns SIGTERM into a clean exit, which runs the
clean-up). The new file gets the mode a plain ``open(path, "w")`` would give it: ``0o666 & ~umask``
for a new file, the old file's permission bits when it replaces one. A target that is a symbolic link
stays a link: the file it points to is replaced. A full disk raises :class:`~physfact.errors.DiskFullError`.

Reading: one reader for everything
----------------------------------
``.npz`` and ``.h5`` files carry ``format_version`` and ``kind``. :func:`load` reads any of them,
refuses a file from a newer physfact, a file cut short or one that is not physfact's, and dispatches on
``kind`` to the owning subpackage's loader through :data:`LOADERS`, a dict ``kind -> "module:callable"``
resolved on first use (so reading a file imports only the subpackage that owns it). The loader is
called with the path and returns the rebuilt object, or a :class:`WithMeta` (the object and the file's
other fields: a reduced model's error bound, Hankel singular values, bases ..., which :func:`load`
hands on as ``Loaded.meta``); kinds without a dedicated loader come back as a :class:`RawFile` (arrays
and attributes). Loaders read through :func:`load_raw` (or :func:`load_npz` / :func:`load_h5`): one
reader checks every header.

To register a new kind, a subpackage that saves with ``save_arrays(path, "mykind", ...)`` adds one
line to :data:`LOADERS`::

    LOADERS["mykind"] = "physfact.sub.module:load_mykind"   # load_mykind(path) -> object
    LOADERS["rom"] = "physfact.control.lti:LTISystem.load"   # a classmethod works too

(an entry in the dict literal below, so that the mapping is known without importing the
subpackage). The loader should call :func:`load_raw` (or :func:`load_npz` / :func:`load_h5`) with
``kind="mykind"``, which check the header and refuse truncated files, and raise
:class:`~physfact.errors.DataFileError` for missing or inconsistent fields.
"""
from __future__ import annotations

import contextlib
import dataclasses
import errno
import importlib
import io
import json
import os
import secrets
import shutil
from pathlib import Path

import numpy as np

from physfact.errors import DataFileError, DiskFullError, InputError

FORMAT_VERSION = 1

#: kind -> "module:callable" (callable(path) -> object). See the module docstring.
LOADERS: dict[str, str] = {
    "double_factorization": "physfact.chem.double_factorization:load_double_factorization",
    "molecular_hamiltonian": "physfact.io:load_raw",
    "three_index_hamiltonian": "physfact.chem.three_index:load_three_index_hamiltonian",
    "bt_rom": "physfact.control.lti:load_system_file",
    "lti_system": "physfact.control.lti:load_system_file",
    "sobt_rom": "physfact.control.second_order:load_second_order_file",
    "second_order_system": "physfact.control.second_order:load_second_order_file",
    "physfact.fem": "physfact.io:load_raw",
    "tt.mps": "physfact.tt.mps_io:load_mps",
    "tt.chain": "physfact.io:load_raw",
    "tt.molecule": "physfact.io:load_raw",
    "lowrank.rank": "physfact.io:load_raw",
    "tt_chain": "physfact.io:load_raw",      # physfact.sweep point files
    "fem_beam": "physfact.io:load_raw",
    "sweep_point": "physfact.io:load_raw",
    "cli.result": "physfact.io:load_raw",
}

#: suffixes of the array formats :func:`save_arrays` writes
ARRAY_SUFFIXES = (".npz", ".h5", ".hdf5")

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# temporaries being written now: the SIGTERM handler of the CLI (and atexit) removes any left over
_PENDING: set[str] = set()


def _umask() -> int:
    # os.umask can only be read by setting it; /proc gives it without the (thread-unsafe) round trip
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def resolve_target(path) -> Path:
    """The file a write to ``path`` replaces: ``path`` itself, or the end of its symlink chain."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_writable(path) -> Path:
    """Refuse, before any work, a target whose directory is missing or read-only, or that is a directory.

    Raises
    ------
    InputError
        Saying what to fix.
    """
    target = resolve_target(path)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError(f"cannot write {path}: it is a directory; give a file name")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path}: directory {directory} is not writable")
    return target


def cleanup_pending() -> None:
    """Remove temporaries of writes still in progress (called on SIGTERM and at exit)."""
    for tmp in list(_PENDING):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _PENDING.discard(tmp)


def _disk_full(exc: BaseException, directory: Path) -> bool:
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return True
    # h5py reports some write failures without errno: judge by what is left on the device
    if isinstance(exc, (OSError, RuntimeError)):
        with contextlib.suppress(OSError):
            return shutil.disk_usage(directory).free < 64 * 1024
    return False


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside the target; on success rename it onto the target, else delete it.

    The target is ``path``, or the file ``path`` links to when it is a symbolic link (the link stays).
    The temporary is created with the final mode (umask, or the replaced file's permissions).

    Raises
    ------
    InputError
        The directory does not exist or is not writable.
    DiskFullError
        The device ran out of space (or quota) during the write; the old file is kept.

    Examples
    --------
    >>> with atomic_path("rom.npz") as tmp:   # doctest: +SKIP
    ...     np.savez(tmp, A=A)
    """
    target = check_writable(path)
    directory = target.parent if str(target.parent) else Path(".")
    mode = 0o666 & ~_umask()
    with contextlib.suppress(OSError):
        mode = target.stat().st_mode & 0o7777
    tmp = None
    try:
        for _ in range(100):
            candidate = directory / f".{target.name}.{secrets.token_hex(4)}.tmp{target.suffix}"
            try:
                # O_EXCL: never follow or reuse someone else's file; 0o666 lets the kernel apply the umask
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            tmp = str(candidate)
            _PENDING.add(tmp)
            os.close(fd)
            break
        else:  # pragma: no cover - 100 collisions of 32 random bits
            raise InputError(f"cannot create a temporary file in {directory}")
        os.chmod(tmp, mode)
        yield Path(tmp)
        os.replace(tmp, target)
        _PENDING.discard(tmp)
        tmp = None
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            _PENDING.discard(tmp)
        if not isinstance(exc, DiskFullError) and _disk_full(exc, directory):
            raise DiskFullError(f"cannot write {path}: no space left on the device of {directory} "
                                f"(the previous file, if any, is unchanged); free some space or write elsewhere"
                                ) from None
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
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if np.iscomplexobj(obj):
            return {"real": to_jsonable(obj.real.tolist()), "imag": to_jsonable(obj.imag.tolist())}
        return to_jsonable(obj.tolist()) if obj.dtype.kind == "f" else obj.tolist()
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None if np.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, Path):
        return str(obj)
    return obj


def save_npz(path, kind: str, **arrays) -> Path:
    """Save arrays to ``path`` (.npz, compressed) atomically with ``format_version`` and ``kind``."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise InputError(f"{path}: an .npz file name must end in .npz")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, format_version=FORMAT_VERSION, kind=kind, **arrays)
    return path


def load_npz(path, kind: str | None = None) -> dict:
    """Load a physfact .npz; check its format version (and ``kind`` if given); refuse a truncated file."""
    path = Path(path)
    out = _load_npz(path)
    _check_header(path, out.pop("format_version", None), out.pop("kind", None), kind)
    return out


def _load_npz(path: Path) -> dict:
    """Every array of an .npz (header included, unchecked); DataFileError for a missing or damaged file."""
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as exc:  # zipfile.BadZipFile, EOFError, zlib.error, ValueError ... from a damaged file
        raise DataFileError(f"{path}: not a readable .npz file, or cut short ({type(exc).__name__}: {exc})") from None


def _check_header(path, version, stored_kind, kind):
    if version is None:
        raise DataFileError(f"{path}: no format_version; was it written by physfact?")
    try:
        version = int(np.asarray(version).item())
    except (TypeError, ValueError):
        raise DataFileError(f"{path}: format_version {version!r} is not an integer") from None
    if version > FORMAT_VERSION:
        raise DataFileError(f"{path}: written by a newer physfact (format_version {version}; this physfact reads "
                            f"up to {FORMAT_VERSION}); upgrade physfact to read it")
    if kind is not None and stored_kind is not None and _text(stored_kind) != kind:
        raise DataFileError(f"{path}: holds a {_text(stored_kind)}, expected a {kind}")


def _text(value) -> str:
    value = np.asarray(value).item() if isinstance(value, (np.ndarray, np.generic)) else value
    return value.decode() if isinstance(value, bytes) else str(value)


def save_h5(path, kind: str, attrs: dict | None = None, **arrays) -> Path:
    """Save arrays (datasets) and scalar ``attrs`` to an HDF5 file atomically."""
    import h5py

    path = Path(path)
    check_writable(path)
    # HDF5 is built in memory and written by plain Python I/O: the HDF5 library, writing to a full
    # disk itself, leaves objects that cannot be closed and crash the interpreter at exit
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as fh:
        fh.attrs["format_version"] = FORMAT_VERSION
        fh.attrs["kind"] = kind
        for k, v in (attrs or {}).items():
            fh.attrs[k] = v
        for k, v in arrays.items():
            fh.create_dataset(k, data=np.asarray(v), compression="gzip" if np.size(v) > 1024 else None)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as out:
            out.write(buffer.getbuffer())
    return path


def load_h5(path, kind: str | None = None) -> tuple[dict, dict]:
    """Load (arrays, attrs) from a physfact HDF5 file; check format version and kind; refuse a truncated file."""
    path = Path(path)
    arrays, attrs = _load_h5(path)
    _check_header(path, attrs.pop("format_version", None), attrs.pop("kind", None), kind)
    return arrays, attrs


def _load_h5(path: Path) -> tuple[dict, dict]:
    """(datasets, attributes) of an HDF5 file (header unchecked); DataFileError for a missing or damaged file."""
    import h5py

    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as fh:
            attrs = {k: _h5_value(v) for k, v in fh.attrs.items()}
            arrays = {k: fh[k][()] for k in fh.keys()}
    except Exception as exc:  # OSError (truncated, not HDF5), KeyError/RuntimeError (damaged objects)
        raise DataFileError(f"{path}: not a readable HDF5 file, or cut short ({type(exc).__name__}: {exc})") from None
    return arrays, attrs


def _h5_value(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


def save_arrays(path, kind: str, attrs: dict | None = None, **arrays) -> Path:
    """Save to .npz or .h5/.hdf5 by the file suffix (attrs stored as 0-d arrays in .npz)."""
    suffix = Path(path).suffix.lower()
    clash = sorted(set(attrs or ()) & set(arrays))
    if clash:
        raise InputError(f"{path}: {', '.join(clash)} given both as an attribute and as an array; rename one")
    if suffix == ".npz":
        extra = {k: np.asarray(v) for k, v in (attrs or {}).items()}
        return save_npz(path, kind, **extra, **arrays)
    if suffix in (".h5", ".hdf5"):
        return save_h5(path, kind, attrs, **arrays)
    raise InputError(f"{path}: unknown output format {suffix!r}; use .npz or .h5")


# --------------------------------------------------------------------------------------- one reader
@dataclasses.dataclass(frozen=True)
class RawFile:
    """What a kind without a dedicated loader reads back as: its arrays and scalar attributes."""

    kind: str
    arrays: dict
    attrs: dict

    def __getitem__(self, name):
        return self.arrays[name] if name in self.arrays else self.attrs[name]


@dataclasses.dataclass(frozen=True)
class WithMeta:
    """What a loader returns for a file that holds more than its object: the object, and the file's
    other fields (``meta``: name -> array or scalar) that :func:`load` passes on as ``Loaded.meta``."""

    obj: object
    meta: dict


@dataclasses.dataclass(frozen=True)
class Loaded:
    """The result of :func:`load`.

    Attributes
    ----------
    kind : str
        What the file records (``"bt_rom"``, ``"double_factorization"``, ...).
    obj : object
        The rebuilt object (an ``LTISystem``, a ``DoubleFactorization`` ...) or a :class:`RawFile`.
    path : Path
    format_version : int
    meta : dict
        The file's fields that ``obj`` does not hold, by name (e.g. a ``bt --out`` reduced model's
        ``error_bound``, ``hsv``, ``V``, ``W``, ``order``, ``method``); empty for most kinds.
    """

    kind: str
    obj: object
    path: Path
    format_version: int
    meta: dict = dataclasses.field(default_factory=dict)


def read_header(path) -> tuple[str | None, int | None]:
    """(kind, format_version) of a physfact .npz/.h5 file, without reading its arrays."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                kind = _text(data["kind"]) if "kind" in data.files else None
                version = data["format_version"] if "format_version" in data.files else None
        elif suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as fh:
                kind = _text(fh.attrs["kind"]) if "kind" in fh.attrs else None
                version = fh.attrs.get("format_version")
        else:
            raise DataFileError(f"{path}: physfact reads .npz, .h5/.hdf5 and .json files, not {suffix or 'no suffix'}")
    except DataFileError:
        raise
    except Exception as exc:
        raise DataFileError(f"{path}: not a readable {suffix} file, or cut short ({type(exc).__name__}: {exc})") from None
    _check_header(path, version, kind, None)
    return kind, int(np.asarray(version).item())


def load_raw(path, kind: str | None = None) -> RawFile:
    """Arrays and scalar attributes of any physfact .npz/.h5 file, read once, header checked.

    The one reader behind every loader (and the fallback of :func:`load`): ``arrays`` holds the
    datasets, ``attrs`` the scalars as Python values (in an .npz they are 0-d arrays; they come back
    the same from both formats), ``kind`` what the file records.

    Parameters
    ----------
    kind : str, optional
        Refuse (DataFileError) a file that records another kind.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        arrays = _load_npz(path)
        header = arrays.pop("format_version", None), arrays.pop("kind", None)
        attrs = {k: _scalar(arrays.pop(k)) for k in [k for k, v in arrays.items() if v.ndim == 0]}
    elif suffix in (".h5", ".hdf5"):
        arrays, attrs = _load_h5(path)
        header = attrs.pop("format_version", None), attrs.pop("kind", None)
    else:
        raise DataFileError(f"{path}: physfact reads .npz, .h5/.hdf5 and .json files, not {suffix or 'no suffix'}")
    _check_header(path, *header, kind)
    return RawFile(None if header[1] is None else _text(header[1]), arrays, attrs)


def _scalar(value):
    """A 0-d array as the Python value an HDF5 attribute reads back as (str, int, float, bool)."""
    value = np.asarray(value).item()
    return value.decode() if isinstance(value, bytes) else value


def _resolve(spec: str):
    """``"package.module:name"`` or ``"package.module:Class.method"`` -> the callable."""
    module, _, name = spec.partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def load(path) -> Loaded:
    """Read back anything physfact writes: the object (rebuilt by its subpackage's loader) and its kind.

    Parameters
    ----------
    path : str or Path
        A ``.npz`` or ``.h5``/``.hdf5`` file written by physfact (``--out``, ``save``), or a ``.json``
        written by ``--out`` (returned as a dict, kind ``"json"`` unless it names one).

    Returns
    -------
    Loaded
        ``kind``, ``obj`` (a ``DoubleFactorization``, an ``LTISystem`` (kinds ``lti_system``, ``bt_rom``),
        a ``SecondOrderSystem`` (``sobt_rom``), an ``MPS`` ... or a :class:`RawFile` for kinds without a
        dedicated loader), ``path``, ``format_version`` and ``meta`` (the file's other fields: a reduced
        model's error bound, Hankel singular values, projection bases, order, method ...).

    Raises
    ------
    DataFileError
        Missing, truncated or damaged file; not physfact's; written by a newer physfact; unknown kind.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise DataFileError(f"{path}: no such file")
        try:
            obj = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataFileError(f"{path}: not valid JSON, or cut short ({exc})") from None
        version = obj.get("format_version", FORMAT_VERSION) if isinstance(obj, dict) else FORMAT_VERSION
        kind = str(obj.get("kind", "json")) if isinstance(obj, dict) else "json"
        _check_header(path, version, kind, None)
        return Loaded(kind, obj, path, int(version))
    kind, version = read_header(path)
    if kind is None:
        raise DataFileError(f"{path}: no kind recorded; was it written by physfact?")
    if kind not in LOADERS:
        raise DataFileError(f"{path}: holds a {kind!r}, which this physfact cannot read "
                            f"(known: {', '.join(sorted(LOADERS))}); upgrade physfact")
    obj = _resolve(LOADERS[kind])(path)
    if isinstance(obj, WithMeta):
        return Loaded(kind, obj.obj, path, version, dict(obj.meta))
    return Loaded(kind, obj, path, version)
