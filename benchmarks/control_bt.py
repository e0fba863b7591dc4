"""Balanced truncation of large sparse models: physfact LR-ADI vs pyMOR (sparse) and slycot (dense).

Each solver runs in its own process with one BLAS thread (``_harness.measure``). For every model:
both Gramian factors at the same relative residual 1e-10 (||W^T W||_2 / ||B^T B||_2, the same
stopping rule in pyMOR's LR-ADI), the Hankel singular values (square root: SVD of Lo^T E Lc), and a
reduced model of order r = 20. slycot AB09AD (dense square-root BT, no E: it gets E^{-1}A, E^{-1}B)
runs where dense is feasible (rail_1357, FOM).

physfact rows: ``physfact_bt`` is the public ``balanced_truncation`` with its defaults (it picks
shared or separate factorizations itself), ``physfact`` two ``lradi`` runs, ``physfact_pair`` one
``lradi_pair`` run sharing every factorization. Symmetric pencils (rail, heat2d) are factored by a
sparse LDL^T, the others (FOM) by SuperLU; the LUs column counts them either way.

Reported: CPU seconds of the solve (loading excluded), peak resident memory of the process and the
part added by the solve (peak minus the resident size just before it), factor column counts, and the
agreement of the first 20 HSVs (max |d sigma_k| / sigma_1) with the dense reference (slycot) where
there is one, else between physfact and pyMOR.

``--family``: low-rank frequency-limited BT (FL_CASES: FOM on [150, 250] rad/s, rail_1357/5177 when
../shared/data has them, an FE cantilever with n = 5760; the CPU includes the sampled in-band error
physfact reports) beside pyMOR's plain BT at the same order (pyMOR has no frequency-limited BT: that
is what a user would otherwise do), and second-order BT (variant p, r = 40 positions) of mass-spring chains
with Rayleigh damping (n_q = 300, 1000) beside pyMOR's ``SOBTpReductor`` with the same ADI tolerance;
errors are relative sampled H-infinity errors (in band for FLBT).

``--dae``: the semi-explicit index-1 DAE ``rlcladder`` (MNA RLC ladder, half the states algebraic),
r = 10, at n = 1200, 2400 and 10^4 (and 4 x 10^4 with ``--dae-large``): physfact's sparse index-1
route (LR-ADI on the augmented pencil, ``balanced_truncation`` defaults with ``solver="adi"``), its
dense DAE path (ordered QZ split + Hammarling, where feasible), and slycot AB09AD on the explicit
Schur-complement ODE formed densely (E11^{-1}(A11 - A12 A22^{-1} A21), the same transfer function;
the forming is timed with it), and pyMOR's LR-ADI BT on the Schur-complement ODE formed as sparse
matrices -- possible for this model only (A22 is 2 x 2 block diagonal, so the Schur complement stays
sparse); its forming (scipy spsolve, column by column) is outside the timing, reported as setup_s.
No peer has a sparse index-1 route in Python (pyMOR's LR-ADI needs an invertible E). Reported: CPU, peak and added memory, the relative sampled H-infinity error of the ROM
(80 log-spaced frequencies in [1e-2, 10] rad/s plus 0, outside the timed region) and the largest
deviation of the first 10 HSVs from the dense reference (relative to sigma_1).

Usage::

    python benchmarks/control_bt.py            # rail 1357/5177/20209, FOM, heat2d (n = 66049)
    python benchmarks/control_bt.py --quick    # rail_1357, FOM, rail_5177
    python benchmarks/control_bt.py --family   # low-rank FLBT (FOM, rail, cantilever) and SOBT (chains) vs pyMOR
    python benchmarks/control_bt.py --family --models fom cantilever_8   # a subset
    python benchmarks/control_bt.py --dae      # singular E: sparse index-1 route (rlcladder) vs dense DAE
                                               # path / slycot / pyMOR, then Stokes index 2 (n = 10679,
                                               # 29799) vs pyMOR on the equivalent ODE

``--dae`` (second part): the public singular-E benchmark, M-M.E.S.S.'s Stokes ``stokes_ind2``
(``stokes:nx``, 5 inputs and outputs), BT to r = 20: physfact's sparse index-2 route on the DAE (saddle-point solves, Gramian
factors on ker G^T), and -- since pyMOR has no index-2 DAE BT -- pyMOR's and physfact's ODE LR-ADI on
the equivalent ODE built with the stream-function basis of ker G^T (its construction is not timed).
Errors are sampled H-infinity errors of the DAE minus the ROM.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from _harness import measure, print_table  # noqa: E402

ADI_TOL = 1e-10
ORDER = 20
NHSV = 20
DATA = Path(os.environ.get("PHYSFACT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "control"


# ------------------------------------------------------------------------------------------------
# models (built once in the parent, stored as .npz so every child loads the same arrays)


def _fom():
    """Penzl's FOM: A = blkdiag([-1 w; -w -1] for w = 100, 200, 400; -diag(1..1000)), n = 1006."""
    import scipy.sparse as sp

    blocks = [np.array([[-1.0, w], [-w, -1.0]]) for w in (100.0, 200.0, 400.0)]
    A = sp.block_diag(blocks + [sp.diags(-np.arange(1.0, 1001.0))], format="csc")
    b = np.concatenate([10.0 * np.ones(6), np.ones(1000)])
    return A, b[:, None], b[None, :], None


