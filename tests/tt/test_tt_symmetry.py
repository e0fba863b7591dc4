"""Symmetry sectors and degenerate ground spaces (issue #10): sector ground states vs dense
diagonalization with an explicit projector built from Kronecker products, and vs free fermions."""
import warnings

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.errors import ConvergenceError, InputError
from physfact.tt import MPS
from physfact.tt.models import ground_state, heisenberg, tfim, tfim_energy_exact, tfim_entropies_exact
from physfact.tt.spin_chains import project_parity
from physfact.tt.symmetry import DegenerateGroundStateWarning, Sector, default_sector


def kron_parity(L):
    """P = X (x) X (x) ... (x) X from Kronecker products (independent of the index-reversal trick)."""
    X = sp.csr_matrix([[0.0, 1.0], [1.0, 0.0]])
    P = sp.identity(1, format="csr")
    for _ in range(L):
        P = sp.kron(P, X, format="csr")
    return P


def dense_sector_ground_state(chain, parity=None, sz=None):
    """E_0 and psi of ``chain`` restricted to the range of an explicit projector: (1 + s P)/2 with P from
    Kronecker products, or the diagonal projector onto sum_i Z_i / 2 = sz."""
    H = chain.to_sparse()
    N = chain.dim
    if parity is not None:  # (1 + s P) e_b / sqrt(2), b < N/2: P maps them onto the other half of the basis
        Q = ((sp.identity(N) + parity * kron_parity(chain.L)) / np.sqrt(2)).tocsc()[:, : N // 2]
        assert abs(kron_parity(chain.L) @ Q - parity * Q).max() < 1e-14
    else:
        Z = np.array([1.0, -1.0])
        Sz = sum(np.kron(np.kron(np.ones(2**k), Z), np.ones(2 ** (chain.L - k - 1))) for k in range(chain.L)) / 2
        Q = sp.identity(N, format="csc")[:, np.flatnonzero(np.abs(Sz - sz) < 1e-9)]
    assert abs(Q.T @ Q - sp.identity(Q.shape[1])).max() < 1e-14  # an orthonormal basis of the sector
    w, V = sla.eigh((Q.T @ H @ Q).toarray(), subset_by_index=[0, 1])
    return w[0], Q @ V[:, 0]


def half_chain_entropy(psi, L, ell):
    """von Neumann entropy (nats) of the first ``ell`` sites, from the SVD of the reshaped vector."""
    s = np.linalg.svd(psi.reshape(2**ell, 2 ** (L - ell)), compute_uv=False)
    p = s[s > 1e-15] ** 2
    return float(-np.sum(p * np.log(p)))


@pytest.mark.parametrize("L", [8, 9, 10, 12])
@pytest.mark.parametrize("g", [0.2, 0.5, 1.0, 2.0])
def test_parity_sector_matches_dense_projector_and_free_fermions(L, g):
    chain = tfim(L, g=g)
    E_ref, psi_ref = dense_sector_ground_state(chain, parity=+1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGroundStateWarning)
        gs = ground_state(chain, method="lanczos")  # default sector: even parity
    assert gs.sector == Sector("parity", 1.0, L) and not gs.degenerate
    assert gs.energy == pytest.approx(E_ref, abs=1e-10)
    assert gs.energy == pytest.approx(tfim_energy_exact(L, g=g), abs=1e-10)  # the even sector holds E_0
    S = gs.mps.entanglement_entropy()
    S_ff = tfim_entropies_exact(L, g=g)
    np.testing.assert_allclose(S, S_ff, atol=1e-8)
    ell = L // 2
    assert S[ell - 1] == pytest.approx(half_chain_entropy(psi_ref, L, ell), abs=1e-8)
    assert abs(np.vdot(psi_ref, gs.psi)) == pytest.approx(1.0, abs=1e-9)


def test_tfim_16_ordered_phase_is_the_cat_state():
    """The issue's case: without a sector Lanczos returned S(L/2) = 0.65 with a residual of 1e-11."""
    L, g = 16, 0.2
    gs = ground_state(tfim(L, g=g), method="lanczos")
    S_ff = tfim_entropies_exact(L, g=g)
    assert gs.energy == pytest.approx(tfim_energy_exact(L, g=g), abs=1e-10)
    np.testing.assert_allclose(gs.mps.entanglement_entropy(), S_ff, atol=1e-8)
    assert abs(S_ff[L // 2 - 1] - np.log(2)) < 2 * g**2  # ln 2 + O(g^2): the cat state
    assert gs.gap > 1.0  # within the even sector the next state is a pair of domain walls
    assert gs.state_error < 1e-10


def test_degenerate_ground_space_warns_without_a_sector():
    with pytest.warns(DegenerateGroundStateWarning, match="sector=") as record:
        gs = ground_state(tfim(16, g=0.2), method="lanczos", sector=None)
    assert gs.degenerate and gs.sector is None and gs.state_error > 1e-6
    assert gs.gap < 1e-9 and "parity" in str(record[0].message)
    # the pair splitting is real: it is the difference of the two sectors' ground-state energies
    odd = ground_state(tfim(16, g=0.2), method="lanczos", sector={"parity": -1})
    assert odd.energy - gs.energy == pytest.approx(gs.gap, abs=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGroundStateWarning)
        para = ground_state(tfim(16, g=2.0), method="lanczos", sector=None)
    assert not para.degenerate and para.gap > 1.0


@pytest.mark.parametrize("L", [4, 5, 6, 7])
@pytest.mark.parametrize("boundary", ["open", "periodic"])
@pytest.mark.parametrize("g, J", [(0.3, 1.0), (-0.4, 1.0), (0.7, -1.0), (-1.5, -0.5), (2.0, 0.0)])
def test_default_tfim_sector_holds_the_ground_state(L, boundary, g, J):
    chain = tfim(L, g=g, J=J, boundary=boundary)
    sec = default_sector(chain)
    E_full = np.linalg.eigvalsh(chain.to_sparse().toarray())[0]
    if sec is None:  # only the frustrated ring
        assert boundary == "periodic" and J < 0 and L % 2 == 1
        return
    E_sec, psi = dense_sector_ground_state(chain, parity=sec.value)
    assert E_sec == pytest.approx(E_full, abs=1e-10)
    assert ground_state(chain).energy == pytest.approx(E_full, abs=1e-10)


@pytest.mark.parametrize("L", [6, 7])
@pytest.mark.parametrize("J, delta", [(1.0, 1.0), (1.0, -0.5), (1.0, 2.5), (-1.0, 0.5), (-1.0, -1.0), (1.0, -1.5)])
def test_default_xxz_sector_holds_the_ground_state(L, J, delta):
    chain = heisenberg(L, J=J, delta=delta)
    sec = default_sector(chain)
    E_full = np.linalg.eigvalsh(chain.to_sparse().toarray())[0]
    if sec is None:  # ferromagnetic side: a degenerate multiplet, no preferred sector
        assert (delta if J > 0 else -delta) <= -1
        return
    E_sec, _ = dense_sector_ground_state(chain, sz=sec.value)
    assert E_sec == pytest.approx(E_full, abs=1e-10)


@pytest.mark.parametrize("L, sz", [(10, 0.0), (10, 1.0), (11, 0.5), (13, -1.5)])
def test_sz_sector_matches_dense_projector(L, sz):
    chain = heisenberg(L, delta=0.7)
    E_ref, psi_ref = dense_sector_ground_state(chain, sz=sz) if L <= 11 else (None, None)
    gs = ground_state(chain, sector={"sz": sz})
    Z = np.array([1.0, -1.0])
    Sz_diag = sum(np.kron(np.kron(np.ones(2**k), Z), np.ones(2 ** (L - k - 1))) for k in range(L)) / 2
    assert np.vdot(gs.psi, Sz_diag * gs.psi) == pytest.approx(sz, abs=1e-12)
    assert np.linalg.norm(chain.to_sparse() @ gs.psi - gs.energy * gs.psi) < 1e-8
    if E_ref is not None:
        assert gs.energy == pytest.approx(E_ref, abs=1e-10)
        assert abs(np.vdot(psi_ref, gs.psi)) == pytest.approx(1.0, abs=1e-8)


def test_odd_heisenberg_doublet_warns_in_the_full_space_not_in_its_sector():
    chain = heisenberg(9)
    with pytest.warns(DegenerateGroundStateWarning):
        full = ground_state(chain, sector=None)
    assert full.degenerate and full.gap < 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGroundStateWarning)
        gs = ground_state(chain)  # default: S^z = +1/2
    assert gs.sector.as_dict() == {"sz": 0.5} and gs.energy == pytest.approx(full.energy, abs=1e-10)


@pytest.mark.parametrize("sector", [Sector("parity", 1.0, 6), Sector("parity", -1.0, 5), Sector("sz", 1.0, 6),
                                    Sector("sz", -0.5, 5)])
def test_sector_embedding_is_an_isometry(sector):
    E = sector.isometry().toarray()
    np.testing.assert_allclose(E.T @ E, np.eye(sector.dim), atol=1e-14)
    u = np.random.default_rng(1).standard_normal(sector.dim)
    v = np.random.default_rng(2).standard_normal(2**sector.L)
    np.testing.assert_allclose(sector.embed(u), E @ u, atol=1e-14)
    np.testing.assert_allclose(sector.restrict(v), E.T @ v, atol=1e-14)
    if sector.name == "parity":
        np.testing.assert_allclose(kron_parity(sector.L) @ E, sector.value * E, atol=1e-14)


def test_dmrg_projected_onto_the_parity_sector():
    """Plain DMRG converges to a symmetry-broken state of the ordered phase (S ~ 0); the default
    sector projects it onto the even cat state."""
    L, g = 16, 0.2
    S_ff = tfim_entropies_exact(L, g=g)
    with pytest.warns(DegenerateGroundStateWarning):
        broken = ground_state(tfim(L, g=g), method="dmrg", max_bond=16, sector=None)
    gs = ground_state(tfim(L, g=g), method="dmrg", max_bond=16)
    assert gs.sector.as_dict() == {"parity": 1}
    assert gs.energy == pytest.approx(tfim_energy_exact(L, g=g), abs=1e-8)
    assert gs.residual < 1e-5 and broken.residual < 1e-5
    assert abs(broken.mps.entanglement_entropy()[L // 2 - 1] - S_ff[L // 2 - 1]) > 0.5  # documents the issue
    np.testing.assert_allclose(gs.mps.entanglement_entropy(), S_ff, atol=1e-6)


def test_project_parity_of_product_states():
    L = 6
    up = MPS.from_statevector(np.eye(2**L)[0], dims=2)  # all spins up: half in each sector
    cat = project_parity(up, +1)
    np.testing.assert_allclose(cat.entanglement_entropy(), np.log(2), atol=1e-12)
    expected = np.zeros(2**L)
    expected[[0, -1]] = 1 / np.sqrt(2)
    np.testing.assert_allclose(cat.to_statevector(), expected, atol=1e-13)
    plus = MPS.from_statevector(np.full(2**L, 2.0 ** (-L / 2)), dims=2)  # all X = +1: parity +1 only
    with pytest.raises(ConvergenceError, match="other"):
        project_parity(plus, -1)


@pytest.mark.parametrize("chain, sector, match", [
    (tfim(6), {"sz": 0}, "symmetries"),
    (tfim(6), {"parity": 2}, "parity is"),
    (heisenberg(6), {"sz": 0.5}, "S\\^z of 6 spins"),
    (heisenberg(6), {"sz": 4}, "S\\^z of 6 spins"),
    (heisenberg(6), {"sz": "up"}, "not a number"),
    (tfim(6), "even", "sector must be"),
    (tfim(6), {"parity": 1, "sz": 0}, "sector must be"),
])
def test_bad_sector_is_refused(chain, sector, match):
    with pytest.raises(InputError, match=match):
        ground_state(chain, sector=sector)


def test_dmrg_refuses_an_explicit_sz_sector():
    with pytest.raises(InputError, match="S\\^z"):
        ground_state(heisenberg(8), method="dmrg", sector={"sz": 0})


@pytest.mark.parametrize("chain", [tfim(7, g=0.7), tfim(6, g=-1.3, J=0.5, boundary="periodic")])
@pytest.mark.parametrize("parity", [1.0, -1.0])
def test_tfim_parity_matvec_is_the_projected_kronecker_matrix(chain, parity):
    E = Sector("parity", parity, chain.L).isometry()
    u = np.random.default_rng(3).standard_normal(chain.dim // 2)
    np.testing.assert_allclose(chain.parity_matvec(u, parity), E.T @ (chain.to_sparse() @ (E @ u)), atol=1e-12)


@pytest.mark.parametrize("L, g, J", [(6, 0.7, 1.0), (7, -0.7, 1.0), (6, -0.7, -1.0), (9, -1.5, 0.5), (8, 3.0, -2.0)])
def test_free_fermion_parity_agrees_with_the_default_sector(L, g, J):
    """<prod X> = Pf(Gamma) of the free-fermion ground state (Wick) is the parity default_sector picks."""
    from physfact.tt.free_fermions import _pfaffian_sign, tfim_correlation_matrix

    assert _pfaffian_sign(tfim_correlation_matrix(L, g, J)) == default_sector(tfim(L, g=g, J=J)).value


@pytest.mark.parametrize("L, g", [(14, 0.0), (13, -0.1), (14, 0.15)])
def test_free_fermion_zero_mode_gives_the_sector_ground_state(L, g):
    """Edge zero mode below machine resolution: the reference is still the symmetric ground state."""
    S = tfim_entropies_exact(L, g=g)
    np.testing.assert_allclose(ground_state(tfim(L, g=g)).mps.entanglement_entropy(), S, atol=1e-10)


def test_dmrg_L20_ordered_phase_matches_free_fermions():
    L, g = 20, 0.2  # gap ~ 1e-14: the free-fermion reference goes through its zero-mode branch
    gs = ground_state(tfim(L, g=g), method="dmrg", max_bond=16)
    np.testing.assert_allclose(gs.mps.entanglement_entropy(), tfim_entropies_exact(L, g=g), atol=1e-6)
    assert gs.energy == pytest.approx(tfim_energy_exact(L, g=g), abs=1e-8)


@pytest.mark.parametrize("parity", [1, -1])
def test_xxz_parity_sector_matches_dense_projector(parity):
    chain = heisenberg(10, delta=0.6, boundary="periodic")
    E_ref, psi_ref = dense_sector_ground_state(chain, parity=parity)
    gs = ground_state(chain, sector={"parity": parity})
    assert gs.energy == pytest.approx(E_ref, abs=1e-10)
    assert abs(np.vdot(psi_ref, gs.psi)) == pytest.approx(1.0, abs=1e-8)
    big = heisenberg(13, delta=0.6)  # L > 12: the matrix-free embed/restrict path
    gs13 = ground_state(big, sector={"parity": parity})
    assert np.vdot(gs13.psi, gs13.psi[::-1]) == pytest.approx(parity, abs=1e-12)
    assert np.linalg.norm(big.matvec(gs13.psi) - gs13.energy * gs13.psi) < 1e-8


def test_dmrg_without_a_sector_flags_the_broken_symmetry():
    with pytest.warns(DegenerateGroundStateWarning, match="mixes the two parity sectors") as record:
        broken = ground_state(tfim(16, g=0.2), method="dmrg", max_bond=16, sector=None)
    assert broken.degenerate and broken.state_error > 0.1
    assert record[0].filename == __file__  # points at the caller of ground_state
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateGroundStateWarning)
        para = ground_state(tfim(16, g=2.0), method="dmrg", max_bond=16, sector=None)
        xxx = ground_state(heisenberg(12), method="dmrg", max_bond=32)  # even L: a unique singlet
    assert not para.degenerate and para.state_error < 1e-6 and not xxx.degenerate
    with pytest.warns(DegenerateGroundStateWarning, match="parity"):
        ground_state(heisenberg(11), method="dmrg", max_bond=32)  # odd L: the S^z = +-1/2 doublet


def test_small_sectors_and_many_eigenpairs():
    top = ground_state(heisenberg(6), sector={"sz": 3})  # one state: all spins up, E = 5 J/4
    assert top.energy == pytest.approx(5 / 4, abs=1e-14) and np.isnan(top.gap) and not top.degenerate
    many = ground_state(heisenberg(6), sector={"sz": 2}, k=6)  # dimension 6: all of it, densely
    assert len(many.energies) == 6
    np.testing.assert_allclose(many.energies, dense_eigs_in_sz(heisenberg(6), 2), atol=1e-12)


def dense_eigs_in_sz(chain, sz):
    H = chain.to_sparse().toarray()
    Z = np.array([1.0, -1.0])
    Sz = sum(np.kron(np.kron(np.ones(2**k), Z), np.ones(2 ** (chain.L - k - 1))) for k in range(chain.L)) / 2
    keep = np.abs(Sz - sz) < 1e-9
    return np.linalg.eigvalsh(H[np.ix_(keep, keep)])
