"""The command line's shared machinery: --out/--plot declared and checked before any work, the result
writer, closed stdout, SIGTERM, PHYSFACT_DEBUG, one-line warnings, argument types, examples --json."""
import argparse
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from physfact.cli import (build_parser, check_outputs, finite_float, fraction, main, nonnegative_float,
                          nonnegative_int, positive_float, positive_int)
from physfact.errors import InputError
from physfact.io import load

ROOT = Path(__file__).resolve().parents[2]

# the smallest valid command line of every subcommand (a new subcommand must be added here, so that
# its --out/--plot declaration is checked)
MINIMAL = {
    "demo": ["demo", "--only", "lowrank"],
    "examples list": ["examples", "list"],
    "examples run": ["examples", "run", "lowrank_rank_selection", "--small"],
    "rank": ["rank"],
    "bt": ["bt", "fom", "--order", "4"],
    "fem beam": ["fem", "beam", "--ny", "2"],
    "fem poisson": ["fem", "poisson", "--ny", "4"],
    "df": ["df", "H2", "--rank", "2"],
    "tt chain": ["tt", "chain", "--sites", "6"],
    "tt molecule": ["tt", "molecule", "h2"],
    "sweep": ["sweep", str(ROOT / "examples" / "sweep_n2_dissociation.toml"), "--store", "store"],
}


