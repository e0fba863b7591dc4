"""A molecule's FCI wavefunction as an MPS over spatial orbitals; orbital entropies and ordering.

Local basis and fermionic ordering
----------------------------------
Site j carries spatial orbital ``order[j]`` with local dimension 4:

    |0> (empty),  |up> = a+_{j,alpha}|0>,  |dn> = a+_{j,beta}|0>,  |updn> = a+_{j,alpha} a+_{j,beta}|0>,

index s = n_alpha + 2 n_beta. Occupation-number states are ordered Jordan-Wigner style with the
modes (site 0 alpha, site 0 beta, site 1 alpha, site 1 beta, ...) from the left,

    |n> = (a+_{0a})^{n_0a} (a+_{0b})^{n_0b} (a+_{1a})^{n_1a} ... |vac>,

so a_{j sigma} = (prod_{i<j} P_i) c_{j sigma} with the local parity P = diag(1, -1, -1, 1).

PySCF's FCI vector ci[I_a, I_b] (pyscf.fci.cistring) multiplies the determinant
A+_{I_a} B+_{I_b}|vac>, all alpha creators left of all beta creators and, within each string,
descending orbital index from the left (``cistring.cre_sign`` counts occupied orbitals above p).
Bringing that product into the order above is a permutation whose parity we apply to every
coefficient: inversions within the alpha string (pairs p > q with site(p) > site(q)), within the
beta string, and between them (alpha p, beta q with site(p) > site(q)).

Construction without the 4^n tensor
-----------------------------------
The state conserves N_alpha and N_beta, so every bond unfolding is block diagonal in the
numbers (a, b) of alpha/beta electrons left of the bond. The TT-SVD sweep (Oseledets 2011) runs
sector by sector: the remainder is a dict {(a, b): matrix (rank, configurations of the remaining
orbitals)}, each step splits off one orbital, stacks the four local states into the new sector's
unfolding and takes its SVD. The truncation rule is applied to the pooled singular values of a
bond (tol ||psi|| / sqrt(n - 1) per bond, as in TT-SVD). Only the n small dense cores are formed.

Orbital entropies (Legeza & Solyom, PRB 68 (2003) 195116; Rissler, Noack, White, Chem. Phys. 323
(2006) 519; Boguslawski & Tecmer, IJQC 115 (2015) 1289)
------------------------------------------------------------------------------------------
* single-orbital RDM rho_p: diagonal in {|0>, |up>, |dn>, |updn>} (particle number and S_z),
  with entries 1 - n_pa - n_pb + n_pa n_pb, n_pa - n_pa n_pb, n_pb - n_pa n_pb, n_pa n_pb
  (so it follows from the 1-RDM diagonal and the 2-RDM element <n_pa n_pb>);
  s_p = -tr rho_p ln rho_p.
* two-orbital RDM rho_pq (16 x 16) from the MPS with the fermionic sign: elements whose orbital-q
  part is fermion-odd carry the parity string of the orbitals between p and q.
* mutual information I_pq = s_p + s_q - s_pq (p != q, I_pp = 0; nats). Some papers use half of it.
* ordering heuristic: the Fiedler vector (eigenvector of the second-smallest eigenvalue) of the
  graph Laplacian L = D - I (Barcza, Legeza, Marti, Reiher, PRA 83 (2011) 012508); sorting the
  orbitals by it places strongly entangled orbitals next to each other.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from physfact.errors import InputError
from physfact.lowrank import Truncation, choose_rank, robust_svd, scaled_norm
from physfact.tt.entropy import entropy_from_probabilities
from physfact.tt.mps import MPS, rank_profile_of_spectra, sweep_schmidt_values
from physfact.threads import with_single_blas_thread
from physfact.validation import check_int

#: names kept from the former built-in list that are not file names of the chem library
ALIASES = {"h4": "hchain4"}


def _library() -> dict:
    """name (lower case) -> atom string (Angstrom) of every molecule in the chem library
    (data/molecules: the same geometries ``physfact df`` uses), plus the aliases."""
    from physfact.chem.molecules import known_molecules, resolve_geometry

    lib = {name.lower(): resolve_geometry(name)[0] for name in known_molecules()}
    lib.update({alias: resolve_geometry(target)[0] for alias, target in ALIASES.items()})
    return lib


#: built-in geometries (Angstrom): the chem library's experimental equilibrium structures
MOLECULES = _library()

PARITY = np.array([1.0, -1.0, -1.0, 1.0])
LOCAL_STATES = ("0", "up", "dn", "updn")


@dataclass(frozen=True, repr=False)
class FCIState:
    """An FCI ground state from PySCF.

    Attributes
    ----------
    ci : ndarray, shape (n_alpha_strings, n_beta_strings)
        PySCF's CI coefficients (rows: alpha strings, columns: beta strings, cistring order).
    n_orbitals : int
    n_electrons : (int, int)
        (N_alpha, N_beta).
    energy : float
        FCI energy (Hartree), nuclear repulsion included.
    hf_energy : float
    name : str
    basis : str
    point_group : str
        The point group PySCF's symmetry-blocked FCI solver used ("C1": none).
    """

    ci: np.ndarray
    n_orbitals: int
    n_electrons: tuple
    energy: float
    hf_energy: float
    name: str
    basis: str
    point_group: str = "C1"

    def __repr__(self):
        return (f"FCIState({self.name}/{self.basis}, orbitals={self.n_orbitals}, electrons={self.n_electrons}, "
                f"determinants={self.ci.size}, point group {self.point_group}, energy={self.energy:.10f})")


def molecule_geometry(name: str) -> str:
    """Atom string (Angstrom) of a molecule: a name from the chem library (``data/molecules``,
    case-insensitive, e.g. ``"h2o"``, ``"CH4"``), ``"hchain<n>"``, an .xyz file or an atom string
    ``"H 0 0 0; H 0 0 0.74"`` -- resolved exactly as :func:`physfact.chem.molecular_hamiltonian` does."""
    from physfact.chem.molecules import resolve_geometry

    key = str(name).strip()
    return resolve_geometry(ALIASES.get(key.lower(), key))[0]


def fci_state(molecule: str, basis: str = "sto-3g", charge: int = 0, spin: int = 0) -> FCIState:
    """RHF (ROHF for spin > 0) orbitals and the FCI ground state with PySCF.

    When the molecule has point-group symmetry, PySCF works in it: symmetry-adapted orbitals and
    the symmetry-blocked FCI solver (``direct_spin1_symm``), for the state with the symmetry of the
    Hartree-Fock determinant (PySCF's default). Only the determinants of that irrep are
    iterated (about 1/4 of them in C2v: 4.7x less time per Davidson step for H2O/6-31G). Linear
    molecules use the D2h (Dooh) or C2v (Coov) subgroup, for which PySCF's FCI is exact (its
    cylindrical solver relaxes the convergence threshold). The returned ``ci`` is still PySCF's
    full (alpha strings x beta strings) array in string order, zero on the other irreps, so
    everything downstream is unchanged. The energy is that of the non-symmetric solver (the
    tests check 1e-9 Ha).

    The symmetric singlet solver (``direct_spin0_symm``) is not used: its spin symmetrization
    slows Davidson down (43 instead of 15 iterations for H2O/6-31G). ``direct_spin1_symm`` keeps
    the symmetric (singlet) starting vector's spin; for spin 0 the result is checked to be a
    singlet (<S^2> < 1e-6) and otherwise recomputed with a spin penalty (``fix_spin_``).
    """
    from pyscf import fci, scf

    mol = build_molecule(molecule, basis=basis, charge=charge, spin=spin)
    group = mol.groupname if mol.symmetry else "C1"
    mf = scf.RHF(mol) if spin == 0 else scf.ROHF(mol)
    mf.conv_tol = 1e-11
    mf.kernel()
    if not mf.converged:
        from physfact.errors import ConvergenceError

        raise ConvergenceError(f"Hartree-Fock did not converge for {molecule}/{basis}")
    nelec = mol.nelec
    norb = int(mf.mo_coeff.shape[1])
    # C1: the spin-adapted singlet solver direct_spin0 (fine without point-group blocking)
    solver = fci.FCI(mf, singlet=(spin == 0 and group == "C1"))
    solver.conv_tol = 1e-12
    e, ci = solver.kernel()
    if spin == 0 and group != "C1" and fci.spin_op.spin_square0(ci, norb, nelec)[0] > 1e-6:
        solver = fci.addons.fix_spin_(fci.FCI(mf, singlet=False), ss=0)  # a triplet was lower: penalize S^2
        solver.conv_tol = 1e-12
        e, ci = solver.kernel()
    if not getattr(solver, "converged", True):  # Davidson stopped at max_cycle: never a silent energy
        from physfact.errors import ConvergenceError

        raise ConvergenceError(f"FCI (Davidson) did not converge for {molecule}/{basis}")
    from physfact.chem.molecules import molecule_label

    return FCIState(np.asarray(ci), norb, (int(nelec[0]), int(nelec[1])), float(e),
                    float(mf.e_tot), molecule_label(ALIASES.get(str(molecule).strip().lower(), str(molecule))),
                    str(basis), str(group))


def _one_line(exc) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def build_molecule(molecule: str, basis: str = "sto-3g", charge: int = 0, spin: int = 0):
    """The PySCF ``Mole`` of :func:`fci_state` (point-group symmetry on where PySCF finds it), with
    every check made before any SCF: atom string and basis, charge and spin consistent with the
    electron count, no coincident atoms, and an FCI that fits in memory (:func:`check_fci_size`).

    Raises
    ------
    UnknownNameError, InputError, ResourceError
    """
    import warnings

    from pyscf import gto

    with warnings.catch_warnings():  # PySCF's "basis may be in basis-set-exchange": our message says it
        warnings.simplefilter("ignore", UserWarning)
        return _build_molecule(molecule, basis, charge, spin, gto)


def _build_molecule(molecule, basis, charge, spin, gto):
    from physfact.chem.molecules import check_molecule  # the checks df makes: one molecule library

    atom = molecule_geometry(molecule)
    label = f"{molecule}/{basis}"
    charge, spin = check_molecule(atom, str(molecule), charge, spin)
    kw = dict(atom=atom, basis=basis, charge=charge, spin=spin, verbose=0)
    try:
        try:
            mol = gto.M(symmetry=True, **kw)
            if mol.groupname in ("Dooh", "Coov"):
                mol = gto.M(symmetry=True, symmetry_subgroup="D2h" if mol.groupname == "Dooh" else "C2v", **kw)
        except Exception:  # symmetry detection failed: the plain build below reports bad input
            mol = gto.M(**kw)
    except Exception as exc:
        raise InputError(f"PySCF could not build {label} ({_one_line(exc)}); check the atom string and basis") from None
    check_fci_size(mol, label)
    return mol


#: vectors of the FCI dimension PySCF's Davidson holds at once: max_space (12) trial vectors and
#: their products with H, the diagonal, the start vector and a few work vectors
FCI_VECTORS = 30


def check_fci_size(mol, label: str) -> None:
    """Refuse an FCI that cannot fit in memory before Hartree-Fock starts: the number of
    determinants C(n, N_alpha) C(n, N_beta) (n = basis functions) times :data:`FCI_VECTORS` vectors
    of 8 bytes (the 2^n orbital MPS built afterwards is far smaller)."""
    from math import comb

    from physfact.validation import check_memory

    n, (na, nb) = int(mol.nao_nr()), (int(mol.nelec[0]), int(mol.nelec[1]))
    if na > n or nb > n or na < 0 or nb < 0:
        raise InputError(f"{label}: {na} alpha and {nb} beta electrons do not fit in {n} orbitals; "
                         "check charge and spin")
    ndet = comb(n, na) * comb(n, nb)
    check_memory(8.0 * FCI_VECTORS * ndet,
                 f"FCI of {label} ({n} orbitals, {na}+{nb} electrons, {ndet:.3g} determinants)",
                 "use a smaller basis or molecule")


# ------------------------------------------------------------------------------------------ signs
def _strings(norb, nelec):
    from pyscf.fci import cistring

    return np.asarray(cistring.make_strings(range(norb), nelec), dtype=np.int64)


def _occupations(strings, norb):
    return ((strings[:, None] >> np.arange(norb)[None, :]) & 1).astype(np.int64)


def jordan_wigner_signs(norb: int, nelec, order=None) -> np.ndarray:
    """Sign (+-1) converting each PySCF determinant (alpha string, beta string) to the site-ordered
    Jordan-Wigner basis of this module for the orbital order ``order`` (site j = orbital order[j])."""
    na, nb = nelec
    order = np.arange(norb) if order is None else np.asarray(order)
    pos = np.empty(norb, dtype=np.int64)
    pos[order] = np.arange(norb)
    occ_a = _occupations(_strings(norb, na), norb)
    occ_b = _occupations(_strings(norb, nb), norb)
    # later[p, q] = 1 if orbital p is placed after orbital q in the chain
    later = (pos[:, None] > pos[None, :]).astype(np.int64)
    upper = np.triu(np.ones((norb, norb), dtype=np.int64), 1).T  # upper[p, q] = 1 if p > q

    def within(occ):  # pairs p > q both occupied with site(p) > site(q)
        W = later * upper
        return np.einsum("ip,pq,iq->i", occ, W, occ)

    cross = occ_a @ later @ occ_b.T  # alpha p, beta q with site(p) > site(q)
    parity = within(occ_a)[:, None] + within(occ_b)[None, :] + cross
    return np.where(parity % 2 == 0, 1.0, -1.0)


# ------------------------------------------------------------------------------------------ sweep
def _site_bits(strings, pos):
    """Re-express orbital bit strings as site bit strings (bit j = site j occupied)."""
    out = np.zeros_like(strings)
    for o, j in enumerate(pos):
        out |= ((strings >> o) & 1) << j
    return out


def _sorted_strings(nbits, count):
    """All nbits-bit integers with ``count`` set bits, ascending."""
    if count < 0 or count > nbits:
        return np.zeros(0, dtype=np.int64)
    from itertools import combinations

    vals = [sum(1 << i for i in c) for c in combinations(range(nbits), count)]
    return np.array(sorted(vals), dtype=np.int64)


def _checked_ci(ci, n_orbitals, n_electrons, order):
    """Validated (ci, n, N_alpha, N_beta, order, pos) with pos[orbital] = site."""
    from math import comb

    from physfact.validation import as_array

    n = check_int(n_orbitals, "n_orbitals", minimum=1)
    try:
        na, nb = n_electrons
    except (TypeError, ValueError):
        raise InputError(f"n_electrons must be a pair (N_alpha, N_beta) of ints, got {n_electrons!r}") from None
    na, nb = check_int(na, "electron count", minimum=0), check_int(nb, "electron count", minimum=0)
    if na > n or nb > n:
        raise InputError(f"{na} alpha and {nb} beta electrons do not fit in {n} orbitals")
    ci = as_array(ci, "ci", ndim=2)
    if ci.shape != (comb(n, na), comb(n, nb)):
        raise InputError(f"ci must have shape (C({n},{na}), C({n},{nb})) = {(comb(n, na), comb(n, nb))}, got {ci.shape}")
    order = np.arange(n) if order is None else np.asarray(order, dtype=np.int64)
    if sorted(order.tolist()) != list(range(n)):
        raise InputError(f"order must be a permutation of 0..{n - 1}, got {order.tolist()}")
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    return ci, n, na, nb, order, pos


# One BLAS thread for the CI-vector kernels below (block SVDs and GEMMs of a few hundred to a few thousand
# rows): on a 2-core machine, for H2O/6-31G, two threads made bond_spectra_from_ci 1.4x slower when it was
# quiet and fci_to_mps 28x slower (1.3 s -> 35 s) next to one other busy process.
@with_single_blas_thread
def bond_spectra_from_ci(ci, n_orbitals: int, n_electrons, order=None) -> tuple:
    """All singular values of every bond unfolding of the orbital MPS of a CI vector, without
    building the MPS (the exact Schmidt values, unnormalized).

    The unfolding at bond k (sites 0..k | k+1..n-1 in ``order``) of the Jordan-Wigner-signed state
    is block diagonal in the numbers (a, b) of alpha and beta electrons left of the bond; block
    (a, b) has rows (left alpha string, left beta string) and columns (right alpha, right beta)
    and is gathered from ``ci`` in two ``take`` passes. Its singular values come from one SVD
    without vectors, so a bond costs one pass over the CI vector plus the block SVDs (about half
    the time of the TT-SVD sweep of :func:`fci_to_mps`, which also forms the cores).

    Parameters
    ----------
    ci, n_orbitals, n_electrons, order
        As in :func:`fci_to_mps`.

    Returns
    -------
    tuple of ndarray
        For bonds k = 0 .. n-2, the singular values, descending, of all sectors pooled (as in
        ``fci_to_mps(...).singular_values`` for an untruncated sweep).
    """
    ci, n, na, nb, order, pos = _checked_ci(ci, n_orbitals, n_electrons, order)
    signed = ci * jordan_wigner_signs(n, (na, nb), order)
    site_a = _site_bits(_strings(n, na), pos)
    site_b = site_a if nb == na else _site_bits(_strings(n, nb), pos)
    out = []
    for k in range(n - 1):
        tab_a = _bond_tables(site_a, na, n, k + 1)
        tab_b = tab_a if nb == na else _bond_tables(site_b, nb, n, k + 1)
        vals = []
        for ta in tab_a.values():
            rows = np.take(signed, ta.ravel(), axis=0)  # (left a, right a) x all beta strings
            for tb in tab_b.values():
                blk = np.take(rows, tb.ravel(), axis=1).reshape(ta.shape + tb.shape)
                M = blk.transpose(0, 2, 1, 3).reshape(ta.shape[0] * tb.shape[0], ta.shape[1] * tb.shape[1])
                vals.append(robust_svd(M, compute_uv=False))
        out.append(np.sort(np.concatenate(vals))[::-1])
    return tuple(out)


def _bond_tables(site_strings, ne, n, n_left):
    """Per electron count a left of the bond: table[l, r] = index of the string whose first n_left
    sites hold left configuration l (a electrons) and the others right configuration r."""
    low = site_strings & ((1 << n_left) - 1)
    high = site_strings >> n_left
    count = _popcount(low)
    tables = {}
    for a in range(max(0, ne - (n - n_left)), min(ne, n_left) + 1):
        rows = np.flatnonzero(count == a)
        ul, il = np.unique(low[rows], return_inverse=True)
        ur, ir = np.unique(high[rows], return_inverse=True)
        t = np.empty((ul.size, ur.size), dtype=np.int64)
        t[il, ir] = rows  # every (left, right) pair with a and ne - a electrons is a string
        tables[a] = t
    return tables


@with_single_blas_thread
def fci_to_mps(ci, n_orbitals: int, n_electrons, order=None, tol=None, max_bond=None) -> MPS:
    """PySCF FCI coefficients -> MPS over spatial orbitals (local dimension 4), block-sparse TT-SVD.

    Parameters
    ----------
    ci : ndarray, shape (n_alpha_strings, n_beta_strings)
        PySCF's CI vector (``pyscf.fci`` string order).
    n_orbitals : int
    n_electrons : (int, int)
        (N_alpha, N_beta).
    order : sequence of int, optional
        Orbital order along the chain (site j = orbital order[j]); default 0 .. n-1.
    tol : float, optional
        Relative Frobenius tolerance of the whole MPS (per bond tol ||psi|| / sqrt(n - 1));
        default 1e-14. The error actually made is the MPS's ``error_bound``.
    max_bond : int, optional
        Cap on the bond dimension.

    Returns
    -------
    MPS
        Sites in the given orbital order, local states (|0>, |up>, |dn>, |updn>), the
        Jordan-Wigner convention of the module docstring; left-canonical.
    """
    from physfact.tt.ttsvd import DEFAULT_TOL

    ci, n, na, nb, order, pos = _checked_ci(ci, n_orbitals, n_electrons, order)
    tol = DEFAULT_TOL if tol is None else float(tol)
    if not 0 <= tol < 1:
        raise InputError(f"tol is a relative error in [0, 1), got {tol}")
    max_bond = check_int(max_bond, "max_bond", minimum=1)

    signed = ci * jordan_wigner_signs(n, (na, nb), order)
    sa = _site_bits(_strings(n, na), pos)
    sb = _site_bits(_strings(n, nb), pos)
    lists_a = {c: _sorted_strings(n, c) for c in range(na + 1)}
    lists_b = {c: _sorted_strings(n, c) for c in range(nb + 1)}
    ia = np.searchsorted(lists_a[na], sa)
    ib = np.searchsorted(lists_b[nb], sb)
    M0 = np.zeros((lists_a[na].size, lists_b[nb].size))
    M0[ia[:, None], ib[None, :]] = signed
    norm = scaled_norm(M0)
    if norm == 0:
        raise InputError("the CI vector is zero")
    rule = Truncation(atol=tol * norm / np.sqrt(max(n - 1, 1)), rank=max_bond)

    # remainder: {(a, b): (matrix (r, Na_rest * Nb_rest), strings_a_rest, strings_b_rest)}
    rem = {(0, 0): (M0.reshape(1, -1), lists_a[na], lists_b[nb])}
    left_offsets = {(0, 0): (0, 1)}  # sector -> (offset, size) in the current left bond
    cores, svals, discarded = [], [], []
    for k in range(n):
        nrest = n - k - 1
        blocks = {}  # new sector -> list of (local state s, old sector, block matrix, new strings)
        for (a, b), (M, stra, strb) in rem.items():
            r = M.shape[0]
            M3 = M.reshape(r, stra.size, strb.size)
            for s in range(4):
                da, db = s & 1, s >> 1
                a2, b2 = a + da, b + db
                if a2 > na or b2 > nb or na - a2 > nrest or nb - b2 > nrest:
                    continue
                sel_a = np.nonzero((stra & 1) == da)[0]
                sel_b = np.nonzero((strb & 1) == db)[0]
                if sel_a.size == 0 or sel_b.size == 0:
                    continue
                blk = M3[:, sel_a][:, :, sel_b].reshape(r, -1)
                blocks.setdefault((a2, b2), []).append((s, (a, b), blk, stra[sel_a] >> 1, strb[sel_b] >> 1))
        # SVD per new sector
        pieces = {}
        all_s = []
        for sec, items in blocks.items():
            stacked = np.concatenate([it[2] for it in items], axis=0)
            U, s_, Vt = robust_svd(stacked)
            pieces[sec] = (items, U, s_, Vt)
            all_s.append(s_)
        pooled = np.sort(np.concatenate(all_s))[::-1]
        if k < n - 1:
            keep = max(choose_rank(pooled, rule), 1)
            thresh = pooled[keep - 1]
            discarded.append(scaled_norm(pooled[keep:]))
            svals.append(pooled)
        else:
            keep, thresh = pooled.size, -1.0
        # per sector, keep the values above the pooled threshold (ties at it fill the budget in order)
        kept = {}
        budget = keep
        for sec in pieces:
            s_ = pieces[sec][2]
            m = int(np.count_nonzero(s_ > thresh))
            kept[sec] = m
            budget -= m
        if budget > 0:  # values equal to the threshold
            for sec in pieces:
                s_ = pieces[sec][2]
                extra = int(np.count_nonzero(s_[kept[sec]:] == thresh))
                take = min(extra, budget)
                kept[sec] += take
                budget -= take
        kept = {sec: m for sec, m in kept.items() if m > 0}
        if not kept:
            raise InputError("the truncation removed every state; lower tol")
        # new bond layout
        right_offsets, off = {}, 0
        for sec in sorted(kept):
            right_offsets[sec] = (off, kept[sec])
            off += kept[sec]
        r_left = sum(sz for _, sz in left_offsets.values())
        core = np.zeros((r_left, 4, off))
        new_rem = {}
        for sec, m in kept.items():
            items, U, s_, Vt = pieces[sec]
            o_r, _ = right_offsets[sec]
            row = 0
            for s, old, _, _, _ in items:
                o_l, sz = left_offsets[old]
                core[o_l:o_l + sz, s, o_r:o_r + m] = U[row:row + sz, :m]
                row += sz
            new_rem[sec] = (s_[:m, None] * Vt[:m], items[0][3], items[0][4])
        cores.append(core)
        rem = new_rem
        left_offsets = right_offsets
    # the last remainder is the 1 x 1 amplitude left after the final orbital
    (M, _, _), = rem.values()
    cores[-1] = cores[-1] * M[0, 0]

    ranks = tuple(c.shape[2] for c in cores[:-1])
    discarded = np.array(discarded)
    schmidt = sweep_schmidt_values(tuple(svals), ranks, scaled_norm(discarded))
    return MPS(cores, discarded=discarded, singular_values=tuple(svals), center=n - 1, schmidt=schmidt)


# ------------------------------------------------------------------------------------------ entropies
def single_orbital_rdms(mps: MPS) -> np.ndarray:
    """Diagonals of the single-orbital RDMs, shape (n_sites, 4), in the local basis order
    (|0>, |up>, |dn>, |updn>), from the MPS (site order)."""
    out = np.zeros((mps.n_sites, 4))
    for s in range(4):
        P = np.zeros((4, 4))
        P[s, s] = 1.0
        out[:, s] = mps.local_expectations(P)
    return out


def single_orbital_rdms_from_pyscf(ci, n_orbitals, n_electrons) -> np.ndarray:
    """The same diagonals from PySCF's 1- and 2-RDMs (orbital order):
    p_updn = <n_a n_b> = dm2ab[p,p,p,p], p_up = <n_a> - p_updn, p_dn = <n_b> - p_updn,
    p_0 = 1 - <n_a> - <n_b> + p_updn."""
    from pyscf.fci import direct_spin1

    (dm1a, dm1b), (_, dm2ab, _) = direct_spin1.make_rdm12s(np.asarray(ci), n_orbitals, tuple(n_electrons))
    na_, nb_ = np.diag(dm1a), np.diag(dm1b)
    nab = np.array([dm2ab[p, p, p, p] for p in range(n_orbitals)])
    return np.column_stack([1 - na_ - nb_ + nab, na_ - nab, nb_ - nab, nab])


def _entropy_of_rdm(rho, base=None):
    w = np.clip(sla.eigvalsh(rho) if np.ndim(rho) == 2 else rho, 0.0, None)
    return entropy_from_probabilities(w, base=base)


def two_orbital_rdm(mps: MPS, p: int, q: int) -> np.ndarray:
    """Fermionic two-orbital RDM rho_pq (16 x 16, index 4 s_p + s_q) of sites p < q."""
    return _two_orbital_rdms_from(mps, p, only=q)[q]


def _two_orbital_rdms_from(mps, p, only=None):
    """{q: rho_pq} for q > p (or only q = ``only``), with the center moved to p."""
    c = mps.canonicalize(p)
    cores = c.cores
    A = cores[p]
    nrm2 = float(np.vdot(A, A).real)
    # E[i, i', b, b'] = sum_a A[a, i, b] conj(A[a, i', b'])
    E = np.einsum("aib,ajc->ijbc", A, A.conj()) / nrm2
    odd = (PARITY[:, None] * PARITY[None, :]) < 0  # (i, i') with different parity: odd q-part
    out = {}
    for q in range(p + 1, mps.n_sites):
        B = cores[q]
        if only is None or q == only:
            # rho[i, j, i', j'] = sum E[i,i',b,b'] B[b,j,c] conj(B[b',j',c])  (right part orthonormal)
            rho = np.einsum("ikbc,bjd,cld->ijkl", E, B, B.conj(), optimize=True)
            out[q] = rho.reshape(16, 16)
            if only is not None:
                break
        # propagate through site q: identity transfer for even (i,i'), parity string for odd
        T_even = np.einsum("ikbc,bjd,cjf->ikdf", E, B, B.conj(), optimize=True)
        T_odd = np.einsum("ikbc,bjd,cjf->ikdf", E, B * PARITY[None, :, None], B.conj(), optimize=True)
        E = np.where(odd[:, :, None, None], T_odd, T_even)
    return out


@dataclass(frozen=True, repr=False)
class OrbitalEntanglement:
    """Orbital entanglement of a state (orbital index order, not site order).

    Attributes
    ----------
    single : ndarray, shape (n,)
        Single-orbital entropies s_p (nats).
    mutual_information : ndarray, shape (n, n)
        I_pq = s_p + s_q - s_pq (nats), zero diagonal.
    pair : ndarray, shape (n, n)
        Two-orbital entropies s_pq.
    """

    single: np.ndarray
    mutual_information: np.ndarray
    pair: np.ndarray

    def __repr__(self):
        return (f"OrbitalEntanglement(n={self.single.size}, max s_p={self.single.max():.4f}, "
                f"max I_pq={self.mutual_information.max():.4f}, total s={self.single.sum():.4f})")


def orbital_entanglement(mps: MPS, order=None) -> OrbitalEntanglement:
    """Single-orbital entropies and mutual information from an orbital MPS.

    ``order`` is the orbital order of the MPS sites (site j = orbital order[j]); results are
    returned in orbital index order.
    """
    if not isinstance(mps, MPS) or set(mps.dims) != {4}:
        raise InputError("orbital_entanglement needs an orbital MPS (local dimension 4 on every site), "
                         "e.g. from fci_to_mps")
    n = mps.n_sites
    order = np.arange(n) if order is None else np.asarray(order)
    if sorted(order.tolist()) != list(range(n)):
        raise InputError(f"order must be a permutation of 0..{n - 1}, got {order.tolist()}")
    diag = single_orbital_rdms(mps)
    s_site = np.array([entropy_from_probabilities(np.clip(d, 0, None)) for d in diag])
    pair_site = np.zeros((n, n))
    for p in range(n - 1):
        for q, rho in _two_orbital_rdms_from(mps, p).items():
            rho = 0.5 * (rho + rho.conj().T)
            pair_site[p, q] = pair_site[q, p] = _entropy_of_rdm(rho)
    mi_site = s_site[:, None] + s_site[None, :] - pair_site
    np.fill_diagonal(mi_site, 0.0)
    mi_site = np.maximum(mi_site, 0.0)  # remove roundoff negatives (I >= 0 by subadditivity)
    # back to orbital labels
    s = np.empty(n)
    s[order] = s_site
    mi = np.empty((n, n))
    mi[np.ix_(order, order)] = mi_site
    pair = np.empty((n, n))
    pair[np.ix_(order, order)] = pair_site
    return OrbitalEntanglement(s, mi, pair)


def _popcount(x):
    x = np.asarray(x, dtype=np.int64)
    c = np.zeros_like(x)
    while np.any(x):
        c += x & 1
        x = x >> 1
    return c


def two_orbital_rdm_from_ci(ci, n_orbitals, n_electrons, p, q, _cache=None) -> np.ndarray:
    """Fermionic two-orbital RDM rho_pq (16 x 16, index 4 s_p + s_q, p < q) straight from the CI
    vector (canonical orbital order), exact and without an MPS.

    Each determinant splits into the occupations of p and q and the rest; rho_pq = sum over the
    rest of v v^H with v the amplitudes of the 16 pair states, grouped by the (N_alpha, N_beta)
    carried by p and q, so every block is one small GEMM. Elements whose q-part is fermion-odd
    carry the sign (-1)^(number of electrons between p and q), the Jordan-Wigner string.

    Each block's amplitudes are gathered in one fancy-indexing pass from tables (rest string,
    local occupation) -> string index, built per spin from the ~C(n, N) strings only.
    """
    n = int(n_orbitals)
    na, nb = int(n_electrons[0]), int(n_electrons[1])
    if not 0 <= p < q < n:
        raise InputError(f"need 0 <= p < q < {n}, got p={p}, q={q}")
    if _cache is None:
        _cache = _ci_cache(ci, n, (na, nb))
    psi, sa, sb = _cache
    tab_a = _pair_tables(sa, p, q)
    tab_b = tab_a if sb is sa else _pair_tables(sb, p, q)
    rho = np.zeros((16, 16))
    for parts_a, xa in tab_a:
        for parts_b, xb in tab_b:
            m = len(xa) * len(xb)
            G0 = np.zeros((m, m))  # sum over the rest configurations of v v^T
            G1 = np.zeros((m, m))  # the same with the string sign of each rest configuration
            for ta, sgn_a in parts_a:
                rows = np.take(psi, ta.ravel(), axis=0)  # whole rows: (rest_a, local_a)
                for tb, sgn_b in parts_b:
                    blk = np.take(rows, tb.ravel(), axis=1)  # (rest_a, local_a) x (rest_b, local_b)
                    T2 = blk.reshape(ta.shape[0], len(xa), tb.shape[0], len(xb)).transpose(0, 2, 1, 3).reshape(-1, m)
                    G = T2.T @ T2
                    G0 += G
                    G1 += (sgn_a * sgn_b) * G
            idx, qpar = [], []
            for (up_, uq_) in xa:
                for (dp_, dq_) in xb:
                    idx.append(4 * (up_ + 2 * dp_) + (uq_ + 2 * dq_))
                    qpar.append((uq_ + dq_) % 2)
            qpar = np.array(qpar)
            odd = qpar[:, None] != qpar[None, :]  # the q-part is fermion-odd: the string sign enters
            rho[np.ix_(idx, idx)] = np.where(odd, G1, G0)
    return rho


_PAIR_CONFIGS = ([(0, 0)], [(1, 0), (0, 1)], [(1, 1)])  # (n_p, n_q) of one spin, by count


def _pair_tables(strings, p, q):
    """Index tables of one spin's strings for the orbital pair p < q.

    Returns, per electron count c in {p, q} present, ``(parts, configs)``: ``configs`` the local
    occupations (n_p, n_q) with c electrons, ``parts`` up to two ``(table, sign)``, the rest
    configurations with an even (sign +1) or odd (-1) number of electrons strictly between p and
    q, ``table[r, i]`` the index of the string made of rest configuration r and ``configs[i]``.
    Splitting by the sign lets the signed sums be formed from the same Gram blocks.
    """
    x_p = (strings >> p) & 1
    x_q = (strings >> q) & 1
    rest = strings & ~((1 << p) | (1 << q))
    between = ((1 << q) - 1) & ~((1 << (p + 1)) - 1)
    out = []
    for c, configs in enumerate(_PAIR_CONFIGS):
        rows = np.flatnonzero(x_p + x_q == c)
        if rows.size == 0:
            continue
        keys, inv = np.unique(rest[rows], return_inverse=True)
        col = x_q[rows] if c == 1 else np.zeros(rows.size, dtype=np.int64)  # (1,0) -> 0, (0,1) -> 1
        table = np.empty((keys.size, len(configs)), dtype=np.int64)
        table[inv, col] = rows  # every (rest, local) pair with the right counts is a string
        odd = (_popcount(keys & between) & 1).astype(bool)
        parts = [(table[sel], sgn) for sel, sgn in ((~odd, 1.0), (odd, -1.0)) if sel.any()]
        out.append((parts, configs))
    return out


def _ci_cache(ci, n, nelec):
    """Signed CI in the canonical site order and the (site = orbital) bit strings (one array for
    both spins when N_alpha = N_beta, so their tables are built once)."""
    na, nb = nelec
    psi = np.asarray(ci, dtype=float) * jordan_wigner_signs(n, (na, nb))
    sa = _strings(n, na)
    return psi, sa, (sa if nb == na else _strings(n, nb))


@with_single_blas_thread
def orbital_entanglement_from_ci(ci, n_orbitals, n_electrons) -> OrbitalEntanglement:
    """Single-orbital entropies, two-orbital entropies and mutual information straight from a
    PySCF CI vector (exact; orbital index order). See :func:`two_orbital_rdm_from_ci`.

    The single-orbital probabilities follow from the weights w = |c|^2 / sum |c|^2 as
    <n_pa n_pb> = (O_a^T w O_b)_pp with O the string occupation matrices, <n_pa> and <n_pb> from
    the row and column sums of w (the formulas of :func:`single_orbital_rdms_from_pyscf`).
    """
    ci, n, na, nb, _, _ = _checked_ci(ci, n_orbitals, n_electrons, None)
    cache = _ci_cache(ci, n, (na, nb))
    psi, sa, sb = cache
    nrm2 = float(np.sum(psi**2))
    if nrm2 == 0:
        raise InputError("the CI vector is zero")
    w = psi**2 / nrm2
    oa = _occupations(sa, n).astype(float)
    ob = _occupations(sb, n).astype(float)
    n_a = w.sum(axis=1) @ oa
    n_b = w.sum(axis=0) @ ob
    n_ab = np.einsum("ip,ij,jp->p", oa, w, ob)
    probs = np.column_stack([1 - n_a - n_b + n_ab, n_a - n_ab, n_b - n_ab, n_ab])
    single = np.array([entropy_from_probabilities(np.clip(pr, 0, None)) for pr in probs])
    pair = np.zeros((n, n))
    for p in range(n - 1):
        for q in range(p + 1, n):
            rho = two_orbital_rdm_from_ci(ci, n, (na, nb), p, q, _cache=cache) / nrm2
            pair[p, q] = pair[q, p] = _entropy_of_rdm(0.5 * (rho + rho.T))
    mi = single[:, None] + single[None, :] - pair
    np.fill_diagonal(mi, 0.0)
    np.fill_diagonal(pair, single)
    return OrbitalEntanglement(single, np.maximum(mi, 0.0), pair)


def fiedler_order(mutual_information) -> np.ndarray:
    """Orbital order from the Fiedler vector of the Laplacian of the mutual-information graph
    (Barcza et al., PRA 83 (2011) 012508). Deterministic: the vector's sign is fixed so that its
    first nonzero entry is negative."""
    from physfact.validation import as_array

    I = as_array(mutual_information, "mutual information", ndim=2)
    if I.ndim != 2 or I.shape[0] != I.shape[1]:
        raise InputError(f"mutual information must be a square matrix, got shape {I.shape}")
    W = 0.5 * (I + I.T)
    np.fill_diagonal(W, 0.0)
    Lap = np.diag(W.sum(axis=1)) - W
    w, V = np.linalg.eigh(Lap)
    f = V[:, 1] if I.shape[0] > 1 else V[:, 0]
    nz = np.flatnonzero(np.abs(f) > 1e-12)
    if nz.size and f[nz[0]] > 0:
        f = -f
    return np.argsort(f, kind="stable")


@dataclass(frozen=True, repr=False)
class MoleculeEntanglement:
    """Result of :func:`molecule_mps`.

    Attributes
    ----------
    fci : FCIState
    mps : MPS
        The FCI state in the chosen orbital order (``order``).
    order : ndarray
        Orbital order of the MPS sites.
    orbitals : OrbitalEntanglement
        Single-orbital entropies and mutual information (orbital index order).
    bond_entropies : ndarray
        Von Neumann entropy of each bond of ``mps`` (nats).
    canonical_max_bond, fiedler_max_bond : int
        Largest bond dimension at ``rank_tol`` in the canonical (HF energy) order and in the
        Fiedler order, from the exact bond spectra of the FCI state (independent of ``tol``).
    rank_tol : float
    """

    fci: FCIState
    mps: MPS
    order: np.ndarray
    orbitals: OrbitalEntanglement
    bond_entropies: np.ndarray
    canonical_max_bond: int
    fiedler_max_bond: int
    rank_tol: float

    def __repr__(self):
        return (f"MoleculeEntanglement({self.fci.name}/{self.fci.basis}, orbitals={self.fci.n_orbitals}, "
                f"E_FCI={self.fci.energy:.8f}, max bond at tol {self.rank_tol:g}: canonical "
                f"{self.canonical_max_bond} -> Fiedler {self.fiedler_max_bond})")


def molecule_mps(molecule: str, basis: str = "sto-3g", charge: int = 0, spin: int = 0, rank_tol: float = 1e-5,
                 reorder: bool = True, tol=None) -> MoleculeEntanglement:
    """FCI with PySCF, the state as an orbital MPS, orbital entropies, and the Fiedler ordering.

    Orbital entropies and mutual information come exactly from the CI vector
    (:func:`orbital_entanglement_from_ci`); ``tol`` is the MPS truncation (default 1e-14). With
    ``reorder`` the Fiedler order is compared with the canonical one by their largest bond
    dimension at ``rank_tol``, taken from the exact bond spectra of the FCI state in each order
    (:func:`bond_spectra_from_ci`, or the Fiedler MPS's own sweep when it did not truncate), and
    the returned MPS uses the order with the smaller one (the canonical order on a tie). Only
    that MPS is built, except when the canonical order wins: then the Fiedler MPS was built first.
    """
    state = fci_state(molecule, basis=basis, charge=charge, spin=spin)
    n, ne, ci = state.n_orbitals, state.n_electrons, state.ci
    orb = orbital_entanglement_from_ci(ci, n, ne)
    canon_max = _max_bond(bond_spectra_from_ci(ci, n, ne), rank_tol)
    mps = None
    order, fied_max = np.arange(n), canon_max
    if reorder and n > 2:
        forder = fiedler_order(orb.mutual_information)
        fmps = fci_to_mps(ci, n, ne, order=forder, tol=tol)
        exact = sweep_schmidt_values(fmps.singular_values, fmps.ranks, fmps.error_bound) is not None
        fied_max = _max_bond(fmps.singular_values if exact else bond_spectra_from_ci(ci, n, ne, order=forder),
                             rank_tol)
        if fied_max < canon_max:
            mps, order = fmps, forder
    if mps is None:
        mps = fci_to_mps(ci, n, ne, tol=tol)
    return MoleculeEntanglement(state, mps, order, orb, mps.entanglement_entropy(), canon_max, fied_max,
                                float(rank_tol))


def _max_bond(spectra, rank_tol) -> int:
    """Largest bond dimension at relative tolerance ``rank_tol`` (1 for a single site)."""
    return int(rank_profile_of_spectra(spectra, [rank_tol])[0].max()) if len(spectra) else 1
