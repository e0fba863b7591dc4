"""Run every fem example with its small settings and check the numbers it returns."""
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(name, tmp_path):
    plot = tmp_path / "x.png"
    out = runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"](small=True, plot=plot)
    assert plot.stat().st_size > 1000
    return out


def test_cantilever_kronecker(tmp_path):
    r = run("fem_cantilever_kronecker", tmp_path)
    assert r["rank"] == 4 and r["blackbox_rank"] == 4
    assert r["iterations"] <= 40
    assert abs(r["tip_deflection"] / r["timoshenko"] - 1) < 0.04


def test_poisson_fdm(tmp_path):
    r = run("fem_poisson_fdm", tmp_path)
    assert r["relative_difference"] < 1e-10
    assert r["decay_rate"] == pytest.approx(r["expected_rate"], rel=0.05)


def test_prismatic_sweep(tmp_path):
    r = run("fem_prismatic_sweep", tmp_path)
    assert r["prismatic_rank"] == 4
    assert not r["pays"] and r["kronecker_rank"] > 20
    assert r["error"] < 1e-8 and r["woodbury_error"] < 1e-8
    assert r["sweep_bytes"] < r["splu_bytes"]
    assert 0 < r["tip_after"] < r["tip_before"]
