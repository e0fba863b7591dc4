"""Low-rank ADI (LR-ADI) for large sparse Lyapunov equations, residual-factor formulation.

Solves (controllability form, ``trans=False``)

    A X E^T + E X A^T + B B^T = 0,        X ~= Z Z^T,

or (observability form, ``trans=True``, pass C^T as ``B``)

    A^T X E + E^T X A + C^T C = 0.

Algorithm (Li & White, SIAM J. Matrix Anal. Appl. 24 (2002) 260; Penzl, SIAM J. Sci. Comput. 21
(2000) 1401) in the residual-factor form of Benner, Kuerschner & Saak (Electron. Trans. Numer.
Anal. 43 (2014) 142; Linear Algebra Appl. 2013): with W_0 = B and shifts p_j (Re p_j < 0),

    V_j = (A + p_j E)^{-1} W_{j-1},
    W_j = W_{j-1} - 2 Re(p_j) E V_j,          Z_j = [Z_{j-1}, sqrt(-2 Re p_j) V_j],

and the residual is exactly R_j = W_j W_j^T, so ||R_j||_2 = ||W_j^T W_j||_2 costs an m x m
eigenvalue problem. A complex-conjugate pair (p, conj p) is handled with one complex solve and only
real arithmetic afterwards (Benner, Kuerschner & Saak, "Efficient handling of complex shift
parameters in the low-rank ADI method", Numer. Algorithms 62 (2013) 225):

    V = (A + p E)^{-1} W,  delta = Re p / Im p,  g = 2 sqrt(-Re p),
    W <- W + g^2 E (Re V + delta Im V),
    Z <- [Z, g (Re V + delta Im V), g sqrt(delta^2 + 1) Im V],

so the factor Z stays real. One sparse LU (``scipy.sparse.linalg.splu``) per distinct shift;
LUs of shifts that recur (cyclic Wachspress / Penzl / user shifts) are cached, and each projection
shift is used for 2-4 consecutive steps (chosen from the measured LU / solve cost), which halves
the factorizations for a few per cent more steps. :func:`lradi_pair` solves both Gramian equations
with one LU per shift (the observability solve is a transposed solve with the same LU).

Differences from pyMOR's LR-ADI that matter in practice: deterministic initial shifts (no random
subspace), E is factored (and a singular E rejected) before the first step, right-half-plane
Ritz values are checked by an eigensolve (UnstableSystemError instead of a silent stall), the
factor is compressed at the end with a rigorous residual bound, and it is stored in chunks and
compressed with a row-blocked QR so Z is never copied whole.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from physfact.control.lyapunov_result import LyapunovFactor
from physfact.control import shifts as shiftlib
from physfact.errors import (
    ConvergenceError,
    InputError,
    NotPositiveDefiniteError,
    SingularMatrixError,
    UnstableSystemError,
)
from physfact.lowrank import Truncation, as_truncation, compress_factor, tsqr_r
from physfact.validation import as_array, as_matrix, check_int, check_positive

__all__ = ["lradi", "lradi_pair", "lyapunov_residual"]

_SHIFT_MODES = ("projection", "wachspress", "penzl")


# --------------------------------------------------------------------------------------------
# factorizations


class _Factor:
    """LU of a square (sparse or dense) matrix M with solves M^{-1} b and M^{-T} b."""

    def __init__(self, M, what: str, check_pivots: bool = True, permc_spec: str = "COLAMD"):
        self.what = what
        n = M.shape[0]
        eps = np.finfo(float).eps
        self.complex = bool(np.iscomplexobj(M))
        self.dense = not sp.issparse(M)
        if not self.dense:
            M = sp.csc_matrix(M)
            try:
                self.lu = spla.splu(M, permc_spec=permc_spec)
            except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
                raise SingularMatrixError(f"{what} is singular ({exc}); {_fix_hint(what)}") from None
            self.nbytes = int(self.lu.nnz) * (M.dtype.itemsize + 4)
            self.fill = int(self.lu.nnz)
            if not check_pivots:  # SuperLU has already rejected exactly singular matrices
                return
            piv = np.abs(self.lu.U.diagonal())  # (a copy of U: once per matrix that needs it)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sla.LinAlgWarning)
                self.lu = sla.lu_factor(M, check_finite=False)
            self.nbytes = self.lu[0].nbytes
            piv = np.abs(np.diag(self.lu[0]))
        # with (threshold) partial pivoting a tiny pivot ratio flags a (numerically) singular M
        big = piv.max(initial=0.0)
        if big == 0 or piv.min() <= n * eps * big:
            raise SingularMatrixError(
                f"{what} is numerically singular (smallest/largest LU pivot "
                f"{piv.min() / big if big else 0.0:.1e}); {_fix_hint(what)}")

    def solve(self, b, trans: bool = False):
        if self.dense:
            return sla.lu_solve(self.lu, b, trans=1 if trans else 0, check_finite=False)
        t = "T" if trans else "N"
        if np.iscomplexobj(b) and not self.complex:  # real LU, complex right-hand side
            return self.lu.solve(np.ascontiguousarray(b.real), trans=t) + \
                1j * self.lu.solve(np.ascontiguousarray(b.imag), trans=t)
        return self.lu.solve(np.asarray(b, dtype=complex if self.complex else float), trans=t)


def _check_condition(M, fac: _Factor, what: str):
    """Reject a numerically singular sparse M: 1-norm condition estimate (Higham--Tisseur
    block estimator, a few solves) against 1 / (n eps). SuperLU itself only rejects exact zeros."""
    n = M.shape[0]
    inv = spla.LinearOperator((n, n), matvec=lambda x: fac.solve(x), rmatvec=lambda x: fac.solve(x, trans=True),
                              dtype=float)
    cond = spla.onenormest(inv) * spla.norm(M, 1)
    if not np.isfinite(cond) or cond * n * np.finfo(float).eps >= 1.0:
        raise SingularMatrixError(f"{what} is numerically singular (1-norm condition estimate "
                                  f"{cond:.1e}); {_fix_hint(what)}")


def _fix_hint(what: str) -> str:
    if what.startswith("E"):
        return ("LR-ADI needs an invertible E; for a descriptor system with algebraic equations, "
                "eliminate the algebraic variables (index reduction) first")
    if "shift" in what:
        return ("then -p is an eigenvalue of the pencil (A, E): for a stable pencil and Re p < 0 "
                "this cannot happen, so the system is unstable or E is (nearly) singular")
    return "check the model"


def _factor(M, what: str) -> _Factor:
    return _Factor(M, what)


class _SPDFactor:
    """``sign * (LDL^T)^{-1}`` with the :class:`_Factor` interface (symmetric: trans is a no-op).

    The first solve is checked (its backward error, one product with the matrix); if the LDL^T
    without pivoting turns out inaccurate (an indefinite matrix), ``fallback()`` supplies an LU
    of the same matrix, used from then on.
    """

    dense = False

    def __init__(self, ldl, sign: float, fallback, nbytes: int):
        self.ldl, self.sign, self.fallback, self.nbytes = ldl, sign, fallback, nbytes
        self.lu = None
        self.checked = False

    def solve(self, b, trans: bool = False):
        if self.lu is not None:
            return self.lu.solve(b, trans)
        try:
            x = self.ldl.solve(b, check=not self.checked)
        except NotPositiveDefiniteError:
            self.ldl = None
            self.lu = self.fallback()
            return self.lu.solve(b, trans)
        self.checked = True
        return x if self.sign > 0 else -x


def _spd_pencil(A, E):
    """:class:`~physfact.lowrank.spd_pencil.SPDPencil` of (-A, E) when A and E are exactly symmetric
    (and the ``qdldl`` backend is there), else None.

    For a stable symmetric pencil with E positive definite, -A is positive definite too, so every
    -(A + p E) with real p < 0 is SPD and its LDL^T (no pivoting, one AMD ordering for all shifts)
    replaces SuperLU: 2-8x faster with half the fill on the rail and heat pencils. Definiteness is
    not checked up front (that reads L back: a copy of the factor, the peak memory at n = 66049);
    instead the first solve with each factorization is checked (:class:`_SPDFactor`) and an
    inaccurate one falls back to SuperLU.
    """
    from physfact.lowrank.spd_pencil import SPDPencil, is_symmetric, ldl_available

    if not ldl_available() or not is_symmetric(A):  # A first: a non-symmetric model pays one check
        return None
    try:
        return SPDPencil(-A, E, check_definite=False)
    except InputError:  # E not symmetric
        return None


class _ShiftedSolver:
    """Solves with (Aop + p Eop) for the operator of the equation, caching LUs that recur.

    ``A``, ``E`` are the matrices as given; ``trans`` selects the transposed pencil, which reuses
    the LU of (A + p E) through a transposed solve.
    """

    def __init__(self, A, E, trans: bool, budget_bytes: int, factorization: str = "auto"):
        self.A, self.E, self.trans = A, E, trans
        self.sparse = sp.issparse(A)
        self.cache: dict[complex, _Factor] = {}
        self.budget = budget_bytes
        self.used = 0
        self.factorizations = 0
        self.permc_spec = None  # fill-reducing ordering, chosen at the first factorization
        self.lu_seconds = 0.0
        self.fill_per_row = None  # nnz(L + U) / n of the first shifted LU
        # symmetric pencil: LDL^T of -(A + p E) for real shifts ("auto"/"ldl"), else SuperLU
        self.spd = None
        if self.sparse and factorization != "lu":
            self.spd = _spd_pencil(A, E)
        if factorization == "ldl" and self.spd is None:
            raise InputError("factorization='ldl' needs a sparse pencil with exactly symmetric A and E "
                             "(and the qdldl package); use 'auto' or 'lu'")
        self.ldl_failed = False
        self._identity = None  # A + p I when E is None: the identity built once, not per shift

    def _ldl_bytes(self) -> int:
        # estimate for the cache budget (the backend does not report its fill): 16 bytes per entry
        # of L, nnz(L) <~ nnz(triangle) log2(n), an overestimate on the 2-D/3-D FE pencils measured
        return int(16 * self.spd.nnz_pattern * max(np.log2(self.A.shape[0]), 1.0))

    def _ldl(self, a: float, b: float, sign: float, matrix, what: str):
        """(sign times) the LDL^T of a (-A) + b E = sign ``matrix()``; an LU of it when that fails."""
        def fallback():  # the LDL^T was inaccurate: SuperLU for this matrix and every later one
            self.spd, self.ldl_failed = None, True
            return self._factor_shifted(sp.csc_matrix(matrix()), what)

        try:
            return _SPDFactor(self.spd.factor(a, b), sign, fallback, self._ldl_bytes())
        except NotPositiveDefiniteError:  # a zero pivot: the LU decides (and names a singular matrix)
            return fallback()

    def factor_E(self, E, what: str):
        """Factor of E for E^{-1} solves (LDL^T for a symmetric pencil, else an LU)."""
        if self.spd is not None:
            return self._ldl(0.0, 1.0, 1.0, lambda: E, what)
        return self._factor_shifted(E, what)

    def _factor_shifted(self, M, what):
        """LU with the ordering that factors these pencils fastest.

        No single SuperLU ordering wins: on the rail pencils COLAMD gave 6x less fill than minimum
        degree on A^T + A, on a P1 heat problem (n = 66049) the latter was 2x faster. When the
        first COLAMD factorization is slow (> 0.2 s), the other ordering is tried once and the
        faster one kept for all further shifts.
        """
        if self.permc_spec is not None:
            t = time.process_time()
            f = _Factor(M, what, check_pivots=False, permc_spec=self.permc_spec)
            self.lu_seconds += time.process_time() - t
            return f
        t = time.process_time()
        f = _Factor(M, what, check_pivots=False, permc_spec="COLAMD")
        t_colamd = time.process_time() - t
        self.lu_seconds += t_colamd
        self.permc_spec = "COLAMD"
        if t_colamd > 0.2 and self.sparse:
            pattern = (M != 0).astype(np.int8)
            if (pattern - pattern.T).nnz == 0:
                del f  # one LU alive at a time (peak memory)
                t = time.process_time()
                f = _Factor(M, what, check_pivots=False, permc_spec="MMD_AT_PLUS_A")
                t_mmd = time.process_time() - t
                self.lu_seconds += t_mmd
                if t_mmd < t_colamd:
                    self.permc_spec = "MMD_AT_PLUS_A"
                else:  # rare: minimum degree lost; refactor with COLAMD once
                    del f
                    f = _Factor(M, what, check_pivots=False, permc_spec="COLAMD")
        return f

    def matrix(self, p):
        if self.E is None:
            if self._identity is None:
                n = self.A.shape[0]
                self._identity = sp.identity(n, format="csc") if self.sparse else np.eye(n)
            return self.A + p * self._identity
        return self.A + p * self.E

    def solve(self, p: complex, rhs, keep: bool, trans: bool | None = None):
        key = complex(p)
        f = self.cache.get(key)
        if f is None:
            if self.spd is not None and p.imag == 0 and p.real < 0:
                t = time.process_time()
                pr = p.real
                f = self._ldl(1.0, -pr, -1.0, lambda: self.matrix(pr),  # -(A + p E) = -A + |p| E
                              f"the shifted pencil A + p E for the shift p = {pr:.6g}")
                self.lu_seconds += time.process_time() - t
            else:
                p_ = p.real if p.imag == 0 else p
                M = self.matrix(p_)
                if self.sparse:
                    M = sp.csc_matrix(M)
                # for a stable pencil and Re p < 0, A + p E is as well-conditioned as E: no pivot scan
                f = self._factor_shifted(M, f"the shifted pencil A + p E for the shift p = {p:.6g}") \
                    if self.sparse else _Factor(M, f"the shifted pencil A + p E for the shift p = {p:.6g}",
                                                check_pivots=False)
            self.factorizations += 1
            if self.fill_per_row is None and isinstance(f, _Factor) and not f.dense:
                self.fill_per_row = f.fill / self.A.shape[0]
            if keep and self.used + f.nbytes <= self.budget:
                self.cache[key] = f
                self.used += f.nbytes
        return f.solve(rhs, trans=self.trans if trans is None else trans)

    def auto_repeats(self, ncols: int) -> int:
        """How often to reuse a projection shift: more when a factorization costs many solves.

        Estimated deterministically (no timings, so runs are reproducible). LU: from the fill of
        the first LU, an LU costs ~ n (nnz/n)^2 flops, a solve with ``ncols`` columns ~ 2 nnz ncols,
        so LU / solve ~ (nnz / n) / (2 ncols). LDL^T (the backend does not report its fill): for
        2-D FE meshes (separators ~ sqrt(n)) the measured factorization / one-column-solve ratio is
        ~ 0.09 sqrt(n) (rail n = 20209: 14; P1 heat n = 65025: 19), so ratio = 0.09 sqrt(n) / ncols;
        3-D meshes have larger ratios, so this errs towards fewer reuses. Measured: on the rail
        pencils (ratio ~ 2-8) 2 uses per factorization halve them for +3% steps, 3 uses add 45%
        steps; on a P1 heat problem with m = 1 (ratio ~ 20-40) 3-4 uses cut the time by a third.
        Rule (tuned on these): 2 below 16, 3 below 30, else 4.
        """
        if self.fill_per_row:
            ratio = self.fill_per_row / (2.0 * max(ncols, 1))
        elif self.spd is not None:
            ratio = 0.09 * np.sqrt(self.A.shape[0]) / max(ncols, 1)
        else:
            return 2
        return 2 if ratio < 16 else (3 if ratio < 30 else 4)

    def release(self):
        """Free every factorization, the LDL^T pencil's storage included (before compression)."""
        self.drop_except([])
        self.spd = None

    def drop_except(self, keys):
        keys = {complex(k) for k in keys}
        for k in list(self.cache):
            if k not in keys:
                self.used -= self.cache.pop(k).nbytes


