"""Calabrese-Cardy fit of the central charge from block entanglement entropies.

For a critical chain of L sites described by a CFT of central charge c, the entropy of the block
of the first l sites is (Calabrese & Cardy, J. Stat. Mech. (2004) P06002, Eqs. for finite systems)

    open chain (block at a boundary):  S(l) = (c/6) ln[(2L/pi) sin(pi l / L)] + const
    periodic chain:                    S(l) = (c/3) ln[(L/pi)  sin(pi l / L)] + const

i.e. S is linear in the log chord length. We fit S = c x + b by least squares over a window
that drops the sites near the ends, where lattice and boundary corrections are largest:

    l_min <= l <= L - l_min,   l_min = max(1, round(margin * L)),   default margin = 1/8,

and for the Heisenberg chain (``even_only=True``) only even l, which removes the dimerization
oscillation of open chains (Laflorencie et al., PRL 96 (2006) 100603). Entropies in nats.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physfact.errors import InputError
from physfact.validation import as_array, check_int


@dataclass(frozen=True)
class CalabreseCardyFit:
    """Result of :func:`calabrese_cardy_fit`.

    Attributes
    ----------
    c : float
        Fitted central charge.
    constant : float
        Fitted non-universal constant (nats).
    l : ndarray
        Block sizes used.
    residual_rms : float
        Root-mean-square residual of the fit (nats).
    L : int
    boundary : str
    formula : str
    """

    c: float
    constant: float
    l: np.ndarray
    residual_rms: float
    L: int
    boundary: str
    formula: str

    def __repr__(self):
        return (f"CalabreseCardyFit(c={self.c:.4f}, constant={self.constant:.4f}, L={self.L}, "
                f"boundary={self.boundary!r}, l={int(self.l[0])}..{int(self.l[-1])} ({self.l.size} points), "
                f"residual_rms={self.residual_rms:.2e})")


def chord_variable(l, L, boundary="open"):
    """The regressor x(l) with S = c x + const: (1/6) ln[(2L/pi) sin(pi l/L)] (open) or
    (1/3) ln[(L/pi) sin(pi l/L)] (periodic)."""
    l = np.asarray(l, dtype=float)
    if boundary == "open":
        return np.log(2 * L / np.pi * np.sin(np.pi * l / L)) / 6.0
    if boundary == "periodic":
        return np.log(L / np.pi * np.sin(np.pi * l / L)) / 3.0
    raise InputError(f"boundary must be 'open' or 'periodic', got {boundary!r}")


def calabrese_cardy_fit(S, L=None, boundary="open", margin=0.125, even_only=False, window=None) -> CalabreseCardyFit:
    """Fit the central charge c from S(l), l = 1 .. L-1 (one value per MPS bond, in nats).

    Parameters
    ----------
    S : array_like, shape (L-1,)
        Entropies of the blocks of the first l sites, l = 1 .. L-1.
    L : int, optional
        Chain length (default len(S) + 1).
    boundary : {"open", "periodic"}
    margin : float
        Drop l < margin L and l > (1 - margin) L (default 1/8).
    even_only : bool
        Use even l only (Heisenberg chains).
    window : (int, int), optional
        Explicit inclusive range (l_min, l_max), overriding ``margin``.
    """
    S = as_array(S, "S", ndim=1)
    L = S.size + 1 if L is None else check_int(L, "L", minimum=2)
    if S.size != L - 1:
        raise InputError(f"need S(l) for l = 1 .. L-1 ({L - 1} values), got {S.size}")
    l = np.arange(1, L)
    if window is not None:
        try:
            lo, hi = (check_int(v, "window entry", minimum=1) for v in window)
        except (TypeError, ValueError):
            raise InputError(f"window must be a pair (l_min, l_max) of ints, got {window!r}") from None
    else:
        if not 0 <= margin < 0.5:
            raise InputError(f"margin is a fraction in [0, 0.5), got {margin}")
        lo = max(1, int(round(margin * L)))
        hi = L - lo
    mask = (l >= lo) & (l <= hi)
    if even_only:
        mask &= l % 2 == 0
    if np.count_nonzero(mask) < 3:
        raise InputError(f"the window l = {lo}..{hi} leaves fewer than 3 points; use a longer chain or a smaller margin")
    x = chord_variable(l[mask], L, boundary)
    Amat = np.column_stack([x, np.ones_like(x)])
    coef, *_ = np.linalg.lstsq(Amat, S[mask], rcond=None)
    res = S[mask] - Amat @ coef
    formula = ("S = (c/6) ln[(2L/pi) sin(pi l/L)] + const" if boundary == "open"
               else "S = (c/3) ln[(L/pi) sin(pi l/L)] + const")
    return CalabreseCardyFit(float(coef[0]), float(coef[1]), l[mask], float(np.sqrt(np.mean(res**2))), L,
                             boundary, formula)
