"""ADI shift generators against analytic results and a brute-force minimax optimisation."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize

from physfact.control import shifts as S
from physfact.errors import InputError


def test_wachspress_single_shift_is_geometric_mean():
    a, b = 2.0, 800.0
    p = S.wachspress_shifts(a, b, 1)
    assert p[0] == pytest.approx(-np.sqrt(a * b), rel=1e-11)  # scipy's ellipj: ~1e-12
    # classical one-parameter ADI error: (sqrt b - sqrt a) / (sqrt b + sqrt a)
    expect = (np.sqrt(b) - np.sqrt(a)) / (np.sqrt(b) + np.sqrt(a))
    assert S.wachspress_error(a, b, 1) == pytest.approx(expect, rel=1e-12)


@pytest.mark.parametrize("J", [2, 3])
def test_wachspress_is_the_minimax_optimum(J):
    a, b = 1.0, 1e3
    x = -np.geomspace(a, b, 6001)

    def maxmod(q):
        return np.max(S.adi_rational_modulus(-np.exp(q), x))

    ours = maxmod(np.log(-S.wachspress_shifts(a, b, J)))
    # brute force from several starts; the optimum cannot beat the Wachspress/Zolotarev value
    best = min(minimize(lambda q: np.log(maxmod(q)), np.log(np.geomspace(a, b, J + 2)[1:-1]) * s,
                        method="Nelder-Mead", options=dict(xatol=1e-10, fatol=1e-13, maxiter=4000)).fun
               for s in (1.0, 0.97))
    assert ours <= np.exp(best) * (1 + 1e-6)
    assert ours >= np.exp(best) * (1 - 1e-3)  # and the optimiser does find it
    # the exact value from the equioscillation points agrees with the dense grid maximum
    assert S.wachspress_error(a, b, J) == pytest.approx(ours, rel=1e-6)


def test_wachspress_equioscillates_and_count_meets_tol():
    a, b = 0.01, 50.0
    for J in (4, 7):
        p = S.wachspress_shifts(a, b, J)
        assert np.all((p <= -a) & (p >= -b))
        x = -np.geomspace(a, b, 200001)
        mod = S.adi_rational_modulus(p, x)
        # J + 1 local maxima of equal height (the Chebyshev alternation of the optimum)
        peaks = mod[1:-1][(mod[1:-1] >= mod[:-2]) & (mod[1:-1] >= mod[2:])]
        peaks = np.concatenate([[mod[0]], peaks, [mod[-1]]])
        assert len(peaks) == J + 1
        assert np.ptp(peaks) <= 1e-5 * peaks.max()
    J = S.wachspress_count(a, b, 1e-10)
    assert S.wachspress_error(a, b, J) ** 2 <= 1e-10 < S.wachspress_error(a, b, J - 1) ** 2


def test_wachspress_bad_bounds():
    with pytest.raises(InputError):
        S.wachspress_shifts(5.0, 1.0, 3)
    with pytest.raises(InputError):
        S.wachspress_shifts(-1.0, 1.0, 3)


def test_projection_shifts_on_invariant_subspace_are_eigenvalues():
    rng = np.random.default_rng(1)
    n = 40
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = -np.arange(1.0, n + 1)
    E = np.eye(n) + 0.1 * np.diag(rng.random(n))
    # A = E Q diag(lam) Q^T: E^{-1}A has eigenvectors Q, so span(Q[:, :3]) is invariant
    A = E @ Q @ np.diag(lam) @ Q.T
    ritz = S.projection_shifts(sp.csc_matrix(A), sp.csc_matrix(E), Q[:, :3] @ rng.standard_normal((3, 3)))
    assert np.allclose(np.sort(ritz.real), np.sort(lam[:3]), atol=1e-10)


def test_arnoldi_ritz_exact_for_full_krylov_space():
    d = -np.array([1.0, 2.0, 5.0, 9.0])
    ritz = S.arnoldi_ritz(lambda x: d * x, np.ones(4), 10)
    assert np.allclose(np.sort(ritz.real), np.sort(d))


def test_select_shifts_takes_all_eigenvalues_when_allowed():
    cand = np.array([-1.0, -10.0, -2.0 + 3.0j, -2.0 - 3.0j, -50.0])
    p = S.select_shifts(cand, num=5)
    full = np.concatenate([p, p[p.imag != 0].conj()])
    assert np.max(S.adi_rational_modulus(full, cand)) < 1e-12
    p2 = S.select_shifts(cand, num=1)  # the single best one: minimise max over the candidates
    scores = [np.max(S.adi_rational_modulus([c] if c.imag == 0 else [c, c.conjugate()], cand))
              for c in cand]
    assert np.isclose(p2[0], cand[int(np.argmin(scores))]) or np.isclose(p2[0], np.conj(cand[int(np.argmin(scores))]))


def test_clean_shifts():
    v = np.array([-1.0, 2.0, -3 + 1e-15j, -3 - 1e-15j, -1 + 2j, -1 - 2j, 0.0])
    c = S.clean_shifts(v)
    assert set(np.round(c, 12)) == {-1.0, -3.0, -1 + 2j}
    assert np.all(c.real < 0)


def test_penzl_shifts_on_diagonal_operator():
    d = -np.geomspace(1.0, 1e4, 200)
    shifts, ritz = S.penzl_shifts(lambda x: d * x, lambda x: x / d, 200, num=10, kplus=20, kminus=10)
    assert np.all(shifts.real < 0) and 8 <= len(shifts) <= 12
    # shifts spread over the spectrum: the rational function is small on the whole interval
    full = np.concatenate([shifts, shifts[shifts.imag != 0].conj()])
    assert np.max(S.adi_rational_modulus(full, d)) < 0.05
    assert ritz.real.max() <= d.max() * (1 - 1e-12) + 1e-9 and ritz.real.min() >= d.min() * (1 + 1e-9)
