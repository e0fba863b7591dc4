"""Every public entry point of physfact.lowrank answers bad input with a specific PhysfactError whose
message says what to fix (issue #10 section 3): shapes, dtypes, NaN/Inf, zero/negative/huge sizes,
tolerances, seeds, unknown names, and sizes that cannot fit in memory (section 4)."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

from physfact.errors import InputError, NotPositiveDefiniteError, ResourceError
from physfact.lowrank import (
    LowRankMatrix,
    SPDPencil,
    Truncation,
    as_truncation,
    choose_rank,
    compress_factor,
    estimate_noise_sigma,
    is_symmetric,
    marchenko_pastur_median,
    principal_angles,
    r_factor,
    randomized_svd,
    subspace_distance,
    truncated_svd,
    tsqr_r,
)

nan, inf = float("nan"), float("inf")
E3 = np.eye(3)


def lrm(m=3, n=3, k=2):
    return LowRankMatrix(np.ones((m, k)), np.ones((n, k)))


CASES = [
    # Truncation / as_truncation / choose_rank
    ("Truncation rtol<0", lambda: Truncation(rtol=-1e-3), InputError, "rtol"),
    ("Truncation rtol str", lambda: Truncation(rtol="a"), InputError, "number"),
    ("Truncation energy>1", lambda: Truncation(energy=1.5), InputError, "fraction"),
    ("Truncation sigma nan", lambda: Truncation(criterion="aic", sigma=nan), InputError, "sigma"),
    ("Truncation criterion", lambda: Truncation(criterion="bic"), InputError, "'aic' or 'gap'"),
    ("as_truncation kw", lambda: as_truncation(None, foo=1), InputError, "unknown truncation option"),
    ("as_truncation type", lambda: as_truncation("aic"), InputError, "Truncation, an int rank or a float"),
    ("choose_rank nan", lambda: choose_rank([1.0, nan], Truncation(rtol=0.1)), InputError, "non-finite"),
    ("choose_rank inf", lambda: choose_rank([inf, 1.0]), InputError, "non-finite"),
    ("choose_rank negative", lambda: choose_rank([1.0, -2.0]), InputError, "non-negative"),
    ("choose_rank unsorted", lambda: choose_rank([1.0, 2.0]), InputError, "non-increasing"),
    ("choose_rank 2-D", lambda: choose_rank([[1.0]]), InputError, "dimensions"),
    ("choose_rank complex", lambda: choose_rank([1 + 1j]), InputError, "real"),
    ("choose_rank shape 0", lambda: choose_rank([1.0, 0.5], Truncation(criterion="aic"), shape=(0, 5)),
     InputError, "positive ints"),
    ("choose_rank shape str", lambda: choose_rank([1.0, 0.5], Truncation(criterion="gap"), shape="ab"),
     InputError, "pair"),
    ("choose_rank shape small", lambda: choose_rank([1.0, 0.5], Truncation(criterion="gap"), shape=(1, 5)),
     InputError, "too small"),
    ("estimate_noise shape", lambda: estimate_noise_sigma([1.0, 0.5], (0, 3)), InputError, "positive ints"),
    ("estimate_noise nan", lambda: estimate_noise_sigma([nan], (3, 3)), InputError, "non-finite"),
    ("marchenko_pastur beta", lambda: marchenko_pastur_median(2.0), InputError, "beta"),
    # truncated_svd
    ("truncated_svd 3-D", lambda: truncated_svd(np.ones((2, 2, 2))), InputError, "dimensions"),
    ("truncated_svd 1-D", lambda: truncated_svd(np.ones(4)), InputError, "dimensions"),
    ("truncated_svd empty", lambda: truncated_svd(np.zeros((0, 3))), InputError, "empty"),
    ("truncated_svd ragged", lambda: truncated_svd([[1, 2], [3]]), InputError, "array"),
    ("truncated_svd str", lambda: truncated_svd(np.array([["a"]])), InputError, "numeric"),
    ("truncated_svd nan", lambda: truncated_svd(np.array([[1.0, nan]])), InputError, "non-finite"),
    ("truncated_svd inf sparse", lambda: truncated_svd(sp.csr_matrix(np.array([[inf, 0.0]]))), InputError,
     "non-finite"),
    ("truncated_svd rule str", lambda: truncated_svd(E3, "x"), InputError, "truncation rule"),
    ("truncated_svd rule -1", lambda: truncated_svd(E3, -1), InputError, "rank"),
    ("truncated_svd rule nan", lambda: truncated_svd(E3, nan), InputError, "rtol"),
    # randomized_svd
    ("randomized rank 0", lambda: randomized_svd(E3, 0), InputError, "rank must be >= 1"),
    ("randomized rank float", lambda: randomized_svd(E3, 1.5), InputError, "integer"),
    ("randomized rank > min", lambda: randomized_svd(np.ones((5, 4)), 5), InputError, "exceeds"),
    ("randomized oversample<0", lambda: randomized_svd(E3, 1, oversample=-1), InputError, "oversample"),
    ("randomized power huge", lambda: randomized_svd(E3, 1, power_iters=10**9), InputError, "power_iters"),
    ("randomized power<0", lambda: randomized_svd(E3, 1, power_iters=-1), InputError, "power_iters"),
    ("randomized seed str", lambda: randomized_svd(E3, 1, seed="a"), InputError, "seed"),
    ("randomized seed float", lambda: randomized_svd(E3, 1, seed=1.5), InputError, "seed"),
    ("randomized seed<0", lambda: randomized_svd(E3, 1, seed=-3), InputError, "seed"),
    ("randomized operator nan", lambda: randomized_svd(aslinearoperator(np.full((3, 3), nan)), 1), InputError,
     "non-finite"),
    ("randomized not a matrix", lambda: randomized_svd(object(), 1), InputError, "numeric"),
    ("randomized nan", lambda: randomized_svd(np.array([[nan, 1.0]]), 1), InputError, "non-finite"),
    # subspaces
    ("principal_angles rows", lambda: principal_angles(np.ones((3, 1)), np.ones((4, 1))), InputError, "rows"),
    ("principal_angles nan", lambda: principal_angles(np.full((3, 1), nan), np.ones((3, 1))), InputError, "non-finite"),
    ("principal_angles zero", lambda: principal_angles(np.zeros((3, 1)), np.ones((3, 1))), InputError,
     "linearly dependent"),
    ("principal_angles 3-D", lambda: principal_angles(np.zeros((3, 1, 1)), np.ones((3, 1))), InputError, "dimensions"),
    ("subspace_distance str", lambda: subspace_distance("a", np.ones((4, 1))), InputError, "numeric"),
    ("subspace_distance rows", lambda: subspace_distance(np.ones((3, 1)), np.ones((4, 1))), InputError, "rows"),
    # LowRankMatrix
    ("LowRankMatrix columns", lambda: LowRankMatrix(np.ones((3, 2)), np.ones((3, 3))), InputError, "columns"),
    ("LowRankMatrix 3-D", lambda: LowRankMatrix(np.ones((3, 2, 1)), np.ones((3, 2))), InputError, "dimensions"),
    ("LowRankMatrix nan", lambda: LowRankMatrix(np.full((3, 2), nan), np.ones((3, 2))), InputError, "non-finite"),
    ("LowRankMatrix @ vector", lambda: lrm() @ np.ones(4), InputError, "shape mismatch"),
    ("LowRankMatrix @ scalar", lambda: lrm() @ 3.0, InputError, "dimensions"),
    ("LowRankMatrix @ nan", lambda: lrm() @ np.full(3, nan), InputError, "non-finite"),
    ("LowRankMatrix @ LowRankMatrix", lambda: lrm() @ lrm(4, 3), InputError, "shape mismatch"),
    ("vector @ LowRankMatrix", lambda: np.ones(4) @ lrm(), InputError, "shape mismatch"),
    ("LowRankMatrix + array", lambda: lrm() + np.ones((3, 3)), InputError, "to_dense"),
    ("LowRankMatrix + shape", lambda: lrm() + lrm(4, 3), InputError, "shape mismatch"),
    ("LowRankMatrix * nan", lambda: lrm() * nan, InputError, "finite scalar"),
    ("LowRankMatrix * array", lambda: lrm() * np.ones(3), InputError, "finite scalar"),
    ("LowRankMatrix power 0", lambda: lrm().power(0), InputError, "n must be >= 1"),
    ("LowRankMatrix power huge", lambda: lrm().power(10**18), InputError, r"n <= 10\^6"),
    ("LowRankMatrix power non-square", lambda: lrm(3, 4).power(2), InputError, "square"),
    ("LowRankMatrix compress rule", lambda: lrm().compress("x"), InputError, "truncation rule"),
    ("LowRankMatrix from_svd", lambda: LowRankMatrix.from_svd(3), InputError, "SVD result"),
    # compress_factor, tsqr
    ("compress_factor 1-D", lambda: compress_factor(np.ones(3)), InputError, "dimensions"),
    ("compress_factor nan", lambda: compress_factor(np.full((3, 2), nan)), InputError, "non-finite"),
    ("compress_factor block_rows 0", lambda: compress_factor(np.ones((3, 2)), block_rows=0), InputError, "block_rows"),
    ("compress_factor chunks", lambda: compress_factor([np.ones((3, 2)), np.ones((4, 2))]), InputError, "rows"),
    ("compress_factor no chunks", lambda: compress_factor([]), InputError, "no column chunks"),
    ("tsqr_r no blocks", lambda: tsqr_r([]), InputError, "at least one"),
    ("tsqr_r nan", lambda: tsqr_r([np.full((3, 2), nan)]), InputError, "non-finite"),
    ("tsqr_r columns", lambda: tsqr_r([np.ones((3, 2)), np.ones((3, 3))]), InputError, "columns"),
    ("tsqr_r 1-D", lambda: tsqr_r([np.ones(3)]), InputError, "2-D"),
    ("r_factor 1-D", lambda: r_factor(np.ones(3)), InputError, "2-D"),
    ("r_factor nan", lambda: r_factor(np.full((3, 2), nan)), InputError, "non-finite"),
    ("is_symmetric 1-D", lambda: is_symmetric(np.ones(3)), InputError, "2-D"),
]


@pytest.mark.parametrize("name, call, exc, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_specific_error(name, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


SPD_CASES = [
    ("dense K", lambda: SPDPencil(np.eye(3)), InputError, "scipy.sparse"),
    ("1-D K", lambda: SPDPencil(np.ones(3)), InputError, "2-D"),
    ("non-symmetric", lambda: SPDPencil(sp.csr_matrix(np.array([[2.0, 1], [0, 2]]))), InputError, "symmetric"),
    ("indefinite", lambda: SPDPencil(sp.csr_matrix(np.diag([1.0, -1]))), NotPositiveDefiniteError, "positive definite"),
    ("nan", lambda: SPDPencil(sp.csr_matrix(np.diag([1.0, nan]))), InputError, "NaN"),
    ("sizes", lambda: SPDPencil(sp.csr_matrix(np.eye(3)), sp.eye(2)), InputError, "one size"),
    ("negative shift", lambda: SPDPencil(sp.csr_matrix(np.eye(3))).factor(-1, 0), InputError, "a, b >= 0"),
    ("rhs rows", lambda: SPDPencil(sp.csr_matrix(np.eye(3))).factor(1, 0).solve(np.ones(4)), InputError, "rows"),
    ("rhs nan", lambda: SPDPencil(sp.csr_matrix(np.eye(3))).factor(1, 0).solve(np.full(3, nan)), InputError, "NaN"),
]


@pytest.mark.parametrize("name, call, exc, match", SPD_CASES, ids=[c[0] for c in SPD_CASES])
def test_spd_pencil_bad_input(name, call, exc, match):
    pytest.importorskip("qdldl", reason="SPDPencil needs qdldl (a runtime dependency)")
    with pytest.raises(exc, match=match):
        call()


def test_impossible_sizes_are_refused_before_allocating(monkeypatch):
    monkeypatch.setenv("PHYSFACT_MAX_MEMORY", "1M")
    big = sp.random(2000, 2000, density=1e-4, format="csr", random_state=0)
    with pytest.raises(ResourceError, match=r"SVD of a 2000 x 2000 matrix needs about .* MiB.*randomized_svd"):
        truncated_svd(big)
    with pytest.raises(ResourceError, match="sketch"):
        randomized_svd(big, 900, oversample=100)
    assert randomized_svd(big, 3, seed=0).rank == 3  # what fits still runs


def test_seed_generator_accepted():
    out1 = randomized_svd(np.diag([3.0, 2, 1]), 2, seed=np.random.default_rng(4))
    np.testing.assert_allclose(out1.s, [3.0, 2.0], rtol=1e-12)


def test_svd_unpacks_like_scipy_and_sklearn():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 12))
    U, s, Vt = truncated_svd(A, 5)
    s_ref = np.linalg.svd(A, compute_uv=False)  # independent LAPACK call
    np.testing.assert_allclose(s, s_ref[:5], rtol=1e-12)
    assert U.shape == (20, 5) and Vt.shape == (5, 12)
    U2, s2, Vt2 = randomized_svd(A, 5, power_iters=6, seed=1)
    np.testing.assert_allclose(s2, s_ref[:5], rtol=1e-6)
    svd = truncated_svd(A, 5)
    assert len(svd) == 3 and svd[1] is svd.s and svd.discarded == pytest.approx(np.sqrt(np.sum(s_ref[5:] ** 2)))


def _svd_never_converges(monkeypatch):
    import physfact.lowrank.svd as svd_module

    def fails(*a, **k):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(svd_module.sla, "svd", fails)  # scipy.linalg.svd, restored after the test


def test_svd_that_never_converges_is_a_convergence_error(monkeypatch):
    from physfact.errors import ConvergenceError

    _svd_never_converges(monkeypatch)
    with pytest.raises(ConvergenceError, match="did not converge"):
        truncated_svd(np.eye(3))


def test_rank_cli_failed_computation_is_one_line_exit_1(monkeypatch, capsys):
    from physfact.cli import main

    _svd_never_converges(monkeypatch)
    assert main(["rank", "--synthetic", "20", "10", "2"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "did not converge" in err
