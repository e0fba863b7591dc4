"""``physfact df``: double-factorize a molecule's integrals and report leaves, errors, groups, energies."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from physfact.errors import InputError

#: Pauli (Jordan-Wigner) grouping is skipped above this many orbitals unless --pauli is given
PAULI_MAX_ORBITALS = 14


def register(sub, common):
    p = sub.add_parser("df", parents=[common],
                       help="double factorization of a molecule's two-electron integrals (measurement groups, energies)")
    p.add_argument("molecule", help="library name (H2, LiH, H2O, NH3, N2, ...; 'hchain<n>'), an .xyz file, "
                                    "an atom string 'H 0 0 0; H 0 0 0.74', or an FCIDUMP file")
    p.add_argument("--basis", default="sto-3g", help="PySCF basis (default sto-3g)")
    p.add_argument("--charge", type=int, default=0, help="total charge in e (default 0)")
    p.add_argument("--spin", type=int, default=0, help="2S = n_alpha - n_beta (default 0)")
    p.add_argument("--active-space", nargs=2, type=int, metavar=("NELEC", "NORB"), default=None,
                   help="frozen-core active space (electrons, orbitals)")
    p.add_argument("--eri", choices=["exact", "density_fitting", "cholesky"], default="exact",
                   help="two-electron integrals: exact four-index (N^4 memory), or three-index factors by density "
                        "fitting or AO pivoted Cholesky (N_aux N^2 memory; the DF is built from the factors)")
    p.add_argument("--eri-tol", type=float, default=1e-6,
                   help="--eri cholesky: bound on every AO integral's error; --eri density_fitting: compression of the "
                        "fitted integrals by pivoted Cholesky (0: none); Hartree, default 1e-6")
    p.add_argument("--auxbasis", default=None, help="--eri density_fitting: auxiliary basis (default: PySCF's choice)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--tol", type=float, default=None,
                   help="first-level tolerance in Hartree (meaning set by --first-level; default rule: "
                        "largest residual diagonal = bound on the max-abs ERI error)")
    g.add_argument("--target-error", type=float, default=None, metavar="MHA",
                   help="fewest leaves with |E_B - E_ref| <= MHA milli-Hartree; E_ref is FCI, or CCSD(T) when FCI is too "
                        "large (see --energies)")
    p.add_argument("--first-level", default="max_residual", choices=["max_residual", "trace", "frobenius", "weight"],
                   help="what --tol bounds: max_residual (largest ERI error, default), trace, frobenius, or "
                        "OpenFermion's weight rule")
    p.add_argument("--leaf-tol", type=float, default=None,
                   help="second-level (von Burg) threshold: keep lambda_i with |lambda_i| sum|lambda| > LEAF_TOL")
    p.add_argument("--rank", type=int, default=None, help="cap on the number of leaves L")
    p.add_argument("--method", default="auto", choices=["auto", "eigh", "cholesky"],
                   help="first-level algorithm: eigh of the supermatrix, pivoted Cholesky, or auto (eigh up to "
                        "40 orbitals)")
    p.add_argument("--energies", choices=["auto", "fci", "ccsd(t)", "none"], default="auto",
                   help="how to compute the energy errors (default: FCI when small, else CCSD(T))")
    p.add_argument("--pauli", action="store_true",
                   help=f"count Jordan-Wigner Pauli strings and QWC groups also above {PAULI_MAX_ORBITALS} orbitals")
    p.set_defaults(handler=run_df, out_suffixes=OUT_SUFFIXES, plot_flags=("plot",))


def load_hamiltonian(args, console=None):
    from physfact.chem.hamiltonian import from_fcidump, molecular_hamiltonian

    text = args.molecule
    path = Path(text)
    if path.suffix.lower() == ".fcidump" or "fcidump" in path.name.lower() or (
            path.is_file() and path.suffix.lower() != ".xyz"):
        return from_fcidump(path)
    if getattr(args, "eri", "exact") != "exact":
        progress = (lambda it, total, desc: console.progress(it, total=total, desc=desc)) if console else None
        return molecular_hamiltonian(text, basis=args.basis, charge=args.charge, spin=args.spin,
                                     active_space=args.active_space, eri=args.eri, auxbasis=args.auxbasis,
                                     eri_tol=args.eri_tol, progress=progress,
                                     info=console.info if console else None)
    return molecular_hamiltonian(text, basis=args.basis, charge=args.charge, spin=args.spin,
                                 active_space=args.active_space)


#: formats ``physfact df --out`` writes
OUT_SUFFIXES = (".npz", ".h5", ".hdf5", ".json", ".fcidump")

#: above this many orbitals the achieved ERI errors of a three-index DF (O((N_aux + L) N^4) flops) are
#: not computed; the first-level residual bound is reported instead
THREE_INDEX_ERROR_MAX_ORBITALS = 60


def _check_args(args):
    """Flags checked before the SCF (one line, exit 2): tolerances, sizes, output names."""
    from physfact.validation import check_int, check_positive

    check_positive(args.tol, "--tol", allow_zero=True)
    check_positive(args.target_error, "--target-error (mHa)")
    check_positive(args.leaf_tol, "--leaf-tol", allow_zero=True)
    check_int(args.rank, "--rank", minimum=1)
    if args.active_space is not None:
        check_int(args.active_space[0], "--active-space NELEC", minimum=0)
        check_int(args.active_space[1], "--active-space NORB", minimum=1)
    # --out / --plot: checked by physfact.cli.check_outputs (out_suffixes, plot_flags) before the handler


def run_df(args, console) -> dict:
    from physfact.chem.double_factorization import double_factorize
    from physfact.chem.energies import energy_errors, energy_phase

    if args.tol is None and args.target_error is None and args.rank is None and args.leaf_tol is None:
        raise InputError("give --tol T (Hartree), --target-error MHA, --rank L or --leaf-tol T")
    _check_args(args)
    three_index = getattr(args, "eri", "exact") != "exact"
    if three_index and Path(args.molecule).is_file() and Path(args.molecule).suffix.lower() != ".xyz":
        raise InputError("--eri density_fitting/cholesky needs a molecule, not an FCIDUMP file (which holds (pq|rs))")
    H = load_hamiltonian(args, console)
    console.info(f"{H!r}")
    energy_method = "auto" if args.energies == "none" else args.energies
    progress = (lambda it, total, desc: console.progress(it, total=total, desc=desc))
    if args.target_error is not None:
        console.info(f"{energy_phase(H, energy_method)} per leaf count L = 1, 2, ... to {args.target_error:g} mHa")
    df = double_factorize(H, tol=args.tol, rank=args.rank, target_error=args.target_error, method=args.method,
                          first_level=args.first_level, leaf_tol=args.leaf_tol, energy_method=energy_method,
                          progress=progress)
    if three_index and H.n_orbitals > THREE_INDEX_ERROR_MAX_ORBITALS:
        err = {"max_abs": None, "frobenius": None}
    else:
        console.info("achieved ERI errors")
        err = df.two_body_error
    out = {"molecule": H.name, "basis": H.basis, "n_orbitals": H.n_orbitals, "n_electrons": H.n_electrons,
           "n_leaves": df.n_leaves, "n_eigenvectors": df.n_eigenvectors, "n_groups": df.n_groups,
           "method": df.method, "rule": df.rule, "eri_max_abs_error": err["max_abs"],
           "eri_frobenius_error": err["frobenius"], "first_level_residual": df.first_level_residual,
           "one_norm": df.one_norm()}
    console.print(f"{H.name} / {H.basis}: N = {H.n_orbitals} orbitals, {H.n_electrons} electrons")
    if three_index:
        out.update(eri=H.eri_method, n_aux=H.n_aux, eri_tol=H.eri_tol, auxbasis=H.auxbasis or None)
        console.print(f"  integrals: {H.n_aux} three-index factors ({H.source}"
                      + (f", auxbasis {H.auxbasis}" if H.auxbasis else "") + "); errors below are against them")
    console.print(f"  rule: {df.rule}")
    console.print(f"  leaves L = {df.n_leaves}, eigenvectors = {df.n_eigenvectors} "
                  f"(full: {H.n_orbitals * df.n_leaves})")
    if err["max_abs"] is None:
        console.print(f"  ERI error: max-abs <= {df.first_level_residual['max_diag']:.3e} Ha (first-level residual "
                      f"bound; not computed above {THREE_INDEX_ERROR_MAX_ORBITALS} orbitals)")
    else:
        console.print(f"  ERI error: max-abs {err['max_abs']:.3e} Ha, Frobenius {err['frobenius']:.3e} Ha")
    console.print(f"  DF one-norm lambda = {out['one_norm']:.4f} Ha (von Burg / Lee et al.)")
    try:
        cost = df.qubitization_cost()
    except ImportError:  # the cost module is optional in a partial install
        cost = None
    if cost is not None:
        out.update(toffolis=cost.toffolis, logical_qubits=cost.logical_qubits)
        console.print(f"  qubitization (Lee et al. 2021 App. C, dE = {cost.dE:g} Ha): {cost.toffolis:.3e} Toffolis, "
                      f"{cost.logical_qubits} logical qubits")
    if H.n_orbitals <= PAULI_MAX_ORBITALS or args.pauli:
        from physfact.chem.measurement import pauli_groups

        pg = pauli_groups(H)
        out.update(pauli_terms=pg.n_terms, pauli_qwc_groups=pg.n_groups, pauli_one_norm=pg.one_norm)
        console.print(f"  measurement groups: {df.n_groups} (L + 1)  vs  {pg.n_groups} qubit-wise-commuting groups "
                      f"of {pg.n_terms} Jordan-Wigner Pauli strings")
    else:
        console.print(f"  measurement groups: {df.n_groups} (L + 1)  (Pauli grouping skipped above "
                      f"{PAULI_MAX_ORBITALS} orbitals; --pauli forces it)")
    if args.energies != "none":
        if df.energy_report is not None:
            rep = df.energy_report
            e = {"method": rep["method"], "exact": rep["exact"], "error_A_mha": rep["error_A_mha"],
                 "error_B_mha": rep["error_B_mha"], "scan": rep["scan"]}
        else:
            console.info(f"{energy_phase(H, energy_method)}: reference, conventions A and B ...")
            e = energy_errors(df, method=energy_method, progress=progress)
        e["A"] = e["exact"] + 1e-3 * e["error_A_mha"]
        e["B"] = e["exact"] + 1e-3 * e["error_B_mha"]
        out["energies"] = e
        # the file carries what was printed
        df = dataclasses.replace(df, energy_report={**(df.energy_report or {}), **e})
        console.print(f"  energy: reference E_{e['method']} = {e['exact']:.8f} Ha; error A (truncated ERI, own "
                      f"correction) {e['error_A_mha']:+.4f} mHa; error B (measured) {e['error_B_mha']:+.4f} mHa")
    if args.out:
        suffix = Path(args.out).suffix.lower()
        if suffix == ".json":
            from physfact.io import write_json

            write_json(args.out, out)
        elif suffix == ".fcidump":
            df.to_hamiltonian("B").to_fcidump(args.out)
        else:
            df.save(args.out)
        console.print(f"  wrote {args.out}")
    if args.plot:
        plot_spectrum(H, df, args.plot)
        console.print(f"  plot: {args.plot}")
    return out


def plot_spectrum(H, df, path):
    """Supermatrix eigenvalues (or Cholesky pivots) and per-leaf |lambda| sums, chosen L marked."""
    from physfact.plotting import pyplot, save_figure

    n = H.n_orbitals
    if n <= 40:
        w = np.sort(np.linalg.eigvalsh(H.two_body.reshape(n * n, n * n)))[::-1]
        w = w[w > 1e-14 * w[0]]
        label = "supermatrix eigenvalues"
    else:
        w = df.first_level_values
        label = "Cholesky pivots (kept)"
    plt = pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].semilogy(np.arange(1, w.size + 1), w, ".-", label=label)
    ax[0].axvline(df.n_leaves + 0.5, color="k", ls="--", lw=1, label=f"L = {df.n_leaves}")
    ax[0].set_xlabel("leaf l")
    ax[0].set_ylabel(r"$\|L_l\|_F^2$ (Ha)")
    ax[0].legend()
    ax[0].grid(True, which="both", alpha=0.3)
    s = np.sum(np.abs(df.eigenvalues), axis=1)
    ax[1].semilogy(np.arange(1, s.size + 1), np.maximum(s, 1e-300), "o-")
    ax[1].set_xlabel("leaf l")
    ax[1].set_ylabel(r"$\Sigma_i\,|\lambda_{l,i}|$ (Ha$^{1/2}$)")
    ax[1].grid(True, which="both", alpha=0.3)
    fig.suptitle(f"double factorization of {H.name} / {H.basis} (N = {n})")
    fig.tight_layout()
    return save_figure(fig, path)


def demo(console, args) -> dict:
    from physfact.chem.double_factorization import double_factorize
    from physfact.chem.hamiltonian import molecular_hamiltonian
    from physfact.chem.measurement import pauli_groups

    console.print("Double factorization of LiH/sto-3g to 1 mHa (convention B, FCI):")
    H = molecular_hamiltonian("LiH")
    df = double_factorize(H, target_error=1.0, method="eigh")
    rep = df.energy_report
    pg = pauli_groups(H)
    console.print(f"  N = {H.n_orbitals}, E_FCI = {rep['exact']:.6f} Ha; L = {df.n_leaves} leaves -> {df.n_groups} "
                  f"measurement groups vs {pg.n_groups} QWC groups of {pg.n_terms} Pauli strings")
    console.print(f"  energy error B (measured) {rep['error_B_mha']:+.3f} mHa, A (truncated ERI) "
                  f"{rep['error_A_mha']:+.3f} mHa; ERI max-abs error {df.two_body_error['max_abs']:.2e} Ha")
    return {"n_orbitals": H.n_orbitals, "n_leaves": df.n_leaves, "n_groups": df.n_groups,
            "pauli_qwc_groups": pg.n_groups, "pauli_terms": pg.n_terms,
            "error_B_mha": rep["error_B_mha"], "error_A_mha": rep["error_A_mha"]}
