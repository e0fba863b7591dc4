"""Every tt example runs with small=True and returns sane numbers."""
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _main(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"]


def test_tfim_entanglement_example(tmp_path):
    out = _main("tt_tfim_entanglement")(small=True, plot=tmp_path / "x.png")
    assert abs(out["energy"] - out["energy_exact"]) < 1e-9
    assert out["entropy_error"] < 1e-8
    assert out["c_L200"] == pytest.approx(0.5, abs=0.02)
    assert (tmp_path / "x.png").stat().st_size > 1000


def test_molecule_orbitals_example(tmp_path):
    out = _main("tt_molecule_orbitals")(small=True, plot=tmp_path / "x.png")
    assert out["rdm_error"] < 1e-10
    assert out["fiedler_max_bond"] >= 1 and out["max_mutual_information"] > 0
    assert (tmp_path / "x.png").stat().st_size > 1000


def test_compress_function_example(tmp_path):
    out = _main("tt_compress_function")(small=True, plot=tmp_path / "x.png")
    for row in out["rows"]:
        assert row["true_error"] <= row["tol"] * (1 + 1e-9)
        if row["true_error"] > 1e-13:
            assert row["reported_error"] == pytest.approx(row["true_error"], rel=0.03)
    assert out["rows"][0]["max_rank"] < out["rows"][-1]["max_rank"]


def test_dmrg_ising_central_charge_example(tmp_path):
    out = _main("tt_dmrg_ising_central_charge")(small=True, plot=tmp_path / "x.png")
    assert abs(out["energy"] - out["energy_exact"]) < 1e-9
    assert out["entropy_error"] < 1e-6
    assert out["c"] == pytest.approx(out["c_free_fermion"], abs=1e-5)  # the same entropies, the same fit
    assert (tmp_path / "x.png").stat().st_size > 1000


def test_dmrg_heisenberg_central_charge_example(tmp_path):
    out = _main("tt_dmrg_heisenberg_central_charge")(small=True, plot=tmp_path / "x.png")
    assert out["ed_energy_error"] < 1e-10 and out["ed_entropy_error"] < 1e-6
    assert out["c"] == pytest.approx(1.0, abs=0.15)  # L = 40: log corrections
    assert (tmp_path / "x.png").stat().st_size > 1000
