"""LR-ADI against dense references (scipy's Bartels--Stewart solver), and its error paths."""
from __future__ import annotations


import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.control.lradi import lradi, lradi_pair, lyapunov_residual
from physfact.errors import ConvergenceError, InputError, SingularMatrixError, UnstableSystemError
from physfact.lowrank import Truncation


# ---------------------------------------------------------------------------------------------
# small test systems


def heat1d(n=60):
    """1-D heat equation, linear FE: E = mass (SPD), A = -stiffness (symmetric negative definite)."""
    h = 1.0 / (n + 1)
    K = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]) / h
    M = sp.diags([np.ones(n - 1), 4 * np.ones(n), np.ones(n - 1)], [-1, 0, 1]) * h / 6
    B = np.zeros((n, 2))
    B[: n // 3, 0] = 1.0
    B[n // 2:, 1] = np.linspace(0, 1, n - n // 2)
    C = np.zeros((3, n))
    C[0, n // 4] = C[1, n // 2] = 1.0
    C[2] = np.linspace(1, 0, n)
    return sp.csc_matrix(-K), B, C, sp.csc_matrix(M)


def convection_diffusion(nx=10, c=40.0):
    """2-D convection--diffusion (central differences) on an nx x nx grid.

    A = -L + c S with L the SPD Laplacian and S skew-symmetric: the symmetric part is negative
    definite, so A is stable, but non-normal with complex eigenvalues.
    """
    h = 1.0 / (nx + 1)
    I = sp.identity(nx)
    T = sp.diags([-np.ones(nx - 1), 2 * np.ones(nx), -np.ones(nx - 1)], [-1, 0, 1]) / h**2
    D0 = sp.diags([-np.ones(nx - 1), np.ones(nx - 1)], [-1, 1]) / (2 * h)  # skew-symmetric
    L = sp.kron(I, T) + sp.kron(T, I)
    A = -L + c * (sp.kron(I, D0) + 0.5 * sp.kron(D0, I))
    A = sp.csc_matrix(A) / 100.0
    n = nx * nx
    B = np.zeros((n, 2))
    B[:nx, 0] = 1.0
    B[-nx:, 1] = 1.0
    C = np.ones((1, n)) / n
    return A, B, C


def mass_matrix(n, seed=0):
    """A well-conditioned non-diagonal SPD 'mass' matrix."""
    rng = np.random.default_rng(seed)
    off = 0.2 * rng.random(n - 1)
    return sp.csc_matrix(sp.diags([off, np.ones(n) + 0.5, off], [-1, 0, 1]))


def dense_gramian(A, B, E=None, trans=False):
    """X of A X E^T + E X A^T + B B^T = 0 (or the transposed equation) by Bartels--Stewart."""
    A = A.toarray() if sp.issparse(A) else np.asarray(A)
    E = None if E is None else (E.toarray() if sp.issparse(E) else np.asarray(E))
    if trans:
        A = A.T
        E = None if E is None else E.T
    if E is None:
        return sla.solve_continuous_lyapunov(A, -B @ B.T)
    Ei = np.linalg.inv(E)
    At = Ei @ A
    Q = Ei @ B @ B.T @ Ei.T
    return sla.solve_continuous_lyapunov(At, -Q)


def dense_residual(A, B, Z, E=None, trans=False):
    """The relative residual computed densely (independent of the low-rank formula)."""
    A = A.toarray() if sp.issparse(A) else np.asarray(A)
    n = A.shape[0]
    E = np.eye(n) if E is None else (E.toarray() if sp.issparse(E) else np.asarray(E))
    if trans:
        A, E = A.T, E.T
    X = Z @ Z.T
    R = A @ X @ E.T + E @ X @ A.T + B @ B.T
    return np.linalg.norm(R, 2) / np.linalg.norm(B @ B.T, 2)


# ---------------------------------------------------------------------------------------------
# accuracy against the dense solution


CASES = [
    ("heat", False, False), ("heat", True, False), ("heat", False, True), ("heat", True, True),
    ("convdiff", False, False), ("convdiff", True, False), ("convdiff", False, True), ("convdiff", True, True),
]


def _system(kind, with_E):
    if kind == "heat":
        A, B, C, E = heat1d(60)
        return A, B, C, (E if with_E else None)
    A, B, C = convection_diffusion(10)
    return A, B, C, (mass_matrix(A.shape[0]) if with_E else None)


@pytest.mark.parametrize("kind,with_E,trans", CASES)
@pytest.mark.parametrize("strategy", ["projection", "penzl"])
def test_factor_matches_dense_gramian(kind, with_E, trans, strategy):
    A, B, C, E = _system(kind, with_E)
    rhs = C.T if trans else B
    res = lradi(A, rhs, E, trans=trans, tol=1e-12, shifts=strategy)
    X = dense_gramian(A, rhs, E, trans)
    err = np.linalg.norm(res.Z @ res.Z.T - X, 2) / np.linalg.norm(X, 2)
    assert err < 1e-8, err
    assert res.Z.dtype == np.float64
    assert res.residual <= 1e-12
    assert dense_residual(A, rhs, res.Z, E, trans) <= 1.05e-12
    assert res.method == "lradi" and res.iterations == len(res.residuals)


def test_complex_shifts_used_and_factor_real():
    A, B, C = convection_diffusion(10)
    ev = np.linalg.eigvals(A.toarray())
    assert np.any(np.abs(ev.imag) > 1e-3 * np.abs(ev))  # the test system really is non-normal/complex
    res = lradi(A, B, tol=1e-11)
    assert np.any(res.shifts.imag != 0)
    assert np.isrealobj(res.Z)
    # conjugate pairs are listed together
    cplx = res.shifts[res.shifts.imag != 0]
    assert np.allclose(np.sort_complex(cplx), np.sort_complex(cplx.conj()))
    assert dense_residual(A, B, res.Z) <= 1.05e-11


def test_residual_history_equals_true_residual():
    """Stop after j steps (tol just above the j-th reported residual) and recompute densely."""
    A, B, C = convection_diffusion(8)
    E = mass_matrix(A.shape[0], seed=3)
    ev = sla.eigvals(A.toarray(), E.toarray())
    # fixed shifts: two real, one complex pair (deterministic, identical in every run)
    re = ev[np.abs(ev.imag) < 1e-12].real
    pair = ev[ev.imag > 1e-6][0]
    shifts = np.array([re.max() * 0.9, re.min() * 0.5, pair * 1.1, np.conj(pair) * 1.1])
    with pytest.raises(ConvergenceError) as exc:
        lradi(A, B, E, tol=1e-300, maxiter=9, shifts=shifts, truncation=False)
    history = np.array(exc.value.history)
    assert len(history) == 9
    checked = 0
    for j in range(9):
        if j and history[j] >= history[:j].min():  # would have stopped earlier
            continue
        r = lradi(A, B, E, tol=history[j] * (1 + 1e-9), maxiter=9, shifts=shifts, truncation=False)
        assert r.iterations == j + 1
        true = dense_residual(A, B, r.Z, E)
        assert r.residual == pytest.approx(true, rel=1e-4, abs=1e-14)
        assert lyapunov_residual(A, B, r.Z, E) == pytest.approx(true, rel=1e-6, abs=1e-14)
        checked += 1
    assert checked >= 4


def test_compression_keeps_residual():
    A, B, C, E = heat1d(80)
    tol = 1e-10
    full = lradi(A, B, E, tol=tol, truncation=False)
    comp = lradi(A, B, E, tol=tol)
    assert comp.info["columns_before"] == full.Z.shape[1]
    assert comp.info["columns_after"] == comp.Z.shape[1] < full.Z.shape[1]
    true = dense_residual(A, B, comp.Z, E)
    assert true <= 1.05 * tol
    assert comp.info["residual_after_compression"] == pytest.approx(true, rel=1e-6)
    assert true <= comp.info["compression_residual_bound"] * (1 + 1e-9)
    # the same Gramian, to the accuracy the residual allows
    X = dense_gramian(A, B, E)
    assert np.linalg.norm(comp.Z @ comp.Z.T - X, 2) / np.linalg.norm(X, 2) < 1e-6


def test_explicit_truncation_rule_reports_true_residual():
    A, B, C, E = heat1d(60)
    r = lradi(A, B, E, tol=1e-10, truncation=Truncation(rank=6))
    assert r.Z.shape[1] == 6
    true = dense_residual(A, B, r.Z, E)
    assert r.info["residual_after_compression"] == pytest.approx(true, rel=1e-6)
    assert true > 1e-10  # rank 6 cannot reach the ADI residual


def test_dense_input_gives_same_factor_as_sparse():
    A, B, C, E = heat1d(40)
    rs = lradi(A, B, E, tol=1e-11, shifts="wachspress")
    rd = lradi(A.toarray(), B, E.toarray(), tol=1e-11, shifts="wachspress")
    assert np.allclose(rs.Z @ rs.Z.T, rd.Z @ rd.Z.T, rtol=0, atol=1e-9 * np.abs(rs.Z @ rs.Z.T).max())
    assert np.allclose(rs.residuals, rd.residuals, rtol=1e-6)


def test_wachspress_symmetric_and_lu_reuse():
    A, B, C, E = heat1d(120)
    r = lradi(A, B, E, tol=1e-10, shifts="wachspress", num_shifts=8)
    J = len(np.unique(r.shifts))
    assert r.info["factorizations"] == J == 8 < r.iterations  # cycled: one LU per distinct shift
    assert dense_residual(A, B, r.Z, E) <= 1.05e-10
    lo, hi = r.info["spectral_interval"]
    ev = sla.eigh(A.toarray(), E.toarray(), eigvals_only=True)
    assert lo <= ev.min() and hi >= ev.max()  # the interval encloses the spectrum
    assert hi / ev.max() > 0.95 and lo / ev.min() < 1.05  # ... tightly


def test_wachspress_rejects_nonsymmetric():
    A, B, C = convection_diffusion(6)
    with pytest.raises(InputError, match="symmetric"):
        lradi(A, B, shifts="wachspress")


def test_given_shifts_cycled_with_one_lu_each():
    A, B, C, E = heat1d(50)
    ev = sla.eigh(A.toarray(), E.toarray(), eigvals_only=True)
    shifts = np.geomspace(ev.max(), ev.min(), 6)  # negative, from small to large magnitude
    r = lradi(A, B, E, tol=1e-9, shifts=shifts, maxiter=200)
    assert r.info["factorizations"] == 6
    assert dense_residual(A, B, r.Z, E) <= 1.05e-9


def test_callback_sees_every_step():
    A, B, C, E = heat1d(40)
    seen = []
    r = lradi(A, B, E, tol=1e-10, callback=lambda it, res: seen.append((it, res)))
    assert [s[0] for s in seen] == list(range(1, r.iterations + 1))
    assert np.allclose([s[1] for s in seen], r.residuals)


def test_zero_B_gives_empty_factor():
    A, B, C, E = heat1d(20)
    r = lradi(A, np.zeros_like(B), E)
    assert r.Z.shape == (20, 0) and r.residual == 0.0


# ---------------------------------------------------------------------------------------------
# reference data: the steel rail (Oberwolfach benchmark), n = 371


def test_rail_371_reaches_tolerance(shared_data):
    import scipy.io

    d = scipy.io.loadmat(shared_data / "control" / "rail_371.mat")
    A, B, E = d["A"], d["B"], d["E"]
    C = d["C"].astype(float)  # stored as int16
    for rhs, trans in ((B, False), (C.T, True)):
        r = lradi(A, rhs, E, trans=trans, tol=1e-10)
        assert r.residual <= 1e-10
        true = dense_residual(A, rhs, r.Z, E, trans)
        assert true <= 1.05e-10
        assert r.info["residual_after_compression"] == pytest.approx(true, rel=1e-4)
        assert r.Z.shape[1] <= 160  # moderate: ~ 1/3 of n
        X = dense_gramian(A, rhs, E, trans)
        assert np.linalg.norm(r.Z @ r.Z.T - X, 2) <= 1e-6 * np.linalg.norm(X, 2)


# ---------------------------------------------------------------------------------------------
# errors


def test_maxiter_raises_convergence_error_with_history():
    A, B, C, E = heat1d(60)
    with pytest.raises(ConvergenceError) as exc:
        lradi(A, B, E, tol=1e-14, maxiter=4)
    h = exc.value.history
    assert len(h) == 4 and all(np.isfinite(h)) and h[-1] > 1e-14
    assert "maxiter" in str(exc.value)


def _structure(nq, alpha, beta):
    """Mass-spring chain M q'' + (alpha M + beta K) q' + K q = b u as a first-order pencil (A, E)."""
    from physfact.control import SecondOrderSystem

    rng = np.random.default_rng(1)
    K = sp.diags([-np.ones(nq - 1), 2.0 * np.ones(nq), -np.ones(nq - 1)], [-1, 0, 1], format="csr")
    M = sp.diags(1.0 + rng.random(nq), format="csr")
    b = np.zeros((nq, 1))
    b[-1] = 1.0
    s = SecondOrderSystem(M, alpha * M + beta * K, K, b, b.T).to_first_order()
    return s.A, s.B, s.E


def test_lightly_damped_structure_is_diagnosed():
    """Mass-proportional damping: every mode decays at the same slow rate, the Gramian is far from
    low rank and no shift choice helps; the error says so (not 'try other shifts')."""
    A, B, E = _structure(150, 1e-4, 0.0)
    with pytest.raises(ConvergenceError, match="lightly damped modes") as exc:
        lradi(A, B, E, tol=1e-10, maxiter=60)
    assert min(exc.value.history) > 1e-3  # no progress worth the name
    # Rayleigh damping with a stiffness part (high modes damped): converges, residual checked densely
    A, B, E = _structure(150, 1e-2, 0.2)
    f = lradi(A, B, E, tol=1e-10, maxiter=300)
    Ad, Ed = A.toarray(), E.toarray()
    R = Ad @ f.Z @ f.Z.T @ Ed.T + Ed @ f.Z @ f.Z.T @ Ad.T + B @ B.T
    assert np.linalg.norm(R, 2) <= 1e-8 * np.linalg.norm(B.T @ B, 2)


def test_singular_E_fails_fast():
    A, B, C, E = heat1d(200)
    E = E.tolil()
    E[5, :] = 0.0  # an algebraic equation: E singular
    with pytest.raises(SingularMatrixError, match="E"):
        lradi(A, B, sp.csc_matrix(E))
    with pytest.raises(SingularMatrixError):
        lradi(A.toarray(), B, E.toarray())
    # numerically (not exactly) singular: two rows dependent up to rounding
    E2 = heat1d(200)[3].toarray()
    E2[7, :] = E2[8, :] * (1.0 + 1e-13)  # SuperLU factors it; the condition estimate rejects it
    with pytest.raises(SingularMatrixError, match="numerically singular"):
        lradi(A, B, sp.csc_matrix(E2))


def test_singular_shifted_pencil():
    # A + p E is singular iff -p is an eigenvalue: with Re p < 0 only for an unstable pencil
    A = sp.diags(np.concatenate([[3.0], -np.arange(1.0, 10.0)])).tocsc()
    B = np.ones((10, 1))
    with pytest.raises(SingularMatrixError, match="shift"):
        lradi(A, B, shifts=[-5.5, -3.0])


def test_unstable_system_detected():
    n = 30
    A, B, C, E = heat1d(n)
    A = A.toarray()
    A[0, 0] = 0.5 * np.abs(A).max()  # pushes one eigenvalue into the right half-plane
    assert np.max(np.linalg.eigvals(np.linalg.solve(E.toarray(), A)).real) > 0
    B = np.ones((n, 1))
    with pytest.raises(UnstableSystemError, match="non-negative real part"):
        lradi(sp.csc_matrix(A), B, E)
    with pytest.raises(UnstableSystemError):
        lradi(sp.csc_matrix(A), B, E, shifts="penzl")


@pytest.mark.parametrize("bad", [
    dict(B=np.ones((7, 1))),
    dict(shifts=[-1.0, 0.5]),
    dict(shifts=[-1.0 + 1.0j]),
    dict(shifts="optimal"),
    dict(tol=-1.0),
    dict(maxiter=0),
])
def test_bad_input(bad):
    A, B, C, E = heat1d(10)
    kw = dict(A=A, B=B, E=E)
    kw.update(bad)
    with pytest.raises(InputError):
        lradi(**kw)


def test_nan_input():
    A, B, C, E = heat1d(10)
    A = A.toarray()
    A[2, 3] = np.nan
    with pytest.raises(InputError, match="non-finite"):
        lradi(A, B, E)


def test_single_input_with_lightly_damped_pairs():
    """Penzl's FOM structure (m = 1, poles -1 +- 100i, 200i, 400i and -1..-200): the projection
    subspace must span several blocks for the shifts to find the complex pairs."""
    blocks = [np.array([[-1.0, w], [-w, -1.0]]) for w in (100.0, 200.0, 400.0)]
    A = sp.block_diag(blocks + [sp.diags(-np.arange(1.0, 201.0))], format="csc")
    b = np.concatenate([10.0 * np.ones(6), np.ones(200)])[:, None]
    for trans in (False, True):
        r = lradi(A, b, tol=1e-10, trans=trans)
        assert np.any(r.shifts.imag != 0)
        X = dense_gramian(A, b, None, trans)
        assert np.linalg.norm(r.Z @ r.Z.T - X, 2) <= 1e-7 * np.linalg.norm(X, 2)
        assert dense_residual(A, b, r.Z, None, trans) <= 1.05e-10


@pytest.mark.parametrize("kind,with_E", [("heat", True), ("convdiff", False), ("convdiff", True)])
def test_pair_shares_lus_and_matches_dense(kind, with_E):
    A, B, C, E = _system(kind, with_E)
    fc, fo = lradi_pair(A, B, C, E, tol=1e-11)
    for f, rhs, trans in ((fc, B, False), (fo, C.T, True)):
        X = dense_gramian(A, rhs, E, trans)
        assert np.linalg.norm(f.Z @ f.Z.T - X, 2) <= 1e-7 * np.linalg.norm(X, 2)
        assert dense_residual(A, rhs, f.Z, E, trans) <= 1.05e-11
        assert f.residual <= 1e-11
    # one LU per shift serves both equations
    assert fc.info["factorizations"] == fo.info["factorizations"]
    sep = lradi(A, B, E, tol=1e-11).info["factorizations"] + \
        lradi(A, C.T, E, trans=True, tol=1e-11).info["factorizations"]
    assert fc.info["factorizations"] < sep


def test_pair_bad_C():
    A, B, C, E = heat1d(20)
    with pytest.raises(InputError, match="columns"):
        lradi_pair(A, B, C[:, :5], E)


def _slycot_hsv(A, B, C, E):
    slycot = pytest.importorskip("slycot", reason="SLICOT comparison needs slycot (the 'test' extra)")
    Ad = np.linalg.solve(E.toarray(), A.toarray())
    Bd = np.linalg.solve(E.toarray(), B)
    n, m, p = Ad.shape[0], Bd.shape[1], C.shape[0]
    return slycot.ab09ad("C", "B", "N", n, m, p, Ad, Bd, C, nr=1)[4]


@pytest.mark.parametrize("name", ["rail_371", "rail_1357"])
def test_hsv_from_factors_match_slycot(shared_data, name):
    """Square-root HSVs sigma = svd(Lo^T E Lc) from LR-ADI factors vs SLICOT AB09AD (dense)."""
    import scipy.io

    d = scipy.io.loadmat(shared_data / "control" / f"{name}.mat")
    A, B, E = d["A"], d["B"], d["E"]
    C = d["C"].astype(float)
    fc, fo = lradi(A, B, E, tol=1e-12), lradi(A, C.T, E, trans=True, tol=1e-12)
    s = np.linalg.svd(fo.Z.T @ (E @ fc.Z), compute_uv=False)
    ref = _slycot_hsv(A, B, C, E)
    k = 30
    assert np.max(np.abs(s[:k] - ref[:k])) <= 1e-8 * ref[0]
    # and the shared-LU variant
    pc, po = lradi_pair(A, B, C, E, tol=1e-12)
    s2 = np.linalg.svd(po.Z.T @ (E @ pc.Z), compute_uv=False)
    assert np.max(np.abs(s2[:k] - ref[:k])) <= 1e-8 * ref[0]


# ---------------------------------------------------------------------------------------------
# sparse LDL^T for symmetric pencils vs SuperLU


@pytest.mark.parametrize("pair", [False, True])
def test_ldl_path_matches_lu_path(pair):
    pytest.importorskip("qdldl")
    A, B, C, E = heat1d(150)
    if pair:
        ldl = lradi_pair(A, B, C, E, tol=1e-10)
        lu = lradi_pair(A, B, C, E, tol=1e-10, factorization="lu")
    else:
        ldl = (lradi(A, B, E, tol=1e-10),)
        lu = (lradi(A, B, E, tol=1e-10, factorization="lu"),)
    for r_ldl, r_lu in zip(ldl, lu):
        assert r_ldl.info["factorization"] == "LDL^T" and r_lu.info["factorization"] == "LU"
        # same shifts and steps: the solves agree to rounding
        assert r_ldl.iterations == r_lu.iterations
        assert np.allclose(r_ldl.shifts, r_lu.shifts, rtol=1e-8)
        assert np.allclose(r_ldl.residuals, r_lu.residuals, rtol=1e-6, atol=1e-14)
        X1, X2 = r_ldl.Z @ r_ldl.Z.T, r_lu.Z @ r_lu.Z.T
        assert np.abs(X1 - X2).max() <= 1e-9 * np.abs(X2).max()
    assert dense_residual(A, B, ldl[0].Z, E) <= 1.05e-10


def test_ldl_option_needs_a_symmetric_pencil():
    A, B, C = convection_diffusion(6)
    with pytest.raises(InputError, match="symmetric"):
        lradi(A, B, factorization="ldl")
    with pytest.raises(InputError, match="factorization"):
        lradi(A, B, factorization="cholesky")
    assert lradi(A, B, tol=1e-8).info["factorization"] == "LU"  # auto: non-symmetric -> SuperLU


def test_inaccurate_ldl_falls_back_to_lu():
    # a symmetric but indefinite E with tiny-pivot 2 x 2 blocks: the LDL^T of E without pivoting
    # is unstable; its first (checked) solve must hand over to SuperLU, which solves exactly
    pytest.importorskip("qdldl")
    from physfact.control.lradi import _ShiftedSolver

    d, nb = 1e-13, 20
    E = sp.csc_matrix(sp.block_diag([np.array([[d, 1.0], [1.0, d]])] * nb))
    A = sp.csc_matrix(-sp.identity(2 * nb))
    solver = _ShiftedSolver(A, E, False, 2**30)
    assert solver.spd is not None
    fac = solver.factor_E(E, "E")
    b = np.random.default_rng(0).standard_normal(2 * nb)
    x = fac.solve(b)
    assert np.linalg.norm(E @ x - b) <= 1e-12 * np.linalg.norm(b)
    assert solver.ldl_failed and solver.spd is None  # every later shift uses SuperLU


def test_recent_blocks_are_the_unscaled_steps_read_from_the_store():
    """The projection-shift blocks are read back from the factor store (no second copy kept):
    real and complex steps give V and [Re V + delta Im V, Im V] as computed, across chunks."""
    from physfact.control.lradi import _Side

    rng = np.random.default_rng(3)
    n, m = 30, 3
    B = rng.standard_normal((n, m))
    sd = _Side(B, False, None)
    sd.store.chunk_cols = 4  # blocks straddle chunks
    Vs = []
    for p in (-2.0 + 0j, -1.0 + 3.0j, -0.5 + 0j):
        V = rng.standard_normal((n, m)) + (1j * rng.standard_normal((n, m)) if p.imag else 0)
        sd.step(p, V, min_cols=100)  # keep every block
        if p.imag:
            d = p.real / p.imag
            Vs.append(np.hstack([V.real + d * V.imag, V.imag]))
        else:
            Vs.append(V)
    U = sd.recent_blocks()
    assert U.flags.f_contiguous
    np.testing.assert_allclose(U, np.hstack(Vs), rtol=1e-14, atol=1e-14)
    # only the latest blocks with >= min_cols columns after the first are kept
    sd.step(-1.0 + 0j, rng.standard_normal((n, m)), min_cols=m)
    assert sd.recent_blocks().shape == (n, m)
    Z = sd.store.to_array()
    assert Z.shape == (n, 5 * m)


def test_projection_shifts_overwrite_gives_same_ritz_values():
    from physfact.control import shifts as S

    rng = np.random.default_rng(4)
    n = 40
    A = sp.diags(-np.arange(1.0, n + 1)).tocsc()
    U = np.asfortranarray(rng.standard_normal((n, 5)))
    ref = np.sort_complex(S.projection_shifts(A, None, U.copy()))
    got = np.sort_complex(S.projection_shifts(A, None, U, overwrite_u=True))
    np.testing.assert_allclose(got, ref, rtol=1e-13)


@pytest.mark.parametrize("k", [100, -100])
def test_lradi_pair_does_not_depend_on_the_scale_of_b(k):
    """The shared run's first shifts come from span{B, E^{-1}AB, C^T, E^{-T}A^T C^T}; with B scaled by
    1e+-100 the QR of those blocks lost the small ones (FOM: 75 -> 63 steps, HSVs 1.8e-11 apart)."""
    from physfact.control import models
    from physfact.control.lradi import lradi_pair

    sys = models.load("fom")
    fc, fo = lradi_pair(sys.A, sys.B, sys.C, sys.E, tol=1e-10)
    gc, go = lradi_pair(sys.A, sys.B * 10.0 ** k, sys.C, sys.E, tol=1e-10)
    assert (gc.iterations, go.iterations) == (fc.iterations, fo.iterations)
    hsv = np.linalg.svd(fo.Z.T @ fc.Z, compute_uv=False)
    hsv_scaled = np.linalg.svd(go.Z.T @ (gc.Z / 10.0 ** k), compute_uv=False)
    assert np.abs(hsv_scaled[:20] - hsv[:20]).max() <= 1e-13 * hsv[0]
