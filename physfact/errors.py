"""Exceptions raised by physfact.

Every exception says what went wrong *and what to do about it*. The command line turns
:class:`InputError` into one line on stderr with exit code 2 and any other
:class:`PhysfactError` into one line with exit code 1.
"""
from __future__ import annotations


class PhysfactError(Exception):
    """Base class of every error physfact raises on purpose."""


class InputError(PhysfactError, ValueError):
    """The input is malformed: wrong shape, non-finite values, bad option, unknown name."""


class ConvergenceError(PhysfactError, RuntimeError):
    """An iterative method stopped before reaching its tolerance.

    Attributes
    ----------
    history : list of float
        The residual (or error) history up to the stop, so the caller can judge how close it got.
    """

    def __init__(self, message: str, history=None):
        super().__init__(message)
        self.history = list(history) if history is not None else []


class UnstableSystemError(InputError):
    """A dynamical system is not asymptotically stable where stability is required."""


class SingularMatrixError(InputError):
    """A matrix that must be invertible (E, a shifted pencil, a stiffness matrix) is singular."""


class DataFileError(InputError):
    """A data file is missing, unreadable, or does not hold what it should."""


class UnknownNameError(InputError):
    """A model, molecule, example or option name is not known; the message lists the known ones."""


class NotPositiveDefiniteError(InputError):
    """A matrix that must be symmetric positive definite is not (a non-positive Cholesky/LDL^T pivot)."""


class ResourceError(InputError):
    """A request needs more memory (or another resource) than this machine has; refused before allocating.

    The message gives the estimate and how to go on anyway (``PHYSFACT_MAX_MEMORY`` or ``--max-memory``).
    """


class DiskFullError(PhysfactError, OSError):
    """A file could not be written because its device is full (or over quota); the old file is kept.

    Not an :class:`InputError`: the request was fine, the machine could not hold the result (exit 1).
    """
