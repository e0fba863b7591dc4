"""physfact.sweep on Dask: parallel speed-up, scheduler overhead per task, and how it scales.

1. 1 vs 2 worker processes (LocalCluster) on 16 points of ~1 s of CPU each (a point burns a fixed
   CPU time in single-threaded BLAS, so contention from other processes shows up as wall time,
   not as less work): wall-time ratio T(2) / T(1); target <= 0.6.
2. Overhead per task: 400 points that do nothing, end to end through the sweep (submit, run on a
   worker, write the point file atomically, stream back, table): wall / points; target <= 20 ms.
   Beside it, the same number of bare ``client.submit`` no-ops (Dask's own floor).
3. A simulated larger cluster: the tiny-task overhead with 2, 4, 8 and 16 worker processes (more
   processes than cores), which should stay flat (the scheduler, not the workers, sets it).

Wall times (this measures scheduling, so CPU time of one process says nothing); on a shared
machine the ratios are noisy. Run: ``python benchmarks/sweep.py [--quick]``.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from physfact.sweep import Sweep, run_sweep  # noqa: E402
from physfact.sweep.tasks import REQUIRED, Task  # noqa: E402


def _burn(kw, prepared=None):
    """Burn ``seconds`` of CPU time in 200 x 200 matrix products (one BLAS thread)."""
    import numpy as np

    seconds = kw["task"]["seconds"]
    a = np.random.default_rng(kw["task"]["x"]).standard_normal((200, 200)) / 20
    t0, n = time.process_time(), 0
    while time.process_time() - t0 < seconds:
        a = a @ a
        a /= np.linalg.norm(a)
        n += 1
    return {"y": float(a[0, 0]), "products": n}, None


BURN = Task(name="burn", summary="fixed CPU time", steps=(), compute=_burn, columns=("y", "products"),
            extra={"x": (REQUIRED, (int,)), "seconds": (0.0, (int, float))})


def _noop():
    return None


def _cluster(workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return cluster, Client(cluster)


def _sweep_wall(client, n_points, seconds):
    spec = Sweep(BURN, fixed={"seconds": seconds}, grid={"x": list(range(n_points))})
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = run_sweep(spec, Path(tmp) / "s", client=client)
        wall = time.perf_counter() - t0
    assert summary.failed == 0 and summary.computed == n_points
    return wall


def _bare_wall(client, n):
    from distributed import wait

    t0 = time.perf_counter()
    wait([client.submit(_noop, pure=False) for _ in range(n)])
    return time.perf_counter() - t0


def main(quick=False):
    n_burn, sec = (8, 0.5) if quick else (16, 1.0)
    n_tiny = 100 if quick else 400
    rows = []
    walls = {}
    for w in (1, 2):
        cluster, client = _cluster(w)
        try:
            _sweep_wall(client, 2, 0.01)                   # warm the workers' imports
            walls[w] = _sweep_wall(client, n_burn, sec)
        finally:
            client.close()
            cluster.close()
    print(f"1. {n_burn} points x {sec:g} s CPU: 1 worker {walls[1]:.2f} s, 2 workers {walls[2]:.2f} s; "
          f"ratio T(2)/T(1) = {walls[2] / walls[1]:.2f} (target <= 0.6; ideal 0.5)")
    print(f"\n2./3. overhead per task, {n_tiny} no-op points (sweep end to end) vs bare client.submit no-ops")
    print(f"{'workers':>8} {'sweep ms/task':>14} {'bare Dask ms/task':>18}")
    for w in ((2, 4) if quick else (2, 4, 8, 16)):
        cluster, client = _cluster(w)
        try:
            _sweep_wall(client, 2 * w, 0.0)
            sweep_ms = 1e3 * _sweep_wall(client, n_tiny, 0.0) / n_tiny
            bare_ms = 1e3 * _bare_wall(client, n_tiny) / n_tiny
        finally:
            client.close()
            cluster.close()
        rows.append((w, sweep_ms, bare_ms))
        print(f"{w:8d} {sweep_ms:14.2f} {bare_ms:18.2f}")
    print("target: <= 20 ms per task, flat in the number of workers")
    return {"ratio": walls[2] / walls[1], "walls": walls, "overhead": rows}


if __name__ == "__main__":  # worker processes are spawned and import this file again
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer and shorter points")
    main(p.parse_args().quick)
