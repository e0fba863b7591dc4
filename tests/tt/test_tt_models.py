"""Spin chains vs Kronecker-built matrices; ED vs the free-fermion solution; Calabrese-Cardy fit."""
import numpy as np
import pytest

from physfact.errors import InputError, ResourceError
from physfact.tt import MPS
from physfact.tt.models import (
    calabrese_cardy_fit,
    ground_state,
    heisenberg,
    tfim,
    tfim_energy_exact,
    tfim_entropies_exact,
)


@pytest.mark.parametrize("chain", [tfim(7, g=0.7), tfim(6, g=1.3, J=0.5, boundary="periodic"),
                                   heisenberg(7), heisenberg(6, delta=0.4, boundary="periodic")])
def test_matrix_free_operator_equals_kronecker_matrix(chain):
    v = np.random.default_rng(0).standard_normal(chain.dim)
    np.testing.assert_allclose(chain.matvec(v), chain.to_sparse() @ v, atol=1e-12)
    H = chain.to_sparse()
    assert abs(H - H.T).max() == 0


@pytest.mark.parametrize("L, g, boundary", [(12, 1.0, "open"), (13, 0.6, "open"), (12, 1.0, "periodic"),
                                            (10, 1.8, "periodic")])
def test_tfim_ed_energy_matches_free_fermions(L, g, boundary):
    gs = ground_state(tfim(L, g=g, boundary=boundary), tol=1e-13)
    assert gs.energy == pytest.approx(tfim_energy_exact(L, g=g, boundary=boundary), abs=1e-10)
    assert gs.residual < 1e-8


def test_tfim_analytic_limits():
    assert tfim_energy_exact(9, g=0.0) == pytest.approx(-8.0)  # classical Ising, 8 bonds
    assert tfim_energy_exact(9, g=2.0, J=0.0) == pytest.approx(-18.0)  # paramagnet
    # thermodynamic limit at criticality: e0 = -4/pi per site (periodic chain converges fast)
    assert tfim_energy_exact(400, g=1.0, boundary="periodic") / 400 == pytest.approx(-4 / np.pi, abs=1e-5)


@pytest.mark.parametrize("g", [1.0, 0.5])
def test_mps_entropies_of_ed_ground_state_match_free_fermions(g):
    L = 14
    gs = ground_state(tfim(L, g=g), tol=1e-14)
    m = MPS.from_statevector(gs.psi)
    np.testing.assert_allclose(m.entanglement_entropy(), tfim_entropies_exact(L, g=g), atol=1e-8)
    np.testing.assert_allclose(m.entanglement_entropy(alpha=2), tfim_entropies_exact(L, g=g, alpha=2), atol=1e-8)
    np.testing.assert_allclose(m.entanglement_entropy(base=2), tfim_entropies_exact(L, g=g, base=2), atol=1e-8)


def test_calabrese_cardy_c_one_half_at_L200_and_documented_window_at_L20():
    fit = calabrese_cardy_fit(tfim_entropies_exact(200))
    assert fit.c == pytest.approx(0.5, abs=0.02)
    assert fit.l[0] == 25 and fit.l[-1] == 175  # margin 1/8
    small = calabrese_cardy_fit(tfim_entropies_exact(20))
    assert 0.54 <= small.c <= 0.57  # finite-size value with the default window l = 3..17
    assert small.l[0] == 2 or small.l[0] == 3
    # off-critical: entropy saturates, the "central charge" is far from 1/2
    assert calabrese_cardy_fit(tfim_entropies_exact(200, g=2.0)).c < 0.1


def test_heisenberg_central_charge_from_even_blocks():
    L = 16  # c comes out ~1.07 here (log corrections of the Heisenberg point)
    gs = ground_state(heisenberg(L), tol=1e-12)
    # Bethe-ansatz-free check of the energy: compare with the dense Kronecker matrix on L = 10
    small = heisenberg(10)
    assert ground_state(small).energy == pytest.approx(np.linalg.eigvalsh(small.to_sparse().toarray())[0], abs=1e-10)
    S = MPS.from_statevector(gs.psi).entanglement_entropy()
    fit = calabrese_cardy_fit(S, even_only=True)
    assert np.all(fit.l % 2 == 0)
    assert fit.c == pytest.approx(1.0, abs=0.15)


def test_model_errors():
    with pytest.raises(InputError, match="boundary"):
        tfim(4, boundary="twisted")
    assert tfim(40).L == 40  # any L is a model (and has an MPO); only exact diagonalization is size-limited
    with pytest.raises(ResourceError, match="beyond any machine"):
        ground_state(tfim(41), method="lanczos")
    with pytest.raises(ResourceError, match="beyond any machine"):
        tfim(41).linear_operator()
    with pytest.raises(InputError, match="fewer than 3"):
        calabrese_cardy_fit(np.ones(4), even_only=True)
