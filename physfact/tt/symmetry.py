"""Symmetry sectors of the spin chains: the Z2 spin-flip parity of the TFIM, the U(1) S^z of XXZ.

In the ordered phase of a finite transverse-field Ising chain the two lowest states are split by a
gap ~ g^L (exponentially small), so an eigensolver restricted to no symmetry returns an arbitrary
vector of the near-degenerate pair and anything that depends on the choice (entanglement,
correlations) is arbitrary. Solving inside a symmetry sector makes the answer unique (the
symmetric "cat" state with S(L/2) = ln 2 + O(g^2)).

Conventions (those of :mod:`physfact.tt.spin_chains`; basis index sum_k i_k 2^{L-1-k}, i = 0 for
Z = +1):

* parity P = prod_i X_i flips every spin, which maps index b to 2^L - 1 - b: (P psi) = psi[::-1].
  It commutes with the TFIM (H = -J sum Z Z - g sum X) and with XXZ. Sector s = +1 / -1 is spanned
  by the orthonormal vectors (|b> + s |2^L-1-b>) / sqrt(2), b < 2^{L-1}.
* S^z = (1/2) sum_i Z_i = (L - 2 n_down) / 2 commutes with XXZ; a sector is the set of basis states
  with n_down = L/2 - S^z flipped spins.

Which sector holds the finite-size ground state (:func:`default_sector`), argued by a sign-free
(Perron-Frobenius) basis:

* TFIM, open chain or periodic chain with J > 0 or even L: parity sign(g)^L (+1 for g = 0). In the
  X basis, with J > 0, H has non-positive off-diagonal elements and each parity sector is connected by
  pair flips, so each sector's ground state is unique and positive; the even sector (which contains
  the all-X = +1 product state) holds the lower one [Pfeuty, Ann. Phys. 57 (1970) 79: the ground state
  is the BdG vacuum of even fermion parity]. J -> -J is the unitary prod_{odd i} X_i (commutes with P,
  needs an even number of sites around a ring); g -> -g is prod_i Z_i, which maps P to (-1)^L P.
* XXZ with J Delta_eff > -|J| (Delta_eff = Delta for J > 0, -Delta for J < 0, via prod_{odd i} Z_i):
  S^z = 0 for even L, +1/2 for odd L (the lowest |S^z|; Lieb-Mattis / Marshall sign rule; for odd L
  the doublet S^z = +-1/2 is exactly degenerate and +1/2 is the highest-weight choice). Other XXZ
  chains (ferromagnets, where a whole multiplet is degenerate) get no default sector.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from physfact.errors import InputError

#: the symmetry each model's sectors are labelled by (``sector={"parity": +1}`` / ``{"sz": 0}``)
SYMMETRIES = {"tfim": ("parity",), "heisenberg": ("sz", "parity")}


class DegenerateGroundStateWarning(UserWarning):
    """The ground space is (near-)degenerate at the eigensolver's resolution: the returned vector is an
    arbitrary state in it, so its entanglement and correlations are not defined by the Hamiltonian."""


@dataclass(frozen=True)
class Sector:
    """A symmetry sector of a chain of ``L`` sites: ``name`` "parity" (value +1/-1) or "sz" (value
    in -L/2 .. L/2, integer or half-integer with L)."""

    name: str
    value: float
    L: int

    @property
    def dim(self) -> int:
        if self.name == "parity":
            return 2 ** (self.L - 1)
        return int(self._cached_indices().size)

    def label(self) -> str:
        return f"parity {int(self.value):+d}" if self.name == "parity" else f"S^z = {self.value:g}"

    def as_dict(self) -> dict:
        return {self.name: int(self.value) if self.name == "parity" else float(self.value)}

    def _indices(self) -> np.ndarray:
        n_down = int(round(self.L / 2 - self.value))
        idx = np.arange(2**self.L, dtype=np.int64)
        pop = np.zeros(idx.size, dtype=np.int64)
        for k in range(self.L):
            pop += (idx >> k) & 1
        return np.flatnonzero(pop == n_down)

    def _cached_indices(self) -> np.ndarray:
        idx = self.__dict__.get("_idx")
        if idx is None:  # frozen dataclass: memoize in __dict__ directly
            idx = self.__dict__["_idx"] = self._indices()
        return idx

    def embed(self, u: np.ndarray) -> np.ndarray:
        """The full 2^L state of sector coordinates ``u`` (an isometry E: E^T E = 1)."""
        if self.name == "parity":
            return np.concatenate([u, self.value * u[::-1]]) / np.sqrt(2.0)
        out = np.zeros(2**self.L, dtype=u.dtype)
        out[self._cached_indices()] = u
        return out

    def restrict(self, v: np.ndarray) -> np.ndarray:
        """E^T v: the sector coordinates of the projection of a full state ``v``."""
        if self.name == "parity":
            half = v.size // 2
            return (v[:half] + self.value * v[half:][::-1]) / np.sqrt(2.0)
        return v[self._cached_indices()]

    def isometry(self) -> sp.csr_matrix:
        """E as a sparse 2^L x dim matrix (for small chains)."""
        n = self.dim
        if self.name == "parity":
            cols = np.arange(n)
            rows = np.concatenate([cols, 2**self.L - 1 - cols])
            vals = np.concatenate([np.ones(n), self.value * np.ones(n)]) / np.sqrt(2.0)
            return sp.csr_matrix((vals, (rows, np.concatenate([cols, cols]))), shape=(2**self.L, n))
        idx = self._cached_indices()
        return sp.csr_matrix((np.ones(n), (idx, np.arange(n))), shape=(2**self.L, n))


def parity_of(psi: np.ndarray) -> float:
    """<psi| P |psi> / <psi|psi> for P = prod_i X_i (a full 2^L state)."""
    return float(np.vdot(psi, psi[::-1]).real / np.vdot(psi, psi).real)


def default_sector(chain) -> Sector | None:
    """The sector holding the finite-size ground state of ``chain`` (see the module docstring), or
    None where no sector is known to (ferromagnetic XXZ, frustrated periodic TFIM rings of odd L)."""
    L = chain.L
    if chain.model == "tfim":
        J, g = chain.params["J"], chain.params["g"]
        if chain.boundary == "periodic" and J < 0 and L % 2 == 1:
            return None
        return Sector("parity", -1.0 if (g < 0 and L % 2 == 1) else 1.0, L)
    J, delta = chain.params["J"], chain.params["delta"]
    if J == 0 or (delta if J > 0 else -delta) <= -1:
        return None
    return Sector("sz", 0.0 if L % 2 == 0 else 0.5, L)


def make_sector(chain, sector) -> Sector | None:
    """Turn ``sector`` ("auto", None, {"parity": +-1} or {"sz": value}) into a :class:`Sector` of
    ``chain``, refusing a symmetry the chain does not have or a value outside its range."""
    if isinstance(sector, str) and sector == "auto":
        return default_sector(chain)
    if sector is None:
        return None
    have = SYMMETRIES[chain.model]
    if not isinstance(sector, dict) or len(sector) != 1:
        raise InputError(f"sector must be 'auto', None or a one-entry dict such as {{{have[0]!r}: "
                         f"{'+1' if have[0] == 'parity' else '0'}}}, got {sector!r}")
    (name, value), = sector.items()
    if name not in have:
        raise InputError(f"the {chain.model} chain has the symmetries {have}, not {name!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"sector value {name} = {value!r} is not a number") from None
    L = chain.L
    if name == "parity":
        if value not in (1.0, -1.0):
            raise InputError(f"parity is +1 or -1, got {value:g}")
        return Sector("parity", value, L)
    twice = 2 * value
    if twice != round(twice) or abs(value) > L / 2 or (round(twice) - L) % 2:
        raise InputError(f"S^z of {L} spins is one of -{L}/2, -{L}/2 + 1, ..., {L}/2, got {value:g}")
    return Sector("sz", value, L)


def parse_sector(text: str):
    """The command line's ``--sector``: "auto", "none", "parity=+1", "parity=-1" or "sz=VALUE" -> the
    ``sector`` argument of :func:`~physfact.tt.spin_chains.ground_state`."""
    t = str(text).strip().lower().replace(" ", "")
    if t in ("auto", "none"):
        return None if t == "none" else "auto"
    name, eq, value = t.partition("=")
    if not eq or name not in ("parity", "sz"):
        raise InputError(f"--sector is auto, none, parity=+1, parity=-1 or sz=VALUE, got {text!r}")
    return {name: value}
