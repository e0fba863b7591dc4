"""Run a sweep's missing points as Dask tasks and stream their results into the store.

Engine: Dask ``distributed`` -- a ``LocalCluster`` of single-threaded worker processes by default,
or any running scheduler by address (``dask scheduler`` + ``dask worker``, dask-jobqueue on
SLURM/PBS, Kubernetes). Nothing here schedules, queues or pools work itself.

* Each point is one task (:func:`execute_point`); the worker computes it with BLAS limited to
  ``blas_threads`` threads, writes the point file atomically and returns only the small record
  (parameters, scalars, error), so neither the scheduler nor the client ever holds big arrays.
* Points that share a heavy input (the same molecule and basis, the same model file, the same
  mesh) share one ``prepare`` task: it runs once, its result stays on a worker and Dask moves it to
  the workers that need it -- the equivalent of scattering it once, without building it on the
  client. It is released when its last point finishes.
* Results stream in with ``as_completed``; ``results.csv`` is rewritten (atomically) at most every
  ``TABLE_EVERY`` seconds and at the end, also after Ctrl-C / SIGTERM.
* Errors of a point's computation are caught on the worker and recorded with the point: they
  never stop the others. A worker that dies (out of memory, killed, lost machine) has its tasks
  rescheduled by the scheduler (``distributed.scheduler.allowed-failures`` times); infrastructure
  errors that reach the client (e.g. the store not writable) are retried ``retries`` times.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from physfact.errors import InputError
from physfact.sweep import store as st

#: seconds between rewrites of results.csv while points stream in
TABLE_EVERY = 2.0
#: seconds to wait for a scheduler given by address
CONNECT_TIMEOUT = 20


@dataclass(frozen=True)
class SweepSummary:
    """What a run did.

    Attributes
    ----------
    points : int
        Points of the spec.
    computed : int
        Points computed by this run (succeeded or failed).
    skipped : int
        Points already in the store (succeeded before), not recomputed.
    failed : int
        Points of the spec whose record holds an error after this run.
    table : Path
        ``results.csv``.
    store : Path
    errors : dict
        point index -> error message of the failed points.
    seconds : float
        Wall time of the run.
    """

    points: int
    computed: int
    skipped: int
    failed: int
    table: Path
    store: Path
    errors: dict
    seconds: float


class _Failed:
    """A prepare step that raised: every point that needs it is recorded with this message."""

    def __init__(self, message):
        self.message = message


def _message(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


_SINGLE_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _blas_limit(n):
    """BLAS limited to ``n`` threads for one point. A worker process started with the single-thread
    environment (Dask's nanny sets it by default) already runs every BLAS on one thread; probing the
    loaded libraries again would cost more than a tiny point."""
    from physfact.threads import blas_threads

    if n == 1 and all(os.environ.get(v) == "1" for v in _SINGLE_THREAD_ENV):
        return contextlib.nullcontext()
    return blas_threads(n)


def prepare_input(task, kwargs, blas_threads):
    """Build a task's shared heavy input on a worker (errors become a :class:`_Failed`)."""
    try:
        with _blas_limit(blas_threads):
            return task.prepare(**kwargs)
    except Exception as exc:  # recorded with every point that needs this input
        return _Failed(_message(exc))


def execute_point(point, task, store, prepared=None, blas_threads=1) -> dict:
    """Compute one point on a worker, write its file, return its small record."""
    t0 = time.perf_counter()
    results, save, error = None, None, None
    try:
        with _blas_limit(blas_threads):
            if isinstance(prepared, _Failed):
                raise _PreparedError(prepared.message)
            if prepared is None and task.prepare is not None:
                prepared = task.prepare(**task.prepare_kwargs(point.params))
            results, save = task.compute(task.split(point.params), prepared)
    except _PreparedError as exc:
        error = f"preparing the input failed: {exc}"
    except Exception as exc:  # a failing point is recorded, never stops the sweep
        error = _message(exc)
    record = _record(task, point, results, error, time.perf_counter() - t0)
    try:
        st.write_point(store, point.key, record, save)
    except Exception as exc:  # the result could not be saved: record that instead
        record = _record(task, point, None, f"writing the point file failed: {_message(exc)}", record["seconds"])
        st.write_point(store, point.key, record, None)
    return record


class _PreparedError(Exception):
    pass


def _record(task, point, results, error, seconds):
    return {"task": task.name, "index": point.index, "values": point.values, "params": point.params,
            "results": results, "error": error, "seconds": seconds, "worker": socket.gethostname()}


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def dask_client(client=None, workers=None, scheduler=None, console=None):
    """The client to use: the one given, one connected to ``scheduler``, or a new LocalCluster of
    ``workers`` single-threaded processes (closed on exit)."""
    if client is not None:
        yield client
        return
    import logging

    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            c = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"no Dask scheduler answered at {scheduler} within {CONNECT_TIMEOUT} s ({exc}); "
                             "check the address that 'dask scheduler' printed") from None
        try:
            yield c
        finally:
            c.close()
        return
    n = default_workers() if workers is None else workers
    if console is not None:
        console.info(f"starting a local Dask cluster of {n} worker processes ...")
    with _children_ignore_sigint():
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@contextlib.contextmanager
def _children_ignore_sigint():
    """Processes started inside ignore SIGINT (the disposition is inherited): Ctrl-C on a terminal
    reaches the whole process group, and only this process should act on it -- by closing the
    cluster -- instead of every worker dying with a traceback."""
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM raises KeyboardInterrupt in the main thread, so a killed run still writes its table."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run_sweep(sweep, store, client=None, workers=None, scheduler=None, force=False, console=None,
              retries: int = 1, blas_threads: int = 1, progress=None) -> SweepSummary:
    """Compute the points of ``sweep`` missing from ``store`` (see the module docstring).

    Parameters
    ----------
    sweep : Sweep
    store : str or Path
    client : distributed.Client, optional
    workers : int, optional
        Worker processes of the LocalCluster started when neither ``client`` nor ``scheduler``.
    scheduler : str, optional
        Address of a running scheduler.
    force : bool
        Accept a store holding another spec.
    console : physfact.console.Console, optional
        Progress (done / failed / ETA) on a terminal, and status lines.
    progress : callable, optional
        A progress factory (:mod:`physfact.progress`) for the points bar instead of the console's
        (what the examples pass).
    retries : int
        Extra attempts of a point whose task raised outside the computation (infrastructure).
    blas_threads : int or None
        BLAS threads per point (default 1: one per worker process); None leaves BLAS alone.

    Returns
    -------
    SweepSummary
    """
    from physfact.console import Console

    t0 = time.perf_counter()
    console = console or Console(quiet=True)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers = {workers!r} must be a positive integer")
    if sum(x is not None for x in (client, workers, scheduler)) > 1:
        raise InputError("give at most one of client, workers and scheduler")
    path = st.open_store(store, sweep, force=force)
    points = sweep.points()
    records = st.read_records(path, points)
    done = {k for k, r in records.items() if not r.get("error")}
    pending = [p for p in points if p.key not in done]
    skipped = len(points) - len(pending)
    console.info(f"sweep {sweep.task.name}: {len(points)} points, {skipped} in the store, {len(pending)} to compute")
    computed = 0
    try:
        if pending:
            with _sigterm_as_interrupt(), dask_client(client, workers, scheduler, console) as c:
                if not c.scheduler_info().get("workers"):  # e.g. dask-jobqueue: workers still in the queue
                    console.info("waiting for the first Dask worker to connect (Ctrl-C to stop) ...")
                    c.wait_for_workers(1)
                _check_store_visible(c, path)
                last = time.perf_counter()
                for rec_key, rec in _stream(c, sweep.task, pending, path, retries, blas_threads, console,
                                            progress):
                    records[rec_key] = rec
                    computed += 1
                    if time.perf_counter() - last > TABLE_EVERY:
                        st.write_table(path, sweep, points, records)
                        last = time.perf_counter()
    finally:  # also when interrupted: points that workers finished meanwhile are on disk, list them too
        records.update(st.read_records(path, [p for p in points if p.key not in records]))
        table = st.write_table(path, sweep, points, records)
    errors = {p.index: records[p.key]["error"] for p in points if p.key in records and records[p.key].get("error")}
    return SweepSummary(len(points), computed, skipped, len(errors), table, path, errors, time.perf_counter() - t0)


