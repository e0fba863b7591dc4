r"""Balanced truncation of Stokes-type index-2 DAEs, sparse, without forming the projector.

A descriptor system with E = blkdiag(E11, 0), A = [[A11, G], [G^T, 0]] (E11 nonsingular, G of full
column rank: the structure of a semi-discretized Stokes or linearized Navier-Stokes flow with
velocity v and pressure p),

.. math::  E_{11} \dot v = A_{11} v + G p + B_1 u, \quad 0 = G^T v + B_2 u, \quad
           y = C_1 v + C_2 p + D u,

is an index-2 DAE. Its finite dynamics live on the hidden manifold ker G^T: with v = v_0 + H u,
H = -E11^{-1} G S^{-1} B2, S = G^T E11^{-1} G, and Theta a basis of ker G^T (v_0 = Theta z),

.. math::  G(s) = \tilde C \Theta (s \Theta^T E_{11} \Theta - \Theta^T A_{11} \Theta)^{-1} \Theta^T \tilde B
           + M_0 + s M_1,

\tilde B = B_1 + A_{11} H, \tilde C = C_1 - C_2 S^{-1} G^T E_{11}^{-1} A_{11},
M_0 = D + C_1 H - C_2 S^{-1} G^T E_{11}^{-1} \tilde B, M_1 = -C_2 S^{-1} B_2 (an s-term only when
both B2 and C2 are non-zero). Every product with E11^{-1} G S^{-1} comes from one solve with the
saddle-point matrix [[E11, G], [G^T, 0]]; Theta is never formed.

Gramians of the projected system (Heinkenschloss, Sorensen & Sun, "Balanced truncation model
reduction for a class of descriptor systems with application to the Oseen equations", SIAM J. Sci.
Comput. 30 (2008) 1038) by LR-ADI on the hidden manifold (Benner, Saak & Uddin, "Balancing based
model reduction for structured index-2 unstable descriptor systems with application to flow
control", Numer. Algebra Control Optim. 6 (2016) 1; M-M.E.S.S.'s ``dae_2`` functions): the shifted
solve (Theta^T (A11 + p E11) Theta)^{-1} Theta^T w, lifted by Theta, is the velocity part x of

.. math::  \begin{bmatrix} A_{11} + p E_{11} & G \\ G^T & 0 \end{bmatrix}
           \begin{bmatrix} x \\ \mu \end{bmatrix} = \begin{bmatrix} w \\ 0 \end{bmatrix}

(one sparse factorization per shift, shared by both Gramians: for symmetric A11, E11 a regularized
quasi-definite LDL^T with iterative refinement, see :class:`SaddlePointSolver`, else an LU whose
transposed solve serves the observability equation). The residual
factors are kept in ker G^T by the orthogonal projector onto it (one more saddle-point LU, with
E11 -> I, A11 -> 0; needed once for B and C unless E11 != I), so their norms are the residual norms
of the projected equations with an orthonormal Theta; the Gramian factors Z, Y lie in ker G^T,
P = Z Z^T and Q = Y Y^T are the Gramians lifted by Theta (independent of the basis). HSVs are the
singular values of Y^T E11 Z; the square-root method gives V, W in ker G^T with W^T E11 V = I and
the ROM (W^T A11 V, W^T \tilde B, \tilde C V, M_0) plus the s M_1 term as a chain of states
(:func:`physfact.control.dae.polynomial_realization`). HSVs, the bound 2 sum(hsv[r:]) and ``order``
refer to the proper part, as in :mod:`physfact.control.dae`; the bound is never below
ADI_FLOOR_FACTOR * adi_tol * sigma_1, what factors with that residual resolve.

Stable projected pencils only (Stokes: A11 symmetric negative definite, E11 = I, so every shift is
real): an unstable one (Oseen at higher Reynolds numbers, which Benner-Saak-Uddin stabilize by a
Bernoulli feedback) is refused with :class:`~physfact.errors.UnstableSystemError`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from physfact.errors import ConvergenceError, InputError, SingularMatrixError, UnstableSystemError


#: B or C is zero on ker G^T when its projection is below this fraction of its norm (roundoff).
ZERO_RTOL = 1e-12
#: Regularization of the quasi-definite LDL^T, relative to ||G||_1^2 / ||A11||_1, and its refinement:
#: at most REFINE_STEPS steps to a normwise backward error REFINE_RTOL (stokes:60: ||r|| / ||b|| from
#: 1e-8 .. 5e-7 to 1e-15 .. 2e-13 after one step, the roundoff level after two), else an LU.
QD_DELTA = 1e-8
REFINE_STEPS = 4
REFINE_RTOL = 1e3 * np.finfo(float).eps
#: error_bound >= ADI_FLOOR_FACTOR * adi_tol * sigma_1: what Gramian factors with that relative
#: residual resolve (the measured excess of the true error was at most 1.9 adi_tol sigma_1).
ADI_FLOOR_FACTOR = 10.0


@dataclass(frozen=True)
class StokesStructure:
    """The blocks of a Stokes-type index-2 system (see the module docstring); found by
    :func:`stokes_structure`.

    Attributes
    ----------
    nv : int
        Number of differential (velocity) states; the algebraic (pressure) states are the last
        n - nv.
    A11, G : sparse (nv, nv), (nv, n - nv)
    E11 : sparse (nv, nv) or None
        None when E11 = I.
    B1, B2, C1, C2, D : ndarray
        B = [B1; B2], C = [C1, C2].
    """

    nv: int
    A11: sp.csr_matrix
    E11: sp.csr_matrix | None
    G: sp.csc_matrix
    B1: np.ndarray
    B2: np.ndarray
    C1: np.ndarray
    C2: np.ndarray
    D: np.ndarray

    @property
    def n_algebraic(self) -> int:
        return self.G.shape[1]


def stokes_structure(sys) -> StokesStructure | None:
    """The :class:`StokesStructure` of a sparse continuous-time ``sys`` when E = blkdiag(E11, 0)
    (E's zero rows and columns are exactly the trailing ones), A22 = 0 and A21 = A12^T (exactly);
    None otherwise. O(nnz); E11 and G are checked when factored (singular: SingularMatrixError)."""
    if sys.E is None or not sys.is_sparse or sys.is_discrete:
        return None
    E = sp.csr_matrix(sys.E, copy=True)
    E.eliminate_zeros()
    n = E.shape[0]
    rows = np.diff(E.indptr) > 0
    cols = np.zeros(n, dtype=bool)
    cols[E.indices] = True
    nv = int(np.count_nonzero(rows))
    if nv == n or nv == 0 or not (np.all(rows[:nv]) and np.all(cols[:nv]) and not np.any(cols[nv:])):
        return None
    if 2 * nv <= n:  # more constraints than velocities: G cannot have full column rank
        return None
    A = sp.csr_matrix(sys.A)
    A22 = A[nv:, nv:]
    if A22.count_nonzero():
        return None
    A12, A21 = A[:nv, nv:], A[nv:, :nv]
    if (A21 - A12.T).count_nonzero():
        return None
    E11 = E[:nv, :nv]
    identity = E11.count_nonzero() == nv and np.array_equal(E11.diagonal(), np.ones(nv))
    return StokesStructure(nv=nv, A11=A[:nv, :nv].tocsr(), E11=None if identity else E11.tocsr(),
                           G=sp.csc_matrix(A12), B1=sys.B[:nv], B2=sys.B[nv:], C1=sys.C[:, :nv],
                           C2=sys.C[:, nv:], D=sys.D)


class SaddlePointSolver:
    """Velocity part x of [[K, G], [G^T, 0]] [x; mu] = [w; 0] for K = A11 + p E11 (and of the
    transposed system), one sparse factorization per shift p; the current shift's is kept.

    Symmetric A11 and E11 with a real shift p < 0 (Stokes): the matrix is symmetric, and with
    mu -> -mu and the first block row negated it is [[H, G], [G^T, 0]], H = -(A11 + p E11) SPD. Its
    regularization [[H, G], [G^T, -delta I]] is quasi-definite, so an LDL^T without pivoting exists for
    any symmetric ordering (Vanderbei, SIAM J. Optim. 5 (1995) 100): one AMD analysis for every shift
    (:class:`physfact.lowrank.spd_pencil.SPDPencil`, QDLDL), and a few steps of iterative refinement
    with the unregularized matrix remove delta (contraction ~ delta / lambda_min(G^T H^{-1} G); delta =
    QD_DELTA ||G||_1^2 / ||A11||_1, scale-invariant). Measured on stokes:60 / stokes:100: 7 / 23 ms
    per factorization against SuperLU's 53 / 235 ms (fill 1.5e6 / 5.3e6), solutions equal to 3e-13.
    A refinement that does not reach REFINE_RTOL falls back to SuperLU (partial pivoting, COLAMD),
    which serves every other case too (non-symmetric A11: Oseen; complex shifts).
    """

    def __init__(self, st: StokesStructure):
        self.st = st
        nv, npr = st.nv, st.n_algebraic
        self.E11 = sp.identity(nv, format="csc") if st.E11 is None else sp.csc_matrix(st.E11)
        self.G = st.G
        self.key, self.lu = None, None
        self.static = {}  # LUs of [[E11, G], [G^T, 0]] and [[I, G], [G^T, 0]]
        self.factorizations = 0
        self.zeros = sp.csc_matrix((npr, npr))
        self.pencil = self._quasi_definite_pencil()
        self.ldl = None
        self.fallbacks = 0

    def _quasi_definite_pencil(self):
        from physfact.lowrank.spd_pencil import SPDPencil, is_symmetric, ldl_available

        st = self.st
        if not (ldl_available() and is_symmetric(st.A11) and (st.E11 is None or is_symmetric(st.E11))):
            return None
        norm_a = spla.norm(st.A11, 1)
        delta = QD_DELTA * spla.norm(self.G, 1) ** 2 / norm_a if norm_a > 0 else 0.0
        if not delta > 0:
            return None
        npr = st.n_algebraic
        self.norms = (norm_a, spla.norm(self.E11, 1), spla.norm(self.G, 1))
        K = sp.bmat([[-st.A11, self.G], [self.G.T, -delta * sp.identity(npr)]], format="csc")
        M = sp.block_diag([self.E11, self.zeros], format="csc")
        return SPDPencil(K, M, check_definite=False)

    def _qd_solve(self, p: float, W):
        """x of the saddle-point system by the regularized LDL^T and iterative refinement; None when the
        refinement does not converge (then the caller uses an LU)."""
        nv = self.st.nv
        b = np.vstack([-np.asarray(W, dtype=float), np.zeros((self.st.n_algebraic, W.shape[1]))])
        y = self.ldl.solve(b)
        bnorm = np.abs(b).max()
        qnorm = self.norms[0] + abs(p) * self.norms[1] + self.norms[2]  # >= ||Q||_inf (symmetric Q)
        for _ in range(REFINE_STEPS):
            xv, xp = y[:nv], y[nv:]
            r = b - np.vstack([-(self.st.A11 @ xv) - p * (self.E11 @ xv) + self.G @ xp, self.G.T @ xv])
            # normwise backward error at the roundoff level of an LU with partial pivoting
            if np.abs(r).max() <= REFINE_RTOL * (qnorm * np.abs(y).max() + bnorm):
                return y[:nv]
            y += self.ldl.solve(r)
        return None

    def factor(self, K, what):
        M = sp.bmat([[K, self.G], [self.G.T, self.zeros]], format="csc")
        try:
            lu = spla.splu(M)
        except RuntimeError:
            raise SingularMatrixError(
                f"the saddle-point matrix [[{what}, G], [G^T, 0]] is singular: G = A12 must have full column "
                "rank (a pressure fixed, e.g. one pressure unknown removed) and E11 must be nonsingular") from None
        self.factorizations += 1
        return lu

    def solve(self, p: complex, W, trans: bool = False):
        """Velocity part of the solution (a transposed solve with ``trans``; the same for symmetric A11)."""
        key = complex(p)
        quasi_definite = self.pencil is not None and p.imag == 0 and p.real < 0 and not np.iscomplexobj(W)
        if key != self.key:
            self.lu = self.ldl = None  # one factorization alive at a time (peak memory)
            self.key = key
            if quasi_definite:
                self.ldl = self.pencil.factor(1.0, -p.real)
                self.factorizations += 1
        if self.ldl is not None and quasi_definite:
            x = self._qd_solve(p.real, W)
            if x is not None:
                return x, None
            self.fallbacks += 1
            self.pencil = self.ldl = None  # inaccurate for this problem: LUs from now on
        if self.lu is None:
            pp = p.real if p.imag == 0 else p
            self.lu = self.factor(sp.csc_matrix(self.st.A11 + pp * self.E11), f"A11 + p E11 (p = {p:.6g})")
        return self._solve(self.lu, W, trans)

    def _solve(self, lu, W, trans):
        nv, npr = self.st.nv, self.st.n_algebraic
        dtype = complex if (np.iscomplexobj(W) or lu.L.dtype.kind == "c") else float
        rhs = np.zeros((nv + npr, W.shape[1]), dtype=dtype)
        rhs[:nv] = W
        t = "T" if trans else "N"
        if dtype is complex and lu.L.dtype.kind != "c":
            x = lu.solve(np.ascontiguousarray(rhs.real), trans=t) + 1j * lu.solve(np.ascontiguousarray(rhs.imag), trans=t)
        else:
            x = lu.solve(rhs, trans=t)
        return x[:nv], x[nv:]

    def static_lu(self, identity: bool):
        """LU of [[E11, G], [G^T, 0]] (``identity``: of [[I, G], [G^T, 0]]); the same one when E11 = I."""
        key = "I" if (identity or self.st.E11 is None) else "E11"
        if key not in self.static:
            self.static[key] = self.factor(sp.identity(self.st.nv, format="csc") if key == "I" else self.E11,
                                           "I" if key == "I" else "E11")
        return self.static[key]

    def release_static(self):
        self.static = {}

    def constrained(self, F, trans: bool = False):
        """(x, mu) with [[E11, G], [G^T, 0]] [x; mu] = [0; F] (transposed pencil if ``trans``)."""
        lu = self.static_lu(identity=False)
        nv = self.st.nv
        rhs = np.zeros((nv + F.shape[0], F.shape[1]))
        rhs[nv:] = F
        x = lu.solve(rhs, trans="T" if trans else "N")
        return x[:nv], x[nv:]

    def project(self, W):
        """The orthogonal projection onto ker G^T, P w = w - G (G^T G)^{-1} G^T w: the velocity part of
        [[I, G], [G^T, 0]] [x; mu] = [w; 0]."""
        return self._solve(self.static_lu(identity=True), np.asarray(W, dtype=float), False)[0]


class _ProjectedMass:
    """V -> P (E11 V) (``.T``: P (E11^T V)): the residual update of LR-ADI on ker G^T when E11 != I
    (E11 V leaves ker G^T; the projection keeps the residual factor's norm the projected residual's)."""

    def __init__(self, E11, project, trans: bool = False):
        self.E11, self.project, self.trans = E11, project, trans

    def __matmul__(self, V):
        return self.project((self.E11.T if self.trans else self.E11) @ V)

    @property
    def T(self):
        return _ProjectedMass(self.E11, self.project, not self.trans)


def improper_part(st: StokesStructure, solver: SaddlePointSolver):
    """(B_tilde, C_tilde, M0, M1) of the module docstring; M1 is None when B2 or C2 vanishes."""
    Bt, Ct, M0, M1 = st.B1.copy(), st.C1.copy(), st.D.copy(), None
    has_b2, has_c2 = bool(np.any(st.B2)), bool(np.any(st.C2))
    if has_b2:
        H, z = solver.constrained(-st.B2)  # H = -E11^{-1} G S^{-1} B2, z = S^{-1} B2
        Bt = Bt + st.A11 @ H
        M0 = M0 + st.C1 @ H
        if has_c2:
            M1 = -st.C2 @ z
    if has_c2:
        a, _ = solver.constrained(st.C2.T, trans=True)  # a^T = C2 S^{-1} G^T E11^{-1}
        Ct = Ct - (st.A11.T @ a).T
        M0 = M0 - a.T @ Bt
    return Bt, Ct, M0, M1


def projected_gramian_factors(st: StokesStructure, Bt, Ct, tol=1e-10, maxiter=300, solver=None, progress=None):
    """Low-rank factors Z, Y (in ker G^T) of the projected Gramians of (A11, E11, Bt, Ct) by one LR-ADI
    run sharing each saddle-point LU between both equations; projection shifts.

    Returns (Z, Y, info) with info: residual histories, iterations, factorizations, shifts.
    """
    from physfact.control import shifts as shiftlib
    from physfact.control.lradi import _Side

    solver = SaddlePointSolver(st) if solver is None else solver
    project = solver.project
    E11 = st.E11
    # E11 = I keeps every residual block in ker G^T; otherwise E11 V is projected back
    Eop = None if E11 is None else _ProjectedMass(E11, project)
    sides = [_Side(project(Bt), False, Eop), _Side(project(Ct.T), True, Eop)]
    for sd, full in zip(sides, (Bt, Ct.T)):
        # at roundoff of the projection (a gradient force, B1 = G x): nothing reaches the velocities
        if np.sqrt(sd.bnorm2) <= ZERO_RTOL * np.linalg.norm(full, 2):
            raise InputError("the input or output map is zero on the hidden manifold ker G^T (B acts only "
                             "through pressure gradients, or C only sees them): the proper part is zero, "
                             "nothing to reduce")
    A11 = st.A11

    def ritz_shifts(U):
        ritz = shiftlib.projection_shifts(A11, E11, U)
        new = list(shiftlib.clean_shifts(ritz))
        if not new and ritz.size:
            raise UnstableSystemError(
                "every Ritz value of the projected pencil (A11, E11) on ker G^T lies in the right half-plane: the "
                "index-2 system looks unstable; only stable Stokes-type systems are supported (stabilize first)")
        return new

    # span{B, (P A11) B, C^T, (P A11^T) C^T}, each block normalized: the QR's rank test in
    # projection_shifts must not drop a side because ||B|| and ||C|| (or ||A11||) differ in scale
    blocks = []
    for sd in sides:
        W0 = sd.W / np.sqrt(sd.bnorm2)
        AW = project((A11.T if sd.trans else A11) @ W0)
        blocks += [W0, AW / max(np.linalg.norm(AW, 2), np.finfo(float).tiny)]
    queue = ritz_shifts(np.hstack(blocks))
    del blocks
    if E11 is None:
        solver.release_static()  # the projector is not needed again (peak memory)
    if not queue:
        raise ConvergenceError("no ADI shift could be computed from B and C (their span on ker G^T is "
                               "degenerate); check B and C")
    bar = progress(None, total=None, desc="LR-ADI on ker G^T", unit="solve") if progress is not None else None
    last = list(queue)
    try:
        while any(not sd.done for sd in sides):
            if not queue:
                lag = max((sd for sd in sides if not sd.done), key=lambda sd: sd.history[-1])
                queue = ritz_shifts(lag.recent_blocks()) or list(last)
                last = list(queue)
            p = complex(queue.pop(0))
            for sd in sides:
                if sd.done:
                    continue
                if sd.iterations >= maxiter:
                    raise ConvergenceError(
                        f"LR-ADI on the hidden manifold did not reach the relative residual {tol:.1e} in {maxiter} "
                        f"solves (last {sd.history[-1]:.2e}); raise maxiter or loosen adi_tol", sd.history)
                V, _ = solver.solve(p, sd.W, trans=sd.trans)
                res = sd.step(p, V, 6)
                if bar is not None:
                    bar.set_postfix_str("residual " + ", ".join(f"{s.history[-1]:.1e}" for s in sides if s.history)
                                        + f" -> {tol:.0e}", refresh=False)
                    bar.update(1)
                if not np.isfinite(res) or res > 1e12:
                    raise ConvergenceError(f"LR-ADI on the hidden manifold diverges (relative residual {res:.1e}); "
                                           "the projected system is probably unstable", sd.history)
                if res <= tol:
                    sd.finish()
    finally:
        if bar is not None:
            bar.close()
    info = {"residuals": tuple(sd.history[-1] for sd in sides), "iterations": tuple(sd.iterations for sd in sides),
            "histories": tuple(np.array(sd.history) for sd in sides),
            "factorizations": solver.factorizations, "quasi_definite_ldl": solver.pencil is not None,
            "ldl_fallbacks": solver.fallbacks,
            "shifts": tuple(np.array(sd.used, dtype=complex) for sd in sides)}
    Z, Y = (_compressed(sd, A11, E11, tol) for sd in sides)
    info["factor_columns"] = (Z.shape[1], Y.shape[1])
    return Z, Y, info


def _compressed(side, A11, E11, tol):
    """Column compression of an ADI factor with the rule of :func:`physfact.control.lradi._compress`:
    the residual grows by at most 2 ||A11|| ||E11|| s_{r+1}^2 / ||B||^2 (the projector has norm 1),
    kept within max(tol - residual, tol / 20)."""
    from physfact.control.lradi import _norm2_bound
    from physfact.lowrank import Truncation, compress_factor

    budget = max(tol - side.history[-1], tol / 20)
    growth = 2.0 * _norm2_bound(A11) * _norm2_bound(E11) / side.bnorm2
    Z, _ = compress_factor(side.store.take_chunks(), Truncation(atol=np.sqrt(budget / growth)))
    return Z


def stokes_balanced_truncation(sys, st: StokesStructure, rank=None, tol=None, method="sr", adi_tol=1e-10,
                               maxiter=300, t0=None, progress=None):
    """Balanced truncation of a Stokes-type index-2 system (see the module docstring); called by
    :func:`~physfact.control.balanced_truncation.balanced_truncation` for sparse systems with this
    structure. ``V``, ``W`` of the result are n x r with zero pressure rows."""
    import scipy.linalg as sla

    import physfact.control.balanced_truncation  # noqa: F401 - the module, not the function of that name
    import sys as _sys

    btm = _sys.modules["physfact.control.balanced_truncation"]
    from physfact.control.dae import polynomial_realization
    from physfact.control.lti import LTISystem

    t0 = time.perf_counter() if t0 is None else t0
    solver = SaddlePointSolver(st)
    Bt, Ct, M0, M1 = improper_part(st, solver)
    Z, Y, info = projected_gramian_factors(st, Bt, Ct, tol=adi_tol, maxiter=maxiter, solver=solver,
                                           progress=progress)
    EZ = Z if st.E11 is None else st.E11 @ Z
    U, s, Vt = sla.svd(Y.T @ EZ, full_matrices=False)
    floor = btm._floor(s, M0)
    btm._warn_floor(tol, floor)
    r0 = btm._resolvable_order(s, btm.choose_order(s, rank, tol), floor)
    r, V, W, Ar, Br, Cr, Dr, rounding = btm._reduce_stable(
        Z, Y, (U, s, Vt), r0, method, lambda V, W: (V, W, W.T @ (st.A11 @ V), W.T @ Bt, Ct @ V), M0, False,
        st.nv, st.E11, spa_rtol=btm.SPA_LOWRANK_RTOL * adi_tol)
    Er, extra = None, 0
    chain = polynomial_realization([M1]) if M1 is not None else None
    if chain is not None:
        Ap, Ep, Bp, Cp = chain
        extra = Ap.shape[0]
        Er = sla.block_diag(np.eye(r), Ep)
        Ar, Br, Cr = sla.block_diag(Ar, Ap), np.vstack([Br, Bp]), np.hstack([Cr, Cp])
    rom = LTISystem(Ar, Br, Cr, Dr, Er)
    pad = np.zeros((st.n_algebraic, V.shape[1]))
    info.update(stable_order=r, proper_order=r, polynomial=(M0,) + (() if M1 is None else (M1,)),
                polynomial_states=extra, n_algebraic=st.n_algebraic, route="index-2 (Stokes type) on ker G^T")
    # the Gramian factors are accurate to their residual: HSVs to ~adi_tol sigma_1 (measured on
    # stokes:12 at adi_tol 1e-10 / 1e-12: 1.1e-10 / 2.8e-12 sigma_1), and so is the ROM (its true
    # error at order 50 / 58: 2.3e-11 / 1.9e-12 sigma_1 against tails of 1e-14): the bound says so
    adi_floor = ADI_FLOOR_FACTOR * adi_tol * s[0]
    info["adi_floor"] = adi_floor
    bound = max(btm._honest_bound(s, r, floor, rounding, btm.hsv_resolution(Z, Y)), adi_floor)
    return btm.BTResult(rom=rom, hsv=s, error_bound=bound, V=np.vstack([V, pad]),
                        W=np.vstack([W, pad]), order=r + extra, n_unstable=0, method=method,
                        solver="lradi+index2", floor=floor, seconds=time.perf_counter() - t0, rounding=rounding,
                        info=info)
