"""Renyi entropies near alpha = 1 (no cancellation) and alpha validation (issue #10 section 2)."""
import math

import numpy as np
import pytest

from physfact.errors import InputError
from physfact.tt import MPS, entropy_from_probabilities
from physfact.tt.models import tfim_entropies_exact


def von_neumann(p):
    """-sum p ln p with math.fsum, an independent reference."""
    p = np.asarray(p, dtype=float) / math.fsum(p)
    return -math.fsum(float(x) * math.log(x) for x in p if x > 0)


@pytest.mark.parametrize("eps", [1e-15, 1e-12, -1e-12, 1e-9, -1e-6])
def test_renyi_near_one_tends_to_von_neumann(eps):
    p = np.random.default_rng(0).random(200) ** 4
    S1 = von_neumann(p)
    # S_alpha - S_1 = -(eps/2) Var(ln p) + O(eps^2): bounded by |eps| * Var(ln p)
    q = p / p.sum()
    var = float(np.sum(q * np.log(q) ** 2) - np.sum(q * np.log(q)) ** 2)
    got = entropy_from_probabilities(p, alpha=1 + eps)
    assert abs(got - S1) <= abs(eps) * var + 1e-13
    assert got - S1 == pytest.approx(-eps / 2 * var, rel=1e-3, abs=2e-14)


def test_renyi_continuous_across_the_switch_and_matches_direct_formula():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    for a in (0.3, 0.5, 0.5000001, 1.4999999, 1.5, 2.0, 3.0):
        direct = math.log(math.fsum(x**a for x in p)) / (1 - a)
        assert entropy_from_probabilities(p, alpha=a) == pytest.approx(direct, rel=1e-12)


def test_mps_and_free_fermion_entropies_near_one():
    psi = np.random.default_rng(1).standard_normal(2**8)
    mps = MPS.from_statevector(psi, dims=2)
    np.testing.assert_allclose(mps.entanglement_entropy(alpha=1 + 1e-12), mps.entanglement_entropy(), atol=1e-11)
    np.testing.assert_allclose(tfim_entropies_exact(16, alpha=1 + 1e-12), tfim_entropies_exact(16), atol=1e-11)


@pytest.mark.parametrize("alpha", [-1, float("nan"), "two", None, -np.inf])
def test_bad_alpha_refused_everywhere(alpha):
    mps = MPS.from_statevector(np.random.default_rng(2).standard_normal(16), dims=2)
    with pytest.raises(InputError, match="alpha"):
        entropy_from_probabilities([0.5, 0.5], alpha=alpha)
    with pytest.raises(InputError, match="alpha"):
        mps.entanglement_entropy(alpha=alpha)
    with pytest.raises(InputError, match="alpha"):
        mps.entanglement_entropy(bond=1, alpha=alpha)
    with pytest.raises(InputError, match="alpha"):
        tfim_entropies_exact(6, alpha=alpha)