def _heat2d(nx):
    try:
        from physfact.control.models import heat2d

        s = heat2d(nx)
        return s.A, s.B, s.C, s.E
    except ImportError:  # control-core's models not merged: assemble the same problem here
        import scipy.sparse as sp
        import skfem
        from skfem.helpers import dot, grad

        mesh = skfem.MeshTri.init_tensor(np.linspace(0, 1, nx + 1), np.linspace(0, 1, nx + 1))
        basis = skfem.Basis(mesh, skfem.ElementTriP1())
        K = skfem.BilinearForm(lambda u, v, w: dot(grad(u), grad(v))).assemble(basis)
        M = skfem.BilinearForm(lambda u, v, w: u * v).assemble(basis)
        x, y = basis.doflocs
        b = ((x >= 0.1) & (x <= 0.4) & (y >= 0.1) & (y <= 0.4)).astype(float)
        c = ((x >= 0.6) & (x <= 0.9) & (y >= 0.6) & (y <= 0.9)).astype(float)
        b, c = M @ b, M @ c
        b, c = b / b.sum(), c / c.sum()
        I = basis.complement_dofs(basis.get_dofs())
        return (-K[I][:, I]).tocsc(), b[I][:, None], c[I][None, :], sp.csc_matrix(M[I][:, I])


def _cantilever(ny):
    """physfact.fem's plane-stress cantilever (length 20, height 1, ny elements across, Q1) as a
    first-order LTI system, n = 2 n_q: M q'' + D q' + K q = f u, y = mean vertical end displacement;
    Rayleigh damping D = a M + b K with 1 % damping at the 1st and 3rd bending modes."""
    import scipy.sparse.linalg as spla

    from physfact.control import SecondOrderSystem
    from physfact.fem import cantilever

    prob = cantilever(length=20.0, height=1.0, ny=ny)
    K, M = prob.K.tocsr(), prob.M.tocsr()
    w = np.sqrt(np.sort(spla.eigsh(K, k=3, M=M, sigma=0, return_eigenvectors=False)))
    zeta, w1, w3 = 0.01, w[0], w[2]
    a, b = 2 * zeta * w1 * w3 / (w1 + w3), 2 * zeta / (w1 + w3)
    load = prob.f != 0
    Cp = np.where(load, 1.0 / load.sum(), 0.0)[None, :]
    s = SecondOrderSystem(M, a * M + b * K, K, (prob.f / np.linalg.norm(prob.f))[:, None], Cp).to_first_order()
    return s.A, s.B, s.C, s.E


def prepare(name: str, folder: Path) -> Path:
    """Write model ``name`` to ``folder/name.npz`` (A, E sparse parts; B, C dense)."""
    import scipy.io
    import scipy.sparse as sp

    if name.startswith("rail"):
        d = scipy.io.loadmat(DATA / f"{name}.mat")
        A, B, C, E = d["A"], d["B"], d["C"].astype(float), d["E"]  # C is stored as int16
    elif name == "fom":
        A, B, C, E = _fom()
    elif name.startswith("heat2d"):
        A, B, C, E = _heat2d(int(name.split("_")[1]))
    elif name.startswith("cantilever"):
        A, B, C, E = _cantilever(int(name.split("_")[1]))
    else:
        raise ValueError(name)
    A = sp.csc_matrix(A)
    out = folder / f"{name}.npz"
    arrays = dict(A_data=A.data, A_indices=A.indices, A_indptr=A.indptr, n=A.shape[0],
                  B=np.asarray(B, float), C=np.asarray(C, float))
    if E is not None:
        E = sp.csc_matrix(E)
        arrays.update(E_data=E.data, E_indices=E.indices, E_indptr=E.indptr)
    np.savez(out, **arrays)
    return out


def prepare_in_child(name: str, folder: str) -> str:
    """:func:`prepare` for ``_harness.measure``: building a model (scikit-fem) in the parent would
    raise the children's reported peak RSS, which Linux carries across fork + exec."""
    return str(prepare(name, Path(folder)))


def _load(path):
    import scipy.sparse as sp

    z = np.load(path)
    n = int(z["n"])
    A = sp.csc_matrix((z["A_data"], z["A_indices"], z["A_indptr"]), shape=(n, n))
    E = sp.csc_matrix((z["E_data"], z["E_indices"], z["E_indptr"]), shape=(n, n)) if "E_data" in z else None
    return A, z["B"], z["C"], E


def _rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------------------------------------
# the solvers (each called in a child process by _harness.measure)


def run_physfact(path: str) -> dict:
    from physfact.control.lradi import lradi

    A, B, C, E = _load(path)
    rss0 = _rss_mib()
    t0 = time.process_time()
    fc = lradi(A, B, E, tol=ADI_TOL)
    fo = lradi(A, C.T, E, trans=True, tol=ADI_TOL)
    # square root BT: Lo^T E Lc = U S V^T; V_r = Lc V_r S_r^{-1/2}, W_r = Lo U_r S_r^{-1/2}
    return _square_root(A, B, C, E, fc, fo, t0, rss0)


def run_physfact_pair(path: str) -> dict:
    """Both factors from one LR-ADI run sharing every LU (:func:`physfact.control.lradi.lradi_pair`)."""
    from physfact.control.lradi import lradi_pair

    A, B, C, E = _load(path)
    rss0 = _rss_mib()
    t0 = time.process_time()
    fc, fo = lradi_pair(A, B, C, E, tol=ADI_TOL)
    return _square_root(A, B, C, E, fc, fo, t0, rss0)


def run_physfact_bt(path: str) -> dict:
    """The public entry point, :func:`physfact.control.balanced_truncation`, with its defaults (it
    shares factorizations between the two Gramians or not by the numbers of inputs and outputs)."""
    import physfact.control.lradi  # noqa: F401 - imported before the timing, as in every other row
    from physfact.control import LTISystem, balanced_truncation

    A, B, C, E = _load(path)
    rss0 = _rss_mib()
    t0 = time.process_time()
    res = balanced_truncation(LTISystem(A, B, C, E=E), rank=ORDER, solver="adi", adi_tol=ADI_TOL)
    cpu = time.process_time() - t0
    info = res.info
    fac = info["factorizations"]
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, hsv=res.hsv[:NHSV].tolist(),
                cols="{}->{} / {}->{}".format(info["columns_before_compression"][0], info["factor_columns"][0],
                                              info["columns_before_compression"][1], info["factor_columns"][1]),
                steps="{}/{}".format(*info["iterations"]),
                lus=f"{fac[0]}" + (" shared" if info["shared_factorizations"] else f"/{fac[1]}"),
                res=max(info["residuals"]), poles_max=float(np.linalg.eigvals(res.rom.A).real.max()))


