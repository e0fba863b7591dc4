"""Two-electron integral arrays: reading (full, packed s4/s8, supermatrix), symmetry checks, contractions.

Index convention (chemist, real spatial orbitals)::

    two_body[p, q, r, s] = (pq|rs) = \\int phi_p(1) phi_q(1) r12^-1 phi_r(2) phi_s(2)

Real orbitals give the 8-fold symmetry (pq|rs) = (qp|rs) = (pq|sr) = (rs|pq). PySCF stores these
"packed": ``s4`` as an (npair, npair) array over the pairs p >= q (npair = N(N+1)/2), ``s8`` as the
lower triangle of that matrix, a 1-D array of npair(npair+1)/2 entries (Sun et al., PySCF,
WIREs Comput. Mol. Sci. 8 (2018) e1340).
"""
from __future__ import annotations

import numpy as np

from physfact.errors import InputError
from physfact.validation import as_array

#: relative tolerance of the 8-fold symmetry check (relative to max |(pq|rs)|)
SYMMETRY_RTOL = 1e-8


def _npair_to_n(npair: int) -> int | None:
    n = int(round((np.sqrt(8 * npair + 1) - 1) / 2))
    return n if n * (n + 1) // 2 == npair else None


def restore_two_body(two_body, n_orbitals: int | None = None, check: bool = True) -> np.ndarray:
    """Return the full (N, N, N, N) chemist-order ERI from a full, packed or supermatrix array.

    Parameters
    ----------
    two_body : array_like
        One of: (N, N, N, N) full; (N^2, N^2) supermatrix V[(pq), (rs)]; (npair, npair) PySCF
        ``s4``; 1-D PySCF ``s8`` of length npair(npair+1)/2, with npair = N(N+1)/2.
    n_orbitals : int, optional
        N, checked against the shape when given.
    check : bool
        Verify the 8-fold symmetry (:func:`check_symmetry`).

    Raises
    ------
    InputError
        Shape not one of the above, complex or non-finite entries, or broken 8-fold symmetry.
    """
    eri = as_array(two_body, "two_body", ndim=(1, 2, 4))
    if eri.ndim == 4:
        n = eri.shape[0]
        if eri.shape != (n,) * 4:
            raise InputError(f"two_body must have shape (N, N, N, N), got {eri.shape}")
        full = eri
    elif eri.ndim == 2:
        if eri.shape[0] != eri.shape[1]:
            raise InputError(f"a 2-D two_body must be square (N^2 x N^2 supermatrix or PySCF s4), got {eri.shape}")
        m = eri.shape[0]
        n_sq = int(round(np.sqrt(m)))
        n_pair = _npair_to_n(m)
        if n_orbitals is not None and n_sq == n_orbitals and n_sq * n_sq == m:
            full = eri.reshape(n_sq, n_sq, n_sq, n_sq)
        elif n_pair is not None and (n_orbitals is None or n_pair == n_orbitals) and m > 1:
            from pyscf import ao2mo

            full = ao2mo.restore(1, eri, n_pair)
        elif n_sq * n_sq == m:
            full = eri.reshape(n_sq, n_sq, n_sq, n_sq)
        else:
            raise InputError(f"a 2-D two_body of size {m} is neither an N^2 x N^2 supermatrix nor a PySCF s4 "
                             "array (npair x npair, npair = N(N+1)/2)")
    else:
        npp = eri.size
        npair = _npair_to_n(npp)
        n = _npair_to_n(npair) if npair is not None else None
        if n is None:
            raise InputError(f"a 1-D two_body must be PySCF's s8 packing with npair(npair+1)/2 entries, "
                             f"npair = N(N+1)/2; {npp} entries fit no N")
        from pyscf import ao2mo

        full = ao2mo.restore(1, eri, n)
    full = np.ascontiguousarray(full, dtype=float)
    if n_orbitals is not None and full.shape[0] != n_orbitals:
        raise InputError(f"two_body is over {full.shape[0]} orbitals but one_body over {n_orbitals}")
    if check:
        check_symmetry(full)
    return full


