"""Run each solver in its own process with one BLAS thread; measure CPU time and peak memory.

Usage from a benchmark script::

    from _harness import measure, print_table
    r = measure("mymodule:function", kwargs)        # runs mymodule.function(**kwargs) in a child
    r["cpu_s"], r["peak_mib"], r["wall_s"], r["result"]   # result: the function's JSON-able return

The child imports ``mymodule`` with the benchmarks folder and the repository root on sys.path, so
``measure("control_bt:run_physfact", {...})`` calls a function defined in ``benchmarks/control_bt.py``.
Peak memory is the child's maximum resident set size (VmHWM) (includes the interpreter and imports: report
``peak_mib`` for both sides of a ratio, or subtract ``baseline_mib`` measured by ``measure_baseline``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SINGLE_THREAD = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                  "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}

_CHILD = r"""
import json, os, resource, sys, time, importlib
sys.path[:0] = [{here!r}, {root!r}]
spec, kwargs = sys.argv[1], json.loads(sys.argv[2])
mod, func = spec.split(":")
f = getattr(importlib.import_module(mod), func)
r0 = resource.getrusage(resource.RUSAGE_SELF)
w0 = time.perf_counter()
out = f(**kwargs)
w1 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_SELF)
def vmhwm_mib():
    # VmHWM belongs to this process's address space; ru_maxrss is carried over from the parent
    # across fork+exec on Linux and would overstate small children.
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return r1.ru_maxrss / 1024.0
rep = dict(cpu_s=(r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime), wall_s=w1 - w0,
           peak_mib=vmhwm_mib(), result=out)
sys.stdout.write("\n@@RESULT@@" + json.dumps(rep, default=float) + "\n")
"""


def measure(spec: str, kwargs: dict | None = None, timeout: float = 3600.0, env: dict | None = None) -> dict:
    """Run ``module:function(**kwargs)`` in a fresh single-threaded Python; return its measurements.

    Only the call itself is timed (imports excluded from ``cpu_s``); ``peak_mib`` is the whole
    process's peak RSS. On failure returns ``{"error": "..."}``.
    """
    child_env = dict(os.environ, **SINGLE_THREAD, **(env or {}))
    code = _CHILD.format(here=str(HERE), root=str(ROOT))
    try:
        proc = subprocess.run([sys.executable, "-c", code, spec, json.dumps(kwargs or {})],
                              capture_output=True, text=True, timeout=timeout, env=child_env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    marker = proc.stdout.rfind("@@RESULT@@")
    if proc.returncode != 0 or marker < 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0][:200]}"}
    return json.loads(proc.stdout[marker + len("@@RESULT@@"):])


def measure_baseline(imports: str = "numpy, scipy") -> float:
    """Peak RSS (MiB) of a child that only imports ``imports`` -- subtract for 'extra' memory."""
    code = f"import resource, {imports}; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, **SINGLE_THREAD))
    return float(out.stdout.strip() or "nan")


def print_table(rows: list[dict], columns: list[str], title: str | None = None, file=None):
    """Print rows (dicts) as an aligned plain-text table; floats in 4 significant digits."""
    file = file or sys.stdout

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return "-" if v is None else str(v)

    cells = [columns] + [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    if title:
        print(title, file=file)
    for k, row in enumerate(cells):
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)), file=file)
        if k == 0:
            print("  ".join("-" * w for w in widths), file=file)
    file.flush()
