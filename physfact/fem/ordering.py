"""Detect the (axial station, cross-section) order of DOFs on a tensor-product or extruded mesh.

A mesh is *extruded along an axis* when its nodes lie on planes x = x_0 < x_1 < ... and every
plane carries the same set of cross-section coordinates. Then DOF i has a station (its plane) and
a section index (its node's rank in the lexicographic order of the section coordinates, times the
number of components, plus its component), and K = sum_r A_r (x) B_r is possible in that order.
"""
from __future__ import annotations

import numpy as np

from physfact.errors import InputError
from physfact.validation import as_array, check_int


def tensor_order(coords, axis: int = 0, n_components: int = 1, tol: float = 1e-9):
    """Stations and section indices of DOFs located at ``coords``.

    Parameters
    ----------
    coords : array_like, shape (n, dim)
        Coordinates of each DOF's node (DOFs of one node: components in increasing DOF order).
    axis : int
        The axial coordinate.
    n_components : int
        DOFs per node.
    tol : float
        Relative tolerance (of the bounding box) for equal coordinates.

    Returns
    -------
    station, section : ndarray of int, shape (n,)
    n_stations, n_section : int

    Raises
    ------
    InputError
        When the DOFs are not a tensor product (stations with different cross-sections): such a
        mesh has no Kronecker form; use the sweep factor or a general solver instead.
    """
    X = as_array(coords, "coords", ndim=2)
    n, dim = X.shape
    axis = check_int(axis, "axis", minimum=0, allow_none=False)
    ncomp = check_int(n_components, "n_components", minimum=1, allow_none=False)
    if axis >= dim:
        raise InputError(f"axis {axis} out of range for {dim}-D coordinates")
    if dim < 2:
        raise InputError("coords must have at least 2 columns (an axis and a cross-section)")
    scale = max(float(np.ptp(X, axis=0).max()), 1e-300)
    Q = np.rint((X - X.min(axis=0)) / (tol * scale)).astype(np.int64)
    _, station = np.unique(Q[:, axis], return_inverse=True)
    sec_cols = [d for d in range(dim) if d != axis]
    _, sec_node = np.unique(Q[:, sec_cols], axis=0, return_inverse=True)
    station, sec_node = station.ravel(), sec_node.ravel()
    na, ns = int(station.max()) + 1, int(sec_node.max()) + 1
    if na < 2:
        raise InputError("all DOFs lie on one axial plane: nothing to factor along the axis")
    pair = station * ns + sec_node
    counts = np.bincount(pair, minlength=na * ns)
    if n != na * ns * ncomp or np.any(counts != ncomp):
        per_station = np.bincount(station, minlength=na)
        raise InputError(
            f"not a tensor-product/extruded mesh along axis {axis}: {na} stations carry "
            f"{per_station.min()}..{per_station.max()} DOFs (need {ns * ncomp} each, the same cross-section "
            "everywhere); the Kronecker form does not apply -- use sweep_factor or a general sparse solver")
    order = np.argsort(pair, kind="stable")
    comp = np.empty(n, dtype=np.int64)
    comp[order] = np.arange(n) % ncomp
    return station, sec_node * ncomp + comp, na, ns * ncomp
