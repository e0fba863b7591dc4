r"""Singular perturbation approximation (SPA) of a balanced realization.

Liu & Anderson, "Singular perturbation approximation of balanced systems", Int. J. Control 50
(1989) 1379; the square-root form of SLICOT AB09ND (Varga, Proc. IEEE CDC 1991).

A minimal balanced realization of order k (Gramians diag(hsv[:k])) is split after state r,

.. math::  \begin{bmatrix} A_{11} & A_{12} \\ A_{21} & A_{22} \end{bmatrix},\quad
           \begin{bmatrix} B_1 \\ B_2 \end{bmatrix},\quad [C_1\ C_2],\quad D,

and the fast states x_2 are residualized instead of truncated: x_2' = 0 (continuous time) or
x_2[k+1] = x_2[k] (discrete time) gives, with :math:`N = -A_{22}^{-1}` (continuous) or
:math:`N = (I - A_{22})^{-1}` (discrete),

.. math::  A_r = A_{11} + A_{12} N A_{21},\ B_r = B_1 + A_{12} N B_2,\
           C_r = C_1 + C_2 N A_{21},\ D_r = D + C_2 N B_2.

The reduced model matches G exactly at s = 0 (continuous) or z = 1 (discrete) -- the DC gain --
where balanced truncation matches at s = infinity, and it has the same bound
:math:`\|G - G_r\|_{H_\infty} \le 2 \sum_{k>r} \sigma_k`. A_r is stable when the full model is
and sigma_r > sigma_{r+1} (Liu & Anderson 1989).

The residualization needs a *minimal* balanced realization (AB09ND's TOL2): the states with
Hankel singular values below :func:`minimal_order`'s threshold are noise and are dropped first.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla

from physfact.errors import SingularMatrixError

EPS = np.finfo(float).eps


def minimal_order(hsv, n_states: int, rtol: float | None = None) -> int:
    """Order of a numerically minimal realization: the number of Hankel singular values above
    ``rtol * hsv[0]``; default ``rtol = n_states * eps`` (SLICOT AB09ND's default TOL2)."""
    hsv = np.asarray(hsv, dtype=float)
    if hsv.size == 0 or hsv[0] <= 0:
        return 0
    rtol = n_states * EPS if rtol is None else rtol
    return int(np.count_nonzero(hsv > rtol * hsv[0]))


def residualize(A, B, C, D, r: int, discrete: bool = False):
    """Singular perturbation of the realization (A, B, C, D) keeping states ``:r``.

    Parameters
    ----------
    A, B, C, D : ndarray
        A (k, k), B (k, m), C (p, k), D (p, m); typically balanced, E = I.
    r : int
        Number of slow states kept (0 <= r <= k).
    discrete : bool
        Residualize x_2[k+1] = x_2[k] (discrete time) instead of x_2' = 0.

    Returns
    -------
    (Ar, Br, Cr, Dr) : tuple of ndarray
        The reduced realization of order r (see the module docstring).

    Raises
    ------
    SingularMatrixError
        A_22 (continuous) or I - A_22 (discrete) is singular: a pole of the residualized part at
        s = 0 (z = 1), where the DC gain is infinite.
    """
    k = A.shape[0]
    if r >= k:
        return A.copy(), B.copy(), C.copy(), D.copy()
    A11, A12, A21, A22 = A[:r, :r], A[:r, r:], A[r:, :r], A[r:, r:]
    M = np.eye(k - r) - A22 if discrete else -A22
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sla.LinAlgWarning)  # singular: reported below as an error
        lu = sla.lu_factor(M, check_finite=False)
    if np.min(np.abs(np.diag(lu[0]))) <= EPS * max(1.0, np.abs(M).max()) * (k - r):
        point = "z = 1" if discrete else "s = 0"
        raise SingularMatrixError(f"singular perturbation needs the residualized part to have no pole at {point} "
                                  "(the system's DC gain is infinite); use method='sr' instead")
    NA21, NB2 = np.hsplit(sla.lu_solve(lu, np.hstack([A21, B[r:]]), check_finite=False), [r])
    return (A11 + A12 @ NA21, B[:r] + A12 @ NB2, C[:, :r] + C[:, r:] @ NA21, D + C[:, r:] @ NB2)
