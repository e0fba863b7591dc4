"""The command line: exit codes, one-line errors, JSON output, examples."""
import json
import subprocess
import sys

import pytest

from physfact import __version__
from physfact.cli import main


def run(*args):
    """Run the real console entry point in a subprocess (what a user sees)."""
    return subprocess.run([sys.executable, "-m", "physfact.cli", *args], capture_output=True, text=True, timeout=300)


def test_version():
    out = run("--version")
    assert out.returncode == 0 and __version__ in out.stdout


def test_bad_flag_is_one_line_exit_2():
    out = run("--no-such-flag")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "error" in out.stderr


def test_missing_file_is_one_line_exit_2(tmp_path):
    out = run("rank", str(tmp_path / "missing.npy"))
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "no such file" in out.stderr
    assert "Traceback" not in out.stderr


def test_nan_matrix_is_one_line_exit_2(tmp_path):
    import numpy as np

    np.save(tmp_path / "bad.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    out = run("rank", str(tmp_path / "bad.npy"))
    assert out.returncode == 2 and "non-finite" in out.stderr and out.stderr.count("\n") == 1


def test_rank_json_recovers_planted_rank(capsys):
    assert main(["rank", "--synthetic", "300", "60", "5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ranks"] == {"aic": 5, "gap": 5}
    assert abs(result["noise_sigma"] - 0.5) < 0.05


def test_rank_plot(tmp_path, capsys):
    assert main(["rank", "--quiet", "--plot", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_global_flags_before_subcommand(capsys):
    assert main(["--json", "rank"]) == 0
    assert "ranks" in json.loads(capsys.readouterr().out)


def test_demo_lowrank_part_json(capsys):
    assert main(["demo", "--only", "lowrank", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["lowrank"]["ranks"] == {"aic": 5, "gap": 5}


def test_demo_unknown_part(capsys):
    assert main(["demo", "--only", "nothing"]) == 2


def test_examples_list_and_unknown(capsys):
    assert main(["examples", "list"]) == 0
    assert "lowrank_rank_selection" in capsys.readouterr().out
    assert main(["examples", "run", "no_such_example"]) == 2
    assert "unknown example" in capsys.readouterr().err
