"""The result store of a sweep: a directory that survives crashes and restarts.

Layout::

    DIR/spec.json            the spec (task, fixed, grid) and its hash
    DIR/points/<key>.npz     one file per finished point, written atomically (temp file + rename)
    DIR/results.csv          one row per finished point: point, grid values, scalar results, error,
                             seconds, file

A point file is the result in its own format (a DoubleFactorization ``.npz``, a reduced model, ...;
a failed point has no arrays) plus a ``sweep_record`` member holding the point's parameters,
scalar results and error message as JSON. ``<key>`` hashes the task and the point's parameters, so
a point is found again whatever its position in the grid. A run killed at any moment leaves only
complete point files: re-running computes exactly the points without one (and those that failed).
``results.csv`` is rebuilt from the records, atomically, as points finish; it is plain CSV that
``pandas.read_csv`` reads.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from physfact.errors import DataFileError, InputError
from physfact.io import FORMAT_VERSION, atomic_path, to_jsonable, write_json, write_text

SPEC_FILE = "spec.json"
TABLE_FILE = "results.csv"
POINTS_DIR = "points"
RECORD = "sweep_record"
FIXED_COLUMNS = ("error", "seconds", "file")


def open_store(path, sweep, force: bool = False) -> Path:
    """Create or reopen the store at ``path`` for ``sweep``; refuse a different spec unless ``force``.

    Raises
    ------
    InputError
        ``path`` is a file or a non-empty directory that is not a store, or the store holds a
        different spec and ``force`` is False.
    """
    path = Path(path)
    spec_file = path / SPEC_FILE
    if path.exists() and not path.is_dir():
        raise InputError(f"--store {path} is a file; give a directory (it is created if absent)")
    if path.is_dir() and not spec_file.is_file() and any(path.iterdir()):
        raise InputError(f"{path} is not empty and holds no {SPEC_FILE}, so it is not a sweep store; "
                         "choose a new or empty directory")
    new = {**sweep.to_dict(), "spec_hash": sweep.spec_hash}
    if spec_file.is_file():
        try:
            old = json.loads(spec_file.read_text())
        except (OSError, ValueError) as exc:
            raise DataFileError(f"{spec_file}: unreadable ({exc}); remove it or choose another store") from None
        if old.get("spec_hash") != new["spec_hash"] and not force:
            raise InputError(f"{path} holds results of a different spec ({_spec_diff(old, new)}); run with --force "
                             "to keep its matching points and replace the spec, or choose another --store")
    (path / POINTS_DIR).mkdir(parents=True, exist_ok=True)
    write_json(spec_file, new)
    return path


def _spec_diff(old: dict, new: dict) -> str:
    if old.get("task") != new["task"]:
        return f"task {old.get('task')!r} -> {new['task']!r}"
    changed = []
    for part in ("fixed", "grid"):
        a, b = old.get(part, {}), new[part]
        changed += [f"{part}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return "changed: " + ", ".join(changed) if changed else "different spec"


def point_file(store, key: str) -> Path:
    return Path(store) / POINTS_DIR / f"{key}.npz"


def write_point(store, key: str, record: dict, save=None) -> Path:
    """Write a point's file atomically: ``save(tmp_path)`` writes the result's own .npz (or nothing
    for a failed point), then the record is added as the ``sweep_record`` member, then the file is
    renamed into place. Runs on the worker."""
    path = point_file(store, key)
    text = np.array(json.dumps(to_jsonable(record)))
    with atomic_path(path) as tmp:
        if save is None:  # no result arrays: the record alone, in one write
            with open(tmp, "wb") as fh:
                np.savez(fh, format_version=FORMAT_VERSION, kind="sweep_point", **{RECORD: text})
            return path
        save(tmp)
        buf = io.BytesIO()
        np.lib.format.write_array(buf, text, allow_pickle=False)
        with zipfile.ZipFile(tmp, "a") as zf:
            zf.writestr(f"{RECORD}.npy", buf.getvalue())
    return path


def read_record(path) -> dict | None:
    """The record of a point file, or None when there is no readable one (the point is then recomputed)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data[RECORD]))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None


def read_records(store, points) -> dict:
    """{point key: record} for the points of ``points`` that have a point file."""
    out = {}
    for p in points:
        path = point_file(store, p.key)
        if path.is_file():
            rec = read_record(path)
            if rec is not None:
                out[p.key] = rec
    return out


def table_columns(sweep) -> list:
    return ["point", *sweep.grid, *sweep.task.columns, *FIXED_COLUMNS]


def write_table(store, sweep, points, records: dict) -> Path:
    """Write ``results.csv`` (atomically): one row per point with a record, in point order."""
    columns = table_columns(sweep)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for p in points:
        rec = records.get(p.key)
        if rec is None:
            continue
        results = rec.get("results") or {}
        row = [p.index, *(p.values[k] for k in sweep.grid), *(results.get(c) for c in sweep.task.columns),
               rec.get("error"), rec.get("seconds"), f"{POINTS_DIR}/{p.key}.npz"]
        writer.writerow([_cell(v) for v in row])
    return write_text(Path(store) / TABLE_FILE, buf.getvalue())


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if np.isfinite(v) else ""
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v)
    return str(v)


def load_table(store):
    """The table of a store (its directory or the ``results.csv`` path).

    Returns
    -------
    pandas.DataFrame or dict
        A DataFrame when pandas is installed; otherwise {column: list of values} with numbers
        parsed (int, float), empty cells as None.
    """
    path = Path(store)
    if path.is_dir():
        path = path / TABLE_FILE
    if not path.is_file():
        raise DataFileError(f"{path}: no such table; run the sweep first (physfact sweep SPEC --store DIR)")
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        return pd.read_csv(path)
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise DataFileError(f"{path}: empty table (no header)")
        columns = {name: [] for name in header}
        for row in reader:
            if len(row) != len(header):
                raise DataFileError(f"{path}: a row has {len(row)} cells, the header {len(header)}")
            for name, cell in zip(header, row):
                columns[name].append(_parse(cell))
    return columns


def _parse(cell: str):
    if cell == "":
        return None
    for conv in (int, float):
        try:
            return conv(cell)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(cell, cell)
