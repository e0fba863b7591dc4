"""Tensor trains and matrix product states whose bond ranks report entanglement.

* :class:`TensorTrain` -- TT-SVD with a global relative error guarantee and the error it made,
  rounding, canonical forms, exact algebra (Oseledets 2011);
* :class:`MPS` -- state vectors as MPS: normalized Schmidt values, von Neumann/Renyi entropies
  (nats, or bits with ``base=2``), rank profiles, local expectation values;
* :class:`MPO` -- sums of local terms as matrix product operators; :func:`dmrg` -- their ground
  states by two-site DMRG (White 1992), so chains of hundreds of sites reach the entanglement tools;
* :mod:`physfact.tt.models` -- spin chains with exact free-fermion references, Calabrese-Cardy
  fits, and molecules (PySCF FCI vectors as orbital MPS, orbital entropies, Fiedler ordering).
"""
from physfact.tt.tensor_train import TensorTrain
from physfact.tt.ttsvd import TTSVDInfo, tsqr_r, tt_svd

__all__ = ["TensorTrain", "TTSVDInfo", "tt_svd", "tsqr_r"]
from physfact.tt.mps import MPS, random_mps_cores  # noqa: E402
from physfact.tt.schmidt import schmidt_spectrum_of_cores  # noqa: E402
from physfact.tt.entropy import entropy_from_probabilities, schmidt_entropy  # noqa: E402

__all__ += ["MPS", "random_mps_cores", "schmidt_spectrum_of_cores", "entropy_from_probabilities", "schmidt_entropy"]
from physfact.tt.cross import CrossResult, maxvol, sample_error, tt_cross  # noqa: E402
from physfact.tt.qtt import qtt_cross, qtt_from_vector, qtt_values, quantics_grid, quantics_index  # noqa: E402

__all__ += ["CrossResult", "maxvol", "sample_error", "tt_cross",
            "qtt_cross", "qtt_from_vector", "qtt_values", "quantics_grid", "quantics_index"]
from physfact.tt.mpo import MPO  # noqa: E402
from physfact.tt.dmrg import DMRGResult, dmrg  # noqa: E402

__all__ += ["MPO", "DMRGResult", "dmrg"]
