"""Frequency-limited balanced truncation: band Gramians against their quadrature definition, in-band
error against plain BT, the low-rank path against the dense one, bad bands refused."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import eigh as sla_eigh

from physfact.control import LTISystem, balanced_truncation, models
from physfact.control.frequency_limited import band_gramians
from physfact.errors import InputError


def _quadrature_gramians(sys, w1, w2, nodes=400):
    """(1/pi) Re int_{w1}^{w2} of the frequency-domain Gramian integrands (Gauss-Legendre)."""
    A, B, C, _ = sys.standard_form()
    n = A.shape[0]
    x, wts = np.polynomial.legendre.leggauss(nodes)
    nu, wts = 0.5 * (w2 - w1) * x + 0.5 * (w2 + w1), 0.5 * (w2 - w1) * wts
    P, Q = np.zeros((n, n)), np.zeros((n, n))
    for v, c in zip(nu, wts):
        R = np.linalg.solve(1j * v * np.eye(n) - A, B)
        L = np.linalg.solve((1j * v * np.eye(n) - A).T, C.T)
        P += c * np.real(R @ R.conj().T) / np.pi
        Q += c * np.real(L.conj() @ L.T) / np.pi
    return P, Q


@pytest.mark.parametrize("mass", [1.0, 2.5])  # 2.5: E = blkdiag(I, M) is not the identity
def test_band_gramians_match_quadrature(mass):
    sys = models.msd(10, mass=mass)
    P, Q = band_gramians(sys, (0.3, 0.9))
    Pq, Qq = _quadrature_gramians(sys, 0.3, 0.9)
    assert np.abs(P - Pq).max() <= 1e-8 * np.abs(Pq).max()
    assert np.abs(Q - Qq).max() <= 1e-8 * np.abs(Qq).max()


def test_band_gramians_limits():
    sys = models.msd(6)
    A, B, C, _ = sys.standard_form()
    from physfact.control.lyapunov import solve_lyapunov

    P = solve_lyapunov(A, B @ B.T)
    Pfull, _ = band_gramians(sys, (0.0, np.inf))
    assert np.abs(Pfull - P).max() <= 1e-10 * np.abs(P).max()
    # the two halves add up
    Pa, _ = band_gramians(sys, (0.0, 0.5))
    Pb, _ = band_gramians(sys, (0.5, np.inf))
    assert np.abs(Pa + Pb - P).max() <= 1e-10 * np.abs(P).max()


def test_in_band_error_below_plain_bt_on_resonant_model():
    sys = models.msd(30)  # lightly damped chain: resonances across (0, 2) rad/s
    band, r = (0.4, 0.8), 6
    fl = balanced_truncation(sys, rank=r, frequency_band=band)
    bt = balanced_truncation(sys, rank=r)
    w = np.linspace(*band, 400)
    G = sys.freqresp(w)
    err_fl = np.abs(G - fl.rom.freqresp(w)).max()
    err_bt = np.abs(G - bt.rom.freqresp(w)).max()
    assert err_fl < 0.5 * err_bt
    assert fl.rom.is_stable() and fl.order == r
    assert np.isnan(fl.error_bound) and "no a-priori bound" in fl.info["error_bound_note"]
    # the reported in-band error is a sampled value of the same quantity
    assert fl.info["band_error"] == pytest.approx(err_fl, rel=0.05)
    assert band[0] <= fl.info["band_error_frequency"] <= band[1]


def _fom_like(n_real):
    """Penzl's FOM with n_real real modes (models.fom has 1000)."""
    blocks = [np.array([[-1.0, w], [-w, -1.0]]) for w in (100.0, 200.0, 400.0)]
    A = sp.block_diag(blocks + [sp.diags(-np.arange(1.0, n_real + 1.0))], format="csr")
    b = np.concatenate([10.0 * np.ones(6), np.ones(n_real)])
    return LTISystem(A, b[:, None], b[None, :])


def _lowrank_vs_dense(sys, band, r):
    dense = balanced_truncation(sys, rank=r, frequency_band=band, solver="hammarling")
    lowrank = balanced_truncation(sys, rank=r, frequency_band=band, solver="adi")
    assert lowrank.solver.startswith("lradi") and lowrank.info["gramians"] == dense.info["gramians"]
    assert np.abs(lowrank.hsv[: r + 2] - dense.hsv[: r + 2]).max() <= 1e-8 * dense.hsv[0]
    w = np.linspace(*band, 100)
    G = sys.freqresp(w)
    assert np.abs(lowrank.rom.freqresp(w) - dense.rom.freqresp(w)).max() <= 1e-8 * np.abs(G).max()
    assert lowrank.rom.is_stable()


