r"""Balanced truncation by the square-root method, from Gramian factors.

With P = L_c L_c^T and Q = L_o L_o^T the Gramians of DESIGN.md
(A P E^T + E P A^T + B B^T = 0, A^T Q E + E^T Q A + C^T C = 0; Stein equations in discrete time),
the Hankel singular values are the singular values of L_o^T E L_c = U \Sigma V^T (P and Q are never
formed). For order r, with U_r, V_r, \Sigma_r the leading parts,

* ``method="sr"`` (square root; Tombs & Postlethwaite, Int. J. Control 46 (1987) 1319; Laub, Heath,
  Paige & Ward, IEEE TAC 32 (1987) 115): V = L_c V_r \Sigma_r^{-1/2}, W = L_o U_r \Sigma_r^{-1/2};
  the reduced model is balanced.
* ``method="bfsr"`` (balancing-free square root; Varga, Proc. IEEE CDC 1991, 1062): V, W are
  orthonormal bases of span(L_c V_r) and span(L_o U_r), rescaled so that W^T E V = I; better
  conditioned projection when the system is far from balanced, same transfer function.

* ``method="spa"`` (singular perturbation approximation; Liu & Anderson 1989, SLICOT AB09ND): the
  trailing states of a minimal balanced realization are residualized instead of truncated
  (:mod:`physfact.control.spa`), which keeps the DC gain exactly; same bound.

The reduced model is (W^T A V, W^T B, C V, D) with W^T E V = I (so E_r = I), and

.. math::  \|G - G_r\|_{H_\infty} \le 2 \sum_{k > r} \sigma_k

(Enns 1984; Glover, Int. J. Control 39 (1984) 1115; the same bound holds in discrete time,
Al-Saggaf & Franklin, IEEE TAC 32 (1987) 815).

Unstable systems (dense only): an ordered real Schur form of E^{-1}A puts the stable poles first,
a Sylvester equation decouples G = G_s + G_u, the antistable part G_u is kept exactly (its poles are
the computed Schur eigenvalues) and G_s is reduced; the bound then applies to G_s. With ``alpha``
(SLICOT AB09MD/AB09ND) the split is at Re(s) = alpha <= 0 (|z| = alpha in discrete time): the poles on
or right of it are kept exactly.

Order selection with ``tol``: the smallest r >= 1 with 2 * sum(hsv[r:]) <= tol (an absolute
H-infinity error target), through the shared :class:`physfact.lowrank.Truncation` rule
(``atol = sqrt(tol)`` applied to the values sqrt(2 hsv_k), whose Frobenius tail is
sqrt(2 sum hsv[r:])).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from physfact.control.lti import LTISystem
from physfact.errors import InputError
from physfact.lowrank import Truncation
from physfact.progress import phase, step
from physfact.validation import check_int, check_positive

EPS = np.finfo(float).eps
#: Low-rank SPA keeps the balanced states with hsv > SPA_LOWRANK_RTOL * adi_tol * hsv[0]: smaller
#: ones are below the accuracy of the ADI factors, and residualizing through them is noise.
SPA_LOWRANK_RTOL = 1e-2
#: error_bound >= ROUNDING_MARGIN x the measured rounding of the projection (see
#: :func:`projection_rounding`: the true excess was at most 8.6 times it).
ROUNDING_MARGIN = 20.0


class RoundoffFloorWarning(UserWarning):
    """The requested accuracy is below what double precision can deliver for this system."""


@dataclass(frozen=True, repr=False)
class BTResult:
    """Result of :func:`balanced_truncation`.

    Attributes
    ----------
    rom : LTISystem
        Reduced model (W^T A V, W^T B, C V, D), E_r = I, order ``order``.
    hsv : ndarray
        Hankel singular values of the (stable part of the) system, non-increasing (all n for the
        dense solver; min(rank L_o, rank L_c) for low-rank factors).
    error_bound : float
        max(2 * sum(hsv[r_s:]) + ROUNDING_MARGIN * rounding, floor, hsv_resolution) with r_s the
        retained stable order: 2 sum(hsv[r_s:]) bounds ||G - G_r||_Hinf in exact arithmetic; near
        the roundoff floor the accuracy of the computed HSVs (:func:`hsv_resolution`,
        10 sqrt(n) eps ||L_c||_F ||L_o||_F) and the rounding of the projection dominate (at lightly
        damped poles the true error exceeded the tail by up to 120x: msd:20 r = 38), so the bound
        never goes below either.
    V, W : ndarray, shape (n, order)
        Right and left projection bases, W^T E V = I.
    order : int
        Reduced order (including the ``n_unstable`` kept unstable states).
    n_unstable : int
        Number of poles outside the stability region, kept exactly.
    method : str
        "sr" or "bfsr".
    solver : str
        Gramian solver used ("hammarling" or "lradi").
    floor : float
        Roundoff floor ~ 100 eps (sigma_1 + ||D||): Hankel singular values below it are noise and
        the order is capped at the ones above it.
    seconds : float
    info : dict
        Factor ranks, residuals of the low-rank solves, ...
    rounding : float
        Measured rounding of the projection (:func:`projection_rounding`): the largest difference,
        at the reduced model's resonances, between G_r formed in double and in extended precision.
    """

    rom: LTISystem
    hsv: np.ndarray
    error_bound: float
    V: np.ndarray
    W: np.ndarray
    order: int
    n_unstable: int
    method: str
    solver: str
    floor: float
    seconds: float
    info: dict = field(default_factory=dict)
    rounding: float = 0.0

    def __repr__(self):
        return (f"BTResult(n={self.V.shape[0]} -> r={self.order}, method={self.method!r}, solver={self.solver!r}, "
                f"hsv[0]={self.hsv[0] if self.hsv.size else 0.0:.4g}, error_bound={self.error_bound:.3e}, n_unstable={self.n_unstable}, "
                f"seconds={self.seconds:.3g})")



def projection_bases(Lc, Lo, U, s, Vt, r, method, E=None):
    """Projection bases V, W (n x r) with W^T E V = I from Gramian factors P = Lc Lc^T, Q = Lo Lo^T
    and the SVD Lo^T E Lc = U diag(s) Vt.

    ``"sr"``: square root (Tombs & Postlethwaite 1987; Laub et al. 1987), V = Lc V_r s_r^{-1/2},
    W = Lo U_r s_r^{-1/2} (a balanced realization). ``"bfsr"``: balancing-free square root
    (Varga 1991): orthonormal bases of the same subspaces, W rescaled so that W^T E V = I --
    better conditioned when the system is far from balanced.
    """
    if method == "sr":
        scale = 1.0 / np.sqrt(s[:r])
        return (Lc @ Vt[:r].T) * scale, (Lo @ U[:, :r]) * scale
    V = np.linalg.qr(Lc @ Vt[:r].T)[0]
    W = np.linalg.qr(Lo @ U[:, :r])[0]
    EV = V if E is None else E @ V
    return V, W @ np.linalg.inv(EV.T @ W)

def choose_order(hsv, rank=None, tol=None) -> int:
    """Order r for Hankel singular values ``hsv``: the smallest r with 2 sum(hsv[r:]) <= tol, capped
    by ``rank`` (exactly ``rank`` when only it is given)."""
    hsv = np.asarray(hsv, dtype=float)
    x = np.sqrt(2.0 * np.maximum(hsv, 0.0))
    rule = Truncation(rank=rank, atol=None if tol is None else np.sqrt(tol))
    if rule.is_empty:
        return int(np.count_nonzero(hsv > 0))
    return max(1, int(rule.choose(x)))  # at least one state: an order-0 model is not an LTISystem


def _split_unstable(Ahat, discrete, alpha=None):
    """Ordered real Schur form with the (alpha-)stable eigenvalues first, plus the decoupling
    Sylvester solution X (T11 X - X T22 = -T12... see module docstring). Returns (Qs, T, k, X)."""
    if alpha is None:
        sort = "iuc" if discrete else "lhp"
    elif discrete:
        sort = lambda re, im: np.hypot(re, im) < alpha  # noqa: E731 - the boundary is not stable
    else:
        sort = lambda re, im: re < alpha  # noqa: E731
    T, Qs, k = sla.schur(Ahat, output="real", sort=sort)
    n = T.shape[0]
    if k == n:
        return Qs, T, k, np.zeros((k, 0))
    T11, T12, T22 = T[:k, :k], T[:k, k:], T[k:, k:]
    X = sla.solve_sylvester(T11, -T22, T12) if k > 0 else np.zeros((0, n - k))
    return Qs, T, k, X


def _reduce(Lc, Lo, svd, r, method, project, D, discrete, n_states, E=None, spa_rtol=None):
    """Projection bases and reduced matrices from Gramian factors and the SVD of Lo^T E Lc.

    ``project(V, W)`` returns (V, W, W^T A V, W^T B, C V) in the caller's coordinates. For
    ``method="spa"`` the bases span a minimal balanced realization (order
    :func:`~physfact.control.spa.minimal_order`) whose trailing states are then residualized; the
    returned V, W are its leading r columns (the ROM is then not W^T A V).
    Returns (r, V, W, Ar, Br, Cr, Dr, rounding) with ``rounding()`` measuring
    :func:`projection_rounding` (deferred: :func:`_reduce_stable` may reject this order).
    """
    U, s, Vt = svd
    if method == "spa":
        from physfact.control.spa import minimal_order, residualize

        k = minimal_order(s, n_states, spa_rtol)
        r = min(r, k)
        bases = projection_bases(Lc, Lo, U, s, Vt, k, "sr", E)
        V, W, Ak, Bk, Ck = project(*bases)
        rom = residualize(Ak, Bk, Ck, D, r, discrete)

        def rounding():
            return projection_rounding(rom, residualize(*_project_extended(project, bases), D, r, discrete), discrete)

        return (r, V[:, :r], W[:, :r]) + tuple(rom) + (rounding,)
    r = min(r, int(np.count_nonzero(s > 0)))
    bases = projection_bases(Lc, Lo, U, s, Vt, r, method, E)
    V, W, Ar, Br, Cr = project(*bases)

    def rounding():
        return projection_rounding((Ar, Br, Cr, D), _project_extended(project, bases) + (D,), discrete)

    return r, V, W, Ar, Br, Cr, D.copy(), rounding


def _project_extended(project, bases):
    """(W^T A V, W^T B, C V) for the same bases, the products formed in extended precision
    (numpy's long double, 64-bit mantissa on x86) and rounded once to double."""
    _, _, Ax, Bx, Cx = project(*(np.asarray(b, dtype=np.longdouble) for b in bases))
    return tuple(np.asarray(X, dtype=float) for X in (Ax, Bx, Cx))


def projection_rounding(rom, rom_x, discrete=False, max_poles=60) -> float:
    """Rounding of the projection W^T A V, measured: the largest ||G_r - G_x||_2 over z = 0 and
    the resonances of the reduced model (|Im lambda| of its least damped ``max_poles`` poles;
    discrete time: z = 1, -1 and e^{i |arg lambda|}), where G_r is the reduced model formed in
    double precision and G_x the same projection formed in extended precision.

    Why: near the roundoff floor the error of a balanced truncation is dominated not by the
    truncated Hankel singular values but by the rounding of the projection (each column of V, W is
    scaled by sigma_k^{-1/2}); at lightly damped poles it is amplified by the resonance. Measured
    against extended-precision evaluations of G - G_r (msd:20 r = 38, msd:60 r = 80..84, FOM
    r = 26..29, CDplayer r = 116..118, heat-cont, build), the excess of the true error over
    2 sum(hsv[r:]) was 0.02 .. 8.6 times this value; :data:`ROUNDING_MARGIN` times it enters the
    error bound.
    """
    Ar, Br, Cr, Dr = (np.asarray(X, dtype=float) for X in rom)
    Ax, Bx, Cx, _ = (np.asarray(X, dtype=float) for X in rom_x)
    r = Ar.shape[0]
    if r == 0:
        return 0.0
    lam = np.linalg.eigvals(Ar)
    if discrete:
        order = np.argsort(np.abs(1.0 - np.abs(lam)))[:max_poles]
        z = np.unique(np.r_[1.0, -1.0, np.exp(1j * np.abs(np.angle(lam[order])))])
    else:
        damping = np.abs(lam.real) / np.maximum(np.abs(lam), np.finfo(float).tiny)
        order = np.argsort(damping)[:max_poles]
        z = 1j * np.unique(np.r_[0.0, np.abs(lam[order].imag)])
    eye = np.eye(r)
    worst = 0.0
    for zk in z:
        try:
            g = Cr @ np.linalg.solve(zk * eye - Ar, Br)
            gx = Cx @ np.linalg.solve(zk * eye - Ax, Bx)
        except np.linalg.LinAlgError:  # z on a pole of the reduced model: no information there
            continue
        worst = max(worst, float(np.linalg.norm(g - gx, 2)))
    return worst


def _reduce_stable(*args, **kwargs):
    """:func:`_reduce` at the largest order <= the requested one whose reduced A is stable (the
    backstop of :func:`_stable_order`); same arguments (the order is the 4th) and return value, with
    the projection's rounding measured once, for the order kept."""
    args = list(args)
    discrete = args[7]

    def build(r):
        out = _reduce(*args[:3], r, *args[4:], **kwargs)
        return (out[3],) + out

    _, out = _stable_order(build, args[3], discrete)
    return out[1:-1] + (out[-1](),)


def balanced_truncation(sys: LTISystem, rank: int | None = None, tol: float | None = None,
                        method: str = "sr", solver: str = "auto", adi_tol: float = 1e-10,
                        frequency_band=None, alpha: float | None = None, progress=None, **adi_options) -> BTResult:
    """Balanced truncation of ``sys`` to order ``rank`` or to H-infinity error ``tol``.

    Parameters
    ----------
    sys : LTISystem or SecondOrderSystem
        Continuous or discrete time; E allowed (nonsingular). Unstable systems: dense only. A
        SecondOrderSystem is reduced in its first-order form (the ROM is unstructured).
    rank : int, optional
        Reduced order of the stable part (a cap when ``tol`` is also given). An order beyond the
        Hankel singular values above the roundoff floor is lowered to what can be resolved (with a
        :class:`RoundoffFloorWarning`; ``result.order`` is the order kept): the reduced model of a
        stable system is always stable.
    tol : float, optional
        Absolute H-infinity error target: the smallest r >= 1 with 2 * sum(hsv[r:]) <= tol.
    method : {"sr", "bfsr", "spa"}
        Square root, balancing-free square root (see module docstring), or singular perturbation
        approximation of the balanced realization (:mod:`physfact.control.spa`: DC gain kept exactly,
        same error bound; ``V``, ``W`` are then the leading balanced bases, not a projection giving
        the ROM).
    solver : {"auto", "hammarling", "adi"}
        Gramian factors: dense Hammarling (accurate to roundoff, O(n^3)) or low-rank ADI (sparse,
        continuous time). "auto": ADI for sparse continuous systems with n > 2000; for 500 < n <= 2000
        ADI is tried first (10-50x faster there) and kept when it converged and the requested order
        lies within what its factors resolve, else the dense solver runs. A sparse semi-explicit DAE
        (E = [[E11, 0], [0, 0]] up to permutations, ``sys.semi_explicit``) is handled the same way
        by the index-1 route (:mod:`physfact.control.dae_index1`; "adi" forces it), any other
        singular E by the dense split (:mod:`physfact.control.dae`).
    adi_tol, adi_options :
        Relative residual tolerance and options for the ADI solver. ``separate``: True runs two
        independent ``lradi``, False one ``lradi_pair`` run sharing every factorization; default
        (None) from the numbers of inputs and outputs (:func:`share_factorizations`).
    frequency_band : (float, float), optional
        (w1, w2) in rad/s, 0 <= w1 < w2 <= inf: frequency-limited balanced truncation
        (:mod:`physfact.control.frequency_limited`, continuous time). No a-priori error bound exists:
        ``error_bound`` is then nan and ``info["band_error"]`` holds the in-band sampled
        H-infinity error.
    alpha : float, optional
        Stability boundary (SLICOT AB09MD/AB09ND ``ALPHA``; dense only): poles with
        Re(s) >= alpha (continuous, alpha <= 0) or |z| >= alpha (discrete, 0 <= alpha <= 1) are
        kept exactly, the rest is reduced. Default: the ordinary stability boundary.
    progress : callable, optional
        ``progress(None, total=..., desc=..., unit=...)`` returning a tqdm-like bar
        (:meth:`physfact.console.Console.progress`; see :mod:`physfact.progress`): the phases show on
        it -- "Schur form of A" / "QZ form of (A, E)", "Gramian 1/2", "Gramian 2/2" (with the ADI
        residual or the Hammarling columns); for a DAE first "QZ split"; for ``frequency_band`` the
        band operator's matrix logarithms and "band error" (frequencies).

    Returns
    -------
    BTResult

    Warns
    -----
    RoundoffFloorWarning
        When ``tol`` is below the roundoff floor ~ 100 eps ||G||_Hinf (estimated by
        sigma_1 + ||D||_2 <= ... ; the returned model then keeps every resolvable state).
    """
    t0 = time.perf_counter()
    from physfact.control.second_order import SecondOrderSystem

    if isinstance(sys, SecondOrderSystem):
        sys = sys.to_first_order()  # unstructured; second_order_balanced_truncation keeps the structure
    if not isinstance(sys, LTISystem):
        raise InputError(f"balanced_truncation needs an LTISystem, got {type(sys).__name__}")
    if method not in ("sr", "bfsr", "spa"):
        raise InputError(f"method must be 'sr', 'bfsr' or 'spa', got {method!r}")
    if solver not in ("auto", "hammarling", "adi"):
        raise InputError(f"solver must be 'auto', 'hammarling' or 'adi', got {solver!r}")
    rank = check_int(rank, "rank", minimum=1)
    tol = check_positive(tol, "tol")
    adi_tol = check_positive(adi_tol, "adi_tol", allow_none=False)
    if adi_tol >= 1:
        raise InputError(f"adi_tol is a relative residual and must be < 1, got {adi_tol}")
    if rank is not None and rank > sys.n:
        raise InputError(f"rank {rank} exceeds the state dimension n = {sys.n}; give a rank below n")
    if rank is None and tol is None:
        raise InputError("give the reduced order (rank=...) or an H-infinity error target (tol=...)")
    from physfact.control.lyapunov import AUTO_DENSE_LIMIT

    if alpha is not None:
        alpha = float(alpha)
        ok = (0.0 <= alpha <= 1.0) if sys.is_discrete else (alpha <= 0.0)
        if not (np.isfinite(alpha) and ok):
            want = "0 <= alpha <= 1 (discrete time)" if sys.is_discrete else "alpha <= 0 (continuous time)"
            raise InputError(f"alpha must satisfy {want}, got {alpha!r}")
        if solver == "adi":
            raise InputError("alpha= needs the dense solver (an ordered Schur form); use solver='hammarling'")
    index2 = _index2_structure(sys, solver, frequency_band, alpha)
    if index2 is not None:
        from physfact.control.dae_stokes import stokes_balanced_truncation

        maxiter = adi_options.pop("maxiter", 300)
        adi_options.pop("separate", None)  # both Gramians always share each saddle-point LU
        if adi_options:
            raise InputError(f"options {sorted(adi_options)} are not supported by the index-2 (Stokes-type) route")
        return stokes_balanced_truncation(sys, index2, rank=rank, tol=tol, method=method, adi_tol=adi_tol,
                                          maxiter=maxiter, t0=t0, progress=progress)
    if sys.semi_explicit is not None and alpha is None:
        # sparse E = [[E11, 0], [0, 0]]: LR-ADI on the augmented pencil, no Schur complement formed
        # (above AUTO_DENSE_LIMIT; between AUTO_ADI_MIN and it tried first, as for ODEs: the dense
        # split costs 9 s at n = 1200, the sparse route 0.05 s)
        from physfact.control.dae_index1 import index1_balanced_truncation

        def index1(*args):
            return index1_balanced_truncation(sys, rank=rank, tol=tol, method=method, adi_tol=adi_tol,
                                              frequency_band=frequency_band, progress=progress, t0=t0,
                                              **adi_options)

        if solver == "adi" or (solver == "auto" and sys.n > AUTO_DENSE_LIMIT):
            return index1()
        if solver == "auto" and sys.n > AUTO_ADI_MIN and frequency_band is None:
            trial = _try_lowrank(sys, rank, tol, method, adi_tol, adi_options, t0, progress, run=index1)
            if trial is not None:
                return trial
    if solver == "auto":
        lowrank_ok = sys.is_sparse and not sys.is_discrete and alpha is None
        if lowrank_ok and sys.n > AUTO_DENSE_LIMIT:
            solver = "adi"
        elif lowrank_ok and sys.n > AUTO_ADI_MIN and frequency_band is None and not sys.is_dae:
            trial = _try_lowrank(sys, rank, tol, method, adi_tol, adi_options, t0, progress)
            if trial is not None:
                return trial
            solver = "hammarling"
        else:
            solver = "hammarling"
    if sys.is_dae:
        if solver == "adi":
            raise InputError("singular E (a DAE): solver='adi' needs a sparse E = [[E11, 0], [0, 0]] up to a "
                             "permutation (semi-explicit index 1) and alpha=None; use solver='hammarling' "
                             "(the dense split, any index, moderate n)")
        from physfact.control.dae import dae_balanced_truncation

        return dae_balanced_truncation(sys, rank=rank, tol=tol, method=method, alpha=alpha, t0=t0,
                                       progress=progress, frequency_band=frequency_band)
    if frequency_band is not None:
        from physfact.control.frequency_limited import frequency_limited_bt

        return frequency_limited_bt(sys, frequency_band, rank=rank, tol=tol, method=method, solver=solver,
                                    adi_tol=adi_tol, t0=t0, progress=progress, **adi_options)
    if solver == "adi":
        return _bt_lowrank(sys, rank, tol, method, adi_tol, adi_options, t0, progress)
    from physfact.validation import check_memory

    # dense Hammarling: A, its real and complex Schur forms and vectors, two n x n factors, the SVD
    check_memory(12 * 8.0 * sys.n**2, f"dense balanced truncation at n = {sys.n}",
                 "use solver='adi' (sparse, continuous time) or a smaller model")
    from physfact.control._blas import blas_threads_for

    with blas_threads_for(sys.n):
        return _bt_dense(sys, rank, tol, method, t0, alpha, progress)


def _index2_structure(sys, solver, frequency_band, alpha):
    """The Stokes-type index-2 structure of a sparse DAE when its route
    (:mod:`physfact.control.dae_stokes`) applies: solver "adi", or "auto" with n > AUTO_ADI_MIN
    (below, the dense DAE split is exact to roundoff and as fast); None otherwise."""
    if solver == "hammarling" or (solver == "auto" and sys.n <= AUTO_ADI_MIN) or not sys.is_sparse:
        return None
    from physfact.control.dae_stokes import stokes_structure

    st = stokes_structure(sys)
    if st is not None and (frequency_band is not None or alpha is not None):
        raise InputError("frequency_band and alpha are not supported for index-2 (Stokes-type) DAEs; the sparse "
                         "index-2 route reduces the whole proper part")
    return st


#: "auto" tries LR-ADI first for sparse continuous-time systems above this order. Measured (CPU s,
#: one thread, tol=1e-6): heat1d n=400 0.19 dense / 0.025 ADI, heat2d n=841 0.88 / 0.018, FOM n=1006
#: 0.83 / 0.033; msd n=300 (lightly damped) 0.11 dense while ADI stalls -- hence the fallback.
AUTO_ADI_MIN = 500


def _try_lowrank(sys, rank, tol, method, adi_tol, adi_options, t0, progress=None, run=None):
    """LR-ADI balanced truncation when it is reliable for this request, else None (use dense).
    ``run`` (same arguments as :func:`_bt_lowrank`) replaces it: the sparse index-1 DAE route, whose
    SingularMatrixError (not index 1) and UnstableSystemError (the dense split keeps unstable poles
    exactly) also mean "use dense".

    Reliable: ADI converged, and the kept order stops at Hankel singular values the ADI factors
    resolve (hsv[r-1] >= 100 adi_tol hsv[0]; below that the factors' residual, not the system,
    decides the values). Warnings of an accepted run are re-emitted; a rejected run is silent.
    """
    from physfact.errors import ConvergenceError, SingularMatrixError, UnstableSystemError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = (run or _bt_lowrank)(sys, rank, tol, method, adi_tol, adi_options, t0, progress)
        except ConvergenceError:
            return None
        except (SingularMatrixError, UnstableSystemError):
            if run is None:
                raise
            return None
    r = res.order
    if r < 1 or res.hsv.size <= r or res.hsv[r - 1] < 100.0 * adi_tol * res.hsv[0]:
        return None
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=3)
    res.info["auto"] = "LR-ADI (sparse, n > %d, order within the factors' resolution)" % AUTO_ADI_MIN
    return res


