"""``physfact bt``: balanced truncation of a built-in model or a model file, from the command line."""
from __future__ import annotations

import time

import numpy as np

from physfact.errors import InputError

#: most frequencies the sampled error estimate may use (each one is a sparse LU for large models)
MAX_ERROR_SAMPLES = 100_000


def register(sub, common):
    p = sub.add_parser("bt", parents=[common],
                       help="balanced truncation of an LTI model (built-in name or .mat/.mtx file)")
    p.add_argument("model", help="built-in name (fom, heat1d[:n], msd[:masses], heat2d[:nx], rlcladder[:sections], "
                                 "stokes[:nx], build, cdplayer, heat-cont, rail_371 ... when the benchmark data is "
                                 "present) or a .mat/.mtx path")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--order", "-r", type=int, help="reduced order r")
    g.add_argument("--tol", type=float, help="H-infinity error target: smallest r with 2*sum(hsv[r:]) <= tol")
    p.add_argument("--method", choices=("sr", "bfsr", "spa"), default=None,
                   help="square root (balanced ROM), balancing-free square root, or singular perturbation "
                        "approximation (keeps the DC gain exactly); default sr (bfsr for second-order models)")
    p.add_argument("--band", nargs=2, type=float, metavar=("W1", "W2"), default=None,
                   help="frequency-limited BT for the band [W1, W2] rad/s (W2 may be inf); reports the in-band "
                        "sampled error (no a-priori bound)")
    p.add_argument("--alpha", type=float, default=None,
                   help="stability boundary: keep poles with Re(s) >= ALPHA (<= 0; discrete |z| >= ALPHA) exactly")
    p.add_argument("--variant", choices=("p", "v", "pv", "vp", "fv"), default="p",
                   help="second-order BT variant for second-order models (default p)")
    p.add_argument("--first-order", action="store_true",
                   help="reduce a second-order model (M, D, K) in its first-order form (unstructured ROM) "
                        "instead of by structure-preserving second-order BT")
    p.add_argument("--solver", choices=("auto", "hammarling", "adi"), default="auto",
                   help="Gramian solver: dense Hammarling or low-rank ADI (default: auto by size/sparsity)")
    p.add_argument("--adi-tol", type=float, default=1e-10, help="relative residual for the ADI solver (default 1e-10)")
    p.add_argument("--bode", metavar="FILE", default=None, help="save a Bode magnitude plot of full vs reduced model")
    p.add_argument("--error-samples", type=int, default=None, metavar="N",
                   help="frequencies for the sampled H-infinity error estimate of large models (default: 60 for "
                        "n <= 5000, 25 above; 0 skips the estimate)")
    p.add_argument("--full", action="store_true",
                   help="with --json: include the reduced model's matrices A, B, C, D (omitted otherwise)")
    # --out / --plot / --bode are checked (suffix, directory) by physfact.cli before the handler runs
    p.set_defaults(handler=run_bt, out_suffixes=(".npz", ".h5", ".hdf5", ".json"), plot_flags=("plot", "bode"))


def _resonance_points(rom, per_pole=9):
    """Frequencies around each complex pole of ``rom`` (|Im lambda| (1 + k zeta)), so that lightly
    damped resonances are resolved by a sampled norm or a plot."""
    if not rom.n:
        return np.zeros(0)
    lam = rom.poles()
    lam = lam[np.abs(lam.imag) > 0]
    if lam.size == 0:
        return np.zeros(0)
    zeta = np.abs(lam.real) / np.abs(lam)
    pts = np.concatenate([abs(l.imag) * (1 + z * np.linspace(-4, 4, per_pole)) for l, z in zip(lam, zeta)])
    return pts[pts > 0]  # heavily damped poles (zeta > 1/4) would give negative frequencies


