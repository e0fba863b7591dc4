"""Molecular Hamiltonians held as three-index factors of the two-electron integrals, never as N^4.

.. math::

    (pq|rs) \\approx \\sum_{Q=1}^{N_\\mathrm{aux}} B_{Qpq} B_{Qrs},
    \\qquad B_{Qpq} = \\sum_{\\mu\\nu} C_{\\mu p} L_{Q,\\mu\\nu} C_{\\nu q},

chemist order, real orbitals C (the RHF/ROHF orbitals of the same integrals). Two routes give the
AO factors L:

``eri="density_fitting"``
    Robust density fitting, L = J^{-1/2} (Q|mu nu) in PySCF's auxiliary basis (``auxbasis``, default
    PySCF's choice, e.g. cc-pVDZ-JKFIT): ``pyscf.df`` (Whitten 1973; Dunlap 1979; Weigend 2002). The
    SCF is DF-RHF with the same factors. The representation error is that of the auxiliary basis.
    The fitted integrals L^T L are then compressed by pivoted Cholesky to ``eri_tol`` (each fitted
    AO integral moves by at most ``eri_tol``; typically a third of the N_aux factors remain), so the
    MO transform and the double factorization run on fewer factors; ``eri_tol=0`` keeps them all.
``eri="cholesky"``
    Pivoted Cholesky of the AO ERI to max residual diagonal ``eri_tol`` (:mod:`physfact.chem.ao_eri_cholesky`,
    Beebe & Linderberg 1977; Koch et al. 2003): every AO integral within ``eri_tol``; the SCF uses the
    Cholesky vectors as its density-fitting tensor.

Frozen core: the core Coulomb and exchange matrices come from the same factors, J_core + K_core
built by ``DF.get_jk`` with the core density; they go into ``one_body`` and the core energy into
``constant`` (as in pyscf.mcscf.CASCI). Memory O(N_aux N^2): the AO factors and B, never together
with an N^4 array; the four-index ``two_body`` is formed only on request (small N).
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from physfact.errors import ConvergenceError, InputError
from physfact.validation import as_array, check_memory

from physfact.chem.hamiltonian import MolecularHamiltonian, converged_scf

ERI_ROUTES = ("exact", "density_fitting", "cholesky")


@dataclass(frozen=True, eq=False)
class ThreeIndexHamiltonian(MolecularHamiltonian):
    """A :class:`MolecularHamiltonian` whose (pq|rs) = sum_Q B_Qpq B_Qrs (module docstring).

    Build with ``two_body=None`` and ``three_index=B``. ``two_body`` is formed from B on first
    access (N^4 numbers: refused by :func:`physfact.validation.check_memory` when it does not fit),
    so ``fci_energy()``, ``to_fcidump`` and ``to_openfermion`` work for small N as before.

    Attributes
    ----------
    three_index : ndarray (N_aux, N, N)
        B_Qpq, symmetric in p, q (Hartree^(1/2)).
    eri_method : str
        ``"density_fitting"``, ``"cholesky"`` or ``"factors"`` (given arrays).
    eri_tol : float or None
        The Cholesky tolerance (Hartree) when ``eri_method="cholesky"``.
    auxbasis : str
        The auxiliary basis of density fitting.
    mo_coeff : ndarray (nao, N) or None
        The (active) orbitals in the AO basis, for the exact integrals in checks.
    mol : pyscf.gto.Mole or None
        The molecule, for the exact integrals (:meth:`exact_two_body`).
    """

    three_index: np.ndarray | None = field(default=None, repr=False)
    eri_method: str = "factors"
    eri_tol: float | None = None
    auxbasis: str = ""
    mo_coeff: np.ndarray | None = field(default=None, repr=False)
    mol: object = field(default=None, repr=False)

    def __post_init__(self):
        if np.ndim(self.three_index) == 3 and np.size(self.three_index) == 0:  # no factors: zero ERI (L = 0)
            B = np.zeros(np.shape(self.three_index))
        else:
            B = as_array(self.three_index, "three_index", ndim=3)
        n = np.shape(self.one_body)[0] if np.ndim(self.one_body) == 2 else -1
        if B.shape[1:] != (n, n):
            raise InputError(f"three_index must have shape (N_aux, N, N) with N = {n} (one_body), got {B.shape}")
        scale, dev = 1e-300, 0.0
        for q in range(0, B.shape[0], 64):  # in chunks: no temporary the size of B
            chunk = B[q:q + 64]
            scale = max(scale, float(chunk.max()), -float(chunk.min()))
            dev = max(dev, float(np.max(np.abs(chunk - chunk.transpose(0, 2, 1)))))
        if dev > 1e-8 * scale:
            raise InputError("three_index must be symmetric in its orbital indices, B[Q, p, q] = B[Q, q, p] "
                             "(real orbitals)")
        object.__setattr__(self, "three_index", np.ascontiguousarray(B))
        super().__post_init__()
        self.__dict__.pop("two_body", None)  # the lazy property below forms it on demand

    def _checked_two_body(self, n):
        return None

    def __repr__(self):
        return super().__repr__()[:-1] + f", eri={self.eri_method!r}, n_aux={self.n_aux})"

    @property
    def n_aux(self) -> int:
        """N_aux, the number of three-index factors."""
        return int(self.three_index.shape[0])

    @cached_property
    def two_body(self) -> np.ndarray:
        """(pq|rs) = sum_Q B_Qpq B_Qrs as an (N, N, N, N) array (N^4 numbers; small N only)."""
        n = self.n_orbitals
        check_memory(8.0 * n**4, f"the four-index ERI of {n} orbitals",
                     "the three-index factors (.three_index) hold the same integrals")
        flat = self.three_index.reshape(self.n_aux, n * n)
        return (flat.T @ flat).reshape(n, n, n, n)

    def exchange(self) -> np.ndarray:
        """K_pq = sum_r (pr|rq) = sum_{Q r} B_Qrp B_Qrq (one GEMM, no copy of B)."""
        rows = self.three_index.reshape(self.n_aux * self.n_orbitals, self.n_orbitals)
        return rows.T @ rows

    def coulomb(self) -> np.ndarray:
        """J_pq = sum_r (pq|rr) = sum_Q B_Qpq tr(B_Q)."""
        tr = np.einsum("Qrr->Q", self.three_index)
        return np.tensordot(tr, self.three_index, axes=(0, 0))

    def eri_rows(self, start: int, stop: int) -> np.ndarray:
        """Supermatrix rows V[(pq), :] for pair indices start <= p N + q < stop, shape (stop - start, N^2)."""
        flat = self.three_index.reshape(self.n_aux, -1)
        return flat[:, start:stop].T @ flat

    def exact_two_body(self) -> np.ndarray:
        """The exact (pq|rs) of :attr:`mol` in :attr:`mo_coeff` (``pyscf.ao2mo``; N^4 numbers)."""
        if self.mol is None or self.mo_coeff is None:
            raise InputError("this Hamiltonian does not carry its molecule and orbitals; the exact ERI is unknown")
        from pyscf import ao2mo

        n = self.n_orbitals
        check_memory(8.0 * n**4 + 8.0 * self.mol.nao**4 / 8, f"the exact four-index ERI of {n} orbitals",
                     "compare a smaller active space")
        return ao2mo.restore(1, ao2mo.kernel(self.mol, self.mo_coeff), n)

    def representation_error(self) -> dict:
        """``max_abs`` and ``frobenius`` of sum_Q B B - exact (pq|rs) (Hartree); forms two N^4 arrays."""
        diff = self.two_body - self.exact_two_body()
        return {"max_abs": float(np.max(np.abs(diff))), "frobenius": float(np.linalg.norm(diff.ravel()))}

    def with_integrals(self, one_body=None, two_body=None, constant=None, source=None) -> MolecularHamiltonian:
        """A copy with some integrals replaced: three-index when ``two_body`` is None, else four-index."""
        if two_body is not None:
            return MolecularHamiltonian(self.constant if constant is None else constant,
                                        self.one_body if one_body is None else one_body, two_body,
                                        self.n_electrons, self.n_orbitals, self.spin, self.name, self.basis,
                                        self.source if source is None else source, None)
        return self.with_factors(self.three_index, one_body, constant, source)

    def with_factors(self, three_index, one_body=None, constant=None, source=None) -> "ThreeIndexHamiltonian":
        """A copy with other three-index factors (e.g. the leaves of a truncated double factorization)."""
        return ThreeIndexHamiltonian(self.constant if constant is None else constant,
                                     self.one_body if one_body is None else one_body, None, self.n_electrons,
                                     self.n_orbitals, self.spin, self.name, self.basis,
                                     self.source if source is None else source, None, three_index=three_index,
                                     eri_method="factors")

    def save(self, path):
        """Save one_body and the three-index factors to .npz or .h5 (kind 'three_index_hamiltonian')."""
        from physfact.io import save_arrays

        return save_arrays(path, "three_index_hamiltonian",
                           attrs={"constant": self.constant, "n_electrons": self.n_electrons, "spin": self.spin,
                                  "name": self.name, "basis": self.basis, "eri_method": self.eri_method},
                           one_body=self.one_body, three_index=self.three_index)


def load_three_index_hamiltonian(path) -> ThreeIndexHamiltonian:
    """Read a Hamiltonian saved by :meth:`ThreeIndexHamiltonian.save` (.npz or .h5)."""
    from pathlib import Path

    from physfact.io import load_raw

    raw = load_raw(path, kind="three_index_hamiltonian")
    arrays, attrs = raw.arrays, raw.attrs
    missing = [k for k in ("one_body", "three_index") if k not in arrays] + [
        k for k in ("constant", "n_electrons", "spin", "name", "basis", "eri_method") if k not in attrs]
    if missing:
        from physfact.errors import DataFileError

        raise DataFileError(f"{path}: not a complete three-index Hamiltonian: missing {', '.join(missing)}")
    return ThreeIndexHamiltonian(float(attrs["constant"]), arrays["one_body"], None, int(attrs["n_electrons"]),
                                 spin=int(attrs["spin"]), name=str(attrs["name"]), basis=str(attrs["basis"]),
                                 source=f"file {Path(path).name}", three_index=arrays["three_index"],
                                 eri_method=str(attrs["eri_method"]))


def _compressed_df(with_df, tol, progress, say):
    """A copy of ``with_df`` whose factors are the pivoted Cholesky (to ``tol``) of its fitted AO integrals.

    The fitted supermatrix V = L^T L (L: N_aux x npair) has a numerical rank well below N_aux; its
    pivoted Cholesky, rows L[:, idx]^T L formed on the fly, keeps K <= N_aux vectors with every fitted
    integral within ``tol``: the MO transform and the double factorization then run on K factors.
    """
    from physfact.chem.pivoted_cholesky import pivoted_cholesky

    L = with_df._cderi
    say(f"compressing {L.shape[0]} density-fitting factors by pivoted Cholesky to {tol:g} Ha")
    chol = pivoted_cholesky(lambda idx: L[:, idx].T @ L, tol=tol, max_rank=L.shape[0],
                            diagonal=np.einsum("Qi,Qi->i", L, L), progress=progress)
    out = copy.copy(with_df)
    out._cderi = chol.vectors
    return out


def _mo_factors(with_df, C, n_aux_hint, progress=None):
    """B (N_aux, N, N) from the AO factors of ``with_df`` (s2 packed), one block of Q at a time."""
    from pyscf.ao2mo import _ao2mo

    n = C.shape[1]
    check_memory(8.0 * n_aux_hint * n * n, f"three-index factors ({n_aux_hint} x {n} x {n})",
                 "use a smaller active space or basis")
    B = np.empty((n_aux_hint, n, n))
    C = np.asarray(C, order="F")
    q = 0
    blocks = with_df.loop(blksize=max(1, min(n_aux_hint, int(2e8 // (8 * max(n * n, 1))) or 1)))
    if progress is not None:
        blocks = progress(blocks, total=None, desc="MO transform")
    for Lpq in blocks:
        nb = Lpq.shape[0]
        B[q:q + nb] = _ao2mo.nr_e2(Lpq, C, (0, n, 0, n), aosym="s2", mosym="s1").reshape(nb, n, n)
        q += nb
    if q != n_aux_hint:
        raise InputError(f"density-fitting tensor has {q} rows, expected {n_aux_hint}")
    return B


def three_index_hamiltonian(mol, label: str, eri: str, spin: int = 0, active_space=None, auxbasis=None,
                            eri_tol: float = 1e-6, progress=None, info=None) -> ThreeIndexHamiltonian:
    """The three-index Hamiltonian of a built PySCF molecule (see :func:`molecular_hamiltonian`).

    ``progress(iterable, total, desc)`` wraps the long loops (Cholesky, MO transform); ``info(msg)``
    reports the steps.
    """
    from pyscf import scf

    say = info or (lambda msg: None)
    mf = scf.RHF(mol) if spin == 0 else scf.ROHF(mol)
    if eri == "cholesky":
        from physfact.chem.ao_eri_cholesky import ao_cholesky

        say(f"AO Cholesky of {mol.nao} functions to {eri_tol:g} Ha")
        L = ao_cholesky(mol, tol=eri_tol, progress=progress)
        mf = mf.density_fit()
        mf.with_df._cderi = L
        aux = ""
        del L
    elif eri == "density_fitting":
        mf = mf.density_fit(auxbasis=auxbasis)
        say("density-fitting integrals")
        try:
            mf.with_df.build()
        except (KeyError, RuntimeError, ValueError) as exc:
            raise InputError(f"PySCF could not build the auxiliary basis {auxbasis!r}: {exc}") from None
        aux = str(mf.with_df.auxbasis)
    else:
        raise InputError(f"eri must be one of {ERI_ROUTES}, got {eri!r}")
    say(f"SCF ({'DF' if eri == 'density_fitting' else 'Cholesky'}-{'RHF' if spin == 0 else 'ROHF'})")
    mf = converged_scf(mf, label)
    C = mf.mo_coeff
    hcore = mf.get_hcore()
    constant = float(mol.energy_nuc())
    ne = int(mol.nelectron)
    if active_space is not None:
        ne, no = active_space
        ncore = (mol.nelectron - ne) // 2
        Cc, C = C[:, :ncore], C[:, ncore:ncore + no]
        if ncore:
            dm_core = 2.0 * Cc @ Cc.T
            vj, vk = mf.with_df.get_jk(dm_core, hermi=1)
            vhf = vj - 0.5 * vk
            constant += float(np.einsum("ij,ji->", dm_core, hcore + 0.5 * vhf))
            hcore = hcore + vhf
    h1 = C.T @ hcore @ C
    with_df = mf.with_df
    if eri == "density_fitting" and eri_tol and isinstance(with_df._cderi, np.ndarray):
        with_df = _compressed_df(with_df, eri_tol, progress, say)
        mf.with_df._cderi = None  # the uncompressed factors are no longer needed: free them before B
    say(f"MO transform of {with_df.get_naoaux()} three-index factors to {C.shape[1]} orbitals")
    B = _mo_factors(with_df, C, with_df.get_naoaux(), progress)
    e_hf = float(mf.e_tot)
    del mf, with_df  # the AO factors: only B stays
    kind = "RHF" if spin == 0 else "ROHF"
    what = f"DF (compressed {eri_tol:g})" if eri == "density_fitting" and eri_tol else (
        "DF" if eri == "density_fitting" else f"Cholesky {eri_tol:g}")
    source = f"pyscf {what}-{kind}" + (f" CAS({ne},{C.shape[1]})" if active_space is not None else "")
    return ThreeIndexHamiltonian(constant, h1, None, ne, C.shape[1], int(spin), name=label, basis=str(mol.basis),
                                 source=source, hf_energy=e_hf, three_index=B, eri_method=eri,
                                 eri_tol=eri_tol or None, auxbasis=aux,
                                 mo_coeff=np.ascontiguousarray(C), mol=mol)


def df_ccsd_t_energy(ham: ThreeIndexHamiltonian) -> float:
    """RHF + CCSD(T) total energy (Hartree) from three-index integrals, via PySCF's DF-CCSD.

    The orbitals of ``ham`` are orthonormal; the SCF starts from the lowest n/2 occupied. Closed shells.
    """
    if ham.spin != 0 or ham.n_electrons % 2:
        raise InputError("CCSD(T) energies here are closed-shell (RHF) only; use energy_method='fci'")
    from pyscf import cc, gto, lib, scf

    n = ham.n_orbitals
    mol = gto.M(verbose=0)
    mol.nelectron = int(ham.n_electrons)
    mol.nao_nr = lambda *a: n
    mf = scf.RHF(mol).density_fit()
    mf.with_df._cderi = lib.pack_tril(ham.three_index)
    mf.get_hcore = lambda *a: ham.one_body
    mf.get_ovlp = lambda *a: np.eye(n)
    mf.energy_nuc = lambda *a: ham.constant
    mf.conv_tol = 1e-10
    dm0 = np.zeros((n, n))
    dm0[np.arange(ham.n_electrons // 2), np.arange(ham.n_electrons // 2)] = 2.0
    from physfact.chem.hamiltonian import few_threads

    with warnings.catch_warnings(), few_threads(n < 40):  # PySCF warns: the patched nao_nr is not JSON-able
        warnings.simplefilter("ignore", UserWarning)
        mf.kernel(dm0)
        if not mf.converged:
            raise ConvergenceError("RHF of the three-index Hamiltonian did not converge", history=[float(mf.e_tot)])
        mycc = cc.CCSD(mf)  # a DF mean field gives PySCF's DF-CCSD (three-index ERIs throughout)
        mycc.conv_tol = 1e-9
        mycc.kernel()
        if not mycc.converged:
            raise ConvergenceError("DF-CCSD did not converge", history=[float(mycc.e_corr)])
        return float(mf.e_tot + mycc.e_corr + mycc.ccsd_t())
