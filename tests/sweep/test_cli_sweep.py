"""``physfact sweep`` end to end: JSON summary, exit codes, a run killed mid-way and resumed, an
external ``dask scheduler`` + ``dask worker`` used through --scheduler."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _cli(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "physfact.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=_env())


def test_partial_failure_exits_1_with_the_table_written(tmp_path):
    spec = tmp_path / "beam.toml"
    spec.write_text('task = "fem-beam"\n[fixed]\nlength = 6.0\nny = 2\n[grid]\nmaxiter = [1, 200]\n')
    out = _cli("sweep", spec, "--store", tmp_path / "s", "--workers", "1", "--json", "--plot", tmp_path / "p.png")
    assert out.returncode == 1, out.stderr
    summary = json.loads(out.stdout)
    assert {k: summary[k] for k in ("points", "computed", "skipped", "failed")} == {
        "points": 2, "computed": 2, "skipped": 0, "failed": 1}
    assert "ConvergenceError" in summary["errors"]["0"]
    assert "1 of 2 points failed" in out.stderr.splitlines()[-1]
    lines = Path(summary["table"]).read_text().splitlines()
    assert len(lines) == 3 and "ConvergenceError" in lines[1] and lines[2].split(",")[1] == "200"
    assert (tmp_path / "p.png").stat().st_size > 1000


SLOW_SWEEP = """
import sys, time
from physfact.sweep import Sweep
from physfact.sweep.tasks import REQUIRED, Task

def compute(kw, prepared=None):
    time.sleep(0.4)
    return {"y": 2 * kw["task"]["x"]}, None

task = Task(name="slow", summary="", steps=(), compute=compute, columns=("y",), extra={"x": (REQUIRED, (int,))})
if __name__ == "__main__":  # the worker processes are spawned and import this file again
    Sweep(task, grid={"x": list(range(12))}).run(sys.argv[1], workers=2)
"""


@pytest.mark.slow  # two subprocess runs, each starting its own LocalCluster (~15 s)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_killed_run_keeps_finished_points_and_resumes(tmp_path, sig):
    script = tmp_path / "slow.py"
    script.write_text(textwrap.dedent(SLOW_SWEEP))
    store = tmp_path / "s"
    # its own process group, as a terminal's: Ctrl-C (SIGINT) reaches the workers too
    proc = subprocess.Popen([sys.executable, str(script), str(store)], env=_env(), stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    points = store / "points"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (points.is_dir() and len(list(points.glob("*.npz"))) >= 2):
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0, "the run finished before it could be killed"
    assert "Dask Worker process" not in err      # the workers ignore the terminal's Ctrl-C; the client closes them
    kept = {p.name: p.stat().st_mtime_ns for p in points.glob("*.npz")}
    assert 2 <= len(kept) < 12 and not list(points.glob(".*.tmp*"))       # no half-written file left
    table = (store / "results.csv").read_text().splitlines()
    assert len(table) - 1 == len(kept)                                    # the table was written on the way out
    again = subprocess.run([sys.executable, str(script), str(store)], env=_env(), capture_output=True, text=True,
                           timeout=240)
    assert again.returncode == 0, again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in points.glob("*.npz") if p.name in kept} == kept
    rows = (store / "results.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[1]) * 2 == int(r.split(",")[2]) for r in rows] == [True] * 12


@pytest.mark.slow  # starts a scheduler, a worker and the CLI as processes (~10 s)
def test_external_scheduler_and_worker(tmp_path):
    dask = Path(sys.executable).with_name("dask")
    if not dask.exists():
        pytest.skip("the 'dask' command is not beside this Python (it comes with the distributed dependency)")
    sched_file = tmp_path / "scheduler.json"
    sched = subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                              "--scheduler-file", str(sched_file)], env=_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not sched_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen([str(dask), "worker", address, "--nworkers", "1", "--nthreads", "1",
                                   "--host", "127.0.0.1", "--no-dashboard"], env=_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        spec = tmp_path / "tt.toml"
        spec.write_text('task = "tt-chain"\n[fixed]\nL = 6\n[grid]\ng = [0.5, 1.5]\n')
        out = _cli("sweep", spec, "--store", tmp_path / "s", "--scheduler", address, "--json")
        assert out.returncode == 0, out.stderr
        summary = json.loads(out.stdout)
        assert (summary["computed"], summary["failed"]) == (2, 0)
        from physfact.tt.models import tfim_energy_exact

        rows = [r.split(",") for r in Path(summary["table"]).read_text().splitlines()[1:]]
        for r in rows:
            assert float(r[2]) == pytest.approx(tfim_energy_exact(6, g=float(r[1])), abs=1e-9)
    finally:
        for p in (worker, sched):
            if p is not None:
                p.terminate()
                p.wait(timeout=30)
