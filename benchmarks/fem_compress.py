"""Kronecker compression and fast solvers vs scipy splu and pyamg (each solver in its own process).

Run:  python benchmarks/fem_compress.py [--quick]

Problems (built without scikit-fem assembly; the peers get the identical sparse K = the Kronecker
form assembled by scipy.sparse.kron, equal to scikit-fem's K to rounding, see tests/fem):
  * Poisson strip 20 x 1, Q1, Dirichlet boundary, n = 5e4 and 5e5 (quick: 1e4, 5e4):
    physfact fast diagonalisation (+1 refinement step) vs scipy splu (SuperLU,
    permc_spec="MMD_AT_PLUS_A": minimum degree on A^T + A, the right choice for symmetric K).
  * Cantilever 20 x 1, plane stress Q1, clamped end, end load, n = 1e5 and 1e6 (quick: 2e4, 1e5):
    physfact PCG (component FDM + beam coarse space, Kronecker products) vs splu (same ordering)
    vs pyamg smoothed aggregation with the 3 rigid-body modes as near-null space, CG-accelerated.
All iterative solvers stop at relative residual 1e-8. Times are the solver's own factor+solve
(setup+iterations) measured inside the child, the best of up to 25 repetitions within a 2 s budget
(same rule for every solver; runs over 2 s are timed once); "total" is the child's whole call. Memory: "factor"
is the solver's stored data (FDM: eigenvectors + banded Cholesky factors; splu: L and U in CSC;
PCG: preconditioner; pyamg: hierarchy), "peak_extra" the child's peak resident memory above its
resident memory just before the solver started (the peak is reset there via /proc/self/clear_refs;
a lower bound, since freed heap pages from building the inputs are reused).
One BLAS thread per child (benchmarks/_harness.py).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

SPLU_ORDERING = "MMD_AT_PLUS_A"
MEMORY_LIMIT_GIB = 5.0  # per process (the machine is shared; the brief asks to stay under ~5-6 GiB)


# ----------------------------------------------------------------------------- child helpers
def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak() -> float:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    return _rss_mib()


def _peak_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _best(run, budget_s: float = 2.0, max_reps: int = 25):
    """Call ``run()`` repeatedly (at most ``max_reps`` times, until ``budget_s`` is spent) and return
    its last result with the smallest wall time: the machine is shared, so single timings of short
    runs are noisy. Every solver gets the same rule."""
    best, out, spent = float("inf"), None, 0.0
    for _ in range(max_reps):
        t0 = time.perf_counter()
        out = run()
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
        if spent > budget_s:
            break
    return out, best


def _strip(ny):
    from physfact.fem import KroneckerOperator, poisson_strip

    p = poisson_strip(length=20.0, height=1.0, ny=ny, assemble=False)
    return p, KroneckerOperator.from_problem(p)


def _beam(ny):
    from physfact.fem import KroneckerOperator, cantilever

    p = cantilever(length=20.0, height=1.0, ny=ny, assemble=False)
    return p, KroneckerOperator.from_problem(p)


def _finish(out, x, op, b, t_solve, rss0, factor_bytes, extra):
    np.save(out, x)
    r = b - op @ x
    return dict(n=int(b.size), solve_s=t_solve, residual=float(np.linalg.norm(r) / np.linalg.norm(b)),
                factor_mib=factor_bytes / 2**20, peak_extra_mib=_peak_mib() - rss0, **extra)


# ----------------------------------------------------------------------------- children
def poisson_fdm(ny: int, out: str) -> dict:
    from physfact.fem import FDMFactor

    p, op = _strip(ny)
    rss0 = _reset_peak()

    def run():
        fac = FDMFactor(op)
        x = fac.solve(p.f)
        return fac, x + fac.solve(p.f - op @ x)        # one step of iterative refinement

    (fac, x), t = _best(run)
    return _finish(out, x, op, p.f, t, rss0, fac.nbytes, dict(kron_mib=op.nbytes / 2**20,
                                                               csr_mib=op.csr_nbytes_estimate / 2**20))


def _splu(K, b):
    from scipy.sparse.linalg import splu

    K = K.tocsc()

    def run():
        lu = splu(K, permc_spec=SPLU_ORDERING)
        return lu, lu.solve(b)

    (lu, x), t = _best(run)
    # L and U in CSC: 8-byte values + 4-byte row indices + column pointers
    nbytes = 12 * (lu.L.nnz + lu.U.nnz) + 8 * (K.shape[0] + 1)
    return x, t, nbytes


def _splu_case(p, op, out: str) -> dict:
    """The SuperLU reference on the assembled matrix of a case (CSR size reported beside it)."""
    K = op.to_sparse().tocsc()
    csr = K.data.nbytes + K.indices.nbytes + K.indptr.nbytes
    rss0 = _reset_peak()
    x, t, nbytes = _splu(K, p.f)
    return _finish(out, x, op, p.f, t, rss0, nbytes, dict(csr_mib=csr / 2**20))


def poisson_splu(ny: int, out: str) -> dict:
    return _splu_case(*_strip(ny), out)


def cantilever_pcg(ny: int, out: str) -> dict:
    from physfact.fem import BeamPreconditioner, pcg_solve

    p, op = _beam(ny)
    rss0 = _reset_peak()

    def run():
        M = BeamPreconditioner(p)
        return M, pcg_solve(p, tol=1e-8, operator=op, preconditioner=M)

    (M, res), t = _best(run)
    pre = sum(fac.nbytes for _, fac in M.blocks) + M._coarse_chol.nbytes + M.Phi.nbytes
    return _finish(out, res.x, op, p.f, t, rss0, pre, dict(iterations=res.iterations, kron_mib=op.nbytes / 2**20,
                                                          csr_mib=op.csr_nbytes_estimate / 2**20))


def cantilever_splu(ny: int, out: str) -> dict:
    return _splu_case(*_beam(ny), out)


def cantilever_pyamg(ny: int, out: str) -> dict:
    import pyamg
    import scipy.sparse as sp

    p, op = _beam(ny)
    K = op.to_sparse().tocsr()
    # rigid-body modes of plane elasticity: two translations and the in-plane rotation
    xy = p.coords
    comp = p.section % 2
    B = np.zeros((p.n, 3))
    B[comp == 0, 0] = 1.0
    B[comp == 1, 1] = 1.0
    B[comp == 0, 2] = -xy[comp == 0, 1]
    B[comp == 1, 2] = xy[comp == 1, 0]
    # BSR with 2 x 2 nodal blocks, the standard pyamg set-up for elasticity (scalar CSR aggregation
    # diverged in some runs at 1e5 DOFs); seeded because pyamg's spectral-radius estimates are random
    np.random.seed(0)
    A = sp.bsr_matrix(K, blocksize=(2, 2))
    rss0 = _reset_peak()

    def run():
        np.random.seed(0)
        ml = pyamg.smoothed_aggregation_solver(A, B=B, symmetry="symmetric")
        residuals = []
        x = ml.solve(p.f, tol=1e-8, accel="cg", maxiter=1000, residuals=residuals)
        return ml, x, residuals

    (ml, x, residuals), t = _best(run)
    nbytes = sum(lv.A.data.nbytes + lv.A.indices.nbytes for lv in ml.levels) + \
        sum(lv.P.data.nbytes + lv.P.indices.nbytes for lv in ml.levels[:-1])
    return _finish(out, x, op, p.f, t, rss0, nbytes, dict(iterations=len(residuals) - 1))


def storage(ny: int, material: str) -> dict:
    """Kronecker bytes vs the CSR bytes of the same K (assembled here by scipy.sparse.kron)."""
    from physfact.fem import KroneckerOperator, cantilever

    p = cantilever(length=20.0, height=1.0, ny=ny, material=material, assemble=False)
    op = KroneckerOperator.from_problem(p)
    K = op.to_sparse()
    K.eliminate_zeros()
    csr = K.data.nbytes + K.indices.nbytes + K.indptr.nbytes
    return dict(n=p.n, rank=op.rank, kron_kib=op.nbytes / 1024, csr_mib=csr / 2**20, ratio=csr / op.nbytes,
                skfem_like_csr_mib=18 * p.n * 12 / 2**20)


# ----------------------------------------------------------------------------- driver
def main(argv=None):
    from _harness import measure, print_table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (1e4/5e4 Poisson, 2e4/1e5 cantilever)")
    args = ap.parse_args(argv)
    strip_ny = (22, 50) if args.quick else (50, 158)
    beam_ny = (22, 50) if args.quick else (50, 158)
    tmp = Path(tempfile.mkdtemp(prefix="fem_bench_"))
    rows = []

    def run(problem, solver, func, ny, ref=None):
        out = str(tmp / f"{func}_{ny}.npy")
        t0 = time.perf_counter()
        r = measure(f"fem_compress:{func}", {"ny": ny, "out": out}, timeout=3600)
        if "error" in r:
            print(f"  {problem} ny={ny} {solver}: {r['error']}", flush=True)
            rows.append(dict(problem=problem, solver=solver, note=r["error"][:60]))
            return None
        res = r["result"]
        row = dict(problem=problem, n=res["n"], solver=solver, solve_s=res["solve_s"], total_s=r["wall_s"],
                   iters=res.get("iterations"), residual=res["residual"], factor_MiB=res["factor_mib"],
                   peak_extra_MiB=res["peak_extra_mib"])
        if ref is not None and Path(ref).exists():
            xr = np.load(ref)
            row["rel_diff"] = float(np.linalg.norm(np.load(out) - xr) / np.linalg.norm(xr))
        rows.append(row)
        print(f"  done {problem} n={res['n']} {solver}: {res['solve_s']:.3f} s ({time.perf_counter() - t0:.0f} s wall)",
              flush=True)
        return res | {"out": out}

    summary = []
    for ny in strip_ny:
        lu = run("poisson-strip", f"splu {SPLU_ORDERING}", "poisson_splu", ny)
        fdm = run("poisson-strip", "physfact FDM", "poisson_fdm", ny, ref=lu and lu["out"])
        if lu and fdm:
            summary.append(dict(problem="poisson-strip", n=fdm["n"], peer="splu", time_ratio=fdm["solve_s"] / lu["solve_s"],
                                speedup=lu["solve_s"] / fdm["solve_s"],
                                factor_ratio=fdm["factor_mib"] / lu["factor_mib"],
                                peak_ratio=fdm["peak_extra_mib"] / max(lu["peak_extra_mib"], 1e-9),
                                storage_x=fdm["csr_mib"] / fdm["kron_mib"]))
    lu_peak = None
    for k, ny in enumerate(beam_ny):
        n_est = 2 * 20 * ny * (ny + 1)
        skip_lu = None
        if lu_peak is not None:
            n_prev, peak_prev = lu_peak
            predicted = peak_prev * (n_est / n_prev) ** 1.2 / 1024   # GiB; MMD fill of a 2-D strip grows ~ n^1.1-1.3
            if predicted > MEMORY_LIMIT_GIB:
                skip_lu = f"skipped: predicted splu peak {predicted:.1f} GiB > {MEMORY_LIMIT_GIB} GiB limit"
        if skip_lu:
            print(f"  cantilever n={n_est} splu {skip_lu}", flush=True)
            rows.append(dict(problem="cantilever", n=n_est, solver=f"splu {SPLU_ORDERING}", note=skip_lu))
            lu = None
        else:
            lu = run("cantilever", f"splu {SPLU_ORDERING}", "cantilever_splu", ny)
            if lu:
                lu_peak = (lu["n"], lu["peak_extra_mib"] + lu["factor_mib"] * 0)
        ref = lu["out"] if lu else None
        pcg = run("cantilever", "physfact PCG (FDM+beam)", "cantilever_pcg", ny, ref=ref)
        amg = run("cantilever", "pyamg SA + rigid modes", "cantilever_pyamg", ny, ref=ref or (pcg and pcg["out"]))
        if pcg:
            for peer, res in (("splu", lu), ("pyamg", amg)):
                if res:
                    summary.append(dict(problem="cantilever", n=pcg["n"], peer=peer,
                                        time_ratio=pcg["solve_s"] / res["solve_s"], speedup=res["solve_s"] / pcg["solve_s"],
                                        factor_ratio=pcg["factor_mib"] / res["factor_mib"],
                                        peak_ratio=pcg["peak_extra_mib"] / max(res["peak_extra_mib"], 1e-9),
                                        storage_x=pcg["csr_mib"] / pcg["kron_mib"]))
    storage_rows = []
    for material in ("constant", "graded", "layered"):
        r = measure("fem_compress:storage", {"ny": beam_ny[-1], "material": material}, timeout=1800)
        if "error" not in r:
            storage_rows.append(dict(material=material, **r["result"]))
    print()
    print_table(rows, ["problem", "n", "solver", "solve_s", "total_s", "iters", "residual", "rel_diff", "factor_MiB",
                       "peak_extra_MiB", "note"],
                title=f"fem_compress{' --quick' if args.quick else ''}: solver time (factor+solve / setup+iterations), "
                      "memory, accuracy (rel_diff vs splu, or vs PCG where splu was skipped)")
    print()
    print_table(summary, ["problem", "n", "peer", "time_ratio", "speedup", "factor_ratio", "peak_ratio", "storage_x"],
                title="ours / peer (time_ratio, factor_ratio = factor storage, peak_ratio = extra peak memory); "
                      "speedup = peer time / ours; storage_x = CSR bytes of K / Kronecker bytes")
    print()
    print_table(storage_rows, ["material", "n", "rank", "kron_kib", "csr_mib", "ratio"],
                title="storage of the cantilever's K: Kronecker factors (banded, DIA) vs CSR (non-zeros only)")
    return rows, summary


if __name__ == "__main__":
    main()
