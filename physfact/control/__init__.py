"""LTI systems, Gramian factors (dense Hammarling, low-rank ADI) and balanced truncation.

Conventions (DESIGN.md): E x' = A x + B u, y = C x + D u; Gramians
A P E^T + E P A^T + B B^T = 0 and A^T Q E + E^T Q A + C^T C = 0 (Stein equations in discrete time).
"""
from physfact.control import models
from physfact.control.balanced_truncation import (
    BTResult,
    RoundoffFloorWarning,
    balanced_truncation,
    share_factorizations,
)
from physfact.control.lti import HinfNorm, LTISystem, TimeResponse
from physfact.control.lyapunov import lyapunov_factor, solve_lyapunov
from physfact.control.lyapunov_result import LyapunovFactor
from physfact.control.second_order import SecondOrderSystem, SOBTResult, second_order_balanced_truncation

__all__ = ["LTISystem", "HinfNorm", "TimeResponse", "LyapunovFactor", "lyapunov_factor", "solve_lyapunov",
           "balanced_truncation", "BTResult", "RoundoffFloorWarning", "share_factorizations", "models",
           "SecondOrderSystem", "SOBTResult", "second_order_balanced_truncation"]
