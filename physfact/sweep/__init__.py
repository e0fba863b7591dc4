"""Parameter studies on Dask: many independent factorizations, resumable, on one machine or a cluster.

* :class:`Sweep` -- a task (``df``, ``bt``, ``tt-chain``, ``fem-beam`` or your own :class:`Task`),
  fixed keyword arguments and a grid of swept ones; ``Sweep.from_toml(path)`` reads a spec file.
* ``Sweep.run(store, client=None, workers=None)`` -- computes the points missing from the store
  directory as Dask tasks and returns the table (:func:`load_table`).
* :func:`run_sweep` -- the same, returning a :class:`SweepSummary` (points, computed, skipped,
  failed, table path).

The engine is Dask ``distributed`` (imported when a sweep runs). See ``docs/sweeps.md``.
"""
from physfact.sweep.runner import SweepSummary, run_sweep
from physfact.sweep.spec import Point, Sweep
from physfact.sweep.store import load_table
from physfact.sweep.tasks import TASKS, Task

__all__ = ["Sweep", "Point", "Task", "TASKS", "run_sweep", "SweepSummary", "load_table"]
