"""Two-site DMRG against exact references: free fermions (TFIM), ED (XXX), dense matrices."""
import numpy as np
import pytest

from physfact.errors import ConvergenceError, InputError, ResourceError
from physfact.tt import MPO, MPS, dmrg
from physfact.tt.models import (
    calabrese_cardy_fit,
    ground_state,
    heisenberg,
    tfim,
    tfim_energy_exact,
    tfim_entropies_exact,
)


@pytest.mark.parametrize("g", [1.0, 1.5])
def test_tfim_energy_and_entropies_vs_free_fermions(g):
    L = 60
    res = dmrg(tfim(L, g=g).to_mpo(), max_bond=64)
    assert abs(res.energy - tfim_energy_exact(L, g=g)) < 1e-9
    S = res.mps.entanglement_entropy()
    assert np.max(np.abs(S - tfim_entropies_exact(L, g=g))) < 1e-6
    assert res.mps.norm() == pytest.approx(1.0, abs=1e-12)
    assert res.discarded[-1] <= 1e-14 * (1 + 1e-9)  # not capped: the cutoff decided every bond
    assert abs(res.variance) < 1e-8  # <H^2> - <H>^2 of an (almost) eigenstate, up to roundoff ~ eps E^2


def test_xxx_against_exact_diagonalization():
    L = 16
    ed = ground_state(heisenberg(L), tol=1e-14, method="lanczos")
    res = dmrg(heisenberg(L).to_mpo(), max_bond=128, tol=1e-13)
    assert abs(res.energy - ed.energy) < 1e-10
    # the state itself: overlap with the ED vector and the same entanglement
    assert abs(ed.psi @ res.mps.to_vector()) == pytest.approx(1.0, abs=1e-9)
    assert np.max(np.abs(res.mps.entanglement_entropy() - ed.mps.entanglement_entropy())) < 1e-6


def test_complex_hermitian_mpo_against_dense():
    rng = np.random.default_rng(4)
    L = 8
    herm = []
    for _ in range(3):
        A = rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2))
        herm.append(A + A.conj().T)
    terms = [(1.0, [(i, herm[0]), (i + 1, herm[1])]) for i in range(L - 1)]
    terms += [(0.5, [(i, herm[2])]) for i in range(L)] + [(0.3, [(0, herm[1]), (L - 1, herm[1])])]
    mpo = MPO.from_terms(L, 2, terms)
    e0 = np.linalg.eigvalsh(mpo.to_sparse().toarray())[0]
    res = dmrg(mpo, max_bond=16, tol=1e-13)
    assert np.iscomplexobj(res.mps.cores[0])
    assert res.energy == pytest.approx(e0, abs=1e-10)


@pytest.mark.parametrize("scale", [1e-8, 1e8])
def test_result_does_not_depend_on_the_scale_of_the_hamiltonian(scale):
    mpo = tfim(24, g=0.9).to_mpo()
    scaled = MPO([mpo.cores[0] * scale] + list(mpo.cores[1:]))
    ref = tfim_energy_exact(24, g=0.9)
    res = dmrg(scaled, max_bond=32)
    assert res.energy / scale == pytest.approx(ref, abs=1e-9 * abs(ref))
    assert np.max(np.abs(res.mps.entanglement_entropy() - tfim_entropies_exact(24, g=0.9))) < 1e-6
    assert abs(res.variance) < 1e-8 * scale**2


def test_seeded_random_start_is_deterministic():
    mpo = heisenberg(14, delta=0.5).to_mpo()
    a = dmrg(mpo, max_bond=24, seed=7)
    b = dmrg(mpo, max_bond=24, seed=7)
    assert np.array_equal(a.energies, b.energies)
    assert all(np.array_equal(x, y) for x, y in zip(a.mps.cores, b.mps.cores))
    c = dmrg(mpo, max_bond=24, seed=8)
    assert not np.array_equal(c.energies, a.energies)
    assert c.energy == pytest.approx(a.energy, abs=1e-8)  # another start, the same ground state


def test_warm_start_noise_and_schedule():
    chain = tfim(30, g=1.2)
    mpo = chain.to_mpo()
    ref = tfim_energy_exact(30, g=1.2)
    cold = dmrg(mpo, max_bond=32)
    warm = dmrg(mpo, max_bond=32, init=cold.mps)
    assert abs(warm.energy - ref) < 1e-9
    assert warm.sweeps <= 3 and warm.matvecs < cold.matvecs / 2  # a converged start only needs checking
    noisy = dmrg(mpo, max_bond=32, noise=1e-3, schedule=(8, 16, 32))
    assert abs(noisy.energy - ref) < 1e-9 and noisy.sweeps >= 3


