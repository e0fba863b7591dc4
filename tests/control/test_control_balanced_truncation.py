"""Balanced truncation: error bound vs certified H-infinity errors, sr vs bfsr, E, unstable,
discrete time, order selection, low-rank vs dense."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

from physfact.control import LTISystem, RoundoffFloorWarning, balanced_truncation, models
from physfact.errors import InputError


@pytest.mark.parametrize("name, r", [("build", 10), ("cdplayer", 20), ("heat-cont", 5)])
def test_hinf_error_below_bound(load_benchmark, name, r):
    sys = load_benchmark(name)
    res = balanced_truncation(sys, rank=r)
    assert res.order == r and res.rom.n == r
    err = (sys - res.rom).hinf_norm()  # certified: the true value is <= err.upper
    assert not err.estimate
    assert err.upper <= res.error_bound * (1 + 1e-8) + res.floor
    assert err >= res.hsv[r] * (1 - 1e-8)  # lower bound: ||G - G_r|| >= sigma_{r+1}


def test_fom_error_bound_and_dc_gain():
    sys = models.fom()
    res = balanced_truncation(sys, rank=20)
    err_sys = sys - res.rom
    est = err_sys.hinf_norm(method="sampling", omega=np.concatenate([[0.0], np.logspace(-1, 4, 300)]))
    assert est <= res.error_bound * (1 + 1e-8)
    assert est >= res.hsv[20]
    # the 1000 real modes make the DC error essentially equal to the bound; exact DC gain of G:
    lam_blocks = [100.0, 200.0, 400.0]
    g0 = sum(200.0 / (1 + w**2) for w in lam_blocks) + np.sum(1.0 / np.arange(1.0, 1001.0))
    assert sys.freqresp([0.0])[0, 0, 0].real == pytest.approx(g0, rel=1e-12)
    assert abs(err_sys.freqresp([0.0])[0, 0, 0]) <= res.error_bound * (1 + 1e-8)


@pytest.mark.slow
def test_fom_error_certified():
    sys = models.fom()
    res = balanced_truncation(sys, rank=20)
    err = (sys - res.rom).hinf_norm()
    assert err.upper <= res.error_bound * (1 + 1e-8)


def test_sr_and_bfsr_same_transfer_function(load_benchmark):
    sys = load_benchmark("cdplayer")
    a = balanced_truncation(sys, rank=12, method="sr")
    b = balanced_truncation(sys, rank=12, method="bfsr")
    w = np.logspace(-1, 5, 50)
    Ga, Gb = a.rom.freqresp(w), b.rom.freqresp(w)
    assert np.abs(Ga - Gb).max() <= 1e-9 * np.abs(Ga).max()
    # sr gives a balanced ROM: its Gramians are both diag(hsv[:r])
    from physfact.control.lyapunov import lyapunov_factor

    A, B, C, _ = a.rom.standard_form()
    P = lyapunov_factor(A, B).to_dense()
    Q = lyapunov_factor(A, C.T, trans=True).to_dense()
    assert np.allclose(P, np.diag(a.hsv[:12]), atol=1e-9 * a.hsv[0])
    assert np.allclose(Q, np.diag(a.hsv[:12]), atol=1e-9 * a.hsv[0])
    assert np.allclose(b.V.T @ b.V, np.eye(12), atol=1e-12)  # bfsr: orthonormal V


def test_descriptor_rail_projection_and_reference(load_benchmark):
    """rail_371 (E s.p.d.): W^T E V = I, and the leading HSVs equal those from scipy's dense
    Bartels–Stewart Gramians of the explicit E^{-1} realization (independent code path)."""
    sys = load_benchmark("rail_371")
    res = balanced_truncation(sys, rank=15)
    E = sys.E.toarray()
    assert np.allclose(res.W.T @ E @ res.V, np.eye(15), atol=1e-10)
    assert np.allclose(res.rom.A, res.W.T @ (sys.A @ res.V), atol=1e-8 * np.abs(res.rom.A).max())
    A, B, C, D = sys.standard_form()
    P = sla.solve_continuous_lyapunov(A, -B @ B.T)
    Q = sla.solve_continuous_lyapunov(A.T, -C.T @ C)
    ref = np.sqrt(np.sort(np.linalg.eigvals(P @ Q).real)[::-1][:10])
    assert np.allclose(res.hsv[:10], ref, rtol=1e-8)
    err = (sys - res.rom).hinf_norm(method="sampling", omega=np.concatenate([[0.0], np.logspace(-6, 1, 40)]))
    assert err <= res.error_bound


def test_unstable_poles_kept_exactly(load_benchmark):
    sys = load_benchmark("build")
    A, B, C, D, _ = sys.dense_matrices()
    rng = np.random.default_rng(1)
    Au = sla.block_diag(A, np.array([[0.5, 2.0], [-2.0, 0.5]]), np.array([[0.1]]))
    Au[:48, 48:] = 1e-2 * rng.standard_normal((48, 3))  # couple the parts
    su = LTISystem(Au, np.vstack([B, rng.standard_normal((3, 1))]), np.hstack([C, rng.standard_normal((1, 3))]))
    res = balanced_truncation(su, rank=8)
    assert res.n_unstable == 3 and res.order == 11
    rom_unstable = np.sort_complex(res.rom.poles()[:3])
    exact = np.sort_complex(np.array([0.5 + 2j, 0.5 - 2j, 0.1]))
    assert np.abs(rom_unstable - exact).max() <= 1e-13
    assert np.all(res.rom.poles()[3:].real < 0)
    # the error system has no unstable part left: compare the frequency responses
    w = np.logspace(-2, 2, 400)
    err = np.linalg.norm(su.freqresp(w) - res.rom.freqresp(w), axis=(1, 2)).max()
    assert err <= res.error_bound
    # and the stable part's HSVs equal those of the decoupled stable subsystem
    assert res.hsv.size == 48


def test_discrete_matches_continuous_via_bilinear(load_benchmark):
    """The bilinear map preserves Hankel singular values and the H-infinity norm."""
    sys = load_benchmark("build")
    A, B, C, D = sys.standard_form()
    n = A.shape[0]
    M = np.linalg.inv(np.eye(n) - A)
    sd = LTISystem((np.eye(n) + A) @ M, np.sqrt(2) * M @ B, np.sqrt(2) * C @ M, D + C @ M @ B, dt=0.1)
    rc = balanced_truncation(sys, rank=8)
    rd = balanced_truncation(sd, rank=8)
    assert np.abs(rc.hsv - rd.hsv).max() <= 1e-10 * rc.hsv[0]
    err = (sd - rd.rom).hinf_norm()
    assert rd.rom.is_discrete and err.upper <= rd.error_bound
    # dense reference Gramians from scipy's Stein solver
    P = sla.solve_discrete_lyapunov(sd.A, sd.B @ sd.B.T)
    Q = sla.solve_discrete_lyapunov(sd.A.T, sd.C.T @ sd.C)
    ref = np.sqrt(np.sort(np.abs(np.linalg.eigvals(P @ Q)))[::-1])
    assert np.abs(rd.hsv[:10] - ref[:10]).max() <= 1e-9 * ref[0]


def test_tol_selects_smallest_order_through_truncation():
    sys = models.heat1d(80)
    res = balanced_truncation(sys, tol=1e-4)
    tails = 2 * np.cumsum(res.hsv[::-1])[::-1]
    r = res.order
    assert r < tails.size and tails[r] <= 1e-4
    assert tails[r - 1] > 1e-4
    assert res.error_bound == pytest.approx(tails[r], rel=1e-12)
    capped = balanced_truncation(sys, tol=1e-12, rank=3)
    assert capped.order == 3
    assert balanced_truncation(sys, tol=1e3).order == 1  # everything negligible: still one state
    with pytest.raises(InputError, match="rank must be >= 1"):
        balanced_truncation(sys, rank=0)


def test_floor_warning_and_bad_input():
    sys = models.heat1d(40)
    with pytest.warns(RoundoffFloorWarning, match="roundoff floor"):
        balanced_truncation(sys, tol=1e-20)
    with pytest.raises(InputError, match="rank=|tol="):
        balanced_truncation(sys)
    with pytest.raises(InputError, match="method"):
        balanced_truncation(sys, rank=2, method="xx")
    with pytest.raises(InputError, match="LTISystem"):
        balanced_truncation(np.eye(3), rank=2)


def test_msd_descriptor_bt_vs_explicit():
    sys = models.msd(30, mass=2.0)
    assert sys.E is not None
    res = balanced_truncation(sys, rank=10)
    A, B, C, D = sys.standard_form()
    ref = balanced_truncation(LTISystem(A, B, C, D), rank=10)
    assert np.abs(res.hsv - ref.hsv).max() <= 1e-11 * ref.hsv[0]
    err = (sys - res.rom).hinf_norm()
    assert err.upper <= res.error_bound
    bf = balanced_truncation(sys, rank=10, method="bfsr")
    assert np.allclose(bf.W.T @ (sys.E @ bf.V), np.eye(10), atol=1e-10)
    w = np.logspace(-2, 1, 20)
    assert np.allclose(bf.rom.freqresp(w), res.rom.freqresp(w), rtol=1e-8, atol=1e-12)


def test_lowrank_matches_dense_rail_371(load_benchmark):
    pytest.importorskip("physfact.control.lradi")
    sys = load_benchmark("rail_371")
    dense = balanced_truncation(sys, rank=20, solver="hammarling")
    low = balanced_truncation(sys, rank=20, solver="adi", adi_tol=1e-12)
    assert low.solver == "lradi"
    assert np.abs(low.hsv[:50] - dense.hsv[:50]).max() <= 1e-8 * dense.hsv[0]
    EV = sys.E @ low.V
    assert np.allclose(low.W.T @ EV, np.eye(20), atol=1e-8)
    w = np.concatenate([[0.0], np.logspace(-6, 0, 40)])
    e1 = (sys - dense.rom).hinf_norm(method="sampling", omega=w)
    e2 = (sys - low.rom).hinf_norm(method="sampling", omega=w)
    assert e2 == pytest.approx(float(e1), rel=5e-3)
    assert e2 <= low.error_bound


@pytest.mark.slow
def test_lowrank_matches_dense_rail_1357(load_benchmark):
    pytest.importorskip("physfact.control.lradi")
    sys = load_benchmark("rail_1357")
    dense = balanced_truncation(sys, rank=20, solver="hammarling")
    low = balanced_truncation(sys, rank=20, solver="adi", adi_tol=1e-12)
    k = 50
    assert np.abs(low.hsv[:k] - dense.hsv[:k]).max() <= 1e-8 * dense.hsv[0]
    w = np.concatenate([[0.0], np.logspace(-6, 0, 80)])
    e1 = (sys - dense.rom).hinf_norm(method="sampling", omega=w)
    e2 = (sys - low.rom).hinf_norm(method="sampling", omega=w)
    assert e2 == pytest.approx(float(e1), rel=5e-3)


def test_shared_and_separate_factorizations_agree(load_benchmark):
    pytest.importorskip("physfact.control.lradi")
    from physfact.control.balanced_truncation import share_factorizations

    sys = load_benchmark("rail_371")
    assert not share_factorizations(sys.B.shape[1], sys.C.shape[0])  # rail: m = 7, p = 6
    auto = balanced_truncation(sys, rank=20, solver="adi", adi_tol=1e-12)
    assert auto.info["shared_factorizations"] is False
    shared = balanced_truncation(sys, rank=20, solver="adi", adi_tol=1e-12, separate=False)
    assert shared.info["shared_factorizations"] is True
    assert np.abs(auto.hsv[:20] - shared.hsv[:20]).max() <= 1e-6 * auto.hsv[0]