def _square_root(A, B, C, E, fc, fo, t0, rss0):
    Lc, Lo = fc.Z, fo.Z
    ELc = Lc if E is None else E @ Lc
    U, s, Vt = np.linalg.svd(Lo.T @ ELc, full_matrices=False)
    sc = 1.0 / np.sqrt(s[:ORDER])
    V, W = (Lc @ Vt[:ORDER].T) * sc, (Lo @ U[:, :ORDER]) * sc
    Ar = W.T @ (A @ V)
    cpu = time.process_time() - t0
    lus = (f"{fc.info['factorizations']}" if fc.info["factorizations"] == fo.info["factorizations"] and
           fc.info.get("shared_lus") else f"{fc.info['factorizations']}/{fo.info['factorizations']}")
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, hsv=s[:NHSV].tolist(),
                cols=f"{fc.info['columns_before']}->{Lc.shape[1]} / {fo.info['columns_before']}->{Lo.shape[1]}",
                steps=f"{fc.iterations}/{fo.iterations}", lus=lus,
                res=max(fc.residual, fo.residual), poles_max=float(np.linalg.eigvals(Ar).real.max()))


def _pymor_adi_solvers():
    """pyMOR's matrix-equation solver set with LR-ADI at ADI_TOL, logging quiet (imports happen on
    the first call, before the timing)."""
    import logging

    from pymor.core.logger import set_log_levels
    from pymor.solvers.matrix_equations.adi import ADILyapunovSolver
    from pymor.solvers.matrix_equations.default import MatrixEquationSolvers

    set_log_levels({"pymor": logging.WARNING})
    return MatrixEquationSolvers(lyapunov_lr=ADILyapunovSolver(adi_tol=ADI_TOL))


def run_pymor(path: str) -> dict:
    from pymor.models.iosys import LTIModel
    from pymor.reductors.bt import BTReductor

    _pymor_adi_solvers()
    A, B, C, E = _load(path)
    rss0 = _rss_mib()
    t0 = time.process_time()
    solvers = _pymor_adi_solvers()
    fom = LTIModel.from_matrices(A, B, C, E=E, matrix_equation_solvers=solvers)
    red = BTReductor(fom)
    rom = red.reduce(ORDER)
    hsv = fom.hsv()  # cached Gramians: the SVD of the factors' product only
    cpu = time.process_time() - t0
    Zc, Zo = fom.gramian("c_lr"), fom.gramian("o_lr")
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, hsv=np.asarray(hsv)[:NHSV].tolist(),
                cols=f"{len(Zc)} / {len(Zo)}", steps="-", lus="-", res=None,
                poles_max=float(np.asarray(rom.poles()).real.max()))  # the ROM's E may differ from I


def run_slycot(path: str) -> dict:
    import scipy.linalg as sla
    from slycot import ab09ad

    A, B, C, E = _load(path)
    rss0 = _rss_mib()
    t0 = time.process_time()
    Ad, Bd = A.toarray(), np.asarray(B)
    if E is not None:  # AB09AD has no E: the state-space realization E^{-1}A, E^{-1}B
        lu = sla.lu_factor(E.toarray())
        Ad, Bd = sla.lu_solve(lu, Ad), sla.lu_solve(lu, Bd)
    n, m, p = Ad.shape[0], Bd.shape[1], C.shape[0]
    nr, Ar, Br, Cr, hsv = ab09ad("C", "B", "N", n, m, p, Ad, Bd, np.asarray(C), nr=ORDER)
    cpu = time.process_time() - t0
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, hsv=np.asarray(hsv)[:NHSV].tolist(), cols="dense",
                steps="-", lus="-", res=None, poles_max=float(np.linalg.eigvals(Ar[:nr, :nr]).real.max()))


# ------------------------------------------------------------------------------------------------
# the rest of the family: frequency-limited BT (low-rank) and second-order BT, against pyMOR

#: FLBT cases: model -> (band in rad/s, order). FOM: its 200 rad/s resonance; rail: mid frequencies
#: of the heat-transfer models; cantilever: its 2nd and 3rd bending modes (0.016, 0.043 rad/s).
FL_CASES = {"fom": ((150.0, 250.0), 4), "rail_1357": ((1e-3, 1e-1), 10), "rail_5177": ((1e-3, 1e-1), 10),
            "cantilever_8": ((0.01, 0.05), 10)}
SO_ORDER = 40


