"""Entanglement entropies from Schmidt probabilities.

For normalized Schmidt values lambda_i (sum lambda_i^2 = 1) the probabilities are p_i = lambda_i^2
and

    von Neumann:  S_1     = -sum_i p_i ln p_i            (terms with p_i = 0 contribute 0)
    Renyi:        S_alpha = ln(sum_i p_i^alpha) / (1 - alpha)   (alpha > 0, alpha != 1)
                  S_inf   = -ln max_i p_i ,   S_0 = ln #{p_i > 0}

in nats; ``base=2`` divides by ln 2 (bits), any other base b by ln b.

Near alpha = 1 the Renyi quotient is 0/0: ln(sum p^alpha) and 1 - alpha both vanish, and the
direct formula loses ~|1 - alpha|^-1 eps (7e-5 nats at alpha = 1 + 1e-12). With eps = alpha - 1,
q = p / sum p and Q = sum q (1 up to rounding),

    sum_i q_i^alpha = Q + sum_i q_i expm1(eps ln q_i),
    S_alpha = -log1p(T) / eps + ln Q,   T = sum_i q_i expm1(eps ln q_i) / Q,

which is exact and keeps full relative accuracy as eps -> 0 (expm1/log1p never subtract nearby
numbers); it tends to the von Neumann value continuously. Used for |alpha - 1| <= 1/2.
"""
from __future__ import annotations

import numpy as np

from physfact.errors import InputError


def _log_base(base):
    if base is None:
        return 1.0
    try:
        b = float(base)
    except (TypeError, ValueError):
        raise InputError(f"base must be a number > 1 or None (natural log), got {base!r}") from None
    if not np.isfinite(b) or b <= 1:
        raise InputError(f"base must be a number > 1 or None (natural log), got {base!r}")
    return float(np.log(b))


def entropy_from_probabilities(p, alpha=1, base=None) -> float:
    """Von Neumann (alpha = 1) or Renyi entropy of a probability vector (normalized here).

    Parameters
    ----------
    p : array_like
        Non-negative weights (normalized to sum 1 internally).
    alpha : float
        Renyi index: 1 (von Neumann), 0, np.inf, or any positive value.
    base : None or float
        None: nats; 2: bits.
    """
    try:
        p = np.asarray(p, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"probabilities must be numbers, got {p!r}") from None
    if p.ndim != 1 or p.size == 0:
        raise InputError(f"probabilities must be a non-empty vector, got shape {p.shape}")
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise InputError("probabilities must be finite and non-negative")
    total = p.sum()
    if total <= 0:
        raise InputError("probabilities sum to zero: the state is zero")
    p = p / total
    lb = _log_base(base)
    alpha = check_alpha(alpha)
    return max(float(renyi_nats(p[p > 0], alpha)), 0.0) / lb


def check_alpha(alpha) -> float:
    """The Renyi index as a float in [0, inf], or :class:`InputError`."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise InputError(f"alpha must be a non-negative number or inf, got {alpha!r}") from None
    if not a >= 0:  # also NaN
        raise InputError(f"alpha (the Renyi index) must be a non-negative number or inf, got {alpha!r}")
    return a


def renyi_nats(q, alpha: float, axis=-1):
    """Renyi entropy (nats) of the positive weights ``q`` along ``axis`` (normalized here), stable
    near alpha = 1 (see the module docstring); alpha = 1 is von Neumann, 0 the log-count, inf min-entropy."""
    q = np.asarray(q, dtype=float)
    q = q / np.sum(q, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = np.where(q > 0, np.log(np.where(q > 0, q, 1.0)), 0.0)
        if alpha == 1:
            return -np.sum(q * lq, axis=axis)
        if alpha == 0:
            return np.log(np.count_nonzero(q > 0, axis=axis))
        if np.isinf(alpha):
            return -np.log(np.max(q, axis=axis))
        eps = alpha - 1.0
        if abs(eps) <= 0.5:
            Q = np.sum(q, axis=axis)
            T = np.sum(np.where(q > 0, q * np.expm1(eps * lq), 0.0), axis=axis) / Q
            return -np.log1p(T) / eps + np.log(Q)
        return np.log(np.sum(np.where(q > 0, np.exp(alpha * lq), 0.0), axis=axis)) / (1.0 - alpha)


def schmidt_entropy(schmidt_values, alpha=1, base=None) -> float:
    """Entropy of a bond from its Schmidt values lambda (p = lambda^2 / sum lambda^2)."""
    lam = np.asarray(schmidt_values, dtype=float)
    return entropy_from_probabilities(lam**2, alpha=alpha, base=base)
