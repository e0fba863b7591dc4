"""TT-SVD: exact ranks, the global error guarantee, the returned error, orders, memory."""
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tt_helpers import random_mps_cores, unfolding_singular_values

from physfact.errors import InputError
from physfact.tt import MPS, TensorTrain, tsqr_r


def test_random_mps_chi16_L20_recovered_with_exact_ranks():
    cores = random_mps_cores(20, 16, seed=1)
    exact = TensorTrain(cores)
    x = exact.full()  # 2^20 entries
    tt = TensorTrain.from_dense(x, tol=1e-12)
    assert tt.ranks == exact.ranks
    assert max(tt.ranks) == 16
    err = np.linalg.norm(tt.full() - x) / np.linalg.norm(x)
    assert err < 1e-12
    assert tt.center == 19


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12])
def test_global_error_guarantee_and_returned_error_is_the_true_error(tol):
    # a tensor with slowly decaying unfolding spectra: smooth function plus a little noise
    rng = np.random.default_rng(3)
    dims = (4, 5, 6, 5, 4, 3)
    grids = np.meshgrid(*[np.linspace(0, 1, n) for n in dims], indexing="ij")
    x = 1.0 / (1.0 + sum((k + 1) * g for k, g in enumerate(grids))) + 1e-9 * rng.standard_normal(dims)
    nrm = np.linalg.norm(x)
    tt = TensorTrain.from_dense(x, tol=tol)
    true = np.linalg.norm(tt.full() - x)
    assert true <= tol * nrm * (1 + 1e-8)
    if true > 1e-13 * nrm:
        assert tt.error_bound == pytest.approx(true, rel=0.03)
    # the per-bond budget: each discarded weight <= tol ||A|| / sqrt(d - 1)
    assert np.all(tt.discarded <= tol * nrm / np.sqrt(len(dims) - 1) * (1 + 1e-12))


def test_ghz_rank_two_and_ln2_on_every_bond():
    L = 16
    psi = np.zeros(2**L)
    psi[0] = psi[-1] = 1 / np.sqrt(2)
    m = MPS.from_statevector(psi)
    assert m.bond_dimensions == (2,) * (L - 1)
    np.testing.assert_allclose(m.entanglement_entropy(), np.log(2), atol=1e-13)
    np.testing.assert_allclose(m.entanglement_entropy(base=2), 1.0, atol=1e-13)


def test_bond_singular_values_match_svd_of_every_unfolding():
    rng = np.random.default_rng(5)
    dims = (3, 4, 2, 5, 3, 2)
    x = rng.standard_normal(dims) + 1j * rng.standard_normal(dims)
    tt = TensorTrain.from_dense(x, tol=0.0)
    ref = unfolding_singular_values(x, dims)
    for k, (s, r) in enumerate(zip(tt.singular_values, ref)):
        n = min(s.size, r.size)
        np.testing.assert_allclose(s[:n], r[:n], atol=1e-12 * r[0], err_msg=f"bond {k}")
    np.testing.assert_allclose(tt.full(), x, atol=1e-12 * np.abs(x).max())


def test_c_and_f_order_of_a_flat_vector():
    """C: site 0 most significant (psi.reshape(dims)); F: site 0 least significant."""
    rng = np.random.default_rng(2)
    dims = (2, 3, 4, 2)
    v = rng.standard_normal(int(np.prod(dims)))
    tc = TensorTrain.from_dense(v, dims=dims, order="C")
    tf = TensorTrain.from_dense(v, dims=dims, order="F")
    np.testing.assert_allclose(tc.full(), v.reshape(dims), atol=1e-13)
    np.testing.assert_allclose(tf.full(), v.reshape(dims, order="F"), atol=1e-13)
    # the F train of v equals the C train of the site-reversed tensor, read backwards
    np.testing.assert_allclose(tf.full(), np.transpose(v.reshape(dims[::-1])), atol=1e-13)
    np.testing.assert_allclose(tc.to_vector(), v, atol=1e-13)
    np.testing.assert_allclose(tf.to_vector(), v, atol=1e-13)
    assert tf.center == 0 and tc.center == len(dims) - 1
    # F order sweeps right-to-left: cores 1.. are right-orthonormal
    for c in tf.cores[1:]:
        M = c.reshape(c.shape[0], -1)
        np.testing.assert_allclose(M @ M.T, np.eye(c.shape[0]), atol=1e-12)


def test_unnormalized_input_keeps_its_norm_and_the_relative_tolerance():
    cores = random_mps_cores(10, 4, seed=4)
    x = TensorTrain(cores).full() * 1e7
    tt = TensorTrain.from_dense(x, tol=1e-10)
    assert tt.norm() == pytest.approx(np.linalg.norm(x), rel=1e-12)
    m = MPS.from_statevector(x.reshape(-1))
    assert m.norm() == pytest.approx(np.linalg.norm(x), rel=1e-12)
    for k in range(9):
        assert np.sum(m.schmidt_values(k) ** 2) == pytest.approx(1.0, abs=1e-13)


