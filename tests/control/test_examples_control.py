"""Run the control examples with small settings and check their numbers."""
from __future__ import annotations

import runpy
from pathlib import Path

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