def _floor(hsv, D):
    return 100.0 * EPS * ((hsv[0] if hsv.size else 0.0) + np.linalg.norm(D, 2))


def _warn_floor(tol, floor):
    if tol is not None and tol < floor:
        warnings.warn(f"requested H-infinity error {tol:.3g} is below the roundoff floor {floor:.3g} "
                      "(~100 eps ||G||); the Hankel singular values below it are noise and the "
                      "reduced model cannot be that accurate", RoundoffFloorWarning, stacklevel=3)


def _resolvable_order(hsv, r, floor):
    """Cap the order ``r`` at the number of Hankel singular values above the roundoff ``floor``:
    the directions of the ones below are noise, and projecting onto them (scaled by
    sigma^{-1/2}) gave unstable reduced models of stable systems (heat1d:50 at r = 30: a pole at
    +0.009). Warns when it caps."""
    if not np.any(hsv > 0):
        raise InputError("every Hankel singular value is zero: the transfer function is constant "
                         "(B = 0, C = 0, or no state both controllable and observable); there is nothing "
                         "to reduce -- check B and C")
    r_res = max(1, int(np.count_nonzero(hsv > floor)))
    if r > r_res:
        warnings.warn(f"requested order {r} exceeds the {r_res} Hankel singular values above the roundoff "
                      f"floor {floor:.2g}; keeping order {r_res} (the others are noise and would make the "
                      "reduced model unreliable or unstable)", RoundoffFloorWarning, stacklevel=4)
        r = r_res
    return r


