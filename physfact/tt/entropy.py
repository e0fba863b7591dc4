"""Entanglement entropies from Schmidt probabilities.

For normalized Schmidt values lambda_i (sum lambda_i^2 = 1) the probabilities are p_i = lambda_i^2
and

    von Neumann:  S_1     = -sum_i p_i ln p_i            (terms with p_i = 0 contribute 0)
    Renyi:        S_alpha = ln(sum_i p_i^alpha) / (1 - alpha)   (alpha > 0, alpha != 1)
                  S_inf   = -ln max_i p_i ,   S_0 = ln #{p_i > 0}

in nats; ``base=2`` divides by ln 2 (bits), any other base b by ln b.
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
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise InputError(f"probabilities must be a non-empty vector, got shape {p.shape}")
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise InputError("probabilities must be finite and non-negative")
    total = p.sum()
    if total <= 0:
        raise InputError("probabilities sum to zero: the state is zero")
    p = p / total
    lb = _log_base(base)
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise InputError(f"alpha must be a non-negative number or inf, got {alpha!r}") from None
    if alpha < 0 or np.isnan(alpha):
        raise InputError(f"alpha must be a non-negative number or inf, got {alpha}")
    nz = p[p > 0]
    if alpha == 1:
        s = float(-np.sum(nz * np.log(nz)))
    elif alpha == 0:
        s = float(np.log(nz.size))
    elif np.isinf(alpha):
        s = float(-np.log(nz.max()))
    else:
        s = float(np.log(np.sum(nz**alpha)) / (1 - alpha))
    return max(s, 0.0) / lb


def schmidt_entropy(schmidt_values, alpha=1, base=None) -> float:
    """Entropy of a bond from its Schmidt values lambda (p = lambda^2 / sum lambda^2)."""
    lam = np.asarray(schmidt_values, dtype=float)
    return entropy_from_probabilities(lam**2, alpha=alpha, base=base)