def _chain(nq):
    """Mass-spring chain, random masses in [1, 2] (seed 0), springs 4, Rayleigh damping
    0.05 M + 0.05 K; force on the last mass; outputs: first position, middle velocity."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    T = sp.diags([-np.ones(nq - 1), 2.0 * np.ones(nq), -np.ones(nq - 1)], [-1, 0, 1], format="csr")
    M, K = sp.diags(1.0 + rng.random(nq), format="csr"), 4.0 * T
    B, Cp, Cv = np.zeros((nq, 1)), np.zeros((1, nq)), np.zeros((1, nq))
    B[-1], Cp[0, 0], Cv[0, nq // 2] = 1.0, 1.0, 1.0
    return M, 0.05 * M + 0.05 * K, K, B, Cp, Cv


def _band_error(G, Gr):
    return float(np.max(np.linalg.norm(G - Gr, 2, axis=(1, 2))) / np.max(np.linalg.norm(G, 2, axis=(1, 2))))


def _fl_grid(band):
    """400 linear and 400 log-spaced frequencies over the band (the same for both rows)."""
    return np.union1d(np.linspace(*band, 400), np.geomspace(*band, 400))


def _warm_up_physfact():
    """One small FLBT before the timing: the imports and first-call set-up (LAPACK/SuperLU
    wrappers, threadpoolctl) stay outside the timed region, as for pyMOR (:func:`_warm_up_pymor`)."""
    from physfact.control import LTISystem, balanced_truncation

    A, B, C, _ = _tiny()
    balanced_truncation(LTISystem(A, B, C), rank=2, frequency_band=(0.5, 2.0), solver="adi", adi_tol=ADI_TOL)


def _warm_up_pymor():
    from pymor.models.iosys import LTIModel
    from pymor.reductors.bt import BTReductor

    A, B, C, _ = _tiny()
    BTReductor(LTIModel.from_matrices(A, B, C, matrix_equation_solvers=_pymor_adi_solvers())).reduce(2)


def _tiny():
    """A 40-state sparse model with a resonance at 1 rad/s (for the warm-ups)."""
    import scipy.sparse as sp

    A = sp.block_diag([np.array([[-0.05, 1.0], [-1.0, -0.05]]), sp.diags(-np.arange(1.0, 39.0))], format="csc")
    b = np.ones((40, 1))
    return A, b, b.T.copy(), None


def run_flbt_physfact(path: str, band: list, order: int) -> dict:
    """Low-rank frequency-limited BT (ADI factors + Galerkin log term); the CPU includes the
    sampled in-band error it reports."""
    from physfact.control import LTISystem, balanced_truncation

    _warm_up_physfact()
    A, B, C, E = _load(path)
    sys_ = LTISystem(A, B, C, E=E)
    rss0 = _rss_mib()
    t0 = time.process_time()
    res = balanced_truncation(sys_, rank=order, frequency_band=tuple(band), solver="adi", adi_tol=ADI_TOL)
    cpu = time.process_time() - t0
    w = _fl_grid(band)
    info = res.info
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, order=res.order, gramians=info["gramians"],
                points=info["band_error_points"], error=_band_error(sys_.freqresp(w), res.rom.freqresp(w)),
                reported=info["band_error"] / np.max(np.linalg.norm(sys_.freqresp(w), 2, axis=(1, 2))))


def run_flbt_pymor_bt(path: str, band: list, order: int) -> dict:
    """pyMOR has no frequency-limited BT: its plain BT at the same order is the peer (what a user
    would otherwise do)."""
    from pymor.models.iosys import LTIModel
    from pymor.reductors.bt import BTReductor

    from physfact.control import LTISystem

    _warm_up_pymor()
    A, B, C, E = _load(path)
    rss0 = _rss_mib()
    t0 = time.process_time()
    solvers = _pymor_adi_solvers()
    rom = BTReductor(LTIModel.from_matrices(A, B, C, E=E, matrix_equation_solvers=solvers)).reduce(order)
    cpu = time.process_time() - t0
    w = _fl_grid(band)
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, order=order, gramians="plain BT", points=None,
                error=_band_error(LTISystem(A, B, C, E=E).freqresp(w), rom.transfer_function.freq_resp(w)))


def _so_error(M, D, K, B, Cp, Cv, freq_resp):
    from physfact.control import SecondOrderSystem

    w = np.logspace(-3, 1.5, 300)
    return _band_error(SecondOrderSystem(M, D, K, B, Cp, Cv).freqresp(w), freq_resp(w))


def run_sobt_physfact(nq: int) -> dict:
    import physfact.control.lradi  # noqa: F401 - imported before the timing
    from physfact.control import SecondOrderSystem, second_order_balanced_truncation

    mats = _chain(nq)
    rss0 = _rss_mib()
    t0 = time.process_time()
    res = second_order_balanced_truncation(SecondOrderSystem(*mats), rank=SO_ORDER, variant="p", solver="adi",
                                           adi_tol=ADI_TOL)
    cpu = time.process_time() - t0
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, order=res.order, gramians="SOBT-p",
                error=_so_error(*mats, res.rom.freqresp))


def run_sobt_pymor(nq: int) -> dict:
    from pymor.models.iosys import SecondOrderModel
    from pymor.reductors.sobt import SOBTpReductor

    _pymor_adi_solvers()
    mats = _chain(nq)
    rss0 = _rss_mib()
    t0 = time.process_time()
    solvers = _pymor_adi_solvers()
    fom = SecondOrderModel.from_matrices(*mats, matrix_equation_solvers=solvers)
    rom = SOBTpReductor(fom).reduce(SO_ORDER)
    cpu = time.process_time() - t0
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, order=SO_ORDER, gramians="SOBT-p",
                error=_so_error(*mats, rom.transfer_function.freq_resp))


def family(tmp, models=None, repeats=3):
    """FLBT (FL_CASES) and SOBT-p (mass-spring chains) rows: physfact vs pyMOR. ``models``: a subset
    of the FLBT model names and chain_300 / chain_1000. FLBT rows: the median of ``repeats`` runs
    (each a fresh process), with the range."""
    rows, ratios, cases = [], [], []
    for name, (band, order) in FL_CASES.items():
        if models and name not in models:
            continue
        if name.startswith("rail") and not (DATA / f"{name}.mat").exists():
            rows.append(dict(kind="flbt", model=name, failure=f"skipped: {DATA / name}.mat absent"))
            continue
        prep = measure("control_bt:prepare_in_child", {"name": name, "folder": tmp})
        if "error" in prep:
            rows.append(dict(kind="flbt", model=name, failure=prep["error"]))
            continue
        kw = {"path": prep["result"], "band": list(band), "order": order}
        n = int(np.load(prep["result"])["n"])
        cases.append(("flbt", name, n, kw, "run_flbt_physfact", "run_flbt_pymor_bt"))
    cases += [("sobt", f"chain_{nq}", 2 * nq, {"nq": nq}, "run_sobt_physfact", "run_sobt_pymor") for nq in (300, 1000)
              if not models or f"chain_{nq}" in models]
    for kind, model, n, kw, ours, peer in cases:
        got = {}
        for label, fn in (("physfact", ours), ("pymor", peer)):
            runs = [measure(f"control_bt:{fn}", kw, timeout=3600) for _ in range(repeats if kind == "flbt" else 1)]
            failed = [r for r in runs if "error" in r]
            if failed:
                rows.append(dict(kind=kind, model=model, n=n, solver=label, failure=failed[0]["error"]))
                continue
            cpus = sorted(r["result"]["solve_cpu_s"] for r in runs)
            r = next(r for r in runs if r["result"]["solve_cpu_s"] == cpus[len(cpus) // 2])  # the median run
            out = r["result"]
            got[label] = (r, out)
            rows.append(dict(kind=kind, model=model, n=n, solver=label, method=out["gramians"], r=out["order"],
                             cpu_s=out["solve_cpu_s"], cpu_range=f"{cpus[0]:.3g}-{cpus[-1]:.3g}",
                             peak_mib=r["peak_mib"], extra_mib=r["peak_mib"] - out["rss_before_mib"],
                             rel_error=out["error"], reported=out.get("reported"), points=out.get("points")))
        if len(got) == 2:
            (ra, a), (rb, b) = got["physfact"], got["pymor"]
            ratios.append(dict(kind=kind, model=model, cpu_ratio=a["solve_cpu_s"] / b["solve_cpu_s"],
                               peak_ratio=ra["peak_mib"] / rb["peak_mib"], error_ratio=a["error"] / b["error"]))
    cols = ["kind", "model", "n", "solver", "method", "r", "cpu_s", "cpu_range", "peak_mib", "extra_mib", "rel_error",
            "reported", "points", "failure"]
    print_table(rows, cols, title="FLBT: in-band rel. error (800 points; 'reported' = physfact's own sampled "
                                  "in-band error from 'points' frequencies, inside cpu_s); pyMOR has no FLBT: its "
                                  "row is its plain BT at the same order, what a user would otherwise do.\n"
                                  "SOBT-p: rel. error sampled on [1e-3, 10^1.5] rad/s. ADI tol 1e-10, one BLAS thread, "
                                  f"FLBT: both sides warmed up on a tiny model first, median of {repeats} runs")
    print()
    print_table(ratios, ["kind", "model", "cpu_ratio", "peak_ratio", "error_ratio"],
                title="physfact / pyMOR (target: cpu <= 0.5 at error_ratio <= 1)")
    return rows, ratios


DAE_ORDER = 10


def _dae_error(sys_, rom):
    w = np.concatenate([[0.0], np.logspace(-2, 1, 80)])
    return _band_error(sys_.freqresp(w), rom.freqresp(w))


def run_dae_physfact(sections: int, solver: str) -> dict:
    """physfact on rlcladder: ``solver="adi"`` the sparse index-1 route, "hammarling" the dense split."""
    import physfact.control.dae  # noqa: F401 - imported before the timing
    import physfact.control.dae_index1  # noqa: F401
    import physfact.control.lradi  # noqa: F401
    from physfact.control import balanced_truncation, models

    sys_ = models.rlc_ladder(sections)
    rss0 = _rss_mib()
    t0 = time.process_time()
    res = balanced_truncation(sys_, rank=DAE_ORDER, solver=solver, adi_tol=ADI_TOL)
    cpu = time.process_time() - t0
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, hsv=res.hsv[:DAE_ORDER].tolist(), order=res.order,
                route=res.solver, error=_dae_error(sys_, res.rom))


def run_dae_slycot_schur(sections: int) -> dict:
    """slycot AB09AD (dense BT) on the explicit Schur-complement ODE, formed densely (timed with it)."""
    import scipy.linalg as sla
    from slycot import ab09ad

    from physfact.control import LTISystem, models

    sys_ = models.rlc_ladder(sections)
    st = sys_.semi_explicit
    rss0 = _rss_mib()
    t0 = time.process_time()
    A, E = sys_.A.toarray(), sys_.E.toarray()
    r1, c1, r2, c2 = st.rows1, st.cols1, st.rows2, st.cols2
    S = np.linalg.solve(A[np.ix_(r2, c2)], np.hstack([A[np.ix_(r2, c1)], sys_.B[r2]]))
    n1 = r1.size
    A12, C2 = A[np.ix_(r1, c2)], sys_.C[:, c2]
    lu = sla.lu_factor(E[np.ix_(r1, c1)])
    As = sla.lu_solve(lu, A[np.ix_(r1, c1)] - A12 @ S[:, :n1])
    Bs = sla.lu_solve(lu, sys_.B[r1] - A12 @ S[:, n1:])
    Cs, Ds = sys_.C[:, c1] - C2 @ S[:, :n1], sys_.D - C2 @ S[:, n1:]
    nr, Ar, Br, Cr, hsv = ab09ad("C", "B", "S", n1, 1, 1, As, Bs, Cs, nr=DAE_ORDER)
    cpu = time.process_time() - t0
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, hsv=hsv[:DAE_ORDER].tolist(), order=nr,
                route="AB09AD on the Schur ODE", error=_dae_error(sys_, LTISystem(Ar, Br, Cr, Ds)))


def _sparse_schur_ode(sys_):
    """The Schur-complement ODE with sparse matrices: possible for the ladder (A22 is 2 x 2 block
    diagonal, so A12 A22^{-1} A21 stays sparse), not for a general index-1 DAE."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    st = sys_.semi_explicit
    A, E = sp.csr_matrix(sys_.A), sp.csr_matrix(sys_.E)
    r1, c1, r2, c2 = st.rows1, st.cols1, st.rows2, st.cols2
    A22 = A[r2][:, c2].tocsc()
    X = sp.csc_matrix(spsolve(A22, A[r2][:, c1].tocsc()))  # A22^{-1} A21, sparse for this model
    y2 = spsolve(A22, sys_.B[r2]).reshape(-1, sys_.m)
    A12, C2 = A[r1][:, c2], sys_.C[:, c2]
    As = (A[r1][:, c1] - A12 @ X).tocsc()
    Bs = sys_.B[r1] - A12 @ y2
    Cs = sys_.C[:, c1] - np.asarray((X.T @ C2.T).T)
    return As, Bs, Cs, sys_.D - C2 @ y2, E[r1][:, c1].tocsc()