def _is_stable_matrix(Ar, discrete):
    if Ar.shape[0] == 0:
        return True
    lam = np.linalg.eigvals(Ar)
    return bool(np.all(np.abs(lam) < 1)) if discrete else bool(np.all(lam.real < 0))


def _stable_order(build, r, discrete):
    """``build(r) -> (Ar, ...)`` for the largest order <= r whose reduced matrix Ar is stable.

    A backstop behind :func:`_resolvable_order`: in exact arithmetic BT of a stable system is
    stable, but with sigma_r near the noise level rounding can move a pole across the axis.
    Returns (r, build(r))."""
    r0 = r
    while True:
        out = build(r)
        if r <= 1 or _is_stable_matrix(out[0], discrete):
            break
        r -= 1
    if not _is_stable_matrix(out[0], discrete):
        from physfact.errors import ConvergenceError

        raise ConvergenceError("no stable reduced model could be formed: even order 1 has an unstable pole "
                               "(the Gramians are not accurate enough; check the model's scaling)")
    if r < r0:
        warnings.warn(f"the reduced model of order {r0} had a pole outside the stability region (rounding "
                      f"at Hankel singular values near the noise); keeping order {r}", RoundoffFloorWarning,
                      stacklevel=4)
    return r, out


def hsv_resolution(Lc, Lo) -> float:
    """10 sqrt(n) eps ||L_c||_F ||L_o||_F: the absolute accuracy of Hankel singular values computed
    from the factors (the product L_o^T E L_c carries rounding ~ sqrt(n) eps ||L_o|| ||L_c||, and
    by Weyl's inequality so do its singular values); the factor 10 covers the Gramian solves
    (heat2d:10 at r = 15: true error 5.7e-16 = 4x sqrt(n) eps ||L_c||_F ||L_o||_F, build r = 48:
    1.5x)."""
    return float(10.0 * np.sqrt(Lc.shape[0]) * EPS * np.linalg.norm(Lc) * np.linalg.norm(Lo))


