"""MPS: Schmidt values, entropies, rank profile, canonical forms, local expectation values."""
import numpy as np
import pytest
from tt_helpers import random_mps_cores, unfolding_singular_values

from physfact.errors import InputError
from physfact.tt import MPS, TensorTrain, entropy_from_probabilities


def _dense_entropies(psi, dims):
    out = []
    for s in unfolding_singular_values(psi.reshape(dims), dims):
        p = s**2 / np.sum(s**2)
        p = p[p > 0]
        out.append(-np.sum(p * np.log(p)))
    return np.array(out)


def test_entropies_agree_with_svd_of_every_unfolding():
    rng = np.random.default_rng(0)
    dims = (2,) * 14
    psi = rng.standard_normal(2**14) + 1j * rng.standard_normal(2**14)
    m = MPS.from_statevector(psi, dims=2)
    np.testing.assert_allclose(m.entanglement_entropy(), _dense_entropies(psi, dims), atol=1e-12)
    # an MPS built from cores (not from a sweep): Schmidt values from the two QR sweeps
    cores = random_mps_cores(10, 6, d=3, seed=3, complex_=True)
    mc = MPS(cores)
    psi = mc.to_vector()
    np.testing.assert_allclose(mc.entanglement_entropy(), _dense_entropies(psi, (3,) * 10), atol=1e-12)
    for center in (0, 5, 9):
        np.testing.assert_allclose(mc.canonicalize(center).entanglement_entropy(),
                                   _dense_entropies(psi, (3,) * 10), atol=1e-12)


def test_schmidt_values_are_normalized_and_renyi_and_bits():
    m = MPS(random_mps_cores(10, 4, seed=1))
    psi = m.to_vector()
    for k in range(9):
        lam = m.schmidt_values(k)
        assert np.sum(lam**2) == pytest.approx(1.0, abs=1e-13)
        s = np.linalg.svd(psi.reshape(2 ** (k + 1), -1), compute_uv=False)
        p = (s / np.linalg.norm(s)) ** 2
        assert m.entanglement_entropy(bond=k, alpha=2) == pytest.approx(-np.log(np.sum(p**2)), abs=1e-12)
        assert m.entanglement_entropy(bond=k, alpha=np.inf) == pytest.approx(-np.log(p[0]), abs=1e-12)
        assert m.entanglement_entropy(bond=k, base=2) == pytest.approx(
            m.entanglement_entropy(bond=k) / np.log(2), abs=1e-13)
    with pytest.raises(InputError, match="bond 9 does not exist"):
        m.schmidt_values(9)


def test_entropy_handles_zero_probabilities_and_validates():
    assert entropy_from_probabilities([0.5, 0.5, 0.0]) == pytest.approx(np.log(2))
    assert entropy_from_probabilities([1.0, 0.0]) == 0.0
    assert entropy_from_probabilities([1, 1, 1, 1], base=2) == pytest.approx(2.0)
    assert entropy_from_probabilities([0.25, 0.75], alpha=0) == pytest.approx(np.log(2))
    with pytest.raises(InputError):
        entropy_from_probabilities([0.5, -0.1])
    with pytest.raises(InputError):
        entropy_from_probabilities([0.5, 0.5], base=1)


def test_product_state_has_zero_entropy_and_bond_one():
    v = np.array([0.6, 0.8])
    psi = v
    for _ in range(9):
        psi = np.kron(psi, v)
    m = MPS.from_statevector(psi)
    assert m.bond_dimensions == (1,) * 9
    np.testing.assert_allclose(m.entanglement_entropy(), 0.0, atol=1e-14)