def run_dae_pymor_schur(sections: int) -> dict:
    """pyMOR's LR-ADI BT on the Schur-complement ODE, formed as sparse matrices before the timing
    (scipy's spsolve with a sparse right-hand side, column by column: reported as setup_s)."""
    from pymor.models.iosys import LTIModel
    from pymor.reductors.bt import BTReductor

    from physfact.control import models

    _pymor_adi_solvers()
    sys_ = models.rlc_ladder(sections)
    t0 = time.process_time()
    As, Bs, Cs, Ds, E11 = _sparse_schur_ode(sys_)
    setup = time.process_time() - t0
    rss0 = _rss_mib()
    t0 = time.process_time()
    solvers = _pymor_adi_solvers()
    fom = LTIModel.from_matrices(As, Bs, Cs, D=Ds, E=E11, matrix_equation_solvers=solvers)
    rom = BTReductor(fom).reduce(DAE_ORDER)
    hsv = fom.hsv()
    cpu = time.process_time() - t0
    w = np.concatenate([[0.0], np.logspace(-2, 1, 80)])
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, hsv=np.asarray(hsv)[:DAE_ORDER].tolist(), order=DAE_ORDER,
                route="pyMOR BT on the sparse Schur ODE", setup_s=setup,
                error=_band_error(sys_.freqresp(w), rom.transfer_function.freq_resp(w)))


