"""``physfact bt``: balanced truncation of a built-in model or a model file, from the command line."""
from __future__ import annotations

import time

import numpy as np

from physfact.errors import InputError


def register(sub, common):
    p = sub.add_parser("bt", parents=[common],
                       help="balanced truncation of an LTI model (built-in name or .mat/.mtx file)")
    p.add_argument("model", help="built-in name (fom, heat1d[:n], msd[:masses], heat2d[:nx], build, cdplayer, "
                                 "heat-cont, rail_371 ... when the benchmark data is present) or a .mat/.mtx path")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--order", "-r", type=int, help="reduced order r")
    g.add_argument("--tol", type=float, help="H-infinity error target: smallest r with 2*sum(hsv[r:]) <= tol")
    p.add_argument("--method", choices=("sr", "bfsr"), default="sr",
                   help="square root (balanced ROM) or balancing-free square root (default sr)")
    p.add_argument("--solver", choices=("auto", "hammarling", "adi"), default="auto",
                   help="Gramian solver: dense Hammarling or low-rank ADI (default: auto by size/sparsity)")
    p.add_argument("--adi-tol", type=float, default=1e-10, help="relative residual for the ADI solver (default 1e-10)")
    p.add_argument("--bode", metavar="FILE", default=None, help="save a Bode magnitude plot of full vs reduced model")
    p.add_argument("--error-samples", type=int, default=None, metavar="N",
                   help="frequencies for the sampled H-infinity error estimate of large models (default: 60 for "
                        "n <= 5000, 25 above; 0 skips the estimate)")
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
    return np.concatenate([abs(l.imag) * (1 + z * np.linspace(-4, 4, per_pole)) for l, z in zip(lam, zeta)])


def _error_estimate(sys, rom, console, samples=None):
    """H-infinity norm of G - G_r: certified (Hamiltonian) for small dense models, otherwise
    frequency sampling over a grid set by the reduced model's poles (an estimate). Returns
    (HinfNorm or None, grid)."""
    err = sys - rom
    if err.n <= 600 and not (sys.is_sparse and sys.n > 3000) and samples != 0:
        return err.hinf_norm(), None
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
    est = err.hinf_norm(method="sampling", omega=grid, refine=1 if large else 3, refine_iters=15 if large else 40)
    return est, grid


def run_bt(args, console) -> dict:
    from physfact.control import balanced_truncation, models

    sys = models.load(args.model)
    console.info(f"model {args.model}: {sys!r}")
    t0 = time.perf_counter()
    res = balanced_truncation(sys, rank=args.order, tol=args.tol, method=args.method, solver=args.solver,
                              adi_tol=args.adi_tol)
    seconds = time.perf_counter() - t0
    hsv = res.hsv
    err, grid = _error_estimate(sys, res.rom, console, args.error_samples)
    console.print(f"model: {args.model}  n = {sys.n}, m = {sys.m}, p = {sys.p}"
                  f"{' (discrete, dt=%g)' % sys.dt if sys.is_discrete else ''}{', E' if sys.E is not None else ''}")
    console.print(f"balanced truncation ({res.method}, Gramians by {res.solver}): r = {res.order}"
                  + (f" (incl. {res.n_unstable} unstable states kept)" if res.n_unstable else "")
                  + f" in {seconds:.3f} s")
    show = [k for k in (0, 1, 4, 9, 19, 49, 99) if k < hsv.size]
    console.print("HSV decay: " + ", ".join(f"s{k + 1}/s1 = {hsv[k] / hsv[0]:.2e}" for k in show))
    console.print(f"error bound 2*sum(hsv[r:]) = {res.error_bound:.4e}")
    if err is not None:
        kind = "estimate (frequency sampling)" if err.estimate else "certified (Hamiltonian level set)"
        console.print(f"||G - G_r||_Hinf = {float(err):.4e} at omega = {err.frequency:.4g}  [{kind}]")
    out = {"model": str(args.model), "n": sys.n, "m": sys.m, "p": sys.p, "r": res.order,
           "n_unstable": res.n_unstable, "method": res.method, "solver": res.solver, "seconds": seconds,
           "hsv": hsv[:100], "error_bound": res.error_bound,
           "hinf_error": None if err is None else float(err),
           "hinf_error_frequency": None if err is None else err.frequency,
           "hinf_error_is_estimate": None if err is None else err.estimate}
    if args.out:
        from pathlib import Path

        from physfact.io import save_arrays, write_json

        if Path(args.out).suffix.lower() == ".json":
            write_json(args.out, out)
        else:
            rom = res.rom
            save_arrays(args.out, "bt_rom", attrs={"error_bound": res.error_bound,
                                                   "hinf_error": float("nan") if err is None else float(err),
                                                   "dt": rom.dt if rom.dt is not None else 0.0},
                        A=rom.A, B=rom.B, C=rom.C, D=rom.D, hsv=hsv, V=res.V, W=res.W)
        console.print(f"reduced model written to {args.out}")
    if args.plot:
        from physfact.plotting import plot_singular_values

        plot_singular_values(hsv, args.plot, rank=res.order - res.n_unstable,
                             title=f"Hankel singular values ({args.model}, n={sys.n})", ylabel=r"$\sigma_k/\sigma_1$")
        console.print(f"HSV plot: {args.plot}")
    if args.bode:
        bode_plot(sys, res.rom, args.bode, title=f"{args.model}: n={sys.n} vs r={res.order}", grid=grid)
        console.print(f"Bode plot: {args.bode}")
    return out


def bode_plot(sys, rom, path, title="", grid=None):
    """Largest singular value of G, G_r and G - G_r over frequency (log-log), saved to ``path``."""
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
        w = np.unique(np.concatenate([w, _resonance_points(rom)]))
    w = w[w > 0] if not sys.is_discrete else w
    full = sys.bode(w)
    red = rom.bode(w)
    err = np.linalg.svd(sys.freqresp(w) - rom.freqresp(w), compute_uv=False)[:, 0]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    plot = ax.semilogx if sys.is_discrete else ax.loglog
    plot(w, full, "-", label=f"full (n={sys.n})")
    plot(w, red, "--", label=f"reduced (r={rom.n})")
    ax.loglog(w, np.maximum(err, 1e-300), ":", label="error") if not sys.is_discrete else ax.semilogy(w, err, ":")
    ax.set_xlabel(r"$\omega$ [rad/s]" if not sys.is_discrete else r"$\omega$ [rad per time unit]")
    ax.set_ylabel(r"$\sigma_{\max}(G(i\omega))$")
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
