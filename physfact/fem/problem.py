"""The finite-element problem container and the solve result shared by every fem solver."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from physfact.errors import InputError


@dataclass(frozen=True, repr=False)
class FEProblem:
    """A linear finite-element problem K u = f on a tensor-product (or extruded) mesh.

    DOF numbering: the problem's DOFs are the *free* DOFs of scikit-fem's numbering, in increasing
    order (Dirichlet DOFs are condensed out, so K is symmetric positive definite). The Kronecker
    order of DOF i is ``station[i] * n_section + section[i]``: ``station`` counts the free axial
    node planes from the supported end, ``section`` the free cross-section DOFs, node-major
    (nodes lexicographic in (y[, z])) and component-minor (u_x, u_y[, u_z]).

    Attributes
    ----------
    K : scipy.sparse.csr_matrix or None
        Stiffness matrix (None when built with ``assemble=False``; the Kronecker form is then the
        only representation).
    M : scipy.sparse.csr_matrix or None
        Consistent mass matrix (unit density / unit capacity); None with ``assemble=False`` (its
        Kronecker form is ``mass_terms``).
    f : ndarray, shape (n,)
        Load vector (end traction for beams, unit source for Poisson).
    coords : ndarray, shape (n, dim)
        Coordinates of each DOF's node.
    station, section : ndarray of int, shape (n,)
        Axial station and cross-section index of each DOF (the permutation to Kronecker order).
    n_stations, n_section : int
        Sizes of the axial and cross-section factors; n = n_stations * n_section.
    kind : {"elasticity", "poisson"}
    n_components : int
        Displacement components per node (1 for Poisson).
    element : str
        "Q1" (quadrilateral), "P1" (triangle) or "Hex1".
    material : str
        Material name, or "callable".
    separable : bool
        Whether the coefficient is (numerically) separable E(x) g(section).
    kron_terms : tuple of (A, B) or None
        Exact Kronecker terms from 1-D matrices (tensor elements with separable material).
    surrogate_terms : tuple of (A, B) or None
        Kronecker terms of the best separable (rank-one) fit of the material; equals ``kron_terms``
        for separable materials. Used to build preconditioners.
    mass_terms : tuple of (A, B) or None
        The single Kronecker term of M (``M_axis (x) M_section``); None for P1 triangles (their M
        is assembled by scikit-fem).
    params : dict
        Geometry and material constants (length, height, nx, ny, E, nu, load, ...).
    mesh : skfem.Mesh or None
        The full (unconstrained) mesh, for plots.
    free_dofs : ndarray of int
        Indices of the problem's DOFs in scikit-fem's full numbering.
    """

    K: object
    M: object
    f: np.ndarray
    coords: np.ndarray
    station: np.ndarray
    section: np.ndarray
    n_stations: int
    n_section: int
    kind: str
    n_components: int
    element: str
    material: str
    separable: bool
    kron_terms: tuple | None = None
    surrogate_terms: tuple | None = None
    mass_terms: tuple | None = None
    params: dict = field(default_factory=dict)
    mesh: object = None
    free_dofs: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of (free) DOFs."""
        return int(self.station.size)

    @property
    def kron_index(self) -> np.ndarray:
        """Position of each DOF in Kronecker order: ``station * n_section + section``."""
        return self.station.astype(np.int64) * self.n_section + self.section

    def to_kron(self, x):
        """Reorder a vector / block (n, ...) from problem order to Kronecker order."""
        out = np.empty_like(np.asarray(x))
        out[self.kron_index] = x
        return out

    def from_kron(self, y):
        """Reorder a vector / block (n, ...) from Kronecker order to problem order."""
        return np.asarray(y)[self.kron_index]

    def __repr__(self):
        return (f"FEProblem(kind={self.kind!r}, element={self.element!r}, n={self.n}, "
                f"stations={self.n_stations}, section={self.n_section}, material={self.material!r}, "
                f"separable={self.separable}, assembled={self.K is not None})")


@dataclass(frozen=True, repr=False)
class SolveResult:
    """Solution of K x = b.

    Attributes
    ----------
    x : ndarray, shape (n,) or (n, k)
        The solution (one column per right-hand side).
    iterations : int
        Iterations used (PCG iterations, or refinement steps of a direct solve).
    residual : float or ndarray
        Relative residual ||b - K x||_2 / ||b||_2 (per column for blocks: the largest is reported
        in the repr).
    seconds : float
        Wall-clock time of the solve (setup included where the solver builds its own factor).
    history : tuple of float
        Largest relative residual per iteration (PCG), empty for direct solves.
    method : str
        Which solver produced it ("fdm", "pcg-beam", "sweep-pcg"), set by :func:`physfact.fem.solve`.
    """

    x: np.ndarray
    iterations: int
    residual: object
    seconds: float
    history: tuple = ()
    method: str = ""

    def __repr__(self):
        res = float(np.max(self.residual))
        shape = self.x.shape
        how = f", method={self.method!r}" if self.method else ""
        return (f"SolveResult(x.shape={shape}, iterations={self.iterations}, residual={res:.3e}, "
                f"seconds={self.seconds:.4f}{how})")


def require_problem(problem, who: str) -> FEProblem:
    """``problem`` if it is an :class:`FEProblem`, else InputError naming ``who`` and the builders."""
    if not isinstance(problem, FEProblem):
        raise InputError(f"{who} needs an FEProblem (from cantilever(), prismatic_beam(), poisson_strip(), "
                         f"poisson_square(), poisson_cube()), got {type(problem).__name__}")
    return problem
