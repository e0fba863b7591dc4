"""Bad input to every public entry point of physfact.control and to ``physfact bt``: each answer is a
specific PhysfactError (library) or one line on stderr with exit 2 / 1 (command line)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from physfact.cli import main
from physfact.control import LTISystem, balanced_truncation, lyapunov_factor, models, shifts, solve_lyapunov
from physfact.control.lradi import lradi
from physfact.errors import (
    ConvergenceError,
    DataFileError,
    InputError,
    PhysfactError,
    ResourceError,
    SingularMatrixError,
    UnknownNameError,
    UnstableSystemError,
)

A = -np.diag([1.0, 2.0, 3.0])
B = np.ones((3, 1))
C = np.ones((1, 3))


def stable():
    return LTISystem(A, B, C)


def unstable():
    return LTISystem(-A, B, C)


CASES = {
    # LTISystem construction: shapes, dtypes, NaN/Inf, empty, bad dt
    "LTI A not numeric": (lambda: LTISystem("x", B, C), InputError, "numeric"),
    "LTI A 3-D": (lambda: LTISystem(np.ones((2, 2, 2)), B, C), InputError, "2 dimensions"),
    "LTI A not square": (lambda: LTISystem(np.ones((3, 2)), B, C), InputError, "square"),
    "LTI A empty": (lambda: LTISystem(np.zeros((0, 0)), B, C), InputError, "empty"),
    "LTI A complex": (lambda: LTISystem(1j * A, B, C), InputError, "real"),
    "LTI B inf": (lambda: LTISystem(A, [np.inf, 1, 1], C), InputError, "non-finite"),
    "LTI B ragged": (lambda: LTISystem(A, [[1], [2, 3], [4]], C), InputError, "array"),
    "LTI D nan": (lambda: LTISystem(A, B, C, D=np.nan), InputError, "non-finite"),
    "LTI D shape": (lambda: LTISystem(A, B, C, D=np.ones((2, 2))), InputError, "D must have shape"),
    "LTI E nan": (lambda: LTISystem(A, B, C, E=np.full((3, 3), np.nan)), InputError, "non-finite"),
    "LTI singular pencil": (lambda: LTISystem(np.diag([-1.0, -1.0, 0.0]), B, C, E=np.diag([1.0, 1.0, 0.0])),
                            InputError, "singular"),
    "LTI dt nan": (lambda: LTISystem(A, B, C, dt=np.nan), InputError, "dt"),
    "LTI dt negative": (lambda: LTISystem(A, B, C, dt=-1), InputError, "dt"),
    "LTI dt text": (lambda: LTISystem(A, B, C, dt="x"), InputError, "dt"),
    # methods
    "freqresp at a pole": (lambda: LTISystem(np.diag([-1.0, 0.0]), np.ones(2), np.ones(2)).freqresp([0.0]),
                           SingularMatrixError, "pole"),
    "freqresp at a pole, sparse": (lambda: LTISystem(sp.diags(np.r_[0.0, -np.arange(1.0, 500)]), np.ones(500),
                                                     np.ones(500)).freqresp([0.0]), SingularMatrixError, "pole"),
    "freqresp nan": (lambda: stable().freqresp([np.nan]), InputError, "non-finite"),
    "freqresp 2-D": (lambda: stable().freqresp(np.ones((2, 2))), InputError, "dimensions"),
    "poles k=0": (lambda: stable().poles(k=0), InputError, "k must be >= 1"),
    "poles k text": (lambda: stable().poles(k="a"), InputError, "integer"),
    "hinf rtol -1": (lambda: stable().hinf_norm(rtol=-1), InputError, "rtol"),
    "hinf rtol nan": (lambda: stable().hinf_norm(rtol=np.nan), InputError, "rtol"),
    "hinf rtol 2": (lambda: stable().hinf_norm(rtol=2), InputError, "rtol"),
    "hinf method": (lambda: stable().hinf_norm(method="x"), InputError, "method"),
    "hinf unstable": (lambda: unstable().hinf_norm(), UnstableSystemError, "stable"),
    "hinf omega nan": (lambda: stable().hinf_norm(method="sampling", omega=[np.nan]), InputError, "non-finite"),
    "hinf omega negative": (lambda: stable().hinf_norm(method="sampling", omega=[-1.0]), InputError, "non-negative"),
    "hinf refine huge": (lambda: stable().hinf_norm(method="sampling", refine=10**6), InputError, "at most"),
    "h2 unstable": (lambda: unstable().h2_norm(), UnstableSystemError, "stable"),
    "simulate t nan": (lambda: stable().simulate([0, np.nan]), InputError, "non-finite"),
    "simulate t decreasing": (lambda: stable().simulate([0, -1, -2]), InputError, "increasing"),
    "simulate u shape": (lambda: stable().simulate([0, 1, 2], np.ones((2, 1))), InputError, "u must have shape"),
    "simulate x0 shape": (lambda: stable().simulate([0, 1, 2], x0=np.ones(2)), InputError, "x0"),
    "simulate huge": (lambda: LTISystem(-np.eye(2000), np.ones(2000), np.ones(2000)).simulate(
        np.arange(2_000_000.0)), ResourceError, "memory"),
    "subtract a number": (lambda: stable() - 3, InputError, "subtract"),
    "subtract other shape": (lambda: stable() - LTISystem(A, np.ones((3, 2)), C), InputError, "input/output"),
    "bilinear of continuous": (lambda: stable().bilinear_to_continuous(), InputError, "discrete"),
    # balanced_truncation
    "bt not a system": (lambda: balanced_truncation("x", rank=1), InputError, "LTISystem"),
    "bt rank 0": (lambda: balanced_truncation(stable(), rank=0), InputError, "rank"),
    "bt rank float": (lambda: balanced_truncation(stable(), rank=1.5), InputError, "integer"),
    "bt rank > n": (lambda: balanced_truncation(stable(), rank=10**9), InputError, "exceeds"),
    "bt tol nan": (lambda: balanced_truncation(stable(), tol=np.nan), InputError, "tol"),
    "bt tol negative": (lambda: balanced_truncation(stable(), tol=-1), InputError, "tol"),
    "bt neither": (lambda: balanced_truncation(stable()), InputError, "rank"),
    "bt method": (lambda: balanced_truncation(stable(), rank=1, method="x"), InputError, "method"),
    "bt solver": (lambda: balanced_truncation(stable(), rank=1, solver="x"), InputError, "solver"),
    "bt adi_tol nan": (lambda: balanced_truncation(stable(), rank=1, adi_tol=np.nan), InputError, "adi_tol"),
    "bt B = 0": (lambda: balanced_truncation(LTISystem(A, np.zeros(3), C), rank=1), InputError, "B = 0"),
    "bt B = 0, adi": (lambda: balanced_truncation(LTISystem(sp.csr_matrix(A), np.zeros(3), C), rank=1,
                                                  solver="adi"), InputError, "B = 0"),
    "bt adi discrete": (lambda: balanced_truncation(LTISystem(A / 10, B, C, dt=1), rank=1, solver="adi"),
                        InputError, "continuous"),
    "bt adi unstable": (lambda: balanced_truncation(LTISystem(sp.csr_matrix(-A), B, C), rank=1, solver="adi"),
                        UnstableSystemError, "non-negative real part"),
    "bt adi maxiter": (lambda: balanced_truncation(stable(), rank=1, solver="adi", maxiter=-3), InputError,
                       "maxiter"),
    # Lyapunov solvers
    "lyapunov_factor tol": (lambda: lyapunov_factor(A, B, tol=-1), InputError, "tol"),
    "lyapunov_factor tol 1": (lambda: lyapunov_factor(A, B, tol=1.0), InputError, "tol"),
    "lyapunov_factor method": (lambda: lyapunov_factor(A, B, method="x"), InputError, "method"),
    "lyapunov_factor B rows": (lambda: lyapunov_factor(A, np.ones(2)), InputError, "rows"),
    "lyapunov_factor unstable": (lambda: lyapunov_factor(-A, B), UnstableSystemError, "non-negative"),
    "lyapunov_factor maxiter huge": (lambda: lyapunov_factor(A, B, maxiter=10**9), InputError, "at most"),
    "lyapunov_factor adi too few steps": (
        lambda: lyapunov_factor(sp.diags(-np.arange(1.0, 200)), np.ones(199), method="adi", maxiter=1,
                                shifts="wachspress"), ConvergenceError, "maxiter"),
    "lradi shift name": (lambda: lradi(sp.csr_matrix(A), B, shifts="nope"), InputError, "shifts"),
    "lradi shifts in RHP": (lambda: lradi(sp.csr_matrix(A), B, shifts=[1.0]), InputError, "left half-plane"),
    "lradi shifts nan": (lambda: lradi(sp.csr_matrix(A), B, shifts=[np.nan]), InputError, "non-finite"),
    "solve_lyapunov Q shape": (lambda: solve_lyapunov(A, np.ones((2, 2))), InputError, "shape"),
    "solve_lyapunov Q nan": (lambda: solve_lyapunov(A, np.full((3, 3), np.nan)), InputError, "non-finite"),
    "solve_lyapunov singular": (lambda: solve_lyapunov(np.diag([0.0, -1.0]), np.eye(2)), SingularMatrixError,
                                "singular"),
    "solve_lyapunov E zero": (lambda: solve_lyapunov(A, np.eye(3), np.zeros((3, 3))), SingularMatrixError,
                              "singular|zero"),
    # models
    "models unknown name": (lambda: models.load("nope"), UnknownNameError, "known names"),
    "models bad size": (lambda: models.load("heat1d:abc"), InputError, "size"),
    "models negative size": (lambda: models.load("heat1d:-5"), InputError, ">= 2"),
    "models impossible size": (lambda: models.load("heat1d:1000000000"), ResourceError, "GiB"),
    "models impossible heat2d": (lambda: models.load("heat2d:100000"), ResourceError, "memory"),
    "models impossible msd": (lambda: models.load("msd:10000000000"), ResourceError, "memory"),
    "models not a name": (lambda: models.load(3), InputError, "name or a path"),
    "models size on fom": (lambda: models.load("fom:3"), InputError, "size"),
    "models missing file": (lambda: models.load("/nonexistent/x.mat"), DataFileError, "no such file"),
    "models negative mass": (lambda: models.msd(3, mass=-1), InputError, "mass"),
    "models nan damping": (lambda: models.msd(3, damping=np.nan), InputError, "damping"),
    # shifts
    "wachspress a > b": (lambda: shifts.wachspress_shifts(2, 1, 3), InputError, "a <= b"),
    "wachspress num 0": (lambda: shifts.wachspress_shifts(1, 2, 0), InputError, "num"),
    "wachspress nan": (lambda: shifts.wachspress_shifts(np.nan, 2, 3), InputError, "finite"),
    "wachspress_count tol": (lambda: shifts.wachspress_count(1, 2, -1), InputError, "tol"),
    "select_shifts none stable": (lambda: shifts.select_shifts([1.0], 2), InputError, "left half-plane"),
    "arnoldi zero start": (lambda: shifts.arnoldi_ritz(lambda x: x, np.zeros(3), 2), InputError, "zero"),
    "projection_shifts nan": (lambda: shifts.projection_shifts(A, None, np.full((3, 1), np.nan)), InputError,
                              "non-finite"),
    # files and interoperability
    "load unknown type": (lambda: LTISystem.load("x.txt"), DataFileError, "unknown"),
    "load missing": (lambda: LTISystem.load("/nonexistent/x.npz"), DataFileError, "no such file"),
    "from_scipy not a system": (lambda: LTISystem.from_scipy("x"), InputError, "StateSpace"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_library_bad_input(name):
    call, exc, match = CASES[name]
    with pytest.raises(exc, match=match):
        call()


def test_models_refuse_complex_and_garbage_files(tmp_path):
    import scipy.io

    scipy.io.savemat(tmp_path / "c.mat", {"A": A * (1 + 1j), "B": B, "C": C})
    with pytest.raises(DataFileError, match="complex"):
        models.load(tmp_path / "c.mat")
    scipy.io.savemat(tmp_path / "s.mat", {"A": sp.csr_matrix(A * (1 + 1j)), "B": B, "C": C})
    with pytest.raises(DataFileError, match="complex"):
        models.load(tmp_path / "s.mat")
    # a complex file with zero imaginary parts is real data and reads
    scipy.io.savemat(tmp_path / "r.mat", {"A": A + 0j, "B": B, "C": C})
    assert np.array_equal(models.load(tmp_path / "r.mat").A, A)
    (tmp_path / "g.mat").write_text("x")
    (tmp_path / "g.npz").write_bytes(b"PK\x03\x04garbage")
    for f in ("g.mat", "g.npz"):
        with pytest.raises(DataFileError):
            models.load(tmp_path / f)
    np.savez(tmp_path / "other.npz", format_version=1, kind="df", x=np.ones(2))
    with pytest.raises(DataFileError, match="holds a df, not a first-order system"):
        LTISystem.load(tmp_path / "other.npz")


def test_from_control_needs_a_state_space():
    pytest.importorskip("control", reason="python-control is in the 'test' extra")
    with pytest.raises(InputError, match="StateSpace"):
        LTISystem.from_control("x")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 4), m=st.integers(1, 2), p=st.integers(1, 2), bad=st.sampled_from(
    ["none", "nan", "inf", "shape"]), where=st.sampled_from("ABCD"))
def test_lti_constructor_answers_input_error_or_a_valid_system(n, m, p, bad, where):
    rng = np.random.default_rng(n + 10 * m + 100 * p)
    mats = {"A": -np.eye(n) + 0.1 * rng.standard_normal((n, n)), "B": rng.standard_normal((n, m)),
            "C": rng.standard_normal((p, n)), "D": rng.standard_normal((p, m))}
    if bad in ("nan", "inf"):
        mats[where] = mats[where].copy()
        mats[where].flat[0] = np.nan if bad == "nan" else np.inf
    elif bad == "shape":
        mats[where] = np.ones((mats[where].shape[0] + 1, mats[where].shape[1] + 2))
    if bad == "none":
        sys = LTISystem(**mats)
        assert (sys.n, sys.m, sys.p) == (n, m, p)
    else:
        with pytest.raises(InputError):
            LTISystem(**mats)


@settings(max_examples=30, deadline=None)
@given(rtol=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(0.0)))
def test_hinf_rtol_refused_unless_in_0_1(rtol):
    sys = stable()
    if 0 < rtol < 1:
        h = sys.hinf_norm(rtol=max(rtol, 1e-12))
        assert h.upper >= float(h) > 0  # the norm of sum 1/(s+k) is G(0) = 1 + 1/2 + 1/3
        assert float(h) == pytest.approx(11 / 6, rel=max(rtol, 1e-12) * 3)
    else:
        with pytest.raises(InputError, match="rtol"):
            sys.hinf_norm(rtol=rtol)


# ------------------------------------------------------------------ command line

CLI_CASES = [
    # (arguments, exit code, what the one line says)
    (["bt", "fom", "--order", "0"], 2, "--order must be >= 1"),
    (["bt", "fom", "--order", "-3"], 2, "--order must be >= 1"),
    (["bt", "fom", "--order", "nan"], 2, "invalid int"),
    (["bt", "fom", "--order", "5000"], 2, "exceeds the model's state dimension"),
    (["bt", "fom", "--tol", "nan"], 2, "--tol must be a finite positive"),
    (["bt", "fom", "--tol", "inf"], 2, "--tol must be a finite positive"),
    (["bt", "fom", "--tol", "-1"], 2, "--tol must be a finite positive"),
    (["bt", "fom", "--order", "3", "--tol", "1"], 2, "not allowed"),
    (["bt", "fom", "--order", "3", "--adi-tol", "nan"], 2, "--adi-tol"),
    (["bt", "fom", "--order", "3", "--adi-tol", "2"], 2, "--adi-tol"),
    (["bt", "fom", "--order", "3", "--error-samples", "-1"], 2, "--error-samples"),
    (["bt", "fom", "--order", "3", "--error-samples", "10000000"], 2, "--error-samples"),
    (["bt", "fom", "--order", "3", "--method", "x"], 2, "invalid choice"),
    (["bt", "fom", "--order", "3", "--solver", "x"], 2, "invalid choice"),
    (["bt", "fom", "--order", "3", "--full"], 2, "--full only applies"),
    (["bt", "fom", "--order", "3", "--out", "rom.txt"], 2, "give a file name ending in"),
    (["bt", "fom", "--order", "3", "--out", "/nonexistent/rom.npz"], 2, "does not exist"),
    (["bt", "fom", "--order", "3", "--plot", "hsv.txt"], 2, "figure file name ending in"),
    (["bt", "fom", "--order", "3", "--bode", "/nonexistent/b.png"], 2, "does not exist"),
    (["bt", "heat1d:1000000000", "--order", "3"], 2, "memory"),
    (["bt", "heat1d:abc", "--order", "3"], 2, "bad size"),
    (["bt", "nope", "--order", "3"], 2, "known names"),
    (["bt", "/nonexistent/model.mat", "--order", "3"], 2, "no such file"),
    (["--max-memory", "1M", "bt", "heat2d:40", "--order", "3"], 2, "memory"),
    (["--max-memory", "lots", "bt", "fom", "--order", "3"], 2, "not understood"),
]


@pytest.mark.parametrize("argv, code, match", CLI_CASES, ids=[" ".join(c[0][1:]) for c in CLI_CASES])
def test_cli_bad_input_one_line(argv, code, match, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PHYSFACT_MAX_MEMORY", "16G")  # restored afterwards (--max-memory sets it)
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == code
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and match in lines[0], err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_cli_bad_files(tmp_path, capsys):
    import scipy.io

    scipy.io.savemat(tmp_path / "c.mat", {"A": A * (1 + 1j), "B": B, "C": C})
    (tmp_path / "g.npz").write_text("garbage")
    for f, match in (("c.mat", "complex"), ("g.npz", "not a readable")):
        assert main(["bt", str(tmp_path / f), "--order", "1"]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and match in err


def test_cli_failed_computation_exit_1(capsys, monkeypatch):
    """A computation that fails (not bad input) is one line with exit 1: LR-ADI limited to 2 steps."""
    import importlib

    bt_mod = importlib.import_module("physfact.control.balanced_truncation")

    real = bt_mod._bt_lowrank
    monkeypatch.setattr(bt_mod, "_bt_lowrank", lambda *a, **k: real(*a[:5], {**a[5], "maxiter": 2}, a[6]))
    rc = main(["bt", "heat1d:3000", "--order", "3", "--solver", "adi"])
    err = capsys.readouterr().err
    assert rc == 1 and "failed" in err and "LR-ADI did not reach" in err
    assert len([ln for ln in err.splitlines() if ln.startswith("physfact")]) == 1
