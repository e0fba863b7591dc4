"""Molecular electronic Hamiltonians over spatial orbitals, from PySCF, arrays or FCIDUMP files.

.. math::

    H = E_0 + \\sum_{pq} h_{pq} E_{pq}
        + \\tfrac12 \\sum_{pqrs} (pq|rs) (E_{pq} E_{rs} - \\delta_{qr} E_{ps}),
    \\qquad E_{pq} = \\sum_\\sigma a^\\dagger_{p\\sigma} a_{q\\sigma}

with real orthonormal orbitals, chemist-order integrals ``two_body[p, q, r, s] = (pq|rs)`` and
``one_body[p, q] = h_pq`` (kinetic + nuclear attraction, plus the frozen-core mean field when an
active space is used), all in Hartree. ``constant`` E_0 holds the nuclear repulsion (plus the
frozen-core energy).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from physfact.errors import ConvergenceError, DataFileError, InputError
from physfact.io import atomic_path
from physfact.threads import blas_threads
from physfact.validation import as_array, check_int, check_memory

from physfact.chem.integrals import restore_two_body


@dataclass(frozen=True, eq=False)
class MolecularHamiltonian:
    """A spin-free electronic Hamiltonian (see the module docstring for the equation).

    Parameters
    ----------
    constant : float
        E_0 in Hartree (nuclear repulsion + frozen-core energy).
    one_body : array (N, N)
        h_pq, symmetric.
    two_body : array
        (pq|rs): full (N, N, N, N), the N^2 x N^2 supermatrix, or PySCF packed s4 / s8 (restored
        on construction); the 8-fold symmetry is checked.
    n_electrons : int
        Number of (active) electrons.
    n_orbitals : int, optional
        N; inferred from ``one_body``.
    spin : int
        2S = n_alpha - n_beta (PySCF's convention).
    name, basis, source : str
        Labels (molecule, basis set, how the integrals were made).
    hf_energy : float, optional
        The mean-field energy, when known (Hartree).
    geometry : str
        The PySCF atom string the integrals were computed for (Angstrom), when known.
    """

    constant: float
    one_body: np.ndarray = field(repr=False)
    two_body: np.ndarray = field(repr=False)
    n_electrons: int
    n_orbitals: int | None = None
    spin: int = 0
    name: str = ""
    basis: str = ""
    source: str = "arrays"
    hf_energy: float | None = None
    geometry: str = ""

    def __post_init__(self):
        try:
            c = float(self.constant)
        except (TypeError, ValueError):
            raise InputError(f"constant must be a number (Hartree), got {self.constant!r}") from None
        if not np.isfinite(c):
            raise InputError("constant must be finite")
        h = as_array(self.one_body, "one_body", ndim=2)
        n = h.shape[0]
        if h.shape != (n, n):
            raise InputError(f"one_body must be square, got shape {h.shape}")
        if np.max(np.abs(h - h.T)) > 1e-8 * max(1.0, float(np.max(np.abs(h)))):
            raise InputError("one_body must be symmetric (real orbitals): h_pq = h_qp")
        if self.n_orbitals is not None and check_int(self.n_orbitals, "n_orbitals", 1) != n:
            raise InputError(f"n_orbitals={self.n_orbitals} but one_body is {n} x {n}")
        eri = self._checked_two_body(n)
        ne = check_int(self.n_electrons, "n_electrons", minimum=0, allow_none=False)
        spin = check_int(abs(int(self.spin)) if isinstance(self.spin, (int, np.integer)) else self.spin,
                         "spin", minimum=0, allow_none=False)
        if ne > 2 * n:
            raise InputError(f"{ne} electrons do not fit in {n} spatial orbitals (at most {2 * n})")
        if (ne - spin) % 2 or spin > ne or (ne + spin) // 2 > n:
            raise InputError(f"spin 2S={self.spin} is impossible with {ne} electrons in {n} orbitals "
                             "(need n_electrons - spin even, spin <= n_electrons, n_alpha <= N)")
        object.__setattr__(self, "constant", c)
        object.__setattr__(self, "one_body", np.ascontiguousarray((h + h.T) / 2))
        object.__setattr__(self, "two_body", eri)
        object.__setattr__(self, "n_orbitals", n)
        object.__setattr__(self, "n_electrons", ne)
        object.__setattr__(self, "spin", spin)

    def _checked_two_body(self, n):
        return restore_two_body(self.two_body, n_orbitals=n)

    def __repr__(self):
        label = f"{self.name!r}, " if self.name else ""
        basis = f"basis={self.basis!r}, " if self.basis else ""
        return (f"MolecularHamiltonian({label}{basis}n_orbitals={self.n_orbitals}, n_electrons={self.n_electrons}, "
                f"spin={self.spin}, constant={self.constant:.6f}, source={self.source!r})")

    @property
    def n_alpha(self) -> int:
        return (self.n_electrons + self.spin) // 2

    @property
    def n_beta(self) -> int:
        return (self.n_electrons - self.spin) // 2

    @property
    def n_determinants(self) -> int:
        """Size of the FCI space, C(N, n_alpha) C(N, n_beta)."""
        from math import comb

        return comb(self.n_orbitals, self.n_alpha) * comb(self.n_orbitals, self.n_beta)

    def fci_energy(self) -> float:
        """Full-CI ground-state energy (Hartree) in the (n_alpha, n_beta) sector, via pyscf.fci.direct_spin1.

        Converged to 1e-12 Ha in the energy. Cached on the object.
        """
        return self._fci[0]

    def fci_vector(self) -> np.ndarray:
        """The FCI ground-state vector, shape (C(N, n_alpha), C(N, n_beta)) in PySCF's string order."""
        return self._fci[1]

    @cached_property
    def _fci(self):
        return fci_ground_state(self.one_body, self.two_body, self.n_orbitals, (self.n_alpha, self.n_beta),
                                self.constant)

    def with_integrals(self, one_body=None, two_body=None, constant=None, source=None) -> "MolecularHamiltonian":
        """A copy with some integrals replaced (same electrons, spin and labels)."""
        return MolecularHamiltonian(
            self.constant if constant is None else constant,
            self.one_body if one_body is None else one_body,
            self.two_body if two_body is None else two_body,
            self.n_electrons, self.n_orbitals, self.spin, self.name, self.basis,
            self.source if source is None else source, None, self.geometry)

    def to_fcidump(self, path) -> Path:
        """Write an FCIDUMP file (Knowles & Handy 1989 format, via pyscf.tools.fcidump), atomically."""
        from pyscf import ao2mo
        from pyscf.tools import fcidump

        path = Path(path)
        with atomic_path(path) as tmp:
            fcidump.from_integrals(str(tmp), self.one_body, ao2mo.restore(8, self.two_body, self.n_orbitals),
                                   self.n_orbitals, self.n_electrons, nuc=self.constant, ms=self.spin,
                                   tol=0.0, float_format=" %.17g")
        return path

    def to_openfermion(self):
        """openfermion.InteractionOperator over 2N spin orbitals (index 2p + sigma); see :mod:`physfact.chem.export`."""
        from physfact.chem.export import interaction_operator

        return interaction_operator(self.constant, self.one_body, self.two_body)

    def save(self, path) -> Path:
        """Save the integrals to .npz or .h5 (physfact.io, kind 'molecular_hamiltonian')."""
        from physfact.io import save_arrays

        return save_arrays(path, "molecular_hamiltonian",
                           attrs={"constant": self.constant, "n_electrons": self.n_electrons, "spin": self.spin,
                                  "name": self.name, "basis": self.basis, "geometry": self.geometry},
                           one_body=self.one_body, two_body=self.two_body)


def few_threads(small: bool):
    """Context: one OpenMP (PySCF) and one BLAS thread for small problems, where threads only cost."""
    import contextlib

    from pyscf import lib

    if not small:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(lib.with_omp_threads(1))
    stack.enter_context(blas_threads(1))
    return stack


def fci_ground_state(h1, eri, n_orbitals, nelec, constant=0.0, ci0=None, conv_tol=1e-12):
    """(energy, vector) of the lowest state with the given (n_alpha, n_beta), via pyscf.fci.direct_spin1.

    Spaces below 1e5 determinants run on one OpenMP thread: there the threading overhead dominates
    (and on a loaded machine it costs 10x). ``ci0`` is a start vector (e.g. the exact ground state
    when solving a slightly perturbed Hamiltonian).
    """
    from math import comb

    from pyscf.fci import direct_spin1

    solver = direct_spin1.FCI()
    solver.conv_tol = conv_tol
    solver.max_cycle = 400
    solver.verbose = 0
    ndet = comb(n_orbitals, nelec[0]) * comb(n_orbitals, nelec[1])
    # Davidson holds ~30 vectors of the determinant space (max_space 12 trial vectors, their products
    # with H, the diagonal and work vectors; the same count as tt.molecule.FCI_VECTORS)
    check_memory(30 * 8.0 * ndet, f"FCI of {n_orbitals} orbitals / {sum(nelec)} electrons ({ndet:.3g} determinants)",
                 "use CCSD(T) (energy_method='ccsd(t)' / --energies 'ccsd(t)'), an active space or a smaller basis")
    with few_threads(ndet < 100_000):
        e, ci = solver.kernel(h1, eri, n_orbitals, nelec, ecore=constant, ci0=ci0)
    if not getattr(solver, "converged", True):
        raise ConvergenceError("FCI (pyscf direct_spin1) did not converge in 400 Davidson iterations")
    return float(e), ci


def from_fcidump(path) -> MolecularHamiltonian:
    """Read an FCIDUMP file (pyscf.tools.fcidump) into a :class:`MolecularHamiltonian`.

    Raises DataFileError when the file is missing or not an FCIDUMP; orbital symmetry labels are ignored.
    """
    from pyscf.tools import fcidump

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such FCIDUMP file")
    try:
        data = fcidump.read(str(path), verbose=False)
    except Exception as exc:
        raise DataFileError(f"{path}: not a readable FCIDUMP file ({type(exc).__name__}: {exc})") from None
    norb = int(data["NORB"])
    if norb < 1 or "NELEC" not in data:
        raise DataFileError(f"{path}: the FCIDUMP header needs NORB >= 1 and NELEC (got NORB={norb})")
    check_fcidump_body(path, norb)
    return MolecularHamiltonian(float(data.get("ECORE", 0.0)), data["H1"], data["H2"], int(data["NELEC"]),
                                norb, int(data.get("MS2", 0)), name=path.stem, source="fcidump")


def geometry_string(mol) -> str:
    """The atom string of a PySCF molecule in Angstrom, 'El x y z; ...' (as given, not reoriented)."""
    xyz = mol.atom_coords(unit="Angstrom")
    return "; ".join(f"{mol.atom_symbol(i)} {x:.10f} {y:.10f} {z:.10f}" for i, (x, y, z) in enumerate(xyz))


def check_fcidump_body(path, norb: int) -> dict:
    """Refuse an FCIDUMP whose integral lines are cut short, malformed or out of range.

    Every FCIDUMP writer (Knowles & Handy 1989; Molpro, PySCF) ends the integral list with the core
    energy line ``E_core 0 0 0 0``; a file cut short lacks it (PySCF's reader would silently take
    the missing integrals as zero). Also refused: no two-electron integrals (a header-only file),
    a line without value + 4 indices, an index outside 0..NORB, a non-finite value, more unique
    integrals than the 8-fold symmetry allows, and a blank line inside the list (PySCF's reader stops
    there). Returns the counts read (``two_body``, ``one_body``, ``core``) and the maxima the header
    allows (``two_body_max``, ``one_body_max``).
    """
    import re

    text = Path(path).read_text(errors="replace")
    m = re.search(r"(&END|/)[^\n]*\n?", text, flags=re.IGNORECASE)
    body = text[m.end():].rstrip() if m else ""
    npair = norb * (norb + 1) // 2
    counts = {"two_body_max": npair * (npair + 1) // 2, "one_body_max": npair}
    if not body.strip():
        raise DataFileError(f"{path}: the FCIDUMP has a header but no integrals (NORB={norb} needs up to "
                            f"{counts['two_body_max']} two-electron integrals and the core energy line)")
    blank = re.search(r"(^|\n)[ \t\r]*\n", body)
    if blank:
        line = text[:m.end()].count("\n") + body[:blank.start()].count("\n") + 2
        raise DataFileError(f"{path}: blank line {line} inside the integral list (readers stop there); remove it")
    tokens = body.split()
    if len(tokens) % 5:
        raise DataFileError(f"{path}: the integral list is cut short (a line without 'value i j k l'; "
                            f"{len(tokens)} numbers is not a multiple of 5)")
    table = np.array(tokens, dtype=object).reshape(-1, 5)
    try:
        values = np.array([float(v.replace("D", "E").replace("d", "e")) for v in table[:, 0]])
        idx = table[:, 1:].astype(np.int64)
    except ValueError as exc:
        raise DataFileError(f"{path}: malformed integral line ({exc}); expected 'value i j k l'") from None
    if not np.all(np.isfinite(values)):
        raise DataFileError(f"{path}: {int(np.sum(~np.isfinite(values)))} integrals are NaN or inf")
    if idx.min() < 0 or idx.max() > norb:
        raise DataFileError(f"{path}: orbital index {int(idx.max()) if idx.max() > norb else int(idx.min())} "
                            f"outside 0..NORB={norb}")
    core = np.all(idx == 0, axis=1)
    two = idx[:, 2] != 0
    counts.update(two_body=int(two.sum()), one_body=int(np.sum(~two & (idx[:, 1] != 0))), core=int(core.sum()))
    if not core[-1]:
        raise DataFileError(f"{path}: the FCIDUMP is cut short: it does not end with the core-energy line "
                            f"'E_core 0 0 0 0' (read {counts['two_body']} of up to {counts['two_body_max']} "
                            "two-electron integrals)")
    if counts["two_body"] == 0:
        raise DataFileError(f"{path}: the FCIDUMP holds no two-electron integrals")
    i, j, k, l = idx[two].T
    ij = np.maximum(i, j) * (np.maximum(i, j) - 1) // 2 + np.minimum(i, j)
    kl = np.maximum(k, l) * (np.maximum(k, l) - 1) // 2 + np.minimum(k, l)
    unique = np.unique(np.maximum(ij, kl) * (npair + 1) + np.minimum(ij, kl)).size
    if counts["two_body"] > counts["two_body_max"] and unique < counts["two_body"]:
        raise DataFileError(f"{path}: {counts['two_body']} two-electron integral lines but the 8-fold symmetry "
                            f"allows {counts['two_body_max']} unique ones for NORB={norb}; is NORB right?")
    return counts


def molecular_hamiltonian(molecule, basis: str = "sto-3g", charge: int = 0, spin: int = 0,
                          active_space=None, unit: str = "angstrom", eri: str = "exact", auxbasis=None,
                          eri_tol: float = 1e-6, progress=None, info=None) -> MolecularHamiltonian:
    """Integrals of a molecule in the canonical RHF (spin = 0) or ROHF (spin > 0) orbitals from PySCF.

    Parameters
    ----------
    molecule : str
        A name from ``data/molecules`` (``"H2O"``, case-insensitive; see ``known_molecules()``),
        ``"hchain<n>"``, a path to an .xyz file, or a PySCF atom string ``"H 0 0 0; H 0 0 0.74"``
        (Angstrom unless ``unit="bohr"``).
    basis : str
        Any PySCF basis name.
    charge, spin : int
        Total charge and 2S = n_alpha - n_beta.
    active_space : (int, int), optional
        (n_active_electrons, n_active_orbitals): frozen core and virtuals via pyscf.mcscf.CASCI
        (the core's mean field goes into ``one_body`` and its energy into ``constant``); the
        active orbitals are those around the Fermi level.
    eri : {"exact", "density_fitting", "cholesky"}
        ``"exact"``: the four-index MO integrals (``pyscf.ao2mo``, N^4 numbers). The other two
        return a :class:`~physfact.chem.three_index.ThreeIndexHamiltonian` holding three-index
        factors (pq|rs) ~= sum_Q B_Qpq B_Qrs and never an N^4 array: density fitting in ``auxbasis``
        (PySCF's default when None; the fitted integrals then compressed by pivoted Cholesky to
        ``eri_tol``, 0 = not compressed), or pivoted Cholesky of the AO integrals to ``eri_tol``
        (Hartree, bound on every AO integral's error); the SCF uses the same factors.
    progress, info : callable, optional
        ``progress(iterable, total, desc)`` bar wrapper and ``info(message)`` for the long steps.

    Raises
    ------
    UnknownNameError
        Unknown molecule name (the message lists the known ones).
    InputError
        Bad basis, charge/spin combination or active space.
    ConvergenceError
        The SCF did not converge (also after second-order SCF).
    """
    from physfact.chem.molecules import check_molecule, molecule_label, resolve_geometry

    if eri not in ("exact", "density_fitting", "cholesky"):
        raise InputError(f"eri must be 'exact', 'density_fitting' or 'cholesky', got {eri!r}")
    if eri != "exact":
        try:
            eri_tol = float(eri_tol)
        except (TypeError, ValueError):
            raise InputError(f"eri_tol must be a number of Hartree, got {eri_tol!r}") from None
        if not np.isfinite(eri_tol) or eri_tol < 0 or (eri == "cholesky" and eri_tol == 0):
            raise InputError(f"eri_tol must be a positive number of Hartree (0 allowed for density fitting: "
                             f"no compression), got {eri_tol!r}")
    atoms, label = resolve_geometry(molecule)
    charge, spin = check_molecule(atoms, label, charge, spin, unit)
    from pyscf import ao2mo, gto, scf

    try:
        mol = gto.M(atom=atoms, basis=basis, charge=int(charge), spin=int(spin), unit=unit, verbose=0)
    except (RuntimeError, KeyError, ValueError, AssertionError) as exc:
        detail = " ".join(str(exc).split())  # PySCF's messages span lines; the CLI prints one
        raise InputError(f"PySCF could not build {label} in basis {basis!r} with charge {charge}, spin {spin}: "
                         f"{detail}") from None
    name = molecule_label(molecule, unit)
    if eri != "exact":
        from physfact.chem.three_index import three_index_hamiltonian

        return three_index_hamiltonian(mol, name, eri, int(spin), _active_space(active_space, mol, spin, label,
                                                                                 basis, mol.nao),
                                       auxbasis=auxbasis, eri_tol=eri_tol, progress=progress, info=info)
    # the four-index integrals: (pq|rs) in the AO basis, the MO transform and the full array
    check_memory(3 * 8.0 * mol.nao**4, f"the (pq|rs) integrals of {label}/{basis} ({mol.nao} orbitals)",
                 "use a smaller basis or molecule, or eri='cholesky' / 'density_fitting' (three-index factors)")
    mf = converged_scf(scf.RHF(mol) if spin == 0 else scf.ROHF(mol), f"{label}/{basis}")
    n = mf.mo_coeff.shape[1]
    if active_space is None:
        C = mf.mo_coeff
        h1 = C.T @ mf.get_hcore() @ C
        eri = ao2mo.restore(1, ao2mo.kernel(mol, C), n)
        return MolecularHamiltonian(float(mol.energy_nuc()), h1, eri, int(mol.nelectron), n, int(spin),
                                    name=name, basis=str(basis), source="pyscf RHF" if spin == 0 else "pyscf ROHF",
                                    hf_energy=float(mf.e_tot), geometry=geometry_string(mol))
    ne, no = _active_space(active_space, mol, spin, label, basis, n)
    from pyscf import mcscf

    cas = mcscf.CASCI(mf, no, ((ne + spin) // 2, (ne - spin) // 2))
    h1, ecore = cas.get_h1eff()
    eri = ao2mo.restore(1, cas.get_h2eff(), no)
    return MolecularHamiltonian(float(ecore), h1, eri, ne, no, int(spin), name=name, basis=str(basis),
                                source=f"pyscf {'RHF' if spin == 0 else 'ROHF'} CAS({ne},{no})",
                                hf_energy=float(mf.e_tot), geometry=geometry_string(mol))


def converged_scf(mf, what: str):
    """Run a PySCF mean field to 1e-11 Ha, falling back to second-order SCF; ConvergenceError if both fail.

    The orbitals are then fixed in sign and, in degenerate shells, in rotation (which the SCF leaves to
    rounding), so that counts and errors downstream do not change with the BLAS thread count.
    """
    from physfact.chem.degenerate import canonical_eigenvectors

    mf.conv_tol = 1e-11
    try:
        mf.kernel()
    except np.linalg.LinAlgError as exc:
        raise InputError(f"the SCF of {what} failed ({exc}): the basis is numerically linearly "
                         "dependent (atoms too close?)") from None
    if not mf.converged:
        mf = mf.newton()
        mf.kernel()
        if not mf.converged:
            raise ConvergenceError(f"SCF for {what} did not converge (also with second-order SCF)",
                                   history=[float(mf.e_tot)])
    mf.mo_coeff = canonical_eigenvectors(mf.mo_energy, mf.mo_coeff, split=mf.mo_occ)
    return mf


def _active_space(active_space, mol, spin, label, basis, n):
    """(n_electrons, n_orbitals) of a valid active space, or None; InputError otherwise."""
    if active_space is None:
        return None
    try:
        ne, no = (int(v) for v in active_space)
    except (TypeError, ValueError):
        raise InputError(f"active_space must be (n_electrons, n_orbitals), got {active_space!r}") from None
    if ne < spin or (ne - spin) % 2 or ne > mol.nelectron or (mol.nelectron - ne) % 2 or no < 1 or no > n \
            or (mol.nelectron - ne) // 2 + no > n or (ne + spin) // 2 > no:
        raise InputError(f"active_space ({ne}, {no}) does not fit {label}/{basis}: {mol.nelectron} electrons, "
                         f"{n} orbitals, spin {spin}; the core must hold an even number of electrons")
    return ne, no
