"""Compressed block sweep factor for meshes where the Kronecker rank does not pay.

Ordering the DOFs by *levels* along the axis (breadth-first distance in the matrix graph from the
DOFs with the smallest axial coordinate; for an extruded mesh the levels are the node planes)
makes K block tridiagonal for any mesh. Block Gaussian elimination along the axis,

    S_0 = K_00,    S_i = K_ii - K_{i,i-1} S_{i-1}^{-1} K_{i-1,i},

gives K = L D L^T with D = blockdiag(S_i) and L_{i,i-1} = K_{i,i-1} S_{i-1}^{-1}. On prismatic
structures the Schur complements converge along the axis (to the "S_inf" of the semi-infinite
beam: the Dirichlet-to-Neumann map of the section), so S_i - S_ref is numerically low-rank for a
shared reference S_ref ~ S_inf (what is left are the few rigid-section "beam" modes, whose
stiffness decays only algebraically with the distance from the support). A first pass computes
the Schur complements without storing them and keeps S_ref = S_{N-2}; the second pass stores, for
every station, the truncated SVD of S_i - S_ref (the shared :func:`physfact.lowrank.truncated_svd`
with ``atol = tol * ||S_i||_F``), applied through Woodbury on S_ref's Cholesky factor. Stations
where the correction would need more than ``refresh * m`` columns (next to the support, sections
of another size, material changes) keep a dense factor.

The compressed factor is an approximate inverse: :func:`sweep_solve` uses it as the
preconditioner of conjugate gradients (few iterations when ``tol`` is small), so the answer meets
the requested residual whatever the compression. The idea of compressing the Schur complements of
a sweep goes back to the structured multifrontal / sweeping preconditioners (Xia, Chandrasekaran,
Gu & Li, Numer. Linear Algebra Appl. 17 (2010) 953; Engquist & Ying, Commun. Pure Appl. Math. 64
(2011) 697); here it is the plain one-dimensional sweep of a prismatic structure.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.errors import InputError, SingularMatrixError
from physfact.fem.problem import SolveResult
from physfact.lowrank import Truncation, truncated_svd
from physfact.validation import as_array, as_matrix, check_int, check_positive


def axial_levels(K, coords, axis: int = 0, tol: float = 1e-9):
    """Level of every DOF: graph distance from the DOFs at the smallest axial coordinate.

    Edges of K only join equal or consecutive levels, so K is block tridiagonal in level order.
    """
    from scipy.sparse.csgraph import shortest_path

    n = K.shape[0]
    x = coords[:, axis]
    start = np.flatnonzero(x <= x.min() + tol * max(np.ptp(x), 1e-300))
    G = sp.csr_matrix((np.ones(K.nnz), K.indices, K.indptr), shape=K.shape)
    S = sp.csr_matrix((np.ones(start.size), (np.full(start.size, n), start)), shape=(n + 1, n + 1))
    G = sp.bmat([[G, None], [None, sp.csr_matrix((1, 1))]], format="csr") + S
    dist = shortest_path(G, method="D", unweighted=True, directed=True, indices=n)[:n]
    if not np.all(np.isfinite(dist)):
        raise SingularMatrixError("the matrix graph is disconnected: some DOFs are not coupled to the rest "
                                  "(a floating part makes K singular)")
    return dist.astype(np.int64) - 1


class SweepFactor:
    """Block LDL^T sweep along the axis with Schur complements stored as S_ref + low rank.

    Parameters
    ----------
    K : sparse (n, n)
        Symmetric positive definite matrix.
    coords : ndarray (n, dim)
        DOF coordinates (for the levels and for a consistent order within each level).
    axis : int
    tol : float
        Relative truncation of S_i - S_ref (Frobenius, relative to ||S_i||_F); 0 stores every S_i.
    refresh : float
        Take a new dense reference when the correction rank exceeds ``refresh`` x the block size.

    Attributes
    ----------
    n_levels : int
    ranks : list of int
        Correction rank per level (-1 for a dense reference).
    nbytes : int
        Storage of the factor (the reference, dense blocks, corrections, off-diagonal blocks of K).
    dense_nbytes : int
        The same sweep storing every S_i's factor densely (plus the off-diagonal blocks).
    """

    def __init__(self, K, coords, axis: int = 0, tol: float = 1e-8, refresh: float = 0.25):
        from physfact.fem.woodbury import WoodburyFactor

        t0 = time.perf_counter()
        K = sp.csr_matrix(as_matrix(K, "K", square=True))
        coords = as_array(coords, "coords", ndim=2)
        if coords.shape[0] != K.shape[0]:
            raise InputError(f"coords has {coords.shape[0]} rows, K has {K.shape[0]}")
        tol = check_positive(tol, "tol", allow_zero=True, allow_none=False)
        refresh = check_positive(refresh, "refresh", allow_zero=True, allow_none=False)
        if refresh > 1:
            raise InputError(f"refresh is a fraction of the block size, in [0, 1]; got {refresh:g}")
        axis = check_int(axis, "axis", minimum=0, allow_none=False)
        if axis >= coords.shape[1]:
            raise InputError(f"axis={axis} but the coordinates have {coords.shape[1]} columns (0..{coords.shape[1] - 1})")
        self.n = K.shape[0]
        levels = axial_levels(K, coords, axis)
        # order within a level: by the section coordinates, then DOF number (components of a node)
        sec = [coords[:, d] for d in range(coords.shape[1]) if d != axis]
        keys = [np.arange(self.n)] + [np.round(c, 9) for c in sec[::-1]] + [levels]
        order = np.lexsort(keys)
        bounds = np.searchsorted(levels[order], np.arange(levels.max() + 2))
        self.blocks = [order[bounds[i]:bounds[i + 1]] for i in range(bounds.size - 1)]
        self.n_levels = len(self.blocks)
        self.upper = [K[self.blocks[i]][:, self.blocks[i + 1]].tocsr() for i in range(self.n_levels - 1)]
        self.diag = [K[blk][:, blk].tocsr() for blk in self.blocks]
        off = sum(U.data.nbytes + U.indices.nbytes + U.indptr.nbytes for U in self.upper)
        # pass 1: the exact Schur complements, keeping only the reference: the second-to-last one
        # (an interior station far from the supported end, closest to S_inf)
        ref_level = max(self.n_levels - 2, 0)
        S_ref = None
        for i, S in enumerate(self._schur_sequence()):
            if i == ref_level:
                S_ref = S
                break
        try:
            ref = _CholSolver(sla.cho_factor(S_ref, lower=True, check_finite=False))
        except np.linalg.LinAlgError:
            raise SingularMatrixError("a Schur complement is not positive definite: K is not s.p.d. "
                                      "(missing supports?)") from None
        nbytes, dense = S_ref.nbytes + off, off
        self.inv, self.ranks = [], []
        # pass 2: store S_i as S_ref + truncated SVD of the difference, or densely
        for i, S in enumerate(self._schur_sequence()):
            m = S.shape[0]
            dense += m * m * 8
            stored = None
            if S.shape == S_ref.shape and tol > 0:
                svd = truncated_svd(S - S_ref, Truncation(atol=tol * np.linalg.norm(S)))
                if svd.rank <= refresh * m:
                    stored = ref if svd.rank == 0 else WoodburyFactor(ref, svd.U * svd.s, C=np.eye(svd.rank),
                                                                       V=svd.Vt.T)
                    self.ranks.append(svd.rank)
                    nbytes += 3 * svd.U.nbytes + svd.rank**2 * 8   # U s, V, Z = S_ref^{-1} U s; capacitance
            if stored is None:
                try:
                    stored = _CholSolver(sla.cho_factor(S, lower=True, check_finite=False))
                except np.linalg.LinAlgError:
                    raise SingularMatrixError(f"Schur complement of level {i} is not positive definite: K is not "
                                              "s.p.d. (missing supports?)") from None
                self.ranks.append(-1)
                nbytes += m * m * 8
            self.inv.append(stored)
        self.nbytes = int(nbytes)
        self.dense_nbytes = int(dense)
        self.setup_seconds = time.perf_counter() - t0

    def _schur_sequence(self):
        """Yield the exact Schur complements S_0, S_1, ... (dense), one in memory at a time."""
        S = self.diag[0].toarray()
        for i in range(self.n_levels):
            yield S
            if i + 1 < self.n_levels:
                try:
                    c = sla.cho_factor(S, lower=True, check_finite=False)
                except np.linalg.LinAlgError:
                    raise SingularMatrixError(f"Schur complement of level {i} is not positive definite: K is not "
                                              "s.p.d. (missing supports?)") from None
                U = self.upper[i]
                S = self.diag[i + 1].toarray() - U.T @ sla.cho_solve(c, U.toarray(), check_finite=False)
                S = 0.5 * (S + S.T)

    @property
    def shape(self):
        return (self.n, self.n)

    @property
    def n_dense(self) -> int:
        """Stations stored with a dense factor (besides the shared reference)."""
        return sum(1 for r in self.ranks if r < 0)

    def solve(self, b):
        """Apply the (approximate) inverse L^{-T} D^{-1} L^{-1} to b of shape (n,) or (n, k)."""
        b = np.asarray(b, dtype=float)
        vec = b.ndim == 1
        B = b[:, None] if vec else b
        ys = []
        prev = None
        for i, blk in enumerate(self.blocks):
            y = B[blk].copy()
            if i > 0:
                y -= self.upper[i - 1].T @ self.inv[i - 1].solve(prev)
            ys.append(y)
            prev = y
        X = np.empty_like(B)
        nxt = None
        for i in range(self.n_levels - 1, -1, -1):
            rhs = ys[i] if i == self.n_levels - 1 else ys[i] - self.upper[i] @ nxt
            xi = self.inv[i].solve(rhs)
            X[self.blocks[i]] = xi
            nxt = xi
        return X[:, 0] if vec else X

    __call__ = solve

    def __repr__(self):
        return (f"SweepFactor(n={self.n}, levels={self.n_levels}, dense={self.n_dense}, "
                f"nbytes={self.nbytes}, dense_nbytes={self.dense_nbytes})")


class _CholSolver:
    def __init__(self, c):
        self.c = c

    def solve(self, b):
        return sla.cho_solve(self.c, b, check_finite=False)


def sweep_factor(K, problem=None, coords=None, axis: int = 0, tol: float = 1e-8, refresh: float = 0.25) -> SweepFactor:
    """Build a :class:`SweepFactor` of K (DOF coordinates from ``problem`` or ``coords``)."""
    if problem is not None:
        coords = problem.coords
    if coords is None:
        raise InputError("sweep_factor needs the DOF coordinates (a problem or coords=)")
    return SweepFactor(K, coords, axis=axis, tol=tol, refresh=refresh)


def sweep_solve(K, b, problem=None, coords=None, axis: int = 0, tol: float = 1e-10, compression: float = 1e-8,
                maxiter: int = 100, factor: SweepFactor | None = None) -> SolveResult:
    """Solve K x = b by CG preconditioned with the compressed sweep factor.

    ``compression`` is the relative truncation of the Schur complement corrections (the factor is
    exact for 0); ``tol`` the relative residual asked of the result.
    """
    from physfact.fem.pcg import pcg

    from physfact.fem.pcg import MAXITER_LIMIT

    t0 = time.perf_counter()
    tol = check_positive(tol, "tol", allow_none=False)
    maxiter = check_int(maxiter, "maxiter", minimum=1, allow_none=False)
    if maxiter > MAXITER_LIMIT:
        raise InputError(f"maxiter={maxiter} is beyond {MAXITER_LIMIT}; loosen compression instead")
    K = sp.csr_matrix(as_matrix(K, "K", square=True))
    b = as_array(b, "b", ndim=(1, 2))
    if b.shape[0] != K.shape[0]:
        raise InputError(f"b has {b.shape[0]} rows, K has {K.shape[0]}")
    fac = factor if factor is not None else sweep_factor(K, problem, coords, axis, compression)
    x, it, res, hist = pcg(lambda v: K @ v, b, fac.solve, tol=tol, maxiter=maxiter)
    return SolveResult(x=x, iterations=it, residual=res, seconds=time.perf_counter() - t0, history=tuple(hist))
