"""Bad specs are refused before any worker starts: one line, exit 2, no store written."""
import subprocess
import sys

import pytest

from physfact.errors import InputError, UnknownNameError
from physfact.sweep import Sweep


@pytest.mark.parametrize("task, fixed, grid, match", [
    ("nope", {}, {"L": [4]}, "unknown task 'nope'"),
    ("tt-chain", {"L": 6, "field": 1.0}, {"g": [1.0]}, "unknown keyword 'field'"),
    ("tt-chain", {"L": 6}, {"g": []}, "grid.g is an empty list"),
    ("tt-chain", {"L": 6}, {}, "the grid is empty"),
    ("tt-chain", {"L": 6}, {"g": 1.0}, "must be a list"),
    ("tt-chain", {"L": "six"}, {"g": [1.0]}, "L = 'six' must be int"),
    ("tt-chain", {}, {"g": [1.0]}, "needs 'L'"),
    ("tt-chain", {"L": 6}, {"g": [1.0, True]}, "g = True must be"),
    ("tt-chain", {"L": 6}, {"g": [1.0, 1.0]}, "same parameters"),
    ("tt-chain", {"L": 6}, {"h": [1.0]}, "neither a keyword"),
    ("tt-chain", {"L": 6, "g": 1.0}, {"g": [1.0]}, "both in"),
    ("tt-chain", {"L": 6, "boundary": "twisted"}, {"g": [1.0]}, "boundary = 'twisted'"),
    ("tt-chain", {"L": 6, "model": "heisenberg"}, {"g": [1.0]}, "g is a tfim keyword"),
    ("tt-chain", {"L": 60}, {"g": [1.0]}, "exact diagonalization"),
    ("df", {"molecule": "N 0 0 0; N 0 0 {d}"}, {"r": [1.0]}, r"\{d\} in \[fixed\] names no grid key"),
    ("df", {"molecule": "unobtainium"}, {"tol": [1e-3]}, "unknown molecule"),
    ("df", {"molecule": "H2", "basis": "cc-pvqqq"}, {"tol": [1e-3]}, "no basis 'cc-pvqqq'"),
    ("df", {"molecule": "H2"}, {"tol": [-1.0]}, "tol"),
    ("bt", {"model": "no-such-model"}, {"rank": [2]}, "unknown model"),
    ("bt", {"model": "fom"}, {"method": ["sr"]}, "rank or"),
    ("fem-beam", {"material": "cheese"}, {"ny": [2]}, "material = 'cheese'"),
    ("fem-beam", {}, {"tol": [2.0]}, r"must lie in \(0, 1\)"),
])
def test_bad_spec_is_refused(task, fixed, grid, match):
    with pytest.raises(InputError, match=match):
        Sweep(task, fixed=fixed, grid=grid)


def test_unknown_task_is_an_unknown_name():
    with pytest.raises(UnknownNameError, match="known: df, bt, tt-chain, fem-beam"):
        Sweep("dmrg", grid={"L": [4]})


def test_placeholders_fill_strings_from_the_grid():
    s = Sweep("df", fixed={"molecule": "N 0 0 0; N 0 0 {r:.3f}", "basis": "sto-3g"}, grid={"r": [1.1, 1.25]})
    assert [p.params["molecule"] for p in s.points()] == ["N 0 0 0; N 0 0 1.100", "N 0 0 0; N 0 0 1.250"]
    assert [p.values for p in s.points()] == [{"r": 1.1}, {"r": 1.25}]
    assert "r" not in s.points()[0].params      # a placeholder-only grid key is not passed to the task


def test_points_are_the_cartesian_product_in_row_major_order():
    s = Sweep("tt-chain", fixed={"L": 6}, grid={"g": [0.5, 1.0], "J": [1.0, 2.0, 3.0]})
    assert [(p.values["g"], p.values["J"]) for p in s.points()] == [
        (0.5, 1.0), (0.5, 2.0), (0.5, 3.0), (1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]
    assert len({p.key for p in s.points()}) == 6 and s.n_points == 6


def test_toml_spec_matches_python_spec(tmp_path):
    f = tmp_path / "spec.toml"
    f.write_text('task = "tt-chain"\n[fixed]\nL = 6\n[grid]\ng = [0.5, 1.0]\n')
    assert Sweep.from_toml(f).spec_hash == Sweep("tt-chain", fixed={"L": 6}, grid={"g": [0.5, 1.0]}).spec_hash
    f.write_text('task = "tt-chain"\n[fixed]\nL = 6\n[grid\n')
    with pytest.raises(InputError, match="not a valid TOML spec"):
        Sweep.from_toml(f)
    f.write_text('task = "tt-chain"\nL = 6\n[grid]\ng = [0.5]\n')
    with pytest.raises(InputError, match=r"unknown top-level keys \['L'\]"):
        Sweep.from_toml(f)


def test_cli_bad_spec_is_one_line_exit_2_and_writes_nothing(tmp_path):
    f = tmp_path / "spec.toml"
    f.write_text('task = "tt-chain"\n[fixed]\nL = 6\n[grid]\ng = []\n')
    out = subprocess.run([sys.executable, "-m", "physfact.cli", "sweep", str(f), "--store", str(tmp_path / "s")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "grid.g is an empty list" in out.stderr
    assert not (tmp_path / "s").exists()


def test_store_that_is_not_a_store_is_refused(tmp_path):
    from physfact.sweep.store import open_store

    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="not a sweep store"):
        open_store(tmp_path, Sweep("tt-chain", fixed={"L": 6}, grid={"g": [1.0]}))


def test_import_is_light():
    code = ("import sys, physfact.sweep, physfact.sweep.cli\n"
            "print(','.join(m for m in ('distributed', 'dask', 'pyscf', 'matplotlib', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr
