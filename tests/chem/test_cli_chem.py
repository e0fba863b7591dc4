import json

import pytest

from physfact.cli import main


def test_df_cli_json_target_error(capsys, tmp_path):
    out = tmp_path / "lih.h5"
    rc = main(["df", "LiH", "--target-error", "1", "--json", "--out", str(out)])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n_orbitals"] == 6 and res["n_groups"] == res["n_leaves"] + 1 <= 19
    assert abs(res["energies"]["error_B_mha"]) <= 1.0
    assert res["pauli_terms"] == 630 and res["pauli_qwc_groups"] > res["n_groups"]
    assert out.is_file()
    from physfact.chem import load_double_factorization

    assert load_double_factorization(out).n_leaves == res["n_leaves"]


def test_df_cli_fcidump_and_tol(capsys, tmp_path, mol):
    path = mol("H2O").to_fcidump(tmp_path / "h2o.fcidump")
    rc = main(["df", str(path), "--tol", "1e-3", "--method", "cholesky", "--json", "--plot", str(tmp_path / "s.png")])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["eri_max_abs_error"] <= 1e-3 and res["method"] == "cholesky"
    assert res["energies"]["method"] == "FCI"
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_df_cli_bad_input(capsys):
    assert main(["df", "Unobtainium", "--tol", "1e-3"]) == 2
    assert "known: " in capsys.readouterr().err
    assert main(["df", "H2"]) == 2
    with pytest.raises(SystemExit) as exc:  # argparse: mutually exclusive options
        main(["df", "H2", "--tol", "1e-3", "--target-error", "1"])
    assert exc.value.code == 2
    assert main(["df", "H2", "--tol", "-1"]) == 2


def test_demo_part(capsys):
    from types import SimpleNamespace

    from physfact.chem.cli import demo
    from physfact.console import Console

    res = demo(Console(quiet=True, json=False), SimpleNamespace(seed=0))
    assert res["n_groups"] <= 19 and abs(res["error_B_mha"]) <= 1.0
    assert "measurement groups" in capsys.readouterr().out