def dae(large: bool = False):
    """Sparse index-1 DAE rows (rlcladder): physfact sparse route, dense DAE path, slycot on the Schur ODE."""
    rows, ratios = [], []
    sizes = [300, 600, 2500] + ([10000] if large else [])
    for sections in sizes:
        n = 4 * sections
        got = {}
        cases = [("physfact", "run_dae_physfact", {"sections": sections, "solver": "adi"}),
                 ("pymor_schur", "run_dae_pymor_schur", {"sections": sections})]
        if n <= 2400:
            cases += [("physfact_dense", "run_dae_physfact", {"sections": sections, "solver": "hammarling"}),
                      ("slycot_schur", "run_dae_slycot_schur", {"sections": sections})]
        for label, fn, kw in cases:
            r = measure(f"control_bt:{fn}", kw, timeout=3600)
            if "error" in r:
                rows.append(dict(model=f"rlcladder:{sections}", n=n, solver=label, failure=r["error"]))
                continue
            out = r["result"]
            got[label] = (r, out)
            rows.append(dict(model=f"rlcladder:{sections}", n=n, solver=label, route=out["route"], r=out["order"],
                             cpu_s=out["solve_cpu_s"], setup_s=out.get("setup_s"), peak_mib=r["peak_mib"],
                             extra_mib=r["peak_mib"] - out["rss_before_mib"], rel_error=out["error"]))
        ref = got.get("slycot_schur") or got.get("physfact_dense") or got.get("pymor_schur")
        for label in ("physfact_dense", "slycot_schur", "pymor_schur"):
            if "physfact" in got and label in got:
                (ra, a), (rb, b) = got["physfact"], got[label]
                h, hr = np.asarray(a["hsv"]), np.asarray(ref[1]["hsv"])
                ratios.append(dict(model=f"rlcladder:{sections}", peer=label,
                                   cpu_ratio=a["solve_cpu_s"] / b["solve_cpu_s"],
                                   peak_ratio=ra["peak_mib"] / rb["peak_mib"], error_ratio=a["error"] / b["error"],
                                   hsv_diff_rel=float(np.max(np.abs(h - hr)) / hr[0])))
    print_table(rows, ["model", "n", "solver", "route", "r", "cpu_s", "setup_s", "peak_mib", "extra_mib", "rel_error",
                       "failure"],
                title=f"Index-1 DAE (RLC ladder, MNA), r = {DAE_ORDER}, ADI relative residual {ADI_TOL:g}; "
                      "rel_error = sampled H-infinity error / ||G|| (one BLAS thread)")
    print()
    print_table(ratios, ["model", "peer", "cpu_ratio", "peak_ratio", "error_ratio", "hsv_diff_rel"],
                title="physfact sparse index-1 route / dense alternative; hsv_diff_rel vs slycot on the Schur ODE")


# ------------------------------------------------------------------------------------------------
# the public singular-E benchmark: Stokes flow (index 2), physfact's route on ker G^T vs pyMOR on the
# equivalent ODE (pyMOR has no index-2 DAE solver)

STOKES_NX = (60, 100)  # n = 10679, 29799
STOKES_ORDER = 20


def _stokes_error(sys_, rom):
    """Sampled H-infinity error max_w ||G(iw) - G_r(iw)||_2 on 40 frequencies 1e-1..1e5 rad/s (the
    Stokes poles lie in [-8 nx^2, -2 pi^2]) and relative to max_w ||G(iw)||_2."""
    w = np.logspace(-1, 5, 40)
    G = sys_.freqresp(w)
    err = float(np.max(np.linalg.norm(G - rom.freqresp(w), 2, axis=(1, 2))))
    return err, err / float(np.max(np.linalg.norm(G, 2, axis=(1, 2))))


