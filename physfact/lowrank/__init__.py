"""The shared low-rank core: one truncation rule, truncated and randomized SVD, subspaces,
low-rank operators. Every truncation elsewhere in physfact goes through :class:`Truncation`.
"""
from physfact.lowrank.operators import LowRankMatrix, compress_factor
from physfact.lowrank.randomized import randomized_svd
from physfact.lowrank.scaled import scaled_norm, tail_norms
from physfact.lowrank.spd_pencil import LDLFactor, SPDPencil, is_symmetric
from physfact.lowrank.subspaces import principal_angles, subspace_distance
from physfact.lowrank.svd import SVD, robust_svd, truncate, truncated_svd
from physfact.lowrank.tsqr import r_factor, tsqr_r
from physfact.lowrank.truncation import (
    Truncation,
    as_truncation,
    choose_rank,
    estimate_noise_sigma,
    marchenko_pastur_median,
)

__all__ = [
    "Truncation", "as_truncation", "choose_rank", "estimate_noise_sigma", "marchenko_pastur_median",
    "scaled_norm", "tail_norms", "SVD", "robust_svd", "truncate", "truncated_svd", "randomized_svd",
    "principal_angles", "subspace_distance",
    "LowRankMatrix", "compress_factor", "tsqr_r", "r_factor",
    "SPDPencil", "LDLFactor", "is_symmetric",
]
