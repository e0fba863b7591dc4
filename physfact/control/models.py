"""Benchmark LTI models: built-in generators and readers for .mat and Matrix Market files.

Built-in names (``load(name)``):

``fom``
    Penzl's FOM, n = 1006 (Penzl, "Algorithms for model reduction of large dynamical systems",
    Linear Algebra Appl. 415 (2006) 322): A = blkdiag(A1, A2, A3, -diag(1..1000)) with
    A_k = [[-1, w_k], [-w_k, -1]], w = 100, 200, 400; B = [10,...,10 (6), 1,...,1 (1000)]^T, C = B^T.
``heat1d`` (``heat1d(n)``)
    1-D heat equation u_t = u_xx on (0, 1), u = 0 at both ends, central differences on n interior
    nodes (h = 1/(n+1)); input: heat source at the node nearest x = 1/3, output: temperature at
    the node nearest x = 2/3.
``msd`` (``msd(n_masses)``)
    Chain of unit masses, springs k = 1 and dampers c = 0.1 between neighbours and to the wall at
    the left end; force on the last mass, output its velocity (a passive, collocated system). First-order
    form x = [q; q'], E = blkdiag(I, M), A = [[0, I], [-K, -Dd]], n = 2 n_masses.
``heat2d`` (``heat2d(nx)``)
    2-D heat equation on the unit square (scikit-fem, P1 triangles on an nx x nx grid), u = 0 on
    the boundary: M u' = -K u + b u_in, y = mean temperature over [0.6, 0.9]^2; the input is a
    total heat power u_in spread uniformly over [0.1, 0.4]^2. n = (nx - 1)^2 (nx = 258 gives n = 66049).
``rlcladder`` (``rlc_ladder(n_sections)``)
    A semi-explicit index-1 DAE: an RLC ladder network in modified nodal analysis (MNA) form (Ho,
    Ruehli & Brennan, IEEE Trans. Circuits Syst. 22 (1975) 504), the RCL ladder of Freund's
    structure-preserving reduction benchmarks (R. W. Freund, "Structure-preserving model order
    reduction of RCL circuit equations", in Model Order Reduction: Theory, Research Aspects and
    Applications, Springer 2008, 49) driven by a current source instead of a voltage source, so the
    index is 1 (Reis & Stykel, IEEE TCAD 29 (2010) 1354: the index of an MNA circuit). Section k:
    node a_k with a capacitor C to ground, an inductor L from a_k to node b_k, a resistor R from b_k
    to node c_k and another from c_k to a_{k+1}; b_k and c_k have leak resistors Rg to ground and no
    capacitor, so their KCL rows are algebraic (zero rows and columns of E). States per section
    [v_a, i_L, v_b, v_c] (interleaved: the algebraic rows are scattered), n = 4 n_sections; input
    the current injected at b_0, output the voltage there (the input impedance, m = p = 1,
    G(infinity) = Rg || (R + Rg || R) != 0). Lightly damped resonances near 1/sqrt(L C) = 1 rad/s.
``build``, ``cdplayer``, ``heat-cont``, ``rail_371``, ``rail_1357``, ``rail_5177``, ``rail_20209``, ``lf10``
    The SLICOT / MORwiki benchmark files, read from ``../shared/data/control`` when present
    (or ``$PHYSFACT_SHARED_DATA/control``).

File readers (``load(path)``):

``.mat``
    MATLAB files with A, B, C (and optionally D, E), or a second-order model M, D, K, B, C
    (M q'' + D q' + K q = B u, y = C q): ``load`` returns a ``SecondOrderSystem``, ``load_mat`` its
    first-order form x = [q; q'] with
    E = blkdiag(I, M), A = [[0, I], [-K, -D]], B = [0; B], C = [C, 0]. Integer-typed arrays (the
    rail files store C as int16) are cast to float.
``.npz`` / ``.h5``
    a system written by :meth:`LTISystem.save` or a reduced model written by ``physfact bt --out``.
``.mtx`` (Matrix Market)
    either a *base path* ``path/rail_1357`` (or ``path/rail_1357.A.mtx``) with sibling files
    ``<base>.A.mtx``, ``<base>.B.mtx``, ``<base>.C.mtx`` and optionally ``<base>.E.mtx``,
    ``<base>.D.mtx`` (the ``_A``/``_B`` underscore spelling is accepted too), or a *directory*
    holding ``A.mtx``, ``B.mtx``, ``C.mtx`` [, ``E.mtx``, ``D.mtx``]. In MORwiki's convention
    ``<base>.C.mtx`` may hold C^T (n x p); it is transposed when its shape says so.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from physfact.control.lti import LTISystem
from physfact.errors import DataFileError, InputError, UnknownNameError
from physfact.validation import check_int, check_memory, check_positive

DATA_FILES = {"build": "build.mat", "cdplayer": "CDplayer.mat", "heat-cont": "heat-cont.mat",
              "rail_371": "rail_371.mat", "rail_1357": "rail_1357.mat", "rail_5177": "rail_5177.mat",
              "rail_20209": "rail_20209.mat", "lf10": "LF10.mat"}
BUILTIN = ("fom", "heat1d", "msd", "heat2d", "rlcladder")


def known_names():
    return list(BUILTIN) + list(DATA_FILES)


def shared_data_dir() -> Path:
    env = os.environ.get("PHYSFACT_SHARED_DATA")
    if env:
        return Path(env) / "control"
    root = Path(__file__).resolve().parents[2]
    return root.parent / "shared" / "data" / "control"


def fom() -> LTISystem:
    """Penzl's FOM (n = 1006, m = p = 1); see the module docstring."""
    blocks = [np.array([[-1.0, w], [-w, -1.0]]) for w in (100.0, 200.0, 400.0)]
    A = sp.block_diag(blocks + [sp.diags(-np.arange(1.0, 1001.0))], format="csr")
    b = np.concatenate([10.0 * np.ones(6), np.ones(1000)])
    return LTISystem(A, b[:, None], b[None, :])


