"""``physfact tt``: entanglement of spin-chain ground states and molecular FCI wavefunctions."""
from __future__ import annotations

import time

import numpy as np

from physfact.errors import InputError
from physfact.tt.spin_chains import ED_AUTO_MAX_SITES

#: DMRG bond-dimension cap of the command line when --max-bond is not given
CLI_DMRG_MAX_BOND = 64


def register(sub, common):
    p = sub.add_parser("tt", parents=[common], help="tensor trains / MPS: entanglement of chains and molecules")
    tsub = p.add_subparsers(dest="tt_command", metavar="ACTION", required=True)

    c = tsub.add_parser("chain", parents=[common],
                        help="ground state of a spin chain (ED or DMRG) as an MPS; bond entropies, "
                             "free-fermion check, CC fit")
    c.add_argument("--model", choices=("tfim", "heisenberg"), default="tfim",
                   help="tfim: H = -J sum ZZ - g sum X; heisenberg: H = J sum (SxSx + SySy + delta SzSz) "
                        "(default tfim)")
    c.add_argument("--sites", "-L", type=int, default=12,
                   help="number of sites L >= 2 (exact diagonalization up to ~22-24 as memory allows, "
                        "DMRG any; default 12)")
    c.add_argument("--field", "-g", type=float, default=1.0, help="transverse field g for the TFIM (default 1, critical)")
    c.add_argument("--coupling", "-J", type=float, default=1.0, help="coupling J (default 1)")
    c.add_argument("--delta", "-D", type=float, default=1.0,
                   help="anisotropy delta of the Heisenberg chain (default 1: XXX)")
    c.add_argument("--boundary", choices=("open", "periodic"), default="open", help="default open")
    c.add_argument("--method", choices=("auto", "lanczos", "dmrg"), default="auto",
                   help=f"lanczos: exact diagonalization, then TT-SVD; dmrg: two-site DMRG; auto: lanczos up to "
                        f"L = {ED_AUTO_MAX_SITES}, dmrg above (default)")
    c.add_argument("--tol", type=float, default=None,
                   help="ED: relative MPS truncation tolerance ||psi - MPS|| <= tol (default 1e-14: exact); "
                        "DMRG: relative energy change per half-sweep at convergence (default 1e-10)")
    c.add_argument("--max-bond", type=int, default=None,
                   help="cap on the bond dimension (ED: of the TT-SVD; DMRG: of the sweeps, default 64)")
    c.add_argument("--cutoff", type=float, default=1e-14,
                   help="DMRG: largest discarded weight per bond (default 1e-14)")
    c.add_argument("--sweeps", type=int, default=30, help="DMRG: most sweeps before giving up (default 30)")
    c.add_argument("--sector", default="auto",
                   help="symmetry sector solved in: parity=+1|-1 (P = prod X, TFIM and XXZ), sz=VALUE (XXZ, ED "
                        "only), none (full space: a degenerate ground space is flagged), auto (default: the "
                        "finite-size ground state's sector, e.g. even parity for the TFIM)")
    c.add_argument("--bits", action="store_true", help="print entropies in bits (default nats)")
    from physfact.cli import add_seed_flag

    add_seed_flag(c, "the start vector of exact diagonalization (Lanczos) or DMRG")
    c.set_defaults(handler=run_chain, out_suffixes=(".npz", ".h5", ".hdf5", ".json"), plot_flags=("plot",))

    m = tsub.add_parser("molecule", parents=[common],
                        help="FCI (PySCF) -> orbital MPS; bond and orbital entropies, mutual information, ordering")
    m.add_argument("name", help="a molecule of the library shared with 'physfact df' (H2, LiH, BeH2, H2O, NH3, "
                                "CH4, HF, N2, CO; case-insensitive), 'hchain<n>', an .xyz file, or an atom "
                                "string like 'H 0 0 0; H 0 0 0.74' (Angstrom)")
    m.add_argument("--basis", default="sto-3g", help="basis set (default sto-3g)")
    m.add_argument("--charge", type=int, default=0, help="total charge in e (default 0)")
    m.add_argument("--spin", type=int, default=0, help="2S = N_alpha - N_beta (default 0)")
    m.add_argument("--tol", type=float, default=None, help="MPS truncation tolerance (default 1e-14: exact)")
    m.add_argument("--rank-tol", type=float, default=1e-5,
                   help="tolerance at which bond dimensions of the orderings are compared (default 1e-5)")
    m.add_argument("--no-reorder", action="store_true", help="skip the Fiedler reordering")
    m.set_defaults(handler=run_molecule, out_suffixes=(".npz", ".h5", ".hdf5", ".json"), plot_flags=("plot",))


