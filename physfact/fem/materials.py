"""Material coefficients E(x, y[, z]) (a relative Young's modulus or a conductivity) and their
separable factorisation on the tensor Gauss grid.

Named materials (lengths L along the axis, H across, coordinates from the corner at the origin):

``"constant"``   E = 1
``"graded"``     E = (2 - x/L) * (1 + (2y/H - 1)^2)          separable: root twice as stiff, stiff skins
``"layered"``    E = 10 in the outer quarters of the height, 1 in the core (sandwich), separable
``"smooth"``     E = exp(x y / (L H))                        smooth, not separable
or any callable ``E(x, y)`` / ``E(x, y, z)`` taking numpy arrays (vectorised) and returning
positive values.

Separability is *detected*, not assumed: the coefficient is sampled on the tensor grid of 1-D
Gauss points and each unfolding is tested for numerical rank one with the shared truncation rule
(relative Frobenius tail <= 1e-12). A separable coefficient gives an exact Kronecker form with as
many terms as the constant one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physfact.errors import InputError, UnknownNameError

MATERIALS = ("constant", "graded", "layered", "smooth")
SEPARABLE_RTOL = 1e-12


def material_function(material, length: float, height: float, width: float | None = None):
    """Return a vectorised callable ``E(*coords)`` for a name or a user callable."""
    if callable(material):
        return material
    if not isinstance(material, str) or material not in MATERIALS:
        raise UnknownNameError(f"unknown material {material!r}; known: {', '.join(MATERIALS)} or a callable E(x, y[, z])")
    L, H = float(length), float(height)
    vert = -1  # the last coordinate is the 'height' direction (y in 2-D, z in 3-D)
    if material == "constant":
        return lambda *x: np.ones_like(np.asarray(x[0], dtype=float))
    if material == "graded":
        return lambda *x: (2.0 - np.asarray(x[0]) / L) * (1.0 + (2.0 * np.asarray(x[vert]) / H - 1.0) ** 2)
    if material == "layered":
        def layered(*x):
            t = np.asarray(x[vert]) / H
            return np.where((t < 0.25) | (t > 0.75), 10.0, 1.0) * np.ones_like(np.asarray(x[0], dtype=float))
        return layered
    return lambda *x: np.exp(np.asarray(x[0]) * np.asarray(x[vert]) / (L * H))


def evaluate(func, points, name="material"):
    """E at points (a tuple of coordinate arrays); checks finite and positive."""
    try:
        val = np.asarray(func(*points), dtype=float)
    except Exception as exc:
        raise InputError(f"{name} callable failed on coordinate arrays: {exc}") from None
    val = np.broadcast_to(val, np.broadcast(*points).shape) if val.ndim == 0 else val
    if val.shape != np.broadcast(*points).shape:
        raise InputError(f"{name} callable must return one value per point, got shape {val.shape}")
    if not np.all(np.isfinite(val)) or np.any(val <= 0):
        raise InputError(f"{name} must be finite and positive everywhere (a Young's modulus or conductivity)")
    return val


@dataclass(frozen=True)
class SeparableFactors:
    """The best rank-one fit E(x_q, y_q[, z_q]) ~= prod_d factors[d][q_d] on the tensor Gauss grid.

    Attributes
    ----------
    factors : tuple of ndarray
        One positive array per direction with the fitted coefficient at the Gauss points, shape
        (n_elements_d, 3). Exact when ``separable``; otherwise a separable surrogate (used to
        build preconditioners).
    residual : float
        Relative Frobenius distance of the sampled coefficient from the rank-one product.
    separable : bool
        residual <= 1e-12.
    """

    factors: tuple
    residual: float
    separable: bool


def separable_factors(func, qpoints: list) -> SeparableFactors:
    """Test E for separability on the Gauss grid ``qpoints`` (one (n_el, 3) array per direction).

    Uses the rank-one SVD of successive unfoldings (a TT-SVD with ranks 1): the shared
    :func:`physfact.lowrank.truncated_svd` for small unfoldings, the shared randomized SVD (fixed
    seed, 10 oversampling columns, 2 power iterations) for large ones.
    """
    from physfact.lowrank import Truncation, randomized_svd, truncated_svd

    grids = [q.ravel() for q in qpoints]
    mesh = np.meshgrid(*grids, indexing="ij")
    C = evaluate(func, tuple(mesh))
    norm = np.linalg.norm(C)
    factors = []
    rest = C
    for d in range(len(grids) - 1):
        mat = rest.reshape(grids[d].size, -1)
        if min(mat.shape) <= 200:
            svd = truncated_svd(mat, Truncation(rank=1))
        else:
            svd = randomized_svd(mat, 1, seed=0)
        u = svd.U[:, 0] * svd.s[0]
        v = svd.Vt[0]
        if v.sum() < 0:
            u, v = -u, -v
        factors.append(u)
        rest = v.reshape([g.size for g in grids[d + 1:]])
    factors.append(rest.ravel())
    approx = factors[0]
    for f in factors[1:]:
        approx = np.multiply.outer(approx, f)
    residual = float(np.linalg.norm(approx - C) / norm)
    shaped = tuple(f.reshape(q.shape) for f, q in zip(factors, qpoints))
    return SeparableFactors(shaped, residual, residual <= SEPARABLE_RTOL)