def test_input_is_not_modified_and_readonly_input_works():
    cores = random_mps_cores(12, 8, seed=6)
    x = TensorTrain(cores).full().reshape(-1)
    keep = x.copy()
    x.setflags(write=False)
    MPS.from_statevector(x, tol=1e-3)
    np.testing.assert_array_equal(x, keep)


def test_max_rank_caps_and_reports_the_true_error():
    cores = random_mps_cores(12, 8, seed=7)
    x = TensorTrain(cores).full()
    tt = TensorTrain.from_dense(x, max_rank=3)
    assert max(tt.ranks) == 3
    assert tt.error_bound == pytest.approx(np.linalg.norm(tt.full() - x), rel=1e-6)


def test_peak_extra_memory_is_at_most_1_25_times_the_input():
    cores = random_mps_cores(20, 16, seed=8, complex_=True)
    x = TensorTrain(cores).full().reshape(-1)  # 2^20 complex = 16 MiB
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    tt = MPS.from_statevector(x, tol=1e-12)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert max(tt.bond_dimensions) == 16
    assert peak <= 1.25 * x.nbytes, f"peak extra {peak / x.nbytes:.2f} x the input"


@pytest.mark.parametrize("n", [100_000, 100_003, 37])
def test_tsqr_r_matches_qr_singular_values(n):
    rng = np.random.default_rng(9)
    C = rng.standard_normal((6, n)) + 1j * rng.standard_normal((6, n))
    R = tsqr_r(C, chunk_elements=6 * 1000)  # 1000-column chunks, a 3-column remainder for n = 100003
    np.testing.assert_allclose(np.linalg.svd(R, compute_uv=False), np.linalg.svd(C, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(np.tril(R, -1), 0)


@pytest.mark.parametrize("bad, kw, msg", [
    (np.array([1.0, np.nan, 2.0, 3.0]), {"dims": (2, 2)}, "non-finite"),
    (np.ones(8), {"dims": (2, 3)}, "hold 6 entries"),
    (np.ones(8), {"dims": (2, 2, 2), "order": "A"}, "order"),
    (np.ones((2, 2)), {"tol": 1.5}, "tol"),
    (np.array(["a", "b"]), {}, "numeric"),
])
def test_bad_input_raises_input_error(bad, kw, msg):
    with pytest.raises(InputError, match=msg):
        TensorTrain.from_dense(bad, **kw)


@settings(max_examples=25, deadline=None)
@given(dims=st.lists(st.integers(2, 5), min_size=2, max_size=5),
       tol=st.sampled_from([1e-1, 1e-3, 1e-6, 1e-10]), order=st.sampled_from(["C", "F"]),
       seed=st.integers(0, 10_000), complex_=st.booleans())
def test_property_error_guarantee_and_exact_error(dims, tol, order, seed, complex_):
    rng = np.random.default_rng(seed)
    n = int(np.prod(dims))
    # a spectrum spread over many scales, so that every tolerance truncates something
    v = rng.standard_normal(n) * np.logspace(0, -8, n)[rng.permutation(n)]
    if complex_:
        v = v + 1j * rng.standard_normal(n) * 1e-3
    tt = TensorTrain.from_dense(v, dims=dims, tol=tol, order=order)
    true = np.linalg.norm(tt.to_vector() - v)
    assert true <= tol * np.linalg.norm(v) * (1 + 1e-9)
    if true > 1e-13 * np.linalg.norm(v):
        assert tt.error_bound == pytest.approx(true, rel=0.03)
    np.testing.assert_allclose(tt.full(), tt.to_vector().reshape(dims, order=order), atol=1e-14)


def test_fortran_ordered_and_strided_tensors():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 4, 5, 2))
    ref = TensorTrain.from_dense(x)
    xf = np.asfortranarray(x)  # swept from the right, without a copy
    tf = TensorTrain.from_dense(xf)
    np.testing.assert_allclose(tf.full(), x, atol=1e-13)
    assert tf.ranks == ref.ranks and tf.center == 0
    big = rng.standard_normal((6, 4, 5, 2))
    ts = TensorTrain.from_dense(big[::2])  # neither C- nor F-contiguous: copied once
    np.testing.assert_allclose(ts.full(), big[::2], atol=1e-13)
    for a, b in zip(tf.singular_values, ref.singular_values):
        n = min(a.size, b.size)
        np.testing.assert_allclose(a[:n], b[:n], atol=1e-12 * b[0])
