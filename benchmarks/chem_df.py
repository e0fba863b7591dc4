"""Double factorization beside ffsim and OpenFermion on hydrogen chains, plus the FeMoco resource estimate.

Run:  python benchmarks/chem_df.py            (N = 20 / 60 / 100 orbitals + FeMoco + import time)
      python benchmarks/chem_df.py --quick    (N = 20 + FeMoco + import time)

Every solver runs in its own process with one BLAS thread (benchmarks/_harness.py). Inputs: linear
H_n chains (1 Angstrom spacing) in 6-31g, N = 2 n spatial orbitals; the MO ERIs (pq|rs) come from a
PySCF RHF in the parent and are saved once as .npy files that the children load, so integral time is
never timed. Each child times only the factorization call (``solve_cpu_s``, process CPU time),
then computes its achieved ERI error untimed; ``peak_mib`` is the child's whole peak RSS (ERI and
interpreter included: the N = 100 ERI alone is 763 MiB).

Matched error: physfact and ffsim both stop their first level when the largest diagonal of the
residual supermatrix is <= tol = 1e-6 Ha (this bounds the max-abs ERI error; ffsim documents its tol
as the max-abs error). OpenFermion's ``low_rank_two_body_decomposition`` truncates by a weight rule,
so it is given the same number of leaves as physfact (``final_rank = L``) and its achieved error is
reported; it always diagonalises the full N^2 x N^2 matrix and builds complex 2N x 2N leaves for all
N^2 vectors. OpenFermion's ``resource_estimates.df.factorize`` has only a second-level threshold; it
runs with thresh = 1e-6 and its achieved error is reported.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

TOL = 1e-6
OF_DF_THRESH = 1e-6
CACHE = Path(os.environ.get("PHYSFACT_BENCH_CACHE", Path(tempfile.gettempdir()) / "physfact_bench_chem"))
MAX_CHILD_GIB = 6.0


# --------------------------------------------------------------------------------------------
# inputs (parent)
# --------------------------------------------------------------------------------------------
def hchain_eri(n_orbitals: int) -> Path:
    """Path of the cached (pq|rs) of H_{N/2} in 6-31g (MO basis of RHF), computing it if needed."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"h{n_orbitals // 2}_631g_eri.npy"
    if path.exists():
        return path
    from pyscf import ao2mo, gto, scf

    n_atoms = n_orbitals // 2
    atom = "; ".join(f"H 0 0 {i:.1f}" for i in range(n_atoms))
    mol = gto.M(atom=atom, basis="6-31g", spin=n_atoms % 2, verbose=0)
    mf = scf.RHF(mol) if n_atoms % 2 == 0 else scf.ROHF(mol)
    mf.kernel()
    C = mf.mo_coeff
    assert C.shape[1] == n_orbitals
    eri = ao2mo.restore(1, ao2mo.full(mol, C), n_orbitals)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, eri)
    os.replace(tmp, path)
    return path


def _rowwise_errors(eri, leaves):
    """max-abs and Frobenius of eri - sum_l L_l (x) L_l, one orbital row at a time."""
    n = eri.shape[0]
    flat = leaves.reshape(len(leaves), n * n)
    mx, sq = 0.0, 0.0
    for p in range(n):
        d = eri[p].reshape(n, n * n) - leaves[:, p, :].T @ flat
        mx = max(mx, float(np.abs(d).max()))
        sq += float(np.vdot(d, d))
    return mx, float(np.sqrt(sq))


def _leaves_from_rank_one_cores(Z, U):
    """ffsim's plain DF returns cores Z_l = lambda_l lambda_l^T: recover the leaf matrices
    U diag(lambda) U^T (the overall sign of lambda does not matter) without any N^4 temporaries."""
    k = np.argmax(np.einsum("lii->li", Z), axis=1)
    piv = Z[np.arange(len(Z)), k, k]
    lam = Z[np.arange(len(Z)), :, k] / np.sqrt(np.where(piv > 0, piv, 1.0))[:, None]
    dev = np.max(np.abs(Z - lam[:, :, None] * lam[:, None, :])) if len(Z) else 0.0
    assert dev <= 1e-10 * max(1.0, float(np.max(np.abs(Z)))), f"cores are not rank one ({dev:.2e})"
    return np.einsum("lpi,li,lqi->lpq", U, lam, U)


# --------------------------------------------------------------------------------------------
# children
# --------------------------------------------------------------------------------------------
def run_physfact(path: str, method: str, tol: float = TOL) -> dict:
    from physfact.chem import double_factorize

    eri = np.load(path)
    t0 = time.process_time()
    df = double_factorize(eri, tol=tol, method=method)
    t = time.process_time() - t0
    err = df.two_body_error
    return dict(solve_cpu_s=t, L=df.n_leaves, max_err=err["max_abs"], fro_err=err["frobenius"])