def _honest_bound(hsv, r, floor, rounding=0.0, resolution=0.0):
    """2 sum(hsv[r:]) plus :data:`ROUNDING_MARGIN` times the measured rounding of the projection
    (:func:`projection_rounding`; it adds to the truncation error: a random 17-state system at
    r = 16 had a true error 5e-14 above 2 sigma_17 = 6.5e-12), never below the roundoff floor (a
    smaller error cannot be resolved) nor the accuracy of the Hankel singular values
    (:func:`hsv_resolution`)."""
    return float(max(2.0 * np.sum(hsv[r:]) + ROUNDING_MARGIN * rounding, floor, resolution))


def _bt_dense_qz(sys, rank, tol, method, t0, progress=None):
    """Dense BT for an ill-conditioned E: Gramian factors from the QZ form (no E^{-1}).
    Returns None when the pencil is not stable (the caller then uses the E^{-1} path, which
    splits off the unstable part)."""
    from physfact.control.hammarling import QZGramianSolver
    from physfact.errors import UnstableSystemError

    A, B, C, D, E = sys.dense_matrices()
    try:
        with step(progress, "QZ form of (A, E)"):
            solver = QZGramianSolver(A, E)
    except UnstableSystemError:
        return None
    Lc, Lo = solver.factors(B, C, progress)
    U, s, Vt = sla.svd(Lo.T @ (E @ Lc), full_matrices=False, lapack_driver="gesdd", check_finite=False)
    floor = _floor(s, D)
    _warn_floor(tol, floor)
    r0 = _resolvable_order(s, choose_order(s, rank, tol), floor)
    r, V, W, Ar, Br, Cr, Dr, rounding = _reduce_stable(Lc, Lo, (U, s, Vt), r0, method,
                                                       lambda V, W: (V, W, W.T @ (A @ V), W.T @ B, C @ V), D,
                                                       sys.is_discrete, sys.n, E)
    rom = LTISystem(Ar, Br, Cr, Dr, None, sys.dt)
    return BTResult(rom=rom, hsv=s, error_bound=_honest_bound(s, r, floor, rounding, hsv_resolution(Lc, Lo)),
                    V=V, W=W, order=r, n_unstable=0, method=method, solver="hammarling-qz", floor=floor,
                    seconds=time.perf_counter() - t0, rounding=rounding,
                    info={"stable_order": r, "reduction": "QZ", "rcond_E": sys.efactor.rcond})


