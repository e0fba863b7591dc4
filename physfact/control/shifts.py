"""Shift parameters for the low-rank ADI iteration.

Convention (the one :func:`physfact.control.lradi.lradi` uses): a shift ``p`` lies in the open
left half-plane and approximates an eigenvalue of the pencil (A, E); one ADI step with shifts
p_1..p_J multiplies the error by the rational function

    r(lambda) = prod_j (lambda - p_j) / (lambda + conj(p_j)),

so good shifts make ``max |r|`` small on the spectrum of E^{-1} A (the ADI minimax problem).

Three generators:

``wachspress_shifts(a, b, ...)``
    The optimal (Zolotarev) shifts for a real spectrum in [-b, -a] (symmetric A, symmetric positive
    definite E), p_j = -b dn((2j-1) K / (2J), k), k = sqrt(1 - (a/b)^2), K = K(k) the complete
    elliptic integral (E. L. Wachspress, "Iterative solution of elliptic systems", 1966; Lu &
    Wachspress, Comput. Math. Appl. 21 (1991) 43).  The minimax value is attained (equioscillation)
    at the J + 1 points b dn(i K / J, k), i = 0..J, so :func:`wachspress_error` is exact.
``penzl_shifts(...)``
    Penzl's heuristic (SIAM J. Sci. Comput. 21 (2000) 1401, LYAPACK ``lp_para``): Ritz values of
    E^{-1} A (k+ Arnoldi steps) and of A^{-1} E (k- steps, inverted), then a greedy choice of
    ``num`` of them that keeps the rational function small on all Ritz values.
``projection_shifts(...)``
    Benner, Kuerschner & Saak, "Self-generating and efficient shift parameters in ADI methods for
    large Lyapunov and Sylvester equations", ETNA 43 (2014) 142: the Ritz values of the pencil
    (U^T A U, U^T E U) with U an orthonormal basis of the span of the most recent ADI block.

All functions here are deterministic: the Arnoldi start vectors are built from the data (no random
vectors).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from physfact.errors import InputError
from physfact.validation import as_array, check_int, check_positive

__all__ = [
    "adi_rational_modulus", "wachspress_shifts", "wachspress_error", "wachspress_count",
    "penzl_shifts", "select_shifts", "projection_shifts", "arnoldi_ritz", "clean_shifts",
]


def adi_rational_modulus(shifts, points) -> np.ndarray:
    """|r(x)| = prod_j |(x - p_j) / (x + conj(p_j))| at each point x (the ADI error factor)."""
    p = np.asarray(shifts, dtype=complex).ravel()
    x = np.asarray(points, dtype=complex).ravel()
    return np.abs(np.prod((x[:, None] - p[None, :]) / (x[:, None] + p.conj()[None, :]), axis=1))


def _elliptic_setup(a: float, b: float):
    from scipy.special import ellipk

    a = check_positive(a, "a (smallest |eigenvalue|)", allow_none=False)
    b = check_positive(b, "b (largest |eigenvalue|)", allow_none=False)
    if a > b:
        raise InputError(f"spectral bounds must satisfy 0 < a <= b, got a={a}, b={b}")
    m = 1.0 - (a / b) ** 2  # parameter m = k^2 of the elliptic functions
    return a, b, m, float(ellipk(m))


def wachspress_shifts(a: float, b: float, num: int) -> np.ndarray:
    """The ``num`` optimal ADI shifts for a real spectrum in [-b, -a] (0 < a <= b).

    Returns
    -------
    ndarray, shape (num,)
        Negative real shifts p_j = -b dn((2j - 1) K / (2 num), k), j = 1..num, ordered from the
        largest |p| to the smallest.
    """
    from scipy.special import ellipj

    num = check_int(num, "num", minimum=1, allow_none=False)
    a, b, m, K = _elliptic_setup(a, b)
    if a == b:
        return np.full(num, -a)
    u = (2.0 * np.arange(1, num + 1) - 1.0) * K / (2.0 * num)
    return -b * ellipj(u, m)[2]


def wachspress_error(a: float, b: float, num: int) -> float:
    """max_{x in [-b, -a]} |r(x)| for the ``num`` Wachspress shifts (exact: equioscillation points)."""
    from scipy.special import ellipj

    a, b, m, K = _elliptic_setup(a, b)
    if a == b:
        return 0.0
    p = wachspress_shifts(a, b, num)
    extremal = -b * ellipj(np.arange(num + 1) * K / num, m)[2]
    return float(np.max(adi_rational_modulus(p, extremal)))


def wachspress_count(a: float, b: float, tol: float, max_shifts: int = 64) -> int:
    """Smallest J with wachspress_error(a, b, J)^2 <= tol (capped at ``max_shifts``).

    The square: one ADI sweep multiplies the Gramian's error by r(A) from both sides.
    """
    tol = check_positive(tol, "tol", allow_none=False)
    for J in range(1, max_shifts + 1):
        if wachspress_error(a, b, J) ** 2 <= tol:
            return J
    return max_shifts


def clean_shifts(values, imag_tol: float = 1e-10) -> np.ndarray:
    """Ritz values -> usable shifts: left half-plane only, near-real made real, one of each pair.

    Returns one representative (non-negative imaginary part) per complex-conjugate pair; the ADI
    real formulation uses the pair together. Values with Re >= 0 are dropped (see the callers for
    the stability check).
    """
    v = np.asarray(values, dtype=complex).ravel()
    v = v[np.isfinite(v)]
    v = v[v.real < 0]
    if v.size == 0:
        return v
    small = np.abs(v.imag) <= imag_tol * np.abs(v)
    v = np.where(small, v.real + 0j, v)
    real = np.unique(v[v.imag == 0].real)
    cplx = v[v.imag > 0]
    # de-duplicate complex values that agree to rounding
    if cplx.size:
        cplx = cplx[np.argsort(np.abs(cplx))]
        keep = [cplx[0]]
        for z in cplx[1:]:
            if abs(z - keep[-1]) > 1e-12 * abs(z):
                keep.append(z)
        cplx = np.array(keep)
    out = np.concatenate([real.astype(complex), cplx])
    return out[np.argsort(-np.abs(out))]


def arnoldi_ritz(apply, v0, steps: int) -> np.ndarray:
    """Ritz values of the operator ``apply`` after ``steps`` Arnoldi steps from ``v0``.

    Modified Gram-Schmidt with one reorthogonalization; stops early at an invariant subspace.
    """
    steps = check_int(steps, "steps", minimum=1, allow_none=False)
    v = as_array(v0, "v0", ndim=(1, 2)).ravel()
    n = v.size
    if not np.any(v):
        raise InputError("the Arnoldi start vector v0 is zero; give a non-zero start vector")
    steps = min(steps, n)
    V = np.zeros((n, steps + 1))
    H = np.zeros((steps + 1, steps))
    V[:, 0] = v / np.linalg.norm(v)
    k = steps
    for j in range(steps):
        w = np.asarray(apply(V[:, j]), dtype=float).ravel()
        for _ in range(2):  # twice is enough (Kahan--Parlett)
            h = V[:, : j + 1].T @ w
            w -= V[:, : j + 1] @ h
            H[: j + 1, j] += h
        H[j + 1, j] = np.linalg.norm(w)
        if H[j + 1, j] <= 1e-12 * np.linalg.norm(H[: j + 2, j]):
            k = j + 1
            break
        V[:, j + 1] = w / H[j + 1, j]
    return np.linalg.eigvals(H[:k, :k])


def select_shifts(candidates, num: int) -> np.ndarray:
    """Penzl's greedy choice of about ``num`` shifts among ``candidates`` (Re < 0).

    Start with the candidate p minimising max_t |(t - p)/(t + conj p)| over all candidates t, then
    repeatedly add the candidate t where the current rational function is largest (with its
    conjugate when complex). Returns one representative per conjugate pair.
    """
    num = check_int(num, "num", minimum=1, allow_none=False)
    cand = np.asarray(candidates, dtype=complex).ravel()
    cand = cand[cand.real < 0]
    if cand.size == 0:
        raise InputError("no candidate shifts in the left half-plane")
    full = np.concatenate([cand, cand[cand.imag != 0].conj()])  # the whole set, pairs completed

    def pair(p):
        return [p] if p.imag == 0 else [p, np.conj(p)]

    scores = [np.max(adi_rational_modulus(pair(p), full)) for p in cand]
    chosen = pair(cand[int(np.argmin(scores))])
    while len(chosen) < num:
        mod = adi_rational_modulus(chosen, full)
        t = full[int(np.argmax(mod))]
        if mod.max() == 0:
            break
        chosen.extend(pair(t))
    return clean_shifts(np.array(chosen), imag_tol=0.0)


def penzl_shifts(apply_EinvA, apply_AinvE, n: int, num: int = 16, kplus: int = 40, kminus: int = 20,
                 start=None):
    """Penzl's heuristic shifts from the Ritz values of E^{-1}A and (A^{-1}E)^{-1}.

    Parameters
    ----------
    apply_EinvA, apply_AinvE : callable
        x -> E^{-1} A x and x -> A^{-1} E x (the caller holds the factorizations).
    n : int
        Dimension.
    num : int
        Number of shifts wanted (complex pairs count twice).
    kplus, kminus : int
        Arnoldi steps with E^{-1}A and with A^{-1}E.
    start : array_like, optional
        Start vector (default: all ones, as LYAPACK; deterministic).

    Returns
    -------
    shifts : ndarray
        One representative per conjugate pair, Re < 0.
    ritz : ndarray
        All Ritz values (the caller checks them for instability).
    """
    v0 = np.ones(n) if start is None else as_array(start, "start", ndim=1)
    rp = arnoldi_ritz(apply_EinvA, v0, min(kplus, n))
    rm = arnoldi_ritz(apply_AinvE, v0, min(kminus, n))
    rm = rm[np.abs(rm) > 0]
    ritz = np.concatenate([rp, 1.0 / rm])
    return select_shifts(ritz, num), ritz


def projection_shifts(A, E, U, overwrite_u: bool = False) -> np.ndarray:
    """Ritz values of the pencil (A, E) on span(U): eig(Q^T A Q, Q^T E Q), Q = orth(U).

    ``U`` is real (the caller passes real and imaginary parts of a complex block). ``E`` None
    means the identity. Returns all Ritz values (unfiltered). ``overwrite_u``: a Fortran-ordered
    float ``U`` may be overwritten by Q (no n x k copies besides Q and one product at a time:
    the LR-ADI peak memory at n = 66049 was here).
    """
    U = as_array(U, "U", ndim=(1, 2))
    if U.ndim == 1:
        U = U[:, None]
    Q, R = sla.qr(U, mode="economic", overwrite_a=overwrite_u, check_finite=False)
    del U
    d = np.abs(np.diag(R))
    keep = d > 1e-12 * max(d.max(initial=0.0), np.finfo(float).tiny)
    if not keep.all():
        Q = Q[:, keep]
    if Q.shape[1] == 0:
        return np.zeros(0, dtype=complex)
    Ap = Q.T @ (A @ Q)
    if E is None:
        return np.linalg.eigvals(Ap)
    Ep = Q.T @ (E @ Q)
    return sla.eigvals(Ap, Ep)
