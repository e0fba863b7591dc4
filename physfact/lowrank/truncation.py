"""The one truncation rule used by every factorization in physfact.

A :class:`Truncation` turns a non-increasing sequence of singular values (or of the absolute
eigenvalues of a symmetric factorization) into a rank. The criteria:

``atol``
    smallest r with :math:`\\sqrt{\\sum_{i>r} s_i^2} \\le \\mathrm{atol}` (Eckart--Young: this is the
    Frobenius error of the best rank-r approximation).
``rtol``
    the same with :math:`\\mathrm{atol} = \\mathrm{rtol}\\,\\|s\\|_2`.
``energy``
    smallest r with :math:`\\sum_{i\\le r} s_i^2 \\ge \\mathrm{energy}\\,\\sum_i s_i^2`.
``criterion="aic"``
    Akaike: minimise :math:`\\|Y - Y_r\\|_F^2/\\sigma^2 + 2 r (m + n - r)` for an m x n matrix
    (r(m+n-r) free parameters). ``sigma`` is the noise standard deviation per entry; when not
    given it is estimated from the median singular value (Gavish & Donoho, IEEE Trans. Inf. Theory
    60 (2014) 5040). Reliable when the aspect ratio m/n is away from 1: for square matrices the
    largest noise singular value sits right at the AIC penalty, and "gap" is the safer choice.
``criterion="gap"``
    the r with the largest ratio :math:`s_r / s_{r+1}` among the singular values above the noise
    floor :math:`\\sigma(\\sqrt m + \\sqrt n)` (the Marchenko--Pastur bulk edge).
``rank``
    a cap on the result.

Several criteria given: the smallest r that meets them all (the largest of the individual ranks),
then capped by ``rank``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from physfact.errors import InputError
from physfact.lowrank.scaled import tail_norms
from physfact.validation import as_array, check_int, check_positive

_CRITERIA = (None, "aic", "gap")


@dataclass(frozen=True)
class Truncation:
    """A rank-selection rule; see the module docstring for the exact semantics.

    Parameters
    ----------
    rank : int, optional
        Maximal rank (a cap). Alone, it means "exactly this rank" (or fewer values if fewer exist).
    rtol : float, optional
        Relative Frobenius tolerance of the discarded tail, in (0, 1].
    atol : float, optional
        Absolute Frobenius tolerance of the discarded tail.
    energy : float, optional
        Fraction of the squared singular values to keep, in (0, 1].
    criterion : {"aic", "gap"}, optional
        Statistical model-order criterion.
    sigma : float, optional
        Noise standard deviation per matrix entry for ``criterion``; estimated when None.
    """

    rank: int | None = None
    rtol: float | None = None
    atol: float | None = None
    energy: float | None = None
    criterion: str | None = None
    sigma: float | None = None

    def __post_init__(self):
        check_int(self.rank, "Truncation.rank", minimum=0)
        check_positive(self.rtol, "Truncation.rtol", allow_zero=True)
        check_positive(self.atol, "Truncation.atol", allow_zero=True)
        check_positive(self.sigma, "Truncation.sigma")
        if self.energy is not None:
            e = check_positive(self.energy, "Truncation.energy")
            if e > 1:
                raise InputError(f"Truncation.energy is a fraction in (0, 1], got {self.energy}")
        if self.criterion not in _CRITERIA:
            raise InputError(f"Truncation.criterion must be 'aic' or 'gap', got {self.criterion!r}")

    @property
    def is_empty(self) -> bool:
        """True when no criterion and no cap is set (keep everything)."""
        return all(v is None for v in (self.rank, self.rtol, self.atol, self.energy, self.criterion))

    def choose(self, s, shape=None) -> int:
        """Rank chosen for singular values ``s``; see :func:`choose_rank`."""
        return choose_rank(s, self, shape=shape)


def as_truncation(rule=None, **kwargs) -> Truncation:
    """Coerce ``rule`` (a Truncation, an int rank, a float rtol, or None) and keyword overrides."""
    unknown = set(kwargs) - {"rank", "rtol", "atol", "energy", "criterion", "sigma"}
    if unknown:
        raise InputError(f"unknown truncation option(s) {sorted(unknown)}; use rank, rtol, atol, energy, criterion, sigma")
    if rule is None:
        return Truncation(**kwargs)
    if isinstance(rule, Truncation):
        if kwargs:
            fields = {k: getattr(rule, k) for k in ("rank", "rtol", "atol", "energy", "criterion", "sigma")}
            fields.update({k: v for k, v in kwargs.items() if v is not None})
            return Truncation(**fields)
        return rule
    if isinstance(rule, (int, np.integer)) and not isinstance(rule, bool):
        return Truncation(rank=int(rule), **kwargs)
    if isinstance(rule, float):
        return Truncation(rtol=rule, **kwargs)
    raise InputError(f"a truncation rule must be a Truncation, an int rank or a float rtol, got {rule!r}")


@lru_cache(maxsize=64)
def marchenko_pastur_median(beta: float) -> float:
    """Median of the Marchenko--Pastur law with aspect ratio ``beta`` = m/n <= 1 (variance 1)."""
    from scipy.integrate import quad
    from scipy.optimize import brentq

    beta = float(beta)
    if not 0 < beta <= 1:  # also NaN
        raise InputError(f"the Marchenko-Pastur aspect ratio beta = m/n must be in (0, 1], got {beta}")
    a, b = (1 - np.sqrt(beta)) ** 2, (1 + np.sqrt(beta)) ** 2

    def density(x):
        return np.sqrt(max((b - x) * (x - a), 0.0)) / (2 * np.pi * beta * x)

    def cdf(x):
        return quad(density, a, x, limit=200)[0]

    if beta == 1.0:  # density ~ 1/sqrt(x) at 0: start slightly inside
        a = 1e-12
    return float(brentq(lambda x: cdf(x) - 0.5, a + 1e-14, b))


def estimate_noise_sigma(s, shape) -> float:
    """Noise standard deviation per entry from the median singular value (Gavish--Donoho 2014).

    For Y = X + sigma Z (Z standard Gaussian, m <= n), the bulk singular values of Y satisfy
    s_med^2 ~= n sigma^2 mu_beta with mu_beta the Marchenko--Pastur median for beta = m/n.
    """
    m, n = sorted(_matrix_shape(shape))
    s = as_array(s, "singular values", ndim=1)
    if np.any(s < 0):
        raise InputError("singular values must be non-negative")
    full = np.zeros(m)
    full[: min(m, s.size)] = s[:m]  # missing values of a truncated spectrum count as 0
    beta = m / n
    return float(np.median(full) / np.sqrt(n * marchenko_pastur_median(beta)))


def choose_rank(s, rule: Truncation | None = None, shape=None) -> int:
    """Rank selected by ``rule`` for the non-increasing values ``s``.

    Every criterion is evaluated on ``s / max(s)`` (tolerances and ``sigma`` divided by the same
    number) and tails are accumulated with ``hypot``: no raw value is squared, so the rank does not
    depend on the overall scale of ``s`` (1e-170 and 1e+300 give the ranks of 1).

    Parameters
    ----------
    s : array_like, shape (k,)
        Singular values (non-negative, non-increasing).
    rule : Truncation, optional
        The rule; None keeps every non-zero value.
    shape : (m, n), optional
        Shape of the matrix the values come from; needed by ``criterion`` (default (k, k)).

    Returns
    -------
    int
        The rank r, 0 <= r <= k.
    """
    s = as_array(s, "singular values", ndim=1, allow_empty=True)
    if np.any(s < 0):
        raise InputError("singular values must be non-negative")
    rule = as_truncation(rule)
    k = s.size
    if k == 0:
        return 0
    scale = float(s.max()) or 1.0  # all zero: every criterion keeps nothing (a bare rank cap still applies)
    u = s / scale
    if k > 1 and np.any(np.diff(u) > 1e-9):
        raise InputError("singular values must be sorted in non-increasing order")
    if rule.is_empty:
        return int(np.count_nonzero(u > 0))
    tail = tail_norms(u)  # tail[r] = ||u[r:]||, relative to the largest value
    ranks = []
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        if rule.atol is not None:
            ranks.append(int(np.argmax(tail <= rule.atol / scale)))
        if rule.rtol is not None:
            ranks.append(int(np.argmax(tail <= rule.rtol * tail[0] * (1 + 1e-14))))
        if rule.energy is not None:
            kept = np.concatenate(([0.0], np.cumsum(u * u)))
            ranks.append(int(np.argmax(kept >= rule.energy * kept[-1] * (1 - 1e-14))))
        if rule.criterion is not None:
            m, n = (k, k) if shape is None else _matrix_shape(shape)
            if min(m, n) < k:
                raise InputError(f"shape {shape} is too small for {k} singular values")
            sigma = rule.sigma / scale if rule.sigma is not None else estimate_noise_sigma(u, (m, n))
            if rule.criterion == "aic":
                r = np.arange(k + 1)
                if sigma == 0:
                    ranks.append(int(np.count_nonzero(u > 0)))
                else:
                    aic = (tail / sigma) ** 2 + 2.0 * r * (m + n - r)  # inf where it overflows: never chosen
                    ranks.append(int(np.argmin(aic)))
            else:  # gap
                floor = sigma * (np.sqrt(m) + np.sqrt(n))
                above = int(np.count_nonzero(u > floor))
                if above == 0:
                    ranks.append(0)
                elif above == k:
                    ranks.append(k)
                else:
                    nxt = np.maximum(u[1 : above + 1], np.finfo(float).tiny)
                    ranks.append(int(np.argmax(u[:above] / nxt)) + 1)
    r = max(ranks) if ranks else k
    if rule.rank is not None:
        r = min(r, rule.rank)
    return int(r)


def _matrix_shape(shape):
    """(m, n) from a user's ``shape``, as positive ints."""
    try:
        m, n = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise InputError(f"shape must be a pair (m, n) of positive ints, got {shape!r}") from None
    if m < 1 or n < 1:
        raise InputError(f"shape must be a pair (m, n) of positive ints, got {shape!r}")
    return m, n
