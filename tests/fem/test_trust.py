"""Bad input, impossible sizes and honest convergence in physfact.fem and ``physfact fem``."""
import json

import numpy as np
import pytest
from scipy.sparse.linalg import splu

from physfact.cli import main
from physfact.errors import ConvergenceError, InputError, ResourceError, SingularMatrixError, UnknownNameError
from physfact.fem import (
    KroneckerOperator, cantilever, fdm_solve, poisson_cube, poisson_square, poisson_strip, prismatic_beam, solve,
    sweep_factor, sweep_solve, woodbury_update,
)
from physfact.fem.fdm import FDMFactor
from physfact.fem.pcg import pcg_solve


def relerr(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


# ------------------------------------------------------------------ problem builders
@pytest.mark.parametrize("builder,kwargs,error,fragment", [
    (cantilever, dict(ny=0), InputError, "ny"), (cantilever, dict(ny=2.5), InputError, "ny"),
    (cantilever, dict(nx=0), InputError, "nx"), (cantilever, dict(length=np.inf), InputError, "length"),
    (cantilever, dict(height=-1), InputError, "height"), (cantilever, dict(E=np.nan), InputError, "E"),
    (cantilever, dict(nu=0.5), InputError, "nu"), (cantilever, dict(nu="abc"), InputError, "nu"),
    (cantilever, dict(load=np.nan), InputError, "load"), (cantilever, dict(element="Q2"), InputError, "element"),
    (cantilever, dict(material="marble"), UnknownNameError, "unknown material"),
    (cantilever, dict(material=lambda x, y: -np.ones_like(x)), InputError, "positive"),
    (cantilever, dict(material=lambda x, y: np.full_like(x, np.nan)), InputError, "finite"),
    (cantilever, dict(material=lambda x: x), InputError, "callable"),
    (cantilever, dict(ny=4, material="smooth", assemble=False), InputError, "separable"),
    (prismatic_beam, dict(ny=0), InputError, "ny"), (prismatic_beam, dict(width=0), InputError, "width"),
    (prismatic_beam, dict(load=np.inf), InputError, "load"),
    (poisson_strip, dict(ny=1), InputError, "ny"), (poisson_strip, dict(nx=1), InputError, "nx"),
    (poisson_strip, dict(source=np.nan), InputError, "source"),
    (poisson_square, dict(n=1), InputError, "ny"), (poisson_cube, dict(n=1), InputError, "n must"),
])
def test_builders_bad_input(builder, kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        builder(**kwargs)


def test_impossible_mesh_refused_before_allocating(monkeypatch):
    with pytest.raises(ResourceError, match="60000 x 3000-element"):
        cantilever(ny=3000, assemble=False)           # ~75 GiB of bookkeeping arrays
    monkeypatch.setenv("PHYSFACT_MAX_MEMORY", "1M")
    with pytest.raises(ResourceError, match="assembled by scikit-fem"):
        cantilever(ny=16)
    with pytest.raises(ResourceError):
        poisson_cube(40)


@pytest.mark.parametrize("build", [lambda: cantilever(nx=1, ny=1), lambda: prismatic_beam(nx=1, ny=1),
                                   lambda: cantilever(nx=1, ny=3, length=0.5, height=1.5)])
def test_single_station_problems_solve(build):
    """One free axial station (``--nx 1 --ny 1``) used to crash in LAPACK's pttrf wrapper."""
    p = build()
    res = pcg_solve(p, tol=1e-10)
    assert relerr(res.x, splu(p.K.tocsc()).solve(p.f)) < 1e-8


def test_two_interior_point_poisson_and_cube():
    for p in (poisson_strip(nx=2, ny=2), poisson_cube(2)):
        res = fdm_solve(KroneckerOperator.from_problem(p), p.f)
        assert relerr(res.x, splu(p.K.tocsc()).solve(p.f)) < 1e-12


def test_material_and_load_scale_the_deflection_as_physics_says():
    base = pcg_solve(cantilever(ny=4, length=10.0)).x
    stiff = pcg_solve(cantilever(ny=4, length=10.0, E=2.0, load=3.0)).x
    assert relerr(stiff, 1.5 * base) < 1e-7      # u ~ load / E (linear elasticity)


# ------------------------------------------------------------------ operators and solvers
def test_operator_entry_points_bad_input():
    p = cantilever(ny=2, length=4.0)
    with pytest.raises(InputError, match="FEProblem"):
        KroneckerOperator.from_problem("x")
    with pytest.raises(InputError, match="FEProblem"):
        KroneckerOperator.from_matrix(p.K, problem=np.eye(3))
    with pytest.raises(InputError, match="rank"):
        KroneckerOperator.from_problem(p, rule=-1)
    with pytest.raises(InputError, match="which"):
        KroneckerOperator.from_problem(p, which="Q")
    with pytest.raises(InputError, match="rows"):
        KroneckerOperator.from_matrix(np.eye(3), p)
    with pytest.raises(InputError, match="non-finite"):
        KroneckerOperator.from_matrix(np.full((3, 3), np.nan))
    with pytest.raises(InputError, match="coords"):
        KroneckerOperator.from_matrix(np.eye(4))
    with pytest.raises(InputError, match="shapes"):
        KroneckerOperator([(np.eye(2), np.eye(3)), (np.eye(3), np.eye(3))])
    with pytest.raises(InputError, match="shape mismatch"):
        KroneckerOperator.from_problem(p) @ np.ones(3)
    with pytest.raises(InputError, match="truncation rule"):
        KroneckerOperator.from_problem(p).recompress(rule="x")


def test_recompress_is_exact_to_rounding():
    """K - s M is a two-term sum; the Gram-matrix recompression kept a third term at ~1e-8 s_1."""
    p = poisson_strip(length=4.0, ny=4)
    K, M = KroneckerOperator.from_problem(p), KroneckerOperator.from_problem(p, which="M")
    for shift in (1.0, 1e2, 1e4):
        r = (K + (-shift) * M).recompress()
        assert r.rank == 2
        assert r.singular_values[2] < 1e-14 * r.singular_values[0]
        dense = (K + (-shift) * M).to_sparse().toarray()
        assert relerr(r.to_sparse().toarray(), dense) < 1e-13


def test_solvers_bad_input():
    strip = poisson_strip(ny=4)
    op = KroneckerOperator.from_problem(strip)
    beam = cantilever(ny=2, length=4.0)
    with pytest.raises(InputError, match="KroneckerOperator"):
        fdm_solve(np.eye(3), np.ones(3))
    with pytest.raises(InputError, match="refine"):
        fdm_solve(op, strip.f, refine=10**9)
    with pytest.raises(InputError, match="refine"):
        fdm_solve(op, strip.f, refine=-1)
    with pytest.raises(InputError, match="rows"):
        fdm_solve(op, np.ones(3))
    with pytest.raises(InputError, match="non-finite"):
        fdm_solve(op, np.full(strip.n, np.nan))
    with pytest.raises(InputError, match="FEProblem"):
        pcg_solve(np.eye(3))
    with pytest.raises(InputError, match="FEProblem"):
        solve("x")
    with pytest.raises(InputError, match="tol"):
        pcg_solve(beam, tol=2.0)
    with pytest.raises(InputError, match="maxiter"):
        pcg_solve(beam, maxiter=10**7)
    with pytest.raises(InputError, match="non-finite"):
        pcg_solve(beam, np.full(beam.n, np.nan))
    lu = splu(beam.K.tocsc())
    with pytest.raises(InputError, match="rows"):
        woodbury_update(lu, np.ones((3, 1)))
    with pytest.raises(InputError, match="non-finite"):
        woodbury_update(lu, np.full((beam.n, 1), np.nan))
    with pytest.raises(InputError, match="factor"):
        woodbury_update(None, np.ones((beam.n, 1)))
    with pytest.raises(InputError, match="refresh"):
        sweep_factor(beam.K, beam, refresh=-1)
    with pytest.raises(InputError, match="axis"):
        sweep_factor(beam.K, beam, axis=5)
    with pytest.raises(InputError, match="coordinates"):
        sweep_factor(np.eye(3))
    with pytest.raises(InputError, match="maxiter"):
        sweep_solve(beam.K, beam.f, beam, maxiter=0)
    with pytest.raises(InputError, match="rows"):
        sweep_solve(beam.K, np.ones(3), beam)
    with pytest.raises(SingularMatrixError):
        FDMFactor(KroneckerOperator.from_problem(strip) + (-1e4) * KroneckerOperator.from_problem(strip, which="M"))


def test_pcg_reports_only_convergence_it_reached():
    """The recursive residual met tol=1e-11 while the true one stalled at the rounding floor
    (~3e-10 here): that used to be reported as converged."""
    p = cantilever(ny=8)
    with pytest.raises(ConvergenceError, match="rounding") as info:
        pcg_solve(p, tol=1e-11, maxiter=400)
    true = info.value.history[-1]
    assert true > 1e-11
    ok = pcg_solve(p, tol=1e-8)
    assert ok.residual <= 1e-8
    assert np.linalg.norm(p.f - p.K @ ok.x) / np.linalg.norm(p.f) == pytest.approx(ok.residual, rel=1e-6)


# ------------------------------------------------------------------ physfact fem flags
@pytest.mark.parametrize("argv,fragment", [
    (["fem", "beam", "--length", "nan"], "--length"), (["fem", "beam", "--height", "0"], "--height"),
    (["fem", "beam", "--ny", "-3"], "--ny"), (["fem", "beam", "--nx", "0"], "--nx"),
    (["fem", "beam", "--E", "0"], "--E"), (["fem", "beam", "--E", "nan"], "--E"),
    (["fem", "beam", "--nu", "0.5"], "--nu"), (["fem", "beam", "--nu", "nan"], "--nu"),
    (["fem", "beam", "--load", "inf"], "--load"), (["fem", "beam", "--tol", "nan"], "--tol"),
    (["fem", "beam", "--tol", "1"], "--tol"), (["fem", "beam", "--material", "marble"], "unknown material"),
    (["fem", "beam", "--out", "x.txt"], "--out"), (["fem", "beam", "--out", "/no/such/dir/x.npz"], "does not exist"),
    (["fem", "beam", "--plot", "x.doc"], "--plot"),
    (["fem", "beam", "--ny", "3000", "--no-assemble"], "memory"),
    (["fem", "beam", "--ny", "4", "--material", "smooth", "--no-assemble", "--quiet"], "separable"),
    (["fem", "poisson", "--ny", "1"], "--ny"), (["fem", "poisson", "--nx", "1"], "--nx"),
    (["fem", "poisson", "--length", "-1"], "--length"), (["fem", "poisson", "--material", "smooth"], "material"),
    (["fem", "poisson", "--out", "p.txt"], "--out"),
])
def test_fem_cli_bad_input_one_line_exit_2(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err and err.startswith("physfact: error:")


@pytest.mark.parametrize("suffix", [".npz", ".h5", ".json"])
def test_fem_beam_out_round_trips(capsys, tmp_path, suffix):
    from physfact.io import load_h5, load_npz

    out = tmp_path / f"beam{suffix}"
    argv = ["fem", "beam", "--ny", "4", "--length", "10", "--E", "2", "--nu", "0.25", "--load", "3", "--solve",
            "--json", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["E"], r["nu"], r["load"]) == (2.0, 0.25, 3.0)
    assert abs(r["tip_deflection"] / r["timoshenko_tip_deflection"] - 1) < 0.06
    if suffix == ".json":
        assert json.loads(out.read_text())["tip_deflection"] == r["tip_deflection"]
        return
    if suffix == ".npz":
        d = load_npz(out, kind="physfact.fem")
        attrs = {k: d[k].item() for k in d if d[k].ndim == 0}
    else:
        d, attrs = load_h5(out, kind="physfact.fem")
    assert d["u"].shape == (r["n"],) and d["section"].shape == (r["n"],)
    assert attrs["tip_deflection"] == pytest.approx(r["tip_deflection"]) and attrs["n_section"] == r["n_section"]


def test_fem_beam_prints_units(capsys):
    assert main(["fem", "beam", "--ny", "2", "--length", "5", "--solve", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "force/L^2" in text and "force per unit thickness" in text and "tip deflection" in text
    assert " L, downward" in text


def test_fem_cli_single_station(capsys):
    assert main(["fem", "beam", "--nx", "1", "--ny", "1", "--solve", "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["n_stations"] == 1