def run_stokes_physfact(nx: int) -> dict:
    """``balanced_truncation`` of ``stokes:nx`` with its defaults (the sparse index-2 route)."""
    import physfact.control.dae_stokes  # noqa: F401 - imported before the timing
    import physfact.control.lradi  # noqa: F401
    from physfact.control import balanced_truncation, models

    sys_ = models.stokes(nx)
    rss0 = _rss_mib()
    t0 = time.process_time()
    res = balanced_truncation(sys_, rank=STOKES_ORDER, adi_tol=ADI_TOL)
    cpu = time.process_time() - t0
    err, rel = _stokes_error(sys_, res.rom)
    info = res.info
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, n=sys_.n, hsv=res.hsv[:NHSV].tolist(), error=err,
                rel_error=rel, bound=res.error_bound, route=res.solver, steps="{}/{}".format(*info["iterations"]),
                lus=info["factorizations"], cols="{} / {}".format(*info["factor_columns"]))


def _stokes_stream_ode(nx):
    """The projected ODE of ``stokes:nx`` on the stream-function basis Theta of ker G^T:
    (Theta^T A11 Theta, Theta^T B1, C1 Theta, E = Theta^T Theta), sparse; same transfer function."""
    from physfact.control import models

    sys_ = models.stokes(nx)
    T = models.stokes_stream_basis(nx)
    nv = T.shape[0]
    A11 = sys_.A.tocsr()[:nv, :nv]
    return sys_, ((T.T @ A11 @ T).tocsc(), T.T @ sys_.B[:nv], sys_.C[:, :nv] @ T, (T.T @ T).tocsc())


def run_stokes_pymor(nx: int) -> dict:
    """pyMOR's BTReductor (LR-ADI at ADI_TOL) on the stream-function ODE (built before the timing:
    pyMOR cannot take the index-2 DAE itself)."""
    from pymor.models.iosys import LTIModel
    from pymor.reductors.bt import BTReductor

    from physfact.control import LTISystem

    _pymor_adi_solvers()
    sys_, (A, B, C, E) = _stokes_stream_ode(nx)
    rss0 = _rss_mib()
    t0 = time.process_time()
    fom = LTIModel.from_matrices(A, B, C, E=E, matrix_equation_solvers=_pymor_adi_solvers())
    rom = BTReductor(fom).reduce(STOKES_ORDER)
    hsv = fom.hsv()
    cpu = time.process_time() - t0
    Ar, Br, Cr = (op.matrix for op in (rom.A, rom.B, rom.C))
    Er = None if rom.E.name == "IdentityOperator" or not hasattr(rom.E, "matrix") else rom.E.matrix
    err, rel = _stokes_error(sys_, LTISystem(np.asarray(Ar), np.asarray(Br), np.asarray(Cr), E=Er))
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, n=sys_.n, hsv=np.asarray(hsv)[:NHSV].tolist(), error=err,
                rel_error=rel, bound=float(2 * np.sum(np.asarray(fom.hsv())[STOKES_ORDER:])),
                route="stream-function ODE", steps="-", lus="-",
                cols="{} / {}".format(len(fom.gramian("c_lr")), len(fom.gramian("o_lr"))))


def run_stokes_physfact_stream(nx: int) -> dict:
    """physfact's ODE LR-ADI BT on the same stream-function ODE as pyMOR (like for like)."""
    import physfact.control.lradi  # noqa: F401 - imported before the timing
    from physfact.control import LTISystem, balanced_truncation

    sys_, (A, B, C, E) = _stokes_stream_ode(nx)
    rss0 = _rss_mib()
    t0 = time.process_time()
    res = balanced_truncation(LTISystem(A, B, C, E=E), rank=STOKES_ORDER, solver="adi", adi_tol=ADI_TOL)
    cpu = time.process_time() - t0
    err, rel = _stokes_error(sys_, res.rom)
    info = res.info
    return dict(solve_cpu_s=cpu, rss_before_mib=rss0, n=sys_.n, hsv=res.hsv[:NHSV].tolist(), error=err,
                rel_error=rel, bound=res.error_bound, route="stream-function ODE",
                steps="{}/{}".format(*info["iterations"]), lus="{}/{}".format(*info["factorizations"]),
                cols="{} / {}".format(*info["factor_columns"]))