def _error_estimate(sys, rom, console, samples=None):
    """H-infinity norm of G - G_r: certified (Hamiltonian) for small dense models, otherwise
    frequency sampling over a grid set by the reduced model's poles (an estimate). Returns
    (HinfNorm or None, grid)."""
    err = sys - rom
    if err.n <= 600 and not (sys.is_sparse and sys.n > 3000) and samples != 0:
        from physfact.errors import ConvergenceError

        from physfact.progress import step

        try:
            with step(console.progress, f"||G - G_r||_Hinf (Hamiltonian level sets, n = {err.n})"):
                return err.hinf_norm(), None
        except ConvergenceError as exc:  # e.g. poles kept exactly by alpha= cancel in G - G_r
            console.info(f"certified H-infinity norm failed ({exc}); sampling instead")
    large = sys.is_sparse and sys.n > 5000
    if samples is None:
        samples = 25 if large else 60
    if samples <= 0:
        return None, None
    lam = np.abs(rom.poles()) if rom.n else np.array([1.0])
    lam = lam[lam > 0] if np.any(lam > 0) else np.array([1.0])
    if sys.is_discrete:
        grid = np.linspace(0, np.pi / sys.dt, samples)
    else:
        grid = np.concatenate([[0.0], np.logspace(np.log10(lam.min()) - 2, np.log10(lam.max()) + 2, samples)])
        if not large:
            grid = np.unique(np.concatenate([grid, _resonance_points(rom, per_pole=5)]))
    console.info(f"estimating ||G - G_r||_Hinf on {grid.size} frequencies (+ refinement)")
    est = err.hinf_norm(method="sampling", omega=grid, refine=1 if large else 3, refine_iters=15 if large else 40,
                        progress=console.progress)
    return est, grid


def check_bt_args(args):
    """Every ``physfact bt`` option checked before the model is built or anything computed (the
    output paths are checked by :func:`physfact.cli.check_outputs` before this)."""
    from physfact.validation import check_int, check_positive

    check_int(args.order, "--order", minimum=1)
    check_positive(args.tol, "--tol")
    check_positive(args.adi_tol, "--adi-tol", allow_none=False)
    if args.adi_tol >= 1:
        raise InputError(f"--adi-tol is a relative residual and must be < 1, got {args.adi_tol}")
    samples = check_int(args.error_samples, "--error-samples", minimum=0)
    if samples is not None and samples > MAX_ERROR_SAMPLES:
        raise InputError(f"--error-samples must be at most {MAX_ERROR_SAMPLES}, got {samples}")
    if args.full and not args.json:
        raise InputError("--full only applies to --json output; add --json (or write the model with --out)")


def _stable_error_systems(sys, res):
    """(full, reduced) whose difference is the error the BT bound is about: the systems themselves,
    or for an unstable model their stable parts (the unstable part is kept exactly, so it cancels)."""
    if not res.n_unstable:
        return sys, res.rom
    full = res.info.get("stable_part")
    if full is None:  # nothing stable: the model is kept as it is, the error is 0
        return None, None
    r = res.order - res.n_unstable
    rom = res.rom
    from physfact.control import LTISystem

    return full, LTISystem(rom.A[:r, :r], rom.B[:r], rom.C[:, :r], rom.D, None, rom.dt)