# ---------------------------------------------------------------------------------------- chain
def chain_entanglement(model="tfim", L=12, g=1.0, J=1.0, boundary="open", tol=None, max_bond=None, seed=0,
                       delta=1.0, method="auto", cutoff=1e-14, sweeps=30, callback=None, sector="auto"):
    """The computation behind ``physfact tt chain`` (also used by the demo, sweeps and examples).

    ``method="lanczos"`` (or "auto" up to L = ED_AUTO_MAX_SITES): ED ground state, then its MPS by
    TT-SVD with ``tol``/``max_bond``; ``"dmrg"``: two-site DMRG with bond cap ``max_bond`` (default 64),
    energy tolerance ``tol`` (default 1e-10), ``cutoff`` and ``sweeps``; ``callback`` gets each half-sweep.
    ``sector``: see :func:`~physfact.tt.spin_chains.ground_state`.
    """
    from physfact.tt.calabrese_cardy import calabrese_cardy_fit
    from physfact.tt.free_fermions import tfim_energy_exact, tfim_entropies_exact
    from physfact.tt.mps import MPS
    from physfact.tt.spin_chains import ground_state, heisenberg, tfim

    chain = (tfim(L, g=g, J=J, boundary=boundary) if model == "tfim"
             else heisenberg(L, J=J, delta=delta, boundary=boundary))
    use_dmrg = method == "dmrg" or (method == "auto" and L > ED_AUTO_MAX_SITES)
    t0 = time.perf_counter()
    if use_dmrg:
        gs = ground_state(chain, method="dmrg", seed=seed, tol=tol, cutoff=cutoff, sweeps=sweeps, callback=callback,
                          max_bond=CLI_DMRG_MAX_BOND if max_bond is None else max_bond, sector=sector)
        mps = gs.mps
    else:
        gs = ground_state(chain, method="lanczos", seed=seed, sector=sector)
    t_gs = time.perf_counter() - t0
    t0 = time.perf_counter()
    if not use_dmrg:
        mps = MPS.from_statevector(gs.psi, dims=2, tol=tol, max_bond=max_bond)
    S = mps.entanglement_entropy()
    t_mps = time.perf_counter() - t0
    out = {"model": model, "L": L, "boundary": boundary, "J": J, "method": gs.method, "energy": gs.energy,
           "residual": gs.residual, "bond_dimensions": list(mps.bond_dimensions), "entropy_nats": S,
           "seconds_ground_state": t_gs, "seconds_mps": t_mps,
           "sector": None if gs.sector is None else gs.sector.as_dict()}
    if use_dmrg:
        r = gs.dmrg
        out.update(sweeps=r.sweeps, energy_per_half_sweep=r.energies, discarded_per_half_sweep=r.discarded,
                   max_bond_per_half_sweep=r.bond_dimensions, discarded_per_bond=r.discarded_per_bond,
                   variance=r.variance, matvecs=r.matvecs, state_error=gs.state_error, degenerate=gs.degenerate)
    else:
        out["ed_residual"] = gs.residual
        out.update(gap=gs.gap, state_error=gs.state_error, degenerate=gs.degenerate)
        out["mps_error"] = mps.error_bound
    if model == "heisenberg":
        out["delta"] = delta
    if model == "tfim":
        out["g"] = g
        out["energy_free_fermion"] = tfim_energy_exact(L, g=g, J=J, boundary=boundary)
        if boundary == "open":
            S_ff = tfim_entropies_exact(L, g=g, J=J)
            out["entropy_free_fermion"] = S_ff
            out["entropy_max_error"] = float(np.max(np.abs(S - S_ff)))
    if mps.singular_values is not None:
        tols = [t for t in (1e-2, 1e-4, 1e-6, 1e-8, 1e-10) if tol is None or t >= tol]
        if tols:  # bond dimensions the same state needs at looser tolerances, from this one sweep
            prof = mps.rank_profile(tols)
            out["rank_profile"] = {f"{t:g}": [int(v) for v in row] for t, row in zip(tols, prof)}
    if boundary == "open" and L >= 8:
        try:
            fit = calabrese_cardy_fit(S, L=L, boundary="open", even_only=(model == "heisenberg"))
            out["central_charge"] = fit.c
            out["cc_constant"] = fit.constant
            out["cc_window"] = [int(fit.l[0]), int(fit.l[-1])]
        except InputError:
            pass
    return out, mps


