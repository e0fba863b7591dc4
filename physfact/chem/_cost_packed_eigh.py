r"""Eigendecomposition of the ERI supermatrix on symmetric orbital pairs (4x smaller, ~8x faster).

For real orbitals (pq|rs) = (qp|rs) = (pq|sr), so the n^2 x n^2 supermatrix V lives on the
n(n+1)/2-dimensional subspace of symmetric pair vectors; its antisymmetric complement is exactly
its null space. With the isometry :math:`\Phi: \mathbb{R}^{n(n+1)/2} \to \mathbb{R}^{n^2}`,
:math:`(\Phi x)_{pq} = (\Phi x)_{qp} = x_{P} / w_P` for the pair P = (p <= q), :math:`w_P = 1`
on the diagonal and :math:`\sqrt2` off it,

.. math::
    V = \Phi V' \Phi^T, \qquad V'_{PQ} = w_P w_Q\,(pq|rs),

so the non-zero eigenpairs of V are those of the packed V' with eigenvectors :math:`\Phi v'`. The
eigh is then on an n(n+1)/2 matrix instead of n^2 (FeMoco, n = 54: 1485 vs 2916). Measured
single-threaded: 0.74 s CPU for FeMoco (full eigh 5-10 s), 1.3 s at n = 60 (full 10.7 s).
This is the first level of the DF as OpenFermion's ``resource_estimates.df`` and
:func:`physfact.chem.double_factorize` (``method="eigh"``) compute it; meant to move into
``physfact.chem.double_factorization`` (a kernel for chem-core, kept here by file ownership).
"""
from __future__ import annotations

import numpy as np

from physfact.errors import InputError

__all__ = ["packed_pair_eigh"]


def packed_pair_eigh(two_body) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of the (pq),(rs) supermatrix of a real 8-fold symmetric ERI, descending.

    Parameters
    ----------
    two_body : (n, n, n, n) array
        (pq|rs), chemist order, symmetric under p<->q and r<->s (not checked here beyond shape).

    Returns
    -------
    eigenvalues : (n(n+1)/2,) array
        In descending order; the remaining n(n-1)/2 eigenvalues of V are exactly zero.
    eigenvectors : (n^2, n(n+1)/2) array
        Orthonormal columns in the full pair space, ``eigenvectors[:, k].reshape(n, n)`` symmetric.
    """
    eri = np.asarray(two_body, dtype=float)
    n = eri.shape[0]
    if eri.ndim != 4 or eri.shape != (n, n, n, n):
        raise InputError(f"two_body must have shape (n, n, n, n), got {eri.shape}")
    iu, ju = np.triu_indices(n)
    w = np.where(iu == ju, 1.0, np.sqrt(2.0))
    packed = eri[iu, ju][:, iu, ju]
    packed *= w[:, None]
    packed *= w[None, :]
    vals, vecs = np.linalg.eigh(packed)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    full = np.zeros((n, n, vecs.shape[1]))
    scaled = vecs / w[:, None]
    full[iu, ju] = scaled
    full[ju, iu] = scaled
    return vals, full.reshape(n * n, -1)
