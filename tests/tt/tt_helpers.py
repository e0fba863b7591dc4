"""Shared helpers of the tt tests (imported as ``tt_helpers``)."""
import numpy as np

from physfact.tt.mps import random_mps_cores  # noqa: F401 (the tests' random MPS inputs)


def unfolding_singular_values(x, dims):
    """Singular values of every sequential unfolding of a dense tensor (the independent reference)."""
    out = []
    for k in range(1, len(dims)):
        rows = int(np.prod(dims[:k]))
        out.append(np.linalg.svd(np.reshape(x, (rows, -1)), compute_uv=False))
    return out