def _check_tol(value, flag):
    """A relative tolerance flag in [0, 1) (None: the default), checked before any computation."""
    if value is not None and not 0 <= value < 1:  # also NaN
        raise InputError(f"{flag} is a relative error in [0, 1), got {value}")


def _check_chain_args(args, use_dmrg=False):
    """Every ``tt chain`` flag, before the (possibly long) ground-state computation."""
    from physfact.tt.spin_chains import check_lanczos_size, heisenberg, tfim
    from physfact.validation import check_int

    from physfact.tt.symmetry import make_sector, parse_sector

    _check_tol(args.tol, "--tol")
    check_int(args.max_bond, "--max-bond", minimum=1)
    # builds the (matrix-free) chain: validates --sites, --field, --coupling, --boundary
    if args.model == "tfim":
        chain = tfim(args.sites, g=args.field, J=args.coupling, boundary=args.boundary)
    else:
        chain = heisenberg(args.sites, J=args.coupling, delta=args.delta, boundary=args.boundary)
    args.sector = parse_sector(args.sector)
    make_sector(chain, args.sector)
    if use_dmrg and isinstance(args.sector, dict) and "sz" in args.sector:
        raise InputError("--sector sz=... needs exact diagonalization (--method lanczos); DMRG imposes parity only")
    if use_dmrg:  # the memory check of the bond dimension runs inside dmrg, before any allocation
        check_int(args.sweeps, "--sweeps", minimum=1)
        if not 0 <= args.cutoff < 1:
            raise InputError(f"--cutoff is a discarded weight in [0, 1), got {args.cutoff}")
    else:
        check_lanczos_size(chain)
    return chain


