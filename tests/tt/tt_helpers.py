"""Shared helpers of the tt tests (imported as ``tt_helpers``)."""
import numpy as np


def random_mps_cores(L, chi, d=2, seed=0, complex_=False):
    """Cores of a random MPS with bond dimension min(chi, d^k, d^(L-k)) (generically exact ranks)."""
    rng = np.random.default_rng(seed)
    cores, r = [], 1
    for k in range(L):
        r2 = min(chi, d ** (k + 1), d ** (L - k - 1))
        c = rng.standard_normal((r, d, r2))
        if complex_:
            c = c + 1j * rng.standard_normal((r, d, r2))
        cores.append(c / np.sqrt(d * r))
        r = r2
    return cores


def unfolding_singular_values(x, dims):
    """Singular values of every sequential unfolding of a dense tensor (the independent reference)."""
    out = []
    for k in range(1, len(dims)):
        rows = int(np.prod(dims[:k]))
        out.append(np.linalg.svd(np.reshape(x, (rows, -1)), compute_uv=False))
    return out
