"""``physfact fem``: Kronecker compression and fast solvers for beams and Poisson strips."""
from __future__ import annotations

import time

import numpy as np

from physfact.errors import InputError

ASSEMBLE_LIMIT = 300_000  # DOFs above which a separable problem is not assembled by scikit-fem


def register(sub, common):
    p = sub.add_parser("fem", parents=[common], help="Kronecker compression of FE stiffness matrices and fast solvers")
    fsub = p.add_subparsers(dest="fem_command", metavar="PROBLEM", required=True)

    b = fsub.add_parser("beam", parents=[common], help="plane-stress cantilever: Kronecker rank, storage, PCG solve",
                        description="Plane-stress cantilever clamped at x = 0 with a downward end load. Units are "
                                    "any consistent set: lengths in L, E in force/L^2 (per unit thickness), the "
                                    "load in force per unit thickness; displacements come out in L.")
    b.add_argument("--length", type=float, default=20.0, help="beam length in L (default 20)")
    b.add_argument("--height", type=float, default=1.0, help="beam height in L (default 1)")
    b.add_argument("--ny", type=int, default=16, help="elements across the height (default 16)")
    b.add_argument("--nx", type=int, default=None, help="elements along the beam (default: square elements)")
    b.add_argument("--element", choices=["Q1", "P1"], default="Q1",
                   help="Q1 bilinear quadrilaterals (Kronecker-structured; needed by --solve) or P1 linear "
                        "triangles (default Q1)")
    b.add_argument("--material", default="constant",
                   help="how E varies over the beam: constant | graded | layered | smooth (default constant)")
    b.add_argument("--E", dest="E", type=float, default=1.0,
                   help="reference Young's modulus in force/L^2 (default 1; the material profile multiplies it)")
    b.add_argument("--nu", type=float, default=0.3, help="Poisson ratio, in (-1, 0.5) (default 0.3)")
    b.add_argument("--load", type=float, default=1.0,
                   help="total downward end force per unit thickness (default 1)")
    b.add_argument("--tol", type=float, default=1e-8,
                   help="relative tolerance of the Kronecker fit (rearrangement SVD) and of PCG (default 1e-8)")
    b.add_argument("--solve", action="store_true", help="solve K u = f by PCG (component FDM + beam coarse space)")
    b.add_argument("--no-assemble", action="store_true",
                   help="skip scikit-fem assembly (separable Q1 only; automatic above 300k DOFs)")
    b.set_defaults(handler=run_beam, out_suffixes=(".npz", ".h5", ".hdf5", ".json"), plot_flags=("plot",))

    q = fsub.add_parser("poisson", parents=[common], help="Poisson strip: fast-diagonalisation solve",
                        description="-div(E grad u) = 1 on a length x height strip, u = 0 on the boundary, "
                                    "solved by fast diagonalisation of its two-term Kronecker form.")
    q.add_argument("--length", type=float, default=20.0, help="strip length (default 20)")
    q.add_argument("--height", type=float, default=1.0, help="strip height (default 1)")
    q.add_argument("--ny", type=int, default=32, help="elements across the height, >= 2 (default 32)")
    q.add_argument("--nx", type=int, default=None, help="elements along the strip, >= 2 (default: square elements)")
    q.add_argument("--material", default="constant",
                   help="conductivity profile: constant | graded | layered (separable ones keep rank 2)")
    q.add_argument("--compare", action="store_true", help="also solve with scipy splu and report the difference")
    q.set_defaults(handler=run_poisson, out_suffixes=(".npz", ".h5", ".hdf5", ".json"), plot_flags=("plot",))


def _check_args(args, poisson: bool = False):
    """Every flag checked before anything is built or printed (one line, exit 2, on bad input)."""
    from physfact.fem.materials import MATERIALS
    from physfact.fem.problems import check_build_memory
    from physfact.validation import check_int, check_positive

    for name in ("length", "height"):
        check_positive(getattr(args, name), f"--{name}", allow_none=False)
    ny = check_int(args.ny, "--ny", minimum=2 if poisson else 1, allow_none=False)
    nx = check_int(args.nx, "--nx", minimum=2 if poisson else 1)
    if nx is None:
        nx = max(1, int(round(ny * args.length / args.height)))
        if poisson and nx < 2:
            raise InputError(f"--length/--height gives {nx} element along the strip; give --nx >= 2")
    if args.material not in MATERIALS or (poisson and args.material == "smooth"):
        known = [m for m in MATERIALS if not (poisson and m == "smooth")]
        raise InputError(f"unknown material {args.material!r}; known: {', '.join(known)}")
    if not poisson:
        check_positive(args.E, "--E", allow_none=False)
        if not (-1.0 < args.nu < 0.5):
            raise InputError(f"--nu (Poisson ratio) must lie in (-1, 0.5), got {args.nu}")
        if not np.isfinite(args.load):
            raise InputError(f"--load must be a finite force, got {args.load}")
        if not (0 < args.tol < 1):
            raise InputError(f"--tol must lie in (0, 1), got {args.tol}")
    # --out / --plot: checked by physfact.cli.check_outputs (out_suffixes, plot_flags) before the handler
    assemble = poisson and args.compare or not poisson and _assembles(args, nx, ny)
    check_build_memory([nx, ny], "poisson" if poisson else "elasticity", getattr(args, "element", "Q1"), assemble)
    return nx, ny, assemble