def run_chain(args, console) -> dict:
    use_dmrg = args.method == "dmrg" or (args.method == "auto" and args.sites > ED_AUTO_MAX_SITES)
    _check_chain_args(args, use_dmrg)
    if not use_dmrg and args.sites > 20:
        console.info(f"ED of L = {args.sites} (2^{args.sites} amplitudes) takes a while ...")
    callback = None
    if use_dmrg:
        cap = CLI_DMRG_MAX_BOND if args.max_bond is None else args.max_bond
        console.info(f"DMRG (two-site), L = {args.sites}, max bond {cap}, cutoff {args.cutoff:g} ...")
        bar = console.progress(total=2 * args.sweeps, desc="DMRG half-sweeps")

        def callback(info):
            bar.update(1)
            bar.set_postfix_str(f"E={info['energy']:.10f} bond={info['max_bond']} disc={info['discarded']:.1e}")
            if not console.show_progress:
                console.info(f"  sweep {info['sweep']:4.1f} ({info['direction']:>5}): E = {info['energy']:.12f}, "
                             f"max discarded weight "
                             f"{info['discarded']:.1e}, max bond {info['max_bond']}, {info['seconds']:.1f} s")
    import warnings

    from physfact.tt.symmetry import DegenerateGroundStateWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DegenerateGroundStateWarning)
            out, mps = chain_entanglement(args.model, args.sites, args.field, args.coupling, args.boundary, args.tol,
                                          args.max_bond, args.seed, delta=args.delta, method=args.method,
                                          cutoff=args.cutoff, sweeps=args.sweeps, callback=callback,
                                          sector=args.sector)
    finally:
        if use_dmrg:
            bar.close()
    for w in caught:  # one line on stderr each, not Python's two-line warning format
        if issubclass(w.category, DegenerateGroundStateWarning):
            console.info(f"warning: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    unit, conv = ("bits", 1 / np.log(2)) if args.bits else ("nats", 1.0)
    label = (f"TFIM g={args.field:g}" if args.model == "tfim"
             else ("Heisenberg" if args.delta == 1 else f"XXZ delta={args.delta:g}"))
    console.print(f"{label}, J={args.coupling:g}, L={args.sites} ({args.boundary}), {out['method']}: "
                  f"E0 = {out['energy']:.12f} (energy in the units of J)")
    if "energy_free_fermion" in out:
        console.print(f"  free-fermion E0 = {out['energy_free_fermion']:.12f} "
                      f"(difference {out['energy'] - out['energy_free_fermion']:.2e}, units of J)")
    if out["method"] == "dmrg":
        console.print(f"  DMRG: {out['sweeps']:g} sweeps, max bond {max(out['bond_dimensions'])}, largest discarded "
                      f"weight {out['discarded_per_half_sweep'][-1]:.1e}, variance <H^2>-<H>^2 = {out['variance']:.1e} "
                      "(units of J^2)")
    else:
        console.print(f"  MPS: relative 2-norm error {out['mps_error']:.2e}, max bond {max(out['bond_dimensions'])}")
        console.print(f"  {'sector ' + ', '.join(f'{k} = {v:+g}' for k, v in out['sector'].items()) if out['sector'] else 'full space'}: "
                      f"gap E1 - E0 = {out['gap']:.3e} (units of J), state angle bound {out['state_error']:.1e}"
                      + (" -- DEGENERATE ground space: the state and its entropies are not determined (see the warning)" if out["degenerate"] else ""))
    if out["method"] == "dmrg" and out["sector"]:
        console.print(f"  DMRG state projected onto parity {out['sector']['parity']:+d}")
    elif out["method"] == "dmrg" and out["degenerate"]:
        console.print(f"  DEGENERATE ground space: the DMRG state mixes the parity sectors (sin of its angle to the nearer "
                      f"one {out['state_error']:.1e}); its entropies are not determined (see the warning)")
    rows = []
    for k, (chi, s) in enumerate(zip(out["bond_dimensions"], out["entropy_nats"])):
        row = [k, chi, float(s * conv)]
        if "entropy_free_fermion" in out:
            row.append(float(out["entropy_free_fermion"][k] * conv))
        rows.append(row)
    headers = ["bond", "chi", f"S ({unit})"] + ([f"S free fermions ({unit})"] if "entropy_free_fermion" in out else [])
    if len(rows) > 40:  # long chains: every n-th bond
        step = int(np.ceil(len(rows) / 40))
        rows = rows[::step]
    console.table(rows, headers)
    if "entropy_max_error" in out:
        console.print(f"  max |S_MPS - S_free-fermion| = {out['entropy_max_error'] * conv:.2e} {unit}")
    if "rank_profile" in out:
        console.print("  largest bond dimension vs tolerance (one sweep): "
                      + ", ".join(f"{t}: {max(r)}" for t, r in out["rank_profile"].items()))
    if "central_charge" in out:
        lo, hi = out["cc_window"]
        console.print(f"  Calabrese-Cardy fit (open, l = {lo}..{hi}{', even l' if args.model == 'heisenberg' else ''}): "
                      f"c = {out['central_charge']:.4f}")
    if args.plot:
        _plot_chain(out, args.plot, label)
        console.print(f"plot: {args.plot}")
    if args.out:
        _save(args.out, "tt.chain", out, mps)
        console.print(f"results: {args.out}" + ("" if str(args.out).endswith(".json") else
                                                " (with the MPS: physfact.tt.MPS.load reads it)"))
    return out


def _plot_chain(out, path, label):
    from physfact.plotting import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    L = out["L"]
    ell = np.arange(1, L)
    src = "DMRG ground state" if out.get("method") == "dmrg" else "MPS of the ED ground state"
    ax.plot(ell, out["entropy_nats"], "o", ms=3 if L > 60 else 6, label=src)
    if "entropy_free_fermion" in out:
        ax.plot(ell, out["entropy_free_fermion"], "-", lw=1, label="free fermions (exact)")
    if "central_charge" in out:
        from physfact.tt.calabrese_cardy import chord_variable

        x = chord_variable(ell, L, "open")
        ax.plot(ell, out["central_charge"] * x + out["cc_constant"], "--", lw=1,
                label=f"Calabrese-Cardy, c = {out['central_charge']:.3f}")
    ax.set_xlabel("block size l (bond l-1)")
    ax.set_ylabel("entanglement entropy S (nats)")
    ax.set_title(f"{label}, L = {L}")
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)