def run_ffsim(path: str, tol: float = TOL) -> dict:
    import ffsim

    eri = np.load(path)
    t0 = time.process_time()
    Z, U = ffsim.linalg.double_factorized(eri, tol=tol, cholesky=True)
    t = time.process_time() - t0
    mx, fro = _rowwise_errors(eri, _leaves_from_rank_one_cores(Z, U))
    return dict(solve_cpu_s=t, L=int(len(Z)), max_err=mx, fro_err=fro)


def run_openfermion_low_rank(path: str, final_rank: int) -> dict:
    """OpenFermion's usual path: spin-orbital InteractionOperator tensor -> low rank -> leaves."""
    import openfermion
    from openfermion.chem.molecular_data import spinorb_from_spatial

    eri = np.load(path)
    n = eri.shape[0]
    # chemist (pq|rs) -> OpenFermion's a+_p a+_q a_r a_s coefficients, as openfermionpyscf does
    _, spin = spinorb_from_spatial(np.zeros((n, n)), np.asarray(eri.transpose(0, 2, 3, 1), order="C"))
    two_body = 0.5 * spin
    del spin
    t0 = time.process_time()
    lam, squares, _, _ = openfermion.low_rank_two_body_decomposition(two_body, final_rank=final_rank)
    second = [openfermion.prepare_one_body_squared_evolution(squares[l]) for l in range(len(lam))]
    t = time.process_time() - t0
    del two_body, second
    # spatial leaves: squares[l][::2, ::2]; chemist tensor = 1/2 (pq|rs) -> factor 2
    # (the supermatrix is PSD, so the kept eigenvalues are >= 0 up to rounding)
    leaves = np.sqrt(2.0 * np.clip(lam, 0.0, None))[:, None, None] * squares[:, ::2, ::2].real
    mx, fro = _rowwise_errors(eri, leaves)
    return dict(solve_cpu_s=t, L=int(len(lam)), max_err=mx, fro_err=fro)


def run_openfermion_df(path: str, thresh: float = OF_DF_THRESH) -> dict:
    from openfermion.resource_estimates import df

    eri = np.load(path)
    t0 = time.process_time()
    eri_rr, factors, _, n_vec = df.factorize(eri, thresh=thresh)
    t = time.process_time() - t0
    d = eri_rr - eri
    return dict(solve_cpu_s=t, L=int(factors.shape[2]), max_err=float(np.abs(d).max()),
                fro_err=float(np.linalg.norm(d)), n_eigenvectors=int(n_vec))


def femoco_path() -> str:
    import openfermion

    return os.path.join(os.path.dirname(openfermion.__file__), "resource_estimates", "integrals", "eri_reiher.h5")


def femoco_physfact(path: str) -> dict:
    """Load Reiher FeMoco, DF with OpenFermion's thresholds, lambda, cost (timed after the imports)."""
    import h5py

    from physfact.chem import MolecularHamiltonian, double_factorize
    from physfact.chem.resource_estimates import df_cost

    t0 = time.process_time()
    with h5py.File(path, "r") as f:
        eri, h, ecore = f["eri"][()], f["h0"][()], float(f["ecore"][()])
    ham = MolecularHamiltonian(constant=ecore, one_body=h, two_body=eri, n_electrons=54)
    dfac = double_factorize(ham, method="eigh", leaf_tol=0.00125)
    c = df_cost(dfac, dE=0.001, aleph=10, beth=16)
    t = time.process_time() - t0
    return dict(solve_cpu_s=t, L=c.n_leaves, n_eigenvectors=c.n_eigenvectors, lambda_=c.lambda_,
                toffolis=c.toffolis, logical_qubits=c.logical_qubits)


def femoco_openfermion(path: str) -> dict:
    """OpenFermion's pipeline on the same file (timed after the imports)."""
    from openfermion.resource_estimates import df
    from openfermion.resource_estimates.molecule import load_casfile_to_pyscf

    t0 = time.process_time()
    _, mf = load_casfile_to_pyscf(path, num_alpha=27, num_beta=27)
    _, factors, L, n_vec = df.factorize(mf._eri, thresh=0.00125)
    lam = df.compute_lambda(mf, factors)
    stps = df.compute_cost(108, lam, 0.001, L, n_vec, 10, 16, stps=20000)[0]
    _, toff, qubits = df.compute_cost(108, lam, 0.001, L, n_vec, 10, 16, stps)
    t = time.process_time() - t0
    return dict(solve_cpu_s=t, L=int(L), n_eigenvectors=int(n_vec), lambda_=float(lam), toffolis=int(toff),
                logical_qubits=int(qubits))


