"""Matrix product states: a tensor train of a state vector, with Schmidt values and entropies.

Conventions
-----------
* Sites 0 .. L-1; bond k (k = 0 .. L-2) joins sites k and k+1 and splits the chain into
  A = {0..k} and B = {k+1..L-1}.
* ``order="C"`` (default): site 0 is the most significant digit of the flat state index
  (psi.reshape(dims)[i_0, ..., i_{L-1}]); ``order="F"``: site 0 is the least significant
  (Qiskit's little-endian qubit order).
* The MPS stores the state as given (its norm is ``norm()``); Schmidt values are always those of
  the *normalized* state: lambda_i >= 0 with sum_i lambda_i^2 = 1, p_i = lambda_i^2.
* Entropies are in nats unless ``base=2`` (bits).

Schmidt values of all bonds come from one pair of QR sweeps over the cores that form only
triangular factors, without changing the cores (:mod:`physfact.tt.schmidt`), and are cached,
so all-bond entropies cost O(L chi^3) once and O(L chi) afterwards. An MPS fresh from a TT-SVD sweep whose total
discarded weight is below 1e-13 ||psi|| takes the sweep's singular values directly.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from physfact.errors import InputError
from physfact.lowrank import scaled_norm
from physfact.tt.entropy import _log_base, check_alpha, schmidt_entropy
from physfact.tt.schmidt import schmidt_spectrum_of_cores  # noqa: F401 (public here too)
from physfact.tt.tensor_train import TensorTrain
from physfact.validation import as_generator, check_int, check_memory


class MPS(TensorTrain):
    """A matrix product state (a :class:`TensorTrain` of a state vector) with entanglement tools.

    Build with :meth:`from_statevector`, :meth:`from_tensor_train` or from cores directly.
    """

    __slots__ = ("_cache",)

    def __init__(self, cores, order="C", discarded=None, singular_values=None, center=None, schmidt=None):
        super().__init__(cores, order=order, discarded=discarded, singular_values=singular_values, center=center)
        object.__setattr__(self, "_cache", {} if schmidt is None else {"schmidt": schmidt})

    @classmethod
    def from_statevector(cls, psi, dims=2, tol=None, max_bond=None, order="C"):
        """MPS of a state vector by TT-SVD (Oseledets 2011) with the lean first unfoldings.

        Parameters
        ----------
        psi : array_like, shape (prod(dims),)
            The state (any norm; the norm is kept in the MPS, Schmidt values are normalized).
        dims : int or sequence of int
            Local dimensions; an int d means every site has dimension d (L = log_d len(psi)).
        tol : float, optional
            Relative Frobenius tolerance ||psi - MPS|| <= tol ||psi|| (tol ||psi|| / sqrt(L-1) per
            bond). Default 1e-14 (exact up to roundoff).
        max_bond : int, optional
            Cap on the bond dimension.
        order : {"C", "F"}
            C: site 0 is the most significant digit of the index; F: the least significant.
        """
        try:
            psi_arr = np.asarray(psi)
        except Exception as exc:
            raise InputError(f"psi could not be read as an array: {exc}") from None
        if psi_arr.ndim != 1:
            raise InputError(f"psi must be a flat state vector, got shape {psi_arr.shape}; "
                             "use TensorTrain.from_dense for a tensor")
        dims = _site_dims(dims, psi_arr.size)
        tt = TensorTrain.from_dense(psi_arr, tol=tol, max_rank=max_bond, order=order, dims=dims)
        schmidt = sweep_schmidt_values(tt.singular_values, tt.ranks, tt.error_bound)
        return cls(tt.cores, order=order, discarded=tt.discarded, singular_values=tt.singular_values,
                   center=tt.center, schmidt=schmidt)

    @classmethod
    def from_tensor_train(cls, tt: TensorTrain):
        """View a TensorTrain as an MPS (cores shared)."""
        if not isinstance(tt, TensorTrain):
            raise InputError(f"expected a TensorTrain, got {type(tt).__name__}")
        return cls(tt.cores, order=tt.order, discarded=tt.discarded, singular_values=tt.singular_values,
                   center=tt.center)

    def _new(self, cores, **kw):
        kw.setdefault("order", self._order)
        return MPS(cores, **kw)

    def to_statevector(self) -> np.ndarray:
        """The state as a flat vector in this MPS's ``order`` (inverse of :meth:`from_statevector`)."""
        return self.to_vector()

    # ---------------------------------------------------------------- bonds
    @property
    def n_sites(self) -> int:
        return self.ndim

    @property
    def bond_dimensions(self) -> tuple:
        """Bond dimensions chi_k of bonds k = 0 .. L-2 (bond k joins sites k and k+1)."""
        return self.ranks

    def schmidt_spectrum(self) -> tuple:
        """Normalized Schmidt values of every bond (tuple of L-1 arrays, each sum lambda^2 = 1),
        computed once by :func:`schmidt_spectrum_of_cores` and cached."""
        if "schmidt" not in self._cache:
            raw = schmidt_spectrum_of_cores(self._cores, center=self._center)
            self._cache["schmidt"] = tuple(_normalize(s) for s in raw)
        return self._cache["schmidt"]

    def schmidt_values(self, bond: int) -> np.ndarray:
        """Normalized Schmidt values lambda_i (descending, sum lambda_i^2 = 1) of bond ``bond``."""
        return self.schmidt_spectrum()[self._check_bond(bond)]

    def _check_bond(self, bond):
        bond = check_int(bond, "bond", minimum=0)
        if bond > self.ndim - 2:
            raise InputError(f"bond {bond} does not exist: an MPS of {self.ndim} sites has bonds 0 .. {self.ndim - 2}")
        return bond

    def entanglement_entropy(self, bond=None, alpha=1, base=None):
        """Entanglement entropy across bond ``bond`` (or every bond, as an array of L-1 values).

        S_1 = -sum p ln p (von Neumann, ``alpha=1``) or S_alpha = ln(sum p^alpha)/(1 - alpha)
        (Renyi) with p = lambda^2 the normalized Schmidt probabilities; p = 0 contributes 0.
        Nats by default; ``base=2`` gives bits.
        """
        _log_base(base)
        alpha = check_alpha(alpha)
        spectrum = self.schmidt_spectrum()
        if bond is not None:
            return schmidt_entropy(spectrum[self._check_bond(bond)], alpha=alpha, base=base)
        if alpha == 1:  # fast path: the spectra are already normalized
            lb = _log_base(base)
            out = np.empty(len(spectrum))
            for k, lam in enumerate(spectrum):
                p = lam * lam
                p = p[p > 0]
                out[k] = max(-float(p @ np.log(p)), 0.0) / lb
            return out
        return np.array([schmidt_entropy(s, alpha=alpha, base=base) for s in spectrum])

    def rank_profile(self, tols) -> np.ndarray:
        """Bond dimensions versus tolerance from the one sweep that built this MPS.

        For each tol, bond k keeps the smallest rank whose discarded tail of the sweep's singular
        values at bond k is <= tol ||psi|| / sqrt(L-1) (the TT-SVD per-bond rule). Computed from
        the stored spectra (exact for an untruncated sweep), no recomputation.

        Returns
        -------
        ndarray of int, shape (len(tols), L-1)
        """
        try:
            tols = np.atleast_1d(np.asarray(tols, dtype=float))
        except (TypeError, ValueError):
            raise InputError(f"tols must be numbers in [0, 1), got {tols!r}") from None
        if self.singular_values is None:
            raise InputError("this MPS was not built by a sweep (from_statevector / round); "
                             "call .round(tol=0) first to record the bond spectra")
        return rank_profile_of_spectra(self.singular_values, tols)

    # ---------------------------------------------------------------- files and peers
    def save(self, path):
        """Write the MPS to ``path`` (.npz or .h5; atomic, with a format version); see
        :mod:`physfact.tt.mps_io` for the layout. Returns the path."""
        from physfact.tt.mps_io import save_mps

        return save_mps(self, path)

    @classmethod
    def load(cls, path):
        """Read an MPS written by :meth:`save` or by ``physfact tt chain/molecule --out``.

        Raises :class:`~physfact.errors.DataFileError` for missing, truncated, inconsistent or
        newer-format files."""
        from physfact.tt.mps_io import load_mps

        return load_mps(path, cls)

    @classmethod
    def from_quimb(cls, qmps):
        """From a ``quimb.tensor.MatrixProductState`` (open boundaries; site 0 first)."""
        from physfact.tt.mps_io import from_quimb

        return from_quimb(qmps, cls)

    def to_quimb(self):
        """As a ``quimb.tensor.MatrixProductState`` (needs quimb)."""
        from physfact.tt.mps_io import to_quimb

        return to_quimb(self)

    def to_tenpy(self, sites=None):
        """As a TeNPy finite ``MPS`` (normalized, ``norm`` attribute = this state's norm; needs
        physics-tenpy)."""
        from physfact.tt.mps_io import to_tenpy

        return to_tenpy(self, sites)

    # ---------------------------------------------------------------- canonical forms and observables
    def normalized(self):
        """The same state with norm 1 (Schmidt values unchanged)."""
        n = self.norm()
        if n == 0:
            raise InputError("the zero state cannot be normalized")
        out = self * (1.0 / n)
        if "schmidt" in self._cache:
            out._cache["schmidt"] = self._cache["schmidt"]
        return out

    def __mul__(self, alpha):
        out = super().__mul__(alpha)
        if "schmidt" in self._cache and alpha != 0:
            out._cache["schmidt"] = self._cache["schmidt"]  # scaling leaves Schmidt values alone
        return out

    __rmul__ = __mul__

    def canonicalize(self, center: int):
        """Mixed canonical form (see :meth:`TensorTrain.canonicalize`); the state and hence the cached
        Schmidt values are unchanged and carried over."""
        out = super().canonicalize(center)
        if "schmidt" in self._cache:
            out._cache["schmidt"] = self._cache["schmidt"]
        return out

    def round(self, tol=None, max_rank=None):
        """TT-rounding (see :meth:`TensorTrain.round`); when the rounding error is below 1e-13 of the
        norm the sweep's singular values become the Schmidt cache."""
        out = super().round(tol=tol, max_rank=max_rank)
        sch = sweep_schmidt_values(out.singular_values, out.ranks, out.error_bound)
        if sch is not None:
            out._cache["schmidt"] = sch
        return out

    def expectation(self, op, site: int = None):
        """<psi| O_site |psi> / <psi|psi> for a local operator O (n_site x n_site matrix), or
        <psi|H|psi> / <psi|psi> for an :class:`~physfact.tt.mpo.MPO` ``op`` (no ``site``)."""
        from physfact.tt.mpo import MPO

        if isinstance(op, MPO):
            if site is not None:
                raise InputError("an MPO acts on the whole chain: give no site")
            return op.expectation(self)
        if site is None:
            raise InputError("a local operator needs the site it acts on")
        site = check_int(site, "site", minimum=0)
        if site >= self.ndim:
            raise InputError(f"site {site} outside 0 .. {self.ndim - 1}")
        c = self if self._center == site else self.canonicalize(site)
        return _local_value(c.cores[site], _check_op(op, self.dims[site]))

    def local_expectations(self, op) -> np.ndarray:
        """<O_k> for every site k (normalized state), by moving the orthogonality center along the
        chain: O(L chi^3) in all. ``op`` is one matrix (same on every site) or a list of L."""
        ops = op if isinstance(op, (list, tuple)) else [op] * self.ndim
        if len(ops) != self.ndim:
            raise InputError(f"need one operator per site ({self.ndim}), got {len(ops)}")
        ops = [_check_op(o, n) for o, n in zip(ops, self.dims)]
        cores = [np.array(c) for c in self.canonicalize(0).cores]
        vals = []
        for k in range(self.ndim):
            vals.append(_local_value(cores[k], ops[k]))
            if k < self.ndim - 1:
                r, n, s = cores[k].shape
                Q, R = sla.qr(cores[k].reshape(r * n, s), mode="economic", check_finite=False)
                cores[k] = Q.reshape(r, n, -1)
                cores[k + 1] = np.tensordot(R, cores[k + 1], axes=(1, 0))
        vals = np.array(vals)
        return vals.real if np.all(np.abs(vals.imag) <= 1e-12 * np.maximum(1, np.abs(vals.real))) else vals


