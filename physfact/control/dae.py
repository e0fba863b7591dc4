r"""Descriptor systems with singular E (DAEs): proper/polynomial splitting and balanced truncation.

For a regular pencil (A, E) with E singular, G(s) = C (sE - A)^{-1} B + D splits into a strictly
proper part and a polynomial part,

.. math::  G(s) = G_{sp}(s) + M_0 + s M_1 + \dots + s^{\nu-1} M_{\nu-1}

(\nu the index). The split follows the Weierstrass-form route of Stykel, "Gramian-based model
reduction for descriptor systems", Math. Control Signals Syst. 16 (2004) 297, dense:

1. ordered real QZ (``scipy.linalg.ordqz``): Q^T A Z = [[A11, A12], [0, A22]],
   Q^T E Z = [[E11, E12], [0, E22]] with the finite eigenvalues in (A11, E11) (E11 nonsingular) and the
   infinite ones in (A22, E22) (A22 nonsingular, E22 nilpotent: its computed diagonal, of size
   ~ eps^{1/index} ||E||, is set to zero);
2. the generalized Sylvester equation A11 R + L A22 = -A12, E11 R + L E22 = -E12 (LAPACK ``dtgsyl``)
   decouples the two blocks: B1 = (Q^T B)_1 + L (Q^T B)_2, C2 = (C Z)_1 R + (C Z)_2;
3. G_sp = C1 (s E11 - A11)^{-1} B1 and, with N = A22^{-1} E22 (nilpotent),
   (s E22 - A22)^{-1} = -\sum_k s^k N^k A22^{-1}, so M_k = -C2 N^k A22^{-1} B2 (+ D for k = 0).

Balanced truncation reduces G_sp (HSVs, bound and ROM refer to it) and keeps the polynomial part
exactly: M_0 goes to the ROM's D, each s^k M_k (k >= 1, rank q_k) is realized by a nilpotent chain of
(k + 1) q_k states (E = block shift, A = I), so the ROM order is r + sum_k (k + 1) q_k.

Classification threshold: an eigenvalue alpha/beta is infinite when
|beta| ||A|| <= INFINITE_RTOL |alpha| ||E||; INFINITE_RTOL = 1e-5 resolves index <= 2 (Jordan blocks
at infinity perturbed by ~eps^{1/2}); finite poles of modulus above ~1e5 ||A||/||E|| would be taken
as infinite. Dense O(n^3): for moderate n (a few thousand).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from physfact.errors import InputError, SingularMatrixError

INFINITE_RTOL = 1e-5
#: Trailing polynomial coefficients below POLY_RTOL * max |M_k| are dropped (the infinite eigenvalues
#: of an index-2 pencil are computed to ~sqrt(eps), which leaves M_2, M_3, ... at that level).
POLY_RTOL = 1e-6


@dataclass(frozen=True)
class DescriptorSplit:
    """Result of :func:`split_descriptor`.

    Attributes
    ----------
    A11, E11 : ndarray (k, k)
        Finite part of the pencil (upper quasi-triangular / triangular, E11 nonsingular).
    B1 : ndarray (k, m)
    C1 : ndarray (p, k)
    polynomial : tuple of ndarray (p, m)
        M_0 (including D), M_1, ...: G(s) = C1 (s E11 - A11)^{-1} B1 + sum_k s^k M_k.
    to_original : tuple (Vp, Wp)
        x = Vp x_1 maps finite-part states back; Wp^T applied to the original equations gives the
        finite-part equations (Wp^T E Vp = E11).
    n_infinite : int
    state_polynomial : tuple of ndarray (n, m)
        X_0, X_1, ...: the states are x(t) = Vp x_1(t) + sum_k X_k u^{(k)}(t) (x_1 the finite-part
        states); X_k = -T N^k A22^{-1} B2 with T = Z_2 + Z_1 R, so that M_k = C X_k (+ D for k = 0).
    """

    A11: np.ndarray
    E11: np.ndarray
    B1: np.ndarray
    C1: np.ndarray
    polynomial: tuple
    to_original: tuple
    n_infinite: int
    state_polynomial: tuple = ()

    @property
    def index(self) -> int:
        """Number of polynomial terms (the index for a minimal system; 1 for an ODE-like M_0 only)."""
        return len(self.polynomial)

    def proper_system(self, dt=None):
        """The proper part C1 (s E11 - A11)^{-1} B1 + M_0 as an LTISystem."""
        from physfact.control.lti import LTISystem

        return LTISystem(self.A11, self.B1, self.C1, self.polynomial[0], self.E11, dt)

    def polynomial_response(self, s) -> np.ndarray:
        """sum_{k >= 1} s^k M_k at the complex points ``s`` (shape (len(s), p, m))."""
        s = np.atleast_1d(s)
        out = np.zeros((s.size,) + self.polynomial[0].shape, dtype=complex)
        for k, Mk in enumerate(self.polynomial[1:], start=1):
            out += s[:, None, None] ** k * Mk
        return out


def split_descriptor(A, E, B, C, D=None) -> DescriptorSplit:
    """Split G(s) = C (sE - A)^{-1} B + D into its strictly proper and polynomial parts (dense; see
    the module docstring).

    Raises
    ------
    SingularMatrixError
        The pencil is singular (det(sE - A) = 0 for all s): no transfer function.
    """
    A = np.asarray(A.toarray() if hasattr(A, "toarray") else A, dtype=float)
    E = np.asarray(E.toarray() if hasattr(E, "toarray") else E, dtype=float)
    B, C = np.asarray(B, dtype=float), np.asarray(C, dtype=float)
    n = A.shape[0]
    D = np.zeros((C.shape[0], B.shape[1])) if D is None else np.asarray(D, dtype=float)
    na, ne = np.linalg.norm(A, 1), np.linalg.norm(E, 1)
    if na == 0:
        raise SingularMatrixError("A = 0 with a singular E: the pencil (A, E) is singular")
    tiny = n * np.finfo(float).eps

    def finite(alpha, beta):
        return np.abs(beta) * na > INFINITE_RTOL * np.abs(alpha) * ne

    AA, EE, _, _, Q, Z = sla.ordqz(A, E, sort=finite, output="real")
    alpha = np.diag(AA)
    beta = np.diag(EE)
    if np.any((np.abs(alpha) <= tiny * na) & (np.abs(beta) <= tiny * max(ne, 1.0))):
        raise SingularMatrixError("the pencil (A, E) is singular (an eigenvalue 0/0): the DAE has no unique "
                                  "solution; check the model's algebraic equations")
    # finite eigenvalues come first; complex pairs are finite, so count from the real diagonal
    k = int(np.count_nonzero(np.abs(beta) * na > INFINITE_RTOL * np.abs(alpha) * ne))
    A11, A12, A22 = AA[:k, :k], AA[:k, k:], AA[k:, k:]
    E11, E12, E22 = EE[:k, :k], EE[:k, k:], EE[k:, k:].copy()
    E22[np.diag_indices_from(E22)] = 0.0  # nilpotent exactly: the diagonal is roundoff of size eps^(1/index)
    E22[np.abs(E22) <= 1e3 * tiny * ne] = 0.0  # and roundoff off the diagonal (index 1: E22 = 0 exactly)
    QB, CZ = Q.T @ B, C @ Z
    ninf = n - k
    if ninf and k:
        R, Lp, scale, _, info = sla.lapack.dtgsyl(A11, A22, -A12, E11, E22, -E12)
        if info != 0 or not np.all(np.isfinite(R)):
            raise SingularMatrixError("the generalized Sylvester equation separating finite and infinite "
                                      f"eigenvalues failed (dtgsyl info {info}); the pencil is near singular")
        R, L = R / scale, -Lp / scale
    else:
        R, L = np.zeros((k, ninf)), np.zeros((k, ninf))
    B1 = QB[:k] + L @ QB[k:]
    B2 = QB[k:]
    C1 = CZ[:, :k]
    C2 = CZ[:, :k] @ R + CZ[:, k:]
    poly = [D.copy()]
    T = Z[:, k:] + Z[:, :k] @ R  # x = Vp x_1 + T x_2 in the decoupled coordinates
    states = [np.zeros((n, B.shape[1]))]
    if ninf:
        lu = sla.lu_factor(A22)
        X = sla.lu_solve(lu, B2)  # A22^{-1} B2
        poly[0] = poly[0] - C2 @ X
        states[0] = -T @ X
        for _ in range(ninf):
            X = sla.lu_solve(lu, E22 @ X)  # N^j A22^{-1} B2
            Mk = -C2 @ X
            if not np.any(X):
                break
            poly.append(Mk)
            states.append(-T @ X)
        # trailing terms at the roundoff of the infinite part (~ sqrt(eps) for index 2) are noise:
        # small against the largest term, or against the scale ||C|| ||B|| ||E||^k / ||A||^(k+1) of
        # s^k M_k (a Stokes system has no polynomial part, and its computed M_1 ~ 1e-13 of that scale
        # made a 10-state chain of noise when measured only against the largest, itself noise)
        big = max(np.abs(Mk).max() for Mk in poly)
        cb = np.linalg.norm(C, 1) * np.linalg.norm(B, 1)
        while len(poly) > 1 and np.abs(poly[-1]).max() <= POLY_RTOL * max(
                big, cb * ne ** (len(poly) - 1) / na ** len(poly)):
            poly.pop()
        del states[len(poly):]
    Vp = Z[:, :k]
    Wp = Q[:, :k] + Q[:, k:] @ L.T
    return DescriptorSplit(A11=A11, E11=E11, B1=B1, C1=C1, polynomial=tuple(poly), to_original=(Vp, Wp),
                           n_infinite=ninf, state_polynomial=tuple(states))


def input_derivatives(u, h: float, order: int):
    """[u, u', ..., u^(order)] of inputs sampled every ``h`` seconds (rows = times): repeated
    second-order central differences (``numpy.gradient``, one-sided second order at the ends)."""
    out = [u]
    for _ in range(order):
        if u.shape[0] < 3:
            raise InputError("the DAE's transfer function has s-terms (G = ... + s M_1 + ...): its output "
                             "needs derivatives of u; give at least 3 time points")
        out.append(np.gradient(out[-1], h, axis=0, edge_order=2))
    return out


def simulate_split(sys, t, u, x0, return_states: bool):
    """Time response of a DAE (continuous time, moderate n) from its split (module docstring): the
    proper part E11 x_1' = A11 x_1 + B1 u simulated exactly for a piecewise-linear u (first-order
    hold, :meth:`LTISystem.simulate`), then y = C1 x_1 + sum_k M_k u^(k) and
    x = Vp x_1 + sum_k X_k u^(k).

    The derivatives u^(k) of an s-term come from the samples (:func:`input_derivatives`): second-order
    accurate for a smooth input; a jump in u is an impulse in y, and the samples only approximate it.
    Only the differential part of ``x0`` counts: x_1(0) = E11^{-1} Wp^T E x0 (the algebraic part of a
    DAE's state is fixed by u, so an inconsistent x0 is projected, not an error).

    ``t`` must be uniform (checked by the caller), ``u`` of shape (nt, m), ``x0`` of shape (n,).
    """
    from physfact.control.lti import TimeResponse

    split = sys.dae_split
    Vp, Wp = split.to_original
    E = sys.E.toarray() if hasattr(sys.E, "toarray") else sys.E
    x10 = np.linalg.solve(split.E11, Wp.T @ (E @ x0)) if np.any(x0) else np.zeros(split.A11.shape[0])
    h = float(t[1] - t[0]) if t.size > 1 else 1.0
    derivs = input_derivatives(u, h, len(split.polynomial) - 1)
    proper = split.proper_system().simulate(t, u, x0=x10, return_states=return_states)
    y = proper.y + sum(d @ Mk.T for d, Mk in zip(derivs[1:], split.polynomial[1:]))
    x = None
    if return_states:
        x = proper.x @ Vp.T + sum(d @ Xk.T for d, Xk in zip(derivs, split.state_polynomial))
    return TimeResponse(t=t, y=np.asarray(y), x=x)


def polynomial_realization(coefficients, rtol: float = 1e-13):
    """Descriptor realization (A, E, B, C) of sum_{k >= 1} s^k M_k (``coefficients`` = (M_1, M_2, ...)):
    per term a chain of k + 1 blocks of size rank(M_k) with E the block shift and A = I. Singular
    values of M_k below ``rtol`` times the largest coefficient norm are dropped."""
    blocks = []
    scale = max((np.linalg.norm(Mk, 2) for Mk in coefficients), default=0.0)
    for k, Mk in enumerate(coefficients, start=1):
        U, sv, Vt = np.linalg.svd(Mk, full_matrices=False)
        q = int(np.count_nonzero(sv > rtol * scale))
        if q == 0:
            continue
        Uq, Vq = U[:, :q] * sv[:q], Vt[:q]
        N = np.kron(np.eye(k + 1, k=1), np.eye(q))
        Bk = np.zeros(((k + 1) * q, Mk.shape[1]))
        Bk[-q:] = Vq
        Ck = np.zeros((Mk.shape[0], (k + 1) * q))
        Ck[:, :q] = -Uq
        blocks.append((np.eye((k + 1) * q), N, Bk, Ck))
    if not blocks:
        return None
    return (sla.block_diag(*[b[0] for b in blocks]), sla.block_diag(*[b[1] for b in blocks]),
            np.vstack([b[2] for b in blocks]), np.hstack([b[3] for b in blocks]))


def dae_balanced_truncation(sys, rank=None, tol=None, method="sr", alpha=None, t0=None, progress=None,
                            frequency_band=None):
    """Balanced truncation of a DAE: the proper part reduced, the polynomial part kept exactly
    (called by :func:`~physfact.control.balanced_truncation.balanced_truncation` for singular E).
    ``progress``: phases "QZ split (finite/infinite eigenvalues)", then the Gramians of the proper part.
    With ``frequency_band`` the proper part is reduced by frequency-limited BT; ``info["band_error"]``
    is then the sampled in-band error of the proper part, which is also that of the whole DAE (the
    polynomial part is kept exactly)."""
    import dataclasses
    import time

    from physfact.control.balanced_truncation import balanced_truncation
    from physfact.control.lti import LTISystem

    t0 = time.perf_counter() if t0 is None else t0
    if sys.is_discrete:
        raise InputError("singular E in discrete time is not supported; pass a nonsingular E")
    from physfact.progress import step

    with step(progress, "QZ split (finite/infinite eigenvalues)"):
        split = sys.dae_split  # computed once per system (cached; size-checked for a sparse E)
    D = sys.D
    if split.A11.shape[0] == 0:
        raise InputError("the system has no finite poles (a polynomial transfer function): nothing to reduce")
    proper = LTISystem(split.A11, split.B1, split.C1, np.zeros_like(D), split.E11)
    res = balanced_truncation(proper, rank=rank, tol=tol, method=method, alpha=alpha, solver="hammarling",
                              progress=progress, frequency_band=frequency_band)
    rom = res.rom
    Ar, Br, Cr, Dr = rom.A, rom.B, rom.C, rom.D + split.polynomial[0]
    Er = np.eye(Ar.shape[0])
    real = polynomial_realization(split.polynomial[1:])
    extra = 0
    if real is not None:
        Ap, Ep, Bp, Cp = real
        extra = Ap.shape[0]
        Ar, Er = sla.block_diag(Ar, Ap), sla.block_diag(Er, Ep)
        Br, Cr = np.vstack([Br, Bp]), np.hstack([Cr, Cp])
    rom_full = LTISystem(Ar, Br, Cr, Dr, None if extra == 0 else Er)
    Vp, Wp = split.to_original
    info = dict(res.info, polynomial=split.polynomial, n_infinite=split.n_infinite, polynomial_states=extra,
                proper_order=res.order)
    return dataclasses.replace(res, rom=rom_full, V=Vp @ res.V, W=Wp @ res.W, order=res.order + extra,
                               solver=res.solver + "+dae-split", seconds=time.perf_counter() - t0, info=info)