# --------------------------------------------------------------------------------------------
# residual of a given factor (used to check compression, and by the tests' users)


def lyapunov_residual(A, B, Z, E=None, trans: bool = False, block_rows: int = 4096) -> float:
    """Relative residual ||A X E^T + E X A^T + B B^T||_2 / ||B B^T||_2 for X = Z Z^T, exactly.

    Low-rank evaluation: R = F M F^T with F = [A Z, E Z, B] and M = [[0, I, 0], [I, 0, 0],
    [0, 0, I]]; the 2-norm is that of R_F M R_F^T with F = Q R_F (economy QR), cost
    O(n (2k + m)^2). F is never formed: R_F comes from a TSQR over row blocks of ``block_rows``
    (:func:`physfact.lowrank.tsqr_r`), so the extra memory is O(block_rows (2k + m)), not three
    copies of an n x (2k + m) matrix. ``trans=True`` uses A^T, E^T.
    """
    A = as_matrix(A, "A", square=True)
    B = np.asarray(B, dtype=float)
    B = B[:, None] if B.ndim == 1 else B
    Z = np.asarray(Z, dtype=float)
    Aop = A.T if trans else A
    Eop = None if E is None else (E.T if trans else E)
    # row blocks of a sparse operator: CSR slices rows cheaply
    Aop = Aop.tocsr() if sp.issparse(Aop) else Aop
    Eop = Eop.tocsr() if Eop is not None and sp.issparse(Eop) else Eop
    n, k, m = Z.shape[0], Z.shape[1], B.shape[1]

    def blocks():  # [A Z, E Z, B] row block by row block, Fortran-ordered for an in-place QR
        for r0 in range(0, n, block_rows):
            rows = slice(r0, r0 + block_rows)
            F = np.empty((min(n, r0 + block_rows) - r0, 2 * k + m), order="F")
            F[:, :k] = Aop[rows] @ Z
            F[:, k:2 * k] = Z[rows] if Eop is None else Eop[rows] @ Z
            F[:, 2 * k:] = B[rows]
            yield F
            del F

    R = tsqr_r(blocks(), overwrite=True)
    M = np.zeros((2 * k + m, 2 * k + m))
    M[:k, k:2 * k] = np.eye(k)
    M[k:2 * k, :k] = np.eye(k)
    M[2 * k:, 2 * k:] = np.eye(m)
    core = R @ M @ R.T
    norm = np.max(np.abs(np.linalg.eigvalsh((core + core.T) / 2)))
    bb = np.linalg.norm(B, 2) ** 2
    return float(norm / bb) if bb > 0 else float(norm)


