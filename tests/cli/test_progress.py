"""Long commands show progress on a terminal and nothing extra when piped or with --quiet."""
import pty
import subprocess
import sys

import pytest

from tests.terminal import run_with_terminal_stderr

BEAM = ("fem", "beam", "--ny", "8", "--solve")


def _run_with_terminal_stderr(*args):
    return run_with_terminal_stderr(args)


def _run_piped(*args):
    res = subprocess.run([sys.executable, "-m", "physfact.cli", *args], capture_output=True, text=True, timeout=300)
    return res.returncode, res.stdout, res.stderr


@pytest.mark.skipif(not hasattr(pty, "openpty") or sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_pcg_progress_bar_on_a_terminal_only():
    rc, out, err = _run_with_terminal_stderr(*BEAM)
    assert rc == 0 and "PCG:" in out
    assert "PCG iterations" in err and "solving K u = f by PCG" in err  # the bar and the phase line
    rc, out_piped, err_piped = _run_piped(*BEAM)
    assert rc == 0 and "PCG:" in out_piped
    assert "PCG iterations" not in err_piped and "\r" not in err_piped  # phase lines only, no bar
    assert "solving K u = f by PCG" in err_piped
    rc, _, err_quiet = _run_with_terminal_stderr(*BEAM, "--quiet")
    assert rc == 0 and err_quiet.strip() == ""
    rc, _, err_quiet = _run_piped(*BEAM, "--quiet")
    assert rc == 0 and err_quiet == ""


def test_fci_phase_line_names_formula_and_size():
    rc, out, err = _run_piped("tt", "molecule", "h2")
    assert rc == 0
    # H2/sto-3g: 2 spatial orbitals, one alpha and one beta electron: 2 x 2 determinants
    assert "FCI of H2 / sto-3g (4 determinants)" in err
    assert out.startswith("H2 / sto-3g:")
    rc, out, err = _run_piped("df", "H 0 0 0; H 0 0 0.74", "--rank", "2")
    assert rc == 0 and "FCI of H2 (d = 0.74 A) / sto-3g (4 determinants)" in err
    assert "H2 (d = 0.74 A) / sto-3g:" in out and "reference E_FCI" in out and "exact" not in out
    rc, out, err = _run_piped("df", "H2", "--rank", "2", "--quiet")
    assert rc == 0 and err == ""


def test_examples_run_says_what_runs():
    rc, out, err = _run_piped("examples", "run", "lowrank_rank_selection", "--small", "--json")
    assert rc == 0 and out.lstrip().startswith("{")
    assert "example lowrank_rank_selection (small):" in err and "done in" in err
