"""Deterministic bases of (near-)degenerate eigenspaces.

An eigensolver returns each eigenvector only up to sign, and inside a degenerate eigenspace
(symmetry-equivalent orbitals of NH3 or CH4, equal supermatrix eigenvalues) any rotation of the
basis: which one comes out depends on rounding, i.e. on the BLAS thread count. Anything computed
from single vectors (a Pauli-string count, a truncation inside a degenerate group, the largest ERI
error) then changes from run to run. This module replaces such a basis by one that depends only on
the eigenspace itself:

within a group of eigenvalues equal to ``rtol`` (relative to the largest |value|), greedy pivoting
on the rows of the group's vectors V (n x k) picks k coordinates i_1..i_k (largest remaining row
norm first; ties within 1e-8 go to the lowest index); the new basis is the Gram-Schmidt
orthonormalisation of the projections P e_{i_1}, ..., P e_{i_k} (P = V V^T), i.e. V Q with
V[pivots]^T = Q R, diag(R) > 0. Replacing V by V G (G orthogonal) changes neither the pivots
(row norms are invariant) nor V Q, and a single vector gets the sign that makes its largest
component positive. Pivoting on coordinates keeps symmetry-adapted vectors where the coordinates
are (atomic orbitals aligned with the axes). Cf. the pivoted-QR selection of columns of a
projector in Damle, Lin & Ying, JCTC 11 (2015) 1463 (SCDM).
"""
from __future__ import annotations

import numpy as np

#: eigenvalues closer than this (relative to the largest |value|) are treated as one eigenspace
DEGENERACY_RTOL = 1e-8
#: row norms within this relative distance of the largest tie; the lowest index wins
TIE_RTOL = 1e-8


def canonical_block(V: np.ndarray) -> np.ndarray:
    """The basis V Q of span(V) fixed by pivoting on the rows of V (module docstring); V has
    orthonormal columns (in any metric: Q is orthogonal, so V Q keeps the metric's orthonormality)."""
    n, k = V.shape
    R = np.array(V, dtype=float)
    pivots = []
    for _ in range(k):
        w = np.einsum("ij,ij->i", R, R)
        w[pivots] = -1.0
        top = float(w.max())
        i = int(np.flatnonzero(w >= top * (1.0 - TIE_RTOL))[0])
        pivots.append(i)
        v = R[i] / np.sqrt(top if w[i] <= 0 else w[i])
        R -= np.outer(R @ v, v)
    Q, Rq = np.linalg.qr(V[pivots].T)
    Q = Q * np.where(np.diagonal(Rq) < 0, -1.0, 1.0)[None, :]
    return V @ Q


def degenerate_groups(values: np.ndarray, rtol: float = DEGENERACY_RTOL, split=None) -> list[np.ndarray]:
    """Index groups of consecutive equal (to ``rtol`` relative to max |values|) entries of sorted
    ``values``; ``split`` (same length) marks a label that a group must not cross (e.g. occupation)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return []
    scale = max(float(np.max(np.abs(values))), 1e-300)
    cut = np.abs(np.diff(values)) > rtol * scale
    if split is not None:
        split = np.asarray(split)
        cut |= split[1:] != split[:-1]
    bounds = np.concatenate([[0], np.flatnonzero(cut) + 1, [values.size]])
    return [np.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _fix_signs(V: np.ndarray) -> np.ndarray:
    """Sign the columns of V (..., n, k) in place so that each one's largest component (lowest index
    among ties) is positive: :func:`canonical_block` of a single vector, for many at once."""
    a = np.abs(V)
    top = a.max(axis=-2, keepdims=True)
    first = np.argmax(a >= top * (1.0 - TIE_RTOL), axis=-2)  # pivot row of each column
    del a
    sign = np.sign(np.take_along_axis(V, first[..., None, :], axis=-2))
    V *= np.where(sign == 0, 1.0, sign)
    return V


def canonical_eigenvectors(values: np.ndarray, vectors: np.ndarray, rtol: float = DEGENERACY_RTOL,
                           split=None) -> np.ndarray:
    """Eigenvectors (columns) with every (near-)degenerate group and every sign fixed (module docstring).

    ``values`` must be sorted (ascending or descending); returns a new array.
    """
    out = _fix_signs(np.array(vectors, dtype=float))  # singletons: the sign is all there is to fix
    for g in degenerate_groups(values, rtol, split):
        if g.size > 1:
            out[:, g] = canonical_block(out[:, g])
    return out


def canonical_eigenvectors_batched(values: np.ndarray, vectors: np.ndarray, rtol: float = DEGENERACY_RTOL) -> np.ndarray:
    """:func:`canonical_eigenvectors` for a stack (values (L, N) ascending, vectors (L, N, N)):
    signs fixed in one vectorised pass, then only the degenerate groups (size > 1) one by one."""
    out = np.array(vectors, dtype=float)
    if out.size == 0:
        return out
    out = _fix_signs(out)
    scale = np.maximum(np.max(np.abs(values), axis=1, keepdims=True), 1e-300)
    close = np.abs(np.diff(values, axis=1)) <= rtol * scale
    for l in np.flatnonzero(close.any(axis=1)):
        for g in degenerate_groups(values[l], rtol):
            if g.size > 1:
                out[l][:, g] = canonical_block(out[l][:, g])
    return out
