"""Principal angles (vs scipy) and low-rank operators (vs dense numpy)."""
import numpy as np
import pytest
import scipy.linalg as sla

from physfact.errors import InputError
from physfact.lowrank import LowRankMatrix, Truncation, compress_factor, principal_angles, subspace_distance


@pytest.mark.parametrize("k1,k2", [(3, 3), (5, 2), (2, 6)])
def test_principal_angles_match_scipy(k1, k2):
    rng = np.random.default_rng(k1 * 10 + k2)
    A, B = rng.standard_normal((40, k1)), rng.standard_normal((40, k2))
    ours = principal_angles(A, B)
    ref = np.sort(sla.subspace_angles(A, B))
    assert np.allclose(ours, ref, atol=1e-12)
    assert np.all(np.diff(ours) >= 0)


def test_small_angles_keep_relative_accuracy():
    # span{e1, e2} vs span{e1 + t e3, e2}: angles 0 and atan(t)
    n = 6
    t = 1e-10
    A = np.eye(n)[:, :2]
    B = A.copy()
    B[2, 0] = t
    ang = principal_angles(A, B)
    assert ang[1] == pytest.approx(np.arctan(t), rel=1e-6)
    assert subspace_distance(A, B) == pytest.approx(np.sin(np.arctan(t)), rel=1e-6)


def test_subspace_distance_orthogonal_and_mismatch():
    I = np.eye(4)
    assert subspace_distance(I[:, :2], I[:, 2:]) == pytest.approx(1.0)
    with pytest.raises(InputError):
        principal_angles(I[:3, :2], I[:, :2])
    with pytest.raises(InputError, match="dependent"):
        principal_angles(np.ones((4, 2)), I[:, :2])


def test_low_rank_matrix_products_and_power():
    rng = np.random.default_rng(3)
    U, V = rng.standard_normal((30, 4)), rng.standard_normal((30, 4)) / 5
    L = LowRankMatrix(U, V)
    A = U @ V.T
    x = rng.standard_normal((30, 2))
    assert np.allclose(L @ x, A @ x)
    assert np.allclose(x.T @ L, x.T @ A)
    assert np.allclose(L.T.to_dense(), A.T)
    for n in (1, 2, 5):
        assert np.allclose(L.power(n).to_dense(), np.linalg.matrix_power(A, n), rtol=1e-10, atol=1e-12)
    assert np.allclose((L + L).to_dense(), 2 * A) and np.allclose((L - 0.5 * L).to_dense(), 0.5 * A)
    assert L.nbytes == U.nbytes + V.nbytes and L.shape == (30, 30)


