"""Pivoted Cholesky of the AO electron-repulsion supermatrix, integral columns formed on demand.

The AO supermatrix V[(mu nu), (lam sig)] = (mu nu|lam sig) over pairs mu >= nu (PySCF's ``s2``
packing, npair = nao (nao + 1) / 2) is positive semidefinite, so greedy pivoted Cholesky gives

.. math::

    (\\mu\\nu|\\lambda\\sigma) \\approx \\sum_{Q=1}^{K} L_{Q,\\mu\\nu} L_{Q,\\lambda\\sigma},
    \\qquad \\max_{\\mu\\nu} R_{\\mu\\nu,\\mu\\nu} \\le \\texttt{tol},

where R is the residual; as R is PSD, ``tol`` bounds every AO integral's error (Beebe & Linderberg,
Int. J. Quantum Chem. 12 (1977) 683; Koch, Sanchez de Meras & Pedersen, J. Chem. Phys. 118 (2003)
9481; Aquilante et al., J. Chem. Phys. 127 (2007) 114107). Only the diagonal (mu nu|mu nu) (one
shell quartet (IJ|IJ) per shell pair) and the K chosen columns are computed: each column batch is
``mol.intor("int2e", aosym="s2ij", shls_slice=(0, nbas, 0, nbas, I, I+1, J, J+1))`` for the shell
pairs (I, J) holding the pivots. Memory: the K x npair vectors plus a block of columns -- never the
npair^2 supermatrix. The vectors serve as PySCF density-fitting tensors (``DF._cderi``).
"""
from __future__ import annotations

import ctypes

import numpy as np

from physfact.validation import check_memory


def _pair_shells(mol):
    """ao_loc and, per AO index, its shell."""
    ao_loc = mol.ao_loc_nr()
    shell_of = np.repeat(np.arange(mol.nbas), np.diff(ao_loc))
    return ao_loc, shell_of


def ao_eri_diagonal(mol) -> np.ndarray:
    """(mu nu|mu nu) for mu >= nu in PySCF's s2 order (index mu (mu + 1) / 2 + nu), Hartree.

    One libcint call per shell pair (I >= J) computes the (IJ|IJ) quartet and keeps its diagonal.
    """
    from pyscf.gto.moleintor import libcgto

    ao_loc, _ = _pair_shells(mol)
    nao = int(ao_loc[-1])
    fn = getattr(libcgto, mol._add_suffix("int2e"))
    atm = np.asarray(mol._atm, dtype=np.int32, order="C")
    bas = np.asarray(mol._bas, dtype=np.int32, order="C")
    env = np.asarray(mol._env, dtype=float, order="C")
    null = ctypes.c_void_p()
    args = (atm.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(mol.natm), bas.ctypes.data_as(ctypes.c_void_p),
            ctypes.c_int(mol.nbas), env.ctypes.data_as(ctypes.c_void_p), null, null)
    full = np.zeros((nao, nao))
    shls = (ctypes.c_int * 4)()
    for i in range(mol.nbas):
        i0, i1 = ao_loc[i], ao_loc[i + 1]
        for j in range(i + 1):
            j0, j1 = ao_loc[j], ao_loc[j + 1]
            buf = np.empty((i1 - i0, j1 - j0, i1 - i0, j1 - j0), order="F")
            shls[:] = (i, j, i, j)
            fn(buf.ctypes.data_as(ctypes.c_void_p), null, shls, *args)
            full[i0:i1, j0:j1] = np.einsum("ijij->ij", buf)
    return full[np.tril_indices(nao)]


class AOColumns:
    """``columns(idx) -> (len(idx), npair)``: rows idx of the AO supermatrix (= columns, by symmetry),
    computed one shell pair at a time from libcint through ``mol.intor``."""

    def __init__(self, mol):
        self.mol = mol
        self.ao_loc, self.shell_of = _pair_shells(mol)
        nao = int(self.ao_loc[-1])
        self.mu, self.nu = (a.astype(np.int64) for a in np.tril_indices(nao))
        self.npair = self.mu.size
        self.intor = mol._add_suffix("int2e")

    def __call__(self, idx):
        idx = np.asarray(idx, dtype=np.int64)
        out = np.empty((idx.size, self.npair))
        mu, nu = self.mu[idx], self.nu[idx]
        si, sj = self.shell_of[mu], self.shell_of[nu]
        nbas = self.mol.nbas
        for I, J in sorted(set(zip(si.tolist(), sj.tolist()))):
            cols = self.mol.intor(self.intor, aosym="s2ij", shls_slice=(0, nbas, 0, nbas, I, I + 1, J, J + 1))
            cols = cols.reshape(self.npair, self.ao_loc[I + 1] - self.ao_loc[I], self.ao_loc[J + 1] - self.ao_loc[J])
            here = np.flatnonzero((si == I) & (sj == J))
            out[here] = cols[:, mu[here] - self.ao_loc[I], nu[here] - self.ao_loc[J]].T
        return out


def ao_cholesky(mol, tol: float = 1e-6, block: int = 16, progress=None) -> np.ndarray:
    """Cholesky vectors L (K, npair) of the AO ERI with max residual diagonal <= ``tol`` (Hartree).

    Parameters
    ----------
    mol : pyscf.gto.Mole
    tol : float
        Bound on the largest residual diagonal, hence on every AO integral's error (module docstring).
    block : int
        Columns formed and updated per matrix-matrix product.
    progress : callable, optional
        ``progress(None, total, desc)`` returning a tqdm-like bar.

    Returns
    -------
    ndarray (K, npair)
        In PySCF's s2 pair order: usable as ``mf.with_df._cderi``.
    """
    from physfact.chem.pivoted_cholesky import pivoted_cholesky

    columns = AOColumns(mol)
    # the vectors are at most a few x nao long in practice; refuse if even K = 10 nao does not fit
    check_memory(10 * mol.nao * columns.npair * 8.0, f"AO Cholesky vectors of {mol.nao} functions",
                 "use eri='density_fitting' or a smaller basis")
    diag = ao_eri_diagonal(mol)
    chol = pivoted_cholesky(columns, tol=tol, block=block, diagonal=diag, progress=progress)
    return chol.vectors
