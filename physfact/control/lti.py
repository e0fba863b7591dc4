r"""Linear time-invariant systems in descriptor state-space form.

Continuous time (``dt=None``):   E x'(t) = A x(t) + B u(t),   y(t) = C x(t) + D u(t),
transfer function G(s) = C (sE - A)^{-1} B + D.
Discrete time (``dt`` > 0):      E x[k+1] = A x[k] + B u[k],  y[k] = C x[k] + D u[k],
G(z) = C (zE - A)^{-1} B + D, evaluated on the unit circle z = exp(i omega dt).

Shapes: A, E (n, n); B (n, m); C (p, n); D (p, m). A and E may be scipy.sparse; B, C, D are dense.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from physfact.errors import InputError, UnstableSystemError
from physfact.validation import as_array, as_matrix

#: Largest order for which sparse systems are converted to dense for O(n^3) operations.
DENSE_LIMIT = 3000


class HinfNorm(float):
    """The H-infinity norm as a float, with how it was obtained.

    Attributes
    ----------
    frequency : float
        A frequency (rad/s; for discrete time rad per time unit, in [0, pi/dt]) where the peak
        gain is attained (approximately).
    method : str
        "hamiltonian" (certified to ``rtol``: the true norm lies in [value, upper]) or "sampling"
        (frequency sampling with local refinement: a lower bound, an *estimate*).
    estimate : bool
        True when the value is not certified (sampling).
    upper : float
        Certified upper bound (``nan`` for estimates).
    """

    def __new__(cls, value, frequency=float("nan"), method="hamiltonian", estimate=False, upper=float("nan")):
        obj = super().__new__(cls, value)
        obj.frequency = float(frequency)
        obj.method = method
        obj.estimate = bool(estimate)
        obj.upper = float(upper)
        return obj

    def __repr__(self):
        tag = "estimate" if self.estimate else f"certified, upper {self.upper:.10g}"
        return f"HinfNorm({float(self):.10g} at omega={self.frequency:.6g}, {self.method}, {tag})"


@dataclass(frozen=True)
class TimeResponse:
    """Output of :meth:`LTISystem.simulate`.

    Attributes
    ----------
    t : ndarray, shape (nt,)
        Time points.
    y : ndarray, shape (nt, p)
        Outputs y(t_k).
    x : ndarray, shape (nt, n) or None
        States (only when ``return_states``).
    """

    t: np.ndarray
    y: np.ndarray
    x: np.ndarray | None = None

    def __repr__(self):
        return f"TimeResponse(nt={self.t.size}, p={self.y.shape[1]})"


def _thin(x, name, rows=None, cols=None, as_row=False):
    if sp.issparse(x):
        x = x.toarray()
    arr = as_array(x, name, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr[None, :] if as_row else arr[:, None]
    return np.ascontiguousarray(arr, dtype=float)


class LTISystem:
    """A linear time-invariant system (E, A, B, C, D), continuous or discrete time.

    Parameters
    ----------
    A : array_like or sparse, shape (n, n)
    B : array_like, shape (n, m)  (a 1-D array is one input column)
    C : array_like, shape (p, n)  (a 1-D array is one output row)
    D : array_like, shape (p, m), optional (default 0)
    E : array_like or sparse, shape (n, n), optional (default identity); singular allowed when the
        pencil (A, E) is regular: a DAE (:mod:`physfact.control.dae`; a sparse E with matching zero
        rows and columns is recognized as semi-explicit, :attr:`semi_explicit`,
        :mod:`physfact.control.dae_index1`)
    dt : float, optional
        Sampling time; None (default) for continuous time.

    Raises
    ------
    InputError
        Non-square A, mismatched shapes, non-finite entries, non-positive dt.
    SingularMatrixError
        The pencil (A, E) singular (checked at construction for n <= 3000, for a sparse semi-explicit
        E and larger n at first use).
    """

    def __init__(self, A, B, C, D=None, E=None, dt=None):
        A = as_matrix(A, "A", square=True)
        n = A.shape[0]
        B = _thin(B, "B")
        C = _thin(C, "C", as_row=True)
        if B.shape[0] != n:
            raise InputError(f"B must have n = {n} rows (A is {n}x{n}), got shape {B.shape}")
        if C.shape[1] != n:
            raise InputError(f"C must have n = {n} columns (A is {n}x{n}), got shape {C.shape}")
        m, p = B.shape[1], C.shape[0]
        if D is None:
            D = np.zeros((p, m))
        else:
            D = _thin(D, "D", as_row=True) if np.ndim(D) else np.full((p, m), float(as_array(D, "D", ndim=0)))
            if D.shape != (p, m):
                raise InputError(f"D must have shape (p, m) = ({p}, {m}), got {D.shape}")
        if E is not None:
            E = as_matrix(E, "E", square=True)
            if E.shape[0] != n:
                raise InputError(f"E must be {n}x{n} like A, got shape {E.shape}")
            if sp.issparse(E):
                E = E.tocsc()
                if (E - sp.eye(n, format="csc")).count_nonzero() == 0:
                    E = None
            elif np.array_equal(E, np.eye(n)):
                E = None
        if dt is not None:
            try:
                dt = float(dt)
            except (TypeError, ValueError):
                raise InputError(f"dt must be a positive number or None, got {dt!r}") from None
            if not np.isfinite(dt) or dt <= 0:
                raise InputError(f"dt must be a positive number (sampling time) or None, got {dt!r}")
        self.A, self.B, self.C, self.D, self.E, self.dt = A, B, C, D, E, dt
        self._efactor = None
        self._schur = None
        self._parts = None  # (G1, G2) for an error system G1 - G2: poles are the union
        self._dae = None  # DescriptorSplit when E is singular (a DAE; physfact.control.dae)
        #: SemiExplicitStructure when a sparse E has matching zero rows and columns (a DAE of the
        #: form E = [[E11, 0], [0, 0]]; physfact.control.dae_index1), found from the pattern; the
        #: dense split is then computed only when needed (:attr:`dae_split`)
        self.semi_explicit = None
        if E is not None and dt is None and sp.issparse(E):
            from physfact.control.dae_index1 import semi_explicit_structure

            self.semi_explicit = semi_explicit_structure(E)
        # validate small E now; a large one at first use: an LU of a large sparse E only to check it
        # (and kept) doubled the memory of a low-rank BT (heat2d n = 66049: +124 MiB), and LR-ADI
        # factors and checks E itself before its first step
        if E is not None and n <= DENSE_LIMIT and self.semi_explicit is None:
            from physfact.errors import SingularMatrixError

            try:
                self.efactor  # noqa: B018 - validates that E is nonsingular
            except SingularMatrixError:
                if dt is not None:
                    raise
                from physfact.control.dae import split_descriptor

                A_, _, _, _, E_ = self.dense_matrices()
                self._dae = split_descriptor(A_, E_, B, C, D)  # raises for a singular pencil

    # ------------------------------------------------------------------ basic properties
    @property
    def n(self) -> int:
        """State dimension."""
        return self.A.shape[0]

    @property
    def m(self) -> int:
        """Number of inputs."""
        return self.B.shape[1]

    @property
    def p(self) -> int:
        """Number of outputs."""
        return self.C.shape[0]

    @property
    def is_discrete(self) -> bool:
        return self.dt is not None

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.A) or sp.issparse(self.E)

    @property
    def is_dae(self) -> bool:
        """True when E is singular (a differential-algebraic system; see :mod:`physfact.control.dae`
        and, for sparse E = [[E11, 0], [0, 0]], :mod:`physfact.control.dae_index1`)."""
        return self._dae is not None or self.semi_explicit is not None

    def _large_index1(self) -> bool:
        """A sparse semi-explicit DAE above :data:`physfact.control.dae_index1.SPLIT_LIMIT`: routine
        operations (simulate, hinf_norm) take the sparse route instead of the dense split."""
        from physfact.control.dae_index1 import SPLIT_LIMIT

        return self.semi_explicit is not None and self._dae is None and self.n > SPLIT_LIMIT

    @property
    def dae_split(self):
        """The dense proper/polynomial split of a DAE (:class:`~physfact.control.dae.DescriptorSplit`;
        None for a nonsingular E), computed at first use for a sparse semi-explicit E (O(n^3): refused
        above n = 3000)."""
        if self._dae is None and self.semi_explicit is not None:
            from physfact.control.dae import split_descriptor

            if self.n > DENSE_LIMIT:
                raise InputError(f"this needs the dense split of the DAE (O(n^3)) and n = {self.n} > {DENSE_LIMIT}; "
                                 "the sparse index-1 route covers balanced_truncation (without alpha=), "
                                 "freqresp and simulate")
            from physfact.validation import check_memory

            # dense A, E, the QZ forms and both transformations, plus LAPACK workspace
            check_memory(8 * 8.0 * self.n**2, f"the dense split of a DAE at n = {self.n}",
                         "use the sparse index-1 route (balanced_truncation(..., solver='adi'))")
            A_, _, _, _, E_ = self.dense_matrices()
            self._dae = split_descriptor(A_, E_, self.B, self.C, self.D)
        return self._dae

    @property
    def efactor(self):
        """LU factors of E (None when E = I)."""
        if self.E is None:
            return None
        if self.is_dae:
            from physfact.errors import SingularMatrixError

            raise SingularMatrixError("E is singular (a DAE): this operation needs E^{-1}; DAEs support "
                                      "freqresp, poles, is_stable, hinf_norm, simulate and balanced_truncation")
        if self._efactor is None:
            from physfact.control.descriptor import EFactor

            self._efactor = EFactor(self.E)
        return self._efactor

    def __repr__(self):
        kind = "continuous" if self.dt is None else f"discrete dt={self.dt:g}"
        storage = "sparse" if self.is_sparse else "dense"
        e = "E" if self.E is not None else "E=I"
        return f"LTISystem(n={self.n}, m={self.m}, p={self.p}, {kind}, {storage}, {e})"

    def dense_matrices(self):
        """(A, B, C, D, E) with A and E as dense arrays (E = None for the identity)."""
        A = self.A.toarray() if sp.issparse(self.A) else self.A
        E = self.E.toarray() if sp.issparse(self.E) else self.E
        return A, self.B, self.C, self.D, E

    def to_dense(self) -> "LTISystem":
        """The same system with dense A and E."""
        A, B, C, D, E = self.dense_matrices()
        return LTISystem(A, B, C, D, E, self.dt)

    def _require_dense_size(self, what):
        if self.is_sparse and self.n > DENSE_LIMIT:
            raise InputError(f"{what} of a sparse system needs dense O(n^3) work and n = {self.n} > "
                             f"{DENSE_LIMIT}; use the sparse alternative named in the docstring")

    def standard_form(self):
        """Dense (E^{-1}A, E^{-1}B, C, D): the same transfer function with E = I."""
        A, B, C, D, E = self.dense_matrices()
        if E is None:
            return A, B, C, D
        ef = self.efactor
        return ef.solve(A), ef.solve(B), C, D

    # ------------------------------------------------------------------ poles and stability
    def poles(self, k=None) -> np.ndarray:
        """Poles: the eigenvalues of the pencil (A, E).

        Parameters
        ----------
        k : int, optional
            Only the k poles nearest the origin (ARPACK, shift-invert at 0; for dissipative systems
            such as heat or structural models these are the slowest, rightmost poles), sorted by
            decreasing real part; required for sparse systems with n > 3000.
        """
        if self.is_dae and (k is None or not self.is_sparse):  # the finite poles (dense split)
            split = self.dae_split
            return LTISystem(split.A11, split.B1, split.C1, None, split.E11).poles(k)
        if k is None and self._parts is not None:
            return _sort_poles(np.concatenate([part.poles() for part in self._parts]), self.is_discrete)
        if k is None:
            from physfact.control._blas import blas_threads_for

            self._require_dense_size("poles() (all poles)")
            A, _, _, _, E = self.dense_matrices()
            with blas_threads_for(self.n):
                lam = sla.eigvals(A) if E is None else sla.eigvals(A, E)
            return _sort_poles(_exact_conjugates(lam), self.is_discrete)
        from scipy.sparse.linalg import LinearOperator, eigs

        from physfact.control.descriptor import sparse_lu

        from physfact.validation import check_int

        k = check_int(k, "k", minimum=1, allow_none=False)
        if k >= self.n - 1:
            return self.poles()[:k]
        # shift-invert at 0: the eigenvalues mu of (A)^{-1} E of largest modulus are the poles
        # lambda = 1/mu nearest the origin (for dissipative systems: the slowest, rightmost ones)
        try:
            lu = sparse_lu(self.A)
        except RuntimeError:
            raise InputError("poles(k=...) uses shift-invert at 0 and A is singular (a pole at 0): "
                             "the system is not asymptotically stable") from None
        E = self.E

        def mv(x):
            return lu.solve(np.asarray(E @ x if E is not None else x, dtype=float))

        op = LinearOperator((self.n, self.n), matvec=mv, dtype=float)
        mu = eigs(op, k=k, which="LM", return_eigenvectors=False, tol=1e-12)
        return _sort_poles(1.0 / mu, self.is_discrete)

    def is_stable(self) -> bool:
        """Asymptotic stability: all poles in the open left half-plane (|z| < 1 for discrete).

        For sparse systems with n > 3000 only the 6 poles nearest the origin (ARPACK shift-invert)
        are checked — a heuristic that is exact for dissipative (e.g. symmetric negative definite)
        models but can miss a far-away unstable pole of a general system.
        """
        lam = self.poles(k=6 if (self.is_sparse and self.n > DENSE_LIMIT) else None)
        return bool(np.all(np.abs(lam) < 1)) if self.is_discrete else bool(np.all(lam.real < 0))

    def _quick_stable(self) -> bool:
        """is_stable(), but for sparse systems with n > 400 only the 6 poles nearest the origin
        (the check used before an H-infinity *estimate*; the certified paths use the full test)."""
        if self._parts is not None:
            return all(part._quick_stable() for part in self._parts)
        if self.is_sparse and self.n > 400:
            lam = self.poles(k=min(6, self.n - 2))
            return bool(np.all(np.abs(lam) < 1)) if self.is_discrete else bool(np.all(lam.real < 0))
        return self.is_stable()

    def _check_stable(self, what, quick=False):
        if not (self._quick_stable() if quick else self.is_stable()):
            raise UnstableSystemError(f"{what} needs an asymptotically stable system; this one has poles "
                                      "outside the stability region")

    # ------------------------------------------------------------------ frequency response
    def _points(self, omega):
        omega = as_array(omega, "omega", ndim=(0, 1)).ravel()
        if self.is_discrete:
            return omega, np.exp(1j * omega * self.dt)
        return omega, 1j * omega

    def _schur_form(self):
        """Cached triangular form for dense evaluation: the complex Schur form of E^{-1}A when E is
        the identity or well conditioned (rcond > 1e-5), otherwise the complex generalized Schur
        (QZ) form of (A, E), which avoids E^{-1} (ill-conditioned E, e.g. LF10 with
        cond(E) ~ 3e10, loses ~6 digits through E^{-1}A). Returns (S, T or None, Q^H B, C Z, to_tri, Z)
        where ``to_tri`` maps a right-hand side of (sE - A) x = r to triangular coordinates and
        x = Z y maps back (used by one step of iterative refinement in :meth:`freqresp`)."""
        if self._schur is None:
            from physfact.control._blas import blas_threads_for
            from physfact.control.descriptor import EFactor

            A, B, C, D, E = self.dense_matrices()
            with blas_threads_for(self.n):
                ef = EFactor(E) if (E is not None and not self.is_dae) else None
                if (ef is None and E is None) or (ef is not None and ef.rcond > 1e-5):
                    Ah, Bh = (ef.solve(A), ef.solve(B)) if ef is not None else (A, B)
                    S, Z = sla.rsf2csf(*sla.schur(Ah, output="real", check_finite=False), check_finite=False)
                    ZH = Z.conj().T
                    to_tri = (lambda R: ZH @ R) if ef is None else (lambda R: ZH @ ef.solve(R))
                    self._schur = (np.asarray(S), None, ZH @ Bh, C @ Z, to_tri, Z)
                else:
                    S, T, Q, Z = sla.qz(A, E, output="complex", check_finite=False)
                    QH = Q.conj().T
                    self._schur = (S, T, QH @ B, C @ Z, lambda R: QH @ R, Z)
        return self._schur

    def freqresp(self, omega) -> np.ndarray:
        """Frequency response G(i omega) (or G(exp(i omega dt))), shape (len(omega), p, m).

        Dense systems: one complex (generalized, QZ) Schur form of (A, E), then a triangular solve
        per frequency and one step of iterative refinement on the residual of the original pencil
        (sE - A) X = B (on LF10, cond(E) ~ 3e10, it takes the relative error of G from 3e-12 to
        ~2e-14; on LF10's balanced rank-10 ROM from 2e-12 to ~1e-14). Sparse systems: one sparse LU of (sE - A) per frequency, plus one refinement step.

        Raises
        ------
        SingularMatrixError
            When a frequency is a pole of the system (sE - A singular): G is infinite there.
        """
        if self._parts is not None:  # error system: reuse each part's cached factorization
            return self._parts[0].freqresp(omega) - self._parts[1].freqresp(omega)
        omega, s = self._points(omega)
        out = np.empty((s.size, self.p, self.m), dtype=complex)
        if self.is_sparse and self.n > 400:
            from physfact.control.descriptor import sparse_lu

            A = sp.csc_matrix(self.A)
            E = sp.eye(self.n, format="csc") if self.E is None else sp.csc_matrix(self.E)
            Bc = self.B.astype(complex)
            for i, si in enumerate(s):
                M = (si * E - A).astype(complex)
                try:
                    lu = sparse_lu(M)
                except RuntimeError:
                    raise _pole_error(omega[i]) from None
                X = lu.solve(Bc)
                X += lu.solve(Bc - M @ X)
                out[i] = self.C @ X + self.D
            self._check_finite_response(out, omega)
            return out
        from physfact.control._blas import single_blas_thread

        S, T, Bt, Ct, to_tri, Z = self._schur_form()
        Tm = np.eye(S.shape[0]) if T is None else T
        A, B, _, _, E = self.dense_matrices()
        dS, dT = np.diag(S), np.diag(Tm)
        # a frequency at a pole: a (numerically) zero diagonal entry of the triangular sT - S
        near_pole = np.abs(s[:, None] * dT[None, :] - dS[None, :]) <= \
            1e3 * EPS * (np.abs(s)[:, None] * np.abs(dT)[None, :] + np.abs(dS)[None, :])
        if np.any(near_pole):
            raise _pole_error(omega[np.argmax(near_pole.any(axis=1))])
        with single_blas_thread(), np.errstate(all="ignore"):
            for i, si in enumerate(s):
                M = si * Tm - S
                Y = sla.solve_triangular(M, Bt, check_finite=False)
                X = Z @ Y
                EX = X if E is None else E @ X
                Y += sla.solve_triangular(M, to_tri(B - (si * EX - A @ X)), check_finite=False)
                out[i] = Ct @ Y + self.D
        self._check_finite_response(out, omega)
        return out

    @staticmethod
    def _check_finite_response(out, omega):
        bad = ~np.all(np.isfinite(out), axis=(1, 2))
        if np.any(bad):
            raise _pole_error(omega[np.argmax(bad)])

    def bode(self, omega) -> np.ndarray:
        """Largest singular value of G at each frequency, shape (len(omega),)."""
        H = self.freqresp(omega)
        return np.linalg.svd(H, compute_uv=False)[:, 0]

    # ------------------------------------------------------------------ norms
    def h2_norm(self) -> float:
        """H2 norm.

        Continuous: ||G||_2^2 = trace(C P C^T) (infinite when D != 0); discrete:
        ||G||_2^2 = trace(C P C^T + D D^T), with P the controllability Gramian (from its factor:
        ||C L_c||_F). Requires stability.
        """
        from physfact.control.lyapunov import lyapunov_factor

        if not self.is_discrete and np.any(self.D != 0):
            return float("inf")
        self._check_stable("h2_norm")
        f = lyapunov_factor(self.A, self.B, self.E, discrete=self.is_discrete, residual=False)
        val = np.linalg.norm(self.C @ f.Z) ** 2
        if self.is_discrete:
            val += np.linalg.norm(self.D) ** 2
        return float(np.sqrt(val))

    def hinf_norm(self, rtol: float = 1e-10, method: str = "auto", omega=None, refine: int = 3,
                  refine_iters: int = 40, progress=None) -> HinfNorm:
        """H-infinity norm sup_omega sigma_max(G(i omega)).

        Parameters
        ----------
        rtol : float
            Relative tolerance of the level-set method.
        method : {"auto", "hamiltonian", "sampling"}
            "hamiltonian": Bruinsma & Steinbuch, Syst. Control Lett. 14 (1990) 287, quadratically
            convergent level-set iteration on the Hamiltonian matrix (Boyd, Balakrishnan & Kabamba,
            Math. Control Signals Syst. 2 (1989) 207): certified, O(n^3) per iteration. Discrete
            time uses the bilinear map z = (1 + s)/(1 - s), which preserves the norm.
            "sampling": frequency grid plus local refinement (golden section) around the largest
            peaks; a lower bound flagged ``estimate=True``. "auto": hamiltonian for dense or
            n <= 3000, sampling otherwise.
        omega : array_like, optional
            Sampling grid (rad per time unit) for "sampling".
        refine, refine_iters : int
            "sampling": number of peaks refined by golden-section search, and its iterations
            (each costs one frequency evaluation: one sparse LU for large sparse systems).
        progress : callable, optional
            "sampling": ``progress(None, total=, desc=, unit=)`` returning a tqdm-like bar
            (:meth:`physfact.console.Console.progress`), advanced by the frequencies evaluated.
        """
        from physfact.control.hinf import hinf_hamiltonian, hinf_sampling
        from physfact.validation import check_int, check_positive

        rtol = check_positive(rtol, "rtol", allow_none=False)
        if rtol >= 1:
            raise InputError(f"rtol is a relative tolerance and must be < 1, got {rtol}")
        refine = check_int(refine, "refine", minimum=0, allow_none=False)
        refine_iters = check_int(refine_iters, "refine_iters", minimum=1, allow_none=False)
        if refine > 1000 or refine_iters > 1000:
            raise InputError(f"refine and refine_iters must be at most 1000, got {refine} and {refine_iters}")
        if omega is not None:
            omega = as_array(omega, "omega", ndim=1)
            if np.any(omega < 0):
                raise InputError("omega must be non-negative frequencies (rad per time unit)")

        if self.is_dae and (not (self.is_sparse and self.n > DENSE_LIMIT) and not self._large_index1()
                            or method == "hamiltonian"):
            if len(self.dae_split.polynomial) > 1:  # s-terms: unbounded on the imaginary axis
                return HinfNorm(float("inf"), frequency=float("inf"), method="polynomial part")
            return self.dae_split.proper_system().hinf_norm(rtol=rtol, method=method, omega=omega, refine=refine,
                                                       refine_iters=refine_iters)
        if method not in ("auto", "hamiltonian", "sampling"):
            raise InputError(f"method must be 'auto', 'hamiltonian' or 'sampling', got {method!r}")
        if method == "auto":
            method = "sampling" if (self.is_sparse and self.n > DENSE_LIMIT) or self.is_dae else "hamiltonian"
        self._check_stable("hinf_norm", quick=(method == "sampling"))
        if method == "hamiltonian":
            from physfact.control._blas import blas_threads_for

            self._require_dense_size("hinf_norm(method='hamiltonian')")
            with blas_threads_for(2 * self.n):
                return hinf_hamiltonian(self, rtol=rtol)
        return hinf_sampling(self, omega=omega, refine=refine, iters=refine_iters, progress=progress)

    # ------------------------------------------------------------------ time response
    def simulate(self, t, u=None, x0=None, return_states: bool = False) -> TimeResponse:
        """Time response.

        Continuous: uniform time grid, input linearly interpolated between samples. Dense systems
        use the exact matrix exponential of the augmented system (first-order hold, like
        ``scipy.signal.lsim``) on E^{-1}A; sparse systems use the trapezoidal rule (Crank–Nicolson)
        with one sparse LU of (E - h/2 A). Discrete: the recursion E x[k+1] = A x[k] + B u[k],
        with t the sample times k*dt.

        DAEs (singular E): up to n = 3000 from the proper/polynomial split
        (:func:`physfact.control.dae.simulate_split`: the proper part exactly as above, s-terms from
        derivatives of the sampled u); sparse semi-explicit index-1 DAEs above n = 1000
        (:data:`physfact.control.dae_index1.SPLIT_LIMIT`) by the trapezoidal rule
        on the full pencil, which keeps the algebraic equations exactly at every step once they hold at
        t[0]. Only the differential part of ``x0`` counts: its algebraic part is replaced by the
        consistent one.

        Parameters
        ----------
        t : array_like, shape (nt,)
            Uniformly spaced times starting at t[0].
        u : array_like, shape (nt, m) or (nt,) for m = 1; default zero input
        x0 : array_like, shape (n,), optional initial state (default 0)
        """
        t = as_array(t, "t", ndim=1)
        nt = t.size
        if u is None:
            u = np.zeros((nt, self.m))
        u = as_array(u, "u", ndim=(1, 2))
        if u.ndim == 1:
            u = u[:, None]
        if u.shape != (nt, self.m):
            raise InputError(f"u must have shape (len(t), m) = ({nt}, {self.m}), got {u.shape}")
        x = np.zeros(self.n) if x0 is None else as_array(x0, "x0", ndim=1)
        if x.size != self.n:
            raise InputError(f"x0 must have n = {self.n} entries, got {x.size}")
        if nt > 1:
            h = np.diff(t)
            if np.any(h <= 0) or np.ptp(h) > 1e-9 * abs(h[0]) * max(1, nt):
                raise InputError("t must be strictly increasing and uniformly spaced")
            h = float(h[0])
            if self.is_discrete and abs(h - self.dt) > 1e-9 * self.dt:
                raise InputError(f"for a discrete system t must step by dt = {self.dt}, got {h}")
        from physfact.validation import check_memory

        check_memory(8.0 * nt * (2 * self.n + self.p + self.m), f"simulate over {nt} time points at n = {self.n}",
                     "use fewer time points")
        if self.is_dae and not (self.is_sparse and self.n > DENSE_LIMIT) and not self._large_index1():
            from physfact.control.dae import simulate_split

            return simulate_split(self, t, u, x, return_states)
        if self.is_dae:  # large sparse semi-explicit: trapezoidal rule from a consistent state
            from physfact.control.dae_index1 import Index1Pencil

            x = Index1Pencil(self.A, self.E, self.semi_explicit).consistent_state(x, self.B, u[0])
        X = np.empty((nt, self.n))
        X[0] = x
        if self.is_discrete:
            ef = self.efactor
            for k in range(nt - 1):
                rhs = self.A @ X[k] + self.B @ u[k]
                X[k + 1] = ef.solve(rhs) if ef is not None else rhs
        elif nt > 1 and not (self.is_sparse and self.n > DENSE_LIMIT) and not self.is_dae:
            A, B, _, _ = self.standard_form()
            n, m = self.n, self.m
            # exp of [[A h, B h, 0], [0, 0, I], [0, 0, 0]] gives the first-order-hold map
            M = np.zeros((n + 2 * m, n + 2 * m))
            M[:n, :n] = A * h
            M[:n, n:n + m] = B * h
            M[n:n + m, n + m:] = np.eye(m)
            F = sla.expm(M)
            Ad, B0, B1 = F[:n, :n], F[:n, n:n + m], F[:n, n + m:]
            for k in range(nt - 1):
                X[k + 1] = Ad @ X[k] + (B0 - B1) @ u[k] + B1 @ u[k + 1]
        elif nt > 1:
            from physfact.control.descriptor import sparse_lu

            E = sp.eye(self.n, format="csc") if self.E is None else sp.csc_matrix(self.E)
            A = sp.csc_matrix(self.A)
            lu = sparse_lu(E - 0.5 * h * A)
            Eplus = (E + 0.5 * h * A).tocsr()
            for k in range(nt - 1):
                rhs = Eplus @ X[k] + 0.5 * h * (self.B @ (u[k] + u[k + 1]))
                X[k + 1] = lu.solve(rhs)
        Y = X @ self.C.T + u @ self.D.T
        return TimeResponse(t=t, y=Y, x=X if return_states else None)

    # ------------------------------------------------------------------ files and interoperability
    #: the ``kind`` written into .npz/.h5 files; ``load`` also reads the ROM files of ``physfact bt``
    FILE_KIND = "lti_system"
    READABLE_KINDS = ("lti_system", "bt_rom")

    def save(self, path, kind: str = FILE_KIND, attrs: dict | None = None, **extra):
        """Write the system to ``path`` (.npz or .h5, chosen by the suffix; atomic).

        Stores A, B, C, D (dense), E when it is not the identity, and ``dt`` (0 for continuous
        time); ``extra`` arrays (e.g. Hankel singular values) and scalar ``attrs`` are stored
        beside them. Returns the path.
        """
        from physfact.io import save_arrays

        A, B, C, D, E = self.dense_matrices()
        arrays = dict(A=A, B=B, C=C, D=D, **extra)
        if E is not None:
            arrays["E"] = E
        return save_arrays(path, kind, attrs={**(attrs or {}), "dt": 0.0 if self.dt is None else self.dt},
                           **arrays)

    @classmethod
    def load(cls, path) -> "LTISystem":
        """Read a system written by :meth:`save` or by ``physfact bt --out`` (.npz or .h5).

        The file's other fields (a reduced model's error bound, Hankel singular values, bases ...)
        come with :func:`physfact.io.load` as ``Loaded.meta``.

        Raises
        ------
        DataFileError
            Missing file, unknown format, a file of another kind, missing or inconsistent matrices.
        """
        return load_system_file(path).obj

    @classmethod
    def from_control(cls, ss) -> "LTISystem":
        """From a python-control ``StateSpace`` (continuous, or discrete with a numeric ``dt``)."""
        try:
            import control
        except ImportError:
            raise InputError("from_control needs the python-control package (pip install control)") from None
        if not isinstance(ss, control.StateSpace):
            try:
                ss = control.ss(ss)
            except Exception as exc:
                raise InputError(f"from_control needs a control.StateSpace (or something control.ss accepts), "
                                 f"got {type(ss).__name__}: {exc}") from None
        dt = ss.dt
        if dt is True:
            raise InputError("the StateSpace is discrete with an unspecified sampling time (dt=True); give dt")
        if dt in (None, 0):
            dt = None
        return cls(ss.A, ss.B, ss.C, ss.D, None, dt)

    def to_control(self):
        """A python-control ``StateSpace`` (E folded into A, B by E^{-1}; dense)."""
        try:
            import control
        except ImportError:
            raise InputError("to_control needs the python-control package (pip install control)") from None
        A, B, C, D = self.standard_form()
        return control.ss(A, B, C, D, 0 if self.dt is None else self.dt)

    @classmethod
    def from_scipy(cls, sys) -> "LTISystem":
        """From ``scipy.signal.StateSpace`` (continuous ``lti`` or discrete ``dlti``)."""
        import scipy.signal as sig

        if isinstance(sys, (sig.TransferFunction, sig.ZerosPolesGain)):
            sys = sys.to_ss()
        if not isinstance(sys, sig.StateSpace):
            raise InputError(f"from_scipy needs a scipy.signal.StateSpace, got {type(sys).__name__}")
        dt = getattr(sys, "dt", None)
        if dt is True:
            raise InputError("the dlti system has an unspecified sampling time (dt=True); give dt")
        return cls(sys.A, sys.B, sys.C, sys.D, None, dt)

    def to_scipy(self):
        """``scipy.signal.StateSpace`` (continuous) or its discrete form with ``dt`` (E folded in)."""
        import scipy.signal as sig

        A, B, C, D = self.standard_form()
        if self.dt is None:
            return sig.StateSpace(A, B, C, D)
        return sig.StateSpace(A, B, C, D, dt=self.dt)

    # ------------------------------------------------------------------ interconnection
    def __sub__(self, other: "LTISystem") -> "LTISystem":
        """Error system G1 - G2 (parallel connection with negated second output)."""
        if not isinstance(other, LTISystem):
            raise InputError(f"can only subtract an LTISystem from an LTISystem, got {type(other).__name__}")
        if (self.m, self.p) != (other.m, other.p):
            raise InputError(f"systems have different input/output counts: (m, p) = ({self.m}, {self.p}) "
                             f"vs ({other.m}, {other.p})")
        if self.dt != other.dt:
            raise InputError(f"cannot subtract systems with different sampling times {self.dt} and {other.dt}")
        sparse = self.is_sparse or other.is_sparse

        def eye_or(E, n):
            if E is not None:
                return E
            return sp.eye(n, format="csr") if sparse else np.eye(n)

        if sparse:
            A = sp.block_diag([sp.csr_matrix(self.A), sp.csr_matrix(other.A)], format="csr")
            E = None if self.E is None and other.E is None else sp.block_diag(
                [sp.csr_matrix(eye_or(self.E, self.n)), sp.csr_matrix(eye_or(other.E, other.n))], format="csr")
        else:
            A = sla.block_diag(self.A, other.A)
            E = None if self.E is None and other.E is None else sla.block_diag(
                eye_or(self.E, self.n), eye_or(other.E, other.n))
        B = np.vstack([self.B, other.B])
        C = np.hstack([self.C, -other.C])
        out = LTISystem(A, B, C, self.D - other.D, E, self.dt)
        out._parts = (self, other)
        return out

    def __neg__(self):
        return LTISystem(self.A, self.B, -self.C, -self.D, self.E, self.dt)

    def bilinear_to_continuous(self) -> "LTISystem":
        """Continuous system G_c(s) = G_d((1 + s)/(1 - s)) with the same H-infinity norm and
        Hankel singular values (dense; needs -1 not a pole)."""
        if not self.is_discrete:
            raise InputError("bilinear_to_continuous needs a discrete-time system")
        A, B, C, D = self.standard_form()
        n = A.shape[0]
        lu = sla.lu_factor(A + np.eye(n), check_finite=False)
        Ac = sla.lu_solve(lu, A - np.eye(n))
        Bc = np.sqrt(2.0) * sla.lu_solve(lu, B)
        Cc = np.sqrt(2.0) * sla.lu_solve(lu, C.T, trans=1).T
        Dc = D - C @ sla.lu_solve(lu, B)
        return LTISystem(Ac, Bc, Cc, Dc)


EPS = np.finfo(float).eps


def _exact_conjugates(lam):
    """LAPACK's eigenvalues of a real matrix or pencil, with each complex pair made exactly
    conjugate. (x)GGEV returns a pair consecutively, positive imaginary part first, but as
    alpha / beta with two betas, so the two real parts may differ in the last bit -- enough to flip
    the order of the pair in a sort from one run (or BLAS thread count) to the next."""
    lam = np.array(lam, dtype=complex)
    j = 0
    while j < lam.size - 1:
        a, b = lam[j], lam[j + 1]
        if a.imag > 0 and b.imag < 0 and abs(a - b.conjugate()) <= 1e-8 * abs(a):
            z = complex(0.5 * (a.real + b.real), 0.5 * (a.imag - b.imag))
            lam[j], lam[j + 1] = z, z.conjugate()
            j += 2
        else:
            j += 1
    return lam


def _sort_poles(lam, discrete):
    """Deterministic order: decreasing real part (decreasing modulus in discrete time), then
    decreasing imaginary part (so a conjugate pair comes positive part first). Keys are rounded to
    ~1e-12 relative so that values equal up to roundoff tie and the second key decides."""
    lam = np.asarray(lam, dtype=complex)
    if lam.size == 0:
        return lam
    scale = max(float(np.abs(lam[np.isfinite(lam)]).max(initial=0.0)), np.finfo(float).tiny)
    first = np.abs(lam) if discrete else lam.real
    key1 = np.round(first / scale, 12)
    key2 = np.round(lam.imag / scale, 12)
    return lam[np.lexsort((-key2, -key1))]


def _pole_error(w):
    from physfact.errors import SingularMatrixError

    return SingularMatrixError(f"omega = {w:.6g} is (numerically) a pole of the system: G is infinite there; "
                               "evaluate at frequencies away from the poles (see poles())")


def warn_once(msg):
    warnings.warn(msg, stacklevel=3)


#: the fields of a system file that make the system; the rest is metadata (``Loaded.meta``)
SYSTEM_FIELDS = ("A", "B", "C", "D", "E", "dt")


def load_system_file(path):
    """The system of an ``lti_system`` / ``bt_rom`` file (:meth:`LTISystem.save`, ``physfact bt --out``)
    and the file's other fields, as a :class:`physfact.io.WithMeta` (the loader of
    :func:`physfact.io.load`).

    A, B, C and D are required (a file without them is damaged or not a system: refused, never
    completed with zeros); E defaults to the identity, dt to continuous time (0 in the file).

    Raises
    ------
    DataFileError
        Missing, damaged or cut-short file; another kind; missing or inconsistent matrices.
    """
    def build(f):
        dt = float(f.get("dt", 0.0))
        return LTISystem(f["A"], f["B"], f["C"], f["D"], f.get("E"), dt if dt > 0 else None)

    return read_system_file(path, LTISystem.READABLE_KINDS, "first-order system", SYSTEM_FIELDS, "ABCD", build)


def read_system_file(path, kinds, what, fields, required, build):
    """Shared reader of system files: the file (one of ``kinds``, else refused as not a ``what``) read by
    :func:`physfact.io.load_raw`, the ``required`` fields checked, the system made by ``build(fields)``;
    returns :class:`physfact.io.WithMeta` with every field not among ``fields`` as metadata.

    Raises
    ------
    DataFileError
        Not .npz/.h5; missing, damaged or cut-short; another kind; required fields missing; ``build``
        refusing the matrices (InputError, shapes).
    """
    from pathlib import Path

    from physfact.errors import DataFileError
    from physfact.io import WithMeta, load_raw

    if Path(path).suffix.lower() not in (".npz", ".h5", ".hdf5"):
        raise DataFileError(f"{path}: unknown system file type {Path(path).suffix!r}; use .npz or .h5")
    raw = load_raw(path)
    if raw.kind is not None and raw.kind not in kinds:
        raise DataFileError(f"{path}: holds a {raw.kind}, not a {what} (readable: {', '.join(kinds)})")
    found = {**raw.attrs, **raw.arrays}
    missing = [k for k in required if k not in found]
    if missing:
        raise DataFileError(f"{path}: not a complete {what} file: {', '.join(missing)} missing (it holds "
                            f"{', '.join(sorted(found)) or 'nothing'}); write it with the system's save or bt --out")
    try:
        system = build(found)
    except (InputError, TypeError, ValueError) as exc:
        raise DataFileError(f"{path}: inconsistent {what}: {exc}") from None
    return WithMeta(system, {k: v for k, v in found.items() if k not in fields})