def heat1d(n: int = 100) -> LTISystem:
    """1-D heat equation with n interior nodes (sparse, m = p = 1); see the module docstring."""
    n = check_int(n, "n", minimum=2)
    check_memory(60.0 * n, f"heat1d with n = {n}", "choose a smaller n")  # 3 diagonals in CSR + temporaries
    h = 1.0 / (n + 1)
    A = sp.diags([np.ones(n - 1), -2.0 * np.ones(n), np.ones(n - 1)], [-1, 0, 1], format="csr") / h**2
    B = np.zeros((n, 1))
    C = np.zeros((1, n))
    B[int(round((n + 1) / 3.0)) - 1, 0] = 1.0 / h  # a point source of unit strength
    C[0, int(round(2.0 * (n + 1) / 3.0)) - 1] = 1.0
    return LTISystem(A, B, C)


def msd(n_masses: int = 50, mass: float = 1.0, stiffness: float = 1.0, damping: float = 0.1) -> LTISystem:
    """Mass-spring-damper chain (n = 2 n_masses, m = p = 1, E = blkdiag(I, M)); see the module docstring."""
    k = check_int(n_masses, "n_masses", minimum=1)
    check_memory(200.0 * k, f"msd with {k} masses", "choose fewer masses")  # A, E in CSR + temporaries
    for value, name in ((mass, "mass"), (stiffness, "stiffness"), (damping, "damping")):
        check_positive(value, name, allow_zero=(name == "damping"), allow_none=False)
    # K: springs between neighbours and from mass 0 to the wall
    main = 2.0 * np.ones(k)
    main[-1] = 1.0
    T = sp.diags([-np.ones(k - 1), main, -np.ones(k - 1)], [-1, 0, 1], format="csr")
    K, Dd, M = stiffness * T, damping * T, mass * sp.eye(k, format="csr")
    Z, Id = sp.csr_matrix((k, k)), sp.eye(k, format="csr")
    A = sp.bmat([[Z, Id], [-K, -Dd]], format="csr")
    E = sp.block_diag([Id, M], format="csr")
    B = np.zeros((2 * k, 1))
    B[-1, 0] = 1.0
    C = B.T.copy()
    return LTISystem(A, B, C, E=E)


