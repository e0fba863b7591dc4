"""Atomic writes and versioned array files."""
import numpy as np
import pytest

from physfact.errors import DataFileError, InputError
from physfact.io import atomic_path, load_h5, load_npz, save_arrays, save_npz, write_json


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("precious")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "precious"
    assert list(tmp_path.iterdir()) == [target]  # no temp file left behind


def test_npz_round_trip_and_version(tmp_path):
    a = np.arange(6.0).reshape(2, 3)
    save_npz(tmp_path / "x.npz", "test", a=a)
    out = load_npz(tmp_path / "x.npz", kind="test")
    assert np.array_equal(out["a"], a) and "format_version" not in out
    with pytest.raises(DataFileError, match="expected"):
        load_npz(tmp_path / "x.npz", kind="rom")
    np.savez(tmp_path / "foreign.npz", a=a)
    with pytest.raises(DataFileError, match="format_version"):
        load_npz(tmp_path / "foreign.npz")
    with pytest.raises(DataFileError, match="no such file"):
        load_npz(tmp_path / "missing.npz")


def test_h5_round_trip(tmp_path):
    save_arrays(tmp_path / "x.h5", "test", attrs={"n": 3}, b=np.ones(4))
    arrays, attrs = load_h5(tmp_path / "x.h5", kind="test")
    assert np.array_equal(arrays["b"], np.ones(4)) and attrs["n"] == 3


def test_bad_targets(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_json(tmp_path / "nodir" / "x.json", {})
    with pytest.raises(InputError, match="unknown output format"):
        save_arrays(tmp_path / "x.txt", "test", a=np.ones(2))


def test_json_converts_numpy(tmp_path):
    import json

    write_json(tmp_path / "r.json", {"a": np.arange(3), "x": np.float64(1.5), "nan": float("nan")})
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": [0, 1, 2], "x": 1.5, "nan": None}
