"""Truncated and randomized SVD against exact references (Eckart--Young, dense SVD)."""
import numpy as np
import pytest
import scipy.sparse as sp

from physfact.errors import InputError
from physfact.lowrank import SVD, Truncation, randomized_svd, truncated_svd


@pytest.mark.parametrize("r", [1, 5, 17])
def test_eckart_young_error_equals_discarded(r):
    rng = np.random.default_rng(r)
    A = rng.standard_normal((60, 40)) @ np.diag(0.8 ** np.arange(40)) @ rng.standard_normal((40, 40))
    svd = truncated_svd(A, Truncation(rank=r))
    E = A - svd.to_dense()
    s = np.linalg.svd(A, compute_uv=False)  # independent LAPACK call
    assert np.linalg.norm(E, "fro") == pytest.approx(svd.discarded, rel=1e-10)
    assert svd.discarded == pytest.approx(np.sqrt(np.sum(s[r:] ** 2)), rel=1e-10)
    assert np.linalg.norm(E, 2) == pytest.approx(s[r], rel=1e-8)  # 2-norm error is s_{r+1}


def test_rtol_rule_meets_requested_error():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((50, 30)) * (0.5 ** np.arange(30))
    for rtol in (1e-1, 1e-4, 1e-8):
        svd = truncated_svd(A, rtol)
        assert np.linalg.norm(A - svd.to_dense()) <= rtol * np.linalg.norm(A) * (1 + 1e-10)


def test_int_rule_and_sparse_input_and_complex():
    rng = np.random.default_rng(2)
    A = sp.random(30, 20, density=0.3, random_state=3, format="csr")
    assert truncated_svd(A, 3).rank == 3
    C = rng.standard_normal((10, 8)) + 1j * rng.standard_normal((10, 8))
    svd = truncated_svd(C)
    assert np.allclose(svd.to_dense(), C, atol=1e-12)


def test_randomized_svd_on_decaying_spectrum():
    rng = np.random.default_rng(7)
    m, n, k = 400, 300, 20
    U = np.linalg.qr(rng.standard_normal((m, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    s = 0.7 ** np.arange(n)
    A = (U * s) @ V.T
    out = randomized_svd(A, k, power_iters=2, seed=1)
    # HMT: with q = 2 power iterations the error is within a modest factor of s_{k+1}
    assert np.linalg.norm(A - out.to_dense(), 2) <= 10 * s[k]
    assert np.allclose(out.s[:10], s[:10], rtol=1e-10)
    assert out.discarded == pytest.approx(np.sqrt(np.sum(s[k:] ** 2)), rel=1e-3)
    again = randomized_svd(A, k, power_iters=2, seed=1)
    assert np.array_equal(out.s, again.s)  # seeded: reproducible


def test_randomized_svd_accepts_sparse_and_linear_operator():
    from scipy.sparse.linalg import aslinearoperator

    d = 0.5 ** np.arange(200)
    A = sp.diags(d).tocsr()
    out = randomized_svd(A, 5, seed=0)
    assert np.allclose(out.s, d[:5], rtol=1e-10)
    out2 = randomized_svd(aslinearoperator(A), 5, seed=0)
    assert np.allclose(out2.s, out.s, rtol=1e-10) and np.isnan(out2.discarded)


@pytest.mark.parametrize("bad", [np.array([[1.0, np.nan]]), np.zeros((0, 3)), np.ones(4), [[1, 2], [3]]])
def test_bad_matrices_raise_input_error(bad):
    with pytest.raises(InputError):
        truncated_svd(bad)


def test_randomized_rank_too_large():
    with pytest.raises(InputError, match="exceeds"):
        randomized_svd(np.ones((5, 4)), 5)


def test_svd_result_repr_and_fields():
    out = truncated_svd(np.eye(3), 2)
    assert isinstance(out, SVD) and out.rank == 2 and out.discarded == pytest.approx(1.0)
    assert "rank=2" in repr(out)


def test_robust_svd_falls_back_to_gesvd(monkeypatch):
    import scipy.linalg as sla

    import physfact.lowrank.svd as svd_module
    from physfact.lowrank import robust_svd

    A = np.random.default_rng(7).standard_normal((9, 5))
    U, s, Vt = robust_svd(A)
    np.testing.assert_allclose(U * s @ Vt, A, atol=1e-13)
    np.testing.assert_allclose(robust_svd(A, compute_uv=False), np.linalg.svd(A, compute_uv=False), rtol=1e-13)
    drivers = []
    svd = sla.svd

    def gesdd_fails(M, **kw):  # gesdd's rare non-convergence, forced
        drivers.append(kw["lapack_driver"])
        if kw["lapack_driver"] == "gesdd":
            raise np.linalg.LinAlgError("SVD did not converge")
        return svd(M, **kw)

    monkeypatch.setattr(svd_module.sla, "svd", gesdd_fails)  # scipy.linalg.svd, restored after
    s2 = robust_svd(A, compute_uv=False)
    assert drivers == ["gesdd", "gesvd"]
    np.testing.assert_allclose(s2, s, rtol=1e-13)