def test_bond_cap_is_respected_and_reported():
    res = dmrg(heisenberg(24).to_mpo(), max_bond=8)
    assert max(res.mps.bond_dimensions) == 8
    assert res.discarded[-1] > 1e-7  # a chi-limited state says what it dropped
    assert res.discarded_per_bond.shape == (23,)
    assert res.energy > ground_state(heisenberg(24), method="dmrg", max_bond=32).energy + 1e-6


def test_shortest_chains_and_an_oversized_cap():
    for chain in (tfim(2, g=0.3), heisenberg(3, delta=0.2)):
        res = dmrg(chain.to_mpo(), max_bond=10**6)  # no bond of 3 sites exceeds 2: nothing to refuse
        assert res.energy == pytest.approx(np.linalg.eigvalsh(chain.to_sparse().toarray())[0], abs=1e-12)
    with pytest.raises(ResourceError, match="max_bond"):
        dmrg(tfim(100).to_mpo(), max_bond=10**6)


def test_non_convergence_stops_with_convergence_error():
    with pytest.raises(ConvergenceError, match="did not converge"):
        dmrg(tfim(20).to_mpo(), max_bond=16, sweeps=1)


def test_dmrg_input_errors():
    mpo = tfim(6).to_mpo()
    with pytest.raises(InputError, match="MPO"):
        dmrg(np.eye(4))
    with pytest.raises(InputError, match="schedule"):
        dmrg(mpo, max_bond=8, schedule=(4, 16))
    with pytest.raises(InputError, match="cutoff"):
        dmrg(mpo, cutoff=2.0)
    with pytest.raises(InputError, match="init"):
        dmrg(mpo, init=MPS.from_statevector(np.ones(8), dims=2))
    Sp = np.array([[0.0, 1.0], [0.0, 0.0]])
    with pytest.raises(InputError, match="Hermitian"):
        dmrg(MPO.from_terms(6, 2, [(1.0, [(i, Sp), (i + 1, Sp.T)]) for i in range(5)]))
    with pytest.raises(InputError, match="DMRG only"):
        ground_state(tfim(8), method="lanczos", max_bond=8)


def test_ground_state_auto_picks_dmrg_above_ed_size():
    gs = ground_state(tfim(24, g=1.0))
    assert gs.method == "dmrg" and gs.psi is None
    assert gs.energy == pytest.approx(tfim_energy_exact(24), abs=1e-9)
    small = ground_state(tfim(10))
    assert small.method == "lanczos" and small.mps.n_sites == 10


@pytest.mark.slow
def test_tfim_L100_energy():
    for g in (1.0, 1.5):
        res = dmrg(tfim(100, g=g).to_mpo(), max_bond=64)
        assert abs(res.energy - tfim_energy_exact(100, g=g)) < 1e-9


@pytest.mark.slow
def test_xxx_L100_chi64_reaches_the_chi_limited_value():
    # quimb DMRG2 at chi = 64: -44.1277392; the exact ground state is ~ -44.1277399 (below any MPS)
    res = dmrg(heisenberg(100).to_mpo(), max_bond=64)
    assert -44.12774 < res.energy < -44.1277392 + 1e-8


@pytest.mark.slow
def test_calabrese_cardy_of_dmrg_state_at_L200():
    res = dmrg(tfim(200, g=1.0).to_mpo(), max_bond=64)
    fit = calabrese_cardy_fit(res.mps.entanglement_entropy())
    assert fit.c == pytest.approx(0.5, abs=0.02)


def test_dmrg_progress_bar_counts_half_sweeps():
    from physfact.tt import dmrg
    from physfact.tt.models import tfim
    from tests.progress_bar import recorder

    bars = []
    mpo = tfim(10, g=1.0).to_mpo()
    res = dmrg(mpo, max_bond=16, progress=recorder(bars))
    ref = dmrg(mpo, max_bond=16)
    (bar,) = bars
    assert bar.closed and bar.desc == "DMRG half-sweeps" and bar.n == len(res.energies) == len(ref.energies)
    assert bar.postfix[-1].startswith(f"E={res.energies[-1]:.10f}")
    assert res.energy == ref.energy  # the bar changes nothing