def _check_store_visible(client, path):
    absolute = str(Path(path).resolve())
    seen = client.run(os.path.isdir, absolute)
    blind = [w for w, ok in seen.items() if not ok]
    if blind:
        raise InputError(f"{len(blind)} of {len(seen)} Dask workers cannot see the store {absolute}; put it on a "
                         "file system every worker mounts (e.g. the cluster's shared home or scratch)")


def _group_key(kwargs) -> str:
    return json.dumps(kwargs, sort_keys=True)


def _stream(client, task, pending, store, retries, blas_threads, console, progress=None):
    """Submit the pending points; yield (key, record) as each finishes (see the module docstring)."""
    from distributed import as_completed

    store = str(Path(store).resolve())
    run = uuid.uuid4().hex[:8]
    groups = {}
    if task.prepare is not None:
        for p in pending:
            groups.setdefault(_group_key(task.prepare_kwargs(p.params)), []).append(p)
    prepared, users = {}, {}
    for gkey, members in groups.items():
        if len(members) > 1:  # a shared heavy input: built once, moved between workers by Dask
            prepared[gkey] = client.submit(prepare_input, task, task.prepare_kwargs(members[0].params), blas_threads,
                                           key=f"prepare-{task.name}-{members[0].index}-{run}", pure=False,
                                           retries=retries)
            users[gkey] = len(members)
    batches = {}  # one client.map per shared input: one message to the scheduler, not one per point
    for p in pending:
        gkey = _group_key(task.prepare_kwargs(p.params)) if task.prepare is not None else None
        batches.setdefault(gkey if gkey in prepared else None, []).append(p)
    futures = {}
    for gkey, members in batches.items():
        futs = client.map(execute_point, members, task=task, store=store, prepared=prepared.get(gkey),
                          blas_threads=blas_threads, key=[f"{task.name}-point-{p.index}-{run}" for p in members],
                          pure=False, retries=retries)
        futures.update({f: (p, gkey) for f, p in zip(futs, members)})
    failed = 0
    bar = (progress or console.progress)(None, total=len(futures), desc=f"sweep {task.name}", unit="points")
    try:
        # results are gathered in the background as tasks finish (no round trip per point here)
        for fut, rec in as_completed(futures, with_results=True, raise_errors=False):
            p, gkey = futures.pop(fut)
            if fut.status != "finished" or not isinstance(rec, dict):
                # the task itself was lost (KilledWorker, cancelled, store unwritable)
                exc = rec if isinstance(rec, BaseException) else fut.exception() if fut.status == "error" else None
                rec = _record(task, p, None, _message(exc) if exc is not None else f"task {fut.status}",
                              float("nan"))
                with contextlib.suppress(Exception):
                    st.write_point(store, p.key, rec, None)
            if gkey in users:
                users[gkey] -= 1
                if users[gkey] == 0:
                    prepared.pop(gkey).release()
            failed += bool(rec.get("error"))
            bar.update(1)
            bar.set_postfix_str(f"failed={failed}")
            yield p.key, rec
    finally:
        bar.close()
        client.cancel(list(futures) + list(prepared.values()))

