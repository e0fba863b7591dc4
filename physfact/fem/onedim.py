"""One-dimensional linear finite-element matrices, the ingredients of every Kronecker term.

On a 1-D mesh with nodes x_0 < ... < x_m, hat functions phi_i and a coefficient e(x) sampled at
the 3-point Gauss rule of each element (the rule scikit-fem uses on the tensor-product quadrature
of Q1/Hex1 elements with ``intorder=4``), the weighted matrices are

    S[i, k] = int e phi_i' phi_k' dx      (stiffness)
    M[i, k] = int e phi_i  phi_k  dx      (mass)
    D[i, k] = int e phi_i' phi_k  dx      (first-derivative on the test function)

all tridiagonal. A tensor-product (Q1 / Hex1) form with a separable coefficient
E(x, y, z) = e_x(x) e_y(y) e_z(z) is then a sum of Kronecker products of these matrices.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# 3-point Gauss-Legendre rule on [0, 1] (exact for degree 5)
GAUSS_T = np.array([0.5 - 0.5 * np.sqrt(3 / 5), 0.5, 0.5 + 0.5 * np.sqrt(3 / 5)])
GAUSS_W = np.array([5 / 18, 8 / 18, 5 / 18])


def quadrature_points(nodes: np.ndarray) -> np.ndarray:
    """Gauss points of every element, shape (n_elements, 3)."""
    nodes = np.asarray(nodes, dtype=float)
    h = np.diff(nodes)
    return nodes[:-1, None] + h[:, None] * GAUSS_T[None, :]


def matrices(nodes: np.ndarray, coef_q: np.ndarray | None = None):
    """Weighted 1-D stiffness, mass and derivative matrices on ``nodes``.

    Parameters
    ----------
    nodes : ndarray, shape (m + 1,)
        Increasing node coordinates.
    coef_q : ndarray, shape (m, 3), optional
        Coefficient at the Gauss points of each element (see :func:`quadrature_points`); 1 if None.

    Returns
    -------
    S, M, D : scipy.sparse.csr_matrix, shape (m + 1, m + 1)
    """
    nodes = np.asarray(nodes, dtype=float)
    h = np.diff(nodes)
    ne = h.size
    e = np.ones((ne, 3)) if coef_q is None else np.asarray(coef_q, dtype=float)
    w = e * GAUSS_W[None, :]                       # (ne, 3): e * weight (times h below)
    phi = np.stack([1 - GAUSS_T, GAUSS_T])         # (2 local, 3 q)
    dphi = np.array([-1.0, 1.0])                   # times 1/h
    # local matrices (ne, 2, 2)
    Sl = (w.sum(1) / h)[:, None, None] * np.outer(dphi, dphi)[None]
    Ml = h[:, None, None] * np.einsum("eq,aq,bq->eab", w, phi, phi)
    Dl = np.einsum("eq,a,bq->eab", w, dphi, phi)   # h * (1/h) cancels
    rows = np.stack([np.arange(ne), np.arange(ne)], axis=1) + np.array([0, 1])[None]
    I = np.repeat(rows, 2, axis=1).ravel()
    J = np.tile(rows, (1, 2)).ravel()
    shape = (ne + 1, ne + 1)
    out = []
    for L in (Sl, Ml, Dl):
        out.append(sp.csr_matrix((L.reshape(ne, 4).ravel(), (I, J)), shape=shape))
    return tuple(out)


def load_vector(nodes: np.ndarray) -> np.ndarray:
    """int phi_i dx for every node (consistent load of a unit density)."""
    h = np.diff(np.asarray(nodes, dtype=float))
    b = np.zeros(h.size + 1)
    b[:-1] += h / 2
    b[1:] += h / 2
    return b