def run_bt(args, console) -> dict:
    import warnings

    from physfact.control import balanced_truncation, models
    from physfact.control.balanced_truncation import ROUNDING_MARGIN

    from physfact.control.second_order import SecondOrderSystem

    check_bt_args(args)
    sys = models.load(args.model)
    if args.order is not None and args.order > sys.n:
        raise InputError(f"--order {args.order} exceeds the model's state dimension n = {sys.n}; "
                         f"give an order below n")
    console.info(f"model {args.model}: {sys!r}")
    if isinstance(sys, SecondOrderSystem) and not args.first_order:
        if args.band is not None or args.alpha is not None or args.method == "spa":
            raise InputError("--band, --alpha and --method spa reduce the first-order form: add --first-order")
        return _run_sobt(sys, args, console)
    if isinstance(sys, SecondOrderSystem):
        sys = sys.to_first_order()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = balanced_truncation(sys, rank=args.order, tol=args.tol, method=args.method or "sr",
                                  solver=args.solver, adi_tol=args.adi_tol, frequency_band=args.band,
                                  alpha=args.alpha, progress=console.progress)
    for w in {str(w.message) for w in caught}:
        console.info(f"warning: {w}")
    seconds = time.perf_counter() - t0
    hsv = res.hsv
    full_s, rom_s = _stable_error_systems(sys, res)
    err, grid = (None, None) if full_s is None else _error_estimate(full_s, rom_s, console, args.error_samples)
    console.print(f"model: {args.model}  n = {sys.n}, m = {sys.m}, p = {sys.p}"
                  f"{' (discrete, dt=%g)' % sys.dt if sys.is_discrete else ''}{', E' if sys.E is not None else ''}")
    asked = f" (asked for {args.order})" if args.order is not None and res.order != args.order else ""
    console.print(f"balanced truncation ({res.method}, Gramians by {res.solver}): r = {res.order}{asked}"
                  + (f" (incl. {res.n_unstable} unstable states kept)" if res.n_unstable else "")
                  + f" in {seconds:.3f} s")
    if hsv.size:
        show = [k for k in (0, 1, 4, 9, 19, 49, 99) if k < hsv.size]
        console.print("HSV decay: " + ", ".join(f"s{k + 1}/s1 = {hsv[k] / hsv[0]:.2e}" for k in show))
    part = " of the stable part" if res.n_unstable else ""
    unit = "rad/s" if not sys.is_discrete else "rad per time unit"
    if args.band is not None:
        console.print(f"frequency-limited to [{args.band[0]:g}, {args.band[1]:g}] rad/s: no a-priori error bound; "
                      f"in-band sampled error {res.info['band_error']:.4e} at |omega| = "
                      f"{abs(res.info['band_error_frequency']):.4g} rad/s (Gramians: {res.info['gramians']})")
    else:
        tail = 2.0 * float(np.sum(res.hsv[res.order - res.n_unstable:]))
        rounding = float(getattr(res, "rounding", 0.0))
        if res.error_bound > (tail + ROUNDING_MARGIN * rounding) * (1 + 1e-12):
            console.print(f"error bound{part} = {res.error_bound:.4e} (the roundoff floor / resolution of the Hankel "
                          f"singular values; 2*sum(hsv[r:]) = {tail:.4e})")
        elif rounding > 1e-6 * tail:
            console.print(f"error bound{part} = {res.error_bound:.4e} = 2*sum(hsv[r:]) {tail:.4e} + {ROUNDING_MARGIN:g} x the "
                          f"measured rounding of the projection {rounding:.2e}")
        else:
            console.print(f"error bound{part} 2*sum(hsv[r:]) = {res.error_bound:.4e}")
    if err is not None:
        kind = "estimate (frequency sampling)" if err.estimate else "certified (Hamiltonian level set)"
        console.print(f"||G - G_r||_Hinf{part} = {float(err):.4e} at |omega| = {abs(err.frequency):.4g} {unit}  "
                      f"[{kind}]")
        if args.band is None and float(err) > res.error_bound * (1 + 1e-6):
            console.print(f"note: the measured error exceeds the bound by {float(err) / res.error_bound:.3g}x: "
                          "rounding at Hankel singular values near the noise level; a lower order is as accurate")
    elif full_s is None:
        console.print("every pole is unstable: the model is kept as it is (error 0)")
    out = {"model": str(args.model), "n": sys.n, "m": sys.m, "p": sys.p, "r": res.order,
           "requested_order": args.order,
           "n_unstable": res.n_unstable, "method": res.method, "solver": res.solver, "seconds": seconds,
           "hsv": hsv[:100], "error_bound": res.error_bound, "projection_rounding": res.rounding,
           "error_of": "stable part" if res.n_unstable else "system",
           "hinf_error": 0.0 if full_s is None else (None if err is None else float(err)),
           "hinf_error_frequency": None if err is None else abs(err.frequency),
           "frequency_unit": unit,
           "hinf_error_is_estimate": None if err is None else err.estimate,
           "warnings": sorted({str(w.message) for w in caught})}
    if args.band is not None:
        out.update(band=list(args.band), band_error=res.info["band_error"], gramians=res.info["gramians"],
                   band_error_points=res.info.get("band_error_points"), band_error_note=res.info.get("band_error_note"))
    rom = res.rom
    if args.full:
        out["rom"] = {"A": rom.A, "B": rom.B, "C": rom.C, "D": rom.D, "dt": rom.dt}
    else:
        out["rom"] = "omitted: add --full for the matrices A, B, C, D, or --out FILE.npz/.h5"
    if args.out:
        from pathlib import Path

        from physfact.io import write_json

        if Path(args.out).suffix.lower() == ".json":
            write_json(args.out, {**out, "rom": {"A": rom.A, "B": rom.B, "C": rom.C, "D": rom.D, "dt": rom.dt}})
        else:
            # everything the report says about the ROM travels with it (physfact.io.load: Loaded.meta)
            meta = {"model": str(args.model), "n": sys.n, "order": res.order, "n_unstable": res.n_unstable,
                    "method": res.method, "solver": res.solver, "error_bound": res.error_bound,
                    "error_of": out["error_of"], "floor": res.floor,
                    "hinf_error": float("nan") if err is None else float(err),
                    "hinf_error_frequency": float("nan") if err is None else abs(err.frequency)}
            if args.order is not None:
                meta["requested_order"] = args.order
            extra = {"hsv": hsv, "V": res.V, "W": res.W}
            if args.band is not None:
                meta.update(band_error=res.info["band_error"], gramians=res.info["gramians"])
                extra["band"] = np.asarray(args.band, dtype=float)
            rom.save(args.out, kind="bt_rom", attrs=meta, **extra)
        console.print(f"reduced model written to {args.out}")
    if args.plot and not hsv.size:
        console.info("no stable part: no Hankel singular values to plot")
    elif args.plot:
        from physfact.plotting import plot_hankel_singular_values

        plot_hankel_singular_values(hsv, args.plot, order=res.order - res.n_unstable, floor=res.floor,
                                    title=f"Hankel singular values ({args.model}, n={sys.n})")
        console.print(f"HSV plot: {args.plot}")
    if args.bode:
        bode_plot(sys, res.rom, args.bode, title=f"{args.model}: n={sys.n} vs r={res.order}", grid=grid,
                  band=args.band, progress=console.progress)
        console.print(f"Bode plot: {args.bode}")
    return out