def test_lowrank_matches_dense_small():
    _lowrank_vs_dense(_fom_like(200), (150.0, 250.0), 2)


@pytest.mark.slow
def test_lowrank_matches_dense_fom():
    _lowrank_vs_dense(models.fom(), (150.0, 250.0), 4)  # n = 1006


def test_modified_gramians_lowrank_matches_dense():
    """msd:20 on (0.8, 0.9) at r = 6: orders 5, 6, 7 with the exact band Gramians are all unstable, so
    both paths fall back to the modified Gramians (stable by construction); the low-rank one (its
    S B from the Galerkin basis) agrees with the dense one."""
    sys = models.msd(20)
    _lowrank_vs_dense(sys, (0.8, 0.9), 6)
    res = balanced_truncation(sys, rank=6, frequency_band=(0.8, 0.9), solver="adi")
    assert res.info["gramians"].startswith("modified") and res.order == 6


def test_bad_band_refused():
    sys = models.msd(4)
    for band in [(2.0, 1.0), (-1.0, 1.0), (1.0,), "ab"]:
        with pytest.raises(InputError, match="frequency_band"):
            balanced_truncation(sys, rank=2, frequency_band=band)
    with pytest.raises(InputError, match="'sr' or 'bfsr'"):
        balanced_truncation(sys, rank=2, frequency_band=(0.1, 1.0), method="spa")


def _modal_response(sys, w):
    """G(i w) from one eigendecomposition of E^{-1}A (vectorised over w; not freqresp's solves)."""
    A, B, C, D = sys.to_dense().standard_form()
    lam, X = np.linalg.eig(A)
    Cx, Xb = C @ X, np.linalg.solve(X, B)
    return np.einsum("pk,wk,km->wpm", Cx, 1.0 / (1j * w[:, None] - lam[None, :]), Xb) + D


def _fine_grid_error(sys, rom, band, n=40001):
    w = np.linspace(*band, n)
    D = _modal_response(sys, w) - _modal_response(rom, w)
    return np.linalg.norm(D, ord=2, axis=(1, 2)).max()


@pytest.mark.parametrize("model, band, r, solver", [
    (lambda: models.msd(30), (0.4, 0.8), 6, "hammarling"),  # four resonances in the band
    (lambda: models.msd(60, damping=0.02), (0.6, 0.8), 10, "hammarling"),  # lighter damping, narrower peaks
    (lambda: _fom_like(200), (150.0, 250.0), 2, "adi"),  # low-rank path: seeds from Ritz values
])
def test_reported_band_error_is_the_fine_grid_maximum(model, band, r, solver):
    """The adaptive in-band error (a few dozen frequencies) agrees with a 40,001-point sweep to 1e-3."""
    sys = model()
    res = balanced_truncation(sys, rank=r, frequency_band=band, solver=solver)
    fine = _fine_grid_error(sys, res.rom, band)
    assert res.info["band_error"] == pytest.approx(fine, rel=1e-3)
    assert res.info["band_error_points"] < 200
    assert "in-band frequencies" in res.info["band_error_note"]


def _band_operator_quadrature(A, w1, w2, nodes=400):
    """S = (1/2pi) int_{w1}^{w2} [(i v - A)^{-1} + (-i v - A)^{-1}] dv (Gauss-Legendre), the
    derivative of S(w) = Re((i/pi) log(-A - i w)) integrated."""
    n = A.shape[0]
    x, wts = np.polynomial.legendre.leggauss(nodes)
    nu, wts = 0.5 * (w2 - w1) * x + 0.5 * (w2 + w1), 0.5 * (w2 - w1) * wts
    R = np.linalg.inv(1j * nu[:, None, None] * np.eye(n) - A)
    return np.einsum("k,kij->ij", wts, R.real) / np.pi


