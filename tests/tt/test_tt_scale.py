"""TT-SVD, TT rounding and MPS entropies do not depend on the overall scale of the input (#10 section 2).

Reference: the same tensor at scale 1; true errors measured after dividing by the scale.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physfact.tt import MPS, TensorTrain

exponents = st.integers(min_value=-200, max_value=200)
seeds = st.integers(min_value=0, max_value=2**16)
tols = st.sampled_from([1e-1, 3e-2, 1e-3, 1e-8])


def low_rank_tensor(seed, dims=(3, 4, 4, 3, 2), noise=1e-3):
    rng = np.random.default_rng(seed)
    x = np.zeros(dims)
    for _ in range(2):  # a sum of two rank-one terms plus noise
        term = np.ones(())
        for n in dims:
            term = np.multiply.outer(term, rng.standard_normal(n))
        x += term
    return x + noise * rng.standard_normal(dims)


@given(seeds, exponents, tols)
@settings(max_examples=30, deadline=None)
def test_from_dense_ranks_and_errors_scale(seed, k, tol):
    x, sc = low_rank_tensor(seed), 10.0**k
    ref = TensorTrain.from_dense(x, tol=tol)
    got = TensorTrain.from_dense(x * sc, tol=tol)
    assert got.ranks == ref.ranks
    assert got.error_bound / sc == pytest.approx(ref.error_bound, rel=1e-8, abs=1e-14)
    assert got.norm() / sc == pytest.approx(np.linalg.norm(ref.full()), rel=1e-12)
    true = np.linalg.norm(x - got.full() / sc)
    assert true == pytest.approx(got.error_bound / sc, rel=1e-6, abs=1e-13 * np.linalg.norm(x))


@given(seeds, exponents, tols)
@settings(max_examples=20, deadline=None)
def test_round_ranks_and_errors_scale(seed, k, tol):
    x, sc = low_rank_tensor(seed), 10.0**k
    ref = (TensorTrain.from_dense(x) + TensorTrain.from_dense(x)).round(tol=tol)
    big = TensorTrain.from_dense(x * sc)
    got = (big + big).round(tol=tol)
    assert got.ranks == ref.ranks
    assert got.error_bound / sc == pytest.approx(ref.error_bound, rel=1e-8, abs=1e-14)
    assert np.linalg.norm(2 * x - got.full() / sc) == pytest.approx(got.error_bound / sc, rel=1e-6, abs=1e-13 * np.linalg.norm(x))


@given(seeds, exponents)
@settings(max_examples=20, deadline=None)
def test_mps_entropies_and_ranks_scale(seed, k):
    psi = low_rank_tensor(seed, dims=(2,) * 8, noise=1e-2).ravel()
    sc = 10.0**k
    ref = MPS.from_statevector(psi, dims=2, tol=1e-2)
    got = MPS.from_statevector(psi * sc, dims=2, tol=1e-2)
    assert got.bond_dimensions == ref.bond_dimensions
    np.testing.assert_allclose(got.entanglement_entropy(), ref.entanglement_entropy(), atol=1e-12)
    np.testing.assert_allclose(got.entanglement_entropy(alpha=2), ref.entanglement_entropy(alpha=2), atol=1e-12)
    assert got.error_bound / sc == pytest.approx(ref.error_bound, rel=1e-8)


@pytest.mark.parametrize("k", [-300, -170, 170, 300])
def test_mps_extreme_scales(k):
    # the cases: at 1e-170 the state read as zero ("no Schmidt values"), at 1e+300 ranks came out wrong
    psi = low_rank_tensor(1, dims=(2,) * 8, noise=1e-2).ravel()
    ref = MPS.from_statevector(psi, dims=2, tol=1e-2)
    got = MPS.from_statevector(psi * 10.0**k, dims=2, tol=1e-2)
    assert got.bond_dimensions == ref.bond_dimensions
    np.testing.assert_allclose(got.entanglement_entropy(), ref.entanglement_entropy(), atol=1e-12)
    np.testing.assert_allclose(got.normalized().to_statevector(), ref.normalized().to_statevector(), atol=1e-12)


@pytest.mark.parametrize("k", [-200, -150, 150, 200])
def test_tt_cross_ranks_and_values_scale(k):
    from physfact.tt import tt_cross

    def hilbert(idx, sc=1.0):  # a smooth 3-way function of low TT rank
        return sc / (1.0 + idx.sum(axis=1))

    ref = tt_cross(hilbert, (12, 12, 12), tol=1e-8, seed=0)
    got = tt_cross(lambda idx: hilbert(idx, 10.0**k), (12, 12, 12), tol=1e-8, seed=0)
    assert got.tt.ranks == ref.tt.ranks
    np.testing.assert_allclose(got.tt.full() / 10.0**k, ref.tt.full(), rtol=1e-10, atol=1e-14)
