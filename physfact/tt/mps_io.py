"""MPS files and the MPS objects of quimb and TeNPy.

File format (``.npz`` or ``.h5``, written atomically by :func:`physfact.io.save_arrays` with
``format_version`` and ``kind``): arrays ``core_0000`` ... (core k of shape (r_{k-1}, n_k, r_k)),
``dims`` (n_k), ``discarded`` (per bond), and the scalars ``n_sites``, ``order`` ("C"/"F") and
``center`` (-1: none). Commands may store other results beside them (``physfact tt chain --out``);
:func:`load_mps` reads the cores of any such file and checks that they make one consistent train.

Peers (optional imports, inside the functions): quimb's ``MatrixProductState`` (site 0 is the most
significant index of ``to_dense``, as in our C order) and TeNPy's ``networks.mps.MPS`` (legs
``p, vL, vR``; a normalized state with its norm kept in ``.norm``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from physfact.errors import DataFileError, InputError
from physfact.validation import check_out_path

MPS_KIND = "tt.mps"
#: kinds whose files carry MPS cores
KINDS_WITH_CORES = (MPS_KIND, "tt.chain", "tt.molecule")
MPS_SUFFIXES = (".npz", ".h5", ".hdf5")


def mps_arrays(mps) -> tuple[dict, dict]:
    """(arrays, attrs) that describe ``mps`` in the file format above."""
    arrays = {f"core_{k:04d}": np.asarray(c) for k, c in enumerate(mps.cores)}
    arrays["dims"] = np.asarray(mps.dims, dtype=np.int64)
    arrays["discarded"] = np.asarray(mps.discarded, dtype=float)
    attrs = {"n_sites": int(mps.n_sites), "order": mps.order, "center": -1 if mps.center is None else int(mps.center)}
    return arrays, attrs


def save_mps(mps, path, kind: str = MPS_KIND, extra: dict | None = None, extra_attrs: dict | None = None) -> Path:
    """Write ``mps`` (and optional ``extra`` arrays / scalar ``extra_attrs``) to ``path`` (.npz or .h5)."""
    from physfact.io import save_arrays

    path = check_out_path(path, MPS_SUFFIXES)
    arrays, attrs = mps_arrays(mps)
    clash = (set(arrays) | set(attrs)) & (set(extra or {}) | set(extra_attrs or {}))
    if clash:
        raise InputError(f"extra fields {sorted(clash)} would overwrite the MPS's own fields")
    attrs.update(extra_attrs or {})
    return save_arrays(path, kind, attrs=attrs, **(extra or {}), **arrays)


def load_mps(path, cls=None):
    """Read an MPS written by :func:`save_mps` (or by ``physfact tt chain/molecule --out``).

    Raises
    ------
    DataFileError
        The file is missing, unreadable, cut short, from a newer physfact, holds no MPS, or its
        cores are inconsistent (shapes that do not chain, dims that disagree, NaN/inf).
    """
    from physfact.io import load_raw
    from physfact.tt.mps import MPS

    cls = MPS if cls is None else cls
    if Path(path).suffix.lower() not in MPS_SUFFIXES:
        raise DataFileError(f"{path}: an MPS file ends in .npz or .h5, got {Path(path).suffix!r}")
    raw = load_raw(path)  # the one reader of physfact files: header checked, cut-short files refused
    fields, kind = {**raw.attrs, **raw.arrays}, raw.kind
    if kind not in KINDS_WITH_CORES:
        raise DataFileError(f"{path}: holds a {kind or 'file without a kind'}, not an MPS "
                            f"(kinds with MPS cores: {', '.join(KINDS_WITH_CORES)})")
    try:
        n = int(np.asarray(fields["n_sites"]))
        dims = tuple(int(v) for v in np.asarray(fields["dims"]).ravel())
        order = str(np.asarray(fields["order"]))
        center = int(np.asarray(fields["center"]))
        discarded = np.asarray(fields["discarded"], dtype=float)
    except KeyError as exc:
        raise DataFileError(f"{path}: field {exc.args[0]!r} is missing; the file is cut short or not an MPS file") from None
    except (TypeError, ValueError) as exc:
        raise DataFileError(f"{path}: malformed MPS header ({exc})") from None
    names = sorted(k for k in fields if k.startswith("core_"))
    if n < 1 or names != [f"core_{k:04d}" for k in range(n)]:
        raise DataFileError(f"{path}: expected {n} cores core_0000 .. but found {len(names)}; the file is cut short "
                            "or inconsistent")
    cores = [np.asarray(fields[k]) for k in names]
    if len(dims) != n or any(c.ndim != 3 or c.shape[1] != d for c, d in zip(cores, dims)):
        raise DataFileError(f"{path}: core shapes {[c.shape for c in cores]} do not match dims {dims}")
    if any(not np.all(np.isfinite(c)) for c in cores) or not np.all(np.isfinite(discarded)):
        raise DataFileError(f"{path}: the MPS holds NaN or inf entries")
    try:
        return cls(cores, order=order, discarded=discarded, center=None if center < 0 else center)
    except InputError as exc:
        raise DataFileError(f"{path}: inconsistent MPS ({exc})") from None


# ------------------------------------------------------------------------------------------ peers
def to_quimb(mps):
    """The state as a ``quimb.tensor.MatrixProductState`` (open boundaries, same site order)."""
    try:
        import quimb.tensor as qtn
    except ImportError:
        raise ImportError("to_quimb needs quimb (pip install quimb, or the [bench] extra)") from None
    if mps.n_sites < 2:
        raise InputError("quimb's MatrixProductState needs at least 2 sites")
    if mps.order != "C":
        raise InputError("quimb orders sites C-style (site 0 most significant); convert an order='F' MPS "
                         "with MPS.from_statevector(psi, order='C') first")
    cores = mps.cores
    arrays = [np.array(cores[0][0])] + [np.array(c) for c in cores[1:-1]] + [np.array(cores[-1][:, :, 0])]
    return qtn.MatrixProductState(arrays, shape="lpr")


def from_quimb(qmps, cls=None):
    """An :class:`~physfact.tt.MPS` from a quimb ``MatrixProductState`` (open boundaries)."""
    from physfact.tt.mps import MPS

    cls = MPS if cls is None else cls
    L = getattr(qmps, "L", None)
    if L is None or not hasattr(qmps, "site_ind"):
        raise InputError(f"expected a quimb MatrixProductState, got {type(qmps).__name__}")
    if getattr(qmps, "cyclic", False):
        raise InputError("a periodic (cyclic) quimb MPS has no open-boundary tensor train; open it first")
    cores = []
    for i in range(L):
        t = qmps[qmps.site_tag(i)]
        left = qmps.bond(i - 1, i) if i > 0 else None
        right = qmps.bond(i, i + 1) if i < L - 1 else None
        inds = [x for x in (left, qmps.site_ind(i), right) if x is not None]
        data = np.asarray(t.transpose(*inds).data)
        if left is None:
            data = data[None]
        if right is None:
            data = data[..., None]
        cores.append(data)
    return cls(cores)


def to_tenpy(mps, sites=None):
    """The state as a TeNPy ``MPS`` (finite boundary conditions); its ``norm`` holds our norm.

    Parameters
    ----------
    sites : list of tenpy Site, optional
        Default: a charge-free site of dimension n_k per site.
    """
    try:
        from tenpy.linalg import np_conserved as npc
        from tenpy.networks.mps import MPS as TenpyMPS
        from tenpy.networks.site import Site
    except ImportError:
        raise ImportError("to_tenpy needs physics-tenpy (pip install physics-tenpy, or the [bench] extra)") from None
    if mps.order != "C":
        raise InputError("TeNPy orders sites C-style (site 0 first); use an order='C' MPS")
    norm = mps.norm()
    if norm == 0:
        raise InputError("the zero state cannot be given to TeNPy (its MPS is normalized)")
    if sites is None:
        sites = [Site(npc.LegCharge.from_trivial(n)) for n in mps.dims]
    if len(sites) != mps.n_sites:
        raise InputError(f"need one TeNPy site per MPS site ({mps.n_sites}), got {len(sites)}")
    c = mps.normalized().canonicalize(0)  # right-canonical: TeNPy's 'B' form after the first site
    Bflat = [np.asarray(core).transpose(1, 0, 2) for core in c.cores]  # legs p, vL, vR
    kw = {"unit_cell_width": len(sites)}  # a chain; newer TeNPy asks for it explicitly
    try:
        out = TenpyMPS.from_Bflat(sites, Bflat, SVs=None, bc="finite", form=None, **kw)
    except TypeError:  # TeNPy before unit_cell_width
        out = TenpyMPS.from_Bflat(sites, Bflat, SVs=None, bc="finite", form=None)
    out.norm = norm
    return out
