"""Large sparse semi-explicit index-1 DAEs (physfact.control.dae_index1): the LR-ADI route on the
augmented pencil against the dense DAE split (dae.py) and against the explicit Schur-complement ODE
+ feedthrough built densely; SPA's DC gain; the public RLC ladder model; refusals."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from physfact.control import LTISystem, balanced_truncation, models
from physfact.control.dae_index1 import Index1Pencil, semi_explicit_structure
from physfact.control.lyapunov import solve_lyapunov
from physfact.errors import InputError, SingularMatrixError, UnstableSystemError


def _schur_ode(sys):
    """The explicit ODE E11 x1' = A_s x1 + B_s u, y = C_s x1 + D_s u, formed densely (the reference)."""
    st = semi_explicit_structure(sys.E)
    A, E = sys.A.toarray(), sys.E.toarray()
    r1, c1, r2, c2 = st.rows1, st.cols1, st.rows2, st.cols2
    S = np.linalg.solve(A[np.ix_(r2, c2)], np.hstack([A[np.ix_(r2, c1)], sys.B[r2]]))
    n1 = r1.size
    A12, C2 = A[np.ix_(r1, c2)], sys.C[:, c2]
    return LTISystem(A[np.ix_(r1, c1)] - A12 @ S[:, :n1], sys.B[r1] - A12 @ S[:, n1:],
                     sys.C[:, c1] - C2 @ S[:, :n1], sys.D - C2 @ S[:, n1:], E[np.ix_(r1, c1)])


def _permuted_index1(n1=120, n2=50, seed=3):
    """A non-symmetric semi-explicit index-1 DAE (m = 2, p = 3) with rows and columns permuted
    differently, so the algebraic rows and columns are scattered and not the same indices."""
    rng = np.random.default_rng(seed)
    A11 = sp.diags([np.full(n1 - 1, 0.5), -np.linspace(1.0, 40.0, n1), np.full(n1 - 1, -0.4)], [-1, 0, 1])
    A12 = sp.random(n1, n2, density=0.05, random_state=seed)
    A21 = sp.random(n2, n1, density=0.05, random_state=seed + 1)
    A22 = sp.diags([np.full(n2 - 1, 0.3), -2.0 - rng.random(n2), np.full(n2 - 1, 0.2)], [-1, 0, 1])
    E11 = sp.diags(1.0 + rng.random(n1))
    A = sp.bmat([[A11, A12], [A21, A22]], format="csr")
    E = sp.bmat([[E11, None], [None, sp.csr_matrix((n2, n2))]], format="csr")
    B, C = rng.standard_normal((n1 + n2, 2)), rng.standard_normal((3, n1 + n2))
    pr, pc = rng.permutation(n1 + n2), rng.permutation(n1 + n2)
    return LTISystem(A[pr][:, pc], B[pr], C[:, pc], 0.1 * rng.standard_normal((3, 2)), E[pr][:, pc])


def test_rlcladder_is_semi_explicit_index1():
    sys = models.load("rlcladder:50")
    assert sys.n == 200 and sys.is_dae and sys.semi_explicit is not None
    st = sys.semi_explicit
    assert st.n_algebraic == 100 and np.array_equal(st.rows2, st.cols2)
    assert np.all(np.diff(st.rows2) < 4)  # interleaved, not a trailing block
    ode = _schur_ode(sys)
    w = np.logspace(-2, 1, 30)
    G = ode.freqresp(w)
    assert np.abs(sys.freqresp(w) - G).max() <= 1e-10 * np.abs(G).max()
    assert sys.is_stable()
    # G(infinity) = Rg || (R + Rg || R) for the defaults R = 0.1, Rg = 10
    par = lambda a, b: a * b / (a + b)  # noqa: E731
    assert ode.D[0, 0] == pytest.approx(par(10.0, 0.1 + par(10.0, 0.1)), rel=1e-12)