def stokes_dae(nxs=STOKES_NX):
    """``--dae``: BT of the Stokes index-2 benchmark ``stokes:nx`` (M-M.E.S.S.'s stokes_ind2, 5 inputs,
    5 outputs), r = STOKES_ORDER: physfact's index-2 route on the DAE, and both physfact's and pyMOR's
    ODE LR-ADI on the stream-function ODE of the same system (pyMOR has no index-2 DAE route)."""
    rows, ratios = [], []
    for nx in nxs:
        got = {}
        for label, fn in (("physfact (DAE, ker G^T)", "run_stokes_physfact"),
                          ("physfact (stream ODE)", "run_stokes_physfact_stream"),
                          ("pymor (stream ODE)", "run_stokes_pymor")):
            r = measure(f"control_bt:{fn}", {"nx": nx}, timeout=3600)
            if "error" in r:
                rows.append(dict(model=f"stokes:{nx}", solver=label, failure=r["error"]))
                continue
            out = r["result"]
            got[label] = (r, out)
            rows.append(dict(model=f"stokes:{nx}", n=out["n"], solver=label, cpu_s=out["solve_cpu_s"],
                             peak_mib=r["peak_mib"], extra_mib=r["peak_mib"] - out["rss_before_mib"],
                             steps=out["steps"], LUs=out["lus"], columns=out["cols"], hinf_err=out["error"],
                             rel_err=out["rel_error"], bound=out["bound"]))
        ours = got.get("physfact (DAE, ker G^T)")
        for peer in ("physfact (stream ODE)", "pymor (stream ODE)"):
            if ours is None or peer not in got:
                continue
            (ra, a), (rb, b) = ours, got[peer]
            ha, hb = np.asarray(a["hsv"]), np.asarray(b["hsv"])
            k = min(ha.size, hb.size)
            ratios.append(dict(model=f"stokes:{nx}", peer=peer, cpu_ratio=a["solve_cpu_s"] / b["solve_cpu_s"],
                               peak_ratio=ra["peak_mib"] / rb["peak_mib"], error_ratio=a["error"] / b["error"],
                               hsv_diff_rel=float(np.max(np.abs(ha[:k] - hb[:k])) / hb[0])))
    print_table(rows, ["model", "n", "solver", "cpu_s", "peak_mib", "extra_mib", "steps", "LUs", "columns",
                       "hinf_err", "rel_err", "bound", "failure"],
                title=f"Stokes index-2 DAE (singular E), r = {STOKES_ORDER}, ADI relative residual {ADI_TOL:g}; "
                      "hinf_err sampled on 40 frequencies in [0.1, 1e5] rad/s; bound = 2 sum(hsv[r:])")
    print()
    print_table(ratios, ["model", "peer", "cpu_ratio", "peak_ratio", "error_ratio", "hsv_diff_rel"],
                title=f"physfact index-2 route / peer on the stream-function ODE; hsv_diff_rel = max_k<={NHSV} "
                      "|sigma_k - sigma_k(peer)| / sigma_1(peer)")
    return rows, ratios


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="rail_1357, FOM and rail_5177 only")
    ap.add_argument("--models", nargs="*", help="subset, e.g. rail_1357 fom heat2d_258")
    ap.add_argument("--family", action="store_true",
                    help="only the frequency-limited and second-order BT rows (FOM band, mass-spring chains)")
    ap.add_argument("--repeats", type=int, default=3, help="--family: runs per FLBT row (the median is shown)")
    ap.add_argument("--dae", action="store_true",
                    help="only the DAE (singular E) rows: the index-1 rlcladder (sparse route vs dense DAE path, "
                         "slycot, pyMOR), then the Stokes index-2 rows (stokes:60, stokes:100 vs pyMOR on the "
                         "stream-function ODE)")
    ap.add_argument("--dae-large", action="store_true", help="with --dae: also n = 40,000 (index 1)")
    args = ap.parse_args(argv)
    if args.dae:
        out = dae(large=args.dae_large)
        print()
        return out, stokes_dae()
    if args.family:
        with tempfile.TemporaryDirectory() as tmp:
            return family(tmp, args.models, args.repeats)
    models = args.models or (["rail_1357", "fom", "rail_5177"] if args.quick else
                             ["rail_1357", "fom", "rail_5177", "rail_20209", "heat2d_258"])
    dense_ok = {"rail_1357", "fom"}
    rows, ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in models:
            prep = measure("control_bt:prepare_in_child", {"name": name, "folder": tmp})
            if "error" in prep:
                rows.append(dict(model=name, solver="-", error=prep["error"]))
                continue
            path = prep["result"]
            n = int(np.load(path)["n"])
            res = {}
            for solver in ("physfact_bt", "physfact", "physfact_pair", "pymor") + (("slycot",) if name in dense_ok else ()):
                r = measure(f"control_bt:run_{solver}", {"path": str(path)}, timeout=3600)
                res[solver] = r
                if "error" in r:
                    rows.append(dict(model=name, n=n, solver=solver, error=r["error"]))
                    continue
                out = r["result"]
                rows.append(dict(model=name, n=n, solver=solver, cpu_s=out["solve_cpu_s"],
                                 peak_mib=r["peak_mib"], extra_mib=r["peak_mib"] - out["rss_before_mib"],
                                 columns=out["cols"], steps=out["steps"], LUs=out["lus"],
                                 residual=out["res"], rom_max_re_pole=out["poles_max"]))
            ok = {k: v for k, v in res.items() if "error" not in v}
            if "physfact" not in ok:
                continue
            ref = "slycot" if "slycot" in ok else ("pymor" if "pymor" in ok else None)
            for mine, peer in [(a, b) for a in ("physfact_bt", "physfact", "physfact_pair") if a in ok
                               for b in ok if not b.startswith("physfact")]:
                ours = ok[mine]
                h_ours = np.asarray(ours["result"]["hsv"])
                pr = ok[peer]
                h_peer = np.asarray(pr["result"]["hsv"])
                k = min(len(h_ours), len(h_peer))
                ratios.append(dict(model=name, ours=mine, peer=peer,
                                   cpu_ratio=ours["result"]["solve_cpu_s"] / pr["result"]["solve_cpu_s"],
                                   peak_ratio=ours["peak_mib"] / pr["peak_mib"],
                                   extra_mem_ratio=(ours["peak_mib"] - ours["result"]["rss_before_mib"])
                                   / max(pr["peak_mib"] - pr["result"]["rss_before_mib"], 1e-9),
                                   hsv_diff_rel=float(np.max(np.abs(h_ours[:k] - h_peer[:k])) / h_peer[0]),
                                   reference=(peer == ref)))
    print_table(rows, ["model", "n", "solver", "cpu_s", "peak_mib", "extra_mib", "columns", "steps", "LUs",
                       "residual", "rom_max_re_pole", "error"],
                title=f"Balanced truncation, r = {ORDER}, ADI relative residual {ADI_TOL:g} "
                      "(one BLAS thread; cpu_s = solve only; extra_mib = peak - RSS before the solve)")
    print()
    print_table(ratios, ["model", "ours", "peer", "cpu_ratio", "peak_ratio", "extra_mem_ratio", "hsv_diff_rel", "reference"],
                title="physfact / peer (targets vs pyMOR: cpu <= 0.33, memory <= 0.5; vs slycot: cpu <= 1.5); "
                      f"hsv_diff_rel = max_k<={NHSV} |sigma_k - sigma_k(peer)| / sigma_1(peer)")
    return rows, ratios


if __name__ == "__main__":
    main()
