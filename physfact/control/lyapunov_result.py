"""The result type shared by every Lyapunov solver (dense factor-direct, LR-ADI, Krylov)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, repr=False)
class LyapunovFactor:
    """A low-rank factor of the solution X of a Lyapunov equation, X ~= Z Z^T.

    Controllability form (``trans=False``): A X E^T + E X A^T + B B^T = 0.
    Observability form (``trans=True``):    A^T X E + E^T X A + C^T C = 0 (with B := C^T).
    Discrete time (Stein): A X A^T - E X E^T + B B^T = 0 (and the transposed form).

    Attributes
    ----------
    Z : ndarray, shape (n, k)
        Real factor, X ~= Z @ Z.T.
    residuals : ndarray
        Relative residual history ||R_j||_2 / ||B B^T||_2 (one entry per iteration; one entry for
        direct solvers).
    shifts : ndarray
        The (complex) ADI shifts used, in order (empty for direct solvers).
    method : str
        Which solver produced Z ("hammarling", "lradi", ...).
    iterations : int
        Iterations (linear solves with shifted pencils) used; 0 for direct solvers.
    seconds : float
        Wall-clock time of the solve.
    info : dict
        Solver-specific extras (number of LU factorizations, columns before compression, ...).
    """

    Z: np.ndarray
    residuals: np.ndarray
    shifts: np.ndarray
    method: str
    iterations: int = 0
    seconds: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def rank(self) -> int:
        """Number of columns of Z."""
        return int(self.Z.shape[1])

    @property
    def residual(self) -> float:
        """Final relative residual."""
        return float(self.residuals[-1]) if len(self.residuals) else float("nan")

    def to_dense(self) -> np.ndarray:
        """X = Z Z^T (dense; only for small n)."""
        return self.Z @ self.Z.T

    def __repr__(self):
        return (f"LyapunovFactor(n={self.Z.shape[0]}, rank={self.rank}, method={self.method!r}, "
                f"iterations={self.iterations}, residual={self.residual:.2e}, seconds={self.seconds:.3g})")
