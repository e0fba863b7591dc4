r"""Large sparse semi-explicit index-1 DAEs: balanced truncation by LR-ADI without the Schur complement.

A descriptor system E x' = A x + B u, y = C x + D u whose E, after a permutation of rows and columns,
is [[E11, 0], [0, 0]] (the *algebraic* rows and columns of E are exactly zero) with E11 and A22
nonsingular,

.. math::  \begin{bmatrix} E_{11} & 0 \\ 0 & 0 \end{bmatrix} x' =
           \begin{bmatrix} A_{11} & A_{12} \\ A_{21} & A_{22} \end{bmatrix} x +
           \begin{bmatrix} B_1 \\ B_2 \end{bmatrix} u,

is of index 1 and has the same transfer function as the ODE in x_1 (eliminate x_2 = -A22^{-1}(A21 x1 + B2 u))

.. math::  E_{11} x_1' = \underbrace{(A_{11} - A_{12}A_{22}^{-1}A_{21})}_{A_s} x_1
                       + (B_1 - A_{12}A_{22}^{-1}B_2) u, \quad
           y = (C_1 - C_2 A_{22}^{-1}A_{21}) x_1 + (D - C_2 A_{22}^{-1}B_2) u.

A_s is dense in general and is never formed (nor E11^{-1}A_s). Everything LR-ADI needs is done with
the original sparse matrices (Freitag, "Balanced model order reduction for linear time-invariant
systems with applications to power systems", Diploma thesis, TU Chemnitz 2008; Benner & Stykel,
"Model order reduction for differential-algebraic equations: a survey", in Surveys in
Differential-Algebraic Equations IV, Springer 2017, 107; M-M.E.S.S.'s ``dae_1`` user functions,
Saak, Köhler & Benner):

* a shifted solve (A_s + p E11)^{-1} v is the x_1 block of one sparse LU of the augmented matrix
  [[A11 + p E11, A12], [A21, A22]] = A + p E applied to [v; 0]; the x_2 block it also returns is
  -A22^{-1}A21 x_1, so LR-ADI run on the full pencil (A, E) with the projected right-hand side
  B~ = [B1 - A12 A22^{-1} B2; 0] produces the *lifted* factor Z = [Z1; -A22^{-1}A21 Z1]: Z1 is the
  Gramian factor of the Schur-complement ODE, and Z Z^T the proper controllability Gramian of the
  DAE (Stykel 2004). For lifted vectors A Z = [A_s Z1; 0] and E Z = [E11 Z1; 0], so the ADI residual,
  its compression, the Hankel singular values L_o^T E L_c and the reduced matrices W^T A V, W^T B,
  C V are those of the Schur-complement ODE, computed from sparse products only;
* E^{-1}, needed only for the shifts' start space, is replaced by the lifted inverse
  x -> [E11^{-1} x_1; -A22^{-1}A21 E11^{-1} x_1] (:class:`Index1Pencil`);
* the feedthrough D - C2 A22^{-1} B2 comes from one sparse LU of A22.

Memory: the factors have n (not n_1) rows; no n x n matrix is formed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from physfact.errors import InputError, SingularMatrixError

#: Above this order a sparse semi-explicit DAE's ``simulate`` and ``hinf_norm`` avoid the dense
#: proper/polynomial split (ordered QZ, measured 9 s at n = 1200 and 82 s at n = 2400): the
#: trapezoidal rule on the full pencil and frequency sampling with sparse LUs instead.
SPLIT_LIMIT = 1000


@dataclass(frozen=True)
class SemiExplicitStructure:
    """Row and column indices of a semi-explicit E (see :func:`semi_explicit_structure`).

    Attributes
    ----------
    rows1, cols1 : ndarray of int
        Differential rows / columns (E11 = E[rows1][:, cols1]).
    rows2, cols2 : ndarray of int
        Algebraic rows / columns: exactly zero in E (A22 = A[rows2][:, cols2]).
    """

    rows1: np.ndarray
    cols1: np.ndarray
    rows2: np.ndarray
    cols2: np.ndarray

    @property
    def n_algebraic(self) -> int:
        return int(self.rows2.size)


def semi_explicit_structure(E):
    """The semi-explicit structure of a sparse E, or None.

    From the pattern only (O(nnz), no factorization): the algebraic rows and columns are those of E
    that are exactly zero; E is semi-explicit when there are as many zero rows as zero columns (at
    least one). Whether E11 and A22 are nonsingular (index 1) is checked when they are factored
    (:class:`Index1Pencil`).
    """
    if E is None or not sp.issparse(E):
        return None
    E = sp.csr_matrix(E, copy=True)
    E.eliminate_zeros()
    n = E.shape[0]
    row_nnz = np.diff(E.indptr)
    col_nnz = np.bincount(E.indices, minlength=n)
    rows2, cols2 = np.flatnonzero(row_nnz == 0), np.flatnonzero(col_nnz == 0)
    if rows2.size == 0 or rows2.size != cols2.size or rows2.size == n:
        return None
    return SemiExplicitStructure(rows1=np.flatnonzero(row_nnz), cols1=np.flatnonzero(col_nnz),
                                 rows2=rows2, cols2=cols2)


def _lu(M, what: str, hint: str):
    """Sparse LU of M, or SingularMatrixError naming ``what`` (exactly or numerically singular)."""
    from physfact.control.descriptor import sparse_lu

    M = sp.csc_matrix(M)
    try:
        lu = sparse_lu(M)
    except RuntimeError as exc:
        raise SingularMatrixError(f"{what} is singular ({exc}); {hint}") from None
    piv = np.abs(lu.U.diagonal())
    if piv.size and piv.min() <= M.shape[0] * np.finfo(float).eps * piv.max():
        raise SingularMatrixError(f"{what} is numerically singular (LU pivot ratio {piv.min() / piv.max():.1e}); "
                                  f"{hint}")
    return lu


class Index1Pencil:
    """The factorizations and projections of a semi-explicit index-1 pencil (A, E).

    Parameters
    ----------
    A, E : sparse (n, n)
    structure : SemiExplicitStructure, optional (detected from E when None)

    Raises
    ------
    InputError
        E is not semi-explicit (no matching zero rows and columns).
    SingularMatrixError
        A22 singular (the DAE is of index 2 or higher, or its algebraic equations are dependent) or
        E11 singular (hidden algebraic equations).
    """

    def __init__(self, A, E, structure: SemiExplicitStructure | None = None):
        st = semi_explicit_structure(E) if structure is None else structure
        if st is None:
            raise InputError("E is not semi-explicit: the sparse index-1 route needs E = [[E11, 0], [0, 0]] "
                             "up to a permutation (as many exactly-zero rows as exactly-zero columns)")
        self.structure = st
        self.n = A.shape[0]
        A = sp.csr_matrix(A)
        E = sp.csr_matrix(E)
        r1, c1, r2, c2 = st.rows1, st.cols1, st.rows2, st.cols2
        A_rows2 = A[r2]
        self.A12 = A[r1][:, c2].tocsr()
        self.A21 = A_rows2[:, c1].tocsr()
        self.lu22 = _lu(A_rows2[:, c2], f"the algebraic block A22 ({st.n_algebraic} x {st.n_algebraic})",
                        "the DAE is not of index 1 (index 2 or higher, or dependent algebraic equations): "
                        "use the dense DAE path (solver='hammarling', moderate n)")
        self.lu11 = _lu(E[r1][:, c1], f"the differential block E11 ({r1.size} x {r1.size}) of E",
                        "E has hidden algebraic equations (not semi-explicit index 1): use the dense DAE "
                        "path (solver='hammarling', moderate n)")

    # x -> [x1; -A22^{-1} A21 x1] in column coordinates (trans: the row coordinates of A^T)
    def lift(self, x1, trans: bool = False):
        """Full vector with differential part ``x1`` on the hidden manifold: the algebraic part is
        -A22^{-1} A21 x1 (``trans``: -A22^{-T} A12^T x1, for the transposed pencil)."""
        st = self.structure
        x1 = np.asarray(x1)
        out = np.zeros((self.n,) + x1.shape[1:], dtype=np.result_type(x1, float))
        if trans:
            out[st.rows1] = x1
            out[st.rows2] = -self._solve22(self.A12.T @ x1, trans=True)
        else:
            out[st.cols1] = x1
            out[st.cols2] = -self._solve22(self.A21 @ x1)
        return out

    def _solve22(self, b, trans: bool = False):
        t = "T" if trans else "N"
        if np.iscomplexobj(b):
            return self.lu22.solve(np.ascontiguousarray(b.real), trans=t) + \
                1j * self.lu22.solve(np.ascontiguousarray(b.imag), trans=t)
        return self.lu22.solve(np.asarray(b, dtype=float), trans=t)

    def solve(self, b, trans: bool = False):
        """The lifted inverse of E (E^T with ``trans``): lift(E11^{-1} b_1), b_1 the differential rows
        of ``b``. For a lifted x, solve(A x) = lift(E11^{-1} A_s x_1) (the E^{-1} A that LR-ADI's
        shift computation needs); the algebraic rows of ``b`` are ignored."""
        st = self.structure
        b = np.asarray(b, dtype=float)
        b1 = b[st.cols1] if trans else b[st.rows1]
        x1 = self.lu11.solve(np.ascontiguousarray(b1), trans="T" if trans else "N")
        return self.lift(x1, trans=trans)

    def project_inputs(self, B):
        """[B1 - A12 A22^{-1} B2; 0] (rows of A): the input matrix of the Schur-complement ODE,
        placed in the differential rows."""
        st = self.structure
        B = np.asarray(B, dtype=float)
        out = np.zeros_like(B)
        out[st.rows1] = B[st.rows1] - self.A12 @ self._solve22(B[st.rows2])
        return out

    def project_outputs(self, C):
        """[C1 - C2 A22^{-1} A21, 0] (columns of A): the output matrix of the Schur-complement ODE."""
        st = self.structure
        C = np.asarray(C, dtype=float)
        out = np.zeros_like(C)
        # C2 A22^{-1} A21 = ((A21^T A22^{-T}) C2^T)^T
        out[:, st.cols1] = C[:, st.cols1] - (self.A21.T @ self._solve22(C[:, st.cols2].T, trans=True)).T
        return out

    def feedthrough(self, B, C, D):
        """D - C2 A22^{-1} B2: G(infinity), the constant part of the transfer function."""
        st = self.structure
        return np.asarray(D, dtype=float) - C[:, st.cols2] @ self._solve22(np.asarray(B, dtype=float)[st.rows2])

    def consistent_state(self, x0, B, u0):
        """``x0`` with its algebraic part replaced by the consistent one, -A22^{-1}(A21 x0_1 + B2 u0)
        (the algebraic equations hold at t0)."""
        st = self.structure
        x = np.array(x0, dtype=float)
        x[st.cols2] = -self._solve22(self.A21 @ x[st.cols1] + np.asarray(B)[st.rows2] @ u0)
        return x


def index1_pencil(sys) -> Index1Pencil:
    """:class:`Index1Pencil` of a sparse LTISystem with semi-explicit singular E (raises otherwise)."""
    return Index1Pencil(sys.A, sys.E, getattr(sys, "semi_explicit", None))


def proper_realization(sys, pencil: Index1Pencil | None = None):
    """The same transfer function with the algebraic input and output directions projected out:
    LTISystem(A, B~, C~, D~, E) with B~ = [B1 - A12 A22^{-1} B2; 0], C~ = [C1 - C2 A22^{-1} A21, 0],
    D~ = D - C2 A22^{-1} B2. Its Gramians (from LR-ADI with :meth:`Index1Pencil.solve` as E^{-1})
    are the lifted Gramians of the Schur-complement ODE. Returns (system, pencil)."""
    from physfact.control.lti import LTISystem

    pencil = index1_pencil(sys) if pencil is None else pencil
    proj = LTISystem(sys.A, pencil.project_inputs(sys.B), pencil.project_outputs(sys.C),
                     pencil.feedthrough(sys.B, sys.C, sys.D), sys.E)
    return proj, pencil


def index1_balanced_truncation(sys, rank=None, tol=None, method="sr", adi_tol=1e-10, frequency_band=None,
                               progress=None, t0=None, **adi_options):
    """Balanced truncation (``method`` "sr", "bfsr", "spa"; or frequency-limited with
    ``frequency_band``) of a large sparse semi-explicit index-1 DAE by LR-ADI on the full pencil with
    projected inputs and outputs (module docstring); called by
    :func:`~physfact.control.balanced_truncation.balanced_truncation` for such systems.

    The Hankel singular values, the bound 2 sum(hsv[r:]) and the ROM refer to the whole transfer
    function (index 1 has no s-terms); the ROM's D is D - C2 A22^{-1} B2 exactly. ``V``, ``W`` are
    n x r with W^T E V = I. ``info["algebraic_states"]`` is n_2.
    """
    import dataclasses

    from physfact.control.balanced_truncation import _bt_lowrank

    t0 = time.perf_counter() if t0 is None else t0
    if sys.is_discrete:
        raise InputError("singular E in discrete time is not supported; pass a nonsingular E")
    shifts = adi_options.get("shifts", "projection")
    if isinstance(shifts, str) and shifts == "wachspress":
        raise InputError("shifts='wachspress' needs an SPD E; for a DAE use shifts='projection' or 'penzl'")
    proj, pencil = proper_realization(sys)
    adi_options = dict(adi_options, E_inverse=pencil)
    if frequency_band is not None:
        from physfact.control.frequency_limited import frequency_limited_bt

        res = frequency_limited_bt(proj, frequency_band, rank=rank, tol=tol, method=method, solver="adi",
                                   adi_tol=adi_tol, t0=t0, progress=progress, **adi_options)
    else:
        res = _bt_lowrank(proj, rank, tol, method, adi_tol, adi_options, t0, progress)
    info = dict(res.info, algebraic_states=pencil.structure.n_algebraic, polynomial=(proj.D.copy(),),
                route="sparse index 1 (LR-ADI on the augmented pencil)")
    return dataclasses.replace(res, solver=res.solver + "+index1", seconds=time.perf_counter() - t0, info=info)
