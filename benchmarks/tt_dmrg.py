"""Two-site DMRG ground states: physfact.tt.dmrg beside quimb DMRG2 and TeNPy TwoSiteDMRGEngine.

Cases (open chains, bond dimension cap chi = 64):

* TFIM H = -sum Z_i Z_{i+1} - g sum X_i at g = 1 (critical), L = 100: energy error against the exact
  free-fermion value (physfact.tt.free_fermions, independent of every DMRG here);
* XXX H = sum S_i . S_{i+1}, L = 100: chi = 64 truncates, so the energies are compared with each other
  (lower is better: every MPS energy is an upper bound; the exact value is ~ -44.1277399).

Every run is a separate process with one BLAS thread (``_harness.measure``): CPU time of the solve only
(imports and Hamiltonian construction outside), peak RSS of the process. Settings: physfact defaults
(cutoff 1e-14 discarded weight, bond schedule 16-32-64, tol 1e-10); quimb ``DMRG2(bond_dims=[16, 32, 64],
cutoffs=1e-12).solve(tol=1e-10)`` (its default cutoff 1e-8 stops at |dE| ~ 1e-6, 1e-10 at 4e-8); TeNPy ``chi_max`` 64,
``svd_min`` 1e-8 (singular values, i.e. discarded weight ~ 1e-16), ``max_E_err`` 1e-10, ramp 16-32-64,
no conservation (``--tenpy-sz`` adds a U(1) run for XXX).

Usage: python benchmarks/tt_dmrg.py [--quick] [--no-tenpy]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from _harness import measure, print_table  # noqa: E402

SCHEDULE = (16, 32, 64)


def _schedule(chi):
    return [c for c in SCHEDULE if c < chi] + [chi]


def run_physfact(model, L, chi):
    from physfact.tt import dmrg
    from physfact.tt.models import heisenberg, tfim

    mpo = (tfim(L, g=1.0) if model == "tfim" else heisenberg(L)).to_mpo()
    t0 = time.process_time()
    res = dmrg(mpo, max_bond=chi, variance=False)
    cpu = time.process_time() - t0
    S = res.mps.entanglement_entropy()
    return {"energy": res.energy, "sweeps": res.sweeps, "max_bond": int(max(res.mps.bond_dimensions)),
            "S_mid": float(S[L // 2 - 1]), "solve_cpu_s": cpu}


def run_quimb(model, L, chi):
    import numpy as np
    import quimb.tensor as qtn

    # quimb uses spin operators S = sigma/2: -ZZ - gX = -4 SzSz - 2g Sx
    H = qtn.MPO_ham_ising(L, j=-4.0, bx=2.0) if model == "tfim" else qtn.MPO_ham_heis(L)
    t0 = time.process_time()
    d = qtn.DMRG2(H, bond_dims=_schedule(chi), cutoffs=1e-12)
    d.solve(tol=1e-10, max_sweeps=30)
    cpu = time.process_time() - t0
    psi = d.state
    S = psi.entropy(L // 2, cur_orthog="calc") * np.log(2)  # bits -> nats
    return {"energy": float(np.real(d.energy)), "sweeps": len(d.energies),
            "max_bond": int(psi.max_bond()), "S_mid": float(S), "solve_cpu_s": cpu}


def run_tenpy(model, L, chi, conserve=None):
    import logging

    logging.disable(logging.WARNING)
    from tenpy.algorithms.dmrg import TwoSiteDMRGEngine
    from tenpy.models.spins import SpinChain
    from tenpy.models.tf_ising import TFIChain
    from tenpy.networks.mps import MPS as TMPS

    if model == "tfim":  # TeNPy: H = -J sum sx sx - g sum sz (Pauli): the same spectrum
        M = TFIChain({"L": L, "J": 1.0, "g": 1.0, "bc_MPS": "finite", "conserve": conserve})
        init = ["up"] * L
    else:
        M = SpinChain({"L": L, "S": 0.5, "Jx": 1.0, "Jy": 1.0, "Jz": 1.0, "bc_MPS": "finite",
                       "conserve": conserve})
        init = ["up", "down"] * (L // 2)
    psi = TMPS.from_product_state(M.lat.mps_sites(), init, bc="finite")
    opts = {"trunc_params": {"chi_max": chi, "svd_min": 1e-8}, "max_E_err": 1e-10, "max_sweeps": 30,
            "mixer": False, "chi_list": {i * 2: c for i, c in enumerate(_schedule(chi))}}
    t0 = time.process_time()
    eng = TwoSiteDMRGEngine(psi, M, opts)
    E, _ = eng.run()
    cpu = time.process_time() - t0
    return {"energy": float(E), "sweeps": int(eng.sweeps), "max_bond": int(max(psi.chi)),
            "S_mid": float(psi.entanglement_entropy()[L // 2 - 1]), "solve_cpu_s": cpu}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="L = 40, chi = 32")
    ap.add_argument("--no-tenpy", action="store_true", help="skip TeNPy (the slowest peer)")
    ap.add_argument("--tenpy-sz", action="store_true", help="also TeNPy with U(1) (Sz) conservation for XXX")
    args = ap.parse_args(argv)
    L, chi = (40, 32) if args.quick else (100, 64)
    from physfact.tt.models import tfim_energy_exact

    e_exact = tfim_energy_exact(L, g=1.0)
    rows = []
    for model in ("tfim", "xxx"):
        runs = [("physfact", "run_physfact", {}), ("quimb", "run_quimb", {})]
        if not args.no_tenpy:
            runs.append(("tenpy", "run_tenpy", {}))
            if args.tenpy_sz and model == "xxx":
                runs.append(("tenpy U(1)", "run_tenpy", {"conserve": "Sz"}))
        res = {}
        for name, fn, extra in runs:
            r = measure(f"tt_dmrg:{fn}", {"model": model, "L": L, "chi": chi, **extra})
            res[name] = r
        ours = res["physfact"].get("result", {}).get("solve_cpu_s")
        best = min((r["result"]["energy"] for r in res.values() if "result" in r), default=None)
        for name, r in res.items():
            if "result" not in r:
                rows.append({"case": f"{model} L={L} chi={chi}", "package": name, "note": r.get("error", "")[:60]})
                continue
            o = r["result"]
            row = {"case": f"{model} L={L} chi={chi}", "package": name, "cpu_s": o["solve_cpu_s"],
                   "ours/peer": ours / o["solve_cpu_s"] if ours and name != "physfact" else None,
                   "peak_mib": r["peak_mib"], "energy": f"{o['energy']:.10f}", "sweeps": o["sweeps"],
                   "max_bond": o["max_bond"], "S_mid": f"{o['S_mid']:.8f}"}
            row["|dE|" if model == "tfim" else "E - best"] = (abs(o["energy"] - e_exact) if model == "tfim"
                                                               else o["energy"] - best)
            rows.append(row)
    cols = ["case", "package", "cpu_s", "ours/peer", "peak_mib", "energy", "|dE|", "E - best", "sweeps",
            "max_bond", "S_mid", "note"]
    print_table(rows, cols, title=f"Two-site DMRG, open chains, one BLAS thread (CPU s of the solve; "
                                  f"TFIM |dE| vs free fermions E0 = {e_exact:.10f})")
    return rows


if __name__ == "__main__":
    main()
