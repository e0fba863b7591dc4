"""Stokes-type index-2 DAEs: the ``stokes`` benchmark generator and the sparse BT route on ker G^T
(physfact/control/dae_stokes.py), checked against the dense DAE split (ordered QZ, dae.py), against
the projected ODE built explicitly with an orthonormal basis of ker G^T and with the stream-function
basis, and against hand-evaluated entries of the benchmark definition."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.control import LTISystem, balanced_truncation, models
from physfact.control.dae_stokes import stokes_structure
from physfact.errors import InputError, UnstableSystemError

W = np.logspace(-2, 5, 40)


@pytest.fixture(scope="module")
def stokes12():
    return models.load("stokes:12")  # n = 407, 121 finite poles


def _rel(H, ref):
    return float(np.max(np.abs(H - ref)) / np.max(np.abs(ref)))


def test_generator_matches_the_benchmark_definition():
    nx = 10
    s = models.stokes(nx)
    nv1, nv2, npr = (nx - 1) * nx, nx * (nx - 1), nx * nx
    assert s.n == nv1 + nv2 + npr - 1 == 279 and (s.m, s.p) == (5, 5)
    A = s.A.toarray()
    assert np.array_equal(A, A.T) and not A[nv1 + nv2:, nv1 + nv2:].any()
    assert np.array_equal(s.E.diagonal(), np.r_[np.ones(nv1 + nv2), np.zeros(npr - 1)])
    assert not s.B[nv1 + nv2:].any() and not s.C[:, nv1 + nv2:].any()  # B2 = 0, C2 = 0
    # second differences / h^2 on the velocities, first differences / h of the pressure
    assert A[0, 0] == pytest.approx(-2.0 * nx**2) and A[0, 1] == pytest.approx(nx**2)
    assert sorted(np.unique(np.abs(A[:nv1 + nv2, nv1 + nv2:]))) == pytest.approx([0.0, nx])
    # input 1 (v_1, basis 1 - theta) at the face (0.2, 0.15): 100 (1 - 0.125) sin(pi 0.25)
    assert s.B[1 * (nx - 1) + 1, 0] == pytest.approx(100 * 0.875 * np.sin(np.pi / 4), rel=1e-14)
    # input 5 (v_1, level-0 hat, peak at theta = 1/2) at (0.5, 0.25): 100 sin(pi 3/4)
    assert s.B[2 * (nx - 1) + 4, 4] == pytest.approx(100 * np.sin(0.75 * np.pi), rel=1e-14)
    # input 2 (v_2, basis (2 + 1) // 2 = 1: 1 - theta) at (0.45, 0.2): 100 (1 - 0.35 / 0.8) sin(pi / 2)
    assert s.B[nv1 + 1 * nx + 4, 1] == pytest.approx(100 * (1 - 0.35 / 0.8), rel=1e-14)
    # output 1 (v_1, 1 - xi) at (0.5, 0.45): h^2 (1 - 0.1) / 0.1; nodes on the region's edge are out
    assert s.C[0, 4 * (nx - 1) + 4] == pytest.approx(0.01 * 0.9 / 0.1, rel=1e-13)
    assert np.count_nonzero(s.C[0]) == 5 and np.count_nonzero(s.B[:, 0]) == 14
    # index 2: (nx - 1)^2 finite poles, all real and negative; 2 (np - 1) infinite ones
    split = s.dae_split
    assert split.A11.shape[0] == (nx - 1) ** 2 and split.n_infinite == 2 * (npr - 1)
    lam = s.poles()
    assert np.all(lam.real < 0) and np.abs(lam.imag).max() <= 1e-8 * np.abs(lam).max()
    # G^T annihilates the stream-function basis, which spans ker G^T
    T = models.stokes_stream_basis(nx)
    assert T.shape == (nv1 + nv2, (nx - 1) ** 2) and abs(s.A[nv1 + nv2:, :nv1 + nv2] @ T).max() == 0
    with pytest.raises(InputError):
        models.stokes(1)


def test_structure_detection_and_lazy_split(stokes12):
    st = stokes_structure(stokes12)
    assert st is not None and st.nv == 2 * 12 * 11 and st.E11 is None and st.n_algebraic == 143
    assert stokes12.is_dae and stokes12._dae is None  # no dense QZ at construction
    A = stokes12.A.tolil()
    A[-1, -1] = -1.0  # A22 != 0: an index-1 block, not the Stokes structure
    assert stokes_structure(LTISystem(A.tocsr(), stokes12.B, stokes12.C, E=stokes12.E)) is None
    A = stokes12.A.tolil()
    A[-1, 0] += 1.0  # A21 != A12^T
    assert stokes_structure(LTISystem(A.tocsr(), stokes12.B, stokes12.C, E=stokes12.E)) is None
    assert stokes_structure(stokes12.to_dense()) is None  # dense systems take the dense DAE split


def test_sparse_route_matches_dense_dae_split(stokes12):
    r = 10
    dense = balanced_truncation(stokes12, rank=r, solver="hammarling")
    sparse = balanced_truncation(stokes12, rank=r, solver="adi", adi_tol=1e-12)
    assert sparse.solver == "lradi+index2" and dense.solver == "hammarling+dae-split"
    assert sparse.order == dense.order == r and sparse.rom.E is None  # no polynomial part
    k = 12
    assert np.max(np.abs(sparse.hsv[:k] - dense.hsv[:k]) / dense.hsv[:k]) <= 1e-8
    Hd = dense.rom.freqresp(W)
    assert _rel(sparse.rom.freqresp(W), Hd) <= 1e-8
    assert sparse.rom.is_stable()
    err = np.linalg.norm(stokes12.freqresp(W) - sparse.rom.freqresp(W), 2, axis=(1, 2)).max()
    assert sparse.hsv[r] * 0.5 <= err <= sparse.error_bound
    # the projection bases live in ker G^T with zero pressure rows, W^T E V = I
    nv = 2 * 12 * 11
    G = stokes12.A.tocsr()[:nv, nv:]
    assert np.abs(G.T @ sparse.V[:nv]).max() <= 1e-10 * np.abs(sparse.V).max()
    assert not sparse.V[nv:].any() and np.allclose(sparse.W.T @ (stokes12.E @ sparse.V), np.eye(r), atol=1e-10)
    # the other methods on the same factors
    spa = balanced_truncation(stokes12, rank=r, solver="adi", method="spa", adi_tol=1e-12)
    assert _rel(spa.rom.freqresp([0.0]), stokes12.freqresp([0.0])) <= 1e-7  # DC gain kept
    bf = balanced_truncation(stokes12, rank=r, solver="adi", method="bfsr", adi_tol=1e-12)
    assert _rel(bf.rom.freqresp(W), Hd) <= 1e-8


def test_proper_part_matches_explicit_projected_ode(stokes12):
    """The projected ODE on an orthonormal basis Theta of ker G^T (dense null space), and on the
    stream-function basis: same transfer function as the DAE, same HSVs as the sparse route."""
    nv = 2 * 12 * 11
    A, B, C = stokes12.A.toarray(), stokes12.B, stokes12.C
    Th = sla.null_space(A[nv:, :nv])
    assert Th.shape[1] == 11 * 11
    ode = LTISystem(Th.T @ A[:nv, :nv] @ Th, Th.T @ B[:nv], C[:, :nv] @ Th)
    T = models.stokes_stream_basis(12)
    stream = LTISystem(T.T @ stokes12.A[:nv, :nv] @ T, T.T @ B[:nv], C[:, :nv] @ T, E=(T.T @ T).tocsr())
    G = stokes12.freqresp(W)
    assert _rel(ode.freqresp(W), G) <= 1e-10 and _rel(stream.freqresp(W), G) <= 1e-10
    ref = balanced_truncation(ode, rank=10, solver="hammarling")
    got = balanced_truncation(stokes12, rank=10, solver="adi", adi_tol=1e-12)
    assert np.max(np.abs(got.hsv[:12] - ref.hsv[:12]) / ref.hsv[:12]) <= 1e-8
    assert balanced_truncation(stream, rank=10, solver="hammarling").hsv[:12] == pytest.approx(ref.hsv[:12],
                                                                                               rel=1e-9)


def _with_pressure_io(seed=0, mass=False):
    """stokes:8 with an input in the continuity equation (B2 != 0) and a pressure output (C2 != 0):
    a feedthrough M0 and an s-term M1 = -C2 S^{-1} B2 appear. ``mass``: E11 a tridiagonal SPD mass
    matrix instead of I (the residual updates then leave ker G^T and are projected back)."""
    base = models.stokes(8)
    rng = np.random.default_rng(seed)
    nv = 2 * 8 * 7
    B, C = base.B.copy(), base.C.copy()
    B[nv:, :2] = rng.standard_normal((base.n - nv, 2))
    C[:2, nv:] = 1e-3 * rng.standard_normal((2, base.n - nv))
    E = base.E
    if mass:
        E11 = sp.diags([0.1 * np.ones(nv - 1), 1.0 + rng.random(nv), 0.1 * np.ones(nv - 1)], [-1, 0, 1])
        E = sp.block_diag([E11, sp.csr_matrix((base.n - nv, base.n - nv))]).tocsr()
    return LTISystem(base.A, B, C, E=E)


@pytest.mark.parametrize("mass", [False, True], ids=["E11=I", "E11=mass"])
def test_polynomial_part_kept_exactly(mass):
    sys_ = _with_pressure_io(mass=mass)
    assert (stokes_structure(sys_).E11 is None) is not mass
    r = 8
    dense = balanced_truncation(sys_, rank=r, solver="hammarling")
    sparse = balanced_truncation(sys_, rank=r, solver="adi", adi_tol=1e-12)
    M0, M1 = sparse.info["polynomial"]
    D0, D1 = dense.info["polynomial"]
    assert _rel(M0, D0) <= 1e-8 and _rel(M1, D1) <= 1e-8 and np.linalg.matrix_rank(M1) == 2
    # the index-2 split's own reference: M1 = -C2 (G^T E11^{-1} G)^{-1} B2
    nv = 2 * 8 * 7
    G = sys_.A.toarray()[:nv, nv:]
    S = G.T @ np.linalg.solve(sys_.E.toarray()[:nv, :nv], G)
    assert _rel(M1, -sys_.C[:, nv:] @ np.linalg.solve(S, sys_.B[nv:])) <= 1e-12
    assert sparse.order == dense.order == r + 2 * 2 and sparse.rom.is_dae
    assert np.max(np.abs(sparse.hsv[:r] - dense.hsv[:r]) / dense.hsv[:r]) <= 1e-8
    assert _rel(sparse.rom.freqresp(W), dense.rom.freqresp(W)) <= 1e-8
    err = np.linalg.norm(sys_.freqresp(W) - sparse.rom.freqresp(W), 2, axis=(1, 2)).max()
    assert err <= sparse.error_bound


def test_scale_invariance(stokes12):
    ref = balanced_truncation(stokes12, rank=6, solver="adi")
    for a, b in ((1e-150, 1e150), (1e100, 1.0)):
        s = LTISystem(stokes12.A, a * stokes12.B, b * stokes12.C, E=stokes12.E)
        got = balanced_truncation(s, rank=6, solver="adi")
        assert got.order == ref.order and np.allclose(got.hsv[:8] / (a * b), ref.hsv[:8], rtol=1e-9, atol=0)
    # the pencil scaled: time in other units, same HSVs
    s = LTISystem(1e6 * stokes12.A, 1e6 * stokes12.B, stokes12.C, E=stokes12.E)
    assert np.allclose(balanced_truncation(s, rank=6, solver="adi").hsv[:8], ref.hsv[:8], rtol=1e-9, atol=0)


def test_auto_route_and_refusals():
    s = models.load("stokes:16")  # n = 735 > 500: "auto" takes the sparse index-2 route
    assert s.n == 735
    res = balanced_truncation(s, tol=1e-3)
    assert res.solver == "lradi+index2" and res.error_bound <= 1e-3 and res.rom.is_stable()
    with pytest.raises(InputError, match="index-2"):
        balanced_truncation(s, rank=4, frequency_band=(1.0, 10.0))
    with pytest.raises(InputError, match="not supported"):
        balanced_truncation(s, rank=4, solver="adi", shifts="penzl")
    nv = 2 * 16 * 15
    A = s.A.tolil()
    A[:nv, :nv] = -A[:nv, :nv]  # anti-diffusion: every finite pole in the right half-plane
    with pytest.raises(UnstableSystemError, match="unstable"):
        balanced_truncation(LTISystem(A.tocsr(), s.B, s.C, E=s.E), rank=4, solver="adi")
    B = np.zeros_like(s.B)
    B[:nv] = s.A[:nv, nv:] @ np.ones((s.n - nv, s.m))  # a gradient force: balanced by the pressure alone
    with pytest.raises(InputError, match="hidden manifold"):
        balanced_truncation(LTISystem(s.A, B, s.C, E=s.E), rank=4, solver="adi")


def test_progress_reports_the_index2_adi(stokes12):
    from tests.progress_bar import recorder

    bars = []
    balanced_truncation(stokes12, rank=6, solver="adi", progress=recorder(bars))
    assert [b.desc for b in bars] == ["LR-ADI on ker G^T"] and bars[0].closed
    assert bars[0].n >= 20 and "residual" in bars[0].postfix[-1]


def test_cli_reduces_stokes(tmp_path):
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "physfact.cli", "bt", "stokes:16", "--order", "8", "--json",
                          "--error-samples", "20"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["r"] == 8 and data["n"] == 735 and data["solver"] == "lradi+index2"


@pytest.mark.slow
def test_large_stokes_against_stream_function_ode():
    """stokes:128, n = 48895: the index-2 route against LR-ADI BT of the stream-function ODE
    (a different sparse formulation with E = Theta^T Theta), and the error bound on sampled errors."""
    nx = 128
    s = models.load(f"stokes:{nx}")
    assert s.n == 48895
    res = balanced_truncation(s, rank=20)
    nv = 2 * nx * (nx - 1)
    T = models.stokes_stream_basis(nx)
    stream = LTISystem((T.T @ s.A[:nv, :nv] @ T).tocsr(), T.T @ s.B[:nv], s.C[:, :nv] @ T, E=(T.T @ T).tocsr())
    ref = balanced_truncation(stream, rank=20, solver="adi")
    assert np.max(np.abs(res.hsv[:20] - ref.hsv[:20])) <= 1e-7 * ref.hsv[0]
    w = np.logspace(-1, 5, 25)
    err = np.linalg.norm(s.freqresp(w) - res.rom.freqresp(w), 2, axis=(1, 2)).max()
    assert err <= res.error_bound and res.rom.is_stable()


def test_lu_paths_oseen_like_and_fallback(monkeypatch):
    """A non-symmetric A11 (a convection term, Oseen-like: complex shifts, SuperLU solves) against the
    dense split; and the quasi-definite LDL^T's fallback to SuperLU (forced by a regularization too
    large for the refinement) giving the HSVs of the LDL^T run."""
    base = models.stokes(10)
    nv = 2 * 10 * 9
    A = base.A.tolil()
    conv = sp.kron(sp.eye(2 * 10), sp.diags([np.ones(8), -np.ones(8)], [1, -1], shape=(9, 9)))
    A[:nv, :nv] = A[:nv, :nv] + 40.0 * conv.tocsr()[:nv, :nv]
    oseen = LTISystem(A.tocsr(), base.B, base.C, E=base.E)
    dense = balanced_truncation(oseen, rank=8, solver="hammarling")
    got = balanced_truncation(oseen, rank=8, solver="adi", adi_tol=1e-12)
    assert not got.info["quasi_definite_ldl"] and got.rom.is_stable()
    assert np.max(np.abs(got.hsv[:8] - dense.hsv[:8]) / dense.hsv[:8]) <= 1e-8
    assert _rel(got.rom.freqresp(W), dense.rom.freqresp(W)) <= 1e-8
    ref = balanced_truncation(base, rank=8, solver="adi", adi_tol=1e-12)
    assert ref.info["quasi_definite_ldl"] and ref.info["ldl_fallbacks"] == 0
    import physfact.control.dae_stokes as ds

    monkeypatch.setattr(ds, "QD_DELTA", 1e3)
    fb = balanced_truncation(base, rank=8, solver="adi", adi_tol=1e-12)
    assert fb.info["ldl_fallbacks"] == 1 and not fb.info["quasi_definite_ldl"]
    assert np.max(np.abs(fb.hsv[:8] - ref.hsv[:8]) / ref.hsv[:8]) <= 1e-8


def test_bound_honest_at_the_factors_resolution(stokes12):
    """At orders whose truncated tail lies below what ADI factors of residual adi_tol resolve, the
    error bound is the factors' floor (10 adi_tol sigma_1), which the measured error stays below."""
    import warnings

    w = np.logspace(-2, 5, 40)
    G = stokes12.freqresp(w)
    for adi_tol in (1e-10, 1e-12):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = balanced_truncation(stokes12, rank=60, solver="adi", adi_tol=adi_tol)
        err = np.linalg.norm(G - res.rom.freqresp(w), 2, axis=(1, 2)).max()
        assert 2 * res.hsv[res.order:].sum() < err <= res.error_bound == pytest.approx(10 * adi_tol * res.hsv[0])


def test_pressure_not_fixed_is_refused():
    """All nx^2 pressures kept (the constant pressure is then in ker G): a singular pencil, refused."""
    from physfact.errors import SingularMatrixError

    nx, s = 8, models.stokes(8)
    nv, npr = 2 * nx * (nx - 1), nx * nx

    def forward(k):
        return sp.diags([-np.ones(k - 1), np.ones(k - 1)], [0, 1], shape=(k - 1, k)) * nx

    G = -sp.vstack([sp.kron(sp.eye(nx), forward(nx)), sp.kron(forward(nx), sp.eye(nx))])
    A = sp.bmat([[s.A.tocsr()[:nv, :nv], G], [G.T, None]], format="csr")
    E = sp.diags(np.r_[np.ones(nv), np.zeros(npr)]).tocsr()
    sys_ = LTISystem(A, np.vstack([s.B[:nv], np.zeros((npr, s.m))]), np.hstack([s.C[:, :nv], np.zeros((s.p, npr))]),
                     E=E)
    assert stokes_structure(sys_) is not None
    with pytest.raises(SingularMatrixError, match="full column rank"):
        balanced_truncation(sys_, rank=4, solver="adi")