# --------------------------------------------------------------------------------------------
# the solver


def _validate(A, B, E, trans=False):
    from physfact.control.lyapunov import check_lyapunov_operands

    A, B, E = check_lyapunov_operands(A, B, E, trans)
    sparse = sp.issparse(A) or (E is not None and sp.issparse(E))
    if sparse:
        A = sp.csc_matrix(A)
        E = None if E is None else sp.csc_matrix(E)
    elif E is not None and sp.issparse(E):
        E = E.toarray()
    return A, np.ascontiguousarray(B), E, sparse


def _real_block(V):
    """Real basis of span{V} (real and imaginary parts of a complex block)."""
    return np.hstack([V.real, V.imag]) if np.iscomplexobj(V) else V


def lradi(A, B, E=None, trans=False, tol=1e-10, maxiter=300, shifts="projection", truncation=None, *,
          callback=None, num_shifts=None, shift_repeats: int | None = None,
          projection_columns: int | None = None,
          lu_cache_mib: float = 1024.0, factorization: str = "auto", progress=None,
          E_inverse=None) -> LyapunovFactor:
    """Low-rank factor Z (real, X ~= Z Z^T) of a Lyapunov equation by LR-ADI.

    Parameters
    ----------
    A : (n, n) scipy.sparse matrix or ndarray
        Stable: every eigenvalue of the pencil (A, E) has negative real part.
    B : (n, m) ndarray
        Right-hand-side factor; for ``trans=True`` pass C^T (n x p).
    E : (n, n) sparse or ndarray, optional
        Invertible mass matrix (identity when None).
    trans : bool
        False: A X E^T + E X A^T + B B^T = 0 (controllability Gramian).
        True:  A^T X E + E^T X A + B B^T = 0 (observability Gramian with B = C^T).
    tol : float
        Stop when ||R_j||_2 / ||B^T B||_2 <= tol, with R_j = W_j W_j^T the exact residual.
    maxiter : int
        Maximal number of (block) linear solves; a complex-conjugate shift pair costs one.
    shifts : {"projection", "wachspress", "penzl"} or array_like
        "projection": self-generating projection shifts (Benner, Kuerschner & Saak 2014), started
        deterministically from span{B, E^{-1} A B}; "wachspress": optimal shifts for a real spectrum
        (needs symmetric A and E; bounds from Lanczos); "penzl": Penzl's heuristic (Arnoldi with
        E^{-1}A and A^{-1}E); an array: these shifts (Re < 0, conjugate pairs complete), cycled.
    truncation : Truncation, int, float, False or None
        Column compression of the final factor: the algorithm of
        :func:`physfact.lowrank.compress_factor` (QR, SVD of R, rank by the shared
        :class:`~physfact.lowrank.Truncation` rule) with a row-blocked QR that never copies Z
        (:func:`physfact.lowrank.compress_factor` on the column chunks). None: automatic -- drop the columns whose removal provably raises the relative residual by
        at most max(tol - residual, tol/20) (see ``_compress``). False: no compression. Otherwise
        the rule as given. ``info["residual_after_compression"]`` is the exact residual of the
        returned factor when that is cheap (n (2k+m)^2 <= 3e8), else None and
        ``info["compression_residual_bound"]`` a rigorous bound.
    callback : callable, optional
        ``callback(iteration, residual)`` after each step.
    progress : callable, optional
        ``progress(None, total=None, desc=..., unit=...)`` returning a bar (a tqdm, e.g.
        :meth:`physfact.console.Console.progress`) with ``update(k)``,
        ``set_postfix_str(text, refresh=False)`` and ``close()``; advanced per solve, the residual shown beside it.
    shift_repeats : int, optional
        "projection" only: each projection shift is used for this many consecutive steps, reusing
        its LU. Default: from the estimated cost of an LU relative to a solve, (nnz(LU)/n) / (2 m)
        (2 below 16, 3 below 30, else 4; deterministic). On rail_5177, 2 uses keep the step count (59 vs 57)
        with half the LUs; on a P1 heat model (m = 1) 4 uses cut the time by 35%.
    projection_columns : int, optional
        "projection" only: the Ritz values come from the span of the most recent ADI blocks, as many
        as needed for this many columns (default max(6, m)).
    num_shifts : int, optional
        Number of shifts for "wachspress" / "penzl" (default: from ``tol`` / 16).
    lu_cache_mib : float
        Memory budget for cached LU factors of recurring shifts.
    factorization : {"auto", "lu", "ldl"}
        Sparse solves with A + p E. "auto": when A and E are exactly symmetric (then the shifts of
        a stable pencil with E positive definite are real and -(A + p E) is SPD), a sparse LDL^T
        without pivoting (:class:`physfact.lowrank.spd_pencil.SPDPencil`: one AMD ordering for
        all shifts, 2-8x faster than SuperLU with half the fill); its first solve is checked and
        an inaccurate one (an indefinite matrix) falls back to SuperLU, as do complex shifts.
        "lu": always SuperLU. "ldl": like "auto", but an InputError for a non-symmetric pencil.
    E_inverse : object, optional
        ``E_inverse.solve(b, trans=False)`` standing in for E^{-1} (E^{-T}); E is then not factored
        and may be singular. Used for the shifts' start space only (E^{-1} A B and span{E^{-1} E B}),
        never in the iteration. The semi-explicit index-1 DAE route passes the lifted inverse of
        :class:`physfact.control.dae_index1.Index1Pencil` with projected B: the iterates then stay on
        the DAE's hidden manifold.

    Returns
    -------
    LyapunovFactor
        ``Z`` (n x k, real), ``residuals`` (relative residual after each step; entries for
        complex pairs count one step), ``shifts`` (every shift used, conjugates listed),
        ``method="lradi"``; ``info`` holds ``columns_before``/``columns_after`` compression,
        ``residual_before_compression``, ``residual_after_compression``, ``factorizations``,
        ``shift_strategy`` and the singular values of Z (``factor_singular_values``).

    Raises
    ------
    InputError
        Bad shapes, non-finite data, bad shifts or options.
    SingularMatrixError
        E (or a shifted pencil A + p E) is singular.
    UnstableSystemError
        The pencil has an eigenvalue with non-negative real part (found by the shift computation
        and confirmed by a shift-and-invert eigenvalue solve).
    ConvergenceError
        ``maxiter`` solves without reaching ``tol``; ``.history`` holds the residuals.
    """
    return _lradi(A, B, E, trans, tol, maxiter, shifts, truncation, callback, num_shifts, shift_repeats,
                  projection_columns, lu_cache_mib, factorization=factorization, progress=progress,
                  E_inverse=E_inverse)


