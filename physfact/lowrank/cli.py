"""``physfact rank``: choose the rank of a matrix by every criterion of the shared rule."""
from __future__ import annotations

import numpy as np

from physfact.errors import DataFileError, InputError
from physfact.lowrank.svd import truncated_svd
from physfact.lowrank.truncation import Truncation, estimate_noise_sigma


def register(sub, common):
    p = sub.add_parser("rank", parents=[common],
                       help="choose the rank of a matrix (file or synthetic low-rank + noise)")
    p.add_argument("matrix", nargs="?", help=".npy, .txt/.csv (whitespace or comma separated) or .npz (first array)")
    p.add_argument("--synthetic", nargs=3, type=int, metavar=("M", "N", "R"), default=None,
                   help="planted rank-R M x N matrix plus Gaussian noise (default 300 60 5 without a file)")
    p.add_argument("--noise", type=float, default=0.5, help="noise std for --synthetic (default 0.5)")
    p.add_argument("--rtol", type=float, default=None, help="also report the rank for this relative tolerance")
    p.add_argument("--energy", type=float, default=None, help="also report the rank keeping this energy fraction")
    p.set_defaults(handler=run_rank, out_suffixes=(".json", ".npz", ".h5", ".hdf5"), out_by_cli=True, plot_flags=("plot",))


def _load_matrix(path):
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        raise DataFileError(f"{p}: no such file")
    try:
        if p.suffix == ".npy":
            return np.load(p, allow_pickle=False)
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as d:
                return d[d.files[0]]
        return np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None)
    except Exception as exc:
        raise DataFileError(f"{p}: could not read a matrix ({exc})") from None


def synthetic(m, n, r, noise, seed):
    """A planted rank-r matrix with singular values ~ 3 sqrt(mn) / r spread, plus N(0, noise^2)."""
    if min(m, n, r) < 1 or r > min(m, n):
        raise InputError(f"--synthetic needs 1 <= R <= min(M, N), got M={m} N={n} R={r}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, r)) @ rng.standard_normal((r, n))
    return X + noise * rng.standard_normal((m, n))


def run_rank(args, console) -> dict:
    if args.matrix is not None:
        Y = _load_matrix(args.matrix)
        source = str(args.matrix)
    else:
        m, n, r = args.synthetic or (300, 60, 5)
        Y = synthetic(m, n, r, args.noise, args.seed)
        source = f"synthetic rank {r}, {m}x{n}, noise {args.noise}"
    svd = truncated_svd(Y)
    s = svd.all_s
    rules = {"aic": Truncation(criterion="aic"), "gap": Truncation(criterion="gap")}
    if args.rtol is not None:
        rules[f"rtol={args.rtol:g}"] = Truncation(rtol=args.rtol)
    if args.energy is not None:
        rules[f"energy={args.energy:g}"] = Truncation(energy=args.energy)
    ranks = {k: rule.choose(s, shape=Y.shape) for k, rule in rules.items()}
    sigma = estimate_noise_sigma(s, Y.shape)
    console.print(f"matrix: {source}, shape {Y.shape}")
    console.print(f"estimated noise std per entry (Gavish-Donoho): {sigma:.4g}")
    for k, r in ranks.items():
        err = float(np.sqrt(np.sum(s[r:] ** 2)) / np.linalg.norm(s))
        console.print(f"  {k:14s} rank {r:4d}   relative discarded {err:.3e}")
    if args.plot:
        from physfact.plotting import plot_singular_values

        plot_singular_values(s, args.plot, rank=ranks["gap"], title="singular values")
        console.print(f"plot: {args.plot}")
    return {"shape": list(Y.shape), "noise_sigma": sigma, "ranks": ranks, "singular_values": s[:50]}


def demo(console, args) -> dict:
    console.print("Rank of a 300x60 rank-5 matrix buried in noise (AIC and singular-value gap):")
    Y = synthetic(300, 60, 5, 0.5, getattr(args, "seed", 0))
    s = truncated_svd(Y).all_s
    ranks = {c: Truncation(criterion=c).choose(s, shape=Y.shape) for c in ("aic", "gap")}
    console.print(f"  planted rank 5 -> AIC {ranks['aic']}, gap {ranks['gap']}; "
                  f"noise std estimated {estimate_noise_sigma(s, Y.shape):.3f} (true 0.5)")
    return {"planted_rank": 5, "ranks": ranks}
