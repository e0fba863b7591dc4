"""Double factorization end to end from atoms, without the N^4 integral tensor, on hydrogen chains.

Run:  python benchmarks/chem_df_scale.py                 (N = 100, 200, 300 orbitals)
      python benchmarks/chem_df_scale.py --sizes 100     (one size)

Inputs: linear H_{N/2} chains (1 Angstrom spacing) in 6-31g, N orbitals, closed shell. Every route
runs in its own process with one BLAS/OpenMP thread (benchmarks/_harness.py) and is timed end to
end from the atom string (imports excluded): integrals, SCF, first and second level.

* ``physfact density_fitting``: DF-RHF (PySCF's default auxiliary basis, cc-pVDZ-JKFIT for H) ->
  MO three-index factors B -> double_factorize from B (pivoted Cholesky of V = B^T B, rows on the fly).
* ``physfact cholesky``: AO pivoted Cholesky to ``--eri-tol`` (default 1e-8 Ha, 100x below the first-level
  tol so that it does not shift L and lambda) -> SCF on those vectors -> B -> the same.
* ``pyscf+ffsim``: RHF + ``ao2mo.full`` + ``restore(1)`` + ``ffsim.linalg.double_factorized(eri,
  tol, cholesky=True)`` (ffsim's fastest path).
* ``physfact exact``: ``molecular_hamiltonian(eri="exact")`` (RHF + ao2mo) + ``double_factorize``.

Matched first level: every route stops its pivoted Cholesky when the largest residual diagonal of
its own ERI supermatrix is <= tol = 1e-6 Ha. lambda (the DF one-norm of von Burg et al. / Lee et al.,
T' from each route's own ERI) is computed after the timed region for every route, and compared with
the ffsim route's (exact integrals). The exact routes hold the N^4 tensor (0.8 GB at N = 100, 12.8 GB
at N = 200, 65 GB at N = 300, plus ao2mo's temporaries): they are skipped, with that estimate, above
``--max-exact-gib``. CPU times on a shared machine are noisy (other jobs compete for the cores and
the memory bandwidth): compare ratios measured in the same run.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
for p in (HERE, HERE.parent):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

TOL = 1e-6
ERI_TOL = 1e-8  # AO Cholesky tighter than the first level, so its own error does not shift L and lambda


def _atoms(n_orbitals: int) -> str:
    return "; ".join(f"H 0 0 {i:.1f}" for i in range(n_orbitals // 2))


def _one_norm(h, J, K, lam) -> float:
    """lambda = sum|eig(h - K/2 + J)| + 1/4 sum_l (sum_i |lambda_li|)^2."""
    t = np.linalg.eigvalsh(h - 0.5 * K + J)
    return float(np.sum(np.abs(t)) + 0.25 * np.sum(np.sum(np.abs(lam), axis=1) ** 2))


def run_physfact(n_orbitals: int, eri: str, tol: float = TOL, eri_tol: float = ERI_TOL) -> dict:
    from physfact.chem import double_factorize, molecular_hamiltonian

    t0 = time.process_time()
    H = molecular_hamiltonian(_atoms(n_orbitals), basis="6-31g", eri=eri, eri_tol=eri_tol)
    t1 = time.process_time()
    df = double_factorize(H, tol=tol, method="cholesky")
    t2 = time.process_time()
    out = dict(integrals_cpu_s=t1 - t0, df_cpu_s=t2 - t1, cpu_s=t2 - t0, L=df.n_leaves, lambda_=df.one_norm(),
               n_orbitals=H.n_orbitals, e_hf=H.hf_energy, max_residual=df.first_level_residual["max_diag"])
    if eri != "exact":
        out["n_aux"] = H.n_aux
    return out


def run_ffsim(n_orbitals: int, tol: float = TOL) -> dict:
    import ffsim
    from pyscf import ao2mo, gto, scf

    from chem_df import _leaves_from_rank_one_cores

    t0 = time.process_time()
    mol = gto.M(atom=_atoms(n_orbitals), basis="6-31g", verbose=0)
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-11
    mf.kernel()
    C = mf.mo_coeff
    h = C.T @ mf.get_hcore() @ C
    t1 = time.process_time()
    eri = ao2mo.restore(1, ao2mo.full(mol, C), n_orbitals)
    t2 = time.process_time()
    Z, U = ffsim.linalg.double_factorized(eri, tol=tol, cholesky=True)
    t3 = time.process_time()
    leaves = _leaves_from_rank_one_cores(Z, U)
    lam = np.linalg.eigvalsh(leaves)
    J, K = np.einsum("pqrr->pq", eri), np.einsum("prrq->pq", eri)
    return dict(integrals_cpu_s=t2 - t0, scf_cpu_s=t1 - t0, ao2mo_cpu_s=t2 - t1, df_cpu_s=t3 - t2, cpu_s=t3 - t0,
                L=int(len(Z)), lambda_=_one_norm(h, J, K, lam), n_orbitals=n_orbitals, e_hf=float(mf.e_tot))


def main(argv=None):
    from _harness import measure, print_table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 200, 300], help="orbital counts (even)")
    ap.add_argument("--tol", type=float, default=TOL, help="first-level tolerance (Ha), all routes")
    ap.add_argument("--eri-tol", type=float, default=ERI_TOL, help="AO Cholesky tolerance of the cholesky route")
    ap.add_argument("--max-exact-gib", type=float, default=4.0,
                    help="skip the exact (N^4) routes when 3 N^4 doubles exceed this (default 4 GiB)")
    ap.add_argument("--routes", nargs="*", default=["density_fitting", "cholesky", "exact"],
                    help="which routes (exact = pyscf+ffsim and physfact exact)")
    args = ap.parse_args(argv)

    rows = []
    for n in args.sizes:
        res = {}
        for eri in [r for r in ("density_fitting", "cholesky") if r in args.routes]:
            res[f"physfact {eri}"] = measure("chem_df_scale:run_physfact",
                                             dict(n_orbitals=n, eri=eri, tol=args.tol, eri_tol=args.eri_tol))
        exact_gib = 3 * 8 * n**4 / 2**30  # the ERI, ao2mo's half-transformed copy and restore's output
        if "exact" not in args.routes:
            pass
        elif exact_gib <= args.max_exact_gib:
            res["pyscf+ffsim"] = measure("chem_df_scale:run_ffsim", dict(n_orbitals=n, tol=args.tol))
            res["physfact exact"] = measure("chem_df_scale:run_physfact", dict(n_orbitals=n, eri="exact",
                                                                               tol=args.tol))
        else:
            note = f"skipped: N^4 ERI {8 * n**4 / 1e9:.1f} GB (~{exact_gib:.0f} GiB with ao2mo temporaries)"
            res["pyscf+ffsim"] = {"error": note}
            res["physfact exact"] = {"error": note}
        ref = res.get("pyscf+ffsim", {}).get("result")
        for name, r in res.items():
            row = {"N": n, "route": name}
            if "error" in r:
                row["note"] = r["error"]
            else:
                out = r["result"]
                row.update(cpu_s=out["cpu_s"], integrals_s=out["integrals_cpu_s"], df_s=out["df_cpu_s"],
                           peak_mib=r["peak_mib"], L=out["L"], lambda_=out["lambda_"], n_aux=out.get("n_aux"))
                if ref:
                    row["x_ffsim"] = out["cpu_s"] / ref["cpu_s"]
                    row["dL"] = out["L"] - ref["L"]
                    row["dlambda_rel"] = (out["lambda_"] - ref["lambda_"]) / ref["lambda_"]
                    row["dE_hf"] = out["e_hf"] - ref["e_hf"]
            rows.append(row)
        print_table(rows[-len(res):], ["N", "route", "cpu_s", "x_ffsim", "integrals_s", "df_s", "peak_mib", "n_aux",
                                       "L", "dL", "lambda_", "dlambda_rel", "dE_hf", "note"],
                    title=f"H{n // 2} / 6-31g, N = {n}: end to end from atoms (first-level tol {args.tol:g} Ha, "
                          f"AO Cholesky {args.eri_tol:g} Ha; one thread; cpu_s = process CPU time)")
        print()
    return rows


if __name__ == "__main__":
    main()