def test_rank_profile_from_one_sweep_matches_separate_truncations():
    cores = random_mps_cores(12, 8, seed=5)
    psi = MPS(cores).to_vector()
    m = MPS.from_statevector(psi, tol=0.0)
    tols = [1e-1, 1e-3, 1e-6, 1e-12]
    prof = m.rank_profile(tols)
    assert prof.shape == (4, 11)
    assert tuple(prof[-1]) == MPS.from_statevector(psi, tol=1e-12).bond_dimensions == (2, 4, 8, 8, 8, 8, 8, 8, 8, 4, 2)
    assert np.all(np.diff(prof, axis=0) >= 0)  # tighter tolerance, never fewer
    for t, row in zip(tols, prof):
        # an independent check: the per-bond rule on a dense SVD of each unfolding
        nrm = np.linalg.norm(psi)
        for k, s in enumerate(unfolding_singular_values(psi.reshape((2,) * 12), (2,) * 12)):
            tail = np.sqrt(np.cumsum((s**2)[::-1])[::-1])
            want = int(np.argmax(np.append(tail, 0) <= t * nrm / np.sqrt(11) * (1 + 1e-12)))
            assert row[k] == max(want, 1)


def test_truncated_mps_schmidt_values_are_those_of_the_represented_state():
    psi = np.random.default_rng(7).standard_normal(2**12)
    m = MPS.from_statevector(psi, tol=0.2)
    rep = m.to_vector()
    np.testing.assert_allclose(m.entanglement_entropy(), _dense_entropies(rep, (2,) * 12), atol=1e-12)
    assert np.linalg.norm(rep - psi) <= 0.2 * np.linalg.norm(psi)
    assert m.error_bound == pytest.approx(np.linalg.norm(rep - psi), rel=1e-6)


def test_local_expectations_match_dense():
    rng = np.random.default_rng(11)
    psi = rng.standard_normal(2**10) + 1j * rng.standard_normal(2**10)
    m = MPS.from_statevector(3 * psi)
    X = np.array([[0, 1], [1, 0]])
    Y = np.array([[0, -1j], [1j, 0]])
    phi = psi.reshape((2,) * 10) / np.linalg.norm(psi)
    for op in (X, Y):
        ref = [np.vdot(phi, np.moveaxis(np.tensordot(op, phi, axes=(1, k)), 0, k)).real for k in range(10)]
        np.testing.assert_allclose(m.local_expectations(op), ref, atol=1e-12)
        assert m.expectation(op, 4) == pytest.approx(ref[4], abs=1e-12)


def test_little_endian_order():
    """order='F': site 0 is the least significant bit (Qiskit convention)."""
    psi = np.zeros(8)
    psi[1] = 1.0  # |001> in big-endian = qubit 0 set in little-endian
    Z = np.diag([1.0, -1.0])
    assert MPS.from_statevector(psi, order="F").local_expectations(Z).tolist() == [-1.0, 1.0, 1.0]
    assert MPS.from_statevector(psi, order="C").local_expectations(Z).tolist() == [1.0, 1.0, -1.0]
    np.testing.assert_array_equal(MPS.from_statevector(psi, order="F").to_statevector(), psi)


def test_mps_errors():
    with pytest.raises(InputError, match="power of the local dimension"):
        MPS.from_statevector(np.ones(6), dims=2)
    with pytest.raises(InputError, match="flat state vector"):
        MPS.from_statevector(np.ones((2, 2)))
    with pytest.raises(InputError, match="not built by a sweep"):
        MPS(random_mps_cores(4, 2)).rank_profile([1e-3])
    m = MPS.from_tensor_train(TensorTrain(random_mps_cores(4, 2)))
    assert isinstance(m + m, MPS)


def test_round_and_canonicalize_keep_exact_schmidt_values():
    m = MPS(random_mps_cores(10, 5, seed=12))
    dense = _dense_entropies(m.to_vector(), (2,) * 10)
    doubled = (m + m).round(tol=1e-13)
    assert isinstance(doubled, MPS) and doubled.bond_dimensions == m.bond_dimensions
    np.testing.assert_allclose(doubled.entanglement_entropy(), dense, atol=1e-12)
    c = m.canonicalize(4)
    np.testing.assert_allclose(c.entanglement_entropy(), dense, atol=1e-12)
    np.testing.assert_allclose(c.canonicalize(7).entanglement_entropy(), dense, atol=1e-12)
