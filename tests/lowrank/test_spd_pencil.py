"""Sparse LDL^T of a K + b M (physfact.lowrank.spd_pencil) against scipy's sparse LU."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

pytest.importorskip("qdldl")

from physfact.errors import InputError, NotPositiveDefiniteError  # noqa: E402
from physfact.lowrank.spd_pencil import SPDPencil, is_symmetric  # noqa: E402


def laplace_mass(nx=12):
    """2-D FD Laplacian K (SPD) and a tridiagonal-Kronecker SPD 'mass' M on an nx x nx grid."""
    T = sp.diags([-np.ones(nx - 1), 2 * np.ones(nx), -np.ones(nx - 1)], [-1, 0, 1])
    S = sp.diags([np.ones(nx - 1), 4 * np.ones(nx), np.ones(nx - 1)], [-1, 0, 1]) / 6
    I = sp.identity(nx)
    K = sp.csc_matrix(sp.kron(I, T) + sp.kron(T, I))
    M = sp.csc_matrix(sp.kron(S, S))
    return K, M


@pytest.mark.parametrize("a,b", [(1.0, 0.0), (0.0, 1.0), (1.0, 3.7), (2.0, 1e5)])
def test_solves_match_lu(a, b):
    K, M = laplace_mass()
    P = SPDPencil(K, M)
    f = P.factor(a, b)
    rng = np.random.default_rng(0)
    Bm = rng.standard_normal((K.shape[0], 3))
    X = f.solve(Bm, check=True)
    ref = spla.splu(sp.csc_matrix(a * K + b * M)).solve(Bm)
    assert np.allclose(X, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())
    x = f.solve(Bm[:, 1])  # one vector
    assert np.allclose(x, ref[:, 1], rtol=1e-10, atol=1e-12 * np.abs(ref).max())
    Z = f.solve(Bm + 1j * Bm[:, ::-1])  # complex right-hand side
    assert np.allclose(Z, ref + 1j * ref[:, ::-1], rtol=1e-10, atol=1e-12 * np.abs(ref).max())


def test_identity_M_and_storage_reuse():
    K, _ = laplace_mass(8)
    P = SPDPencil(K)
    f1 = P.factor(1.0, 2.0)
    f2 = P.factor(1.0, 5.0)  # two live factors are independent
    b = np.ones(K.shape[0])
    I = sp.identity(K.shape[0])
    assert np.allclose((K + 2 * I) @ f1.solve(b), b)
    assert np.allclose((K + 5 * I) @ f2.solve(b), b)
    del f1, f2
    assert len(P._idle) == 1  # a released factor's storage is kept for the next one
    f3 = P.factor(1.0, 1.0)
    assert not P._idle
    assert np.allclose((K + I) @ f3.solve(b), b)


def test_is_symmetric():
    K, M = laplace_mass(5)
    assert is_symmetric(K) and is_symmetric(M) and is_symmetric(K.tocsr())
    N = K.tolil()
    N[0, 1] = 3.0
    assert not is_symmetric(N.tocsc())
    assert not is_symmetric(sp.csc_matrix(np.ones((3, 4))))


def test_rejects_nonsymmetric_and_bad_coefficients():
    K, M = laplace_mass(5)
    N = K.tolil()
    N[0, 1] = 3.0
    with pytest.raises(InputError, match="symmetric"):
        SPDPencil(N.tocsc(), M)
    P = SPDPencil(K, M)
    with pytest.raises(InputError, match="a, b >= 0"):
        P.factor(1.0, -2.0)


def test_indefinite_matrix_fails_loudly():
    K, M = laplace_mass(6)
    shift = 1.5 * spla.eigsh(K, k=1, which="SA", return_eigenvectors=False)[0]
    with pytest.raises(NotPositiveDefiniteError, match="K is not positive definite"):
        SPDPencil(K - shift * sp.identity(K.shape[0]), M)
    with pytest.raises(NotPositiveDefiniteError, match="M is not positive definite"):
        SPDPencil(K, -M)


def test_unstable_ldl_of_indefinite_matrix_is_rejected_by_the_checked_solve():
    # blocks [[d, 1], [1, d]] with tiny d: LDL^T without pivoting meets the pivot d whatever the
    # order, the multiplier 1/d amplifies rounding: an inaccurate solve the check must refuse
    d = 1e-13
    K = sp.csc_matrix(sp.block_diag([np.array([[d, 1.0], [1.0, d]])] * 20))
    P = SPDPencil(K, check_definite=False)
    f = P.factor(1.0, 0.0)
    b = np.random.default_rng(1).standard_normal(K.shape[0])
    with pytest.raises(NotPositiveDefiniteError, match="backward error"):
        f.solve(b, check=True)
    with pytest.raises(NotPositiveDefiniteError):
        SPDPencil(K)  # the definiteness check sees the negative pivots