def _compression_start(molecule: str, n_leaves: int):
    from physfact.chem import double_factorize, molecular_hamiltonian
    from physfact.chem.compressed import leaves_from_factorization

    ham = molecular_hamiltonian(molecule, basis="sto-3g")
    Z, U = leaves_from_factorization(double_factorize(ham, method="eigh", rank=n_leaves))
    return ham.two_body, Z, U


def compressed_physfact(molecule: str, n_leaves: int, maxiter: int) -> dict:
    """physfact compressed DF from the plain DF's first L leaves (timed: the optimisation)."""
    from physfact.chem.compressed import compress_leaves

    eri, Z, U = _compression_start(molecule, n_leaves)
    t0 = time.process_time()
    res = compress_leaves(eri, Z, U, maxiter=maxiter)
    t = time.process_time() - t0
    return dict(solve_cpu_s=t, L=n_leaves, plain_fro=res.initial_error, fro_err=res.error, max_err=res.max_error,
                iterations=res.iterations)


def compressed_ffsim(molecule: str, n_leaves: int, maxiter: int) -> dict:
    """ffsim.linalg.double_factorized_compressed (jax gradient) from the same start."""
    import ffsim

    from physfact.chem.compressed import reconstruct_two_body

    eri, Z, U = _compression_start(molecule, n_leaves)
    t0 = time.process_time()
    Zf, Uf, res = ffsim.linalg.double_factorized_compressed(eri, initial_guess=(Z, U), options=dict(maxiter=maxiter))
    t = time.process_time() - t0
    d = reconstruct_two_body(Zf, Uf) - eri
    return dict(solve_cpu_s=t, L=n_leaves, plain_fro=float(np.linalg.norm(reconstruct_two_body(Z, U) - eri)),
                fro_err=float(np.linalg.norm(d)), max_err=float(np.abs(d).max()), iterations=int(res.nit))


def groups_saved_physfact(molecule: str, target: float) -> dict:
    """Fewest compressed leaves at a max-abs ERI error target, against the plain DF."""
    from physfact.chem import double_factorize, molecular_hamiltonian
    from physfact.chem.compressed import compressed_double_factorize

    ham = molecular_hamiltonian(molecule, basis="sto-3g")
    full = double_factorize(ham, method="eigh")
    t0 = time.process_time()
    res = compressed_double_factorize(ham, target_error=target, error_norm="max_abs", initial=full, maxiter=300)
    t = time.process_time() - t0
    return dict(solve_cpu_s=t, plain_leaves=res.plain_leaves, L=res.n_leaves, groups_saved=res.groups_saved,
                max_err=res.max_error)


def import_seconds(module: str = "physfact.chem", repeats: int = 3) -> tuple[float, float]:
    """(CPU, wall) seconds of ``import module`` in a fresh interpreter, best of ``repeats``.

    CPU time is the robust number on a shared machine; wall time includes waiting for a core.
    """
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = ("import time; c = time.process_time(); w = time.perf_counter(); import {m}; "
            "print(time.process_time() - c, time.perf_counter() - w)").format(m=module)
    best_cpu, best_wall = float("inf"), float("inf")
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=str(HERE.parent),
                             capture_output=True, text=True).stdout.split()
        best_cpu, best_wall = min(best_cpu, float(out[0])), min(best_wall, float(out[1]))
    return best_cpu, best_wall