def rlc_ladder(n_sections: int = 100, R: float = 0.1, L: float = 1.0, C: float = 1.0, Rg: float = 10.0) -> LTISystem:
    """RLC ladder in MNA form, a semi-explicit index-1 DAE (n = 4 n_sections, sparse E with zero rows
    and columns at the resistive nodes); see the module docstring. Units: ohm, henry, farad; states
    in volts and amperes, time in seconds."""
    K = check_int(n_sections, "n_sections", minimum=1)
    check_memory(400.0 * K, f"rlcladder with {K} sections", "choose fewer sections")  # A, E in COO/CSR
    for value, name in ((R, "R"), (L, "L"), (C, "C"), (Rg, "Rg")):
        check_positive(value, name, allow_none=False)
    n = 4 * K
    va, il, vb, vc = (4 * np.arange(K) + j for j in range(4))
    rows, cols, vals = [], [], []

    def add(i, j, v):
        rows.append(np.atleast_1d(i))
        cols.append(np.atleast_1d(j))
        vals.append(np.broadcast_to(np.asarray(v, dtype=float), np.atleast_1d(i).shape))

    def conductance(p, q, g):  # a resistor 1/g between node rows/columns p and q (KCL: sum of currents in)
        add(p, p, -g)
        add(q, q, -g)
        add(p, q, g)
        add(q, p, g)

    add(va, il, -1.0)  # the inductor current leaves a_k ...
    add(vb, il, 1.0)  # ... and enters b_k
    add(il, va, 1.0)  # L i_L' = v_a - v_b
    add(il, vb, -1.0)
    conductance(vb, vc, 1.0 / R)
    conductance(vc[:-1], va[1:], 1.0 / R)
    add(vc[-1], vc[-1], -1.0 / R)  # the last resistor goes to ground
    add(vb, vb, -1.0 / Rg)
    add(vc, vc, -1.0 / Rg)
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    e = np.zeros(n)
    e[va], e[il] = C, L
    E = sp.diags(e, format="csr")
    E.eliminate_zeros()
    B = np.zeros((n, 1))
    B[vb[0], 0] = 1.0
    return LTISystem(A, B, B.T.copy(), E=E)


def heat2d(nx: int = 40) -> LTISystem:
    """2-D heat equation on the unit square with scikit-fem (n = (nx-1)^2, sparse E = M, A = -K)."""
    nx = check_int(nx, "nx", minimum=3)
    # scikit-fem: mesh, basis (quadrature data per element) and K, M: measured ~3 KiB per node
    check_memory(3072.0 * (nx + 1) ** 2, f"heat2d with nx = {nx}", "choose a smaller nx")
    import skfem
    from skfem.helpers import dot, grad

    mesh = skfem.MeshTri.init_tensor(np.linspace(0, 1, nx + 1), np.linspace(0, 1, nx + 1))
    basis = skfem.Basis(mesh, skfem.ElementTriP1())

    @skfem.BilinearForm
    def stiffness(u, v, w):
        return dot(grad(u), grad(v))

    @skfem.BilinearForm
    def mass(u, v, w):
        return u * v

    def box(lo, hi):
        @skfem.LinearForm
        def indicator(v, w):
            x, y = w.x
            inside = (x >= lo) & (x <= hi) & (y >= lo) & (y <= hi)
            return inside * v
        return indicator

    K = stiffness.assemble(basis)
    M = mass.assemble(basis)
    # both squares normalized by their assembled area: the input is a total heat power of 1
    # spread uniformly over [0.1, 0.4]^2, the output the mean temperature over [0.6, 0.9]^2
    b = box(0.1, 0.4).assemble(basis)
    b = b / b.sum()
    c = box(0.6, 0.9).assemble(basis)
    c = c / c.sum()
    interior = basis.complement_dofs(basis.get_dofs())
    K = K[interior][:, interior].tocsr()
    M = M[interior][:, interior].tocsr()
    return LTISystem(-K, b[interior][:, None], c[interior][None, :], E=M)