@pytest.mark.parametrize("kind", ["non-normal", "defective"])
def test_band_operator_against_quadrature(kind):
    """Diagonalization (well-conditioned eigenvectors) and the logm fallback (a Jordan block) both
    match the integral of the resolvent."""
    from physfact.control.frequency_limited import EIG_COND_MAX, _band_operator

    rng = np.random.default_rng(3)
    if kind == "non-normal":
        A = rng.standard_normal((12, 12)) - 5.0 * np.eye(12)
    else:
        A = -np.eye(6) + np.diag(np.full(5, 1.0), 1)  # one Jordan block at -1
    S, lam = _band_operator(A, 0.5, 2.0)
    X = np.linalg.eig(A)[1]
    assert (np.linalg.cond(X) <= EIG_COND_MAX) == (kind == "non-normal")
    Sq = _band_operator_quadrature(A, 0.5, 2.0)
    assert np.abs(S - Sq).max() <= 1e-10 * np.abs(Sq).max()
    assert np.sort(lam.real).max() < 0


def _fe_cantilever(ny=2):
    """physfact.fem's plane-stress cantilever as a first-order system (as in benchmarks/control_bt.py):
    Rayleigh damping, 1 % at the 1st and 3rd bending modes; input the end load, output the mean
    vertical end displacement."""
    from physfact.control import SecondOrderSystem
    from physfact.fem import cantilever

    prob = cantilever(length=20.0, height=1.0, ny=ny)
    K, M = prob.K.tocsr(), prob.M.tocsr()
    w = np.sqrt(np.sort(sla_eigh(K.toarray(), M.toarray(), eigvals_only=True)[:3]))
    a, b = 0.02 * w[0] * w[2] / (w[0] + w[2]), 0.02 / (w[0] + w[2])
    load = prob.f != 0
    Cp = np.where(load, 1.0 / load.sum(), 0.0)[None, :]
    sos = SecondOrderSystem(M, a * M + b * K, K, (prob.f / np.linalg.norm(prob.f))[:, None], Cp)
    return sos.to_first_order(), w


def test_lowrank_matches_dense_fe_cantilever():
    """An FE structure (n = 480, E = blkdiag(I, M)): projection shifts with unstable Ritz values
    dropped, LR-ADI converges; low-rank FLBT vs dense on the band of the 2nd and 3rd modes."""
    sys, w = _fe_cantilever(2)
    _lowrank_vs_dense(sys, (0.6 * w[1], 1.4 * w[2]), 6)


def test_floor_db_leaves_notches_coarse_and_finds_the_peak():
    """adaptive_frequency_grid(floor_db=...): a deep notch far below the maximum is not resolved
    (fewer points), the peak is found to peak_db either way."""
    from physfact.control.frequency_grid import adaptive_frequency_grid

    def curve(w):  # a resonance at 2 (height 100) and a notch at 5 (depth 1e-4)
        return (1.0 / np.abs(4.0 - w ** 2 + 0.02j * w) + 1e-4 + np.abs(w - 5.0))[:, None]

    start = np.linspace(0.1, 10.0, 12)
    w_all, v_all = adaptive_frequency_grid(curve, start, peak_db=0.002)
    w_max, v_max = adaptive_frequency_grid(curve, start, peak_db=0.002, floor_db=6.0)
    fine = curve(np.linspace(1.9, 2.1, 200001))[:, 0].max()
    assert v_max.max() == pytest.approx(fine, rel=1e-3) and v_all.max() == pytest.approx(fine, rel=1e-3)
    assert w_max.size < w_all.size
    near_notch = lambda w: np.count_nonzero(np.abs(w - 5.0) < 0.5)  # noqa: E731
    assert near_notch(w_max) < near_notch(w_all)


def test_modified_gramians_lowrank_matches_dense_with_e():
    """The same fallback for a descriptor realization E x' = (E A) x + (E B) u of msd:20 with a
    non-diagonal, badly scaled E (same transfer function): S acts on the states E^{-1} B, and E maps
    the result back to a right-hand side (applying S to B itself was wrong for E != I)."""
    import scipy.sparse as sp

    from physfact.control import LTISystem

    base = models.msd(20)
    A, B, C, D = base.standard_form()
    n = A.shape[0]
    rng = np.random.default_rng(7)
    E = sp.csr_matrix(np.diag(10.0 ** rng.uniform(-2, 2, n)) + np.diag(0.3 * rng.uniform(size=n - 1), 1))
    sys = LTISystem(sp.csr_matrix(E @ A), E @ B, C, D, E)
    assert np.abs(sys.freqresp([0.85]) - base.freqresp([0.85])).max() <= 1e-10 * np.abs(base.freqresp([0.85])).max()
    _lowrank_vs_dense(sys, (0.8, 0.9), 6)
    res = balanced_truncation(sys, rank=6, frequency_band=(0.8, 0.9), solver="adi")
    assert res.info["gramians"].startswith("modified") and res.order == 6
