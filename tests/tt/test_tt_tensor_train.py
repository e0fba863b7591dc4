"""TensorTrain algebra against dense arithmetic; rounding; canonical forms."""
import numpy as np
import pytest
from tt_helpers import random_mps_cores

from physfact.errors import InputError
from physfact.tt import TensorTrain


@pytest.fixture
def pair():
    a = TensorTrain(random_mps_cores(8, 5, d=3, seed=1))
    b = TensorTrain(random_mps_cores(8, 4, d=3, seed=2, complex_=True))
    return a, b


def test_arithmetic_matches_dense(pair):
    a, b = pair
    A, B = a.full(), b.full()
    np.testing.assert_allclose((a + b).full(), A + B, atol=1e-12)
    np.testing.assert_allclose((a - b).full(), A - B, atol=1e-12)
    np.testing.assert_allclose((2.5 * a).full(), 2.5 * A, atol=1e-12)
    np.testing.assert_allclose((a * (1 - 2j)).full(), (1 - 2j) * A, atol=1e-12)
    np.testing.assert_allclose((a / 4).full(), A / 4, atol=1e-12)
    np.testing.assert_allclose(a.hadamard(b).full(), A * B, atol=1e-12)
    assert (a + b).ranks == tuple(x + y for x, y in zip(a.ranks, b.ranks))
    assert a.hadamard(b).ranks == tuple(x * y for x, y in zip(a.ranks, b.ranks))
    assert a.dot(b) == pytest.approx(np.vdot(A, B), rel=1e-12)
    assert b.dot(a) == pytest.approx(np.vdot(B, A), rel=1e-12)
    assert a.norm() == pytest.approx(np.linalg.norm(A), rel=1e-12)
    assert b.norm() == pytest.approx(np.linalg.norm(B), rel=1e-12)
    idx = (0, 2, 1, 1, 0, 2, 2, 1)
    assert b.entry(idx) == pytest.approx(B[idx], rel=1e-12)


def test_round_recovers_ranks_of_a_sum_and_reports_its_error(pair):
    a, _ = pair
    s = a + a + a  # ranks tripled, the tensor is 3a
    r = s.round(tol=1e-12)
    assert r.ranks == a.ranks
    np.testing.assert_allclose(r.full(), 3 * a.full(), atol=1e-11 * np.abs(a.full()).max())
    for tol in (1e-1, 1e-2, 1e-4):
        rr = a.round(tol=tol)
        true = np.linalg.norm(rr.full() - a.full())
        assert true <= tol * a.norm() * (1 + 1e-10)
        assert rr.error_bound == pytest.approx(true, rel=0.03)
    # difference of equal trains rounds to (numerically) zero
    assert (a - a).round(tol=1e-8).norm() <= 1e-12 * a.norm()


@pytest.mark.parametrize("center", [0, 3, 7])
def test_canonical_forms(pair, center):
    a, b = pair
    for t in (a, b):
        c = t.canonicalize(center)
        assert c.center == center
        np.testing.assert_allclose(c.full(), t.full(), atol=1e-12 * np.abs(t.full()).max())
        for k, g in enumerate(c.cores):
            r, n, s = g.shape
            if k < center:
                M = g.reshape(r * n, s)
                np.testing.assert_allclose(M.conj().T @ M, np.eye(s), atol=1e-12)
            elif k > center:
                M = g.reshape(r, n * s)
                np.testing.assert_allclose(M @ M.conj().T, np.eye(r), atol=1e-12)
        assert c.norm() == pytest.approx(np.linalg.norm(t.full()), rel=1e-12)
    assert a.left_canonical().center == 7 and a.right_canonical().center == 0


def test_immutability_and_errors(pair):
    a, b = pair
    with pytest.raises(AttributeError):
        a.center = 3
    with pytest.raises(ValueError):
        a.cores[0][0, 0, 0] = 1.0
    with pytest.raises(InputError, match="mode sizes"):
        a + TensorTrain(random_mps_cores(7, 2, d=3))
    with pytest.raises(InputError, match="hadamard"):
        a * b
    with pytest.raises(InputError, match="left rank"):
        TensorTrain([np.ones((1, 2, 3)), np.ones((2, 2, 1))])
    with pytest.raises(InputError, match="boundary ranks"):
        TensorTrain([np.ones((2, 2, 1))])
    assert "TensorTrain(d=8" in repr(a)


def test_truncation_record_survives_canonicalization_and_scaling():
    x = TensorTrain(random_mps_cores(10, 6, seed=3)).full()
    t = TensorTrain.from_dense(x, tol=1e-2)
    true = np.linalg.norm(t.full() - x)
    for c in (t.canonicalize(0), t.canonicalize(5), t.right_canonical()):
        assert c.error_bound == pytest.approx(true, rel=0.03)
        assert np.linalg.norm(c.full() - x) == pytest.approx(true, rel=1e-6)
    assert (3 * t).error_bound == pytest.approx(3 * t.error_bound)
    assert (t + t).error_bound == 0.0
