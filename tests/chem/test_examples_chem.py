import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(name, tmp_path):
    plot = tmp_path / "x.png"
    res = runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"](small=True, plot=str(plot))
    assert plot.stat().st_size > 1000
    return res


def test_measurement_groups_example(tmp_path):
    res = run("chem_measurement_groups", tmp_path)
    assert res["LiH"]["df_groups"] <= 19 and res["LiH"]["pauli_terms"] == 630
    assert all(abs(r["error_B_mha"]) <= 1.0 for r in res.values())


def test_energy_conventions_example(tmp_path):
    res = run("chem_energy_conventions", tmp_path)
    assert res["molecule"] == "LiH" and res["leaves"][-1] == 21
    assert abs(res["error_B_mha"][-1]) < 1e-6
    # the largest ERI error shrinks to rounding with all leaves
    assert res["eri_max_abs"][0] > 0.1 > res["eri_max_abs"][-1]


def test_h_chain_scaling_example(tmp_path):
    res = run("chem_h_chain_scaling", tmp_path)
    assert res["n_orbitals"] == [8, 12, 16]
    assert all(e <= 1e-4 for e in res["max_abs_error"])
    assert 0.8 < res["exponent"] < 1.5
