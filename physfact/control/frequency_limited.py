r"""Frequency-limited balanced truncation (FLBT).

Gawronski & Juang, "Model reduction in limited time and frequency intervals", Int. J. Systems Sci.
21 (1990) 349; low-rank form after Benner, Kürschner & Saak, "Frequency-limited balanced truncation
with low-rank approximations", SIAM J. Sci. Comput. 38 (2016) A471.

For a stable continuous-time system with :math:`\hat A = E^{-1}A`, the band Gramians of
:math:`\Omega = [-\omega_2, -\omega_1] \cup [\omega_1, \omega_2]` (rad/s) are

.. math::  P_\Omega = \frac{1}{2\pi}\int_\Omega (i\nu I - \hat A)^{-1} \hat B \hat B^T (i\nu I - \hat A)^{-H} d\nu
           = S P + P S^T, \qquad
           \hat Q_\Omega = S^T \hat Q + \hat Q S,

with P, :math:`\hat Q = E^T Q E` the ordinary Gramians and

.. math::  S = S(\omega_2) - S(\omega_1), \quad
           S(\omega) = \mathrm{Re}\Big(\frac{i}{\pi}\log(-\hat A - i\omega I)\Big),\quad
           S(0) = 0,\ S(\infty) = I/2

(principal matrix logarithm). The Hankel-like singular values are those of :math:`L_o^T E L_c`
with :math:`P_\Omega \approx L_c L_c^T`, and the ROM is the square-root projection as in
:mod:`physfact.control.balanced_truncation`.

*Dense path*: P and Q by Hammarling, S by diagonalization of :math:`\hat A` when its eigenvectors are
well conditioned, else by :func:`scipy.linalg.logm` (O(n^3) either way).
*Low-rank path*: with ADI factors P ~= Z Z^T, :math:`P_\Omega = [SZ, Z] J [SZ, Z]^T`,
J = [[0, I], [I, 0]]; SZ is evaluated by a Galerkin (rational Krylov) projection on the span of Z --
itself a rational Krylov space of the ADI shifts -- enriched with :math:`(i\omega E - A)^{-1} B` at
a few band frequencies (where log(-A - i omega) is singular); a QR of [SZ, Z] and the eigenvalues of
the small core give the factor. No n x n matrix is formed.

The band Gramians may be indefinite; their positive part is used. The resulting ROM need not be
stable: then orders r + 1 and r - 1 are tried (``order`` differs from ``rank``; an unstable ROM
mostly comes from splitting a pair of nearly equal band values of a lightly damped resonance), and
if neither is stable the *modified* Gramians of Gugercin & Antoulas (Int. J. Control 77 (2004) 748) are used
instead (the indefinite right-hand side S B B^T + B B^T S^T of the band Lyapunov equation replaced
by its absolute value, which guarantees stability), and ``info["gramians"]`` says so.

No a-priori error bound exists: ``error_bound`` is nan, and ``info["band_error"]`` holds the
sampled H-infinity error max_{w1 <= w <= w2} ||G(iw) - G_r(iw)||_2 (a lower estimate of the
in-band norm) from an adaptive grid placed at the resonances and refined near the maximum
(:func:`band_error`; ``info["band_error_note"]`` says how it was obtained).
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla

from physfact.control.descriptor import sparse_lu
from physfact.control.frequency_grid import adaptive_frequency_grid
from physfact.control.lti import LTISystem
from physfact.errors import InputError

#: Starting log-spaced frequencies of the in-band error grid (see :func:`band_error`).
BAND_START = 16
#: Neighbours of a sampled local maximum of the in-band error are refined to within this (dB):
#: 0.002 dB = 2.3e-4 relative.
BAND_PEAK_DB = 0.002
#: Intervals whose error changes by more than this (dB) are bisected.
BAND_STEP_DB = 3.0
#: Intervals and local maxima of the error more than this (dB) below the largest sample are left
#: coarse (notches where the ROM matches a resonance, low peaks): a peak sampled at its pole's
#: frequency and half-width cannot rise 2x above its samples.
BAND_FLOOR_DB = 6.0
#: Cap on the number of in-band error samples.
BAND_MAX_POINTS = 1000
#: Band frequencies at which the low-rank path enriches the Galerkin space.
ENRICH_POINTS = 4


def check_band(frequency_band):
    """(w1, w2) as floats with 0 <= w1 < w2 <= inf, or InputError."""
    try:
        w1, w2 = (float(w) for w in frequency_band)
    except (TypeError, ValueError):
        raise InputError(f"frequency_band must be a pair (w1, w2) in rad/s, got {frequency_band!r}") from None
    if not (np.isfinite(w1) and 0.0 <= w1 < w2 and not np.isnan(w2)):
        raise InputError(f"frequency_band needs 0 <= w1 < w2 <= inf (rad/s), got ({w1}, {w2})")
    return w1, w2


#: Largest condition number of the eigenvector matrix for which S is evaluated by diagonalization
#: (error ~ cond * eps); beyond it (nearly defective matrices) the Schur-based logm is used.
EIG_COND_MAX = 1e6


def band_operator(Ahat, w1, w2):
    r"""S = S(w2) - S(w1), S(w) = Re((i/pi) logm(-Ahat - i w I)) (see the module docstring)."""
    return _band_operator(Ahat, w1, w2)[0]


def _log_term(lam, w):
    """(i/pi) log(-lam - i w) with the limits S(0) = 0, S(inf) = 1/2 (per eigenvalue)."""
    if w == 0.0:
        return np.zeros_like(lam)
    if np.isinf(w):
        return np.full_like(lam, 0.5)
    return 1j / np.pi * np.log(-lam - 1j * w)


def _band_operator(Ahat, w1, w2):
    """(S, eigenvalues of Ahat). Diagonalization Ahat = X diag(lam) X^{-1} when X is well
    conditioned (for a stable Ahat, -lam - i w lies in the right half-plane, away from the principal
    logarithm's branch cut), else the Schur-based :func:`scipy.linalg.logm` (~5x slower)."""
    n = Ahat.shape[0]
    lam, X = sla.eig(Ahat, check_finite=False)
    if np.all(lam.real < 0) and np.linalg.cond(X) <= EIG_COND_MAX:
        f = _log_term(lam, w2) - _log_term(lam, w1)
        return np.real((X * f) @ np.linalg.inv(X)), lam

    def s_of(w):
        if w == 0.0:
            return np.zeros((n, n))
        if np.isinf(w):
            return 0.5 * np.eye(n)
        return np.real(1j / np.pi * sla.logm(-Ahat - 1j * w * np.eye(n)))

    return s_of(w2) - s_of(w1), lam


def band_gramians(sys: LTISystem, frequency_band):
    r"""Dense band Gramians (P_Omega, Qhat_Omega) of a stable continuous-time system.

    ``Qhat_Omega`` is the band observability Gramian of the standard form (E^{-1}A, E^{-1}B, C), i.e.
    E^T Q_Omega E; both are symmetric n x n arrays.
    """
    from physfact.control.lyapunov import solve_lyapunov

    w1, w2 = check_band(frequency_band)
    A, B, C, _ = sys.standard_form()
    P = solve_lyapunov(A, B @ B.T)
    Q = solve_lyapunov(A.T, C.T @ C)
    S = band_operator(A, w1, w2)
    SP = S @ P
    QS = Q @ S
    return SP + SP.T, QS + QS.T


def _positive_factor(F, J=None, sym=None):
    """L with L L^T = the positive part of F J F^T (or of the symmetric ``sym``)."""
    if sym is None:
        Qf, R = np.linalg.qr(F)
        sym = R @ J @ R.T
    else:
        Qf = None
    lam, U = sla.eigh(0.5 * (sym + sym.T))
    keep = lam > lam.max(initial=0.0) * sym.shape[0] * np.finfo(float).eps
    L = U[:, keep] * np.sqrt(lam[keep])
    return L if Qf is None else Qf @ L


def _abs_factor(F, J):
    """L with L L^T = |F J F^T| (eigenvalues replaced by their absolute values)."""
    Qf, R = np.linalg.qr(F)
    lam, U = sla.eigh(R @ J @ R.T)
    keep = np.abs(lam) > np.abs(lam).max(initial=0.0) * F.shape[1] * np.finfo(float).eps
    return Qf @ (U[:, keep] * np.sqrt(np.abs(lam[keep])))


def _swap(k):
    Z, I = np.zeros((k, k)), np.eye(k)
    return np.block([[Z, I], [I, Z]])


def _band_resolvents(A, E, B, C, D, w1, w2):
    """(i w E - A)^{-1} B and (i w E - A)^{-T} C^T (real and imaginary parts) at ENRICH_POINTS
    band frequencies: one factorization per frequency serves both (a transposed solve). Also
    returns (w, G(i w)) there (one refinement step, as :meth:`LTISystem.freqresp`), which the
    in-band error reuses."""
    import scipy.sparse as sp

    hi = w2 if np.isfinite(w2) else 10.0 * max(w1, 1.0)
    lo = w1 if w1 > 0 else hi * 1e-3
    n = A.shape[0]
    Ec = (sp.eye(n, format="csc") if sp.issparse(A) else np.eye(n)) if E is None else E
    Bc, Ct = B.astype(complex), C.T.astype(complex)
    right, left, G = [], [], []
    w = np.geomspace(lo, hi, ENRICH_POINTS)
    for wk in w:
        M = (1j * wk) * Ec - A
        if sp.issparse(M):
            lu = sparse_lu(M)
            Y, X = lu.solve(Bc), lu.solve(Ct, trans="T")
            Y += lu.solve(Bc - M @ Y)
        else:
            lu = sla.lu_factor(M, check_finite=False)
            Y, X = sla.lu_solve(lu, Bc), sla.lu_solve(lu, Ct, trans=1)
            Y += sla.lu_solve(lu, Bc - M @ Y)
        right += [Y.real, Y.imag]
        left += [X.real, X.imag]
        G.append(C @ Y + D)
    return right, left, (w, np.array(G))


def _galerkin(A, E, Z, rhs, extra, w1, w2, to_state=None):
    """(Q, S_r, Ritz values): Q an orthonormal basis of span[Z, rhs, extra] (``extra``: the
    resolvents of rhs at band points, :func:`_band_resolvents`) and S_r the band operator of the
    projected pencil, so that S(E^{-1}A) X ~= Q S_r Q^T X for X in the span. ``to_state`` maps
    ``rhs`` into the space of the states before it joins the span (a DAE: onto the hidden manifold,
    where the Galerkin pencil has only finite eigenvalues)."""
    K = np.hstack([Z, rhs if to_state is None else to_state(rhs)] + extra)
    norms = np.linalg.norm(K, axis=0)
    Q = sla.orth(K[:, norms > 0] / norms[norms > 0])  # unit columns: no direction lost to scaling
    Ar = Q.T @ (A @ Q)
    Er = np.eye(Q.shape[1]) if E is None else Q.T @ (E @ Q)
    Sr, ritz = _band_operator(np.linalg.solve(Er, Ar), w1, w2)
    return Q, Sr, ritz


def _band_factor(Q, Sr, Z):
    """L with L L^T = the positive part of [SZ, Z] J [SZ, Z]^T, SZ = Q S_r Q^T Z; as Z lies in span(Q),
    [SZ, Z] = Q [S_r Z_q, Z_q] (Z_q = Q^T Z) and the QR and eigenproblem are those of a small matrix."""
    Zq = Q.T @ Z
    return Q @ _positive_factor(np.hstack([Sr @ Zq, Zq]), _swap(Z.shape[1]))


def band_error(sys: LTISystem, rom: LTISystem, w1, w2, poles=(), known=None, progress=None):
    """Sampled in-band H-infinity error max ||G(i w) - G_r(i w)||_2 over w1 <= w <= w2.

    The grid: BAND_START log-spaced points and the band ends, plus, for every resonant pole
    sigma + i omega (|sigma| < omega) of ``rom`` and of ``poles`` (e.g. the full model's Ritz
    values), omega and omega +- |sigma| where in the band (a lightly damped pole makes a peak of
    half-width |sigma| there); then refined by :func:`physfact.control.frequency_grid.adaptive_frequency_grid`:
    intervals whose ends differ by more than BAND_STEP_DB are bisected, and so are both neighbours of
    every sampled local maximum until they lie within BAND_PEAK_DB of it (the peak is concave
    there, so the sampled maximum is within ~BAND_PEAK_DB of the local maximum it brackets). Each
    point costs one full-model frequency response (a sparse LU for sparse models); ``known`` =
    (w, G(i w)) already computed (in the band) join the grid for free. ``progress``
    (:mod:`physfact.progress`): a "band error" bar counting the frequencies (the total is not known
    in advance: the grid grows where the error peaks).

    Returns
    -------
    error : float
        The largest sampled value (a lower estimate of the in-band H-infinity norm of G - G_r).
    frequency : float
        Where it was attained (rad per time unit).
    points : int
        Number of frequencies evaluated.
    note : str
        How the number was obtained (for ``info``).
    """
    hi = w2 if np.isfinite(w2) else 1e3 * max(w1, 1.0)
    lo = w1 if w1 > 0 else hi * 1e-4
    p = np.concatenate([np.asarray(poles, dtype=complex).ravel(), rom.poles()])
    p = p[np.isfinite(p)]
    om, half = np.abs(p.imag), np.abs(p.real)
    peaked = om > half  # damping ratio below 1/sqrt(2): |G| has a resonance peak near omega
    om, half = om[peaked], half[peaked]
    seeds = np.unique(np.concatenate([om, om - half, om + half]))
    seeds = seeds[(seeds > lo) & (seeds < hi)]
    kw, kG = (np.zeros(0), None) if known is None else known
    start = np.concatenate([[w1, hi], np.geomspace(lo, hi, BAND_START), seeds, kw])

    bar = progress(None, total=None, desc="band error", unit="frequencies") if progress is not None else None

    def evaluate(w):
        if bar is not None:
            bar.update(w.size)
        G = np.empty((w.size, sys.p, sys.m), dtype=complex)
        at = np.searchsorted(kw, w).clip(max=max(kw.size - 1, 0))
        hit = (kw[at] == w) if kw.size else np.zeros(w.size, dtype=bool)
        if hit.any():
            G[hit] = kG[at[hit]]
        if not hit.all():
            G[~hit] = sys.freqresp(w[~hit])
        return np.linalg.norm(G - rom.freqresp(w), ord=2, axis=(1, 2))

    try:
        w, err = adaptive_frequency_grid(evaluate, start, step_db=BAND_STEP_DB, peak_db=BAND_PEAK_DB,
                                         floor_db=BAND_FLOOR_DB, max_points=BAND_MAX_POINTS)
    finally:
        if bar is not None:
            bar.close()
    err = err[:, 0]
    i = int(np.argmax(err))
    capped = " (stopped at the cap on points: peaks may be under-resolved)" if w.size >= BAND_MAX_POINTS else ""
    note = (f"max of ||G - G_r||_2 over {w.size} in-band frequencies: {BAND_START} log-spaced, the band ends, "
            f"{kw.size} reused from the Galerkin step, {seeds.size} at resonant poles (+- their half-width) "
            "of the ROM and of the model's Ritz values, "
            f"refined where within {BAND_FLOOR_DB:g} dB of the largest: steps over {BAND_STEP_DB:g} dB bisected, "
            f"local maxima to {BAND_PEAK_DB} dB{capped}; a sampled value, "
            "a lower estimate of the in-band H-infinity error")
    return float(err[i]), float(w[i]), int(w.size), note


def frequency_limited_bt(sys: LTISystem, frequency_band, rank=None, tol=None, method="sr", solver="hammarling",
                         adi_tol=1e-10, t0=None, progress=None, **adi_options):
    """Frequency-limited balanced truncation; called by :func:`balanced_truncation` with
    ``frequency_band=(w1, w2)`` (see there and the module docstring). ``tol`` is applied to the
    band singular values as in BT (2 sum(hsv[r:]) <= tol), though it bounds nothing here.
    ``progress`` (:mod:`physfact.progress`) shows the phases: "Gramian 1/2", "Gramian 2/2" (dense
    Bartels-Stewart, or LR-ADI with its residual), "band operator" (the matrix logarithms, or the
    Galerkin projections of the low-rank path), "band error" (frequencies)."""
    from physfact.control.balanced_truncation import BTResult, _floor, choose_order, projection_bases

    t0 = time.perf_counter() if t0 is None else t0
    w1, w2 = check_band(frequency_band)
    if sys.is_discrete:
        raise InputError("frequency_band= is for continuous-time systems (discrete: use dt=None or plain BT)")
    if method not in ("sr", "bfsr"):
        raise InputError(f"frequency-limited BT supports method='sr' or 'bfsr', got {method!r}")
    if solver == "adi":
        Lc, Lo, proj, E, info = _lowrank_factors(sys, w1, w2, adi_tol, adi_options, progress)
    else:
        sys.to_dense()._check_stable("frequency-limited balanced truncation")
        Lc, Lo, proj, E, info = _dense_factors(sys, w1, w2, progress)
    U, s, Vt = sla.svd(Lo.T @ (Lc if E is None else E @ Lc), full_matrices=False)
    r0 = min(choose_order(s, rank, tol), int(np.count_nonzero(s > 0)))
    # an unstable ROM usually means order r splits a pair of nearly equal band values (a lightly
    # damped resonance): try r + 1 and r - 1 with the exact Gramians before the modified ones,
    # which are stable by construction but far less accurate in the band
    for r in dict.fromkeys([r0, min(r0 + 1, s.size), max(r0 - 1, 1)]):
        V, W = projection_bases(Lc, Lo, U, s, Vt, r, method, E)
        rom = LTISystem(*proj(V, W), None, None)
        if np.all(np.linalg.eigvals(rom.A).real < 0):  # r x r, E = I: LTISystem.is_stable's test, no set-up
            info["gramians"] = "exact"
            break
    else:
        Lc, Lo = info["modified"]()
        U, s, Vt = sla.svd(Lo.T @ (Lc if E is None else E @ Lc), full_matrices=False)
        r = min(r0, int(np.count_nonzero(s > 0)))
        V, W = projection_bases(Lc, Lo, U, s, Vt, r, method, E)
        rom = LTISystem(*proj(V, W), None, None)
        info["gramians"] = "modified (Gugercin & Antoulas 2004)"
    info.pop("modified")
    info["requested_order"] = r0
    band_err, at, points, note = band_error(sys, rom, w1, w2, info.pop("poles"), info.pop("known"), progress)
    info.update(band=(w1, w2), band_error=band_err, band_error_frequency=at, band_error_points=points,
                band_error_note=note, stable_order=r,
                error_bound_note="no a-priori bound for frequency-limited BT; band_error is the sampled "
                                 "in-band H-infinity error (see band_error_note)")
    return BTResult(rom=rom, hsv=s, error_bound=float("nan"), V=V, W=W, order=r, n_unstable=0, method=method,
                    solver=("lradi" if solver == "adi" else "hammarling") + "+band", floor=_floor(s, sys.D),
                    seconds=time.perf_counter() - t0, info=info)


def _dense_factors(sys, w1, w2, progress=None):
    from physfact.control.lyapunov import solve_lyapunov
    from physfact.progress import step

    A, B, C, D = sys.standard_form()
    with step(progress, "band operator S (matrix logarithms)"):
        S, poles = _band_operator(A, w1, w2)
    with step(progress, "Gramian 1/2 (Bartels-Stewart)"):
        P = solve_lyapunov(A, B @ B.T)
    with step(progress, "Gramian 2/2 (Bartels-Stewart)"):
        Q = solve_lyapunov(A.T, C.T @ C)
    SP, QS = S @ P, Q @ S
    Lc = _positive_factor(None, sym=SP + SP.T)
    Lo = _positive_factor(None, sym=QS + QS.T)

    def modified():
        Fc = _abs_factor(np.hstack([S @ B, B]), _swap(B.shape[1]))
        Fo = _abs_factor(np.hstack([S.T @ C.T, C.T]), _swap(C.shape[0]))
        with step(progress, "modified Gramians (Bartels-Stewart)"):
            Pm, Qm = solve_lyapunov(A, Fc @ Fc.T), solve_lyapunov(A.T, Fo @ Fo.T)
        return _positive_factor(None, sym=Pm), _positive_factor(None, sym=Qm)

    def proj(V, W):
        return W.T @ A @ V, W.T @ B, C @ V, D.copy()

    return Lc, Lo, proj, None, {"modified": modified, "poles": poles, "known": None}


def _lowrank_factors(sys, w1, w2, adi_tol, adi_options, progress=None):
    from physfact.control.lyapunov import lyapunov_factor

    from physfact.control.balanced_truncation import share_factorizations
    from physfact.control.lradi import lradi_pair
    from physfact.progress import phase, step

    A, E, B, C = sys.A, sys.E, sys.B, sys.C
    adi_options = dict(adi_options)
    separate = adi_options.pop("separate", None)
    if separate is None:
        separate = not share_factorizations(B.shape[1], C.shape[0])
    if separate:
        fc = lyapunov_factor(A, B, E, trans=False, method="adi", tol=adi_tol, progress=phase(progress, "Gramian 1/2"),
                             **adi_options)
        fo = lyapunov_factor(A, C.T, E, trans=True, method="adi", tol=adi_tol, progress=phase(progress, "Gramian 2/2"),
                             **adi_options)
    else:
        fc, fo = lradi_pair(A, B, C, E, tol=adi_tol, progress=phase(progress, "Gramians 1+2/2"), **adi_options)
    At = A.T
    Et = None if E is None else E.T
    # a stand-in E^{-1} (a semi-explicit DAE, physfact.control.dae_index1): lift B, C^T to states
    Einv = adi_options.get("E_inverse")
    lift_c = None if Einv is None else (lambda R: Einv.solve(E @ R))
    lift_o = None if Einv is None else (lambda R: Einv.solve(Et @ R, trans=True))
    if Einv is None and E is not None:  # the states of B and C^T are E^{-1} B and E^{-T} C^T
        lift_c = sys.efactor.solve
        lift_o = lambda R: sys.efactor.solve(R, trans=True)  # noqa: E731
    with step(progress, "band operator 1/2 (Galerkin projection)"):
        right, left, known = _band_resolvents(A, E, B, C, sys.D, w1, w2)
        Qc, Sc, ritz = _galerkin(A, E, fc.Z, B, right, w1, w2, to_state=lift_c)
    with step(progress, "band operator 2/2 (Galerkin projection)"):
        Qo, So, _ = _galerkin(At, Et, fo.Z, C.T, left, w1, w2, to_state=lift_o)
    Lc, Lo = _band_factor(Qc, Sc, fc.Z), _band_factor(Qo, So, fo.Z)

    def modified():
        # Gugercin & Antoulas in the standard form x' = E^{-1}A x + E^{-1}B u: the controllability
        # right-hand side is |S xB xB^T + xB xB^T S^T| with xB = E^{-1}B the states of B and
        # S = S(E^{-1}A); E maps it to the generalized equation (E F)(E F)^T (the absolute value
        # does not commute with E). The observability side needs no E: its standard-form equation
        # is that of E^T Q E.
        if E is None:
            Fc = _abs_factor(np.hstack([Qc @ (Sc @ (Qc.T @ B)), B]), _swap(B.shape[1]))
            SC = Qo @ (So @ (Qo.T @ C.T))
        elif Einv is None:
            xB = lift_c(B)
            Fc = E @ _abs_factor(np.hstack([Qc @ (Sc @ (Qc.T @ xB)), xB]), _swap(B.shape[1]))
            SC = Et @ (Qo @ (So @ (Qo.T @ lift_o(C.T))))
        else:  # a DAE: S acts on the lifted states (zero algebraic rows of E map them back)
            SB = E @ (Qc @ (Sc @ (Qc.T @ lift_c(B))))
            Fc = _abs_factor(np.hstack([SB, B]), _swap(B.shape[1]))
            SC = Et @ (Qo @ (So @ (Qo.T @ lift_o(C.T))))
        Fo = _abs_factor(np.hstack([SC, C.T]), _swap(C.shape[0]))
        gc = lyapunov_factor(A, Fc, E, trans=False, method="adi", tol=adi_tol,
                             progress=phase(progress, "modified Gramian 1/2"), **adi_options)
        go = lyapunov_factor(A, Fo, E, trans=True, method="adi", tol=adi_tol,  # rare: separate runs
                             progress=phase(progress, "modified Gramian 2/2"), **adi_options)
        return gc.Z, go.Z

    def proj(V, W):
        return W.T @ (A @ V), W.T @ B, C @ V, sys.D.copy()

    info = {"factor_columns": (fc.Z.shape[1], fo.Z.shape[1]), "band_factor_columns": (Lc.shape[1], Lo.shape[1]),
            "residuals": (fc.residual, fo.residual), "modified": modified, "poles": ritz, "known": known}
    return Lc, Lo, proj, E, info