def _save(path, kind, out, mps):
    """Results beside the MPS cores (.npz/.h5: ``MPS.load`` reads the state back); .json holds the
    results only (says so in its ``mps`` field)."""
    from pathlib import Path

    from physfact.io import write_json
    from physfact.tt.mps_io import save_mps

    if Path(path).suffix.lower() == ".json":
        write_json(path, {**out, "mps": "not stored in .json; write .npz or .h5 to keep the MPS cores"})
        return
    out = {("orbital_order" if k == "order" else k): v for k, v in out.items()}  # "order" is the MPS's own field
    arrays = {k: np.asarray(v) for k, v in out.items()
              if isinstance(v, (list, np.ndarray)) and np.asarray(v).dtype.kind in "biufc"}
    attrs = {k: v for k, v in out.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
    for k, v in out.items():  # nested results (rank profile) as one array per entry
        if isinstance(v, dict):
            arrays.update({f"{k}[{key}]": np.asarray(val) for key, val in v.items()})
    save_mps(mps, path, kind=kind, extra=arrays, extra_attrs=attrs)


# ---------------------------------------------------------------------------------------- molecule
def run_molecule(args, console) -> dict:
    from physfact.tt.molecule import build_molecule, molecule_mps

    _check_tol(args.tol, "--tol")
    _check_tol(args.rank_tol, "--rank-tol")
    from math import comb

    from physfact.chem.molecules import molecule_label
    from physfact.tt.molecule import ALIASES

    mol = build_molecule(args.name, basis=args.basis, charge=args.charge, spin=args.spin)  # every check, before FCI
    ndet = comb(int(mol.nao_nr()), int(mol.nelec[0])) * comb(int(mol.nao_nr()), int(mol.nelec[1]))
    label = molecule_label(ALIASES.get(args.name.strip().lower(), args.name))
    # PySCF's Davidson has no callback: a phase line says what runs and how big it is
    console.info(f"FCI of {label} / {args.basis} ({ndet:,} determinants) with PySCF ...")
    t0 = time.perf_counter()
    res = molecule_mps(args.name, basis=args.basis, charge=args.charge, spin=args.spin, rank_tol=args.rank_tol,
                       reorder=not args.no_reorder, tol=args.tol)
    seconds = time.perf_counter() - t0
    f = res.fci
    oe = res.orbitals
    n = f.n_orbitals
    console.print(f"{f.name} / {f.basis}: {n} spatial orbitals, electrons {f.n_electrons}, "
                  f"{f.ci.size} determinants (point group {f.point_group}); "
                  f"E_HF = {f.hf_energy:.8f}, E_FCI = {f.energy:.8f} Ha")
    console.print(f"  MPS (local states |0>,|up>,|dn>,|updn>; order {res.order.tolist()}): "
                  f"bond dimensions {list(res.mps.bond_dimensions)}, relative 2-norm error {res.mps.error_bound:.1e}")
    console.print(f"  bond entropies (nats): {np.array2string(res.bond_entropies, precision=4)}")
    console.print(f"  single-orbital entropies s_p (nats): {np.array2string(oe.single, precision=4)}")
    iu = np.triu_indices(n, 1)
    top = np.argsort(oe.mutual_information[iu])[::-1][:5]
    pairs = [(int(iu[0][t]), int(iu[1][t]), float(oe.mutual_information[iu][t])) for t in top]
    console.print("  largest mutual information I_pq (nats): "
                  + ", ".join(f"({p},{q}) {v:.4f}" for p, q, v in pairs))
    console.print(f"  largest bond dimension at tol {res.rank_tol:g}: canonical order {res.canonical_max_bond}, "
                  f"Fiedler order {res.fiedler_max_bond}")
    out = {"molecule": f.name, "basis": f.basis, "point_group": f.point_group, "n_orbitals": n,
           "n_electrons": list(f.n_electrons),
           "hf_energy": f.hf_energy, "fci_energy": f.energy, "order": res.order,
           "bond_dimensions": list(res.mps.bond_dimensions), "bond_entropies_nats": res.bond_entropies,
           "single_orbital_entropies_nats": oe.single, "mutual_information_nats": oe.mutual_information,
           "canonical_max_bond": res.canonical_max_bond, "fiedler_max_bond": res.fiedler_max_bond,
           "rank_tol": res.rank_tol, "mps_error": res.mps.error_bound, "seconds": seconds}
    if args.plot:
        _plot_molecule(res, args.plot)
        console.print(f"plot: {args.plot}")
    if args.out:
        _save(args.out, "tt.molecule", out, res.mps)
        console.print(f"results: {args.out}")
    return out


def _plot_molecule(res, path):
    from physfact.plotting import pyplot, save_figure

    plt = pyplot()
    oe = res.orbitals
    n = oe.single.size
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.2))
    im = a1.imshow(oe.mutual_information, cmap="viridis", origin="upper")
    a1.set_title(r"orbital mutual information $I_{pq}$ (nats)")
    a1.set_xlabel("orbital q")
    a1.set_ylabel("orbital p")
    fig.colorbar(im, ax=a1, fraction=0.046, label=r"$I_{pq}$ (nats)")
    a2.bar(np.arange(n), oe.single)
    a2.set_xlabel("orbital p")
    a2.set_ylabel(r"single-orbital entropy $s_p$ (nats)")
    a2.set_title(f"{res.fci.name} / {res.fci.basis}")
    a2.grid(alpha=0.3)
    fig.tight_layout()  # keeps the colorbar clear of the second panel's label
    save_figure(fig, path)


