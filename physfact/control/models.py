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
``stokes`` (``stokes(nx, ny=nx, inputs=5, outputs=5)``)
    Semi-discretized Stokes flow on the unit square, an index-2 DAE with singular E (M-M.E.S.S.'s
    ``stokes_ind2``; Schmidt 2007; see :func:`stokes`): E = blkdiag(I, 0), A = [[A11, G], [G^T, 0]],
    n = (nx - 1) ny + (ny - 1) nx + nx ny - 1 (``stokes:60``: n = 10,679). Reduced by the index-2
    route of :mod:`physfact.control.dae_stokes`.
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
BUILTIN = ("fom", "heat1d", "msd", "heat2d", "rlcladder", "stokes")


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


def _hierarchical_hat(t, index):
    """Basis function ``index`` (1-based) of M-M.E.S.S.'s hierarchical L2 hat basis on [0, 1]
    (``bfnc_mu`` / ``bfnc_nu`` with choice 1): 1 - t, t, then the hats of width 2^-l at level l
    (index - 2 = 2^l + j: support [j, j + 1] 2^-l, peak 1 at its midpoint)."""
    if index == 1:
        return 1.0 - t
    if index == 2:
        return t.copy()
    b = index - 2
    level = b.bit_length() - 1
    u = 2.0**level * t - (b - 2**level)  # the reference hat on [0, 1)
    return np.where((u >= 0) & (u < 0.5), 2.0 * u, np.where((u >= 0.5) & (u < 1), 2.0 - 2.0 * u, 0.0))


