"""TT-cross (maxvol, rank-adaptive) and quantics helpers against dense evaluations."""
import numpy as np
import pytest

from physfact.errors import ConvergenceError, InputError
from physfact.tt import (
    TensorTrain,
    maxvol,
    qtt_cross,
    qtt_from_vector,
    qtt_values,
    quantics_grid,
    quantics_index,
    sample_error,
    tt_cross,
)

DIMS = (10,) * 6
GRID = np.stack(np.meshgrid(*[np.arange(10)] * 6, indexing="ij"), -1).reshape(-1, 6)


def test_maxvol_dominance():
    A = np.random.default_rng(0).standard_normal((300, 7))
    rows = maxvol(A)
    assert len(set(rows.tolist())) == 7
    assert np.abs(A @ np.linalg.inv(A[rows])).max() <= 1.05 + 1e-12


def test_cross_of_an_exact_rank_two_function_finds_rank_two():
    def f(idx):
        return np.sin((idx / 9.0).sum(axis=1))  # sin(sum x) = Im prod exp(i x): TT rank 2

    res = tt_cross(f, DIMS, tol=1e-10, seed=1)
    assert res.tt.ranks == (2,) * 5
    ref = f(GRID).reshape(DIMS)
    assert np.linalg.norm(res.tt.full() - ref) <= 1e-12 * np.linalg.norm(ref)
    assert res.evaluations < GRID.shape[0] / 10


def test_cross_of_a_smooth_function_matches_dense_and_tt_svd_ranks():
    def f(idx):
        return 1.0 / (1.0 + (idx / 9.0).sum(axis=1))

    res = tt_cross(f, DIMS, tol=1e-8, seed=0)
    ref = f(GRID).reshape(DIMS)
    err = np.linalg.norm(res.tt.full() - ref) / np.linalg.norm(ref)
    assert err < 1e-7
    assert sample_error(res.tt, f, seed=3) < 1e-7
    # the ranks are those TT-SVD needs for the same accuracy, give or take a couple
    svd_ranks = TensorTrain.from_dense(ref, tol=1e-8).ranks
    assert max(res.tt.ranks) <= max(svd_ranks) + 3


def test_qtt_cross_of_an_oscillating_function_on_a_million_points():
    def f(x):
        return np.exp(-3 * x) * np.sin(40 * x) + 1.0 / (1.0 + 25 * x**2)

    res = qtt_cross(f, 0.0, 1.0, 20, tol=1e-10)
    x = quantics_grid(0.0, 1.0, 20)
    j = np.random.default_rng(4).integers(0, 2**20, 400)
    assert np.abs(qtt_values(res.tt, j) - f(x[j])).max() < 1e-8
    assert res.evaluations < 2**20 / 50
    # against TT-SVD of the full vector (C order: site 0 = most significant bit)
    full = qtt_from_vector(f(x), tol=1e-10)
    assert max(res.tt.ranks) <= max(full.ranks) + 3


def test_quantics_index_and_errors():
    bits = np.array([[1, 0, 1], [0, 1, 1]])
    assert quantics_index(bits).tolist() == [5, 3]
    v = np.arange(8.0)
    np.testing.assert_allclose(qtt_values(qtt_from_vector(v), [5, 3]), [5.0, 3.0], atol=1e-12)
    with pytest.raises(InputError, match="2\\^L"):
        qtt_from_vector(np.ones(6))
    with pytest.raises(InputError, match="one value per index"):
        tt_cross(lambda idx: np.ones(3), (3, 3), seed=0)
    rng = np.random.default_rng(0)
    with pytest.raises(ConvergenceError):
        tt_cross(lambda idx: rng.standard_normal(idx.shape[0]), (4, 4, 4), tol=1e-12, max_sweeps=2, seed=0)
