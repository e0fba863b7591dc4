"""Results must not depend on the overall scale of the input (issue #10 section 2).

For random inputs and scale factors 10^k, k in -200 .. 200, the chosen ranks are identical and the
reported errors scale exactly with the input. References: the same computation at scale 1, and the
true error measured after dividing by the scale (never squaring 1e-170 or 1e+300).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physfact.lowrank import Truncation, choose_rank, randomized_svd, scaled_norm, tail_norms, truncated_svd

exponents = st.integers(min_value=-200, max_value=200)
seeds = st.integers(min_value=0, max_value=2**16)
spectra = st.lists(st.floats(min_value=1e-8, max_value=1e3), min_size=1, max_size=30).map(
    lambda v: np.sort(np.asarray(v))[::-1])
fractions = st.floats(min_value=1e-6, max_value=0.99)


def rules(frac, sc, sigma=1.0):
    """The same rule in the units of the input scaled by sc (absolute quantities scale with it)."""
    return [Truncation(rtol=frac), Truncation(energy=1 - frac), Truncation(atol=frac * sc),
            Truncation(rtol=frac, rank=3), Truncation(criterion="aic"), Truncation(criterion="gap"),
            Truncation(criterion="aic", sigma=sigma * sc), Truncation(criterion="gap", sigma=sigma * sc)]


@given(spectra, fractions, exponents)
@settings(max_examples=60, deadline=None)
def test_choose_rank_is_scale_invariant(s, frac, k):
    sc = 10.0**k
    shape = (len(s) + 7, len(s) + 2)
    ref = [choose_rank(s, rule, shape=shape) for rule in rules(frac, 1.0)]
    got = [choose_rank(s * sc, rule, shape=shape) for rule in rules(frac, sc)]
    assert got == ref


@pytest.mark.parametrize("k", [-200, -170, -100, 0, 100, 200, 300])
def test_scaled_norm_and_tails_match_hypot(k):
    s = np.array([3.0, 2.0, 1.0, 0.5]) * 10.0**k
    assert scaled_norm(s) == pytest.approx(math.hypot(*s), rel=1e-15)
    for r in range(5):
        assert tail_norms(s)[r] == pytest.approx(math.hypot(*s[r:]), rel=1e-15)


def planted(seed, m=40, n=25, r=4, noise=1e-3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n)) + noise * rng.standard_normal((m, n))


@given(seeds, exponents, fractions)
@settings(max_examples=40, deadline=None)
def test_truncated_svd_ranks_and_errors_scale(seed, k, frac):
    A, sc = planted(seed), 10.0**k
    for rule1, rulek in zip(rules(frac, 1.0, 1e-3), rules(frac, sc, 1e-3)):
        ref, got = truncated_svd(A, rule1), truncated_svd(A * sc, rulek)
        assert got.rank == ref.rank
        assert got.discarded / sc == pytest.approx(ref.discarded, rel=1e-9, abs=1e-300)
        true = np.linalg.norm(A - got.to_dense() / sc)  # measured at scale 1: no under/overflow
        assert true == pytest.approx(got.discarded / sc, rel=1e-6, abs=1e-13 * np.linalg.norm(A))


@pytest.mark.parametrize("k", [-200, -170, -100, 100, 200, 300])
def test_truncated_svd_extreme_scales_have_honest_errors(k):
    # the case: at 1e-170 the squares underflow and error_bound read 0 with a true error of 0.8
    A = planted(3, noise=0.2)
    ref = truncated_svd(A, Truncation(criterion="gap"))
    got = truncated_svd(A * 10.0**k, Truncation(criterion="gap"))
    assert got.rank == ref.rank == 4
    assert got.discarded / 10.0**k == pytest.approx(ref.discarded, rel=1e-9)
    assert got.discarded > 0


@given(seeds, exponents)
@settings(max_examples=25, deadline=None)
def test_randomized_svd_scales(seed, k):
    A, sc = planted(seed), 10.0**k
    ref = randomized_svd(A, 4, seed=seed)
    got = randomized_svd(A * sc, 4, seed=seed)
    np.testing.assert_allclose(got.s / sc, ref.s, rtol=1e-9)
    assert got.discarded / sc == pytest.approx(ref.discarded, rel=1e-6)
    assert np.linalg.norm(A - got.to_dense() / sc) == pytest.approx(ref.discarded, rel=1e-6)


@pytest.mark.parametrize("k", [-200, -170, 170, 200])
def test_low_rank_operators_scale(k):
    from physfact.lowrank import LowRankMatrix, compress_factor, principal_angles

    rng = np.random.default_rng(k % 97)
    U, V = rng.standard_normal((30, 6)), rng.standard_normal((20, 6))
    V[:, 4:] = V[:, :2]  # rank 4 held in 6 columns
    sc = 10.0**k
    ref = LowRankMatrix(U, V).compress(1e-10)
    got = LowRankMatrix(U * sc, V).compress(1e-10)
    assert got.rank == ref.rank == 4
    np.testing.assert_allclose(got.to_dense() / sc, ref.to_dense(), rtol=1e-9, atol=1e-12)
    Z = rng.standard_normal((40, 3)) @ rng.standard_normal((3, 8))
    Zc_ref, s_ref = compress_factor(Z, 1e-12)
    Zc, s = compress_factor(Z * sc, 1e-12)
    assert Zc.shape == Zc_ref.shape == (40, 3)
    np.testing.assert_allclose(s / sc, s_ref, rtol=1e-10, atol=1e-13 * s_ref[0])
    np.testing.assert_allclose(principal_angles(U * sc, U[:, :3] * sc), principal_angles(U, U[:, :3]), atol=1e-12)
