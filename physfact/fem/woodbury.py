"""Low-rank updates of a factored stiffness matrix by the Sherman--Morrison--Woodbury formula.

For K' = K + U C V^T (k << n: a local stiffness change, springs, a new support),

    K'^{-1} b = y - Z C (I + V^T Z C)^{-1} V^T y,     y = K^{-1} b,  Z = K^{-1} U,

which needs k solves with the old factor once (Z) and one per right-hand side (Woodbury 1950;
Hager, "Updating the inverse of a matrix", SIAM Review 31 (1989) 221--239). This form never
inverts C, so singular C (e.g. a rank-deficient element stiffness) is fine.

``constrain=True`` imposes the linear constraints U^T x = 0 exactly (the limit C -> infinity, a
rigid support): x = y - Z (U^T Z)^{-1} U^T y, the solution of the saddle-point system with a
Lagrange multiplier. The constrained DOFs then carry the reaction force in ``b - K x``.
"""
from __future__ import annotations

import numpy as np

from physfact.errors import InputError, SingularMatrixError
from physfact.validation import as_array


def _solver(factor):
    if callable(getattr(factor, "solve", None)):
        return factor.solve
    if callable(factor):
        return factor
    raise InputError("factor must have a .solve(b) method (scipy splu, FDMFactor, WoodburyFactor...) or be callable")


class WoodburyFactor:
    """The solver of K + U C V^T built on a solver of K; see the module docstring.

    Attributes
    ----------
    U, V : ndarray, shape (n, k)
    C : ndarray, shape (k, k) or None (constraint mode)
    Z : ndarray, shape (n, k)
        K^{-1} U.
    """

    def __init__(self, factor, U, C=None, V=None, constrain: bool = False):
        self._base = _solver(factor)
        U = as_array(U, "U", ndim=(1, 2))
        U = U[:, None] if U.ndim == 1 else U
        n, k = U.shape
        V = U if V is None else as_array(V, "V", ndim=(1, 2))
        V = V[:, None] if V.ndim == 1 else V
        if V.shape != U.shape:
            raise InputError(f"V must have the shape of U {U.shape}, got {V.shape}")
        if constrain:
            if C is not None:
                raise InputError("constrain=True imposes U^T x = 0; do not pass C")
            C = None
        else:
            C = np.eye(k) if C is None else as_array(np.atleast_2d(C) if np.ndim(C) < 2 else C, "C", ndim=2)
            if C.shape == (1, 1) and k > 1:
                C = C[0, 0] * np.eye(k)
            if C.shape != (k, k):
                raise InputError(f"C must be {k} x {k} for U with {k} columns, got {C.shape}")
        try:
            Z = np.asarray(self._base(U))
        except ValueError as exc:  # scipy's solvers: "b is of incompatible size" and the like
            raise InputError(f"U has {n} rows, which the factor cannot solve for ({exc}); U must have one row "
                             "per unknown of the factored matrix") from None
        Z = Z[:, None] if Z.ndim == 1 else Z
        if Z.shape != (n, k):
            raise InputError(f"the factor returned shape {Z.shape} for U of shape {U.shape}; sizes do not match")
        self.U, self.V, self.C, self.Z, self.constrain = U, V, C, Z, constrain
        S = V.T @ Z if constrain else np.eye(k) + (V.T @ Z) @ C
        cond = np.linalg.cond(S)
        if not np.isfinite(cond) or cond > 1e13:
            raise SingularMatrixError(
                f"the updated matrix is (numerically) singular: capacitance condition number {cond:.2e} "
                "(does the update remove all stiffness from a mode, or constrain dependent DOFs?)")
        self._lu = np.linalg.inv(S)  # k x k, small
        self.n = n

    @property
    def shape(self):
        return (self.n, self.n)

    @property
    def rank(self) -> int:
        return self.U.shape[1]

    def solve(self, b):
        """(K + U C V^T)^{-1} b (or the constrained solution) for b of shape (n,) or (n, m)."""
        b = as_array(b, "b", ndim=(1, 2))
        if b.shape[0] != self.n:
            raise InputError(f"b has {b.shape[0]} rows, the matrix {self.n}")
        y = np.asarray(self._base(b))
        w = self._lu @ (self.V.T @ y)
        if self.constrain:
            return y - self.Z @ w
        return y - self.Z @ (self.C @ w)

    __call__ = solve

    def __repr__(self):
        mode = "constraint" if self.constrain else "update"
        return f"WoodburyFactor(n={self.n}, rank={self.rank}, mode={mode!r})"


def woodbury_update(factor, U, C=None, V=None, constrain: bool = False) -> WoodburyFactor:
    """Solver of K + U C V^T from a solver (``factor.solve`` or a callable) of K.

    Parameters
    ----------
    factor : object with ``.solve(b)`` or callable
        Solves K x = b for vectors and (n, k) blocks: scipy ``splu`` objects, :class:`FDMFactor`,
        another :class:`WoodburyFactor` (updates chain), or ``lambda b: pcg_solve(...).x``.
    U : array_like, shape (n, k)
    C : array_like, shape (k, k), optional
        Identity if None; a scalar is allowed for a multiple of the identity.
    V : array_like, shape (n, k), optional
        U if None (symmetric update).
    constrain : bool
        Impose U^T x = 0 instead (rigid supports), see the module docstring.

    Returns
    -------
    WoodburyFactor
    """
    return WoodburyFactor(factor, U, C=C, V=V, constrain=constrain)
