"""PCG with the component-FDM + beam coarse-space preconditioner."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from physfact.errors import ConvergenceError, InputError
from physfact.fem import cantilever, poisson_strip, prismatic_beam
from physfact.fem.pcg import BeamPreconditioner, pcg_solve, section_rigid_modes


def relerr(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


@pytest.mark.parametrize("ny", [4, 16])   # n = 800 and 10 880
def test_iterations_bounded_and_solution_matches_splu(ny):
    p = cantilever(length=20.0, height=1.0, ny=ny)
    res = pcg_solve(p, tol=1e-9)
    assert res.iterations <= 40
    # the reported residual is the true ||b - K x|| / ||b||, and converged means it met tol
    assert res.residual <= 1e-9
    assert np.linalg.norm(p.f - p.K @ res.x) / np.linalg.norm(p.f) == pytest.approx(res.residual, rel=1e-6)
    ref = splu(p.K.tocsc()).solve(p.f)
    assert relerr(res.x, ref) < 1e-7
    assert res.history[0] == pytest.approx(1.0) and res.history[-1] == pytest.approx(res.residual)


def test_iteration_count_is_mesh_independent_fast_pair():
    its = [pcg_solve(cantilever(ny=ny, assemble=False), tol=1e-8).iterations for ny in (4, 16)]
    assert max(its) <= 40
    assert its[1] - its[0] <= 10


@pytest.mark.slow
def test_iteration_count_at_1e5_dofs():
    p = cantilever(ny=48, assemble=False)   # 94 080 DOFs, Kronecker products only
    assert 0.9e5 < p.n < 1.1e5
    res = pcg_solve(p, tol=1e-8)
    # true residual (CG restarts when rounding drift left it above tol; floor ~2e-9 here)
    assert res.iterations <= 45 and res.residual <= 1e-8


def test_coarse_space_is_what_makes_it_work():
    p = cantilever(length=20.0, ny=8)
    with_coarse = pcg_solve(p, tol=1e-8).iterations
    without = pcg_solve(p, tol=1e-8, coarse=False, maxiter=1000).iterations
    assert with_coarse < 0.5 * without


@pytest.mark.parametrize("material", ["graded", "smooth"])
def test_variable_materials(material):
    p = cantilever(length=20.0, ny=8, material=material)
    res = pcg_solve(p, tol=1e-9)
    assert res.iterations <= 40
    assert relerr(res.x, splu(p.K.tocsc()).solve(p.f)) < 1e-7


def test_block_of_load_cases_in_one_sweep():
    p = cantilever(length=10.0, ny=6)
    rng = np.random.default_rng(0)
    B = np.column_stack([p.f, rng.standard_normal(p.n), -2.0 * p.f])
    res = pcg_solve(p, B, tol=1e-9)
    ref = splu(p.K.tocsc()).solve(B)
    assert res.x.shape == B.shape
    assert np.all(res.residual <= 1e-9)
    assert relerr(res.x, ref) < 1e-6
    assert np.allclose(res.x[:, 2], -2.0 * res.x[:, 0], rtol=1e-6, atol=1e-6 * np.abs(res.x[:, 0]).max())


def test_kronecker_products_without_assembly_give_the_same_solution():
    a = cantilever(length=10.0, ny=6)
    b = cantilever(length=10.0, ny=6, assemble=False)
    assert b.K is None
    xa = pcg_solve(a, tol=1e-9).x
    xb = pcg_solve(b, tol=1e-9).x
    assert relerr(xb, xa) < 1e-7


def test_prismatic_beam_3d():
    p = prismatic_beam(length=8.0, ny=3)
    res = pcg_solve(p, tol=1e-9)
    assert res.iterations <= 40
    assert relerr(res.x, splu(p.K.tocsc()).solve(p.f)) < 1e-7


def test_poisson_with_station_mean_coarse_space():
    p = poisson_strip(length=20.0, ny=8)
    res = pcg_solve(p, tol=1e-9)
    assert res.iterations <= 5          # the component FDM is the exact inverse for Poisson
    assert relerr(res.x, splu(p.K.tocsc()).solve(p.f)) < 1e-8


def test_section_translations_are_in_the_kernel_away_from_the_ends():
    """K applied to a uniform translation vanishes at interior stations (rigid motion, no strain)."""
    p = cantilever(length=4.0, ny=4)
    Phi = section_rigid_modes(p)
    assert np.allclose(np.linalg.norm(Phi, axis=0), 1.0)
    for m in range(2):
        u = np.kron(np.ones(p.n_stations), Phi[:, m])       # Kronecker order
        Ku = sum(np.kron(A.toarray(), B.toarray()) @ u for A, B in p.kron_terms)
        interior = Ku.reshape(p.n_stations, p.n_section)[1:-1]
        assert np.abs(interior).max() < 1e-12 * np.abs(Ku).max()


def test_pcg_errors():
    p = cantilever(length=20.0, ny=4)
    with pytest.raises(ConvergenceError) as info:
        pcg_solve(p, maxiter=2, tol=1e-12)
    assert len(info.value.history) == 3
    with pytest.raises(InputError, match="rows"):
        pcg_solve(p, np.ones(3))
    with pytest.raises(InputError, match="tol"):
        pcg_solve(p, tol=-1.0)
    with pytest.raises(InputError, match="Q1/Hex1"):
        BeamPreconditioner(cantilever(length=4.0, ny=2, element="P1"))
