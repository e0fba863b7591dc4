"""Run the control examples with small settings and check their numbers."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_rail_rom_example(tmp_path):
    res = runpy.run_path(str(EXAMPLES / "control_rail_rom.py"))["main"](small=True, plot=tmp_path / "x.png")
    assert res["error_bound"] <= res["target"]
    assert res["dc_error"] <= res["error_bound"]
    assert res["step_error"] <= 0.01 * res["output_max"]
    assert 1 <= res["r"] < res["n"]
    assert (tmp_path / "x.png").stat().st_size > 1000


def test_fom_bode_example(tmp_path):
    res = runpy.run_path(str(EXAMPLES / "control_fom_bode.py"))["main"](small=True, plot=tmp_path / "x.png")
    assert res["n"] == 1006 and res["r"] == 12
    assert res["hsv_r"] <= res["hinf_error"] <= res["error_bound"] * (1 + 1e-8)
    assert abs(res["hinf_norm"] - 102.33) < 0.05  # the 100 rad/s resonance: 200/(2*1) + sum of the rest
    assert (tmp_path / "x.png").stat().st_size > 1000


def test_spa_dc_gain_example():
    res = runpy.run_path(str(EXAMPLES / "control_spa_dc_gain.py"))["main"](small=True)
    assert res["spa_dc_error"] <= 1e-10 * res["dc_gain"]
    assert res["bt_dc_error"] >= 1e3 * res["spa_dc_error"]
    assert res["spa_final_step_error"] < res["bt_final_step_error"]
    # same tail; the rounding terms of the two projections differ at ~1e-12 relative
    assert res["spa_error_bound"] == pytest.approx(res["bt_error_bound"], rel=1e-9)


def test_band_limited_example(tmp_path):
    res = runpy.run_path(str(EXAMPLES / "control_band_limited.py"))["main"](small=True, plot=tmp_path / "b.png")
    assert res["in_band_error_flbt"] < 0.5 * res["in_band_error_bt"] and res["stable"]
    assert (tmp_path / "b.png").stat().st_size > 1000


def test_lf10_second_order_example(control_data):
    res = runpy.run_path(str(EXAMPLES / "control_lf10_second_order.py"))["main"](small=True)
    for v in res["variants"].values():
        assert v["stable"] and v["error"] <= 1e-5 * res["hinf_norm"]


def test_dae_circuit_example():
    res = runpy.run_path(str(EXAMPLES / "control_dae_circuit.py"))["main"](small=True)
    assert abs(res["M1"] - res["C0"]) <= 1e-6 * res["C0"] and abs(res["M0"] - 1 / res["R"]) <= 1e-6 / res["R"]
    assert res["error"] <= res["error_bound"] * (1 + 1e-6) and res["order"] == res["r"] + 2


def test_dae_index1_ladder_example(tmp_path):
    res = runpy.run_path(str(EXAMPLES / "control_dae_index1_ladder.py"))["main"](small=True, plot=tmp_path / "l.png")
    assert "index1" in res["solver"] and res["algebraic_states"] == res["n"] // 2
    assert abs(res["rom_dc_gain"] - res["dc_gain"]) <= 1e-10 * res["dc_gain"]  # SPA: DC gain exact
    assert res["error"] <= res["error_bound"] and res["step_error"] <= 5e-4 * res["dc_gain"]  # measured 1.1e-4
    assert (tmp_path / "l.png").stat().st_size > 1000


def test_stokes_example(tmp_path):
    from tests.progress_bar import recorder

    bars = []
    res = runpy.run_path(str(EXAMPLES / "control_stokes.py"))["main"](small=True, plot=tmp_path / "s.png",
                                                                      progress=recorder(bars))
    assert [b.desc for b in bars] == ["LR-ADI on ker G^T", "frequency response of the full DAE"]
    assert bars[1].n == bars[1].total == 60 and all(b.closed for b in bars)
    assert res["solver"] == "lradi+index2" and res["stable"] and res["n"] == 735
    assert 0.5 * res["hsv_r"] <= res["error"] <= res["error_bound"]
    assert (tmp_path / "s.png").stat().st_size > 1000