def _run_sobt(sos, args, console) -> dict:
    """Structure-preserving second-order BT of a second-order model (``physfact bt`` default there)."""
    from physfact.control.second_order import second_order_balanced_truncation

    t0 = time.perf_counter()
    res = second_order_balanced_truncation(sos, rank=args.order, tol=args.tol, variant=args.variant,
                                           method=args.method or "bfsr", solver=args.solver, adi_tol=args.adi_tol,
                                           progress=console.progress)
    seconds = time.perf_counter() - t0
    fo, rom_fo = sos.to_first_order(), res.rom.to_first_order()
    err, grid = _error_estimate(fo, rom_fo, console, args.error_samples)
    console.print(f"model: {args.model}  second order, n_q = {sos.nq} (first-order n = {sos.n}), m = {sos.m}, "
                  f"p = {sos.p}")
    console.print(f"second-order balanced truncation (variant {res.variant}, {res.method}, Gramians by "
                  f"{res.solver}): r = {res.order} positions (first-order {2 * res.order}) in {seconds:.3f} s")
    console.print("no a-priori error bound for second-order BT; --first-order gives BT with its bound "
                  "(unstructured ROM)")
    stable = rom_fo.is_stable()
    if err is not None:
        kind = "estimate (frequency sampling)" if err.estimate else "certified (Hamiltonian level set)"
        console.print(f"||G - G_r||_Hinf = {float(err):.4e} at |omega| = {abs(err.frequency):.4g} rad/s  [{kind}]")
    console.print(f"reduced model stable: {stable}")
    out = {"model": str(args.model), "n": sos.n, "nq": sos.nq, "m": sos.m, "p": sos.p, "r": res.order,
           "structure": "second-order", "variant": res.variant, "method": res.method, "solver": res.solver,
           "seconds": seconds, "hsv": res.hsv[:100], "error_bound": None, "stable": stable,
           "hinf_error": None if err is None else float(err),
           "hinf_error_frequency": None if err is None else abs(err.frequency), "frequency_unit": "rad/s",
           "hinf_error_is_estimate": None if err is None else err.estimate}
    if args.out:
        from pathlib import Path

        from physfact.io import write_json

        if Path(args.out).suffix.lower() == ".json":
            write_json(args.out, out)
        else:
            meta = {"model": str(args.model), "nq": sos.nq, "order": res.order, "variant": res.variant,
                    "method": res.method, "solver": res.solver, "stable": bool(stable),
                    "hinf_error": float("nan") if err is None else float(err),
                    "hinf_error_frequency": float("nan") if err is None else abs(err.frequency)}
            res.rom.save(args.out, kind="sobt_rom", attrs=meta, hsv=res.hsv, V=res.V, W=res.W)
        console.print(f"reduced model written to {args.out}")
    if args.plot:
        from physfact.plotting import plot_hankel_singular_values

        plot_hankel_singular_values(res.hsv, args.plot, order=res.order,
                                    title=f"SOBT-{res.variant} singular values ({args.model})")
        console.print(f"singular value plot: {args.plot}")
    if args.bode:
        bode_plot(fo, rom_fo, args.bode, title=f"{args.model}: n_q={sos.nq} vs r={res.order} (SOBT-{res.variant})",
                  grid=grid, progress=console.progress)
        console.print(f"Bode plot: {args.bode}")
    return out


