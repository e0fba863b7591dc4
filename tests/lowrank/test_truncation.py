"""The shared truncation rule: semantics of each criterion, against direct definitions."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physfact.errors import InputError
from physfact.lowrank import Truncation, choose_rank, estimate_noise_sigma, marchenko_pastur_median

spectra = st.lists(st.floats(min_value=0.0, max_value=1e3, allow_nan=False), min_size=1, max_size=40).map(
    lambda v: np.sort(np.asarray(v))[::-1])
fractions = st.floats(min_value=1e-6, max_value=1.0)


def tail(s, r):
    """||s[r:]||_2 by Python's multi-argument hypot (scaled: no underflow at 1e-195)."""
    return math.hypot(*s[r:])


def brute_atol(s, atol):
    """Smallest r with sqrt(sum_{i>r} s_i^2) <= atol, by direct search."""
    for r in range(len(s) + 1):
        if tail(s, r) <= atol:
            return r


@given(spectra, fractions)
@settings(max_examples=200, deadline=None)
def test_atol_matches_definition(s, frac):
    atol = frac * max(tail(s, 0), 1e-300)
    r = choose_rank(s, Truncation(atol=atol))
    assert tail(s, r) <= atol * (1 + 1e-12)
    assert r == 0 or tail(s, r - 1) > atol * (1 - 1e-12)
    assert abs(r - brute_atol(s, atol * (1 + 1e-13))) <= 1 if r else True


@given(spectra, fractions, fractions)
@settings(max_examples=200, deadline=None)
def test_rtol_is_monotone_and_meets_tolerance(s, t1, t2):
    lo, hi = sorted((t1, t2))
    r_lo, r_hi = choose_rank(s, Truncation(rtol=lo)), choose_rank(s, Truncation(rtol=hi))
    assert r_lo >= r_hi  # a tighter tolerance never keeps fewer values
    assert tail(s, r_lo) <= lo * tail(s, 0) * (1 + 1e-12)


@given(spectra, fractions)
@settings(max_examples=200, deadline=None)
def test_energy_semantics(s, e):
    r = choose_rank(s, Truncation(energy=e))
    s = s / max(s.max(), 1e-300)  # energies are fractions: compare in units of the largest value
    total = np.sum(s**2)
    assert np.sum(s[:r] ** 2) >= e * total * (1 - 1e-12)
    assert r == 0 or np.sum(s[: r - 1] ** 2) < e * total * (1 + 1e-12)


@given(spectra, st.integers(min_value=0, max_value=50), fractions)
@settings(max_examples=200, deadline=None)
def test_rank_caps_every_rule(s, cap, frac):
    assert choose_rank(s, Truncation(rank=cap, rtol=frac)) <= cap
    assert choose_rank(s, Truncation(rank=cap)) == min(cap, len(s))


@given(spectra, fractions, fractions)
@settings(max_examples=100, deadline=None)
def test_several_rules_take_the_largest(s, a, b):
    both = choose_rank(s, Truncation(rtol=a, energy=b))
    assert both == max(choose_rank(s, Truncation(rtol=a)), choose_rank(s, Truncation(energy=b)))


def test_no_rule_keeps_nonzero_values():
    assert choose_rank([3.0, 2.0, 0.0, 0.0]) == 2


def planted(m, n, r, noise, seed, scale=3.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((m, r)) @ rng.standard_normal((r, n)) + noise * rng.standard_normal((m, n))


@pytest.mark.parametrize("seed", range(8))
def test_aic_recovers_planted_rank_rectangular(seed):
    Y = planted(400, 80, 6, 1.0, seed)
    s = np.linalg.svd(Y, compute_uv=False)
    assert choose_rank(s, Truncation(criterion="aic"), shape=Y.shape) == 6
    # with the true noise level given
    assert choose_rank(s, Truncation(criterion="aic", sigma=1.0), shape=Y.shape) == 6


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("shape", [(200, 200), (300, 60), (60, 300)])
def test_gap_recovers_planted_rank(seed, shape):
    Y = planted(*shape, 4, 0.5, seed)
    s = np.linalg.svd(Y, compute_uv=False)
    assert choose_rank(s, Truncation(criterion="gap"), shape=Y.shape) == 4


@pytest.mark.parametrize("beta", [0.1, 0.5, 1.0])
def test_marchenko_pastur_median_against_sampling(beta):
    # Empirical median of eigenvalues of (1/n) Z Z^T, Z m x n Gaussian, m = beta n.
    n = 1000
    m = int(beta * n)
    rng = np.random.default_rng(1)
    ev = np.linalg.svd(rng.standard_normal((m, n)), compute_uv=False) ** 2 / n
    assert marchenko_pastur_median(beta) == pytest.approx(np.median(ev), rel=0.03)


def test_noise_estimate_on_pure_noise():
    rng = np.random.default_rng(5)
    Y = 0.3 * rng.standard_normal((500, 120))
    s = np.linalg.svd(Y, compute_uv=False)
    assert estimate_noise_sigma(s, Y.shape) == pytest.approx(0.3, rel=0.02)


@pytest.mark.parametrize("kwargs", [dict(rtol=-1e-3), dict(atol=float("nan")), dict(energy=1.5),
                                    dict(rank=-1), dict(rank=2.5), dict(criterion="bic"), dict(sigma=0.0)])
def test_bad_rules_raise_input_error(kwargs):
    with pytest.raises(InputError):
        Truncation(**kwargs)


@pytest.mark.parametrize("s", [[1.0, np.nan], [1.0, -2.0], [[1.0, 2.0]], [1.0, 2.0, 3.0]])
def test_bad_spectra_raise_input_error(s):
    with pytest.raises(InputError):
        choose_rank(s, Truncation(rtol=0.1))


def test_empty_spectrum_gives_zero():
    assert choose_rank([], Truncation(rtol=0.1)) == 0