def test_low_rank_compress_and_errors():
    rng = np.random.default_rng(4)
    U = rng.standard_normal((20, 3))
    L = LowRankMatrix(np.hstack([U, U]), np.hstack([U, U]))  # rank 3 held with 6 columns
    C = L.compress(Truncation(rtol=1e-12))
    assert C.rank == 3 and np.allclose(C.to_dense(), L.to_dense())
    with pytest.raises(InputError):
        LowRankMatrix(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(InputError):
        LowRankMatrix(np.ones((3, 2)), np.ones((4, 2))).power(2)
    with pytest.raises(InputError):
        L.power(0)


def test_compress_factor_keeps_gramian():
    rng = np.random.default_rng(6)
    Z = rng.standard_normal((50, 5)) @ rng.standard_normal((5, 12))  # 12 columns, rank 5
    Zc, s = compress_factor(Z)
    assert Zc.shape == (50, 5)
    assert np.allclose(Zc @ Zc.T, Z @ Z.T, atol=1e-10 * np.linalg.norm(Z) ** 2)
    Zr, _ = compress_factor(Z, Truncation(rank=2))
    # 2-norm error of Z Z^T is s_3^2 (Eckart--Young on the Gramian)
    assert np.linalg.norm(Z @ Z.T - Zr @ Zr.T, 2) == pytest.approx(s[2] ** 2, rel=1e-8)


def test_tsqr_matches_householder_qr():
    from physfact.lowrank import tsqr_r

    rng = np.random.default_rng(8)
    M = rng.standard_normal((1000, 7)) * np.logspace(0, -12, 7)  # graded columns: accuracy matters
    blocks = (M[i:i + 37] for i in range(0, 1000, 37))  # 27 blocks: exercises the running reduction
    R = tsqr_r(blocks)
    assert R.shape == (7, 7) and np.allclose(np.tril(R, -1), 0)
    s_ref = np.linalg.svd(M, compute_uv=False)
    assert np.allclose(np.linalg.svd(R, compute_uv=False), s_ref, rtol=1e-10, atol=0)
    assert np.allclose(R.T @ R, M.T @ M, atol=1e-13)
    with pytest.raises(InputError):
        tsqr_r([])


def test_compress_factor_from_column_chunks():
    rng = np.random.default_rng(9)
    chunks = [rng.standard_normal((300, 4)) @ rng.standard_normal((4, 6)) for _ in range(3)]  # rank <= 12
    Z = np.hstack(chunks)
    Zc, s = compress_factor(chunks, block_rows=64)
    Zd, sd = compress_factor(Z)
    assert Zc.shape[1] == Zd.shape[1] == 12
    assert np.allclose(s, sd, rtol=1e-10, atol=1e-12 * sd[0])
    assert np.allclose(Zc @ Zc.T, Z @ Z.T, atol=1e-10 * np.linalg.norm(Z) ** 2)


@pytest.mark.parametrize("shape", [(50, 7), (7, 7), (4, 9), (300, 140)])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_r_factor_shapes_dtypes_and_overwrite(shape, dtype):
    from physfact.lowrank import r_factor

    rng = np.random.default_rng(3)
    M = rng.standard_normal(shape)
    if dtype is np.complex128:
        M = M + 1j * rng.standard_normal(shape)
    m = min(shape)
    for layout in ("C", "F"):
        A = np.array(M, order=layout)
        A.setflags(write=False)  # the default never writes, whatever the layout
        R = r_factor(A)
        assert R.shape == (m, shape[1]) and R.dtype == dtype
        assert np.all(np.tril(R, -1) == 0)  # exact zeros below the diagonal (trapezoidal if wide)
        np.testing.assert_allclose(R.conj().T @ R, M.conj().T @ M, atol=1e-11 * np.linalg.norm(M) ** 2)
        np.testing.assert_array_equal(A, M)
    # overwrite: a writeable Fortran array is factored in place; the result stays correct
    F = np.array(M, order="F")
    R = r_factor(F, overwrite=True)
    np.testing.assert_allclose(np.linalg.svd(R, compute_uv=False), np.linalg.svd(M, compute_uv=False),
                               rtol=1e-12, atol=1e-12 * np.linalg.norm(M))
    if shape[0] > shape[1]:
        assert not np.shares_memory(R, F)  # a tall input's Householder block is not kept alive
    C = np.array(M, order="C")
    r_factor(C, overwrite=True)  # not Fortran: copied, untouched
    np.testing.assert_array_equal(C, M)


@pytest.mark.parametrize("n, k", [(400, 30), (60, 40)])  # gesdd path, and gesvd (7 k > n) path
def test_compress_factor_chunks_both_svd_paths(n, k):
    from physfact.lowrank import compress_factor

    rng = np.random.default_rng(7)
    Z = rng.standard_normal((n, k)) * np.logspace(0, -12, k)
    chunks = [np.asfortranarray(Z[:, j:j + 7]) for j in range(0, k, 7)]
    Zc, s = compress_factor(chunks, block_rows=32)
    np.testing.assert_allclose(s, np.linalg.svd(Z, compute_uv=False), rtol=1e-8, atol=1e-14 * s[0])
    np.testing.assert_allclose(Zc @ Zc.T, Z @ Z.T, atol=1e-13 * s[0] ** 2)


def test_r_factor_blocked_workspace_matches_numpy():
    from physfact.lowrank.tsqr import r_factor

    M = np.random.default_rng(8).standard_normal((300, 150))  # k >= 128: queried optimal lwork
    R = r_factor(M)
    Rn = np.linalg.qr(M, mode="r")
    np.testing.assert_allclose(np.abs(R), np.abs(Rn), atol=1e-10)
    assert np.allclose(np.tril(R, -1), 0)