def _pole_span(sys, limit=600, points=60):
    """A log grid over the full model's poles, one decade beyond either side, for models small enough
    (n <= ``limit``) that their poles cost little: resonances the reduced model dropped are then in
    the plotted range too."""
    if sys.n > limit or not sys.n:
        return np.zeros(0)
    lam = np.abs(sys.poles())
    lam = lam[np.isfinite(lam) & (lam > 0)]
    if lam.size == 0:
        return np.zeros(0)
    return np.logspace(np.log10(lam.min()) - 1, np.log10(lam.max()) + 1, points)


def bode_plot(sys, rom, path, title="", grid=None, band=None, progress=None, max_points=None):
    """Bode magnitude (dB) of the largest singular value of G, G_r and G - G_r over frequency,
    saved to ``path``; ``band=(w1, w2)`` (rad/s) is shaded.

    The grid starts from ``grid`` (or a log grid spanning the reduced model's poles), plus points
    around the reduced model's lightly damped poles, and is refined adaptively where the full or
    reduced magnitude changes fast or peaks (:func:`physfact.control.frequency_grid.adaptive_frequency_grid`),
    so resonances show their true height. ``max_points`` caps the evaluations (default 2000; for
    sparse models with n > 5000, where each point is a sparse LU, the start grid plus 150, and
    intervals are split above 3 dB instead of 1 dB).
    ``progress``: a :meth:`physfact.console.Console.progress`-like factory ("Bode plot, frequencies").
    """
    from physfact.control.frequency_grid import adaptive_frequency_grid
    from physfact.plotting import pyplot, save_figure

    if grid is None or len(grid) < 2:
        if sys.is_discrete:
            grid = np.linspace(0, np.pi / sys.dt, 200)
        else:
            lam = np.abs(rom.poles()) if rom.n else np.array([1.0])
            lam = lam[lam > 0] if np.any(lam > 0) else np.array([1.0])
            grid = np.logspace(np.log10(lam.min()) - 2, np.log10(lam.max()) + 2, 150)
    w = np.asarray(grid, dtype=float)
    if not sys.is_discrete:
        w = np.unique(np.concatenate([w, _resonance_points(rom), _pole_span(sys)]))
    w = w[w > 0]  # a log frequency axis
    if band is not None:  # resolve the band
        hi = band[1] if np.isfinite(band[1]) else 10 * max(band[0], 1.0)
        w = np.unique(np.concatenate([w, np.geomspace(max(band[0], hi * 1e-4), hi, 60)]))
    large = sys.is_sparse and sys.n > 5000  # each point a sparse LU: fewer, coarser refinements
    if max_points is None:
        max_points = w.size + 150 if large else max(2000, w.size)
    bar = progress(None, total=None, desc="Bode plot", unit="frequencies") if progress is not None else None

    def gains(x, chunk=25):  # sigma_max of G, G_r, G - G_r; in chunks so that the bar moves
        out = []
        for i in range(0, x.size, chunk):
            Hf, Hr = sys.freqresp(x[i:i + chunk]), rom.freqresp(x[i:i + chunk])
            out.append(np.column_stack([np.linalg.svd(H, compute_uv=False)[:, 0] for H in (Hf, Hr, Hf - Hr)]))
            if bar is not None:
                bar.update(min(chunk, x.size - i))
        return np.concatenate(out)

    try:
        w, vals = adaptive_frequency_grid(gains, w, curves=(0, 1), max_points=max_points,
                                          step_db=3.0 if large else 1.0)
    finally:
        if bar is not None:
            bar.close()
    db = 20 * np.log10(np.maximum(vals, 1e-300))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.semilogx(w, db[:, 0], "-", label=f"full (n={sys.n})")
    ax.semilogx(w, db[:, 1], "--", label=f"reduced (r={rom.n})")
    ax.semilogx(w, db[:, 2], ":", label="error $G - G_r$")
    top = float(np.max(db[:, :2]))
    ax.set_ylim(max(float(np.min(db)), top - 340) - 5, top + 10)  # below: roundoff noise of the error
    if band is not None:
        hi = band[1] if np.isfinite(band[1]) else w.max()
        ax.axvspan(max(band[0], w.min()), hi, color="tab:green", alpha=0.12,
                   label=f"band [{band[0]:g}, {band[1]:g}] rad/s")
    ax.set_xlabel(r"frequency $\omega$ [rad/s]" if not sys.is_discrete else r"frequency $\omega$ [rad per time unit]")
    ax.set_ylabel(r"magnitude $\sigma_{\max}(G)$ [dB]")
    ax.set_title(title)
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    return save_figure(fig, path)