def lradi_pair(A, B, C, E=None, tol=1e-10, maxiter=300, shifts="projection", truncation=None, *,
               num_shifts=None, shift_repeats: int | None = None, projection_columns: int | None = None,
               lu_cache_mib: float = 1024.0, factorization: str = "auto", progress=None, E_inverse=None):
    """Both Gramian factors of (A, B, C, E) by one LR-ADI run sharing every LU.

    Solves A P E^T + E P A^T + B B^T = 0 and A^T Q E + E^T Q A + C^T C = 0 (P ~= Zc Zc^T,
    Q ~= Zo Zo^T). The LU of A + p E gives both (A + p E)^{-1} (controllability) and, by a
    transposed solve, (A^T + p E^T)^{-1} (observability), so one factorization per shift serves
    both equations -- balanced truncation needs half the factorizations of two separate runs.
    Projection shifts come from a Galerkin projection of (A, E) on the span of the latest blocks of
    both iterations. Each equation stops at its own relative residual ``tol``.

    Parameters are those of :func:`lradi`; ``C`` is p x n.

    Returns
    -------
    (LyapunovFactor, LyapunovFactor)
        Controllability and observability factors.
    """
    C = as_array(C.toarray() if sp.issparse(C) else C, "C", ndim=(1, 2))
    C = C[None, :] if C.ndim == 1 else C
    n = A.shape[0]
    if C.shape[1] != n:
        raise InputError(f"C must have n = {n} columns (A is {n} x {n}), got shape {C.shape}")
    B_ = as_array(B.toarray() if sp.issparse(B) else B, "B", ndim=(1, 2))
    if not np.any(B_) or not np.any(C):  # a zero side: nothing to share
        kw = dict(tol=tol, maxiter=maxiter, shifts=shifts, truncation=truncation, num_shifts=num_shifts,
                  shift_repeats=shift_repeats, projection_columns=projection_columns,
                  lu_cache_mib=lu_cache_mib, factorization=factorization, progress=progress, E_inverse=E_inverse)
        return lradi(A, B, E, **kw), lradi(A, C.T, E, trans=True, **kw)
    return _lradi(A, B, E, False, tol, maxiter, shifts, truncation, None, num_shifts, shift_repeats,
                  projection_columns, lu_cache_mib, C2=np.ascontiguousarray(C.T), factorization=factorization,
                  progress=progress, E_inverse=E_inverse)


