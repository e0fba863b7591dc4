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

*Dense path*: P and Q by Hammarling, S by :func:`scipy.linalg.logm` (O(n^3)).
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
in-band norm).
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla

from physfact.control.lti import LTISystem
from physfact.errors import InputError

#: Frequencies sampled (log-spaced, plus the ends) for the reported in-band error.
BAND_SAMPLES = 120
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


def band_operator(Ahat, w1, w2):
    r"""S = S(w2) - S(w1), S(w) = Re((i/pi) logm(-Ahat - i w I)) (see the module docstring)."""
    n = Ahat.shape[0]

    def s_of(w):
        if w == 0.0:
            return np.zeros((n, n))
        if np.isinf(w):
            return 0.5 * np.eye(n)
        return np.real(1j / np.pi * sla.logm(-Ahat - 1j * w * np.eye(n)))

    return s_of(w2) - s_of(w1)


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


def _galerkin_s(A, E, Z, rhs, w1, w2, X=None, to_state=None):
    """S(E^{-1}A) X (default X = Z) by a Galerkin projection on span[Z, rhs, (i w E - A)^{-1} rhs at
    band points]. ``to_state`` maps ``rhs`` into the space of the states before it joins the span
    (a DAE: onto the hidden manifold, where the Galerkin pencil has only finite eigenvalues)."""
    import scipy.sparse as sp

    from physfact.control.descriptor import sparse_lu

    n = A.shape[0]
    hi = w2 if np.isfinite(w2) else 10.0 * max(w1, 1.0)
    lo = w1 if w1 > 0 else hi * 1e-3
    pts = np.geomspace(lo, hi, ENRICH_POINTS)
    Ec = sp.eye(n, format="csc") if E is None else E
    extra = []
    for w in pts:
        M = (1j * w) * Ec - A
        Y = sparse_lu(sp.csc_matrix(M)).solve(rhs.astype(complex)) if sp.issparse(M) else np.linalg.solve(M, rhs)
        extra += [Y.real, Y.imag]
    K = np.hstack([Z, rhs if to_state is None else to_state(rhs)] + extra)
    norms = np.linalg.norm(K, axis=0)
    Q = sla.orth(K[:, norms > 0] / norms[norms > 0])  # unit columns: no direction lost to scaling
    Ar = Q.T @ (A @ Q)
    Er = np.eye(Q.shape[1]) if E is None else Q.T @ (E @ Q)
    Sr = band_operator(np.linalg.solve(Er, Ar), w1, w2)
    X = Z if X is None else X
    return Q @ (Sr @ (Q.T @ X))


def _in_band_error(sys, rom, w1, w2, progress=None, chunk=10):
    hi = w2 if np.isfinite(w2) else 1e3 * max(w1, 1.0)
    lo = w1 if w1 > 0 else hi * 1e-4
    w = np.unique(np.concatenate([[w1], np.geomspace(lo, hi, BAND_SAMPLES), [hi]]))
    bar = progress(None, total=w.size, desc="band error", unit="frequencies") if progress is not None else None
    err = np.empty(w.size)
    try:
        for i in range(0, w.size, chunk):  # in chunks, so that the bar moves (each point a solve of size n)
            part = w[i:i + chunk]
            err[i:i + chunk] = np.linalg.norm(sys.freqresp(part) - rom.freqresp(part), ord=2, axis=(1, 2))
            if bar is not None:
                bar.update(part.size)
    finally:
        if bar is not None:
            bar.close()
    i = int(np.argmax(err))
    return float(err[i]), float(w[i])


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
        if rom.is_stable():
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
    band_err, at = _in_band_error(sys, rom, w1, w2, progress)
    info.update(band=(w1, w2), band_error=band_err, band_error_frequency=at, stable_order=r,
                error_bound_note="no a-priori bound for frequency-limited BT; band_error is the sampled "
                                 "in-band H-infinity error")
    return BTResult(rom=rom, hsv=s, error_bound=float("nan"), V=V, W=W, order=r, n_unstable=0, method=method,
                    solver=("lradi" if solver == "adi" else "hammarling") + "+band", floor=_floor(s, sys.D),
                    seconds=time.perf_counter() - t0, info=info)


def _dense_factors(sys, w1, w2, progress=None):
    from physfact.control.lyapunov import solve_lyapunov
    from physfact.progress import step

    A, B, C, D = sys.standard_form()
    with step(progress, "band operator S (matrix logarithms)"):
        S = band_operator(A, w1, w2)
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

    return Lc, Lo, proj, None, {"modified": modified}


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
    with step(progress, "band operator 1/2 (Galerkin projection)"):
        SZc = _galerkin_s(A, E, fc.Z, B, w1, w2, to_state=lift_c)
    with step(progress, "band operator 2/2 (Galerkin projection)"):
        SZo = _galerkin_s(At, Et, fo.Z, C.T, w1, w2, to_state=lift_o)
    Lc = _positive_factor(np.hstack([SZc, fc.Z]), _swap(fc.Z.shape[1]))
    Lo = _positive_factor(np.hstack([SZo, fo.Z]), _swap(fo.Z.shape[1]))

    def modified():
        if Einv is None:
            SB = _galerkin_s(A, E, fc.Z, B, w1, w2, X=B)
            SC = _galerkin_s(At, Et, fo.Z, C.T, w1, w2, X=C.T)
        else:  # a DAE: S acts on the lifted states; E maps back to right-hand sides (zero algebraic rows)
            SB = E @ _galerkin_s(A, E, fc.Z, B, w1, w2, X=lift_c(B), to_state=lift_c)
            SC = Et @ _galerkin_s(At, Et, fo.Z, C.T, w1, w2, X=lift_o(C.T), to_state=lift_o)
        Fc = _abs_factor(np.hstack([SB, B]), _swap(B.shape[1]))
        Fo = _abs_factor(np.hstack([SC, C.T]), _swap(C.shape[0]))
        gc = lyapunov_factor(A, Fc, E, trans=False, method="adi", tol=adi_tol,
                             progress=phase(progress, "modified Gramian 1/2"), **adi_options)
        go = lyapunov_factor(A, Fo, E, trans=True, method="adi", tol=adi_tol,  # rare: separate runs
                             progress=phase(progress, "modified Gramian 2/2"), **adi_options)
        return gc.Z, go.Z

    def proj(V, W):
        return W.T @ (A @ V), W.T @ B, C @ V, sys.D.copy()

    info = {"factor_columns": (fc.Z.shape[1], fo.Z.shape[1]), "band_factor_columns": (Lc.shape[1], Lo.shape[1]),
            "residuals": (fc.residual, fo.residual), "modified": modified}
    return Lc, Lo, proj, E, info