def _num(x, name, path):
    if x is None:
        return None
    vals = x.data if sp.issparse(x) else np.asarray(x)
    if vals.dtype.kind == "c":  # refuse rather than drop the imaginary part
        if np.any(vals.imag != 0):
            raise DataFileError(f"{path}: {name} is complex with non-zero imaginary parts; physfact's LTI "
                                "systems are real (split a complex model into real and imaginary parts)")
        x = x.real
    if sp.issparse(x):
        x = x.astype(float)
        if not np.all(np.isfinite(x.data)):
            raise DataFileError(f"{path}: {name} has non-finite entries (NaN or inf)")
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise DataFileError(f"{path}: {name} is not numeric (dtype {arr.dtype})")
    return arr.astype(float)


def from_arrays(path, A=None, B=None, C=None, D=None, E=None, M=None, K=None, Dd=None, structured=False):
    """Build a system from arrays read from ``path`` (first- or second-order). A second-order model
    (M, K[, Dd], B, C) becomes a :class:`SecondOrderSystem` with ``structured=True``, otherwise its
    first-order realization."""
    if A is None and M is not None and K is not None:
        from physfact.control.second_order import SecondOrderSystem

        n = M.shape[0]
        Bd = B.toarray() if sp.issparse(B) else np.asarray(B)
        Cd = C.toarray() if sp.issparse(C) else np.asarray(C)
        if Bd.shape[0] != n and Bd.shape[1] == n:
            Bd = Bd.T
        if Cd.shape[1] != n and Cd.shape[0] == n:
            Cd = Cd.T
        sos = SecondOrderSystem(sp.csr_matrix(M), sp.csr_matrix((n, n)) if Dd is None else sp.csr_matrix(Dd),
                                sp.csr_matrix(K), Bd, Cd)
        return sos if structured else sos.to_first_order()
    if A is None or B is None or C is None:
        raise DataFileError(f"{path}: needs matrices A, B, C (first order) or M, K, B, C (second order)")
    n = A.shape[0]
    Bd = B.toarray() if sp.issparse(B) else np.asarray(B)
    Cd = C.toarray() if sp.issparse(C) else np.asarray(C)
    if Cd.ndim == 2 and Cd.shape[1] != n and Cd.shape[0] == n:
        Cd = Cd.T  # stored as C^T
    if Bd.ndim == 2 and Bd.shape[0] != n and Bd.shape[1] == n:
        Bd = Bd.T
    Dm = None if D is None else (D.toarray() if sp.issparse(D) else D)
    return LTISystem(A, Bd, Cd, Dm, E)


def load_mat(path, structured: bool = False) -> LTISystem:
    """Read a MATLAB .mat model (see the module docstring); a second-order one as a
    :class:`~physfact.control.second_order.SecondOrderSystem` when ``structured``."""
    import scipy.io

    path = Path(path)
    try:
        data = scipy.io.loadmat(path)
    except Exception as exc:
        raise DataFileError(f"{path}: not a readable MATLAB file ({exc})") from None
    get = {k: _num(v, k, path) for k, v in data.items() if not k.startswith("__")}
    if "A" in get:
        return from_arrays(path, A=get["A"], B=get.get("B"), C=get.get("C"), D=get.get("D"), E=get.get("E"))
    if "M" in get and "K" in get:
        return from_arrays(path, M=get["M"], K=get["K"], Dd=get.get("D"), B=get.get("B"), C=get.get("C"),
                           structured=structured)
    raise DataFileError(f"{path}: holds {sorted(get)}; expected A, B, C[, D, E] or M, D, K, B, C")


