"""One entry point that picks the solver a problem's structure allows, and says which."""
from __future__ import annotations

import dataclasses
import warnings

from physfact.errors import InputError
from physfact.fem.fdm import fdm_solve
from physfact.fem.kronecker import KroneckerOperator, KroneckerRankWarning
from physfact.fem.pcg import pcg_solve
from physfact.fem.problem import require_problem
from physfact.fem.sweep import sweep_solve


def solve(problem, b=None, tol: float = 1e-8, maxiter: int = 200):
    """Solve K x = b with the cheapest applicable method.

    1. Exact two-term Kronecker form (Poisson-type, separable material): fast diagonalisation.
    2. Tensor elements (Q1/Hex1), any material: PCG with component FDM + beam coarse space.
    3. Otherwise (P1 triangles, user meshes): the black-box Kronecker fit; a two-term fit within
       1e-12 goes to FDM, else -- the Kronecker rank does not pay -- the compressed sweep factor
       as the preconditioner of CG.

    Returns the :class:`SolveResult` with ``method`` set.
    """
    require_problem(problem, "fem.solve")
    b = problem.f if b is None else b
    if problem.kron_terms is not None:
        op = KroneckerOperator.from_problem(problem)
        if op.rank <= 2 or op.recompress().rank <= 2:
            res = fdm_solve(op, b, matrix=problem.K)
            return dataclasses.replace(res, method="fdm")
    if problem.surrogate_terms is not None:
        return dataclasses.replace(pcg_solve(problem, b, tol=tol, maxiter=maxiter), method="pcg-beam")
    if problem.K is None:
        raise InputError("the problem has no assembled K and no Kronecker form")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KroneckerRankWarning)
        fit = KroneckerOperator.from_matrix(problem.K, problem, rule=1e-12)
    if fit.rank <= 2:  # an exact two-term sum: FDM whatever the storage
        return dataclasses.replace(fdm_solve(fit, b, matrix=problem.K), method="fdm")
    res = sweep_solve(problem.K, b, problem=problem, tol=tol, maxiter=maxiter)
    return dataclasses.replace(res, method="sweep-pcg")
