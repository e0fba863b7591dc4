"""The store: atomic point files with their record, a plain-CSV table, unreadable files recomputed."""
import sys

import numpy as np

from physfact.sweep import Sweep
from physfact.sweep.store import load_table, open_store, point_file, read_record, read_records, write_point, write_table


def _spec():
    return Sweep("tt-chain", fixed={"L": 6}, grid={"g": [0.5, 1.0, 2.0]})


def test_point_file_roundtrip_and_table_without_pandas(tmp_path, monkeypatch):
    spec = _spec()
    store = open_store(tmp_path / "s", spec)
    points = spec.points()
    write_point(store, points[0].key, {"results": {"energy": -7.25, "max_bond_dimension": 4}, "error": None,
                                       "seconds": 0.5})
    write_point(store, points[2].key, {"results": None, "error": "ConvergenceError: no", "seconds": 0.1})
    records = read_records(store, points)
    assert set(records) == {points[0].key, points[2].key}
    write_table(store, spec, points, records)
    monkeypatch.setitem(sys.modules, "pandas", None)     # pandas is not a dependency: plain CSV
    table = load_table(store)
    assert table["point"] == [0, 2] and table["g"] == [0.5, 2.0]
    assert table["energy"] == [-7.25, None] and table["max_bond_dimension"] == [4, None]
    assert table["error"] == [None, "ConvergenceError: no"]
    assert table["file"][0] == f"points/{points[0].key}.npz"


def test_table_reads_with_pandas(tmp_path):
    import pytest

    pd = pytest.importorskip("pandas", reason="pandas is optional; load_table falls back to a dict")
    spec = _spec()
    store = open_store(tmp_path / "s", spec)
    p = spec.points()[1]
    write_point(store, p.key, {"results": {"energy": 1.5}, "error": None, "seconds": 0.2})
    write_table(store, spec, spec.points(), read_records(store, spec.points()))
    df = pd.read_csv(store / "results.csv")
    assert list(df["g"]) == [1.0] and df["energy"].iloc[0] == 1.5 and np.isnan(df["half_chain_entropy"].iloc[0])


def test_cut_short_point_file_counts_as_missing(tmp_path):
    spec = _spec()
    store = open_store(tmp_path / "s", spec)
    p = spec.points()[0]
    path = write_point(store, p.key, {"results": {"energy": 1.0}, "error": None, "seconds": 0.1})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert read_record(point_file(store, p.key)) is None and read_records(store, spec.points()) == {}