def random_mps_cores(L: int, chi: int, d: int = 2, seed=0, complex_: bool = False) -> list:
    """Cores of a random MPS: L sites of dimension d, bond dimensions min(chi, d^(k+1), d^(L-k-1)).

    Entries are independent standard normal (real and imaginary parts with ``complex_``), scaled
    by 1/sqrt(d r_left) so the state's norm stays O(1) for any L. Generic draws have exactly those
    bond ranks (a test input whose ranks are known). ``seed`` as for numpy.random.default_rng
    (0 by default: reproducible).

    Returns
    -------
    list of ndarray
        Core k of shape (r_{k-1}, d, r_k), new writeable arrays; ``MPS(cores)`` builds the state.
    """
    L, chi, d = check_int(L, "L", minimum=1), check_int(chi, "chi", minimum=1), check_int(d, "d", minimum=1)
    r_max = min(chi, d ** (L // 2))
    check_memory(8.0 * (2 if complex_ else 1) * L * d * r_max * r_max, f"{L} random cores of bond dimension {r_max}",
                 "lower L or chi")
    rng = as_generator(seed)
    cores, r = [], 1
    for k in range(L):
        r2 = min(chi, d ** (k + 1), d ** (L - k - 1))
        c = rng.standard_normal((r, d, r2))
        if complex_:
            c = c + 1j * rng.standard_normal((r, d, r2))
        cores.append(c / np.sqrt(d * r))
        r = r2
    return cores


def rank_profile_of_spectra(spectra, tols) -> np.ndarray:
    """Bond dimensions versus tolerance from the singular values of every bond.

    For each tol, bond k keeps the smallest rank whose discarded tail of ``spectra[k]`` is
    <= tol ||psi|| / sqrt(L-1) (the TT-SVD per-bond rule), at least 1; ||psi|| is the norm of
    ``spectra[0]``.

    Parameters
    ----------
    spectra : sequence of 1-D arrays
        All singular values of each of the L-1 bonds (any order; unnormalized is fine).
    tols : float or sequence of float
        Relative tolerances in [0, 1).

    Returns
    -------
    ndarray of int, shape (len(tols), L-1)
    """
    from physfact.lowrank import Truncation, choose_rank

    tols = np.atleast_1d(np.asarray(tols, dtype=float))
    if not np.all((tols >= 0) & (tols < 1)):  # also NaN
        raise InputError("tolerances are relative errors in [0, 1)")
    spectra = [np.sort(np.asarray(s, dtype=float))[::-1] for s in spectra]
    nb = len(spectra)
    nrm = scaled_norm(spectra[0]) if nb else 0.0
    out = np.zeros((tols.size, nb), dtype=int)
    for i, t in enumerate(tols):
        rule = Truncation(atol=t * nrm / np.sqrt(max(nb, 1)))
        out[i] = [max(choose_rank(s, rule), 1) for s in spectra]
    return out


def sweep_schmidt_values(singular_values, ranks, error_bound):
    """Normalized Schmidt values from a left-to-right sweep, or None when the sweep truncated.

    The kept singular values of a TT-SVD sweep are the Schmidt values of the tensor truncated at
    the bonds before; they differ from those of the final MPS by at most its total error (Weyl's
    inequality). They are used only when that error is below 1e-13 of the norm, else the cache is
    filled later from the cores (:func:`schmidt_spectrum_of_cores`).
    """
    if singular_values is None or not singular_values:
        return None
    norm = scaled_norm(singular_values[0])
    if norm == 0 or error_bound > 1e-13 * norm:
        return None
    return tuple(_normalize(s[:r]) for s, r in zip(singular_values, ranks))


def _check_op(op, n):
    from physfact.validation import as_array

    op = as_array(op, "local operator", ndim=2, allow_complex=True)
    if op.shape != (n, n):
        raise InputError(f"a local operator must be {n} x {n} for this site, got shape {op.shape}")
    return op


def _local_value(center_core, op):
    nrm2 = np.vdot(center_core, center_core).real
    if nrm2 == 0:
        raise InputError("the zero state has no expectation values")
    v = np.einsum("aib,ij,ajb->", center_core.conj(), op, center_core) / nrm2
    return complex(v) if np.iscomplexobj(v) and abs(v.imag) > 1e-14 * max(1.0, abs(v.real)) else float(np.real(v))


def _normalize(s):
    s = np.asarray(s, dtype=float)
    n = scaled_norm(s)
    if n == 0:
        raise InputError("the zero state has no Schmidt values")
    return s / n


def _site_dims(dims, size):
    if size < 2:
        raise InputError(f"psi needs at least 2 amplitudes, got {size}")
    if np.isscalar(dims):
        dloc = check_int(dims, "dims", minimum=2)
        L = int(round(np.log(size) / np.log(dloc)))
        if L < 1 or dloc**L != size:
            raise InputError(f"len(psi) = {size} is not a power of the local dimension {dloc}; give dims per site")
        return (dloc,) * L
    try:
        dims = tuple(check_int(n, "dims entry", minimum=1) for n in dims)
    except TypeError:
        raise InputError(f"dims must be an int or a sequence of ints, got {dims!r}") from None
    if int(np.prod(dims, dtype=object)) != size:
        raise InputError(f"dims {dims} hold {int(np.prod(dims, dtype=object))} amplitudes but psi has {size}")
    return dims
