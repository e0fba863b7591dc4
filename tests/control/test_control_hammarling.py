"""Dense Lyapunov/Stein solvers against scipy's Bartels–Stewart solvers and slycot's AB09AD."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

from physfact.control import lyapunov_factor, solve_lyapunov
from physfact.control.hammarling import ComplexSchur, hammarling, hammarling_triangular
from physfact.errors import InputError, SingularMatrixError, UnstableSystemError


def random_system(n, m, p, seed, discrete=False):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    A = A / np.abs(np.linalg.eigvals(A)).max()
    A = 0.9 * A if discrete else A - 1.5 * np.eye(n)
    E = np.eye(n) + 0.2 * rng.standard_normal((n, n)) / np.sqrt(n)
    return A, rng.standard_normal((n, m)), rng.standard_normal((p, n)), E


@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("with_e", [False, True])
@pytest.mark.parametrize("trans", [False, True])
def test_factor_matches_scipy(discrete, with_e, trans):
    A, B, C, E = random_system(40, 3, 2, seed=7, discrete=discrete)
    if with_e and discrete:
        A = E @ A  # keeps E^{-1}A Schur-stable
    Eu = E if with_e else np.eye(40)
    Ah = np.linalg.solve(Eu, A)
    f = lyapunov_factor(A, C.T if trans else B, E if with_e else None, trans=trans, discrete=discrete)
    X = f.Z @ f.Z.T
    if trans:
        rhs = C.T @ C
        Xh = sla.solve_discrete_lyapunov(Ah.T, rhs) if discrete else sla.solve_continuous_lyapunov(Ah.T, -rhs)
        ref = np.linalg.solve(Eu.T, np.linalg.solve(Eu.T, Xh).T).T  # E^{-T} Xh E^{-1}
    else:
        Bh = np.linalg.solve(Eu, B)
        ref = sla.solve_discrete_lyapunov(Ah, Bh @ Bh.T) if discrete else sla.solve_continuous_lyapunov(Ah, -Bh @ Bh.T)
    assert np.linalg.norm(X - ref) <= 1e-12 * np.linalg.norm(ref)
    assert f.residual < 1e-13
    assert f.method == "hammarling" and f.Z.shape == (40, 40)


def test_factor_is_triangular_in_schur_basis_and_never_forms_x():
    A, B, _, _ = random_system(30, 2, 1, seed=3)
    from physfact.control.hammarling import DenseGramianSolver

    s = DenseGramianSolver(A)
    S = s.factor_schur(B)
    assert np.allclose(S, np.tril(S))  # Cholesky factor (lower) of Q_r^T P Q_r
    P = sla.solve_continuous_lyapunov(A, -B @ B.T)
    Pschur = s.schur.Qr.T @ P @ s.schur.Qr
    assert np.allclose(S @ S.T, Pschur, rtol=0, atol=1e-12 * np.abs(P).max())


def test_copy_free_trsv_and_fallback_agree():
    A, B, _, _ = random_system(50, 2, 1, seed=11)
    cs = ComplexSchur(A)
    Bs = cs.to_complex_basis(B)
    U1 = hammarling_triangular(np.array(cs.T, order="F"), Bs, fast=True)
    U2 = hammarling_triangular(np.array(cs.T, order="F"), Bs, fast=False)
    assert np.abs(U1 - U2).max() <= 1e-13 * np.abs(U1).max()


def test_cauchy_underflow_regression():
    """A = -diag(1..400), B = ones: the factor's entries decay below 1e-300; a naive |b|^2 underflows
    and ruins the whole factor (relative error 1e-2 before the fix). P_ij = 1 / (i + j) exactly."""
    n = 400
    A = -np.diag(np.arange(1.0, n + 1))
    f = hammarling(A, np.ones((n, 1)), residual=False)
    i = np.arange(1.0, n + 1)
    P = 1.0 / (i[:, None] + i[None, :])
    assert np.abs(f.Z @ f.Z.T - P).max() <= 1e-14


def test_solve_lyapunov_dense_with_e():
    A, B, _, E = random_system(25, 2, 1, seed=5)
    Q = B @ B.T
    X = solve_lyapunov(A, Q, E)
    R = A @ X @ E.T + E @ X @ A.T + Q
    assert np.linalg.norm(R) <= 1e-12 * np.linalg.norm(Q)
    Ad = 0.5 * A / np.abs(np.linalg.eigvals(A)).max()
    Xd = solve_lyapunov(Ad, Q, discrete=True)
    assert np.linalg.norm(Ad @ Xd @ Ad.T - Xd + Q) <= 1e-12 * np.linalg.norm(Q)


def test_errors():
    A, B, _, _ = random_system(10, 1, 1, seed=0)
    with pytest.raises(UnstableSystemError, match="non-negative real part"):
        lyapunov_factor(-A, B)
    with pytest.raises(UnstableSystemError, match="unit circle"):
        lyapunov_factor(A, B, discrete=True)
    with pytest.raises(SingularMatrixError):
        lyapunov_factor(A, B, E=np.diag([1.0] * 9 + [0.0]))
    with pytest.raises(InputError, match="rows"):
        lyapunov_factor(A, B[:5])
    with pytest.raises(InputError, match="square"):
        lyapunov_factor(A[:, :5], B)
    with pytest.raises(InputError, match="non-finite"):
        lyapunov_factor(np.where(np.eye(10) > 0, np.nan, A), B)
    with pytest.raises(InputError, match="method"):
        lyapunov_factor(A, B, method="krylov9")
    with pytest.raises(InputError, match="continuous"):
        lyapunov_factor(A, B, method="adi", discrete=True)


# ---------------------------------------------------------------- HSV accuracy vs SLICOT
def _hsv_slycot(sys):
    slycot = pytest.importorskip("slycot", reason="SLICOT comparison needs slycot (the 'test' extra)")
    A, B, C, D, E = sys.dense_matrices()
    assert E is None
    out = slycot.ab09ad("C", "B", "N", sys.n, sys.m, sys.p, A.copy(), B.copy(), C.copy(), nr=1, tol=0.0)
    return out[4]


def _assert_hsv_close(ours, ref):
    k = min(len(ours), len(ref))
    d = np.abs(ours[:k] - ref[:k])
    assert d.max() <= 1e-12 * ref[0], d.max() / ref[0]
    big = ref[:k] >= 1e-4 * ref[0]
    assert np.all(d[big] <= 1e-10 * ref[:k][big]), (d[big] / ref[:k][big]).max()


@pytest.mark.parametrize("name", ["build", "cdplayer", "heat-cont"])
def test_hsv_vs_slycot_ab09ad(load_benchmark, name):
    from physfact.control import balanced_truncation

    sys = load_benchmark(name)
    ref = _hsv_slycot(sys)
    res = balanced_truncation(sys, rank=5)
    assert res.hsv.size == sys.n
    _assert_hsv_close(res.hsv, ref)


def test_hsv_fom_vs_slycot():
    from physfact.control import balanced_truncation, models

    sys = models.fom()
    ref = _hsv_slycot(sys.to_dense())
    _assert_hsv_close(balanced_truncation(sys, rank=10).hsv, ref)


def test_heat_cont_hsv_vs_file(control_data):
    import scipy.io

    from physfact.control import balanced_truncation
    from physfact.control.models import load_mat

    ref = scipy.io.loadmat(control_data / "heat-cont.mat")["hsv"].ravel()
    res = balanced_truncation(load_mat(control_data / "heat-cont.mat"), rank=10)
    assert np.abs(res.hsv - ref).max() <= 1e-10 * ref[0]


def test_auto_dispatch_dense_and_adi_agree():
    """method="auto" uses Hammarling for small problems and LR-ADI for large sparse ones; on the same
    sparse problem the two factors give the same Gramian (to the ADI tolerance)."""
    pytest.importorskip("physfact.control.lradi")
    from physfact.control import models

    s = models.heat1d(300)
    dense = lyapunov_factor(s.A, s.B)
    assert dense.method == "hammarling"
    adi = lyapunov_factor(s.A, s.B, method="adi", tol=1e-12)
    assert adi.method == "lradi" and adi.rank < 60
    X = dense.to_dense()
    assert np.linalg.norm(adi.to_dense() - X, 2) <= 1e-9 * np.linalg.norm(X, 2)
    big = models.heat1d(2500)
    assert lyapunov_factor(big.A, big.B, tol=1e-8).method == "lradi"


def test_qz_generalized_factors_match_scipy():
    from physfact.control.hammarling import QZGramianSolver

    A, B, C, E = random_system(30, 2, 3, seed=12)
    s = QZGramianSolver(A, E)
    P = s.factor(B) @ s.factor(B).T
    Lo = s.factor(C.T, trans=True)
    Q = Lo @ Lo.T
    Ah = np.linalg.solve(E, A)
    Bh = np.linalg.solve(E, B)
    Pref = sla.solve_continuous_lyapunov(Ah, -Bh @ Bh.T)
    Qh = sla.solve_continuous_lyapunov(Ah.T, -C.T @ C)
    Qref = np.linalg.solve(E.T, np.linalg.solve(E.T, Qh).T).T
    assert np.linalg.norm(P - Pref) <= 1e-12 * np.linalg.norm(Pref)
    assert np.linalg.norm(Q - Qref) <= 1e-12 * np.linalg.norm(Qref)


def test_ill_conditioned_e_uses_qz_and_keeps_accuracy(control_data):
    """LF10 (second order, cond(E) ~ 3e10): through E^{-1}A the HSVs below ~1e-9 were noise and a
    rank-10 ROM was off by 1e-9 against a 'bound' of 1e-15; through QZ the error tracks the bound."""
    from physfact.control import balanced_truncation
    from physfact.control.models import load_mat

    sys = load_mat(control_data / "LF10.mat")
    f = hammarling(sys.A, sys.B, sys.E)
    # relative residual ||R|| / ||B B^T||: 4e-9 through QZ, 2e-3 through E^{-1}A (the scale of the
    # problem, ||A|| ||E|| ||X|| / ||B B^T|| ~ 1e12, makes 1e-9 the backward-stable level)
    assert f.info["reduction"] == "QZ" and f.residual < 1e-7
    for r in (4, 6, 8):
        res = balanced_truncation(sys, rank=r)
        assert res.solver == "hammarling-qz"
        err = (sys - res.rom).hinf_norm()
        assert res.hsv[r] <= err <= res.error_bound * (1 + 1e-3) + 1e-13 * res.hsv[0]
