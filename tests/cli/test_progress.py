"""Long commands show progress on a terminal and nothing extra when piped or with --quiet."""
import os
import pty
import select
import subprocess
import sys

import pytest

BEAM = ("fem", "beam", "--ny", "8", "--solve")


def _run_with_terminal_stderr(*args):
    """Run the CLI with stderr on a pseudo-terminal (stdout piped); return (rc, stdout, stderr)."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    # a new pty is 0 x 0 characters: give it a real terminal's size, or tqdm has no room to draw
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "physfact.cli", *args], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:  # drain the terminal while the command runs (a full pty buffer would block it)
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(timeout=300), out, b"".join(chunks).decode(errors="replace")


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