def test_lifted_adi_factor_is_the_schur_complement_gramian():
    from physfact.control.lradi import lradi
    from physfact.control.dae_index1 import proper_realization

    sys = _permuted_index1()
    proj, pencil = proper_realization(sys)
    st = pencil.structure
    f = lradi(proj.A, proj.B, proj.E, tol=1e-12, E_inverse=pencil)
    ode = _schur_ode(sys)
    E11 = ode.E
    P = solve_lyapunov(ode.A, ode.B @ ode.B.T, E11)
    Z1 = f.Z[st.cols1]
    assert np.linalg.norm(Z1 @ Z1.T - P, 2) <= 1e-9 * np.linalg.norm(P, 2)
    # the algebraic rows are the lift -A22^{-1} A21 Z1 (the proper Gramian of the DAE)
    assert np.abs(f.Z - pencil.lift(Z1)).max() <= 1e-12 * np.abs(f.Z).max()
    g = lradi(proj.A, proj.C.T, proj.E, trans=True, tol=1e-12, E_inverse=pencil)
    Q = solve_lyapunov(ode.A.T, ode.C.T @ ode.C, E11.T)
    Y1 = g.Z[st.rows1]  # observability factor lives in the rows of A (the columns of A^T)
    assert np.linalg.norm(E11.T @ (Y1 @ Y1.T) @ E11 - E11.T @ Q @ E11, 2) <= 1e-8 * np.linalg.norm(E11.T @ Q @ E11, 2)


@pytest.mark.parametrize("method", ["sr", "spa"])
def test_sparse_route_matches_dense_dae_path_and_schur_ode(method):
    sys = models.load("rlcladder:80")  # n = 320
    r = 8
    lr = balanced_truncation(sys, rank=r, method=method, solver="adi")
    dense = balanced_truncation(sys, rank=r, method=method, solver="hammarling")  # ordered QZ split (dae.py)
    ode = balanced_truncation(_schur_ode(sys), rank=r, method=method, solver="hammarling")
    assert "index1" in lr.solver and "dae-split" in dense.solver
    for ref in (dense, ode):
        assert np.allclose(lr.hsv[:r], ref.hsv[:r], rtol=1e-8, atol=0)
    w = np.concatenate([[0.0], np.logspace(-2, 1, 60)])
    G = sys.freqresp(w)
    Gr = lr.rom.freqresp(w)
    for ref in (dense, ode):
        assert np.abs(Gr - ref.rom.freqresp(w)).max() <= 1e-8 * np.abs(G).max()
    assert lr.order == r and lr.rom.E is None and lr.rom.is_stable()
    if method == "sr":  # the feedthrough D - C2 A22^{-1} B2 kept exactly (SPA residualizes into it)
        assert np.abs(lr.rom.D - _schur_ode(sys).D).max() <= 1e-13
    err = np.abs(G - Gr).max()
    assert lr.hsv[r] * 0.5 <= err <= lr.error_bound * (1 + 1e-8)  # sampled error below the bound
    if method == "spa":  # DC gain exact
        assert abs(Gr[0, 0, 0] - G[0, 0, 0]) <= 1e-10 * abs(G[0, 0, 0])


