"""Preconditioned conjugate gradients for elasticity on extruded meshes.

The preconditioner is a symmetric two-level method (Mandel's balancing form, see Tang, Nabben,
Vuik & Erlangga, "Comparison of two-level preconditioners derived from deflation, domain
decomposition and multigrid methods", J. Sci. Comput. 39 (2009) 340--370):

    M^{-1} = C + (I - C K) B^{-1} (I - K C),      C = P (P^T K P)^{-1} P^T,

* fine level B: the displacement components decoupled, B = blockdiag_c(K_cc), each block of the
  separable (rank-one material fit) Kronecker form a two-term sum
  K_cc = A_1 (x) B_1^{cc} + A_2 (x) B_2^{cc}, solved exactly by fast diagonalisation
  (:class:`~physfact.fem.fdm.FDMFactor`);
* coarse level P = I_stations (x) Phi: at every axial station the cross-section moves as a rigid
  body (translations plus rotations: the kinematics of Timoshenko beam theory -- axial stretch,
  transverse deflection, rotation of plane sections; 3 modes in 2-D, 6 in 3-D). P^T K P is block
  banded along the axis and factored by banded Cholesky.

Decoupling the components alone degrades with the beam's slenderness (Korn's constant), because
bending is a low-energy mode with large component gradients; the beam coarse space takes exactly
those modes out, so the iteration count is independent of the mesh size.

Right-hand-side blocks run as simultaneous CG iterations (one column each, vectorised).
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.errors import ConvergenceError, InputError, SingularMatrixError
from physfact.fem.fdm import FDMFactor, _bandwidth
from physfact.fem.kronecker import KroneckerOperator
from physfact.fem.problem import SolveResult, require_problem
from physfact.validation import as_array, check_int, check_positive


def section_rigid_modes(problem) -> np.ndarray:
    """Rigid-body modes of the cross-section (Phi, shape (n_section, n_modes)).

    2-D: u_x = 1; u_y = 1; rotation u_x = -(y - y_c). 3-D: three translations and the rotations
    u = omega x (0, y - y_c, z - z_c). Columns are scaled to unit 2-norm.
    """
    nb, ncomp = problem.n_section, problem.n_components
    dim = problem.coords.shape[1]
    # coordinates of each section DOF (taken from the DOFs of the first station)
    first = problem.station == 0
    sec_coords = np.empty((nb, dim))
    sec_coords[problem.section[first]] = problem.coords[first]
    comp = np.arange(nb) % ncomp
    r = sec_coords[:, 1:] - sec_coords[:, 1:].mean(axis=0)
    modes = []
    for c in range(ncomp):
        modes.append((comp == c).astype(float))
    if dim == 2:
        modes.append(np.where(comp == 0, -r[:, 0], 0.0))
    else:
        y, z = r[:, 0], r[:, 1]
        modes.append(np.where(comp == 1, -z, 0.0) + np.where(comp == 2, y, 0.0))   # torsion about x
        modes.append(np.where(comp == 0, z, 0.0))                                   # bending, about y
        modes.append(np.where(comp == 0, -y, 0.0))                                  # bending, about z
    Phi = np.column_stack(modes)
    return Phi / np.linalg.norm(Phi, axis=0)


def _section_map(X, M):
    """Y[i, m, k] = sum_s X[i, s, k] M[s, m] as one GEMM (einsum would not use BLAS here)."""
    na, nb, k = X.shape
    if k == 1:
        return (X[:, :, 0] @ M)[:, :, None]
    Y = np.ascontiguousarray(X.transpose(0, 2, 1)).reshape(na * k, nb) @ M
    return Y.reshape(na, k, M.shape[1]).transpose(0, 2, 1)


class BeamPreconditioner:
    """Two-level preconditioner: component-wise Kronecker FDM + rigid-section (beam) coarse space.

    Parameters
    ----------
    problem : FEProblem
        An elasticity (or Poisson) problem on a tensor mesh with ``surrogate_terms``.
    coarse : bool
        Use the beam coarse space (False: block-Jacobi FDM only, for comparison).

    Attributes
    ----------
    n_coarse : int
        Coarse dimension (n_stations x modes).
    setup_seconds : float
    """

    def __init__(self, problem, coarse: bool = True):
        t0 = time.perf_counter()
        if problem.surrogate_terms is None:
            raise InputError("the beam preconditioner needs a tensor-element problem (Q1/Hex1 elements); "
                             f"got element {problem.element!r}")
        self.problem = problem
        na, nb, ncomp = problem.n_stations, problem.n_section, problem.n_components
        self.na, self.nb, self.ncomp = na, nb, ncomp
        self.index = problem.kron_index
        self._identity = np.array_equal(self.index, np.arange(problem.n))
        terms = problem.surrogate_terms
        self.blocks = []
        for c in range(ncomp):
            sel = np.arange(c, nb, ncomp)
            sub = [(A, B[sel][:, sel]) for A, B in terms]
            sub = [(A, B) for A, B in sub if B.nnz]
            op = KroneckerOperator(sub).recompress()
            self.blocks.append((sel, FDMFactor(op)))
        self.coarse = coarse
        if coarse:
            self.Phi = section_rigid_modes(problem) if ncomp > 1 else np.ones((nb, 1)) / np.sqrt(nb)
            nm = self.Phi.shape[1]
            self.nm = nm
            if problem.K is not None:
                # Galerkin coarse matrix of the assembled K (exact also for non-separable materials)
                P = self._prolongation_matrix()
                self._KP = (problem.K @ P).tocsr()
                Kc = (P.T @ self._KP).toarray() if na * nm <= 3000 else (P.T @ self._KP).tocsr()
            else:
                kt = problem.kron_terms
                self._KP = None
                self._kron_KP = [(A.tocsr(), np.asarray(B @ self.Phi)) for A, B in kt]
                Kc = sum(sp.kron(A, self.Phi.T @ B @ self.Phi, format="csr") for A, B in kt)
            Kc = sp.csr_matrix(Kc)
            bw = _bandwidth(Kc)
            ab = np.zeros((bw + 1, Kc.shape[0]))
            C = sp.coo_matrix(Kc)
            low = C.row >= C.col
            ab[C.row[low] - C.col[low], C.col[low]] += C.data[low]
            try:
                self._coarse_chol = sla.cholesky_banded(ab, lower=True, check_finite=False)
            except np.linalg.LinAlgError:
                raise SingularMatrixError("the coarse beam matrix is not positive definite: is the structure "
                                          "supported (clamped end)?") from None
        self.n_coarse = na * self.nm if coarse else 0
        self.setup_seconds = time.perf_counter() - t0

    def _prolongation_matrix(self):
        """P (problem order x coarse station-major order): P[i, station_i * nm + m] = Phi[section_i, m]."""
        p = self.problem
        nm = self.Phi.shape[1]
        rows = np.repeat(np.arange(p.n), nm)
        cols = (p.station[:, None] * nm + np.arange(nm)[None, :]).ravel()
        vals = self.Phi[p.section].ravel()
        return sp.csr_matrix((vals, (rows, cols)), shape=(p.n, p.n_stations * nm))

    # -- helpers in problem order
    def _to_kron(self, x):
        if self._identity:
            return x
        out = np.empty_like(x)
        out[self.index] = x
        return out

    def _from_kron(self, y):
        return y if self._identity else y[self.index]

    def _restrict(self, r):
        """P^T r for r (n, k) in problem order -> (na * nm, k)."""
        k = r.shape[1]
        R = self._to_kron(r).reshape(self.na, self.nb, k)
        return np.ascontiguousarray(_section_map(R, self.Phi)).reshape(self.na * self.nm, k)

    def _prolong(self, u):
        k = u.shape[1]
        U = u.reshape(self.na, self.nm, k)
        return self._from_kron(np.ascontiguousarray(_section_map(U, self.Phi.T)).reshape(self.na * self.nb, k))

    def _KP_apply(self, u):
        """K P u in problem order."""
        if self._KP is not None:
            return self._KP @ u
        k = u.shape[1]
        U = u.reshape(self.na, self.nm, k)
        Y = np.zeros((self.na, self.nb, k))
        for A, BPhi in self._kron_KP:
            T = np.ascontiguousarray(_section_map(U, BPhi.T)).reshape(self.na, self.nb * k)
            Y += (A @ T).reshape(self.na, self.nb, k)
        return self._from_kron(Y.reshape(self.na * self.nb, k))

    def _PTK_apply(self, w):
        """P^T K w (= (K P)^T w, K symmetric)."""
        if self._KP is not None:
            return self._KP.T @ w
        k = w.shape[1]
        W = self._to_kron(w).reshape(self.na, self.nb, k)
        out = np.zeros((self.na, self.nm, k))
        for A, BPhi in self._kron_KP:
            T = (A.T @ W.reshape(self.na, self.nb * k)).reshape(self.na, self.nb, k)
            out += _section_map(T, BPhi)
        return out.reshape(self.na * self.nm, k)

    def _coarse_solve(self, g):
        return sla.cho_solve_banded((self._coarse_chol, True), g, check_finite=False)

    def _smooth(self, r):
        """B^{-1} r: component-wise FDM solves, r (n, k) in problem order."""
        k = r.shape[1]
        R = self._to_kron(r).reshape(self.na, self.nb, k)
        Z = np.empty_like(R)
        for sel, fac in self.blocks:
            sub = R[:, sel, :].reshape(self.na * sel.size, k)
            Z[:, sel, :] = fac.solve_kron(sub).reshape(self.na, sel.size, k)
        return self._from_kron(Z.reshape(self.na * self.nb, k))

    def apply(self, r):
        """M^{-1} r for r of shape (n,) or (n, k)."""
        vec = r.ndim == 1
        R = r[:, None] if vec else r
        if not self.coarse:
            z = self._smooth(R)
        else:
            u = self._coarse_solve(self._restrict(R))          # (P^T K P)^{-1} P^T r
            w = self._smooth(R - self._KP_apply(u))             # B^{-1} (I - K C) r
            v = self._coarse_solve(self._PTK_apply(w))          # (P^T K P)^{-1} P^T K w
            z = self._prolong(u - v) + w                        # C r + (I - C K) w
        return z[:, 0] if vec else z

    __call__ = apply

    def __repr__(self):
        return (f"BeamPreconditioner(n={self.problem.n}, components={self.ncomp}, coarse={self.n_coarse}, "
                f"setup={self.setup_seconds:.3f}s)")


#: restarts from the true residual after the recursive residual met tol (each must gain accuracy)
MAX_RESTARTS = 3
#: largest maxiter accepted (the iteration count of the beam preconditioner is mesh independent)
MAXITER_LIMIT = 100_000


def pcg(apply_K, b, apply_M=None, tol: float = 1e-8, maxiter: int = 200, x0=None, raise_on_fail: bool = True,
        progress=None):
    """Conjugate gradients on every column of b simultaneously (vectorised).

    A column stops when the recursively updated residual satisfies ||r|| <= tol ||b||; then the
    *true* residual ||b - K x|| / ||b|| is computed and, where rounding let the two drift apart
    (ill-conditioned K), CG restarts from it (at most ``MAX_RESTARTS`` times, each must gain). Only
    a true residual <= tol counts as converged. Returns (x, iterations, residuals, history) with
    the true residuals; history[-1] is the largest of them. ``progress(None, total, desc)`` returns
    a tqdm-like bar (``update``, ``set_postfix_str``, ``close``) advanced per iteration with the
    largest relative residual.

    Raises
    ------
    ConvergenceError
        (with ``raise_on_fail``) when a true residual exceeds tol after ``maxiter`` iterations or at
        the rounding floor ~ eps ||K|| ||x|| / ||b||, which no restart lowers.
    """
    vec = b.ndim == 1
    B = b[:, None] if vec else b
    X = np.zeros_like(B) if x0 is None else (x0[:, None] if x0.ndim == 1 else x0).astype(float).copy()
    bnorm = np.linalg.norm(B, axis=0)
    bnorm = np.where(bnorm > 0, bnorm, 1.0)
    R = B - apply_K(X) if x0 is not None else B.copy()
    res = np.linalg.norm(R, axis=0) / bnorm
    history = [float(res.max())]
    # no total: maxiter is a cap, not an estimate (the beam preconditioner needs tens of iterations)
    bar = progress(None, total=None, desc="PCG iterations") if progress is not None else None
    try:
        return _pcg_loop(apply_K, apply_M, B, X, R, res, bnorm, history, tol, maxiter, raise_on_fail, vec, bar)
    finally:
        if bar is not None:
            bar.close()


def _pcg_loop(apply_K, apply_M, B, X, R, res, bnorm, history, tol, maxiter, raise_on_fail, vec, bar):
    """The iterations of :func:`pcg` (the bar, when given, is advanced here and closed by the caller)."""
    it = 0
    for restart in range(MAX_RESTARTS + 1):
        active = res > tol
        if active.any():
            Z = apply_M(R) if apply_M else R.copy()
            Pd = Z.copy()
            rz = np.einsum("ij,ij->j", R, Z)
        while active.any() and it < maxiter:
            it += 1
            Q = apply_K(Pd)
            pq = np.einsum("ij,ij->j", Pd, Q)
            if np.any(pq[active] <= 0):
                raise SingularMatrixError("CG met a direction of non-positive curvature: K is not positive definite")
            alpha = np.where(active, rz / np.where(pq != 0, pq, 1.0), 0.0)
            X += Pd * alpha
            R -= Q * alpha
            res = np.linalg.norm(R, axis=0) / bnorm
            history.append(float(res.max()))
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"relative residual {history[-1]:.1e}", refresh=False)
            active = res > tol
            if not active.any():
                break
            Z = apply_M(R) if apply_M else R.copy()
            rz_new = np.einsum("ij,ij->j", R, Z)
            beta = np.where(active, rz_new / np.where(rz != 0, rz, 1.0), 0.0)
            rz = rz_new
            Pd = Z + Pd * beta
        previous = history[-1] if restart else np.inf
        R = B - apply_K(X)                                       # the true residual decides
        res = np.linalg.norm(R, axis=0) / bnorm
        history[-1] = float(res.max())
        if not (res > tol).any() or it >= maxiter or history[-1] >= 0.5 * previous:
            break
    converged = not (res > tol).any()
    if not converged and raise_on_fail:
        why = (f"in {maxiter} iterations; raise maxiter or check the supports" if it >= maxiter else
               "although the recursive residual did: rounding limits the attainable accuracy "
               "(ill-conditioned K); ask for a larger tol")
        raise ConvergenceError(f"PCG did not reach tol={tol:g} (true relative residual {res.max():.2e}) {why}",
                               history)
    return (X[:, 0] if vec else X), it, (float(res[0]) if vec else res), history


def pcg_solve(problem, b=None, tol: float = 1e-8, maxiter: int = 200, coarse: bool = True,
              operator=None, preconditioner: BeamPreconditioner | None = None, progress=None) -> SolveResult:
    """Solve K x = b for an elasticity (or Poisson) problem by PCG with the beam preconditioner.

    Parameters
    ----------
    problem : FEProblem
        Tensor-element problem (Q1 or Hex1); any material (non-separable ones are preconditioned by
        their rank-one separable fit, the coarse matrix is the exact Galerkin product).
    b : array_like, shape (n,) or (n, k), optional
        Load(s) in the problem's DOF order; default ``problem.f``. A block runs as one PCG sweep.
    tol : float
        Relative residual ||b - K x|| / ||b|| per column.
    maxiter : int
    coarse : bool
        Beam coarse space on (default) or off (component FDM alone).
    operator : sparse matrix or KroneckerOperator, optional
        K for the products; default the assembled ``problem.K``, else its exact Kronecker form.
    preconditioner : BeamPreconditioner, optional
        Reuse a built preconditioner.
    progress : callable, optional
        ``progress(None, total, desc)`` returning a tqdm-like bar, advanced per iteration (see :func:`pcg`).

    Returns
    -------
    SolveResult
        ``seconds`` includes the preconditioner setup (its own share is in ``setup_seconds`` of
        the preconditioner).

    Raises
    ------
    ConvergenceError
        Not converged in ``maxiter`` iterations (``.history`` holds the residuals).
    """
    t0 = time.perf_counter()
    require_problem(problem, "pcg_solve")
    tol = check_positive(tol, "tol", allow_none=False)
    if tol >= 1:
        raise InputError(f"tol is a relative residual and must be < 1, got {tol:g}")
    maxiter = check_int(maxiter, "maxiter", minimum=1, allow_none=False)
    if maxiter > MAXITER_LIMIT:
        raise InputError(f"maxiter={maxiter} is beyond {MAXITER_LIMIT}; the beam preconditioner converges in tens "
                         "of iterations -- if it does not, the problem is not supported (clamp an end)")
    b = problem.f if b is None else b
    b = as_array(b, "b", ndim=(1, 2))
    if b.shape[0] != problem.n:
        raise InputError(f"b has {b.shape[0]} rows but the problem has {problem.n} DOFs")
    from physfact.validation import check_memory

    # CG's five blocks, the preconditioner's Kronecker-order copies and the true-residual check
    check_memory(16 * 8 * b.size, f"PCG on {problem.n} DOFs x {b.size // problem.n} right-hand sides",
                 "solve fewer right-hand sides at once or use a coarser mesh")
    if operator is None:
        operator = problem.K if problem.K is not None else KroneckerOperator.from_problem(problem)
    if operator.shape != (problem.n, problem.n):
        raise InputError(f"operator has shape {operator.shape}, the problem {problem.n} DOFs")
    M = preconditioner if preconditioner is not None else BeamPreconditioner(problem, coarse=coarse)
    x, it, res, hist = pcg(lambda v: operator @ v, b, M.apply, tol=tol, maxiter=maxiter, progress=progress)
    return SolveResult(x=x, iterations=it, residual=res, seconds=time.perf_counter() - t0, history=tuple(hist))
