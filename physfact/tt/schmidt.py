"""Singular values of every bond unfolding of a tensor train, from triangular factors only.

Bond k splits the train into X_k (sites 0..k, rows) and Y_k (sites k+1..d-1, columns); the
unfolding is X_k Y_k. Two sweeps give triangular factors of both sides without forming any Q
or canonical core:

* left to right, R_k = triangular factor of the QR of (R_{k-1} G_k) reshaped (r_{k-1} n_k, r_k),
  so X_k = Q R_k with Q orthonormal columns (R_{-1} = 1);
* right to left, L_k = triangular factor of the LQ of (G_k L_{k+1}) reshaped (r_{k-1}, n_k r_k)
  (a QR of the transpose), so Y_{k-1} = L_k Q' with Q' orthonormal rows.

Then X_k Y_k = Q (R_k L_{k+1}) Q' and the singular values of bond k are those of the small
matrix R_k L_{k+1} (at most r_k x r_k), computed without vectors and batched over all bonds of
one shape in a single LAPACK-driven call. Every step is orthogonal (Householder QR, SVD): no Gram
matrix is formed, so small singular values keep their absolute accuracy eps ||psi||.

These are the QR sweeps of TT-rounding (Oseledets, SIAM J. Sci. Comput. 33 (2011) 2295,
Algorithm 2) with Q never formed; R_k L_{k+1} is the centre matrix of the mixed canonical form
at bond k (Schollwoeck, Ann. Phys. 326 (2011) 96), here obtained from both sides at once. A
factor is upper (R) or lower (L) trapezoidal when an unfolding has fewer rows than the bond
rank, as at the ends of a chain or at a rank-deficient bond; that bond then has fewer values.

Cost (chi = bond dimension, n = local dimension): two geqrf of (n chi x chi) and two GEMMs per
site, and one (chi x chi) singular-value problem per bond.
"""
from __future__ import annotations

import numpy as np

from physfact.errors import InputError
from physfact.lowrank import r_factor, robust_svd

#: above this local dimension the left sweep forms R G_k with one GEMM and a copy instead of one
#: GEMM per local state
_PER_STATE_GEMM_MAX_N = 8


def schmidt_spectrum_of_cores(cores, center=None) -> tuple:
    """Singular values of every bond unfolding of the tensor a TT represents (unnormalized).

    Parameters
    ----------
    cores : sequence of ndarray
        Core k of shape (r_{k-1}, n_k, r_k), r_{-1} = r_{d-1} = 1 (real or complex).
    center : int, optional
        A known orthogonality center c: cores left of c left-orthonormal, right of c
        right-orthonormal. Then R_k = I for k < c and L_k = I for k > c, so each core is visited
        once.

    Returns
    -------
    tuple of ndarray
        For bonds k = 0 .. d-2, the singular values (descending, >= 0) of the unfolding with
        rows (i_0..i_k): min(rows of R_k, columns of L_{k+1}) of them, i.e. r_k unless an
        unfolding has fewer rows or columns than r_k.

    Raises
    ------
    InputError
        On cores of the wrong shape or with NaN/inf entries.
    """
    cores = [np.asarray(c) for c in cores]
    d = len(cores)
    for k, c in enumerate(cores):
        if c.ndim != 3 or (k > 0 and c.shape[0] != cores[k - 1].shape[2]):
            raise InputError(f"core {k} has shape {c.shape}: cores must be (r_left, n, r_right) with matching ranks")
    if d <= 1:
        return ()
    dtype = np.result_type(*cores, np.float64)
    if not np.issubdtype(dtype, np.inexact):
        raise InputError(f"cores must be numeric, got dtype {dtype}")
    cores = [c.astype(dtype, copy=False) for c in cores]
    if center is not None and not 0 <= center < d:
        raise InputError(f"center {center} is outside the train (0 .. {d - 1})")

    Ls = [None] * (d - 1)  # Ls[k]: factor of the part right of bond k (None: identity)
    L = None
    for k in range(d - 1 if center is None else center, 0, -1):
        c = cores[k]
        r = c.shape[0]
        if L is None:
            Lt = r_factor(c.reshape(r, -1).T)  # the core itself: r_factor copies
        else:
            N = (c.reshape(-1, c.shape[2]) @ L).reshape(r, -1)  # G_k L_{k+1}, C order
            Lt = r_factor(N.T, overwrite=True)  # N^T is Fortran-contiguous: QR in place
        L = Lt.T  # N = L Q' with L lower trapezoidal (r x min(r, n m))
        Ls[k - 1] = L
    Rs = [None] * (d - 1)  # Rs[k]: factor of the part left of bond k (None: identity)
    R = None
    for k in range(0 if center is None else center, d - 1):
        c = cores[k]
        R = r_factor(c.reshape(-1, c.shape[2])) if R is None else r_factor(_left_product(R, c), overwrite=True)
        Rs[k] = R
    return _bond_singular_values(Rs, Ls, dtype)


def _left_product(R, c):
    """(R G) with rows grouped by local state, as a Fortran-ordered (n m) x r_right matrix.

    The R factor of a matrix does not depend on the order of its rows, so the rows (s, a) are
    written in the layout geqrf wants, one GEMM per local state s, instead of forming the
    (a, s)-ordered product and copying it to Fortran order.
    """
    m = R.shape[0]
    rl, n, rr = c.shape
    if n > _PER_STATE_GEMM_MAX_N:
        return np.asfortranarray((R @ c.reshape(rl, n * rr)).reshape(m * n, rr))
    buf = np.empty((rr, n * m), dtype=np.result_type(R, c))  # = the product's transpose, C order
    Rt = R.T
    for s in range(n):
        np.matmul(c[:, s, :].T, Rt, out=buf[:, s * m:(s + 1) * m])
    return buf.T


def _bond_singular_values(Rs, Ls, dtype):
    """Singular values of R_k L_{k+1} for every bond, one batched SVD per distinct shape."""
    nb = len(Rs)
    shapes = []
    for R, L in zip(Rs, Ls):
        if R is None and L is None:
            raise InputError("internal: a bond has neither factor")
        shapes.append(L.shape if R is None else (R.shape if L is None else (R.shape[0], L.shape[1])))
    out = [None] * nb
    groups = {}
    for k, shp in enumerate(shapes):
        groups.setdefault(shp, []).append(k)
    for shp, ks in groups.items():
        stack = np.empty((len(ks),) + shp, dtype=dtype)
        for i, k in enumerate(ks):
            R, L = Rs[k], Ls[k]
            if R is None:
                stack[i] = L
            elif L is None:
                stack[i] = R
            else:
                np.matmul(R, L, out=stack[i])
        s = _svdvals_batched(stack)
        if not np.all(np.isfinite(s)):
            raise InputError("the cores contain NaN or inf: no Schmidt values")
        for i, k in enumerate(ks):
            out[k] = s[i]
    return tuple(out)


def _svdvals_batched(stack):
    """Singular values of each matrix of a (b, m, n) stack (numpy's gufunc: gesdd per matrix);
    if gesdd does not converge on one of them (rare), per matrix with :func:`robust_svd`."""
    if 0 in stack.shape[1:]:
        return np.zeros(stack.shape[:1] + (0,))
    try:
        return np.linalg.svd(stack, compute_uv=False)
    except np.linalg.LinAlgError:
        if not np.all(np.isfinite(stack)):
            raise InputError("the cores contain NaN or inf: no Schmidt values") from None
        return np.array([robust_svd(M, compute_uv=False) for M in stack])