def test_permuted_nonsymmetric_index1_mimo_against_schur_ode():
    sys = _permuted_index1()
    assert sys.semi_explicit is not None and not np.array_equal(sys.semi_explicit.rows2, sys.semi_explicit.cols2)
    ode = _schur_ode(sys)
    r = 10
    lr = balanced_truncation(sys, rank=r, solver="adi", adi_tol=1e-12)
    ref = balanced_truncation(ode, rank=r, solver="hammarling")
    assert np.allclose(lr.hsv[:r], ref.hsv[:r], rtol=1e-8, atol=0)
    w = np.concatenate([[0.0], np.logspace(-1, 2.5, 40)])
    G = ode.freqresp(w)
    assert np.abs(lr.rom.freqresp(w) - ref.rom.freqresp(w)).max() <= 1e-8 * np.abs(G).max()
    assert np.abs(lr.rom.D - ode.D).max() <= 1e-12 * np.abs(ode.D).max()
    # projection bases on the original pencil: W^T E V = I
    assert np.abs(lr.W.T @ (sys.E @ lr.V) - np.eye(r)).max() <= 1e-8
    bf = balanced_truncation(sys, rank=r, solver="adi", adi_tol=1e-12, method="bfsr")
    assert np.abs(bf.rom.freqresp(w) - ref.rom.freqresp(w)).max() <= 1e-8 * np.abs(G).max()
    # scaling the algebraic equations (rows) and variables (columns) changes nothing
    st = sys.semi_explicit
    dr, dc = np.ones(sys.n), np.ones(sys.n)
    dr[st.rows2], dc[st.cols2] = 1e8, 1e-5
    scaled = LTISystem(sp.diags(dr) @ sys.A @ sp.diags(dc), dr[:, None] * sys.B, sys.C * dc, sys.D,
                       sp.diags(dr) @ sys.E @ sp.diags(dc))
    sc = balanced_truncation(scaled, rank=r, solver="adi", adi_tol=1e-12)
    assert np.allclose(sc.hsv[:r], lr.hsv[:r], rtol=1e-8, atol=0)
    assert np.abs(sc.rom.freqresp(w) - lr.rom.freqresp(w)).max() <= 1e-8 * np.abs(G).max()


def test_auto_takes_the_sparse_route_above_the_dense_limit():
    sys = models.rlc_ladder(520)  # n = 2080 > AUTO_DENSE_LIMIT
    res = balanced_truncation(sys, rank=6)
    assert "index1" in res.solver and res.info["algebraic_states"] == 1040
    w = np.logspace(-2, 1, 25)
    G = sys.freqresp(w)
    assert np.abs(G - res.rom.freqresp(w)).max() <= res.error_bound


def test_auto_tries_the_sparse_route_from_500_and_falls_back_to_the_split(monkeypatch):
    import importlib

    bt_module = importlib.import_module("physfact.control.balanced_truncation")  # the module, not the function

    res = balanced_truncation(models.rlc_ladder(150), rank=6)  # n = 600
    assert "index1" in res.solver and "auto" in res.info
    monkeypatch.setattr(bt_module, "AUTO_ADI_MIN", 100)  # the same decision on smaller (faster) models
    # zero rows and columns, but A22 = 0 (index 2: an RC ladder behind a voltage source): the dense split
    from runpy import run_path
    from pathlib import Path

    ladder = run_path(str(Path(__file__).resolve().parents[2] / "examples" / "control_dae_circuit.py"))["rc_ladder"]
    dense = ladder(130)
    A, B, C, D, E = dense.dense_matrices()
    sys = LTISystem(sp.csr_matrix(A), B, C, D, sp.csr_matrix(E))
    assert sys.semi_explicit is not None
    res = balanced_truncation(sys, rank=5)
    assert "dae-split" in res.solver and len(res.info["polynomial"]) == 2  # M0 and the s-term kept
    # an unstable index-1 DAE (a negative conductance): LR-ADI refuses it, the split keeps the pole
    lad = models.rlc_ladder(32)
    A = lad.A.tolil()
    A[0, 0] += 2.0
    unstable = LTISystem(A.tocsr(), lad.B, lad.C, None, lad.E)
    with pytest.raises(UnstableSystemError):
        balanced_truncation(unstable, rank=4, solver="adi")
    res = balanced_truncation(unstable, rank=4)
    assert "dae-split" in res.solver and res.n_unstable == 1
    assert res.rom.poles().real.max() == pytest.approx(unstable.poles().real.max(), rel=1e-8)