def _assembles(args, nx, ny) -> bool:
    n_est = 2 * nx * (ny + 1)
    return not args.no_assemble and (n_est <= ASSEMBLE_LIMIT or args.material not in ("constant", "graded", "layered")
                                     or args.element != "Q1")


def _timoshenko_tip(prob):
    P, L, H, E, nu = (prob.params[k] for k in ("load", "length", "height", "E", "nu"))
    G = E / (2 * (1 + nu))
    return P * L**3 / (3 * E * H**3 / 12) + P * L / (5 / 6 * G * H)


def _tip_deflection(prob, u):
    tip = np.isclose(prob.coords[:, 0], prob.params["length"]) & (prob.section % 2 == 1)
    return float(-u[tip].mean())


def run_beam(args, console) -> dict:
    from physfact.fem import KroneckerOperator, cantilever
    from physfact.fem.pcg import pcg_solve
    from physfact.lowrank import Truncation

    nx, ny, assemble = _check_args(args)
    n_est = 2 * nx * (ny + 1)
    console.info(f"building the {args.length:g} x {args.height:g} cantilever ({n_est} DOFs"
                 f"{', scikit-fem assembly' if assemble else ', no assembly'}) ...")
    t0 = time.perf_counter()
    prob = cantilever(length=args.length, height=args.height, ny=ny, nx=args.nx, element=args.element,
                      material=args.material, E=args.E, nu=args.nu, load=args.load, assemble=assemble)
    t_build = time.perf_counter() - t0
    out = {"n": prob.n, "n_stations": prob.n_stations, "n_section": prob.n_section, "material": prob.material,
           "element": prob.element, "separable": prob.separable, "E": args.E, "nu": args.nu, "load": args.load,
           "length": args.length, "height": args.height, "build_seconds": t_build}
    t0 = time.perf_counter()
    op = KroneckerOperator.from_problem(prob, rule=Truncation(rtol=args.tol))
    out.update(kronecker_rank=op.rank, kronecker_method=op.method, kronecker_seconds=time.perf_counter() - t0,
               kronecker_bytes=op.nbytes, csr_bytes=op.csr_nbytes_estimate, storage_ratio=op.compression_ratio)
    svals, bb_rank = None, None
    if prob.K is not None:
        import warnings

        from physfact.fem.kronecker import KroneckerRankWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", KroneckerRankWarning)
            bb = op if op.method == "rearrangement" else KroneckerOperator.from_matrix(prob.K, prob, rule=Truncation(rtol=args.tol))
        for w in caught:
            console.info(f"warning: {w.message}")
        svals, bb_rank = bb.singular_values, bb.rank
        out.update(blackbox_rank=bb.rank, blackbox_relative_error=bb.relative_error(prob.K),
                   kronecker_pays=bb.pays, singular_values=svals[: min(12, svals.size)])
        if op is not bb:
            out["kronecker_relative_error"] = op.relative_error(prob.K)
    console.print(f"cantilever {args.length:g} x {args.height:g} L, {prob.element}, material {prob.material} "
                  f"(E = {args.E:g} force/L^2, nu = {args.nu:g}), end load {args.load:g} force per unit thickness: "
                  f"n = {prob.n} ({prob.n_stations} stations x {prob.n_section} section DOFs)")
    console.print(f"  Kronecker rank {op.rank} ({op.method}); storage {op.nbytes / 1024:.1f} KiB vs CSR "
                  f"{op.csr_nbytes_estimate / 1024**2:.2f} MiB: {op.compression_ratio:.0f}x smaller")
    if bb_rank is not None:
        console.print(f"  black-box rearrangement (rtol {args.tol:g}): rank {bb_rank}, relative error "
                      f"{out['blackbox_relative_error']:.2e}")
    u = None
    if args.solve:
        console.info(f"solving K u = f by PCG ({prob.n} DOFs, tol {args.tol:g}) ...")
        res = pcg_solve(prob, tol=args.tol, progress=_bar(console))
        u = res.x
        tip = _tip_deflection(prob, u)
        out.update(solve_seconds=res.seconds, iterations=res.iterations, residual=float(res.residual),
                   tip_deflection=tip, timoshenko_tip_deflection=_timoshenko_tip(prob))
        console.print(f"  PCG: {res.iterations} iterations, {res.seconds:.3f} s, relative residual {float(res.residual):.2e}")
        console.print(f"  tip deflection {tip:.6g} L, downward (Timoshenko beam theory "
                      f"{out['timoshenko_tip_deflection']:.6g} L)")
    if args.plot:
        from physfact.fem.plots import plot_beam

        if u is None:
            from physfact.fem.pcg import pcg_solve

            console.info(f"solving K u = f by PCG for the plot ({prob.n} DOFs) ...")
            u = pcg_solve(prob, tol=1e-8, progress=_bar(console)).x
        plot_beam(prob, u, args.plot, singular_values=svals, rank=bb_rank)
        console.print(f"  plot: {args.plot}")
        out["plot"] = str(args.plot)
    if args.out:
        _save(args.out, out, prob, u)
    return out