def load_mtx(path) -> LTISystem:
    """Read a Matrix Market model: a base path or a directory (see the module docstring)."""
    import scipy.io

    path = Path(path)
    if path.is_dir():
        cands = {k: path / f"{k}.mtx" for k in "ABCDE"}
    else:
        base = str(path)
        for suf in (".mtx",):
            if base.endswith(suf):
                base = base[: -len(suf)]
        for key in (".A", "_A"):
            if base.endswith(key):
                base = base[: -len(key)]
        cands = {}
        for k in "ABCDE":
            for sep in (".", "_"):
                f = Path(f"{base}{sep}{k}.mtx")
                if f.is_file():
                    cands[k] = f
                    break
    mats = {}
    for k, f in cands.items():
        if f.is_file():
            try:
                mats[k] = scipy.io.mmread(f)
            except Exception as exc:
                raise DataFileError(f"{f}: not a readable Matrix Market file ({exc})") from None
    missing = [k for k in "ABC" if k not in mats]
    if missing:
        raise DataFileError(f"{path}: Matrix Market model needs files for {missing} (looked for "
                            f"<base>.A.mtx ... or a directory with A.mtx, B.mtx, C.mtx)")
    mats = {k: _num(v, k, path) for k, v in mats.items()}
    return from_arrays(path, **mats)


def load(name_or_path, **kwargs) -> LTISystem:
    """A model by built-in name (``fom``, ``heat1d``, ``msd``, ``heat2d``, benchmark data names) or
    from a file (.mat, .mtx / Matrix Market base path or directory).

    Second-order files (M, D, K, B, C: LF10) give a
    :class:`~physfact.control.second_order.SecondOrderSystem` (``.to_first_order()`` for the
    LTISystem). ``kwargs`` go to the generator (``load("heat1d", n=500)``). Names may carry a size:
    ``"heat1d:500"``, ``"msd:100"``, ``"heat2d:60"``, ``"rlcladder:2500"`` (sections; n = 4 x that).
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise InputError(f"model must be a name or a path, got {type(name_or_path).__name__}")
    s = str(name_or_path)
    key, _, size = s.lower().partition(":")
    gens = {"fom": fom, "heat1d": heat1d, "msd": msd, "heat2d": heat2d, "rlcladder": rlc_ladder}
    if key in gens:
        if size:
            try:
                kwargs = {**kwargs, {"heat1d": "n", "msd": "n_masses", "heat2d": "nx", "rlcladder": "n_sections"}[key]: int(size)}
            except (KeyError, ValueError):
                raise InputError(f"bad size in model name {s!r} (e.g. 'heat1d:500')") from None
        return gens[key](**kwargs)
    if key in DATA_FILES:
        f = shared_data_dir() / DATA_FILES[key]
        if not f.is_file():
            raise DataFileError(f"benchmark file {f} not found; pass the path to {DATA_FILES[key]} instead")
        return load_mat(f, structured=True)
    p = Path(s)
    if p.suffix.lower() in (".npz", ".h5", ".hdf5"):  # a system physfact wrote (save, bt --out)
        from physfact.control.second_order import SecondOrderSystem
        from physfact.io import read_header

        kind, _ = read_header(p)  # DataFileError for a missing or damaged file
        if kind in SecondOrderSystem.READABLE_KINDS:
            return SecondOrderSystem.load(p)
        return LTISystem.load(p)
    if p.suffix.lower() == ".mat":
        if not p.is_file():
            raise DataFileError(f"{p}: no such file")
        return load_mat(p, structured=True)
    if p.suffix.lower() == ".mtx" or p.is_dir() or Path(s + ".A.mtx").is_file() or Path(s + "_A.mtx").is_file():
        return load_mtx(p)
    if p.exists():
        raise DataFileError(f"{p}: unknown model file type {p.suffix!r}; use .mat or Matrix Market (.mtx)")
    raise UnknownNameError(f"unknown model {s!r}; known names: {', '.join(known_names())}, or a path to a "
                           ".mat / .mtx file")
