"""Low-rank compression of finite-element stiffness matrices (Kronecker structure first).

Problems on tensor-product / extruded meshes (assembled with scikit-fem), their exact or
truncated Kronecker forms K = sum_r A_r (x) B_r, fast-diagonalisation and preconditioned CG
solvers built on them, Sherman--Morrison--Woodbury updates, and a compressed block sweep for
meshes where the Kronecker rank does not pay. scikit-fem is imported only when a problem is built.
"""
from physfact.fem.auto import solve
from physfact.fem.fdm import FDMFactor, fdm_solve
from physfact.fem.kronecker import KroneckerOperator, KroneckerRankWarning
from physfact.fem.pcg import BeamPreconditioner, pcg_solve
from physfact.fem.ordering import tensor_order
from physfact.fem.problem import FEProblem, SolveResult
from physfact.fem.problems import cantilever, poisson_cube, poisson_square, poisson_strip, prismatic_beam
from physfact.fem.sweep import SweepFactor, sweep_factor, sweep_solve
from physfact.fem.woodbury import WoodburyFactor, woodbury_update

__all__ = [
    "FEProblem", "SolveResult", "KroneckerOperator", "KroneckerRankWarning", "tensor_order",
    "cantilever", "prismatic_beam", "poisson_strip", "poisson_square", "poisson_cube",
    "FDMFactor", "fdm_solve", "BeamPreconditioner", "pcg_solve", "SweepFactor", "sweep_factor", "sweep_solve",
    "WoodburyFactor", "woodbury_update", "solve",
]
