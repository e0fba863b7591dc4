"""``physfact bt`` and the control demo."""
from __future__ import annotations

import json

import numpy as np
import pytest

from physfact.cli import main


def test_bt_cli_outputs(tmp_path, capsys):
    out = tmp_path / "rom.npz"
    rc = main(["bt", "heat1d:120", "--order", "6", "--plot", str(tmp_path / "hsv.png"),
               "--bode", str(tmp_path / "bode.png"), "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "n = 120" in text and "r = 6" in text and "certified" in text
    assert (tmp_path / "hsv.png").stat().st_size > 1000 and (tmp_path / "bode.png").stat().st_size > 1000
    from physfact.control import LTISystem, models
    from physfact.io import load_npz

    d = load_npz(out, kind="bt_rom")
    rom = LTISystem(d["A"], d["B"], d["C"], d["D"])
    full = models.heat1d(120)
    w = np.logspace(-1, 4, 50)
    err = np.abs(full.freqresp(w) - rom.freqresp(w)).max()
    assert err <= float(d["error_bound"]) and rom.n == 6


def test_bt_cli_json_tol_and_h5(tmp_path, capsys):
    pytest.importorskip("h5py")
    rc = main(["bt", "msd:20", "--tol", "1e-3", "--method", "bfsr", "--json", "--out", str(tmp_path / "r.h5")])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["error_bound"] <= 1e-3 and res["hinf_error"] <= res["error_bound"]
    assert res["method"] == "bfsr" and res["n"] == 40 and not res["hinf_error_is_estimate"]
    from physfact.io import load_h5

    arrays, attrs = load_h5(tmp_path / "r.h5", kind="bt_rom")
    assert arrays["A"].shape == (res["r"], res["r"])


def test_bt_cli_errors(capsys):
    assert main(["bt", "no-such-model", "--order", "3"]) == 2
    assert "known names" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["bt", "fom"])  # neither --order nor --tol
    assert e.value.code == 2
    assert main(["bt", "fom", "--tol", "-1"]) == 2


def test_bt_cli_benchmark_file(control_data, capsys):
    rc = main(["bt", str(control_data / "CDplayer.mat"), "--order", "20", "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert (res["n"], res["m"], res["p"]) == (120, 2, 2)
    assert res["hinf_error"] <= res["error_bound"]


def test_demo(capsys):
    from types import SimpleNamespace

    from physfact.console import Console
    from physfact.control.cli import demo

    res = demo(Console(), SimpleNamespace(seed=0))
    assert res["hinf_error"] <= res["error_bound"] * (1 + 1e-8)
    assert res["hinf_error"] >= 0.9 * res["error_bound"]  # FOM: the bound is nearly attained at omega = 0
    assert "FOM" in capsys.readouterr().out


def test_bt_cli_spa_keeps_dc_gain(capsys):
    rc = main(["bt", "heat1d:80", "--order", "4", "--method", "spa", "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["method"] == "spa" and res["r"] == 4 and res["hinf_error"] <= res["error_bound"] * (1 + 1e-8)


def test_bt_cli_band_and_shaded_bode(tmp_path, capsys):
    rc = main(["bt", "msd:20", "--order", "6", "--band", "0.5", "1.0", "--json", "--bode", str(tmp_path / "b.png")])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["band"] == [0.5, 1.0] and res["band_error"] > 0 and res["error_bound"] is None
    assert (tmp_path / "b.png").stat().st_size > 1000
    rc = main(["bt", "msd:20", "--order", "6", "--band", "2.0", "1.0"])
    assert rc == 2 and "frequency_band" in capsys.readouterr().err


def test_bt_cli_second_order_structural_and_first_order(control_data, tmp_path, capsys):
    lf10 = str(control_data / "LF10.mat")
    rc = main(["bt", lf10, "--order", "3", "--json", "--out", str(tmp_path / "rom.npz")])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["structure"] == "second-order" and res["r"] == 3 and res["stable"] and res["variant"] == "p"
    from physfact.control import SecondOrderSystem, models
    from physfact.io import load_npz

    d = load_npz(tmp_path / "rom.npz", kind="sobt_rom")
    rom = SecondOrderSystem(d["M"], d["D"], d["K"], d["B"], d["Cp"], d["Cv"])
    full = models.load(lf10)
    w = np.logspace(1, 4, 30)
    assert np.abs(full.freqresp(w) - rom.freqresp(w)).max() <= 1.01 * res["hinf_error"]
    rc = main(["bt", lf10, "--order", "3", "--first-order", "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    # LF10: the error is within 2e-5 of the bound, and cond(E) ~ 3e10 limits the HSVs' accuracy
    assert "structure" not in res and res["r"] == 3 and res["hinf_error"] <= res["error_bound"] * (1 + 1e-4)
    rc = main(["bt", lf10, "--order", "3", "--method", "spa"])
    assert rc == 2 and "--first-order" in capsys.readouterr().err


def test_bt_cli_large_index1_dae_takes_the_sparse_route(capsys):
    rc = main(["bt", "rlcladder:520", "--order", "10", "--json", "--error-samples", "20"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 2080 and res["r"] == 10 and "index1" in res["solver"]
    assert res["hinf_error_is_estimate"] and 0 < res["hinf_error"] <= res["error_bound"]