def _lradi(A, B, E, trans, tol, maxiter, shifts, truncation, callback, num_shifts, shift_repeats,
           projection_columns, lu_cache_mib, C2=None, factorization="auto", progress=None, E_inverse=None):
    """The LR-ADI loop for one equation, or (``C2`` given) for both Gramians with shared LUs."""
    bar = progress(None, total=None, desc="LR-ADI" if C2 is None else "LR-ADI, shared LUs",
                   unit="solve") if progress is not None else None
    try:
        return _lradi_loop(A, B, E, trans, tol, maxiter, shifts, truncation, callback, num_shifts, shift_repeats,
                           projection_columns, lu_cache_mib, C2, factorization, bar, E_inverse)
    finally:
        if bar is not None:
            bar.close()


def _lradi_loop(A, B, E, trans, tol, maxiter, shifts, truncation, callback, num_shifts, shift_repeats,
                projection_columns, lu_cache_mib, C2, factorization, bar, E_inverse=None):
    t0 = time.perf_counter()
    A, B, E, sparse = _validate(A, B, E, trans)
    n, m = B.shape
    tol = check_positive(tol, "tol", allow_none=False)
    maxiter = check_int(maxiter, "maxiter", minimum=1, allow_none=False)
    num_shifts = check_int(num_shifts, "num_shifts", minimum=1)
    projection_columns = check_int(projection_columns, "projection_columns", minimum=1)
    if projection_columns is None:
        # one block when m is moderate (rail, m = 7: more blocks meant more, not better, shifts);
        # several when m is tiny (FOM, m = 1: one or two vectors cannot see its 3 complex pairs)
        projection_columns = max(6, m)
    shift_repeats = check_int(shift_repeats, "shift_repeats", minimum=1)
    if callback is not None and not callable(callback):
        raise InputError("callback must be callable as callback(iteration, residual)")
    if truncation is not None and truncation is not False:
        truncation = as_truncation(truncation)
    if factorization not in ("auto", "lu", "ldl"):
        raise InputError(f"factorization must be 'auto', 'lu' or 'ldl', got {factorization!r}")
    # the operator of the equation: (Aop, Eop) = (A, E) or (A^T, E^T)
    Aop = A.T if trans else A
    Eop = None if E is None else (E.T if trans else E)

    bnorm2 = float(np.linalg.norm(B, 2) ** 2)
    if bnorm2 == 0.0:  # X = 0 exactly
        return LyapunovFactor(Z=np.zeros((n, 0)), residuals=np.array([0.0]), shifts=np.zeros(0, complex),
                              method="lradi", iterations=0, seconds=time.perf_counter() - t0,
                              info=dict(columns_before=0, columns_after=0))

    solver = _ShiftedSolver(A, E, trans, int(lu_cache_mib * 2**20), factorization)
    # E must be invertible: fail fast, before any iteration (pyMOR iterated for minutes here).
    Efac = None
    if E is not None and E_inverse is not None:
        if not callable(getattr(E_inverse, "solve", None)):
            raise InputError("E_inverse must have a method solve(b, trans=False)")
        Efac = E_inverse
    elif E is not None:
        what = "E (the mass/descriptor matrix)"
        Efac = solver.factor_E(E, what) if sparse else _factor(E, what)
        if sparse:
            _check_condition(E, Efac, what)
        solver.lu_seconds = 0.0  # LU timings are for shifted pencils only

    def apply_EinvA(x):
        y = Aop @ x
        return y if Efac is None else Efac.solve(y, trans=trans)

    checked: list[complex] = []

    def check_unstable(ritz):
        """Confirm a right-half-plane Ritz value (an eigensolve near it) before raising.

        Non-normal stable pencils can have Ritz values in the right half-plane, so a Ritz value
        alone proves nothing; each new one (not within 10% of one already checked) costs at most
        one LU, and at most 8 are checked.
        """
        ritz = np.asarray(ritz)
        bad = ritz[ritz.real >= 0]
        if bad.size == 0 or len(checked) >= 8:
            return
        theta = complex(bad[np.argmax(bad.real)])
        if any(abs(theta - c) <= 0.1 * abs(c) for c in checked):
            return
        checked.append(theta)
        lam = _unstable_eigenvalue(Aop, Eop, theta, sparse)
        if lam is not None:
            raise UnstableSystemError(
                f"the pencil (A, E) has an eigenvalue {lam:.6g} with non-negative real part: the "
                "Lyapunov equation has no positive semidefinite solution. Split off the unstable part "
                "(balanced_truncation does) or check the model's sign conventions")

    # ---- shifts
    if isinstance(shifts, str):
        mode = shifts.lower()
        if mode not in _SHIFT_MODES:
            raise InputError(f"shifts must be one of {_SHIFT_MODES} or an array of shifts, got {shifts!r}")
    else:
        mode = "given"
        given = as_array(shifts, "shifts", ndim=1, allow_complex=True).astype(complex)
        if np.any(given.real >= 0):
            raise InputError("ADI shifts must lie in the open left half-plane (Re p < 0); "
                             f"got {given[given.real >= 0][:3]}")
        for z in given[given.imag != 0]:
            if not np.any(np.abs(given - np.conj(z)) <= 1e-12 * abs(z)):
                raise InputError(f"complex shift {z} has no conjugate partner in the shift list; "
                                 "complex shifts must come in conjugate pairs (the factor stays real)")
        queue_base = _pairs_in_order(given)
    info: dict = {"shift_strategy": mode}

    if mode == "wachspress":
        a, b = _symmetric_bounds(Aop, Eop, sparse)
        if b >= 0:
            raise UnstableSystemError(f"A (symmetric) has the eigenvalue {b:.6g} >= 0: not stable")
        lo, hi = -b, -a  # |lambda| in [lo, hi]
        J = num_shifts or shiftlib.wachspress_count(lo, hi, tol)
        queue_base = list(shiftlib.wachspress_shifts(lo, hi, J).astype(complex))
        info["spectral_interval"] = (-hi, -lo)
    elif mode == "penzl":
        A0 = _factor(A, "A (Penzl's heuristic needs A^{-1}; a singular A has the eigenvalue 0)")

        def apply_AinvE(x):
            y = x if Eop is None else Eop @ x
            return A0.solve(y, trans=trans)

        start = np.ones(n)
        p, ritz = shiftlib.penzl_shifts(apply_EinvA, apply_AinvE, n, num=num_shifts or 16, start=start)
        check_unstable(ritz)
        queue_base = _pairs_in_order(np.concatenate([p, p[p.imag != 0].conj()]))
        del A0
    if mode == "projection":
        # start space in state coordinates: B itself, or for a stand-in E^{-1} (a singular E) its
        # image E^{-1} E B (on a DAE's hidden manifold, where the Ritz values are the finite ones)
        B0 = B if E_inverse is None else Efac.solve(Eop @ B, trans=trans)
        if C2 is None:
            U0 = np.hstack([B0, apply_EinvA(B0)])
            ritz = shiftlib.projection_shifts(Aop, Eop, U0)
        else:  # both Gramians: Galerkin with (A, E) on span{B, E^{-1}AB, C^T, E^{-T}A^T C^T}
            C0 = C2 if E_inverse is None else Efac.solve(E.T @ C2, trans=True)
            EinvAB = A @ B0 if Efac is None else Efac.solve(A @ B0)
            EinvAC = A.T @ C0 if Efac is None else Efac.solve(A.T @ C0, trans=True)
            # each block at unit norm: the span is the same, but a QR of blocks of very different
            # scales loses the small ones (B scaled by 1e100 changed FOM's steps 75 -> 63)
            unit = [X / max(np.linalg.norm(X), np.finfo(float).tiny) for X in (B0, EinvAB, C0, EinvAC)]
            ritz = shiftlib.projection_shifts(A, E, np.hstack(unit))
        check_unstable(ritz)
        queue = list(shiftlib.clean_shifts(ritz))
        if not queue:
            raise UnstableSystemError(
                "no Ritz value of (A, E) on span{B, E^{-1}AB} lies in the left half-plane; the system "
                "looks unstable (or B is degenerate) -- check the model or pass shifts explicitly")
        reuse = True
    else:
        queue = list(queue_base)
        reuse = True

    # ---- iteration
    Efac = None  # E^{-1} was needed only for the shift set-up: free it (peak memory)
    sides = [_Side(B, trans, E)] + ([_Side(C2, True, E)] if C2 is not None else [])
    last_set = list(queue)
    min_cols = max(projection_columns, 1)
    p = None
    uses_left = 0
    while any(not sd.done for sd in sides):
        if not queue and uses_left == 0:
            if mode == "projection":
                # shifts from the lagging equation's latest blocks, with its own pencil (the
                # union of both equations' Ritz values gave more, not better, shifts on rail)
                lag = max((sd for sd in sides if not sd.done), key=lambda sd: sd.history[-1])
                ritz = shiftlib.projection_shifts(A.T if lag.trans else A, lag.Eop, lag.recent_blocks(),
                                                  overwrite_u=True)
                check_unstable(ritz)
                new = list(shiftlib.clean_shifts(ritz))
                # no usable Ritz value (rare): reuse the last shift set
                queue = new if new else list(last_set)
                last_set = list(queue)
            else:
                queue = list(queue_base)
        if uses_left > 0:  # reuse the current projection shift (its LU is cached)
            uses_left -= 1
        else:
            p = complex(queue.pop(0))
            if mode == "projection":
                solver.drop_except([p])
                uses_left = (shift_repeats or solver.auto_repeats(max(sd.B.shape[1] for sd in sides))) - 1
        for sd in sides:
            if sd.done:
                continue
            if sd.iterations >= maxiter:
                raise ConvergenceError(
                    f"LR-ADI did not reach the relative residual {tol:.1e} in {maxiter} solves "
                    f"(last {sd.history[-1]:.2e}); " + _slow_convergence_hint(sd.used), sd.history)
            V = solver.solve(p, sd.W if p.imag == 0 else sd.W.astype(complex), keep=reuse,
                             trans=sd.trans)
            res = sd.step(p, V, min_cols)
            if callback is not None and C2 is None:
                callback(sd.iterations, res)
            if bar is not None:  # the postfix is drawn with the next update (at most ~10 redraws/s)
                bar.set_postfix_str("residual " + ", ".join(f"{side.history[-1]:.1e}" for side in sides
                                                            if side.history) + f" -> {tol:.0e}", refresh=False)
                bar.update(1)
            if not np.isfinite(res) or res > 1e12:
                raise ConvergenceError(
                    f"LR-ADI diverges (relative residual {res:.1e} after {sd.iterations} solves); the "
                    "system is probably unstable: check the sign of A and the stability of the pencil "
                    "(A, E)", sd.history)
            if res <= tol:
                sd.finish()

    factorizations = solver.factorizations
    factorization_used = ("LDL^T" if solver.spd is not None else
                          "LDL^T, then LU (an inaccurate LDL^T solve)" if solver.ldl_failed else "LU")
    solver.release()  # free the factorizations before the factors are compressed (peak memory)
    out = []
    for sd in sides:
        info_s = dict(info, factorizations=factorizations, columns_before=sd.store.ncols,
                      lu_ordering=solver.permc_spec, shared_lus=C2 is not None,
                      factorization=factorization_used,
                      residual_before_compression=sd.history[-1])
        Zc = _compress(sd.store, truncation, tol, A, sd.B, E, sd.trans, info_s)
        info_s["columns_after"] = Zc.shape[1]
        out.append(LyapunovFactor(Z=Zc, residuals=np.array(sd.history), shifts=np.array(sd.used, dtype=complex),
                                  method="lradi", iterations=sd.iterations,
                                  seconds=time.perf_counter() - t0, info=info_s))
    return out[0] if C2 is None else tuple(out)


