"""DAEs (singular E): the proper/polynomial split and balanced truncation against systems built with
a known structure -- an index-1 DAE against its explicit Schur-complement ODE + feedthrough, an
index-2 DAE with an s-term against its construction."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla

from physfact.control import LTISystem, balanced_truncation
from physfact.control.dae import split_descriptor
from physfact.errors import InputError, SingularMatrixError


def _index1(n1=40, n2=15, seed=0):
    """E = [[I, 0], [0, 0]], A = [[A11, A12], [A21, A22]] with A22 nonsingular."""
    rng = np.random.default_rng(seed)
    A11 = -np.diag(np.linspace(1.0, 50.0, n1)) + 0.3 * rng.standard_normal((n1, n1))
    A12, A21 = 0.5 * rng.standard_normal((n1, n2)), 0.5 * rng.standard_normal((n2, n1))
    A22 = -3.0 * np.eye(n2) + 0.3 * rng.standard_normal((n2, n2))
    B1, B2 = rng.standard_normal((n1, 2)), rng.standard_normal((n2, 2))
    C1, C2 = rng.standard_normal((3, n1)), rng.standard_normal((3, n2))
    A = np.block([[A11, A12], [A21, A22]])
    E = sla.block_diag(np.eye(n1), np.zeros((n2, n2)))
    dae = LTISystem(A, np.vstack([B1, B2]), np.hstack([C1, C2]), None, E)
    # explicit ODE: x2 = -A22^{-1}(A21 x1 + B2 u)
    S = np.linalg.solve(A22, np.hstack([A21, B2]))
    ode = LTISystem(A11 - A12 @ S[:, :n1], B1 - A12 @ S[:, n1:], C1 - C2 @ S[:, :n1], -C2 @ S[:, n1:])
    return dae, ode


def test_index1_dae_matches_schur_complement_ode():
    dae, ode = _index1()
    assert dae.is_dae and not ode.is_dae
    w = np.concatenate([[0.0], np.logspace(-2, 3, 40)])
    G = ode.freqresp(w)
    assert np.abs(dae.freqresp(w) - G).max() <= 1e-10 * np.abs(G).max()
    lam, ref = dae.poles(), ode.poles()
    assert lam.size == ref.size and all(np.min(np.abs(ref - z)) <= 1e-9 * abs(z) for z in lam)
    assert dae.is_stable() and ode.is_stable()
    assert float(dae.hinf_norm()) == pytest.approx(float(ode.hinf_norm()), rel=1e-8)
    r = 8
    a, b = balanced_truncation(dae, rank=r), balanced_truncation(ode, rank=r)
    assert np.allclose(a.hsv[:20], b.hsv[:20], rtol=0, atol=1e-10 * b.hsv[0])
    assert a.order == r and a.rom.E is None  # no s-terms: an ODE ROM with the feedthrough
    assert np.abs(a.rom.freqresp(w) - b.rom.freqresp(w)).max() <= 1e-9 * np.abs(G).max()
    assert np.abs(a.rom.D - ode.D).max() <= 1e-12 * np.abs(ode.D).max()
    err = (ode - a.rom).hinf_norm()
    assert a.hsv[r] * (1 - 1e-8) <= err <= a.error_bound * (1 + 1e-8)
    # SPA of the DAE: DC gain kept
    spa = balanced_truncation(dae, rank=r, method="spa")
    assert np.abs(spa.rom.freqresp([0.0]) - G[:1]).max() <= 1e-10 * np.abs(G).max()


def _index2_with_s_term(seed=1):
    """G(s) = Gp(s) + M0 + s M1 built block-diagonally, hidden by a random orthogonal change of
    coordinates: a proper part (Ap, Bp, Cp), and a nilpotent chain [[0, 1], [0, 0]] (x) I_q with A = I
    realizing -C_inf (I + s N) B_inf."""
    rng = np.random.default_rng(seed)
    n_p, q, m, p = 20, 2, 2, 2
    Ap = -np.diag(np.linspace(0.5, 20.0, n_p)) + 0.2 * rng.standard_normal((n_p, n_p))
    Bp, Cp = rng.standard_normal((n_p, m)), rng.standard_normal((p, n_p))
    N = np.kron(np.eye(2, k=1), np.eye(q))
    Bi, Ci = rng.standard_normal((2 * q, m)), rng.standard_normal((p, 2 * q))
    M0, M1 = -Ci @ Bi, -Ci @ N @ Bi
    A = sla.block_diag(Ap, np.eye(2 * q))
    E = sla.block_diag(np.eye(n_p), N)
    B, C = np.vstack([Bp, Bi]), np.hstack([Cp, Ci])
    n = A.shape[0]
    Ql = np.linalg.qr(rng.standard_normal((n, n)))[0]
    Qr = np.linalg.qr(rng.standard_normal((n, n)))[0]
    sys = LTISystem(Ql @ A @ Qr, Ql @ B, C @ Qr, None, Ql @ E @ Qr)
    return sys, LTISystem(Ap, Bp, Cp), M0, M1


def test_index2_dae_with_s_term_matches_construction():
    sys, proper, M0, M1 = _index2_with_s_term()
    split = split_descriptor(*[sys.dense_matrices()[i] for i in (0, 4, 1, 2)])
    assert split.index == 2 and split.A11.shape[0] == proper.n
    scale = np.abs(M0).max() + np.abs(M1).max()
    assert np.abs(split.polynomial[0] - M0).max() <= 1e-8 * scale
    assert np.abs(split.polynomial[1] - M1).max() <= 1e-8 * scale
    w = np.logspace(-2, 2, 30)
    ref = proper.freqresp(w) + M0 + 1j * w[:, None, None] * M1
    assert np.abs(sys.freqresp(w) - ref).max() <= 1e-8 * np.abs(ref).max()
    assert np.isinf(float(sys.hinf_norm()))
    r = 6
    res = balanced_truncation(sys, rank=r)
    bt = balanced_truncation(proper, rank=r)
    assert np.allclose(res.hsv[:10], bt.hsv[:10], rtol=0, atol=1e-9 * bt.hsv[0])
    # ROM = reduced proper part + the exact polynomial part (2 q states for s M1 of rank q)
    assert res.order == r + 2 * 2 and res.rom.is_dae
    Gr = res.rom.freqresp(w)
    ref_r = bt.rom.freqresp(w) + M0 + 1j * w[:, None, None] * M1
    assert np.abs(Gr - ref_r).max() <= 1e-7 * np.abs(ref).max()
    # the error is that of the proper part: below the bound at every frequency sampled
    err = np.linalg.norm(sys.freqresp(w) - Gr, 2, axis=(1, 2)).max()
    assert err <= res.error_bound * (1 + 1e-6)


def test_frequency_limited_bt_of_a_dae_keeps_the_polynomial_part():
    sys, proper, M0, M1 = _index2_with_s_term()
    band, r = (1.0, 5.0), 4
    res = balanced_truncation(sys, rank=r, frequency_band=band)
    ref = balanced_truncation(proper, rank=r, frequency_band=band)
    assert np.isnan(res.error_bound) and res.order == ref.order + 2 * 2
    assert np.abs(res.hsv[:r] - ref.hsv[:r]).max() <= 1e-8 * ref.hsv[0]
    w = np.linspace(*band, 50)
    expected = ref.rom.freqresp(w) + M0 + 1j * w[:, None, None] * M1
    assert np.abs(res.rom.freqresp(w) - expected).max() <= 1e-7 * np.abs(expected).max()
    assert res.info["band_error"] == pytest.approx(ref.info["band_error"], rel=1e-6)


def test_singular_pencil_refused():
    A = np.diag([-1.0, 0.0])
    E = np.diag([1.0, 0.0])
    with pytest.raises(SingularMatrixError, match="singular"):
        LTISystem(A, np.ones(2), np.ones(2), E=E)


def test_simulate_index1_dae_matches_schur_ode_states_included():
    dae, ode = _index1()
    n1 = ode.n
    t = np.linspace(0.0, 3.0, 1501)
    u = np.column_stack([np.sin(3.0 * t), np.cos(t) - 1.0])
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal(dae.n)  # its algebraic part is inconsistent: only x0[:n1] counts
    got = dae.simulate(t, u, x0=x0, return_states=True)
    ref = ode.simulate(t, u, x0=x0[:n1], return_states=True)
    assert np.abs(got.y - ref.y).max() <= 1e-9 * np.abs(ref.y).max()
    assert np.abs(got.x[:, :n1] - ref.x).max() <= 1e-9 * np.abs(ref.x).max()
    # the algebraic states satisfy 0 = A21 x1 + A22 x2 + B2 u at every time
    A, B = dae.A, dae.B
    alg = got.x @ A[n1:].T + u @ B[n1:].T
    assert np.abs(alg).max() <= 1e-9 * np.abs(got.x).max()


def test_simulate_dae_with_s_term_uses_the_input_derivative():
    sys, proper, M0, M1 = _index2_with_s_term()
    t = np.linspace(0.0, 4.0, 4001)
    u = np.column_stack([np.sin(2.0 * t), np.exp(-t)])
    du = np.column_stack([2.0 * np.cos(2.0 * t), -np.exp(-t)])
    got = sys.simulate(t, u, return_states=True)
    ref = proper.simulate(t, u).y + u @ M0.T + du @ M1.T  # u' known analytically
    assert np.abs(got.y - ref).max() <= 1e-5 * np.abs(ref).max()
    assert np.abs(got.y - ref).max() >= 1e-12  # the sampled derivative is not exact: this is a real check
    # the states (finite part + the u, u' terms of the infinite part) reproduce the output: y = C x
    assert np.abs(got.x @ sys.C.T - got.y).max() <= 1e-9 * np.abs(got.y).max()
    with pytest.raises(InputError, match="3 time points"):
        sys.simulate(t[:2], u[:2])
