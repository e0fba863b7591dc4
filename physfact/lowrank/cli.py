"""``physfact rank``: choose the rank of a matrix by every criterion of the shared rule."""
from __future__ import annotations

import numpy as np

from physfact.errors import DataFileError, InputError
from physfact.lowrank.scaled import scaled_norm
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
    from physfact.cli import add_seed_flag

    add_seed_flag(p, "the --synthetic matrix's factors and noise")
    p.set_defaults(handler=run_rank, out_suffixes=(".json", ".npz", ".h5", ".hdf5"), plot_flags=("plot",))


def _matrix_file_bytes(p) -> float:
    """Memory estimate for reading and decomposing the matrix in file ``p``, from its header (.npy,
    .npz) or its size (text: at most one entry per 2 bytes): the array plus its SVD (about 3x)."""
    import zipfile

    if p.suffix in (".npy", ".npz"):
        try:
            if p.suffix == ".npy":
                with open(p, "rb") as fh:
                    shape, itemsize = _npy_header(fh)
            else:
                with zipfile.ZipFile(p) as z:
                    first = [n for n in z.namelist() if n.endswith(".npy")][:1] or z.namelist()[:1]  # np.load's order
                    with z.open(first[0]) as fh:
                        shape, itemsize = _npy_header(fh)
        except Exception as exc:
            raise DataFileError(f"{p}: not a readable {p.suffix} file ({exc})") from None
        return 4.0 * max(itemsize, 8) * float(np.prod(shape, dtype=float))
    return 4.0 * 8 * p.stat().st_size / 2


def _npy_header(fh):
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    shape, _, dtype = read(fh)
    return shape, dtype.itemsize


def _load_matrix(path):
    from pathlib import Path

    from physfact.validation import check_memory

    p = Path(path)
    if not p.is_file():
        raise DataFileError(f"{p}: no such file")
    if p.suffix not in (".npy", ".npz", ".txt", ".csv", ".dat", ""):
        raise DataFileError(f"{p}: unknown matrix format {p.suffix!r}; use .npy, .npz, .txt or .csv")
    check_memory(_matrix_file_bytes(p), f"reading {p} and its SVD", "pass a smaller matrix (or a sample of its rows)")
    try:
        if p.suffix == ".npy":
            return np.load(p, allow_pickle=False)
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as d:
                return d[d.files[0]]
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": refused below
            Y = np.loadtxt(p, delimiter="," if p.suffix == ".csv" else None, ndmin=2)
        if Y.size == 0:
            raise DataFileError(f"{p}: the file holds no numbers")
        return Y
    except DataFileError:
        raise
    except Exception as exc:
        raise DataFileError(f"{p}: could not read a matrix ({' '.join(str(exc).split())})") from None


def synthetic(m, n, r, noise, seed):
    """A planted rank-r matrix with singular values ~ 3 sqrt(mn) / r spread, plus N(0, noise^2)."""
    from physfact.validation import as_generator, check_memory, check_positive

    if min(m, n, r) < 1 or r > min(m, n):
        raise InputError(f"--synthetic needs 1 <= R <= min(M, N), got M={m} N={n} R={r}")
    check_positive(noise, "--noise", allow_zero=True)
    check_memory(8.0 * 4 * m * n, f"a synthetic {m} x {n} matrix and its SVD", "use smaller M and N")
    rng = as_generator(seed, "--seed")
    X = rng.standard_normal((m, r)) @ rng.standard_normal((r, n))
    return X + noise * rng.standard_normal((m, n))


def _check_rank_args(args):
    """Every flag, before loading or computing anything."""
    if args.matrix is not None and args.synthetic is not None:
        raise InputError("give a matrix file or --synthetic M N R, not both")
    if args.rtol is not None and not 0 < args.rtol <= 1:  # also NaN
        raise InputError(f"--rtol is a relative error in (0, 1], got {args.rtol}")
    if args.energy is not None:
        Truncation(energy=args.energy)


def run_rank(args, console) -> dict:
    _check_rank_args(args)
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
    console.print(f"estimated noise std per entry (Gavish-Donoho): {sigma:.4g} (units of the matrix entries)")
    for k, r in ranks.items():
        err = scaled_norm(s[r:]) / scaled_norm(s) if s.size and s[0] > 0 else 0.0
        console.print(f"  {k:14s} rank {r:4d}   discarded ||A - A_r||_F / ||A||_F = {err:.3e}")
    if args.plot:
        from physfact.plotting import plot_singular_values

        plot_singular_values(s, args.plot, rank=ranks["gap"], title="singular values")
        console.print(f"plot: {args.plot}")
    result = {"source": source, "shape": list(Y.shape), "noise_sigma": sigma, "ranks": ranks, "singular_values": s}
    if args.out:
        _save(args.out, result)
        console.info(f"wrote {args.out}")
    return {**result, "singular_values": s[:50]}


def _save(path, result):
    """Ranks per rule, the noise estimate and every singular value (.npz/.h5/.json)."""
    from pathlib import Path

    from physfact.io import save_arrays, write_json

    if Path(path).suffix.lower() == ".json":
        write_json(path, result)
        return
    attrs = {"source": result["source"], "noise_sigma": result["noise_sigma"],
             **{f"rank[{k}]": int(v) for k, v in result["ranks"].items()}}
    save_arrays(path, "lowrank.rank", attrs=attrs, shape=np.asarray(result["shape"]),
                singular_values=result["singular_values"])


def demo(console, args) -> dict:
    console.print("Rank of a 300x60 rank-5 matrix buried in noise (AIC and singular-value gap):")
    Y = synthetic(300, 60, 5, 0.5, getattr(args, "seed", 0))
    s = truncated_svd(Y).all_s
    ranks = {c: Truncation(criterion=c).choose(s, shape=Y.shape) for c in ("aic", "gap")}
    console.print(f"  planted rank 5 -> AIC {ranks['aic']}, gap {ranks['gap']}; "
                  f"noise std estimated {estimate_noise_sigma(s, Y.shape):.3f} (true 0.5)")
    return {"planted_rank": 5, "ranks": ranks}
