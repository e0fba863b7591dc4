"""Principal angles between subspaces (Bjorck & Golub, Math. Comp. 27 (1973) 579), computed with
the sine/cosine split of Knyazev & Argentati (SIAM J. Sci. Comput. 23 (2002) 2008) so that small
angles keep full relative accuracy: cosines give the large angles, sines (the singular values of
the part of Q2 outside span(Q1)) give the small ones.
"""
from __future__ import annotations

import numpy as np

from physfact.errors import InputError
from physfact.validation import as_array


def _orthonormal_basis(U, name):
    U = as_array(U, name, ndim=(1, 2), allow_complex=True)
    if U.ndim == 1:
        U = U[:, None]
    Q, R = np.linalg.qr(U)
    d = np.abs(np.diag(R))
    if d.size and d.min() <= max(U.shape) * np.finfo(float).eps * d.max():
        raise InputError(f"{name} has linearly dependent columns; pass a basis of the subspace")
    return Q


def principal_angles(U1, U2) -> np.ndarray:
    """Principal angles between span(U1) and span(U2), in radians, ascending.

    Parameters
    ----------
    U1, U2 : array_like, shapes (n, k1) and (n, k2)
        Bases (not necessarily orthonormal) of the two subspaces.

    Returns
    -------
    ndarray, shape (min(k1, k2),)
        0 <= theta_1 <= ... <= pi/2.
    """
    Q1, Q2 = _orthonormal_basis(U1, "U1"), _orthonormal_basis(U2, "U2")
    if Q1.shape[0] != Q2.shape[0]:
        raise InputError(f"U1 and U2 must have the same number of rows, got {Q1.shape[0]} and {Q2.shape[0]}")
    if Q1.shape[1] < Q2.shape[1]:
        Q1, Q2 = Q2, Q1
    cos = np.linalg.svd(Q1.conj().T @ Q2, compute_uv=False)  # descending cosines
    cos = np.clip(cos, 0.0, 1.0)
    k = Q2.shape[1]
    sin = np.linalg.svd(Q2 - Q1 @ (Q1.conj().T @ Q2), compute_uv=False)  # descending sines
    sin = np.clip(np.sort(sin)[:k], 0.0, 1.0)  # ascending, matched to descending cosines
    angles = np.where(cos**2 >= 0.5, np.arcsin(sin), np.arccos(cos))
    return np.sort(angles)


def subspace_distance(U1, U2) -> float:
    """Sine of the largest principal angle: ||P1 - P2||_2 for subspaces of equal dimension.

    Returns 1.0 when the dimensions differ (the projectors then differ by a unit vector).
    """
    angles = principal_angles(U1, U2)
    k1 = np.shape(U1)[1] if np.ndim(U1) == 2 else 1
    k2 = np.shape(U2)[1] if np.ndim(U2) == 2 else 1
    if k1 != k2:
        return 1.0
    return float(np.sin(angles[-1]))
