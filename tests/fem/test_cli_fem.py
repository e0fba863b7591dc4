"""``physfact fem`` commands and the demo part."""
import json

import numpy as np
import pytest

from physfact.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_beam_json(capsys, tmp_path):
    code, out, err = run(capsys, "fem", "beam", "--ny", "4", "--solve", "--json", "--plot", str(tmp_path / "b.png"))
    assert code == 0
    r = json.loads(out)
    assert r["n"] == 800 and r["kronecker_rank"] == 4 and r["blackbox_rank"] == 4
    assert r["blackbox_relative_error"] < 1e-12
    assert r["iterations"] <= 40 and r["residual"] <= 1e-8
    assert abs(r["tip_deflection"] / r["timoshenko_tip_deflection"] - 1) < 0.04
    assert (tmp_path / "b.png").stat().st_size > 1000


def test_beam_text_and_graded_material(capsys):
    code, out, _ = run(capsys, "fem", "beam", "--ny", "4", "--material", "graded")
    assert code == 0
    assert "Kronecker rank 4" in out and "smaller" in out


def test_beam_no_assembly_reports_estimated_storage(capsys, tmp_path):
    code, out, _ = run(capsys, "fem", "beam", "--ny", "6", "--no-assemble", "--json", "--out", str(tmp_path / "r.json"))
    r = json.loads(out)
    assert code == 0 and "blackbox_rank" not in r and r["storage_ratio"] > 5
    assert json.loads((tmp_path / "r.json").read_text())["n"] == r["n"]


def test_poisson_compare(capsys, tmp_path):
    code, out, _ = run(capsys, "fem", "poisson", "--ny", "8", "--compare", "--json", "--out", str(tmp_path / "p.npz"))
    r = json.loads(out)
    assert code == 0 and r["kronecker_rank"] == 2 and r["relative_difference"] < 1e-10
    with np.load(tmp_path / "p.npz") as d:
        assert d["u"].shape == (r["n"],)


@pytest.mark.parametrize("argv,fragment", [
    (("fem", "beam", "--ny", "0"), "ny must be"),
    (("fem", "beam", "--material", "marble"), "unknown material"),
    (("fem", "beam", "--tol", "2"), "--tol"),
    (("fem", "beam", "--ny", "4", "--material", "smooth", "--no-assemble"), "separable"),
])
def test_bad_input_exit_code_2(capsys, argv, fragment):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert fragment in err


def test_demo_part(capsys):
    code, out, _ = run(capsys, "demo", "--only", "fem", "--json")
    r = json.loads(out)["fem"]
    assert code == 0
    assert r["kronecker_rank"] == 4 and r["blackbox_rank"] == 4
    assert r["pcg_error"] < 1e-8 and r["fdm_error"] < 1e-10
    assert abs(r["tip_deflection"] / r["timoshenko"] - 1) < 0.02
    assert r["seconds"] < 30   # ~1 s of CPU; wall time on a loaded shared machine varies