def test_not_index1_is_refused_with_a_reason():
    # zero rows/columns but A22 = 0: index 2 (the RC ladder with a voltage source of the DAE example)
    n = 30
    A = sp.diags([np.ones(n - 1), -2.0 * np.ones(n), np.ones(n - 1)], [-1, 0, 1], format="lil")
    A[n - 1, n - 1] = 0.0
    e = np.ones(n)
    e[-1] = 0.0
    sys = LTISystem(A.tocsr(), np.eye(n)[:, :1], np.eye(n)[:1], None, sp.diags(e, format="csr"))
    # A21 = A12^T: the Stokes-type index-2 structure, reduced by its own route (physfact.control.dae_stokes)
    res, ref = balanced_truncation(sys, rank=3, solver="adi"), balanced_truncation(sys, rank=3, solver="hammarling")
    assert res.solver == "lradi+index2" and np.allclose(res.hsv[:3], ref.hsv[:3], rtol=1e-8, atol=0)
    A[n - 1, n - 2] = 2.0  # A21 != A12^T: not of that structure, and not index 1
    sys = LTISystem(A.tocsr(), np.eye(n)[:, :1], np.eye(n)[:1], None, sp.diags(e, format="csr"))
    with pytest.raises(SingularMatrixError, match="A22"):
        balanced_truncation(sys, rank=3, solver="adi")
    # a singular E that is not semi-explicit (no zero column)
    E = sp.csr_matrix(np.diag(e) + np.diag(np.ones(n - 1), 1) * 0.1)
    with pytest.raises(InputError, match="semi-explicit"):
        Index1Pencil(A.tocsr(), E)
    # wachspress needs an SPD E
    with pytest.raises(InputError, match="wachspress"):
        balanced_truncation(models.load("rlcladder:20"), rank=3, solver="adi", shifts="wachspress")


