"""physfact: find the few factors that matter.

Four applications on one low-rank core:

- :mod:`physfact.lowrank` -- truncation rule, truncated/randomized SVD, subspaces, low-rank operators
- :mod:`physfact.control` -- LTI systems, Lyapunov solvers, balanced truncation
- :mod:`physfact.fem` -- Kronecker / low-rank compression of finite-element stiffness matrices
- :mod:`physfact.chem` -- double factorization of two-electron integrals
- :mod:`physfact.tt` -- tensor trains and MPS with entanglement diagnostics
- :mod:`physfact.sweep` -- parameter studies over any of them as Dask tasks, resumable

Subpackages are imported on first use, so ``import physfact`` stays fast.
"""
from importlib import import_module as _import_module

__version__ = "0.1.0"

from physfact.errors import (  # noqa: E402  (cheap, always available)
    ConvergenceError,
    InputError,
    PhysfactError,
)

_SUBPACKAGES = ("lowrank", "control", "fem", "chem", "tt", "sweep")

__all__ = ["__version__", "PhysfactError", "InputError", "ConvergenceError", *_SUBPACKAGES]


def __getattr__(name):
    # PEP 562 lazy subpackages: ``physfact.control`` imports control on first access.
    if name in _SUBPACKAGES:
        return _import_module(f"physfact.{name}")
    raise AttributeError(f"module 'physfact' has no attribute {name!r}")