def demo(console, args) -> dict:
    """Balanced truncation of Penzl's FOM (n = 1006) to r = 20: HSVs, bound vs true error."""
    from physfact.control import balanced_truncation, models

    sys = models.fom()
    t0 = time.perf_counter()
    res = balanced_truncation(sys, rank=20)
    t = time.perf_counter() - t0
    err_sys = sys - res.rom
    err = err_sys.hinf_norm(method="sampling", omega=np.concatenate([[0.0], np.logspace(-1, 4, 120)]))
    dc = abs(err_sys.freqresp([0.0])[0, 0, 0])
    console.print(f"Penzl's FOM (n = {sys.n}) -> r = 20 by square-root balanced truncation in {t:.2f} s")
    console.print(f"  Hankel singular values: s1 = {res.hsv[0]:.4g}, s20/s1 = {res.hsv[19] / res.hsv[0]:.2e}, "
                  f"s21/s1 = {res.hsv[20] / res.hsv[0]:.2e}")
    console.print(f"  error bound 2*sum(s21..) = {res.error_bound:.4e};  ||G - G20||_Hinf ~ {float(err):.4e} "
                  f"(sampled), |G(0) - G20(0)| = {dc:.4e}")
    if not err <= res.error_bound * (1 + 1e-8):
        raise InputError("demo check failed: the reduced model violates the BT error bound")
    return {"n": sys.n, "r": 20, "hsv_1": res.hsv[0], "error_bound": res.error_bound, "hinf_error": float(err),
            "dc_error": dc, "bt_seconds": t}
