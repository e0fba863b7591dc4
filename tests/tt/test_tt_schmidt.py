"""Bond singular values from triangular factors (physfact.tt.schmidt) against dense SVDs."""
import numpy as np
import pytest
from tt_helpers import random_mps_cores, unfolding_singular_values

from physfact.errors import InputError
from physfact.tt import MPS, TensorTrain, schmidt_spectrum_of_cores


def _cores_with_ranks(dims, ranks, seed, complex_=False):
    """Random cores with the given bond ranks (any size, also larger than an unfolding allows)."""
    rng = np.random.default_rng(seed)
    r = (1,) + tuple(ranks) + (1,)
    cores = []
    for k, n in enumerate(dims):
        c = rng.standard_normal((r[k], n, r[k + 1]))
        if complex_:
            c = c + 1j * rng.standard_normal(c.shape)
        cores.append(c)
    return cores


def _check_against_dense(cores, dims, atol=1e-12):
    psi = TensorTrain(cores).to_vector()
    nrm = np.linalg.norm(psi)
    ref = unfolding_singular_values(psi.reshape(dims), dims)
    got = schmidt_spectrum_of_cores(cores)
    assert len(got) == len(ref)
    for k, (s, s_ref) in enumerate(zip(got, ref)):
        assert np.all(np.diff(s) <= 1e-12 * nrm), f"bond {k} not descending"
        m = max(s.size, s_ref.size)
        a, b = np.zeros(m), np.zeros(m)
        a[:s.size], b[:s_ref.size] = s, s_ref
        np.testing.assert_allclose(a / nrm, b / nrm, rtol=0, atol=atol, err_msg=f"bond {k}")
    # the entropies through MPS, as the issue asks: against an SVD of every unfolding, to 1e-12
    S = MPS(cores).entanglement_entropy()
    S_ref = []
    for s in ref:
        p = s**2 / np.sum(s**2)
        p = p[p > 0]
        S_ref.append(-np.sum(p * np.log(p)))
    np.testing.assert_allclose(S, S_ref, rtol=0, atol=1e-12)
    return got


@pytest.mark.parametrize("complex_", [False, True])
def test_random_mps_real_and_complex(complex_):
    cores = random_mps_cores(14, 16, d=2, seed=21, complex_=complex_)
    got = _check_against_dense(cores, (2,) * 14)
    # generic random cores: every bond has full rank min(chi, 2^(k+1), 2^(L-k-1))
    assert [s.size for s in got] == [min(16, 2 ** (k + 1), 2 ** (13 - k)) for k in range(13)]


@pytest.mark.parametrize("complex_", [False, True])
def test_non_square_and_oversized_bonds(complex_):
    """Local dimensions 2..4 and bond ranks both below and above what the unfoldings allow, so
    the triangular factors are wide (trapezoidal) at several bonds."""
    dims = (3, 2, 4, 2, 3, 2, 2)
    ranks = (5, 2, 9, 4, 7, 3)  # 5 > 3 and 9 > 2*4: rank-deficient bonds; 2 < 3*2: a narrow one
    got = _check_against_dense(_cores_with_ranks(dims, ranks, seed=4, complex_=complex_), dims)
    # bond 0 holds at most n_0 = 3 values (R_0 is 3 x 5); bond 2 (rank 9) at most n_3 r_3 = 8
    # (L_3 is 9 x 8); bond 4 (rank 7) at most n_5 n_6 = 4 (the right part has 4 amplitudes)
    assert [s.size for s in got] == [3, 2, 8, 4, 4, 2]


def test_rank_deficient_bond():
    """A bond of dimension 6 whose Schmidt rank is 2: the extra values are ~eps, not garbage."""
    dims = (2,) * 8
    cores = random_mps_cores(8, 6, seed=8)
    rng = np.random.default_rng(1)
    P = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 6))  # rank 2
    cores[3] = np.tensordot(cores[3], P, axes=(2, 0))
    got = _check_against_dense(cores, dims)
    s = got[3] / np.linalg.norm(got[3])
    assert s.size == 6 and s[1] > 1e-3 and np.all(s[2:] < 1e-14)


def test_known_center_and_tiny_chains():
    cores = random_mps_cores(9, 5, d=3, seed=2, complex_=True)
    m = MPS(cores)
    ref = schmidt_spectrum_of_cores(cores)
    for c in (0, 4, 8):
        mc = m.canonicalize(c)
        got = schmidt_spectrum_of_cores(mc.cores, center=c)
        for s, r in zip(got, ref):
            np.testing.assert_allclose(s / np.linalg.norm(s), r / np.linalg.norm(r), rtol=0, atol=1e-13)
    assert schmidt_spectrum_of_cores([np.ones((1, 3, 1))]) == ()
    two = schmidt_spectrum_of_cores(_cores_with_ranks((2, 3), (4,), seed=0))
    assert len(two) == 1 and two[0].size == 2
    product = [np.array([0.6, 0.8]).reshape(1, 2, 1)] * 5
    for s in schmidt_spectrum_of_cores(product):
        np.testing.assert_allclose(s, [1.0], atol=1e-15)


def test_bad_cores_raise():
    cores = random_mps_cores(6, 4, seed=0)
    cores[3] = cores[3].copy()
    cores[3][0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        schmidt_spectrum_of_cores(cores)
    with pytest.raises(InputError, match="NaN"):
        MPS(cores).entanglement_entropy()
    with pytest.raises(InputError, match="shape"):
        schmidt_spectrum_of_cores([np.ones((1, 2, 2)), np.ones((3, 2, 1))])
    with pytest.raises(InputError, match="center"):
        schmidt_spectrum_of_cores(random_mps_cores(4, 2), center=4)


def test_large_local_dimension_uses_the_one_gemm_path():
    dims = (10, 9, 3, 12)  # n > 8: the left sweep forms R G_k with one GEMM and a copy
    got = _check_against_dense(_cores_with_ranks(dims, (4, 6, 5), seed=6, complex_=True), dims)
    assert [s.size for s in got] == [4, 6, 5]  # bond ranks, none limited by an unfolding here
