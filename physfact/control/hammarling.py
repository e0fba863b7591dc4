r"""Hammarling's factor-direct method for dense Lyapunov and Stein equations.

Solves, for the Cholesky factor L of X = L L^T *without ever forming X*,

* continuous time:  A X E^T + E X A^T + B B^T = 0,
* discrete time (Stein):  A X A^T - E X E^T + B B^T = 0,

and the observability forms (``trans=True``, B := C^T): A^T X E + E^T X A + C^T C = 0 and
A^T X A - E^T X E + C^T C = 0.

Method (Hammarling, IMA J. Numer. Anal. 2 (1982) 303-323)
--------------------------------------------------------
1. E is removed by an LU of E: with \hat A = E^{-1} A the controllability equation becomes
   \hat A X + X \hat A^T + (E^{-1}B)(E^{-1}B)^T = 0 with the same X; the observability equation
   becomes \hat A^T \hat X + \hat X \hat A + C^T C = 0 for \hat X = E^T X E, so its factor is
   E^{-T} \hat L (balanced truncation only ever needs \hat L = E^T L, since L_o^T E L_c = \hat L_o^T L_c).
   This reduction costs accuracy when E is ill-conditioned; below rcond(E) = 1e-6 (continuous
   time) :class:`QZGramianSolver` is used instead: the generalized recursion on the complex QZ
   form of (A, E), with no E^{-1} at all.
2. One real Schur form \hat A = Q_r T_r Q_r^T (LAPACK ``dgees``) is converted to the complex Schur
   form T = G^H T_r G (one 2x2 rotation per complex pair) and serves both Gramians: the
   observability equation uses the flipped conjugate transpose J T^H J, again upper triangular.
3. The triangular equation T U U^H + U U^H T^H = -B B^H is solved for upper-triangular U one column
   at a time from the last: with T = [T_1 t; 0 \lambda], U = [U_1 u; 0 \nu], B = [B_1; b],

   .. math::  \nu = \|b\| / \sqrt{-2\,\mathrm{Re}\,\lambda},\quad
              (T_1 + \bar\lambda I) u = -B_1 b^H/\nu - \nu t,\quad
              B_1 \leftarrow B_1 - u b/\nu ,

   and for the Stein equation (\alpha^2 = 1 - |\lambda|^2, c = b^H/\nu, \hat c = c/\alpha)

   .. math::  \nu = \|b\|/\alpha,\quad (\bar\lambda T_1 - I) u = -B_1 c - \bar\lambda\nu t,\quad
              w = T_1 u + \nu t,\quad
              B_1 \leftarrow B_1 + (\lambda - 1)(B_1\hat c)\hat c^H - w c^H .

   Each step is one triangular solve (BLAS ``ztrsv`` on the leading block, no copies) plus rank-m
   updates: O(n^3/3) complex flops in all, and B keeps its m columns (no QR of B is needed).
4. The complex factor G U (rotated back to the real Schur basis) is made real by one QR:
   X = (GU)(GU)^H = Re(GU)Re(GU)^T + Im(GU)Im(GU)^T = R^T R with R from the QR of
   [Re(GU)^T; Im(GU)^T]. The returned factor is L = Q_r R^T.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla

from physfact.control._blas import single_blas_thread, trsv_upper_leading
from physfact.control.lyapunov_result import LyapunovFactor
from physfact.errors import InputError, UnstableSystemError


class ComplexSchur:
    """Complex Schur form of a real matrix, kept as real Schur vectors plus 2x2 rotations.

    ``A = Q_r G T G^H Q_r^T`` with ``T`` complex upper triangular (Fortran order), ``Q_r`` real
    orthogonal and ``G`` block diagonal (one 2x2 unitary block per complex-conjugate pair).

    Parameters
    ----------
    A : ndarray, shape (n, n), real
    """

    def __init__(self, A: np.ndarray):
        A = np.asarray(A, dtype=float)
        Tr, Qr = sla.schur(A, output="real", check_finite=False)
        T = np.array(Tr, dtype=complex, order="F")
        n = T.shape[0]
        eps = np.finfo(float).eps
        rotations = []  # (m, G^H): the columns m-1, m of Q_r are mixed by G^H
        # The rotation of scipy.linalg.rsf2csf, but recorded instead of applied to Q_r (saves a
        # complex n^3 product); 2x2 blocks are disjoint so the rotations commute.
        for m in range(n - 1, 0, -1):
            if abs(T[m, m - 1]) > eps * (abs(T[m - 1, m - 1]) + abs(T[m, m])):
                mu = np.linalg.eigvals(T[m - 1:m + 1, m - 1:m + 1]) - T[m, m]
                r = np.hypot(abs(mu[0]), abs(T[m, m - 1]))
                c = mu[0] / r
                s = T[m, m - 1] / r
                G = np.array([[np.conj(c), s], [-s, c]])
                T[m - 1:m + 1, m - 1:] = G @ T[m - 1:m + 1, m - 1:]
                T[:m + 1, m - 1:m + 1] = T[:m + 1, m - 1:m + 1] @ G.conj().T
                rotations.append((m, G.conj().T))
            T[m, m - 1] = 0.0
        self.T = T
        self.Qr = Qr
        self.rotations = rotations
        self.n = n

    @property
    def eigenvalues(self) -> np.ndarray:
        return np.diag(self.T).copy()

    def to_complex_basis(self, X: np.ndarray) -> np.ndarray:
        """G^H Q_r^T X (coordinates in the complex Schur basis)."""
        Y = (self.Qr.T @ X).astype(complex)
        for m, GH in self.rotations:
            Y[m - 1:m + 1] = GH.conj().T @ Y[m - 1:m + 1]
        return Y

    def rotate_rows(self, U: np.ndarray) -> np.ndarray:
        """G U: rows from the complex to the real Schur basis (in place on a copy)."""
        Y = np.array(U, dtype=complex)
        for m, GH in self.rotations:
            Y[m - 1:m + 1] = GH @ Y[m - 1:m + 1]
        return Y

    def flipped_adjoint(self) -> np.ndarray:
        """J T^H J (upper triangular, Fortran order): the Schur form of A^T in the flipped basis."""
        return np.asfortranarray(self.T[::-1, ::-1].conj().T)


def check_stable_spectrum(eigs: np.ndarray, discrete: bool, what: str = "A"):
    """Raise UnstableSystemError unless every eigenvalue lies in the open left half-plane
    (continuous) or the open unit disk (discrete)."""
    if discrete:
        bad = np.abs(eigs) >= 1.0
        if np.any(bad):
            raise UnstableSystemError(
                f"{what} has {int(bad.sum())} eigenvalue(s) on or outside the unit circle (max |lambda| = "
                f"{np.abs(eigs).max():.6g}); the Stein equation needs a Schur-stable matrix — for "
                "balanced truncation pass the system itself, which splits off the unstable part")
    else:
        bad = eigs.real >= 0.0
        if np.any(bad):
            raise UnstableSystemError(
                f"{what} has {int(bad.sum())} eigenvalue(s) with non-negative real part (max Re = "
                f"{eigs.real.max():.6g}); the Lyapunov equation needs a Hurwitz-stable matrix — for "
                "balanced truncation pass the system itself, which splits off the unstable part")


def hammarling_triangular(T: np.ndarray, B: np.ndarray, discrete: bool = False, fast: bool = True,
                          bar=None) -> np.ndarray:
    """Upper-triangular U with T U U^H + U U^H T^H + B B^H = 0 (or T U U^H T^H - U U^H + B B^H = 0).

    Parameters
    ----------
    T : ndarray, complex, shape (n, n), upper triangular, Fortran order
        Stable: Re diag(T) < 0 (continuous) or |diag(T)| < 1 (discrete). Used as workspace (its
        diagonal is shifted and restored), so it must be writable.
    B : ndarray, complex, shape (n, m)
    discrete : bool
        Solve the Stein equation.
    fast : bool
        Use the copy-free BLAS triangular solve (see :mod:`physfact.control._blas`).
    bar : optional
        A progress bar (tqdm-like ``update(k)``) advanced by the columns of U done (n in all).

    Returns
    -------
    U : ndarray, complex, shape (n, n), upper triangular with real non-negative diagonal.
    """
    n = T.shape[0]
    beta = float(np.abs(B).max()) if np.size(B) else 0.0
    if beta == 0.0:
        return np.zeros((n, n), dtype=complex, order="F")
    # work with B / beta (scale-invariant underflow threshold below) and scale U back at the end
    W = np.array(B, dtype=complex, order="C") / beta  # the updated right-hand-side factor
    U = np.zeros((n, n), dtype=complex, order="F")
    diag = np.diag(T).copy()
    flat = T.reshape(-1, order="F")  # a view: T is Fortran-contiguous
    didx = np.arange(n) * (n + 1)
    every = max(1, n // 200)  # bar updates: cheap next to a column's O(k^2) solve
    for k in range(n - 1, -1, -1):
        if bar is not None and (n - k) % every == 0:
            bar.update(every)
        lam = diag[k]
        b = W[k].copy()
        bmax = float(np.abs(b).max())
        if bmax < 1e-280:
            continue  # b ~ 0 (relative to max|B|): nu = 0, u = 0, W unchanged
        nb = bmax * float(np.linalg.norm(b / bmax))  # scaled: |b|^2 may underflow
        # c = b^H / nu is formed from the unit direction b / |b|, so that ||c|| equals
        # sqrt(-2 Re lambda) (resp. alpha) to rounding even when |b| is tiny or subnormal
        if discrete:
            alpha = np.sqrt((1.0 - abs(lam)) * (1.0 + abs(lam)))
            nu = nb / alpha
            c = (b.conj() / nb) * alpha
        else:
            root = np.sqrt(-2.0 * lam.real)
            nu = nb / root
            c = (b.conj() / nb) * root
        U[k, k] = nu
        if k == 0:
            break
        t = T[:k, k]
        B1 = W[:k]
        if discrete:
            rhs = -(B1 @ c) - np.conj(lam) * nu * t
            if lam == 0:
                u = -rhs  # (0 * T1 - I) u = rhs
            else:
                # (conj(lam) T1 - I) u = rhs  <=>  (T1 - I / conj(lam)) u = rhs / conj(lam)
                shift = -1.0 / np.conj(lam)
                u = np.ascontiguousarray(rhs / np.conj(lam))
                flat[didx[:k]] = diag[:k] + shift
                trsv_upper_leading(T, k, u, fast=fast)
                flat[didx[:k]] = diag[:k]
            w = T[:k, :k] @ u + nu * t
            chat = c / alpha
            W[:k] = B1 + np.outer((lam - 1.0) * (B1 @ chat), chat.conj()) - np.outer(w, c.conj())
        else:
            u = np.ascontiguousarray(-(B1 @ c) - nu * t)
            flat[didx[:k]] = diag[:k] + np.conj(lam)
            trsv_upper_leading(T, k, u, fast=fast)
            flat[didx[:k]] = diag[:k]
            W[:k] = B1 - np.outer(u, c.conj())  # B1 - u b / nu
        U[:k, k] = u
    U *= beta
    return U


def realify(Y: np.ndarray) -> np.ndarray:
    """Real lower-triangular L with L L^T = Y Y^H for complex Y (requires Y Y^H real).

    One QR of the 2n x n matrix [Re Y^T; Im Y^T] = Q R; then Y Y^H = R^T R (the imaginary parts
    cancel because Y Y^H is real).
    """
    n = Y.shape[0]
    stacked = np.vstack([Y.real.T, Y.imag.T])
    R = sla.qr(stacked, mode="r", overwrite_a=True, check_finite=False)[0][:n]
    return np.ascontiguousarray(R.T)


class DenseGramianSolver:
    """Both Gramian factors of one (E, A) pencil from a single Schur decomposition.

    Parameters
    ----------
    A : ndarray (n, n)
    E : ndarray, sparse or EFactor or None
    discrete : bool
    """

    def __init__(self, A, E=None, discrete: bool = False):
        from physfact.control.descriptor import EFactor

        A = A.toarray() if hasattr(A, "toarray") else np.asarray(A, dtype=float)
        if E is not None and not isinstance(E, EFactor):
            E = EFactor(E)
        self.E = E
        self.discrete = discrete
        self.Ahat = A if E is None else E.solve_matrix(A)
        self.schur = ComplexSchur(self.Ahat)
        check_stable_spectrum(self.schur.eigenvalues, discrete, "E^{-1}A" if E is not None else "A")

    def factor_schur(self, B, trans: bool = False, fast: bool = True, bar=None) -> np.ndarray:
        """Real factor in the real Schur basis: S with S S^T = Q_r^T Xhat Q_r.

        For ``trans=False`` Xhat = P (controllability); for ``trans=True`` Xhat = E^T Q E with B
        the n x p array C^T. ``bar``: a progress bar advanced by columns (see
        :func:`hammarling_triangular`).
        """
        B = np.asarray(B, dtype=float)
        if not trans and self.E is not None:
            B = self.E.solve(B)
        Bs = self.schur.to_complex_basis(B)
        with single_blas_thread():
            if trans:
                Tf = self.schur.flipped_adjoint()
                U = hammarling_triangular(Tf, Bs[::-1], self.discrete, fast=fast, bar=bar)[::-1]  # J U
            else:
                T = np.array(self.schur.T, order="F")  # workspace copy
                U = hammarling_triangular(T, Bs, self.discrete, fast=fast, bar=bar)
        return realify(self.schur.rotate_rows(U))

    def factor(self, B, trans: bool = False, fast: bool = True) -> np.ndarray:
        """Real factor L in the original basis (L L^T = P, or E^T Q E for ``trans``)."""
        return self.schur.Qr @ self.factor_schur(B, trans, fast=fast)


def hammarling(A, B, E=None, trans: bool = False, discrete: bool = False, residual: bool = True) -> LyapunovFactor:
    """Cholesky factor of a dense Lyapunov/Stein solution by Hammarling's method.

    Parameters
    ----------
    A : array_like or sparse, shape (n, n)
    B : array_like, shape (n, m)
        Right-hand side factor (for ``trans=True``: C^T, shape (n, p)).
    E : array_like or sparse, shape (n, n), optional
        Nonsingular descriptor matrix.
    trans : bool
        Observability equation A^T X E + E^T X A + C^T C = 0 (continuous) or
        A^T X A - E^T X E + C^T C = 0 (discrete).
    discrete : bool
        Stein equation instead of Lyapunov.
    residual : bool
        Compute the relative residual ||R||_2 / ||B B^T||_2 (an extra O(n^3), forms n x n products).

    Returns
    -------
    LyapunovFactor
        ``Z`` real n x n with X = Z Z^T (for ``trans=True`` and E: X = Q, Z = E^{-T} Lhat).
    """
    t0 = time.perf_counter()
    from physfact.control.descriptor import EFactor

    A = A.toarray() if hasattr(A, "toarray") else np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    if B.ndim == 1:
        B = B[:, None]
    if B.shape[0] != A.shape[0]:
        raise InputError(f"B must have {A.shape[0]} rows like A, got shape {B.shape}")
    if E is not None:  # dense from here on (the LU also gives the condition estimate)
        E = E.toarray() if hasattr(E, "toarray") else np.asarray(E, dtype=float)
    Ef = EFactor(E) if E is not None else None
    use_qz = Ef is not None and not discrete and np.isfinite(Ef.rcond) and Ef.rcond < QZ_RCOND
    if use_qz:
        L = QZGramianSolver(A, E).factor(B, trans)
    else:
        solver = DenseGramianSolver(A, Ef, discrete)
        L = solver.factor(B, trans)
        if trans and Ef is not None:
            L = Ef.solve(L, trans=True)
    res = np.array([lyapunov_residual(A, B, L, E, trans, discrete)]) if residual else np.array([])
    return LyapunovFactor(Z=L, residuals=res, shifts=np.array([], dtype=complex), method="hammarling",
                          iterations=0, seconds=time.perf_counter() - t0,
                          info={"reduction": "QZ" if use_qz else ("E^-1 (LU)" if E is not None else "none"),
                                "schur": "complex QZ" if use_qz else "complex (from real dgees)",
                                "discrete": discrete})


def lyapunov_residual(A, B, Z, E=None, trans=False, discrete=False) -> float:
    """Relative residual ||R||_2 / ||B B^T||_2 of X = Z Z^T, computed from thin products
    (the 2-norm of the symmetric R = F G^T + G F^T + B B^T via a QR of [F G B])."""
    A = A.toarray() if hasattr(A, "toarray") else np.asarray(A)
    if E is not None:
        E = E.toarray() if hasattr(E, "toarray") else np.asarray(E)
    At = A.T if trans else A
    Et = None if E is None else (E.T if trans else E)
    AZ = At @ Z
    EZ = Z if Et is None else Et @ Z
    B = np.asarray(B, dtype=float)
    if discrete:
        # A X A^T - E X E^T + B B^T = [AZ EZ B] diag(I, -I, I) [AZ EZ B]^T
        F = np.hstack([AZ, EZ, B])
        signs = np.concatenate([np.ones(AZ.shape[1]), -np.ones(EZ.shape[1]), np.ones(B.shape[1])])
    else:
        # AZ (EZ)^T + EZ (AZ)^T = 1/2 [(AZ+EZ)(AZ+EZ)^T - (AZ-EZ)(AZ-EZ)^T]
        F = np.hstack([(AZ + EZ) / np.sqrt(2), (AZ - EZ) / np.sqrt(2), B])
        signs = np.concatenate([np.ones(AZ.shape[1]), -np.ones(AZ.shape[1]), np.ones(B.shape[1])])
    Qf, Rf = np.linalg.qr(F)
    core = (Rf * signs) @ Rf.T
    nr = np.abs(np.linalg.eigvalsh((core + core.T) / 2)).max()
    nb = np.linalg.norm(B, 2) ** 2
    return float(nr / nb) if nb > 0 else float(nr)


#: Below this reciprocal condition number of E the Gramians are computed from the QZ form of
#: (A, E) instead of from E^{-1}A (which loses about log10(1/rcond) digits).
QZ_RCOND = 1e-6


def hammarling_generalized_triangular(S: np.ndarray, T: np.ndarray, B: np.ndarray, bar=None) -> np.ndarray:
    """Upper-triangular U with S U U^H T^H + T U U^H S^H + B B^H = 0 (S, T upper triangular).

    The generalized Hammarling recursion (Penzl, Adv. Comput. Math. 8 (1998) 33, Sec. 2), derived
    from the partition S = [S_1 s; 0 sigma], T = [T_1 t; 0 tau], U = [U_1 u; 0 nu]:

    .. math::  \\nu = \\|b\\| / \\sqrt{-2\\,\\mathrm{Re}(\\sigma\\bar\\tau)},\\quad c = b^H/\\nu,\\quad
               (\\bar\\tau S_1 + \\bar\\sigma T_1) u = -B_1 c - (\\bar\\tau s + \\bar\\sigma t)\\nu,\\quad
               y = S_1 u + \\nu s,\\quad B_1 \\leftarrow B_1 - y c^H / \\sigma .

    (With T = I this is the standard recursion up to a unitary change of the factor's columns.)
    Each step forms the k x k triangular matrix tau^* S_1 + sigma^* T_1: O(n^3) memory traffic in
    all, so it is used only when E is too ill-conditioned for the E^{-1}A reduction. ``bar``: a
    progress bar (tqdm-like ``update(k)``) advanced by the columns done (n in all).
    """
    n = S.shape[0]
    beta = float(np.abs(B).max()) if np.size(B) else 0.0
    U = np.zeros((n, n), dtype=complex)
    if beta == 0.0:
        return U
    W = np.array(B, dtype=complex) / beta
    every = max(1, n // 200)  # bar updates: cheap next to a column's O(k^2) work
    for k in range(n - 1, -1, -1):
        if bar is not None and (n - k) % every == 0:
            bar.update(every)
        sig, tau = S[k, k], T[k, k]
        b = W[k].copy()
        bmax = float(np.abs(b).max())
        if bmax < 1e-280:
            continue
        nb = bmax * float(np.linalg.norm(b / bmax))
        d = -2.0 * (sig * np.conj(tau)).real
        if not d > 0:
            raise UnstableSystemError("the pencil (A, E) has an eigenvalue with non-negative real part; the "
                                      "Lyapunov equation needs a stable pencil")
        root = np.sqrt(d)
        nu = nb / root
        c = (b.conj() / nb) * root
        U[k, k] = nu
        if k == 0:
            break
        s, t = S[:k, k], T[:k, k]
        M = np.conj(tau) * S[:k, :k] + np.conj(sig) * T[:k, :k]
        rhs = -(W[:k] @ c) - (np.conj(tau) * s + np.conj(sig) * t) * nu
        u = sla.solve_triangular(M, rhs, check_finite=False)
        y = S[:k, :k] @ u + nu * s
        W[:k] -= np.outer(y, c.conj()) / sig
        U[:k, k] = u
    U *= beta
    return U


class QZGramianSolver:
    """Both Gramian factors of a continuous-time pencil (A, E) from one complex QZ form.

    A = Q S Z^H, E = Q T Z^H (S, T upper triangular). Controllability: P = Z Y Z^H with
    S Y T^H + T Y S^H + (Q^H B)(Q^H B)^H = 0; observability: Q_o = Q Y_o Q^H with
    S^H Y_o T + T^H Y_o S + (Z^H C^T)(Z^H C^T)^H = 0, solved in the flipped basis
    (J S^H J, J T^H J upper triangular). No E^{-1} appears anywhere.
    """

    def __init__(self, A, E):
        A = A.toarray() if hasattr(A, "toarray") else np.asarray(A, dtype=float)
        E = E.toarray() if hasattr(E, "toarray") else np.asarray(E, dtype=float)
        S, T, Q, Z = sla.qz(A, E, output="complex", check_finite=False)
        self.S, self.T, self.Q, self.Z = S, T, Q, Z
        lam = np.diag(S) / np.where(np.diag(T) == 0, np.nan, np.diag(T))
        if np.any(~np.isfinite(lam)):
            raise UnstableSystemError("the pencil (A, E) has infinite eigenvalues (E singular)")
        check_stable_spectrum(lam, False, "the pencil (A, E)")

    def factor(self, B, trans: bool = False, bar=None) -> np.ndarray:
        """Real L with L L^T = P (``trans=False``) or = Q (``trans=True``, B = C^T). ``bar``: a
        progress bar advanced by columns (n in all)."""
        B = np.asarray(B, dtype=float)
        if trans:
            Sf = self.S[::-1, ::-1].conj().T
            Tf = self.T[::-1, ::-1].conj().T
            Bf = (self.Z.conj().T @ B)[::-1]
            U = hammarling_generalized_triangular(Sf, Tf, Bf, bar=bar)[::-1]
            return realify(self.Q @ U)
        U = hammarling_generalized_triangular(self.S, self.T, self.Q.conj().T @ B, bar=bar)
        return realify(self.Z @ U)

    def factors(self, B, C, progress=None, label="Hammarling, QZ"):
        """(L_c, L_o): both Gramian factors (B, and C as the (p, n) output matrix), each phase
        ("Gramian 1/2 (<label>)", "Gramian 2/2 ...") a bar of columns on ``progress``."""
        n = self.S.shape[0]
        out = []
        for j, (rhs, trans) in enumerate(((B, False), (np.asarray(C).T, True)), start=1):
            bar = progress(None, total=n, desc=f"Gramian {j}/2 ({label})", unit="columns") if progress else None
            try:
                out.append(self.factor(rhs, trans=trans, bar=bar))
            finally:
                if bar is not None:
                    bar.close()
        return tuple(out)