def _bt_dense(sys, rank, tol, method, t0, alpha=None, progress=None):
    from physfact.control.hammarling import QZ_RCOND, DenseGramianSolver

    if sys.E is not None and not sys.is_discrete and alpha is None:
        from physfact.control.descriptor import EFactor

        rcond = sys.efactor.rcond if not sys.efactor.sparse else EFactor(sys.dense_matrices()[4]).rcond
        if rcond < QZ_RCOND:
            res = _bt_dense_qz(sys, rank, tol, method, t0, progress)
            if res is not None:
                return res
    A, B, C, D = sys.standard_form()
    n = A.shape[0]
    discrete = sys.is_discrete
    # split off the unstable part only when there is one (the common case costs nothing extra:
    # DenseGramianSolver's own Schur form checks stability)
    lam = None
    solver = None
    if alpha is None:
        try:
            with step(progress, "Schur form of A"):
                solver = DenseGramianSolver(A, None, discrete)
            k = n
        except Exception as exc:
            from physfact.errors import UnstableSystemError

            if not isinstance(exc, UnstableSystemError):
                raise
    if solver is None:
        with step(progress, "ordered Schur form (stable/unstable split)"):
            Qs, T, k, X = _split_unstable(A, discrete, alpha)
        Q1, Q2 = Qs[:, :k], Qs[:, k:]
        B1 = Q1.T @ B + X @ (Q2.T @ B)
        B2 = Q2.T @ B
        C1 = C @ Q1
        C2 = C @ Q2 - C1 @ X
        T22 = T[k:, k:]
        lam = np.linalg.eigvals(T22)
        if k > 0:
            solver = DenseGramianSolver(T[:k, :k], None, discrete)
    else:
        B1, C1 = B, C
    n_unstable = n - k
    if k > 0:
        bars = [progress(None, total=k, desc=f"Gramian {j}/2 (Hammarling)", unit="columns") if progress else None
                for j in (1, 2)]
        try:
            Sc = solver.factor_schur(B1, bar=bars[0])
            So = solver.factor_schur(C1.T, trans=True, bar=bars[1])
        finally:
            for bar in bars:
                if bar is not None:
                    bar.close()
        svd = sla.svd(So.T @ Sc, full_matrices=False, lapack_driver="gesdd", check_finite=False)
        hsv_all = svd[1]
        floor = _floor(hsv_all, D)
        _warn_floor(tol, floor)
        Qr = solver.schur.Qr

        def project(Vb, Wb):
            Vb, Wb = Qr @ Vb, Qr @ Wb  # bases in the coordinates of the stable block
            return Vb, Wb, Wb.T @ (solver.Ahat @ Vb), Wb.T @ B1, C1 @ Vb

        hsv = hsv_all
        r0 = _resolvable_order(hsv_all, choose_order(hsv_all, rank, tol), floor)
        r, Vs, Ws, Ar, Br, Cr, Dr, rounding = _reduce_stable(Sc, So, svd, r0, method, project, D, discrete, k)
    else:
        Dr = D.copy()
        rounding = 0.0
        hsv = np.zeros(0)
        floor = _floor(hsv, D)
        r = 0
        Vs = np.zeros((0, 0))
        Ws = np.zeros((0, 0))
        Ar, Br, Cr = np.zeros((0, 0)), np.zeros((0, B.shape[1])), np.zeros((C.shape[0], 0))
    if n_unstable:
        # full-order bases: V = [Q1 Vs, Q2 - Q1 X], W^T = [Ws^T (Q1^T + X Q2^T); Q2^T] (E = I coords)
        V = np.hstack([Q1 @ Vs, Q2 - Q1 @ X]) if k > 0 else Q2
        Wt_hat = np.vstack([Ws.T @ (Q1.T + X @ Q2.T), Q2.T]) if k > 0 else Q2.T
        Ar = sla.block_diag(Ar, T22)
        Br = np.vstack([Br, B2])
        Cr = np.hstack([Cr, C2])
        What = Wt_hat.T
    else:
        V, What = Vs, Ws
    # What = E^T W (W^T E V = What^T V = I); return W for the original pencil
    W = sys.efactor.solve(What, trans=True) if sys.E is not None else What
    rom = LTISystem(Ar, Br, Cr, Dr, None, sys.dt)
    bound = _honest_bound(hsv, r, floor, rounding, hsv_resolution(Sc, So)) if k > 0 else 0.0  # nothing stable: nothing was truncated
    info = {"stable_order": r, "unstable_poles": lam}
    if n_unstable and k > 0:  # G = G_s + G_u with G_u kept exactly: the bound is about G_s - G_sr
        info["stable_part"] = LTISystem(T[:k, :k], B1, C1, D.copy(), None, sys.dt)
    return BTResult(rom=rom, hsv=hsv, error_bound=bound, V=V, W=W, order=r + n_unstable,
                    n_unstable=n_unstable, method=method, solver="hammarling", floor=floor,
                    seconds=time.perf_counter() - t0, rounding=rounding, info=info)


