"""Tensor trains and matrix product states whose bond ranks report entanglement."""
from physfact.tt.tensor_train import TensorTrain
from physfact.tt.tt_svd import TTSVDInfo, tsqr_r, tt_svd

__all__ = ["TensorTrain", "TTSVDInfo", "tt_svd", "tsqr_r"]
from physfact.tt.mps import MPS, schmidt_spectrum_of_cores  # noqa: E402
from physfact.tt.entropy import entropy_from_probabilities, schmidt_entropy  # noqa: E402

__all__ += ["MPS", "schmidt_spectrum_of_cores", "entropy_from_probabilities", "schmidt_entropy"]