@pytest.mark.slow
def test_large_rlcladder_forms_no_dense_matrix():
    import tracemalloc

    sys = models.load("rlcladder:10000")  # n = 40,000: an n x n float matrix would be 12.8 GB
    tracemalloc.start()
    try:
        res = balanced_truncation(sys, rank=10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "index1" in res.solver
    assert peak <= 300 * 2**20  # numpy allocations; the sparse LUs (C) are small for a ladder
    w = np.logspace(-2, 1, 8)
    G = sys.freqresp(w)
    assert np.abs(G - res.rom.freqresp(w)).max() <= res.error_bound


def test_simulate_large_sparse_route_keeps_the_algebraic_equations(monkeypatch):
    import physfact.control.dae_index1 as dae_index1

    sys = _permuted_index1()
    ode = _schur_ode(sys)
    st = sys.semi_explicit
    x0 = np.random.default_rng(2).standard_normal(sys.n)  # inconsistent: its algebraic part is replaced
    errors = []
    for nt in (1001, 2001):
        t = np.linspace(0.0, 2.0, nt)
        u = np.column_stack([np.sin(4.0 * t), 1.0 - np.exp(-2.0 * t)])
        ref = ode.simulate(t, u, x0=x0[st.cols1])  # exact (matrix exponential) on the Schur ODE
        with monkeypatch.context() as mp:
            mp.setattr(dae_index1, "SPLIT_LIMIT", 50)  # the large-n route: trapezoidal rule on the full pencil
            got = sys.simulate(t, u, x0=x0, return_states=True)
        errors.append(np.abs(got.y - ref.y).max() / np.abs(ref.y).max())
        res = got.x @ sys.A.T.toarray() + u @ sys.B.T
        assert np.abs(res[:, st.rows2]).max() <= 1e-10 * np.abs(got.x).max()  # algebraic equations hold
    assert errors[1] <= 3e-5
    assert 3.5 <= errors[0] / errors[1] <= 4.5  # second order in h: the trapezoidal rule, converging


def test_frequency_limited_bt_of_a_resonant_index1_dae():
    sys = models.rlc_ladder(40, R=0.1, Rg=100.0)  # n = 160, poles Re in [-0.2, -0.02], Im up to 2
    band, r = (0.5, 0.7), 10
    ode = _schur_ode(sys)
    lr = balanced_truncation(sys, rank=r, frequency_band=band, solver="adi")
    dense = balanced_truncation(sys, rank=r, frequency_band=band, solver="hammarling")  # QZ split + dense FLBT
    ref = balanced_truncation(ode, rank=r, frequency_band=band, solver="hammarling")
    assert "index1" in lr.solver and "dae-split" in dense.solver and np.isnan(lr.error_bound)
    assert lr.order == dense.order == ref.order
    w = np.linspace(*band, 150)
    G = sys.freqresp(w)
    scale = np.abs(G).max()
    assert np.abs(dense.hsv[:r] - ref.hsv[:r]).max() <= 1e-8 * ref.hsv[0]
    assert np.abs(dense.rom.freqresp(w) - ref.rom.freqresp(w)).max() <= 1e-8 * scale
    # low rank (ADI factors, Galerkin logarithm) against dense
    assert np.abs(lr.hsv[:r] - ref.hsv[:r]).max() <= 1e-7 * ref.hsv[0]
    assert np.abs(lr.rom.freqresp(w) - ref.rom.freqresp(w)).max() <= 1e-7 * scale
    # in the band, far better than plain BT at the same order
    plain = balanced_truncation(sys, rank=lr.order)
    err_fl = np.abs(G - lr.rom.freqresp(w)).max()
    err_bt = np.abs(G - plain.rom.freqresp(w)).max()
    assert err_fl <= 0.05 * err_bt
    assert lr.info["band_error"] == pytest.approx(err_fl, rel=0.05)


def test_symmetric_index1_pencil_uses_ldl_and_e_inverse_is_checked():
    from physfact.control.dae_index1 import proper_realization
    from physfact.control.lradi import lradi

    n = 600  # an RC line, every second node without a capacitor: A symmetric, E singular PSD
    A = sp.diags([np.ones(n - 1), -2.05 * np.ones(n), np.ones(n - 1)], [-1, 0, 1], format="csr")
    e = np.ones(n)
    e[1::2] = 0.0
    B = np.zeros((n, 1))
    B[0] = 1.0
    sys = LTISystem(A, B, B.T, E=sp.diags(e, format="csr"))
    proj, pencil = proper_realization(sys)
    f = lradi(proj.A, proj.B, proj.E, E_inverse=pencil, tol=1e-12)
    from physfact.lowrank.spd_pencil import ldl_available

    # -(A + p E) is SPD for p < 0 although E is singular: the LDL^T backend (qdldl) when installed
    assert f.info["factorization"] == ("LDL^T" if ldl_available() else "LU")
    ode = _schur_ode(sys)
    P = solve_lyapunov(ode.A, ode.B @ ode.B.T, ode.E)
    Z1 = f.Z[sys.semi_explicit.cols1]
    assert np.linalg.norm(Z1 @ Z1.T - P, 2) <= 1e-9 * np.linalg.norm(P, 2)
    with pytest.raises(InputError, match="E_inverse"):
        lradi(proj.A, proj.B, proj.E, E_inverse=object())


def test_band_gramian_factors_of_the_sparse_route_match_the_dense_ones():
    """Low-rank band Gramians (and the modified ones of Gugercin & Antoulas, the fallback for an
    unstable FLBT ROM) of the DAE against the dense ones of the Schur ODE (E11 = I here)."""
    from physfact.control.dae_index1 import proper_realization
    from physfact.control.frequency_limited import _dense_factors, _lowrank_factors

    sys = models.rlc_ladder(40, R=0.1, Rg=100.0)
    proj, pencil = proper_realization(sys)
    st = pencil.structure
    Lc, Lo, _, _, info = _lowrank_factors(proj, 0.5, 0.7, 1e-12, {"E_inverse": pencil})
    ode = _schur_ode(sys)
    assert ode.E is None
    Dc, Do, _, _, dinfo = _dense_factors(ode, 0.5, 0.7)

    def rel(Z1, Z2):
        P1, P2 = Z1 @ Z1.T, Z2 @ Z2.T
        return np.linalg.norm(P1 - P2, 2) / np.linalg.norm(P2, 2)

    assert rel(Lc[st.cols1], Dc) <= 1e-9 and rel(Lo[st.rows1], Do) <= 1e-9
    (Mc, Mo), (Pc, Po) = info["modified"](), dinfo["modified"]()
    assert rel(Mc[st.cols1], Pc) <= 1e-9 and rel(Mo[st.rows1], Po) <= 1e-9
