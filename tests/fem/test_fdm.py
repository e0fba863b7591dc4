"""Fast diagonalisation against scipy's sparse LU."""
import numpy as np
import pytest
from scipy.sparse.linalg import splu

from physfact.errors import InputError, SingularMatrixError
from physfact.fem import KroneckerOperator, cantilever, poisson_cube, poisson_square, poisson_strip
from physfact.fem.fdm import FDMFactor, fdm_solve


def relerr(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


@pytest.mark.parametrize("make", [
    lambda: poisson_strip(length=20.0, ny=8),
    lambda: poisson_square(20, material="graded"),
    lambda: poisson_square(12, material="layered"),
    lambda: poisson_cube(6),
    lambda: poisson_strip(length=4.0, ny=6, element="P1"),   # black-box terms (no 1-D form)
])
def test_fdm_matches_splu(make):
    p = make()
    op = KroneckerOperator.from_problem(p)
    assert op.rank == 2
    ref = splu(p.K.tocsc()).solve(p.f)
    res = fdm_solve(op, p.f)
    assert relerr(res.x, ref) < 1e-10
    assert res.residual < 1e-12 and res.iterations == 1


def test_fdm_blocks_of_right_hand_sides():
    p = poisson_strip(length=10.0, ny=6)
    op = KroneckerOperator.from_problem(p)
    B = np.random.default_rng(0).standard_normal((p.n, 4))
    res = fdm_solve(op, B)
    ref = splu(p.K.tocsc()).solve(B)
    assert res.x.shape == (p.n, 4)
    assert relerr(res.x, ref) < 1e-10
    assert res.residual.shape == (4,) and np.all(res.residual < 1e-12)


def test_fdm_black_box_operator_and_refinement_against_matrix():
    p = poisson_square(16, material="graded")
    bb = KroneckerOperator.from_matrix(p.K, p)
    res = fdm_solve(bb, p.f, matrix=p.K)
    assert relerr(res.x, splu(p.K.tocsc()).solve(p.f)) < 1e-10


def test_fdm_heat_step_and_shifted_operator():
    p = poisson_strip(length=6.0, ny=6)
    K = KroneckerOperator.from_problem(p)
    M = KroneckerOperator.from_problem(p, which="M")
    dt = 0.05
    res = fdm_solve(M + dt * K, p.f)           # implicit Euler step (M + dt K) u = f
    assert relerr(res.x, splu((p.M + dt * p.K).tocsc()).solve(p.f)) < 1e-10
    res = fdm_solve(K + 2.5 * M, p.f)
    assert relerr(res.x, splu((p.K + 2.5 * p.M).tocsc()).solve(p.f)) < 1e-10


def test_fdm_refinement_with_a_truncated_fit():
    """An approximate Kronecker fit still gives a good solve after refinement against K."""
    p = poisson_square(12, material="smooth")
    fit = KroneckerOperator.from_matrix(p.K, p, rule=2)
    assert fit.rank == 2 and fit.relative_error(p.K) > 1e-6
    ref = splu(p.K.tocsc()).solve(p.f)
    one = fdm_solve(fit, p.f, matrix=p.K, refine=0)
    more = fdm_solve(fit, p.f, matrix=p.K, refine=6)
    assert relerr(more.x, ref) < 0.01 * relerr(one.x, ref)


def test_fdm_rejects_elasticity_and_bad_input():
    beam = cantilever(length=4.0, ny=2)
    with pytest.raises(InputError, match="two-term"):
        FDMFactor(KroneckerOperator.from_problem(beam))
    p = poisson_strip(length=4.0, ny=4)
    op = KroneckerOperator.from_problem(p)
    with pytest.raises(InputError, match="rows"):
        fdm_solve(op, np.ones(p.n + 1))
    with pytest.raises(InputError, match="non-finite"):
        fdm_solve(op, np.full(p.n, np.nan))
    with pytest.raises(InputError, match="KroneckerOperator"):
        FDMFactor(p.K)


def test_fdm_detects_indefinite_sum():
    p = poisson_strip(length=4.0, ny=4)
    K = KroneckerOperator.from_problem(p)
    M = KroneckerOperator.from_problem(p, which="M")
    with pytest.raises(SingularMatrixError):
        FDMFactor(K + (-1e4) * M)   # shifted far past the smallest eigenvalue


def test_sine_transform_path_equals_dense_path():
    p = poisson_strip(length=6.0, ny=12)
    op = KroneckerOperator.from_problem(p)
    sine, dense = FDMFactor(op, transform="sine"), FDMFactor(op, transform="dense")
    assert sine.transform == "sine" and dense.transform == "dense"
    assert np.allclose(np.sort(sine.eigenvalues), dense.eigenvalues, rtol=1e-12)
    B = np.random.default_rng(0).standard_normal((p.n, 2))
    ref = splu(p.K.tocsc()).solve(B)
    assert relerr(sine.solve(B), ref) < 1e-12 and relerr(dense.solve(B), ref) < 1e-12
    assert sine.nbytes < dense.nbytes
    graded = poisson_square(8, material="graded")
    with pytest.raises(InputError, match="Toeplitz"):
        FDMFactor(KroneckerOperator.from_problem(graded), transform="sine")


def test_p1_mass_through_black_box_and_a_three_term_heat_operator():
    p = poisson_strip(length=4.0, ny=4, element="P1")
    K = KroneckerOperator.from_problem(p)
    M = KroneckerOperator.from_problem(p, which="M")
    assert M.method == "rearrangement" and M.relative_error(p.M) < 1e-12
    # the P1 mass and stiffness share no factor: M + dt K has three terms, beyond FDM
    assert (M + 0.1 * K).recompress().rank == 3
    with pytest.raises(InputError, match="two-term"):
        fdm_solve(M + 0.1 * K, p.f)