class _Side:
    """State of one Lyapunov equation in the ADI loop (residual factor W, factor store, history)."""

    def __init__(self, B, trans, E):
        self.B, self.trans = B, trans
        self.Eop = None if E is None else (E.T if trans else E)
        self.W = B.copy()
        self.bnorm2 = float(np.linalg.norm(B, 2) ** 2)
        self.store = _FactorStore(B.shape[0])
        self.history: list[float] = []
        self.used: list[complex] = []
        # latest blocks V (projection shifts), newest last, as (first column in the store, scales):
        # the store holds them scaled, so no second copy of them is kept (peak memory)
        self.recent: list[tuple[int, np.ndarray]] = []
        self.iterations = 0
        self.done = False

    def step(self, p: complex, V, min_cols: int) -> float:
        """One ADI step (a real shift, or a conjugate pair in real arithmetic); returns the residual."""
        self.iterations += 1
        if p.imag == 0:
            pr = p.real
            V = np.real(V) if np.iscomplexobj(V) else V
            EV = V if self.Eop is None else self.Eop @ V
            self.W = self.W - 2.0 * pr * EV
            g = np.sqrt(-2.0 * pr)
            self.recent.append((self.store.ncols, np.full(V.shape[1], g)))
            self.store.append(g * V)
            self.used.append(p)
        else:
            delta = p.real / p.imag
            g = 2.0 * np.sqrt(-p.real)
            Vr = V.real + delta * V.imag
            Vi = V.imag
            EVr = Vr if self.Eop is None else self.Eop @ Vr
            self.W = self.W + g * g * EVr
            gi = g * np.sqrt(delta * delta + 1.0)
            self.recent.append((self.store.ncols, np.repeat([g, gi], Vr.shape[1])))
            self.store.append(g * Vr)
            self.store.append(gi * Vi)
            self.used.extend([p, p.conjugate()])
        while len(self.recent) > 1 and sum(sc.size for _, sc in self.recent[1:]) >= min_cols:
            self.recent.pop(0)
        G = self.W.T @ self.W  # symmetric PSD: its 2-norm is its largest eigenvalue
        res = float(G[0, 0] if G.shape == (1, 1) else np.linalg.eigvalsh(G)[-1]) / self.bnorm2
        self.history.append(res)
        return res

    def recent_blocks(self) -> np.ndarray:
        """[V_i, ..., V_j] of the recent blocks (n x cols, Fortran order): the store's columns
        divided by their scales (a span-preserving rescaling, kept so the rank test in
        projection_shifts sees the blocks as computed)."""
        U = self.store.columns(self.recent[0][0])
        U /= np.concatenate([sc for _, sc in self.recent])
        return U

    def finish(self):
        self.done = True
        self.W = None
        self.recent = []


