"""``physfact sweep SPEC --store DIR``: run a parameter study on Dask, resumably."""
from __future__ import annotations

from pathlib import Path

from physfact.errors import InputError

#: rows of the table printed on the terminal (the whole table is in results.csv)
SHOW_ROWS = 40


def register(sub, common):
    p = sub.add_parser("sweep", parents=[common],
                       help="parameter study (df, bt, tt-chain, fem-beam) as Dask tasks, resumable")
    p.add_argument("spec", help="TOML spec: task = \"df\" | \"bt\" | \"tt-chain\" | \"fem-beam\", [fixed] keyword "
                                "arguments, [grid] lists to sweep ({name} in a [fixed] string is filled from the grid)")
    p.add_argument("--store", required=True, metavar="DIR",
                   help="result directory: one file per point + results.csv; re-running computes only missing points")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes of the local Dask cluster (default: the CPUs available)")
    g.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="use a running Dask scheduler (tcp://host:8786, from 'dask scheduler') instead")
    p.add_argument("--force", action="store_true",
                   help="accept a store that holds another spec (its points with equal parameters are kept)")
    p.add_argument("--retries", type=int, default=1,
                   help="extra attempts of a point lost to the infrastructure (default 1; a dead worker's tasks "
                        "are rescheduled by Dask anyway)")
    p.add_argument("--blas-threads", type=int, default=1, metavar="N",
                   help="BLAS threads per point (default 1: one per worker process)")
    p.set_defaults(handler=run, plot_flags=("plot",))  # writes its store, not --out


def run(args, console) -> dict:
    from physfact.sweep.runner import run_sweep
    from physfact.sweep.spec import Sweep

    sweep = Sweep.from_toml(args.spec)
    for name in ("workers", "blas_threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InputError(f"--{name.replace('_', '-')} {value}: give a positive integer")
    if args.retries < 0:
        raise InputError(f"--retries {args.retries}: give 0 or more")
    if args.out and Path(args.out).suffix.lower() not in (".json", ".csv"):
        raise InputError(f"--out {args.out}: physfact sweep writes .json (the summary) or .csv (the table)")
    summary = run_sweep(sweep, args.store, workers=args.workers, scheduler=args.scheduler, force=args.force,
                        console=console, retries=args.retries, blas_threads=args.blas_threads)
    _print_table(sweep, summary, console)
    out = {"points": summary.points, "computed": summary.computed, "skipped": summary.skipped,
           "failed": summary.failed, "table": str(summary.table), "store": str(summary.store),
           "errors": {str(k): v for k, v in summary.errors.items()}, "seconds": summary.seconds}
    if args.plot:
        from physfact.sweep.plotting import plot_sweep

        plot_sweep(sweep, summary.table, args.plot)
        console.print(f"plot: {args.plot}")
    if args.out:
        _write_out(args.out, out, summary)
        console.print(f"wrote {args.out}")
    if summary.failed:
        args.exit_status = 1
        print(f"physfact: failed: {summary.failed} of {summary.points} points failed (messages in the error column "
              f"of {summary.table})", file=console.stderr)
    return out


def _print_table(sweep, summary, console):
    from physfact.sweep.store import load_table

    console.print(f"sweep {sweep.task.name}: {summary.points} points; computed {summary.computed}, "
                  f"skipped {summary.skipped} (already in the store), failed {summary.failed}; "
                  f"{summary.seconds:.1f} s")
    if console.json:
        return
    table = load_table(summary.table)
    cols = ["point", *sweep.grid, *(sweep.task.plot or sweep.task.columns), "error"]
    data = {c: list(table[c]) for c in cols}
    n = len(data["point"])
    rows = [[_short(data[c][i]) for c in cols] for i in range(min(n, SHOW_ROWS))]
    console.table(rows, cols)
    if n > SHOW_ROWS:
        console.print(f"... {n - SHOW_ROWS} more rows")
    console.print(f"table: {summary.table}")


def _short(v):
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, str) and len(v) > 50:
        return v[:47] + "..."
    return v


def _write_out(path, out, summary):
    from physfact.io import write_json, write_text

    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        write_json(path, out)
    else:
        write_text(path, Path(summary.table).read_text())