def _bar(console):
    """The library's ``progress(iterable, total, desc)`` hook as the console's bar (terminal only)."""
    return lambda it, total, desc: console.progress(it, total=total, desc=desc)


def run_poisson(args, console) -> dict:
    from physfact.fem import KroneckerOperator, poisson_strip
    from physfact.fem.fdm import fdm_solve

    _check_args(args, poisson=True)
    prob = poisson_strip(length=args.length, height=args.height, ny=args.ny, nx=args.nx, material=args.material,
                         assemble=args.compare)
    op = KroneckerOperator.from_problem(prob)
    res = fdm_solve(op, prob.f)
    out = {"n": prob.n, "kronecker_rank": op.rank, "storage_ratio": op.compression_ratio,
           "fdm_seconds": res.seconds, "residual": float(res.residual), "u_max": float(res.x.max())}
    console.print(f"Poisson strip {args.length:g} x {args.height:g}, n = {prob.n}: Kronecker rank {op.rank}, "
                  f"storage {op.compression_ratio:.0f}x smaller than CSR")
    console.print(f"  fast diagonalisation: {res.seconds:.3f} s, relative residual {float(res.residual):.2e}, "
                  f"max u = {res.x.max():.6g} (units of f L^2 / E, source f = 1)")
    if args.compare:
        from scipy.sparse.linalg import splu

        t0 = time.perf_counter()
        ref = splu(prob.K.tocsc(), permc_spec="MMD_AT_PLUS_A").solve(prob.f)
        t = time.perf_counter() - t0
        err = float(np.linalg.norm(res.x - ref) / np.linalg.norm(ref))
        out.update(splu_seconds=t, relative_difference=err)
        console.print(f"  scipy splu (MMD_AT_PLUS_A): {t:.3f} s; relative difference {err:.2e}")
    if args.plot:
        from physfact.fem.plots import plot_beam

        plot_beam(prob, res.x, args.plot, title="Poisson strip: u")
        out["plot"] = str(args.plot)
    if args.out:
        _save(args.out, out, prob, res.x)
    return out


def _save(path, out, prob, u):
    from pathlib import Path

    from physfact.io import save_arrays, write_json

    if Path(path).suffix.lower() == ".json":
        write_json(path, out)
    else:
        arrays = {"coords": prob.coords, "station": prob.station, "section": prob.section}
        if u is not None:
            arrays["u"] = u
        # a scalar named like an array (the section size vs the per-DOF section index) gets an n_ prefix
        scalars = {(f"n_{k}" if k in arrays else k): v for k, v in out.items() if isinstance(v, (int, float, str, bool))}
        save_arrays(path, "physfact.fem", attrs=scalars, **arrays)


def demo(console, args) -> dict:
    from scipy.sparse.linalg import splu

    from physfact.fem import KroneckerOperator, cantilever, poisson_strip
    from physfact.fem.fdm import fdm_solve
    from physfact.fem.pcg import pcg_solve

    console.print("Cantilever 20 x 1, Q1, 8 elements across (plane stress, clamped at x = 0):")
    prob = cantilever(length=20.0, height=1.0, ny=8)
    op = KroneckerOperator.from_problem(prob)
    bb = KroneckerOperator.from_matrix(prob.K, prob)
    console.print(f"  n = {prob.n}; K = sum of {op.rank} Kronecker products (error vs scikit-fem "
                  f"{op.relative_error(prob.K):.1e}); black-box rearrangement finds rank {bb.rank}")
    res = pcg_solve(prob, tol=1e-9)  # the rounding floor of this K is ~3e-10 (splu's own residual: 6e-10)
    ref = splu(prob.K.tocsc()).solve(prob.f)
    err = float(np.linalg.norm(res.x - ref) / np.linalg.norm(ref))
    tip, timo = _tip_deflection(prob, res.x), _timoshenko_tip(prob)
    console.print(f"  PCG (component FDM + beam coarse space): {res.iterations} iterations, error vs splu {err:.1e}")
    console.print(f"  tip deflection {tip:.1f} vs Timoshenko {timo:.1f} ({100 * (tip / timo - 1):+.2f}%)")
    strip = poisson_strip(length=20.0, height=1.0, ny=16)
    sol = fdm_solve(KroneckerOperator.from_problem(strip), strip.f)
    ref2 = splu(strip.K.tocsc()).solve(strip.f)
    err2 = float(np.linalg.norm(sol.x - ref2) / np.linalg.norm(ref2))
    console.print(f"Poisson strip, n = {strip.n}: fast diagonalisation {sol.seconds * 1e3:.1f} ms, error vs splu {err2:.1e}")
    return {"n": prob.n, "kronecker_rank": op.rank, "blackbox_rank": bb.rank, "pcg_iterations": res.iterations,
            "pcg_error": err, "tip_deflection": tip, "timoshenko": timo, "fdm_error": err2}
