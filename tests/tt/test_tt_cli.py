"""The ``physfact tt`` command line and the demo."""
import json

import numpy as np
import pytest

from physfact.cli import main
from physfact.console import Console


def test_chain_json_matches_free_fermions(capsys):
    assert main(["tt", "chain", "--sites", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "tfim" and out["L"] == 10
    assert abs(out["energy"] - out["energy_free_fermion"]) < 1e-10
    assert out["entropy_max_error"] < 1e-8
    assert len(out["entropy_nats"]) == 9
    assert 0.5 < out["central_charge"] < 0.65
    prof = out["rank_profile"]
    assert max(prof["0.01"]) <= max(prof["1e-06"]) <= max(out["bond_dimensions"])


def test_chain_plot_out_and_heisenberg(tmp_path, capsys):
    png, npz = tmp_path / "s.png", tmp_path / "s.npz"
    assert main(["tt", "chain", "--model", "heisenberg", "--sites", "10", "--plot", str(png), "--out", str(npz),
                 "--bits"]) == 0
    text = capsys.readouterr().out
    assert "S (bits)" in text and "even l" in text
    assert png.stat().st_size > 1000
    with np.load(npz) as d:
        assert d["entropy_nats"].shape == (9,)


def test_chain_truncation_flag(capsys):
    assert main(["tt", "chain", "--sites", "12", "--tol", "1e-3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mps_error"] <= 1e-3
    assert max(out["bond_dimensions"]) < 38


def test_chain_dmrg_above_ed_size(tmp_path, capsys):
    h5 = tmp_path / "chain.h5"
    assert main(["tt", "chain", "--sites", "40", "--max-bond", "32", "--json", "--out", str(h5)]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["method"] == "dmrg" and out["L"] == 40
    assert abs(out["energy"] - out["energy_free_fermion"]) < 1e-9
    assert out["entropy_max_error"] < 1e-6
    assert len(out["energy_per_half_sweep"]) == 2 * out["sweeps"] >= 4
    assert 0.45 < out["central_charge"] < 0.6
    assert "sweep  1.0 ( left): E =" in captured.err  # per-sweep progress on stderr when not a terminal
    from physfact.io import load_h5

    arrays, attrs = load_h5(h5, kind="tt.chain")
    assert arrays["discarded_per_half_sweep"].shape == (2 * out["sweeps"],) and attrs["method"] == "dmrg"


def test_chain_xxz_delta_flag(capsys):
    assert main(["tt", "chain", "--model", "heisenberg", "--delta", "0.5", "--sites", "10", "--json", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    from physfact.tt.models import ground_state, heisenberg

    assert out["delta"] == 0.5
    assert out["energy"] == pytest.approx(ground_state(heisenberg(10, delta=0.5)).energy, abs=1e-10)
    assert out["energy"] > ground_state(heisenberg(10)).energy + 0.1  # delta matters


def test_molecule_command(tmp_path, capsys):
    png = tmp_path / "mi.png"
    assert main(["tt", "molecule", "h2", "--plot", str(png), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_orbitals"] == 2 and out["point_group"] == "D2h"  # Dooh runs in its D2h subgroup
    assert out["fci_energy"] < out["hf_energy"] - 0.02  # correlation energy of H2/STO-3G ~ -20 mHa
    assert out["bond_dimensions"] == [2]  # c1 |g g> + c2 |u u> (gerade symmetry): Schmidt rank 2
    assert png.stat().st_size > 1000


@pytest.mark.parametrize("argv, code, msg", [
    (["tt", "chain", "--sites", "60", "--method", "lanczos"], 2, "L = 60 > 40"),
    (["tt", "chain", "--sites", "20", "--method", "dmrg", "--max-bond", "4", "--sweeps", "1"], 1, "did not converge"),
    (["tt", "molecule", "unobtainium"], 2, "unknown molecule"),
    (["tt", "chain", "--model", "potts"], 2, "invalid choice"),
])
def test_bad_input_exit_codes(argv, code, msg, capsys):
    with pytest.raises(SystemExit) if "potts" in argv else _noraise():
        rc = main(argv)
        assert rc == code
    assert msg in capsys.readouterr().err


class _noraise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_demo_prints_and_agrees(capsys):
    from physfact.tt.cli import demo

    class Args:
        seed = 0

    res = demo(Console(), Args())
    assert res["energy_error"] < 1e-10
    assert res["entropy_max_error"] < 1e-8
    assert res["central_charge_L200"] == pytest.approx(0.5, abs=0.02)
    assert "Calabrese-Cardy" in capsys.readouterr().out


def test_chain_sector_and_degeneracy_flags(tmp_path, capsys):
    assert main(["tt", "chain", "--sites", "14", "--field", "0.2", "--json"]) == 0
    cap = capsys.readouterr()
    out = json.loads(cap.out)
    assert out["sector"] == {"parity": 1} and not out["degenerate"] and out["gap"] > 1.0
    assert out["entropy_max_error"] < 1e-8 and "warning" not in cap.err
    h5 = tmp_path / "full.h5"
    assert main(["tt", "chain", "--sites", "14", "--field", "0.2", "--sector", "none", "--out", str(h5)]) == 0
    cap = capsys.readouterr()
    assert "DEGENERATE" in cap.out and "full space" in cap.out
    warn = [line for line in cap.err.splitlines() if line.startswith("warning:")]
    assert len(warn) == 1 and "sector" in warn[0] and "Traceback" not in cap.err
    assert h5.stat().st_size > 0


@pytest.mark.parametrize("argv, msg", [
    (["--sector", "parity=0"], "parity is +1 or -1"),
    (["--sector", "sz=0"], "symmetries"),
    (["--sector", "even"], "--sector is auto"),
    (["--model", "heisenberg", "--sector", "sz=0", "--method", "dmrg"], "DMRG imposes parity only"),
])
def test_chain_bad_sector_is_one_line_exit_2(argv, msg, capsys):
    assert main(["tt", "chain", "--sites", "8"] + argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and msg in err, err


def test_chain_dmrg_without_a_sector_is_flagged(capsys):
    assert main(["tt", "chain", "--sites", "20", "--field", "0.2", "--method", "dmrg", "--sector", "none",
                 "--json"]) == 0
    cap = capsys.readouterr()
    out = json.loads(cap.out)
    assert out["degenerate"] and out["sector"] is None and out["state_error"] > 0.1
    assert sum(line.startswith("warning:") for line in cap.err.splitlines()) == 1
    assert main(["tt", "chain", "--sites", "20", "--field", "0.2", "--method", "dmrg", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sector"] == {"parity": 1} and not out["degenerate"] and out["entropy_max_error"] < 1e-6