def check_symmetry(eri: np.ndarray, rtol: float = SYMMETRY_RTOL) -> float:
    """Check the 8-fold symmetry of a real chemist-order ERI; return the largest violation.

    Two checks suffice: (pq|rs) = (qp|rs) and (pq|rs) = (rs|pq) imply (pq|rs) = (pq|sr). They run
    one orbital slice or one 256 x 256 tile of the supermatrix at a time (no N^4 temporaries).

    Raises
    ------
    InputError
        If a symmetry fails by more than ``rtol * max|(pq|rs)|``; the message names the broken
        symmetry (a physicist-order <pq|rs> array breaks (pq|rs) = (qp|rs) -- convert with
        eri.transpose(0, 2, 1, 3) -- and complex orbitals break it too).
    """
    n = eri.shape[0]
    rows = eri.reshape(n, n, n * n)
    dev_pair, dev_super = 0.0, 0.0
    # (pq|rs) = (qp|rs): rows (p, q > p) against rows (q, p) -- contiguous n^2-long rows
    for p in range(n - 1):
        dev_pair = max(dev_pair, float(np.max(np.abs(rows[p, p + 1:] - rows[p + 1:, p]))))
    # (pq|rs) = (rs|pq): V = V^T, compared in square tiles so each transpose stays in cache
    # (a transpose of whole row blocks strides through memory and dominated the DF's run time)
    V = eri.reshape(n * n, n * n)
    tile = 256
    for i in range(0, n * n, tile):
        for j in range(i, n * n, tile):
            dev_super = max(dev_super, float(np.max(np.abs(V[i:i + tile, j:j + tile] - V[j:j + tile, i:i + tile].T))))
    # The threshold is relative to max|(pq|rs)|. A valid ERI attains it on the supermatrix diagonal
    # (Cauchy-Schwarz: |(pq|rs)| <= sqrt((pq|pq)(rs|rs))), which costs O(N^2) instead of two passes
    # over N^4 numbers; the full maximum is only computed when that lower bound would reject.
    scale = max(float(np.max(np.abs(np.diagonal(V)))), 1e-300)
    if max(dev_pair, dev_super) > rtol * scale:
        scale = max(float(eri.max()), -float(eri.min()), 1e-300)  # no |eri| temporary
    for name, dev, hint in (
            ("(pq|rs) = (qp|rs)", dev_pair,
             " Is it in physicist order <pq|rs>? Chemist order is eri.transpose(0, 2, 1, 3) of it; from"
             " OpenFermion's MolecularData.two_body_integrals ((ps|qr) layout) it is .transpose(0, 3, 1, 2)."),
            ("(pq|rs) = (rs|pq)", dev_super, "")):
        if dev > rtol * scale:
            raise InputError(f"two_body breaks the 8-fold symmetry {name} by {dev:.3e} (max |(pq|rs)| = {scale:.3e});"
                             f" real-orbital chemist-order integrals are required.{hint}"
                             " If the deviation is numerical noise, average it away with symmetrize_two_body().")
    return max(dev_pair, dev_super)


def symmetrize_two_body(eri) -> np.ndarray:
    """Average a 4-index array over the 8 index permutations of real chemist-order integrals."""
    eri = as_array(eri, "two_body", ndim=4)
    s = eri + eri.transpose(1, 0, 2, 3)
    s = s + s.transpose(0, 1, 3, 2)
    s = s + s.transpose(2, 3, 0, 1)
    return s / 8.0


def exchange_contraction(eri: np.ndarray) -> np.ndarray:
    """K_pq = sum_r (pr|rq): the one-body term from normal ordering, E_pr E_rq = sum... (see docs)."""
    return np.einsum("prrq->pq", eri)


def coulomb_contraction(eri: np.ndarray) -> np.ndarray:
    """J_pq = sum_r (pq|rr)."""
    return np.einsum("pqrr->pq", eri)