def _leaf_commands(parser, prefix=()):
    """Names of every runnable subcommand (parsers that set a handler)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaf_commands(sub, prefix + (name,))
    if prefix and parser.get_default("handler") is not None:
        yield " ".join(prefix)


def test_every_subcommand_is_covered():
    leaves = set(_leaf_commands(build_parser()))
    missing = leaves - set(MINIMAL)
    assert not missing, f"add the minimal command line of {sorted(missing)} to MINIMAL in this test"


@pytest.mark.parametrize("command", sorted(MINIMAL))
def test_out_and_plot_are_refused_or_checked_before_the_handler(command, tmp_path):
    parse = build_parser().parse_args
    args = parse(MINIMAL[command] + ["--out", str(tmp_path / "r.bogus")])
    suffixes = getattr(args, "out_suffixes", ())
    with pytest.raises(InputError, match="writes no files" if not suffixes else "give a file name ending"):
        check_outputs(args)
    for suffix in suffixes:
        check_outputs(parse(MINIMAL[command] + ["--out", str(tmp_path / f"r{suffix}")]))
        with pytest.raises(InputError, match="does not exist"):
            check_outputs(parse(MINIMAL[command] + ["--out", str(tmp_path / "no" / f"r{suffix}")]))
    with pytest.raises(InputError):
        check_outputs(parse(MINIMAL[command] + ["--plot", str(tmp_path / "f.txt")]))
    if "plot" in getattr(args, "plot_flags", ()):
        check_outputs(parse(MINIMAL[command] + ["--plot", str(tmp_path / "f.png")]))
        with pytest.raises(InputError, match="does not exist"):
            check_outputs(parse(MINIMAL[command] + ["--plot", str(tmp_path / "no" / "f.png")]))
    else:
        with pytest.raises(InputError, match="draws no figure"):
            check_outputs(parse(MINIMAL[command] + ["--plot", str(tmp_path / "f.png")]))


def test_refusal_comes_before_the_computation(monkeypatch, tmp_path, capsys):
    import physfact.control.cli as control_cli

    def must_not_run(args, console):
        raise AssertionError("the handler ran although --out was refused")

    monkeypatch.setattr(control_cli, "run_bt", must_not_run)
    for bad in ("rom.txt", "missing/rom.npz"):
        assert main(["bt", "fom", "--order", "4", "--out", str(tmp_path / bad)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("physfact: error:")
    assert main(["bt", "fom", "--order", "4", "--bode", str(tmp_path / "bode.dat")]) == 2
    assert "--bode" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_rank_out_round_trips(tmp_path, capsys):
    # rank writes its own file: every singular value (the printed result keeps the first 50)
    assert main(["rank", "--quiet", "--json", "--out", str(tmp_path / "r.json")]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["singular_values"][:50] == printed["singular_values"]
    assert {k: v for k, v in written.items() if k != "singular_values"} == \
        {k: v for k, v in printed.items() if k != "singular_values"}
    for suffix in (".npz", ".h5"):
        assert main(["rank", "--quiet", "--out", str(tmp_path / f"r{suffix}")]) == 0
        res = load(tmp_path / f"r{suffix}")
        assert res.kind == "lowrank.rank"
        assert res.obj["rank[aic]"] == printed["ranks"]["aic"] == 5
        assert np.allclose(res.obj["singular_values"][:50], printed["singular_values"], rtol=1e-15)
    capsys.readouterr()


def test_demo_and_example_out_write_their_json(tmp_path, capsys):
    assert main(["demo", "--only", "lowrank", "--out", str(tmp_path / "d.json")]) == 0
    assert load(tmp_path / "d.json").obj["lowrank"]["ranks"] == {"aic": 5, "gap": 5}
    assert main(["examples", "run", "lowrank_rank_selection", "--small", "--out", str(tmp_path / "e.json")]) == 0
    assert isinstance(load(tmp_path / "e.json").obj, dict)
    assert main(["examples", "list", "--out", str(tmp_path / "l.json")]) == 2
    assert not (tmp_path / "l.json").exists()


def test_examples_run_json_prints_only_json(capsys):
    assert main(["examples", "run", "lowrank_rank_selection", "--small", "--json"]) == 0
    captured = capsys.readouterr()
    assert isinstance(json.loads(captured.out), dict)  # nothing but the JSON document on stdout
    assert captured.err.strip()  # the example's story went to stderr


def test_rail_example_says_when_a_stand_in_runs(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PHYSFACT_SHARED_DATA", str(tmp_path))  # no control data there
    assert main(["examples", "run", "control_rail_rom", "--small", "--json"]) == 0
    captured = capsys.readouterr()
    res = json.loads(captured.out)
    assert res["model"].startswith("heat2d") and "stand-in" in res["stand_in"]
    assert "stand-in" in captured.err and "rail_371.mat" in captured.err


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT))


def test_closed_stdout_is_a_quiet_exit_and_files_are_still_written(tmp_path):
    for k, extra in enumerate(([], ["--json"], ["examples", "run", "lowrank_rank_selection", "--small"])):
        out = tmp_path / f"r{k}.json"
        command = extra if "examples" in extra else ["rank", *extra]
        proc = subprocess.Popen([sys.executable, "-m", "physfact.cli", *command, "--out", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
        proc.stdout.close()  # the reader is gone before the first line (| head -c0)
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
        # no error, no traceback: only the example's phase lines (what runs, when it is done) and the file
        lines = [line for line in err.splitlines() if not line.startswith("example lowrank_rank_selection")]
        assert proc.returncode == 0 and lines == [f"wrote {out}"], err
        assert json.loads(out.read_text())["ranks"]["gap"] == (5 if k < 2 else 4)  # the planted ranks


def _boom(args, console):
    raise ZeroDivisionError("a bug\nsecond line")


@pytest.mark.parametrize("value,traceback", [("0", False), ("", False), ("no", False), ("1", True), ("yes", True)])
def test_physfact_debug_switch(monkeypatch, capsys, value, traceback):
    import physfact.lowrank.cli as lowrank_cli

    monkeypatch.setattr(lowrank_cli, "run_rank", _boom)
    monkeypatch.setenv("PHYSFACT_DEBUG", value)
    if traceback:
        with pytest.raises(ZeroDivisionError):
            main(["rank"])
    else:
        assert main(["rank"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "internal error: ZeroDivisionError: a bug" in err


def test_library_warnings_are_one_line_each(monkeypatch, capsys):
    import physfact.lowrank.cli as lowrank_cli

    def warns(args, console):
        for _ in range(3):
            warnings.warn("rank capped at 5\nlong explanation", UserWarning)
        warnings.warn("another thing", RuntimeWarning)
        return {}

    monkeypatch.setattr(lowrank_cli, "run_rank", warns)
    assert main(["rank"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["physfact: warning: rank capped at 5", "physfact: warning: another thing"]
    assert warnings.showwarning is not None and warnings.showwarning.__name__ != "show"  # restored


def test_sigterm_before_any_write_is_exit_143(tmp_path):
    script = ("import sys, time\nimport physfact.lowrank.cli as c\nfrom physfact import cli\n"
              "def slow(a, k):\n    print('working', flush=True)\n    time.sleep(60)\n"
              "c.run_rank = slow\nsys.exit(cli.main(['rank']))\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env())
    try:
        assert proc.stdout.readline().strip() == "working"
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143 and err == "physfact: terminated\n"


@pytest.mark.parametrize("func,good,bad", [
    (finite_float, [("-2.5", -2.5), ("0", 0.0)], ["nan", "inf", "-inf", "x"]),
    (positive_float, [("1e-3", 1e-3)], ["0", "-1", "nan", "inf"]),
    (nonnegative_float, [("0", 0.0), ("3", 3.0)], ["-1e-300", "nan", "inf"]),
    (fraction, [("0.5", 0.5), ("1e-12", 1e-12)], ["0", "1", "1.5", "nan"]),
    (positive_int, [("3", 3)], ["0", "-2", "2.5", "nan", "1e3"]),
    (nonnegative_int, [("0", 0), ("7", 7)], ["-1", "nan", "x"]),
])
def test_argument_types(func, good, bad):
    for text, value in good:
        assert func(text) == value
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            func(text)


def test_nan_flag_is_one_line_exit_2():
    out = subprocess.run([sys.executable, "-m", "physfact.cli", "rank", "--seed", "nan"], capture_output=True,
                         text=True, env=_env(), timeout=120)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "--seed" in out.stderr


# every file --out writes reads back through physfact.io.load (kind recorded, numbers identical)
OUT_RUNS = {
    "bt": (["bt", "heat1d:40", "--order", "4"], "bt_rom", "error_bound"),
    "fem beam": (["fem", "beam", "--ny", "2", "--solve"], "physfact.fem", "tip_deflection"),
    "fem poisson": (["fem", "poisson", "--ny", "4"], "physfact.fem", "u_max"),
    "df": (["df", "H2", "--rank", "2", "--energies", "none"], "double_factorization", None),
    "tt chain": (["tt", "chain", "--sites", "6"], "tt.chain", "energy"),
    "tt molecule": (["tt", "molecule", "h2"], "tt.molecule", "fci_energy"),
    "rank": (["rank"], "lowrank.rank", "noise_sigma"),
}


def test_every_writing_command_is_round_tripped():
    parse = build_parser().parse_args
    writers = {c for c, argv in MINIMAL.items()
               if set(getattr(parse(argv), "out_suffixes", ()) or ()) & {".npz", ".h5"}}
    assert writers <= set(OUT_RUNS), sorted(writers - set(OUT_RUNS))


@pytest.mark.parametrize("command", sorted(OUT_RUNS))
def test_out_files_round_trip_through_io_load(command, tmp_path, capsys):
    argv, kind, scalar = OUT_RUNS[command]
    assert main(argv + ["--quiet", "--json", "--out", str(tmp_path / "r.npz")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert main(argv + ["--quiet", "--out", str(tmp_path / "r.h5")]) == 0
    for suffix in (".npz", ".h5"):
        res = load(tmp_path / f"r{suffix}")
        assert res.kind == kind
        if kind == "bt_rom":  # the reduced model itself, its report in meta
            assert res.obj.n == printed["r"] == res.meta["order"] and res.meta["method"] == printed["method"]
            assert np.allclose(res.meta["hsv"][:len(printed["hsv"])], printed["hsv"], rtol=1e-12, atol=0)
            assert res.meta[scalar] == pytest.approx(printed[scalar], rel=1e-12)
        elif scalar is not None:
            assert res.obj[scalar] == pytest.approx(printed[scalar], rel=1e-12)
        else:  # the rebuilt DoubleFactorization has the factors the command reported
            assert (res.obj.n_leaves, res.obj.n_eigenvectors) == (printed["n_leaves"], printed["n_eigenvectors"])


def test_seed_only_where_something_is_random(tmp_path):
    """``--seed`` belongs to rank, tt chain and demo; bt (deterministic shifts and grids), df, fem refuse it
    in one line instead of silently ignoring it, and where it exists it changes what is random."""
    for argv in (["bt", "heat1d:20", "--order", "2"], ["fem", "poisson", "--ny", "4"], ["df", "H2", "--rank", "1"]):
        res = subprocess.run([sys.executable, "-m", "physfact.cli", *argv, "--seed", "3"], capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and "--seed" in res.stderr, argv
        assert res.stdout == ""

    def rank(seed):
        assert main(["rank", "--synthetic", "40", "20", "3", "--noise", "0.1", "--seed", str(seed), "--quiet",
                     "--json", "--out", str(tmp_path / f"r{seed}.npz")]) == 0
        return load(tmp_path / f"r{seed}.npz").obj

    a, b, c = rank(1), rank(1), rank(2)
    assert a.attrs["noise_sigma"] == b.attrs["noise_sigma"] != c.attrs["noise_sigma"]


def test_balanced_truncation_uses_no_hidden_randomness():
    """Why bt has no --seed: the LR-ADI route (shifts from Arnoldi/projection on the data) and the dense
    route give bit-identical results whatever numpy's global random state is."""
    from physfact.control import balanced_truncation, models

    heat = models.heat2d(20)
    runs = []
    for state in (1, 2):
        np.random.seed(state)
        runs.append([balanced_truncation(heat, rank=6, solver=s) for s in ("adi", "hammarling")])
    for r1, r2 in zip(*runs):
        assert np.array_equal(r1.rom.A, r2.rom.A) and np.array_equal(r1.hsv, r2.hsv)