# --------------------------------------------------------------------------------------------
def main(argv=None):
    from _harness import measure, print_table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 20 only (plus FeMoco and import time)")
    ap.add_argument("--sizes", type=int, nargs="*", help="orbital counts (default 20 60 100)")
    ap.add_argument("--skip-chains", action="store_true", help="skip the H chains")
    ap.add_argument("--skip-compressed", action="store_true", help="skip the compressed-DF comparison")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([20] if args.quick else [20, 60, 100])
    if args.skip_chains:
        sizes = []

    rows = []
    for n in sizes:
        path = str(hchain_eri(n))
        eri_gib = 8 * n ** 4 / 2 ** 30
        res = {}
        res["physfact cholesky"] = measure("chem_df:run_physfact", dict(path=path, method="cholesky"))
        if n <= 60:   # the N^2 x N^2 eigh: ~10 min single-threaded at N = 100
            res["physfact eigh"] = measure("chem_df:run_physfact", dict(path=path, method="eigh"))
        res["ffsim cholesky"] = measure("chem_df:run_ffsim", dict(path=path))
        L_ref = res["physfact cholesky"].get("result", {}).get("L")
        # OpenFermion low_rank holds the spin-orbital tensor (16 x the ERI) and N^2 complex 2N x 2N leaves
        of_gib = eri_gib * 16 + 16 * n ** 2 * (2 * n) ** 2 / 2 ** 30 + 3 * eri_gib
        if of_gib <= MAX_CHILD_GIB and L_ref:
            res["openfermion low_rank"] = measure("chem_df:run_openfermion_low_rank", dict(path=path, final_rank=L_ref))
        else:
            res["openfermion low_rank"] = {"error": f"skipped: needs ~{of_gib:.0f} GiB (> {MAX_CHILD_GIB:g} GiB)"}
        if n <= 60:
            res["openfermion df.factorize"] = measure("chem_df:run_openfermion_df", dict(path=path))
        else:
            res["openfermion df.factorize"] = {"error": "skipped: full N^2 x N^2 eigh (~10 min single-threaded) "
                                                        "and a second N^4 array"}
        ff = res["ffsim cholesky"].get("result", {}).get("solve_cpu_s")
        of = res["openfermion low_rank"].get("result", {}).get("solve_cpu_s")
        for name, r in res.items():
            row = {"N": n, "solver": name}
            if "error" in r:
                row["note"] = r["error"]
            else:
                out = r["result"]
                row.update(cpu_s=out["solve_cpu_s"], peak_mib=r["peak_mib"], L=out["L"], max_err=out["max_err"],
                           fro_err=out["fro_err"])
                if ff:
                    row["x_ffsim"] = out["solve_cpu_s"] / ff
                if of:
                    row["x_of_lowrank"] = out["solve_cpu_s"] / of
            rows.append(row)
    if rows:
        print_table(rows, ["N", "solver", "cpu_s", "x_ffsim", "x_of_lowrank", "L", "max_err", "fro_err", "peak_mib",
                           "note"],
                    title=f"H-chain 6-31g double factorization (first-level tol {TOL:g} Ha; cpu_s = factorization only)")

    fem = []
    for name, spec in (("physfact", "chem_df:femoco_physfact"), ("openfermion", "chem_df:femoco_openfermion")):
        r = measure(spec, {"path": femoco_path()})
        row = {"solver": name}
        if "error" in r:
            row["note"] = r["error"]
        else:
            row.update(r["result"], cpu_s=r["result"]["solve_cpu_s"], peak_mib=r["peak_mib"])
        fem.append(row)
    if "cpu_s" in fem[0] and "cpu_s" in fem[1]:
        fem[0]["x_openfermion"] = fem[0]["cpu_s"] / fem[1]["cpu_s"]
    print()
    print_table(fem, ["solver", "cpu_s", "x_openfermion", "L", "n_eigenvectors", "lambda_", "toffolis",
                      "logical_qubits", "peak_mib", "note"],
                title="FeMoco (Reiher, N = 54): load + DF (thresh 0.00125) + lambda + cost (dE 1 mHa, aleph 10, beth 16)")

    if not args.skip_compressed:
        comp = []
        cases = [("LiH", 4), ("H2O", 8)] if args.quick else [("LiH", 4), ("H2O", 5), ("H2O", 8)]
        for mol, L in cases:
            pf = measure("chem_df:compressed_physfact", dict(molecule=mol, n_leaves=L, maxiter=1000))
            ff = measure("chem_df:compressed_ffsim", dict(molecule=mol, n_leaves=L, maxiter=1000))
            for name, r in (("physfact", pf), ("ffsim (jax)", ff)):
                row = {"molecule": mol, "solver": name}
                if "error" in r:
                    row["note"] = r["error"]
                else:
                    row.update(r["result"], cpu_s=r["result"]["solve_cpu_s"], peak_mib=r["peak_mib"])
                comp.append(row)
            if "cpu_s" in comp[-1] and "cpu_s" in comp[-2]:
                comp[-2]["x_ffsim"] = comp[-2]["cpu_s"] / comp[-1]["cpu_s"]
                comp[-2]["err_vs_ffsim"] = comp[-2]["fro_err"] / comp[-1]["fro_err"]
        print()
        print_table(comp, ["molecule", "solver", "L", "cpu_s", "x_ffsim", "iterations", "plain_fro", "fro_err",
                           "err_vs_ffsim", "max_err", "peak_mib", "note"],
                    title="Compressed DF, sto-3g, same start (plain eigh DF, first L leaves), L-BFGS-B maxiter 1000")
        saved = []
        for mol in ("LiH", "H2O"):
            r = measure("chem_df:groups_saved_physfact", dict(molecule=mol, target=1e-3))
            row = {"molecule": mol}
            row.update(r.get("result", {"note": r.get("error")}))
            saved.append(row)
        print()
        print_table(saved, ["molecule", "plain_leaves", "L", "groups_saved", "max_err", "solve_cpu_s", "note"],
                    title="Groups saved at equal max-abs ERI error 1e-3 Ha (physfact compressed vs plain DF)")

    imp, wall = import_seconds()
    print()
    print(f"import physfact.chem: {imp:.3f} s CPU ({wall:.3f} s wall), fresh interpreter, best of 3")
    return rows, fem, imp


if __name__ == "__main__":
    main()
