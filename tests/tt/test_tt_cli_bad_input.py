"""``physfact tt`` flags: bad input is one line on stderr and exit 2, a failed computation one line and
exit 1, never a traceback; impossible sizes are refused before computing; ``--out`` is checked before
the computation and carries the MPS (issue #10 sections 3-5, #11 section 1)."""
import json

import numpy as np
import pytest

from physfact.cli import main
from physfact.tt import MPS


def run(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


CHAIN = ["tt", "chain", "--sites", "6"]

BAD = [
    (["tt", "chain", "--sites", "0"], "L must be >= 2"),
    (["tt", "chain", "--sites", "1"], "L must be >= 2"),
    (["tt", "chain", "--sites", "-3"], "L must be >= 2"),
    (["tt", "chain", "--sites", "abc"], "invalid int"),
    (["tt", "chain", "--sites", "60", "--method", "lanczos"], "L = 60 > 40"),  # auto: DMRG above L = 18
    (["--max-memory", "1G", "tt", "chain", "--sites", "26", "--method", "lanczos"], "needs about"),
    (["tt", "chain", "--sites", "30", "--sweeps", "0"], "--sweeps must be >= 1"),
    (["tt", "chain", "--sites", "30", "--cutoff", "1.5"], "--cutoff is a discarded weight"),
    (CHAIN + ["--field", "nan"], "g must be a finite"),
    (CHAIN + ["--field", "inf"], "g must be a finite"),
    (CHAIN + ["--coupling", "nan"], "J must be a finite"),
    (CHAIN + ["--model", "heisenberg", "--coupling=-inf"], "J must be a finite"),
    (CHAIN + ["--tol", "-1"], "--tol is a relative error"),
    (CHAIN + ["--tol", "2"], "--tol is a relative error"),
    (CHAIN + ["--tol", "nan"], "--tol is a relative error"),
    (CHAIN + ["--max-bond", "0"], "--max-bond must be >= 1"),
    (CHAIN + ["--max-bond", "-5"], "--max-bond must be >= 1"),
    (CHAIN + ["--model", "potts"], "invalid choice"),
    (CHAIN + ["--boundary", "twisted"], "invalid choice"),
    (CHAIN + ["--seed", "-1"], "seed"),
    (CHAIN + ["--out", "x.txt"], "give a file name ending in one of them"),
    (CHAIN + ["--out", "no/such/dir/x.npz"], "does not exist"),
    (CHAIN + ["--plot", "x.npz"], "give a figure file name"),
    (CHAIN + ["--plot", "no/such/dir/x.png"], "does not exist"),
    (["tt", "molecule", "h2", "--plot", "x.docx"], "give a figure file name"),
    (["tt", "molecule", "unobtainium"], "unknown molecule"),
    (["tt", "molecule", "h2", "--basis", "nosuch"], "basis"),
    (["tt", "molecule", "h2", "--charge", "5"], "removes more than the 2 electrons"),
    (["tt", "molecule", "h2", "--spin", "1"], "impossible"),
    (["tt", "molecule", "H 0 0 0; H 0 0 0"], "apart"),
    (["tt", "molecule", "h2", "--tol", "2"], "--tol"),
    (["tt", "molecule", "h2", "--rank-tol", "nan"], "--rank-tol"),
    (["tt", "molecule", "h2", "--out", "x.csv"], "give a file name ending in one of them"),
    (["--max-memory", "64G", "tt", "molecule", "n2", "--basis", "cc-pvdz"], "determinants"),
    (["tt", "frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize("argv, msg", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2(argv, msg, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(argv, capsys)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and msg in err, err
    assert "Traceback" not in err and not list(tmp_path.iterdir())  # nothing written


def test_out_that_is_a_directory_refused_before_computing(tmp_path, capsys):
    (tmp_path / "d.npz").mkdir()
    rc, _, err = run(CHAIN + ["--out", str(tmp_path / "d.npz")], capsys)
    assert rc == 2 and "is a directory" in err and len(err.strip().splitlines()) == 1


def test_failed_computation_is_one_line_exit_1(capsys, monkeypatch):
    import scipy.sparse.linalg as spla

    def no_convergence(*a, **k):
        raise spla.ArpackNoConvergence("ARPACK error -1: No convergence", np.array([]), np.zeros((0, 0)))

    monkeypatch.setattr(spla, "eigsh", no_convergence)
    rc, _, err = run(CHAIN, capsys)
    assert rc == 1 and len(err.strip().splitlines()) == 1 and "did not converge" in err


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_chain_out_carries_the_mps(tmp_path, suffix, capsys):
    path = tmp_path / f"chain{suffix}"
    rc, out, _ = run(["tt", "chain", "--sites", "10", "--json", "--out", str(path)], capsys)
    assert rc == 0
    res = json.loads(out)
    mps = MPS.load(path)
    assert mps.n_sites == 10 and list(mps.bond_dimensions) == res["bond_dimensions"]
    np.testing.assert_allclose(mps.entanglement_entropy(), res["entropy_nats"], atol=1e-12)
    np.testing.assert_allclose(mps.entanglement_entropy(), res["entropy_free_fermion"], atol=1e-8)  # exact reference
    assert mps.norm() == pytest.approx(1.0, abs=1e-12)


def test_chain_json_out_says_it_holds_no_mps(tmp_path, capsys):
    path = tmp_path / "chain.json"
    assert run(CHAIN + ["--out", str(path)], capsys)[0] == 0
    saved = json.loads(path.read_text())
    assert "not stored" in saved["mps"] and len(saved["entropy_nats"]) == 5


def test_molecule_out_carries_the_mps(tmp_path, capsys):
    path = tmp_path / "h2.npz"
    rc, out, _ = run(["tt", "molecule", "h2", "--json", "--out", str(path)], capsys)
    assert rc == 0
    mps = MPS.load(path)
    assert mps.dims == (4, 4) and list(mps.bond_dimensions) == json.loads(out)["bond_dimensions"]


def test_real_command_refuses_n2_cc_pvdz_in_one_line():
    """The user's view (a subprocess, warnings and all): one line, exit 2, before any SCF."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "physfact.cli", "--max-memory", "64G", "tt", "molecule", "n2",
                          "--basis", "cc-pvdz"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "determinants" in out.stderr, out.stderr
