"""Energies of a truncated double factorization under two conventions, side by side.

Truncating the leaves changes the two-body tensor from (pq|rs) to (pq|rs)~ = sum_l L^(l)_pq L^(l)_rs.
What "the truncated Hamiltonian" is depends on where the one-body correction comes from:

**A** (OpenFermion's costing tables): the truncated ERI with its *own* correction,
    T~ = h - 1/2 sum_r (pr|rq)~, so in normal-ordered form H_A has integrals (h, (pq|rs)~).
**B** (default; the Hamiltonian actually measured in the L + 1 groups): the one-body group uses the
    *exact* T = h - 1/2 sum_r (pr|rq) and only the squares are truncated, so in normal-ordered form

    h_eff = h - 1/2 sum_r (pr|rq) + 1/2 sum_r (pr|rq)~,    two-body (pq|rs)~.

The errors dE = E(H_X) - E(H_exact) are ground-state energies in the (n_alpha, n_beta) sector by
FCI (pyscf.fci.direct_spin1) when the determinant space is small, else RHF-based CCSD(T) (PySCF),
and every result says which ("FCI" or "CCSD(T)").
"""
from __future__ import annotations

import numpy as np

from physfact.errors import ConvergenceError, InputError

from physfact.chem.hamiltonian import MolecularHamiltonian, fci_ground_state, few_threads
from physfact.chem.integrals import exchange_contraction

#: largest FCI space (determinants) used by energy_method="auto"
FCI_MAX_DETERMINANTS = 2_000_000


def truncated_hamiltonian(df, convention: str = "B") -> MolecularHamiltonian:
    """The Hamiltonian a truncated DoubleFactorization represents, as integrals (module docstring)."""
    if hasattr(df, "truncated_three_index"):  # three-index route: the leaves are the factors, no N^4
        return df.truncated_three_index(convention)
    conv = str(convention).upper()
    if conv not in ("A", "B"):
        raise InputError(f"convention must be 'A' or 'B', got {convention!r}")
    eri_t = df.two_body()
    if conv == "A":
        h1 = df.one_body
    else:
        h1 = df.one_body_correction + 0.5 * exchange_contraction(eri_t)
    if df.hamiltonian is not None:
        return df.hamiltonian.with_integrals(h1, eri_t, source=f"double factorization L={df.n_leaves} ({conv})")
    ne = df.n_electrons if df.n_electrons is not None else 0
    return MolecularHamiltonian(df.constant, h1, eri_t, ne, spin=df.spin,
                                source=f"double factorization L={df.n_leaves} ({conv})")


def _choose_method(ham: MolecularHamiltonian, method: str) -> str:
    m = str(method).lower()
    if m not in ("auto", "fci", "ccsd(t)"):
        raise InputError(f"energy method must be 'auto', 'fci' or 'ccsd(t)', got {method!r}")
    if m == "auto":
        return "FCI" if ham.n_determinants <= FCI_MAX_DETERMINANTS else "CCSD(T)"
    return "FCI" if m == "fci" else "CCSD(T)"


def energy_phase(ham: MolecularHamiltonian, method: str = "auto") -> str:
    """What an energy computation of ``ham`` runs, for a status line before it (PySCF's FCI and
    CCSD(T) have no progress callback): ``"FCI of H2O / 6-31g (1,863,225 determinants)"``."""
    m = _choose_method(ham, method)
    size = f"{ham.n_determinants:,} determinants" if m == "FCI" else f"{ham.n_orbitals} orbitals"
    name = f"{ham.name} / {ham.basis}" if ham.name and ham.basis else (ham.name or "the Hamiltonian")
    return f"{m} of {name} ({size})"