def stokes(nx: int = 10, ny: int | None = None, inputs: int = 5, outputs: int = 5) -> LTISystem:
    r"""Semi-discretized 2-D Stokes equation on the unit square: an index-2 DAE (sparse, singular E).

    The benchmark ``stokes_ind2(m, q, nx, ny)`` of M-M.E.S.S. (Saak, Koehler, Benner;
    ``DEMOS/models/stokes/stokes_ind2.m``, written by M. Schmidt and T. Stykel), which discretizes
    the model of M. Schmidt, "Systematic discretization of input/output maps and other contributions
    to the control of distributed parameter systems", PhD thesis, TU Berlin 2007, Sec. 3.3.4 and
    3.7.1; used by Benner, Saak & Uddin, Numer. Algebra Control Optim. 6 (2016) 1 for index-2 BT.
    Rebuilt here from that definition:

    .. math::  egin{bmatrix} I & 0 \ 0 & 0 \end{bmatrix} \dot x =
               egin{bmatrix} A_{11} & G \ G^T & 0 \end{bmatrix} x + egin{bmatrix} B_1 \ 0 \end{bmatrix} u,
               \qquad y = [C_1, 0]\, x,

    x = [v_1; v_2; p] on a staggered (MAC) grid of nx x ny cells (h1 = 1/nx, h2 = 1/ny): v_1 (x-velocity)
    at the (nx - 1) ny interior vertical cell faces (h1 i, h2 (j - 1/2)), v_2 at the nx (ny - 1) interior
    horizontal faces, the pressure p at the nx ny cell centres minus the last one (fixing the constant),
    each ordered with the x index fastest. A11 = blkdiag(D_xx on v_1, D_yy on v_2) (the benchmark's
    second differences, u = 0 on the walls; each velocity component is differenced in its own
    direction only, exactly as in ``stokes_ind2.m``); G = -(discrete gradient) (first differences of p
    onto the faces, / h), so G^T is minus the discrete divergence and A = A^T. G has full column rank:
    index 2, (nx - 1)(ny - 1) finite poles (all real and negative), 2 (nx ny - 1) infinite ones.

    Inputs: force densities 100 mu_k(theta) sin(pi eta) on the control region
    (0.1, 0.9) x (0.1, 0.3) (theta, eta the region's scaled coordinates); odd-numbered inputs act on
    v_1, even-numbered on v_2, with mu the hierarchical hat basis (1 - theta, theta, then hats of
    level 0, 1, ...); mu_k is basis function (k + 1) // 2. Outputs: h1 h2 times
    nu_l(xi) / |region| over the observation region (0.4, 0.6) x (0.4, 0.9) (xi the scaled x2
    coordinate, |region| = 0.1), odd-numbered on v_1, even on v_2, same basis. Grid points on a
    region's boundary are outside it. B2 = 0 and C2 = 0: the transfer function is strictly proper.

    Parameters
    ----------
    nx, ny : int
        Cells per direction (>= 2; ny defaults to nx). n = (nx - 1) ny + (ny - 1) nx + nx ny - 1.
    inputs, outputs : int
        m and p (M-M.E.S.S.'s demos use 5 and 5).
    """
    nx = check_int(nx, "nx", minimum=2)
    ny = nx if ny is None else check_int(ny, "ny", minimum=2)
    m = check_int(inputs, "inputs", minimum=1)
    q = check_int(outputs, "outputs", minimum=1)
    nv1, nv2, npr = (nx - 1) * ny, nx * (ny - 1), nx * ny
    n = nv1 + nv2 + npr - 1
    # A (~13 nonzeros per row in CSR) + B, C dense + temporaries of the block assembly
    check_memory(8.0 * n * (40 + m + q), f"stokes with nx = {nx}, ny = {ny} (n = {n})", "choose fewer cells")
    h1, h2 = 1.0 / nx, 1.0 / ny

    def second_difference(k, h):
        return sp.diags([np.ones(k - 1), -2.0 * np.ones(k), np.ones(k - 1)], [-1, 0, 1]) / h**2

    def forward_difference(k, h):  # (k - 1) x k: (p_{i+1} - p_i) / h
        return sp.diags([-np.ones(k - 1), np.ones(k - 1)], [0, 1], shape=(k - 1, k)) / h

    L1 = sp.kron(sp.eye(ny), second_difference(nx - 1, h1))
    L2 = sp.kron(second_difference(ny - 1, h2), sp.eye(nx))
    grad = sp.vstack([sp.kron(sp.eye(ny), forward_difference(nx, h1)),
                      sp.kron(forward_difference(ny, h2), sp.eye(nx))]).tocsc()[:, :npr - 1]
    G = -grad
    A = sp.bmat([[sp.block_diag([L1, L2]), G], [G.T, None]], format="csr")
    E = sp.diags(np.concatenate([np.ones(nv1 + nv2), np.zeros(npr - 1)])).tocsr()
    # node coordinates of v_1 (vertical faces) and v_2 (horizontal faces), x index fastest
    xf, xc = np.linspace(h1, 1.0 - h1, nx - 1), np.linspace(h1 / 2, 1.0 - h1 / 2, nx)
    yf, yc = np.linspace(h2, 1.0 - h2, ny - 1), np.linspace(h2 / 2, 1.0 - h2 / 2, ny)
    nodes = [(np.tile(xf, ny), np.repeat(yc, nx - 1)), (np.tile(xc, ny - 1), np.repeat(yf, nx))]

    def inside(x1, x2, box):
        return (x1 > box[0]) & (x1 < box[1]) & (x2 > box[2]) & (x2 < box[3])

    B = np.zeros((n, m))
    C = np.zeros((q, n))
    offsets = (0, nv1)
    for k in range(m):  # odd (1-based) inputs on v_1, even on v_2
        comp = k % 2
        x1, x2 = nodes[comp]
        box = (0.1, 0.9, 0.1, 0.3)
        ok = inside(x1, x2, box)
        theta, eta = (x1[ok] - 0.1) / 0.8, (x2[ok] - 0.1) / 0.2
        rows = offsets[comp] + np.flatnonzero(ok)
        B[rows, k] = 100.0 * _hierarchical_hat(theta, k // 2 + 1) * np.sin(np.pi * eta)
    for k in range(q):
        comp = k % 2
        x1, x2 = nodes[comp]
        box = (0.4, 0.6, 0.4, 0.9)
        ok = inside(x1, x2, box)
        xi = (x2[ok] - 0.4) / 0.5
        cols = offsets[comp] + np.flatnonzero(ok)
        C[k, cols] = h1 * h2 * _hierarchical_hat(xi, k // 2 + 1) / (0.5 * 0.2)
    return LTISystem(A, B, C, E=E)


def stokes_stream_basis(nx: int, ny: int | None = None) -> sp.csr_matrix:
    """A sparse basis Theta of ker G^T for :func:`stokes` (the discretely divergence-free velocities):
    the staggered-grid curl of a stream function psi at the (nx - 1)(ny - 1) interior grid vertices
    (psi = 0 on the walls), v_1 = d psi / d x_2, v_2 = -d psi / d x_1 by first differences, so
    G^T Theta = 0 exactly in exact arithmetic. Shape ((nx - 1) ny + nx (ny - 1), (nx - 1)(ny - 1)),
    full column rank. The projected ODE (Theta^T Theta, Theta^T A11 Theta, Theta^T B1, C1 Theta) has
    the transfer function of the index-2 DAE (B2 = 0, C2 = 0); used by the tests and benchmarks as an
    independent construction."""
    nx = check_int(nx, "nx", minimum=2)
    ny = nx if ny is None else check_int(ny, "ny", minimum=2)

    def difference(k, h):  # k x (k - 1): (psi_j - psi_{j-1}) / h with psi_0 = psi_k = 0
        return sp.diags([np.ones(k - 1), -np.ones(k - 1)], [0, -1], shape=(k, k - 1)) / h

    v1 = sp.kron(difference(ny, 1.0 / ny), sp.eye(nx - 1))
    v2 = -sp.kron(sp.eye(ny - 1), difference(nx, 1.0 / nx))
    return sp.vstack([v1, v2]).tocsr()


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
    ``"heat1d:500"``, ``"msd:100"``, ``"heat2d:60"``, ``"rlcladder:2500"`` (sections; n = 4 x that),
    ``"stokes:60"``.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise InputError(f"model must be a name or a path, got {type(name_or_path).__name__}")
    s = str(name_or_path)
    key, _, size = s.lower().partition(":")
    gens = {"fom": fom, "heat1d": heat1d, "msd": msd, "heat2d": heat2d, "rlcladder": rlc_ladder, "stokes": stokes}
    if key in gens:
        if size:
            try:
                kwargs = {**kwargs, {"heat1d": "n", "msd": "n_masses", "heat2d": "nx", "rlcladder": "n_sections",
                                     "stokes": "nx"}[key]: int(size)}
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