#: Shifts (Ritz values) with damping ratio |Re p| / |p| below this mark a lightly damped spectrum.
LIGHT_DAMPING = 1e-3


def _slow_convergence_hint(shifts) -> str:
    """What to do about an LR-ADI run that used up ``maxiter``. Shifts hugging the imaginary axis
    (Ritz values with tiny damping ratios, e.g. an FE structure with mass-proportional damping: every
    mode decays at the same slow rate) mean the Gramian itself is far from low rank: each step
    shrinks those modes' residual by only ~1 - 2 |Re p| / |p|, whatever the shifts."""
    p = np.asarray(shifts, dtype=complex)
    p = p[p != 0]
    zeta = np.abs(p.real) / np.abs(p) if p.size else np.ones(1)
    if np.median(zeta) < LIGHT_DAMPING:
        return (f"the shifts (Ritz values of the pencil) have damping ratios |Re p|/|p| down to {zeta.min():.1e}: "
                "lightly damped modes make the Gramians far from low rank, so LR-ADI cannot converge in few "
                "steps; add damping (e.g. stiffness-proportional Rayleigh damping of an FE model), use the dense "
                "solver (solver='hammarling', n up to a few thousand)")
    return "raise maxiter, loosen tol, or try shifts='penzl'/'projection'"


def _norm2_bound(M) -> float:
    """Rigorous upper bound of ||M||_2: sqrt(||M||_1 ||M||_inf)."""
    if M is None:
        return 1.0
    absM = abs(M) if sp.issparse(M) else np.abs(M)
    return float(np.sqrt(np.max(absM.sum(axis=0)) * np.max(absM.sum(axis=1))))


# an exact residual costs a QR of an n x (2k + m) matrix; above this many flops we rely on the bound
_EXACT_RESIDUAL_FLOPS = 3e8


class _FactorStore:
    """The growing ADI factor, written into preallocated column chunks (n x ``chunk_cols``).

    Blocks are copied straight into the chunks (split across two when they straddle one), so the
    factor is never concatenated: no transient second copy while it grows or when it is handed to
    the compression (:func:`physfact.lowrank.compress_factor` works on the chunks, row block by row
    block). At most ``chunk_cols - 1`` allocated columns are unused.
    """

    def __init__(self, n: int, chunk_cols: int = 4):
        self.n, self.chunk_cols = n, chunk_cols
        self.chunks: list[np.ndarray] = []
        self.ncols = 0

    def append(self, block):
        block = np.asarray(block)
        j, k = 0, block.shape[1]
        while j < k:
            used = self.ncols % self.chunk_cols
            if used == 0:  # current chunk full (or none yet)
                self.chunks.append(np.empty((self.n, self.chunk_cols), order="F"))
            take = min(k - j, self.chunk_cols - used)
            self.chunks[-1][:, used:used + take] = block[:, j:j + take]
            j += take
            self.ncols += take

    def columns(self, j0: int) -> np.ndarray:
        """Copy of the columns j0, j0 + 1, ... of Z (n x (ncols - j0), Fortran order)."""
        out = np.empty((self.n, self.ncols - j0), order="F")
        c = self.chunk_cols
        for i, chunk in enumerate(self.chunks):
            lo, hi = max(j0, i * c), min(self.ncols, (i + 1) * c)
            if lo < hi:
                out[:, lo - j0:hi - j0] = chunk[:, lo - i * c:hi - i * c]
        return out

    def take_chunks(self) -> list:
        """The column chunks (their hstack is Z), the last one trimmed; the store lets go of them."""
        chunks, self.chunks = self.chunks, []
        used = self.ncols % self.chunk_cols
        if chunks and used:
            chunks[-1] = chunks[-1][:, :used]
        return chunks

    def to_array(self) -> np.ndarray:
        chunks = self.take_chunks()
        if not chunks:
            return np.zeros((self.n, 0))
        return np.ascontiguousarray(chunks[0]) if len(chunks) == 1 else np.hstack(chunks)