def ccsd_t_energy(h1, eri, constant, n_electrons, spin=0) -> float:
    """RHF + CCSD(T) total energy (Hartree) of a Hamiltonian given by orthonormal-orbital integrals.

    The SCF starts from the lowest n/2 orbitals of the given basis occupied (the canonical RHF
    orbitals of the untruncated problem). Closed shells only.
    """
    if spin != 0 or n_electrons % 2:
        raise InputError("CCSD(T) energies here are closed-shell (RHF) only; use energy_method='fci'")
    from pyscf import ao2mo, cc, gto, scf

    n = h1.shape[0]
    mol = gto.M(verbose=0)
    mol.nelectron = int(n_electrons)
    mol.incore_anyway = True
    mf = scf.RHF(mol)
    mf.get_hcore = lambda *a: h1
    mf.get_ovlp = lambda *a: np.eye(n)
    mf.energy_nuc = lambda *a: constant
    mf._eri = ao2mo.restore(8, eri, n)
    mf.conv_tol = 1e-10
    dm0 = np.zeros((n, n))
    dm0[np.arange(n_electrons // 2), np.arange(n_electrons // 2)] = 2.0
    with few_threads(n < 40):
        mf.kernel(dm0)
    if not mf.converged:
        raise ConvergenceError("RHF of the truncated Hamiltonian did not converge", history=[float(mf.e_tot)])
    mycc = cc.CCSD(mf)
    mycc.conv_tol = 1e-9
    with few_threads(n < 40):
        mycc.kernel()
        if not mycc.converged:
            raise ConvergenceError("CCSD of the truncated Hamiltonian did not converge", history=[float(mycc.e_corr)])
        e_t = mycc.ccsd_t()
    return float(mf.e_tot + mycc.e_corr + e_t)


def ground_energy(ham: MolecularHamiltonian, method: str = "FCI", reference: MolecularHamiltonian | None = None) -> float:
    """Ground-state energy by ``"FCI"`` or ``"CCSD(T)"`` (Hartree).

    With ``reference`` (the exact Hamiltonian) FCI starts from its ground state, which converges
    faster for a slightly truncated Hamiltonian (converged to 1e-11 Ha).
    """
    if method == "FCI":
        if reference is None or reference is ham:
            return ham.fci_energy()
        return fci_ground_state(ham.one_body, ham.two_body, ham.n_orbitals, (ham.n_alpha, ham.n_beta),
                                ham.constant, ci0=reference.fci_vector(), conv_tol=1e-11)[0]
    if getattr(ham, "three_index", None) is not None:  # DF-CCSD(T) from the factors, no N^4 array
        from physfact.chem.three_index import df_ccsd_t_energy

        return df_ccsd_t_energy(ham)
    return ccsd_t_energy(ham.one_body, ham.two_body, ham.constant, ham.n_electrons, ham.spin)


def _reference(df):
    if df.hamiltonian is None:
        raise InputError("energies need the MolecularHamiltonian the factorization came from "
                         "(double_factorize(hamiltonian, ...)), not a bare two-body array")
    return df.hamiltonian


def energy_errors(df, method: str = "auto", progress=None) -> dict:
    """Exact and truncated energies (Hartree) and errors (mHa) under conventions A and B.

    ``progress(iterable, total, desc)`` (e.g. a tqdm bar) wraps the three ground-state
    computations (reference, A, B); PySCF's solvers themselves report nothing.

    Returns
    -------
    dict
        ``method`` ("FCI" or "CCSD(T)"), ``exact``, ``A``, ``B`` (Hartree), ``error_A_mha``,
        ``error_B_mha`` (E_X - E_exact in mHa), ``n_leaves``.
    """
    ham = _reference(df)
    m = _choose_method(ham, method)
    steps = ("reference", "A", "B")  # the reference first: A and B start from its FCI vector
    if progress is not None:
        steps = progress(steps, total=3, desc=f"{m} energies (reference, A, B)")
    e = {}
    for which in steps:
        e[which] = ground_energy(ham, m) if which == "reference" else ground_energy(
            truncated_hamiltonian(df, which), m, ham)
    e_exact, e_a, e_b = e["reference"], e["A"], e["B"]
    return {"method": m, "n_leaves": df.n_leaves, "exact": e_exact, "A": e_a, "B": e_b,
            "error_A_mha": 1e3 * (e_a - e_exact), "error_B_mha": 1e3 * (e_b - e_exact)}


def energy_b(df, method: str = "FCI") -> float:
    """Ground energy of the convention-B Hamiltonian of ``df``."""
    return ground_energy(truncated_hamiltonian(df, "B"), method, df.hamiltonian)


def fewest_leaves_for_energy(df, target_mha: float, method: str = "auto", progress=None):
    """The fewest leading leaves L with |E_B(L) - E_exact| <= target_mha (mHa).

    With FCI the leaves are scanned L = 1, 2, ... and the first L meeting the target is returned
    (exactly the fewest). With CCSD(T) (large spaces) the scan is a bisection on L, which assumes
    the error decreases with L (labelled in the report). The report (``energy_report``) holds
    every (L, dE_B) evaluated and dE_A at the chosen L.

    Raises
    ------
    InputError
        When even all the leaves of ``df`` miss the target (loosen tol or the target).
    """
    ham = _reference(df)
    m = _choose_method(ham, method)
    e_exact = ground_energy(ham, m)
    scan = {}

    def err(L):
        if L not in scan:
            scan[L] = 1e3 * (energy_b(df.truncate(L), m) - e_exact)
        return scan[L]

    Lmax = df.n_leaves
    if abs(err(Lmax)) > target_mha:
        raise InputError(f"even all {Lmax} leaves give |dE_B| = {abs(err(Lmax)):.3g} mHa > target {target_mha:g} mHa; "
                         "use a smaller tol (or none) or a looser target")
    if m == "FCI":
        steps = range(0, Lmax + 1)
        if progress is not None:
            steps = progress(steps, total=Lmax + 1, desc="leaves (FCI)")
        chosen = next(L for L in steps if abs(err(L)) <= target_mha)
        search = "linear scan (exact fewest)"
    else:
        lo, hi = 0, Lmax  # invariant: err(hi) meets the target
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if abs(err(mid)) <= target_mha:
                hi = mid
            else:
                lo = mid
        chosen = 0 if abs(err(0)) <= target_mha else hi
        search = "bisection (assumes |dE_B| decreases with L)"
    best = df.truncate(chosen)
    e_a = ground_energy(truncated_hamiltonian(best, "A"), m, ham)
    report = {"method": m, "search": search, "target_mha": target_mha, "n_leaves": chosen, "exact": e_exact,
              "error_B_mha": scan[chosen], "error_A_mha": 1e3 * (e_a - e_exact),
              "scan": sorted((int(k), float(v)) for k, v in scan.items())}
    import dataclasses

    return dataclasses.replace(best, energy_report=report,
                               rule=f"target |dE_B| <= {target_mha:g} mHa ({m}) over [{df.rule}]")
