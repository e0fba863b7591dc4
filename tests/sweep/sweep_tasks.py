"""Test-only sweep tasks (pickled by value to the workers, which cannot import the tests)."""
import os
import signal
import sys
import time
from pathlib import Path

import cloudpickle

from physfact.sweep.tasks import REQUIRED, Task


def _double(kw, prepared=None):
    """y = 2 x after an optional sleep; kills its own worker process once if ``marker`` is absent, or every time with ``kill_always``."""
    t = kw["task"]
    if t["kill_always"]:
        os.kill(os.getpid(), signal.SIGKILL)
    if t["marker"] and not Path(t["marker"]).exists():
        Path(t["marker"]).write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(t["sleep"])
    if t["x"] < 0:
        raise ValueError(f"x = {t['x']} is negative")
    return {"y": 2 * t["x"], "pid": os.getpid()}, None


def _blas(kw, prepared=None):
    from threadpoolctl import threadpool_info

    return {"y": max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"), default=0),
            "pid": os.getpid()}, None


DOUBLE = Task(name="double", summary="y = 2 x", steps=(), compute=_double, columns=("y", "pid"),
              extra={"x": (REQUIRED, (int, float)), "sleep": (0.0, (int, float)), "marker": ("", (str,)),
                     "kill_always": (False, (bool,))})
BLAS = Task(name="blas", summary="BLAS threads seen by a point", steps=(), compute=_blas, columns=("y", "pid"),
            extra={"x": (REQUIRED, (int,))})

cloudpickle.register_pickle_by_value(sys.modules[__name__])
