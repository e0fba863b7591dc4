"""Compressed sweep factor (general meshes) and the automatic solver choice."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from physfact.errors import InputError, SingularMatrixError
from physfact.fem import cantilever, poisson_strip, prismatic_beam, solve, sweep_factor, sweep_solve
from physfact.fem.sweep import axial_levels


def relerr(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


def prismatic_random_material(seed=0):
    """Random in the cross-section, constant along the axis: not separable, Kronecker rank high."""
    field = np.random.default_rng(seed).uniform(0.5, 2.0, size=(8, 8))

    def material(x, y, z):
        return field[np.clip((y * 8).astype(int), 0, 7), np.clip((z * 8).astype(int), 0, 7)] * np.ones_like(x)
    return material


def test_exact_sweep_is_a_direct_solver():
    p = cantilever(length=10.0, ny=4)
    F = sweep_factor(p.K, p, tol=0.0)
    assert F.n_dense == F.n_levels
    ref = splu(p.K.tocsc()).solve(p.f)
    assert relerr(F.solve(p.f), ref) < 1e-10


def test_levels_make_k_block_tridiagonal():
    p = prismatic_beam(length=4.0, ny=2)
    lev = axial_levels(p.K, p.coords)
    C = p.K.tocoo()
    assert np.abs(lev[C.row] - lev[C.col]).max() == 1
    assert lev.max() + 1 == p.n_stations


def test_compressed_sweep_on_a_prismatic_beam_with_random_section():
    p = prismatic_beam(length=8.0, ny=4, material=prismatic_random_material())
    assert not p.separable
    F = sweep_factor(p.K, p, tol=1e-6)
    # the Schur complements far from the support differ from S_ref by the few beam modes
    assert max(r for r in F.ranks) <= 20 and F.ranks[-3] <= 8
    assert F.nbytes < 0.6 * F.dense_nbytes
    lu = splu(p.K.tocsc(), permc_spec="MMD_AT_PLUS_A")
    assert F.nbytes < 0.5 * 12 * (lu.L.nnz + lu.U.nnz)
    res = sweep_solve(p.K, p.f, p, factor=F, tol=1e-10)
    assert res.iterations <= 6
    assert relerr(res.x, lu.solve(p.f)) < 1e-8


def test_sweep_on_a_non_tensor_mesh():
    import skfem
    from skfem.models.poisson import laplace, unit_load

    m = skfem.MeshTri.init_tensor(np.linspace(0, 8, 33), np.linspace(0, 1, 5))
    m = m.refined(np.arange(0, m.t.shape[1], 7))       # irregular local refinement
    basis = skfem.Basis(m, skfem.ElementTriP1())
    K = skfem.asm(laplace, basis)
    f = skfem.asm(unit_load, basis)
    D = basis.get_dofs().all()
    I = np.setdiff1d(np.arange(K.shape[0]), D)
    Ki, fi, coords = K[I][:, I].tocsr(), f[I], m.p[:, I].T
    res = sweep_solve(Ki, fi, coords=coords, tol=1e-10)
    assert relerr(res.x, splu(Ki.tocsc()).solve(fi)) < 1e-8


def test_sweep_errors():
    p = cantilever(length=4.0, ny=2)
    with pytest.raises(InputError, match="coordinates"):
        sweep_factor(p.K)
    with pytest.raises(InputError, match="coords has"):
        sweep_factor(p.K, coords=p.coords[:-1])
    with pytest.raises(SingularMatrixError):
        sweep_factor(p.K - 10.0 * sp.identity(p.n), p)    # indefinite


@pytest.mark.parametrize("make,method", [
    (lambda: poisson_strip(length=10.0, ny=6), "fdm"),
    (lambda: poisson_strip(length=6.0, ny=4, element="P1"), "fdm"),
    (lambda: cantilever(length=10.0, ny=4, material="smooth"), "pcg-beam"),
    (lambda: cantilever(length=6.0, ny=3, element="P1"), "sweep-pcg"),
])
def test_automatic_solver_choice(make, method):
    p = make()
    res = solve(p, tol=1e-10)
    assert res.method == method
    assert relerr(res.x, splu(p.K.tocsc()).solve(p.f)) < 1e-7