# ---------------------------------------------------------------------------------------- demo
def demo(console, args) -> dict:
    from physfact.tt.calabrese_cardy import calabrese_cardy_fit
    from physfact.tt.free_fermions import tfim_entropies_exact

    out, mps = chain_entanglement("tfim", 12, 1.0, seed=getattr(args, "seed", 0))
    console.print("Critical transverse-field Ising chain, L = 12: ED ground state -> MPS (TT-SVD)")
    console.print(f"  E0 = {out['energy']:.12f}, free fermions {out['energy_free_fermion']:.12f} "
                  f"(difference {abs(out['energy'] - out['energy_free_fermion']):.1e})")
    console.print(f"  bond dimensions {list(mps.bond_dimensions)}")
    console.print(f"  half-chain entropy S = {out['entropy_nats'][5]:.6f} nats; all bonds vs free fermions: "
                  f"max error {out['entropy_max_error']:.1e}")
    big = calabrese_cardy_fit(tfim_entropies_exact(200))
    console.print(f"  Calabrese-Cardy c: L = 12 MPS {out['central_charge']:.3f} (finite size); "
                  f"free fermions L = 200: {big.c:.4f} (exact 1/2)")
    return {"energy": out["energy"], "energy_error": abs(out["energy"] - out["energy_free_fermion"]),
            "entropy_max_error": out["entropy_max_error"], "central_charge_L12": out["central_charge"],
            "central_charge_L200": big.c}
