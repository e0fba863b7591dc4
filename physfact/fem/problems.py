"""Benchmark problems on tensor-product meshes, assembled with scikit-fem.

* :func:`cantilever` -- plane-stress elasticity of a length x height beam, clamped at x = 0
  (u = 0, condensed out), a downward end traction of total force ``load`` at x = length.
* :func:`prismatic_beam` -- the 3-D version on a hexahedral mesh (length x width x height),
  load in -z.
* :func:`poisson_strip`, :func:`poisson_square`, :func:`poisson_cube` --
  -div(E grad u) = 1 with u = 0 on the whole boundary (condensed out).

Each returns an :class:`~physfact.fem.problem.FEProblem` whose ``K`` is scikit-fem's assembled
matrix (bilinear form with scikit-fem's tensor 3-point Gauss rule, ``intorder=4``) and, for
tensor elements with a separable material, the exact Kronecker terms built from 1-D matrices
(:mod:`physfact.fem.tensor_assembly`). ``assemble=False`` skips scikit-fem's assembly (only the
Kronecker form exists then), which is what makes millions of DOFs cheap.

Units: lengths in any consistent unit, ``E`` the reference Young's modulus (the material function
multiplies it), ``load`` a force per unit thickness (2-D) or a force (3-D).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from physfact.errors import InputError
from physfact.fem import onedim
from physfact.fem.materials import material_function, separable_factors
from physfact.fem.problem import FEProblem
from physfact.fem.tensor_assembly import kronecker_terms
from physfact.validation import check_finite, check_int, check_positive

ELEMENTS_2D = ("Q1", "P1")


def lame(E: float, nu: float, dim: int):
    """Lame parameters (lambda, mu); plane stress in 2-D, the 3-D values in 3-D."""
    mu = E / (2 * (1 + nu))
    lam = E * nu / ((1 + nu) * (1 - 2 * nu))
    if dim == 2:
        lam = 2 * lam * mu / (lam + 2 * mu)  # plane stress: E nu / (1 - nu^2)
    return lam, mu


def _grid_index(values, grid, what):
    idx = np.searchsorted(grid, values)
    idx = np.clip(idx, 0, grid.size - 1)
    left = np.clip(idx - 1, 0, grid.size - 1)
    pick = np.where(np.abs(grid[left] - values) < np.abs(grid[idx] - values), left, idx)
    tol = 1e-9 * max(1.0, float(np.ptp(grid)))
    if np.any(np.abs(grid[pick] - values) > tol):
        raise InputError(f"{what}: node coordinates do not lie on a tensor grid")
    return pick


def _mesh(element, nodes):
    import skfem

    if len(nodes) == 3:
        return skfem.MeshHex.init_tensor(*nodes), skfem.ElementHex1()
    if element == "Q1":
        return skfem.MeshQuad.init_tensor(*nodes), skfem.ElementQuad1()
    return skfem.MeshTri.init_tensor(*nodes), skfem.ElementTriP1()


def _assemble_mass(mesh, elem, ncomp):
    """Unit-density mass matrix assembled by scikit-fem (used for P1, which has no 1-D form)."""
    import skfem

    basis = skfem.Basis(mesh, skfem.ElementVector(elem) if ncomp > 1 else elem, intorder=4)

    @skfem.BilinearForm
    def mass(u, v, w):
        return sum(u[c] * v[c] for c in range(ncomp)) if ncomp > 1 else u * v

    return skfem.asm(mass, basis).tocsr()


def _assemble(mesh, elem, kind, coef, lam, mu, ncomp):
    import skfem
    from skfem.helpers import ddot, dot, grad, sym_grad, trace

    if kind == "elasticity":
        basis = skfem.Basis(mesh, skfem.ElementVector(elem), intorder=4)

        @skfem.BilinearForm
        def form(u, v, w):
            eu, ev = sym_grad(u), sym_grad(v)
            return coef(*w.x) * (lam * trace(eu) * trace(ev) + 2 * mu * ddot(eu, ev))
    else:
        basis = skfem.Basis(mesh, elem, intorder=4)

        @skfem.BilinearForm
        def form(u, v, w):
            return coef(*w.x) * dot(grad(u), grad(v))

    nn = mesh.p.shape[1]
    expected = ncomp * np.arange(nn)[None, :] + np.arange(ncomp)[:, None]
    if not np.array_equal(np.asarray(basis.nodal_dofs).reshape(ncomp, nn), expected):
        raise RuntimeError("unexpected scikit-fem DOF numbering (expected node-major, component-minor)")
    return skfem.asm(form, basis).tocsr()


def build_memory_estimate(sizes, ncomp: int, element: str, assemble: bool) -> float:
    """Bytes a problem on a tensor grid of ``sizes`` nodes per direction takes to build (a rough
    upper bound: DOF bookkeeping ~12 vectors, the mesh, and with ``assemble`` scikit-fem's
    element-by-element COO assembly and the CSR matrices)."""
    nn = float(np.prod(sizes))
    n = nn * ncomp
    n_elem = float(np.prod([max(s - 1, 1) for s in sizes]))
    dim = len(sizes)
    total = 12 * 8 * n + (dim + 6) * 8 * nn + 24 * 8 * n_elem
    if assemble:
        nloc = (2 ** dim) * ncomp * (1.5 if element == "P1" else 1)   # P1: two triangles per quad
        nqp = 16 if dim == 2 else 64
        total += 3 * 24 * n_elem * nloc**2 + 8 * n_elem * nloc * nqp * (dim + 1) + 2 * 12 * n * 3**dim * ncomp
    return total


def check_build_memory(elements, kind: str, element: str, assemble: bool) -> None:
    """Refuse (ResourceError, before allocating) a problem with ``elements`` per direction whose
    :func:`build_memory_estimate` exceeds the memory available (``physfact.validation.check_memory``)."""
    from physfact.validation import check_memory

    ncomp = len(elements) if kind == "elasticity" else 1
    check_memory(build_memory_estimate([e + 1 for e in elements], ncomp, element, assemble),
                 f"a {' x '.join(str(e) for e in elements)}-element {kind} problem"
                 f"{' assembled by scikit-fem' if assemble else ''}",
                 "use fewer elements (ny, nx)" + ("" if not assemble else " or assemble=False (--no-assemble)"))


def _build(kind, nodes, material, element, E, nu, load, assemble, clamp_end, params):
    check_build_memory([len(g) - 1 for g in nodes], kind, element, assemble)
    dim = len(nodes)
    nodes = [np.asarray(g, dtype=float) for g in nodes]
    lengths = [float(g[-1] - g[0]) for g in nodes]
    func = material_function(material, lengths[0], lengths[-1])
    qpoints = [onedim.quadrature_points(g) for g in nodes]
    fit = separable_factors(func, qpoints)
    ncomp = dim if kind == "elasticity" else 1
    lam, mu = lame(E, nu, dim) if kind == "elasticity" else (0.0, 0.0)

    mesh, elem = _mesh(element, nodes)
    p = mesh.p
    node_station = _grid_index(p[0], nodes[0], "axis")
    node_sec = np.zeros(p.shape[1], dtype=np.int64)
    sec_free_node = np.ones(p.shape[1], dtype=bool)
    for d in range(1, dim):
        j = _grid_index(p[d], nodes[d], f"direction {d}")
        node_sec = node_sec * nodes[d].size + j
        if not clamp_end:  # Poisson: Dirichlet on the whole boundary
            sec_free_node &= (j > 0) & (j < nodes[d].size - 1)
    n0 = nodes[0].size
    if clamp_end:
        station_free = np.arange(1, n0)
    else:
        station_free = np.arange(1, n0 - 1)
    node_free = np.isin(node_station, station_free) & sec_free_node

    # DOFs in scikit-fem numbering: node-major, component-minor
    nn = p.shape[1]
    dof_node = np.repeat(np.arange(nn), ncomp)
    dof_comp = np.tile(np.arange(ncomp), nn)
    free = np.flatnonzero(node_free[dof_node])
    # renumber free stations and free section DOFs
    smap = -np.ones(n0, dtype=np.int64)
    smap[station_free] = np.arange(station_free.size)
    n_sec_nodes = int(np.prod([g.size for g in nodes[1:]]))
    sec_full = node_sec[dof_node] * ncomp + dof_comp
    sec_free_full = np.zeros(n_sec_nodes * ncomp, dtype=bool)
    sec_free_full[sec_full[free]] = True
    secmap = -np.ones(n_sec_nodes * ncomp, dtype=np.int64)
    sec_ids = np.flatnonzero(sec_free_full)
    secmap[sec_ids] = np.arange(sec_ids.size)
    station = smap[node_station[dof_node[free]]]
    section = secmap[sec_full[free]]
    na, nb = station_free.size, sec_ids.size
    if na * nb != free.size:
        raise InputError("the free DOFs do not form a tensor product of stations and section DOFs")
    kidx = station * nb + section

    def restrict(terms):
        return tuple((A[station_free][:, station_free].tocsr(), B[sec_ids][:, sec_ids].tocsr()) for A, B in terms)

    tensor_element = element in ("Q1", "Hex1")
    surrogate = restrict(kronecker_terms(nodes, fit.factors, kind, lam, mu)) if tensor_element else None
    exact = surrogate if (tensor_element and fit.separable) else None

    # mass (unit density) and load from 1-D factors, in Kronecker order, then to problem order
    Ms = [onedim.matrices(g)[1] for g in nodes]
    Msec = Ms[1] if dim == 2 else sp.kron(Ms[1], Ms[2], format="csr")
    if ncomp > 1:
        Msec = sp.kron(Msec, sp.identity(ncomp), format="csr")
    perm = sp.csr_matrix((np.ones(free.size), (np.arange(free.size), kidx)), shape=(free.size, free.size))
    mass_terms = ((Ms[0][station_free][:, station_free].tocsr(), Msec[sec_ids][:, sec_ids].tocsr()),)
    M = None
    if not tensor_element:   # P1 triangles: the Q1 tensor mass does not apply
        mass_terms = None
        if assemble:
            M = _assemble_mass(mesh, elem, ncomp)[free][:, free].tocsr()
    elif assemble:
        Mk = sp.kron(*mass_terms[0], format="csr")
        M = (perm @ Mk @ perm.T).tocsr()
    wsec = onedim.load_vector(nodes[1])
    for d in range(2, dim):
        wsec = np.kron(wsec, onedim.load_vector(nodes[d]))
    if kind == "elasticity":
        area = float(np.prod(lengths[1:]))
        direction = np.zeros(ncomp)
        direction[-1] = -1.0
        sec_load = np.kron(wsec, direction) * (load / area)
        ax_load = np.zeros(n0)
        ax_load[-1] = 1.0
    else:
        sec_load = wsec * load
        ax_load = onedim.load_vector(nodes[0])
    f_kron = np.kron(ax_load[station_free], sec_load[sec_ids])
    f = f_kron[kidx]

    K = None
    if assemble:
        # lam, mu already carry E; the form multiplies by the material function only
        unit = (lam / E, mu / E) if kind == "elasticity" else (0.0, 0.0)
        Kfull = _assemble(mesh, elem, kind, lambda *x: E * func(*x), unit[0], unit[1], ncomp)
        K = Kfull[free][:, free].tocsr()
    coords = p[:, dof_node[free]].T.copy()
    params = dict(params, E=E, nu=nu if kind == "elasticity" else None, load=load, lam=lam, mu=mu,
                  material_residual=fit.residual)
    return FEProblem(K=K, M=M, f=f, coords=coords, station=station, section=section, n_stations=na,
                     n_section=nb, kind=kind, n_components=ncomp, element=element if dim == 2 else "Hex1",
                     material=material if isinstance(material, str) else "callable", separable=fit.separable,
                     kron_terms=exact, surrogate_terms=surrogate, mass_terms=mass_terms, params=params, mesh=mesh, free_dofs=free)


def _grid(n, length):
    return np.linspace(0.0, length, n + 1)


def _axial_count(nx, ny, length, height):
    if nx is None:
        return max(1, int(round(ny * length / height)))
    return check_int(nx, "nx", minimum=1)


def cantilever(length: float = 20.0, height: float = 1.0, ny: int = 8, nx: int | None = None,
               element: str = "Q1", material="constant", E: float = 1.0, nu: float = 0.3,
               load: float = 1.0, assemble: bool = True) -> FEProblem:
    """Plane-stress cantilever clamped at x = 0 with a downward end traction at x = length.

    Parameters
    ----------
    length, height : float
        Beam dimensions (the mesh is [0, length] x [0, height]).
    ny : int
        Elements across the height; ``nx`` elements along (default: square elements).
    element : {"Q1", "P1"}
        Bilinear quadrilaterals or linear triangles (the same nodes; P1 has no 1-D Kronecker form
        and is compressed by the black-box rearrangement instead).
    material : str or callable
        See :mod:`physfact.fem.materials`.
    E, nu : float
        Reference Young's modulus and Poisson ratio.
    load : float
        Total end force per unit thickness (uniform shear traction -load/height on x = length).
    assemble : bool
        Assemble K with scikit-fem (False: Kronecker form only; needs a separable material).

    Returns
    -------
    FEProblem
        With 2 (nx) (ny + 1) free DOFs.
    """
    length = check_positive(length, "length", allow_none=False)
    height = check_positive(height, "height", allow_none=False)
    ny = check_int(ny, "ny", minimum=1, allow_none=False)
    nx = _axial_count(nx, ny, length, height)
    if element not in ELEMENTS_2D:
        raise InputError(f"element must be one of {ELEMENTS_2D}, got {element!r}")
    _check_material_args(E, nu)
    load = check_finite(load, "load")
    prob = _build("elasticity", [_grid(nx, length), _grid(ny, height)], material, element, E, nu, load,
                  assemble, True, dict(length=length, height=height, nx=nx, ny=ny))
    _check_assembled(prob, assemble)
    return prob


def prismatic_beam(length: float = 10.0, width: float = 1.0, height: float = 1.0, ny: int = 4,
                   nz: int | None = None, nx: int | None = None, material="constant", E: float = 1.0,
                   nu: float = 0.3, load: float = 1.0, assemble: bool = True) -> FEProblem:
    """3-D cantilever on a hexahedral (Hex1) mesh: clamped at x = 0, end traction in -z.

    ``ny``/``nz`` elements across the width (y) and height (z); ``nz`` defaults to square
    elements, ``nx`` to cubes. ``load`` is the total end force.
    """
    length = check_positive(length, "length", allow_none=False)
    width = check_positive(width, "width", allow_none=False)
    height = check_positive(height, "height", allow_none=False)
    ny = check_int(ny, "ny", minimum=1, allow_none=False)
    nz = max(1, int(round(ny * height / width))) if nz is None else check_int(nz, "nz", minimum=1)
    nx = _axial_count(nx, ny, length, width)
    _check_material_args(E, nu)
    prob = _build("elasticity", [_grid(nx, length), _grid(ny, width), _grid(nz, height)], material, "Hex1",
                  E, nu, check_finite(load, "load"), assemble, True,
                  dict(length=length, width=width, height=height, nx=nx, ny=ny, nz=nz))
    _check_assembled(prob, assemble)
    return prob


def poisson_strip(length: float = 20.0, height: float = 1.0, ny: int = 16, nx: int | None = None,
                  element: str = "Q1", material="constant", source: float = 1.0,
                  assemble: bool = True) -> FEProblem:
    """-div(E grad u) = source on [0, length] x [0, height], u = 0 on the boundary.

    Free DOFs: (nx - 1)(ny - 1) interior nodes. ``nx`` defaults to square elements.
    """
    length = check_positive(length, "length", allow_none=False)
    height = check_positive(height, "height", allow_none=False)
    ny = check_int(ny, "ny", minimum=2, allow_none=False)
    nx = _axial_count(nx, ny, length, height)
    if nx < 2:
        raise InputError("poisson_strip needs nx >= 2 (one interior station at least)")
    if element not in ELEMENTS_2D:
        raise InputError(f"element must be one of {ELEMENTS_2D}, got {element!r}")
    prob = _build("poisson", [_grid(nx, length), _grid(ny, height)], material, element, 1.0, 0.0,
                  check_finite(source, "source"), assemble, False, dict(length=length, height=height, nx=nx, ny=ny))
    _check_assembled(prob, assemble)
    return prob


def poisson_square(n: int = 32, material="constant", element: str = "Q1", assemble: bool = True) -> FEProblem:
    """Poisson on the unit square with n x n elements (u = 0 on the boundary, unit source)."""
    return poisson_strip(length=1.0, height=1.0, ny=n, nx=n, element=element, material=material, assemble=assemble)


def poisson_cube(n: int = 8, material="constant", assemble: bool = True) -> FEProblem:
    """Poisson on the unit cube with n^3 Hex1 elements (u = 0 on the boundary, unit source).

    The axis is x; the cross-section is the (y, z) square of (n - 1)^2 interior nodes.
    """
    n = check_int(n, "n", minimum=2, allow_none=False)
    g = _grid(n, 1.0)
    prob = _build("poisson", [g, g, g], material, "Hex1", 1.0, 0.0, 1.0, assemble, False,
                  dict(length=1.0, width=1.0, height=1.0, nx=n, ny=n, nz=n))
    _check_assembled(prob, assemble)
    return prob


def _check_material_args(E, nu):
    check_positive(E, "E", allow_none=False)
    try:
        nu = float(nu)
    except (TypeError, ValueError):
        raise InputError(f"Poisson ratio nu must be a number, got {nu!r}") from None
    if not (-1.0 < nu < 0.5):
        raise InputError(f"Poisson ratio nu must lie in (-1, 0.5), got {nu}")


def _check_assembled(prob, assemble):
    if not assemble and prob.kron_terms is None:
        raise InputError("assemble=False needs a Kronecker form: use Q1/Hex1 elements and a separable material "
                         f"(material {prob.material!r} has rank-one residual {prob.params['material_residual']:.2e})")