def share_factorizations(m: int, p: int) -> bool:
    """Whether balanced truncation should compute both Gramian factors in one LR-ADI run sharing
    each factorization (``lradi_pair``) rather than in two runs (``separate=True``).

    Sharing halves the factorizations but the shifts then serve two equations; measured (LR-ADI to
    1e-10, projection shifts): with few inputs and outputs the joint Galerkin space gives shifts as
    good for both (FOM, P1 heat model, m = p = 1: 25-35% less CPU), with wide blocks each equation
    needs its own (rail, m = 7, p = 6: 96/82 instead of 73/62 steps, 20% more CPU and a higher
    memory peak, as both factors grow at once). Rule: share when m + p <= 4.
    """
    return m + p <= 4


def _bt_lowrank(sys, rank, tol, method, adi_tol, adi_options, t0, progress=None):
    from physfact.control.lyapunov import lyapunov_factor

    if sys.is_discrete:
        raise InputError("the low-rank (ADI) solver handles continuous time only; use solver='hammarling'")
    from physfact.control.lradi import lradi_pair

    adi_options = dict(adi_options)
    separate = adi_options.pop("separate", None)
    if separate is None:
        separate = not share_factorizations(sys.B.shape[1], sys.C.shape[0])
    if not separate:
        fc, fo = lradi_pair(sys.A, sys.B, sys.C, sys.E, tol=adi_tol, progress=phase(progress, "Gramians 1+2/2"),
                            **adi_options)
    else:
        fc = lyapunov_factor(sys.A, sys.B, sys.E, trans=False, method="adi", tol=adi_tol,
                             progress=phase(progress, "Gramian 1/2"), **adi_options)
        fo = lyapunov_factor(sys.A, sys.C.T, sys.E, trans=True, method="adi", tol=adi_tol,
                             progress=phase(progress, "Gramian 2/2"), **adi_options)
    Lc, Lo = fc.Z, fo.Z
    ELc = Lc if sys.E is None else sys.E @ Lc
    # Lo^T E Lc (ko x kc) directly: both factors are thin, so the product is small
    core = Lo.T @ ELc
    U, s, Vt = sla.svd(core, full_matrices=False)
    floor = _floor(s, sys.D)
    _warn_floor(tol, floor)
    r0 = _resolvable_order(s, choose_order(s, rank, tol), floor)
    r, V, W, Ar, Br, Cr, Dr, rounding = _reduce_stable(Lc, Lo, (U, s, Vt), r0, method,
                                             lambda V, W: (V, W, W.T @ (sys.A @ V), W.T @ sys.B, sys.C @ V),
                                             sys.D, False, sys.n, sys.E, spa_rtol=SPA_LOWRANK_RTOL * adi_tol)
    rom = LTISystem(Ar, Br, Cr, Dr, None, sys.dt)
    info = {"factor_columns": (Lc.shape[1], Lo.shape[1]), "residuals": (fc.residual, fo.residual),
            "iterations": (fc.iterations, fo.iterations), "stable_order": r,
            "factorizations": (fc.info.get("factorizations"), fo.info.get("factorizations")),
            "shared_factorizations": not separate,
            "columns_before_compression": (fc.info.get("columns_before"), fo.info.get("columns_before"))}
    return BTResult(rom=rom, hsv=s, error_bound=_honest_bound(s, r, floor, rounding, hsv_resolution(Lc, Lo)),
                    V=V, W=W, order=r, n_unstable=0, method=method, solver=fc.method, floor=floor, seconds=time.perf_counter() - t0,
                    rounding=rounding, info=info)
