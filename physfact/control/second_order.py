r"""Second-order systems and second-order balanced truncation (SOBT).

.. math::  M q''(t) + D q'(t) + K q(t) = B u(t), \qquad y(t) = C_p q(t) + C_v q'(t),

G(s) = (C_p + s C_v)(s^2 M + s D + K)^{-1} B. First-order form x = [q; q'] (n = 2 n_q):
E = blkdiag(I, M), A = [[0, I], [-K, -D]], B_1 = [0; B], C_1 = [C_p, C_v].

SOBT (Reis & Stykel, "Balanced truncation model reduction of second-order systems", Math. Comput.
Model. Dyn. Syst. 14 (2008) 391; Meyer & Srinivasan, IEEE TAC 41 (1996) 1632 for "fv"): with the
first-order Gramian factors P = L_c L_c^T, Q = L_o L_o^T split into position and velocity rows,
L_c = [L_cp; L_cv], L_o = [L_op; L_ov], the position/velocity Gramian products give

=========  ==================================  ===========================================
variant    V (right basis) from                W (left basis) from
=========  ==================================  ===========================================
``p``      svd(L_op^T L_cp): L_cp V_p          svd(L_ov^T M L_cv): L_ov U_v
``v``      svd(L_ov^T M L_cv): L_cv V_v        L_ov U_v
``pv``     svd(L_ov^T M L_cp): L_cp V_pv       L_ov U_pv
``vp``     svd(L_op^T L_cv): L_cv V_vp         svd(L_ov^T M L_cv): L_ov U_v
``fv``     svd(L_op^T L_cp): L_cp V_p          W = V (free velocity: a congruence)
=========  ==================================  ===========================================

(leading r singular vectors), and the ROM keeps the structure:
M_r = W^T M V, D_r = W^T D V, K_r = W^T K V, B_r = W^T B, C_pr = C_p V, C_vr = C_v V. This is
the convention of pyMOR's ``SOBT{p,v,pv,vp,fv}Reductor``; ``method="bfsr"`` orthonormalizes V and W,
``"sr"`` scales them by sigma_k^{-1/2}. There is no a-priori error bound for these variants;
``fv`` with symmetric positive definite M, D, K keeps stability by construction.

Gramian factors: dense from one QZ form of the first-order pencil (no E^{-1}: E is often badly
conditioned, LF10: cond(E) ~ 3e10), or low-rank by LR-ADI on the sparse energy form of the first-order
pencil, E' = blkdiag(K, M), A' = [[0, K], [-K, -D]] (see :func:`_lowrank_factors`; only sparse blocks
are formed, each shifted solve factors the sparse 2 n_q x 2 n_q pencil).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.control.lti import LTISystem
from physfact.errors import InputError
from physfact.validation import as_matrix, check_int, check_positive

VARIANTS = ("p", "v", "pv", "vp", "fv")


def _dense_or_sparse(X, name, shape):
    X = as_matrix(X, name)
    if X.shape != shape:
        raise InputError(f"{name} must have shape {shape}, got {X.shape}")
    return X


def _thin(X, name, rows=None, cols=None, as_row=False):
    """Dense 2-D float array (a 1-D input is a column, or a row with ``as_row``), shape-checked."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[None, :] if as_row else X[:, None]
    if X.ndim != 2 or (rows is not None and X.shape[0] != rows) or (cols is not None and X.shape[1] != cols):
        want = f"({rows if rows is not None else 'any'}, {cols if cols is not None else 'any'})"
        raise InputError(f"{name} must have shape {want}, got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise InputError(f"{name} has non-finite entries")
    return X


class SecondOrderSystem:
    """M q'' + D q' + K q = B u, y = Cp q + Cv q' (continuous time).

    Parameters
    ----------
    M, D, K : (n_q, n_q) arrays or scipy.sparse
        Mass, damping and stiffness.
    B : (n_q, m) array
    Cp : (p, n_q) array
        Position output.
    Cv : (p, n_q) array, optional
        Velocity output (zero by default).

    Attributes
    ----------
    nq : int
        Number of positions; ``n = 2 nq`` is the order of the first-order realization.
    """

    def __init__(self, M, D, K, B, Cp, Cv=None):
        K = as_matrix(K, "K", square=True)
        nq = K.shape[0]
        self.K = K
        self.M = _dense_or_sparse(M, "M", (nq, nq))
        self.D = _dense_or_sparse(D, "D", (nq, nq))
        self.B = _thin(B, "B", rows=nq)
        self.Cp = _thin(Cp, "Cp", cols=nq, as_row=True)
        self.Cv = np.zeros_like(self.Cp) if Cv is None else _thin(Cv, "Cv", *self.Cp.shape, as_row=True)
        self._first = None

    @property
    def nq(self) -> int:
        return self.K.shape[0]

    @property
    def n(self) -> int:
        """Order of the first-order realization (2 n_q)."""
        return 2 * self.nq

    @property
    def m(self) -> int:
        return self.B.shape[1]

    @property
    def p(self) -> int:
        return self.Cp.shape[0]

    @property
    def is_sparse(self) -> bool:
        return any(sp.issparse(X) for X in (self.M, self.D, self.K))

    @property
    def is_discrete(self) -> bool:
        return False

    def __repr__(self):
        return (f"SecondOrderSystem(n_q={self.nq}, m={self.m}, p={self.p}, "
                f"{'sparse' if self.is_sparse else 'dense'})")

    def to_first_order(self) -> LTISystem:
        """x = [q; q']: E = blkdiag(I, M), A = [[0, I], [-K, -D]], B = [0; B], C = [Cp, Cv]."""
        if self._first is None:
            nq = self.nq
            if self.is_sparse:
                Z, Id = sp.csr_matrix((nq, nq)), sp.eye(nq, format="csr")
                A = sp.bmat([[Z, Id], [-sp.csr_matrix(self.K), -sp.csr_matrix(self.D)]], format="csr")
                E = sp.block_diag([Id, sp.csr_matrix(self.M)], format="csr")
            else:
                Z, Id = np.zeros((nq, nq)), np.eye(nq)
                A = np.block([[Z, Id], [-self.K, -self.D]])
                E = sla.block_diag(Id, self.M)
            B = np.vstack([np.zeros_like(self.B), self.B])
            self._first = LTISystem(A, B, np.hstack([self.Cp, self.Cv]), None, E)
        return self._first

    def freqresp(self, omega) -> np.ndarray:
        """G(i w) = (Cp + i w Cv)(K + i w D - w^2 M)^{-1} B, shape (len(omega), p, m); w in rad/s."""
        from physfact.validation import as_array

        omega = as_array(omega, "omega", ndim=(0, 1)).ravel()
        out = np.empty((omega.size, self.p, self.m), dtype=complex)
        for i, w in enumerate(omega):
            s = 1j * w
            Ks = s * s * self.M + s * self.D + self.K
            if sp.issparse(Ks):
                from scipy.sparse.linalg import splu

                X = splu(sp.csc_matrix(Ks, dtype=complex)).solve(self.B.astype(complex))
            else:
                X = np.linalg.solve(Ks, self.B)
            out[i] = (self.Cp + s * self.Cv) @ X
        return out

    # ------------------------------------------------------------------ files
    #: the ``kind`` written into .npz/.h5 files; :func:`load_second_order_file` also reads the
    #: reduced models of ``physfact bt --out`` for second-order models (``sobt_rom``)
    FILE_KIND = "second_order_system"
    READABLE_KINDS = ("second_order_system", "sobt_rom")

    def save(self, path, kind: str = FILE_KIND, attrs: dict | None = None, **extra):
        """Write M, D, K, B, Cp, Cv (dense) to ``path`` (.npz or .h5 by the suffix; atomic), with
        ``extra`` arrays and scalar ``attrs`` beside them. Returns the path."""
        from physfact.io import save_arrays

        dense = {k: (X.toarray() if sp.issparse(X) else X) for k, X in
                 (("M", self.M), ("D", self.D), ("K", self.K), ("B", self.B), ("Cp", self.Cp), ("Cv", self.Cv))}
        return save_arrays(path, kind, attrs=attrs, **dense, **extra)

    @classmethod
    def load(cls, path) -> "SecondOrderSystem":
        """Read a system written by :meth:`save` or by ``physfact bt MODEL --out`` for a second-order
        model (.npz or .h5); see :func:`load_second_order_file`."""
        return load_second_order_file(path).obj

    def poles(self):
        return self.to_first_order().poles()

    def is_stable(self) -> bool:
        return self.to_first_order().is_stable()

    def hinf_norm(self, *args, **kwargs):
        return self.to_first_order().hinf_norm(*args, **kwargs)

    def __sub__(self, other):
        other = other.to_first_order() if isinstance(other, SecondOrderSystem) else other
        return self.to_first_order() - other

    def __rsub__(self, other):
        return other - self.to_first_order()


#: the fields of a second-order system file that make the system; the rest is metadata
SYSTEM_FIELDS = ("M", "D", "K", "B", "Cp", "Cv")


def load_second_order_file(path):
    """The :class:`SecondOrderSystem` of a ``second_order_system`` / ``sobt_rom`` file and the file's
    other fields (Hankel-like singular values, bases, variant ...), as a :class:`physfact.io.WithMeta`
    (the loader of :func:`physfact.io.load`).

    M, D, K, B and Cp are required (refused when missing, never completed with zeros); Cv defaults
    to zero.

    Raises
    ------
    DataFileError
        Missing, damaged or cut-short file; another kind; missing or inconsistent matrices.
    """
    from physfact.control.lti import read_system_file

    return read_system_file(path, SecondOrderSystem.READABLE_KINDS, "second-order system", SYSTEM_FIELDS,
                            SYSTEM_FIELDS[:-1], lambda f: SecondOrderSystem(*(f[k] for k in SYSTEM_FIELDS[:-1]),
                                                                            f.get("Cv")))


@dataclass(frozen=True, repr=False)
class SOBTResult:
    """Result of :func:`second_order_balanced_truncation`.

    Attributes
    ----------
    rom : SecondOrderSystem
        Structured reduced model of n_q = ``order`` positions.
    hsv : ndarray
        The singular values of the variant's Gramian product that chose V (non-increasing).
    V, W : ndarray, shape (n_q, order)
        Right and left bases (M_r = W^T M V, ...).
    order : int
    variant : str
    method : str
    solver : str
        "hammarling-qz" (dense) or the ADI solver's name.
    seconds : float
    info : dict
    """

    rom: SecondOrderSystem
    hsv: np.ndarray
    V: np.ndarray
    W: np.ndarray
    order: int
    variant: str
    method: str
    solver: str
    seconds: float
    info: dict = field(default_factory=dict)

    def __repr__(self):
        return (f"SOBTResult(n_q={self.V.shape[0]} -> r={self.order}, variant={self.variant!r}, "
                f"method={self.method!r}, solver={self.solver!r}, seconds={self.seconds:.3g})")


def _svd(X):
    return sla.svd(X, full_matrices=False, lapack_driver="gesdd", check_finite=False)


def _variant_bases(variant, Lcp, Lcv, Lop, Lov, M):
    """(Vfull, Wfull, s): unscaled candidate bases (columns ordered by s) and singular values."""
    MLcv = M @ Lcv
    if variant in ("p", "fv"):
        _, s, Vt = _svd(Lop.T @ Lcp)
        V = Lcp @ Vt.T
        if variant == "fv":
            return V, V, s
        Uv = _svd(Lov.T @ MLcv)[0]
        return V, Lov @ Uv, s
    if variant == "v":
        U, s, Vt = _svd(Lov.T @ MLcv)
        return Lcv @ Vt.T, Lov @ U, s
    if variant == "pv":
        U, s, Vt = _svd(Lov.T @ (M @ Lcp))
        return Lcp @ Vt.T, Lov @ U, s
    Uv = _svd(Lov.T @ MLcv)[0]  # "vp"
    _, s, Vt = _svd(Lop.T @ Lcv)
    return Lcv @ Vt.T, Lov @ Uv, s


def _lowrank_factors(sos, fo, adi_tol, adi_options, progress=None):
    """Gramian factors of the first-order form by LR-ADI on its *energy* realization
    E' = blkdiag(K, M), A' = [[0, K], [-K, -D]] (the equations of the first-order form multiplied by
    T = blkdiag(K, I) on the left). Same states, so the same P; Q = T^T Q' T, i.e.
    L_o = [K^T L_o'_p; L_o'_v]. With K, M symmetric positive definite and D >= 0 the pencil is
    dissipative (A' + A'^T <= 0, E' > 0): every Galerkin projection is stable, so the projection
    shifts have no right-half-plane Ritz values (in the standard form they do, and each costs an
    eigensolve to rule out an unstable pole: 60% of the time on a 1000-mass chain)."""
    from physfact.control.balanced_truncation import share_factorizations
    from physfact.control.lradi import lradi, lradi_pair
    from physfact.progress import phase

    nq = sos.nq
    K, D, M = (sp.csr_matrix(X) for X in (sos.K, sos.D, sos.M))
    Z = sp.csr_matrix((nq, nq))
    A = sp.bmat([[Z, K], [-K, -D]], format="csr")
    E = sp.block_diag([K, M], format="csr")
    opts = dict(adi_options)
    separate = opts.pop("separate", None)
    if separate is None:
        separate = not share_factorizations(fo.m, fo.p)
    if separate:
        fc = lradi(A, fo.B, E, tol=adi_tol, progress=phase(progress, "Gramian 1/2"), **opts)
        fob = lradi(A, fo.C.T, E, trans=True, tol=adi_tol, progress=phase(progress, "Gramian 2/2"), **opts)
    else:
        fc, fob = lradi_pair(A, fo.B, fo.C, E, tol=adi_tol, progress=phase(progress, "Gramians 1+2/2"), **opts)
    Lo = np.vstack([K.T @ fob.Z[:nq], fob.Z[nq:]])
    return fc.Z, Lo, fc, fob


def second_order_balanced_truncation(sos: SecondOrderSystem, rank: int | None = None, tol: float | None = None,
                                     variant: str = "p", method: str = "bfsr", solver: str = "auto",
                                     adi_tol: float = 1e-10, progress=None, **adi_options) -> SOBTResult:
    """Structure-preserving balanced truncation of a second-order system (see module docstring).

    Parameters
    ----------
    sos : SecondOrderSystem
        Asymptotically stable.
    rank : int, optional
        Number of reduced positions r (the first-order ROM has order 2 r).
    tol : float, optional
        Smallest r with 2 * sum(hsv[r:]) <= tol -- a heuristic: SOBT has no error bound.
    variant : {"p", "v", "pv", "vp", "fv"}
    method : {"bfsr", "sr"}
        Orthonormal bases (default, as pyMOR) or sigma^{-1/2}-scaled ones.
    solver : {"auto", "hammarling", "adi"}
        Dense (QZ of the first-order pencil) or low-rank ADI; "auto": ADI for sparse models with
        2 n_q > 2000.
    adi_tol, adi_options :
        Passed to the LR-ADI solver.
    progress : callable, optional
        A progress factory (:mod:`physfact.progress`, e.g. :meth:`physfact.console.Console.progress`):
        "QZ form of the first-order pencil" and "Gramian 1/2", "Gramian 2/2" (Hammarling columns), or
        the LR-ADI iterations with their residual.

    Returns
    -------
    SOBTResult
    """
    t0 = time.perf_counter()
    if not isinstance(sos, SecondOrderSystem):
        raise InputError(f"second_order_balanced_truncation needs a SecondOrderSystem, got {type(sos).__name__}")
    if variant not in VARIANTS:
        raise InputError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if method not in ("bfsr", "sr"):
        raise InputError(f"method must be 'bfsr' or 'sr', got {method!r}")
    if solver not in ("auto", "hammarling", "adi"):
        raise InputError(f"solver must be 'auto', 'hammarling' or 'adi', got {solver!r}")
    rank = check_int(rank, "rank", minimum=1)
    tol = check_positive(tol, "tol")
    if rank is None and tol is None:
        raise InputError("give the number of reduced positions (rank=...) or tol=...")
    fo = sos.to_first_order()
    if solver == "auto":
        from physfact.control.lyapunov import AUTO_DENSE_LIMIT

        solver = "adi" if (sos.is_sparse and fo.n > AUTO_DENSE_LIMIT) else "hammarling"
    info = {}
    if solver == "adi":
        Lc, Lo, fc, fob = _lowrank_factors(sos, fo, adi_tol, adi_options, progress)
        used = fc.method
        info.update(factor_columns=(Lc.shape[1], Lo.shape[1]), residuals=(fc.residual, fob.residual))
    else:
        from physfact.control.hammarling import QZGramianSolver

        from physfact.progress import step

        A, B, C, _, E = fo.dense_matrices()
        with step(progress, "QZ form of the first-order pencil"):
            qz = QZGramianSolver(A, np.eye(fo.n) if E is None else E)  # E is None when M = I
        (Lc, Lo), used = qz.factors(B, C, progress), "hammarling-qz"
    nq = sos.nq
    Vall, Wall, s = _variant_bases(variant, Lc[:nq], Lc[nq:], Lo[:nq], Lo[nq:], sos.M)
    from physfact.control.balanced_truncation import choose_order

    r = min(choose_order(s, rank, tol), int(np.count_nonzero(s > 0)), nq)
    V, W = Vall[:, :r], Wall[:, :r]
    if method == "sr":
        scale = 1.0 / np.sqrt(s[:r])
        V, W = V * scale, W * scale
    else:
        V = np.linalg.qr(V)[0]
        W = V if variant == "fv" else np.linalg.qr(W)[0]

    def proj(X):
        return W.T @ (X @ V)

    rom = SecondOrderSystem(proj(sos.M), proj(sos.D), proj(sos.K), W.T @ sos.B, sos.Cp @ V, sos.Cv @ V)
    return SOBTResult(rom=rom, hsv=s, V=V, W=W, order=r, variant=variant, method=method, solver=used,
                      seconds=time.perf_counter() - t0, info=info)