def _compress(store, truncation, tol, A, B, E, trans, info):
    """Column compression of the ADI factor; fills info with what it did and what it cost.

    Automatic rule (``truncation=None``): Z Z^T - Zc Zc^T has 2-norm s_{r+1}^2 (s: singular values
    of Z), so the residual grows by at most 2 ||A||_2 ||E||_2 s_{r+1}^2 / ||B||_2^2. We keep the
    smallest r whose singular-value tail makes this at most the unused part of the tolerance,
    budget = max(tol - res, tol / 20): the compressed factor's residual is then <= max(tol, res +
    tol / 20) by a rigorous bound (||M||_2 <= sqrt(||M||_1 ||M||_inf)).
    """
    res = info["residual_before_compression"]
    m, n = B.shape[1], B.shape[0]
    if truncation is False:
        info["residual_after_compression"] = res
        return store.to_array()
    growth = 2.0 * _norm2_bound(A) * _norm2_bound(E) / np.linalg.norm(B, 2) ** 2
    if truncation is None:
        budget = max(tol - res, tol / 20)
        rule = Truncation(atol=np.sqrt(budget / growth))
    else:
        rule = truncation
    k0 = store.ncols
    # shared kernel: TSQR over row blocks of the chunks, so Z is never concatenated or copied whole
    Zc, s = compress_factor(store.take_chunks(), rule)
    info["factor_singular_values"] = s
    k = Zc.shape[1]
    if k == k0:
        info["residual_after_compression"] = res
        return Zc
    info["compression_residual_bound"] = res + growth * (s[k] ** 2 if k < s.size else 0.0)
    if n * (2 * k + m) ** 2 <= _EXACT_RESIDUAL_FLOPS:
        info["residual_after_compression"] = lyapunov_residual(A, B, Zc, E, trans)
    else:  # too big to check exactly: rely on the bound
        info["residual_after_compression"] = None
    return Zc


def _pairs_in_order(values) -> list:
    """Shift list -> queue with one entry per real shift or conjugate pair (Im > 0 kept)."""
    out = []
    for z in np.asarray(values, dtype=complex):
        if z.imag == 0:
            out.append(complex(z.real, 0.0))
        elif z.imag > 0:
            out.append(complex(z))
    return out


def _symmetric_bounds(Aop, Eop, sparse):
    """(lambda_min, lambda_max) of the symmetric pencil (A, E) with E SPD, by Lanczos (eigsh)."""
    def asym(M):
        d = M - M.T
        nd = abs(d).max() if sparse else np.abs(d).max()
        return nd > 1e-12 * (abs(M).max() if sparse else np.abs(M).max())

    if asym(Aop) or (Eop is not None and asym(Eop)):
        raise InputError("shifts='wachspress' needs symmetric A and E (real spectrum); use "
                         "shifts='projection' or 'penzl' for non-symmetric problems")
    n = Aop.shape[0]
    if n <= 200:
        Ad = Aop.toarray() if sparse else Aop
        Ed = None if Eop is None else (Eop.toarray() if sparse else Eop)
        try:
            ev = sla.eigh(Ad, Ed, eigvals_only=True)
        except np.linalg.LinAlgError:
            raise InputError("shifts='wachspress' needs a symmetric positive definite E") from None
        return float(ev[0]), float(ev[-1])
    v0 = np.ones(n)
    try:
        lmin = spla.eigsh(Aop, k=1, M=Eop, which="SA", tol=1e-6, v0=v0, return_eigenvectors=False)[0]
        lmax = spla.eigsh(Aop, k=1, M=Eop, sigma=0.0, which="LM", tol=1e-6, v0=v0,
                          return_eigenvectors=False)[0]
    except (spla.ArpackNoConvergence, RuntimeError) as exc:
        raise InputError(f"could not estimate the spectral interval for Wachspress shifts ({exc}); "
                         "use shifts='projection'") from None
    # widen slightly: ARPACK tolerance, and an interval slightly too small hurts more
    return float(lmin) * 1.01, float(lmax) * 0.99


def _unstable_eigenvalue(Aop, Eop, theta, sparse):
    """An eigenvalue of (Aop, Eop) with Re >= 0 near the Ritz value theta, or None.

    Small problems: all eigenvalues (dense QZ). Large: the 6 eigenvalues nearest theta by
    shift-and-invert Arnoldi (one LU of Aop - theta Eop).
    """
    n = Aop.shape[0]
    if n <= 400:
        Ad = Aop.toarray() if sparse else np.asarray(Aop)
        Ed = None if Eop is None else (Eop.toarray() if sparse else np.asarray(Eop))
        ev = sla.eigvals(Ad, Ed)
        ev = ev[np.isfinite(ev)]
    else:
        I = sp.identity(n, format="csc") if sparse else np.eye(n)
        Ed = I if Eop is None else Eop
        M = Aop - theta * Ed
        try:
            f = _Factor(sp.csc_matrix(M) if sparse else np.asarray(M), "A - theta E")
        except SingularMatrixError:
            return complex(theta)
        dtype = complex if np.iscomplexobj(M) else float
        op = spla.LinearOperator((n, n), matvec=lambda x: f.solve(Ed @ x), dtype=dtype)
        try:
            mu = spla.eigs(op, k=min(6, n - 2), which="LM", tol=1e-8, v0=np.ones(n), maxiter=300,
                           return_eigenvectors=False)
        except spla.ArpackNoConvergence as exc:
            mu = exc.eigenvalues
        except RuntimeError:
            return None
        # mu = 0 (to roundoff) are infinite eigenvalues (a singular E): not poles
        mu = mu[np.abs(mu) > 1e-12 * np.abs(mu).max(initial=0.0)]
        ev = theta + 1.0 / mu
    bad = ev[ev.real >= -1e-12 * np.maximum(np.abs(ev), 1.0)]
    return complex(bad[np.argmax(bad.real)]) if bad.size else None
