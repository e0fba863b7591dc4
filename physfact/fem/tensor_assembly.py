"""Assembly-free Kronecker terms of Q1/Hex1 elasticity and Poisson operators from 1-D matrices.

With tensor-product hat functions phi_i(x) = prod_d phi^d_{i_d}(x_d) and a separable coefficient
E = prod_d e_d(x_d), every integral G(p, q)[i, k] = int E d_p phi_i d_q phi_k is a Kronecker
product over the directions d of the 1-D matrices (see :mod:`physfact.fem.onedim`)

    S_d  if d = p = q,   D_d  if d = p != q,   D_d^T  if d = q != p,   M_d  otherwise.

Isotropic elasticity a(u, v) = int E (lambda div u div v + 2 mu eps(u) : eps(v)) has the
component blocks (test component a, trial component c)

    K^{ac} = lambda G(a, c) + mu G(c, a) + delta_{ac} mu sum_b G(b, b),

and Poisson a(u, v) = int E grad u . grad v is sum_b G(b, b). Direction 0 is the axis; grouping
by its 1-D factor (S_0, M_0, D_0, D_0^T) gives K = sum_r A_r (x) B_r with at most 4 terms
(2 for Poisson), B_r acting on the cross-section DOFs ordered node-major, component-minor.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from physfact.fem import onedim

_AXIAL_KINDS = ("S", "M", "D", "DT")


def _factor(kind_p, kind_q, d):
    if d == kind_p and d == kind_q:
        return "S"
    if d == kind_p:
        return "D"
    if d == kind_q:
        return "DT"
    return "M"


def kronecker_terms(nodes: list, coef_q: tuple | None, kind: str, lam: float = 0.0, mu: float = 0.0):
    """Kronecker terms of the full (unconstrained) operator in (station, section) order.

    Parameters
    ----------
    nodes : list of ndarray
        Node coordinates per direction (direction 0 is the axis).
    coef_q : tuple of ndarray or None
        Separable coefficient factors at the Gauss points, one (n_el_d, 3) array per direction.
    kind : {"elasticity", "poisson"}
    lam, mu : float
        Lame parameters (elasticity only), already scaled by the modulus E0.

    Returns
    -------
    list of (A, B)
        Sparse axial (n_0 x n_0) and cross-section matrices; zero terms dropped.
    """
    dim = len(nodes)
    mats = []
    for d in range(dim):
        S, M, D = onedim.matrices(nodes[d], None if coef_q is None else coef_q[d])
        mats.append({"S": S, "M": M, "D": D, "DT": D.T.tocsr()})

    def section_product(p, q):
        out = None
        for d in range(1, dim):
            F = mats[d][_factor(p, q, d)]
            out = F if out is None else sp.kron(out, F, format="csr")
        return out

    n_sec_nodes = int(np.prod([len(nodes[d]) for d in range(1, dim)]))
    blocks = {k: [] for k in _AXIAL_KINDS}  # per axial kind: list of (coefficient matrix over comps, section matrix)

    def add(p, q, weight, a=None, c=None):
        kind0 = _factor(p, q, 0)
        blocks[kind0].append((weight, a, c, section_product(p, q)))

    if kind == "poisson":
        for b in range(dim):
            add(b, b, 1.0)
        ncomp = 1
    elif kind == "elasticity":
        ncomp = dim
        for a in range(dim):
            for c in range(dim):
                add(a, c, lam, a, c)
                add(c, a, mu, a, c)
                if a == c:
                    for b in range(dim):
                        add(b, b, mu, a, c)
    else:
        raise ValueError(kind)

    terms = []
    for k in _AXIAL_KINDS:
        if not blocks[k]:
            continue
        B = sp.csr_matrix((n_sec_nodes * ncomp, n_sec_nodes * ncomp))
        for weight, a, c, F in blocks[k]:
            if weight == 0.0:
                continue
            if ncomp == 1:
                B = B + weight * F
            else:
                E = sp.csr_matrix(([1.0], ([a], [c])), shape=(ncomp, ncomp))
                B = B + weight * sp.kron(F, E, format="csr")
        B = B.tocsr()
        B.eliminate_zeros()
        if B.nnz:
            terms.append((mats[0][k].tocsr(), B))
    return terms
