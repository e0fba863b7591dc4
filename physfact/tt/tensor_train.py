"""The tensor-train (TT) format and its exact algebra.

A d-way tensor A[i_0, ..., i_{d-1}] (mode sizes n_k) is stored as cores G_k of shape
(r_{k-1}, n_k, r_k), r_{-1} = r_{d-1} = 1:

    A[i_0, ..., i_{d-1}] = G_0[:, i_0, :] G_1[:, i_1, :] ... G_{d-1}[:, i_{d-1}, :]

(Oseledets, SIAM J. Sci. Comput. 33 (2011) 2295). ``ranks`` are the d-1 bond ranks
r_0 ... r_{d-2}; bond k sits between sites k and k+1.

Flattening order (``order``): ``"C"`` (default) means site 0 is the most significant index of the
flat vector, flat = sum_k i_k prod_{j>k} n_j (numpy's default, big-endian qubits); ``"F"`` means
site 0 is the least significant, flat = sum_k i_k prod_{j<k} n_j (little-endian, Qiskit-style).
The order only affects how a flat vector is read (:meth:`TensorTrain.from_dense`) and written
(:meth:`TensorTrain.to_vector`); cores, ranks and entropies refer to sites, whatever the order.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np
import scipy.linalg as sla

from physfact.errors import InputError
from physfact.lowrank import Truncation, robust_svd, scaled_norm, truncate
from physfact.validation import check_int, check_memory, check_positive


def _readonly(a):
    a = np.asarray(a)
    a.setflags(write=False)
    return a


def _qr(M):
    """Economic QR with a non-negative real diagonal convention not required (values only matter)."""
    return sla.qr(M, mode="economic", check_finite=False)


class TensorTrain:
    """A tensor in TT format (immutable: operations return new trains).

    Parameters
    ----------
    cores : sequence of ndarray
        Core k has shape (r_{k-1}, n_k, r_k) with r_{-1} = r_{d-1} = 1.
    order : {"C", "F"}
        Flattening order used by :meth:`to_vector` (see the module docstring).
    discarded : array_like, optional
        Frobenius norm dropped at each bond by the operation that produced this train.
    singular_values : tuple of ndarray, optional
        All singular values seen at each bond by that operation (for rank profiles).
    center : int, optional
        Orthogonality center if the train is known to be in mixed canonical form: cores left of
        it are left-orthonormal (sum_{a,i} conj(G[a,i,b]) G[a,i,b'] = delta_{bb'}), cores right of
        it right-orthonormal.

    Attributes
    ----------
    error_bound : float
        sqrt(sum discarded^2): the Frobenius distance to the tensor the truncating operation
        (TT-SVD, rounding) was applied to -- exact there, as the per-bond errors are orthogonal.
        Canonicalization keeps it (and scalar multiplication scales it); the exact algebra
        (+, -, hadamard) starts a new record at 0.
    """

    __slots__ = ("_cores", "_order", "_discarded", "_singular_values", "_center", "__weakref__")

    def __init__(self, cores, order="C", discarded=None, singular_values=None, center=None):
        if isinstance(cores, np.ndarray) or not hasattr(cores, "__iter__"):
            raise InputError(f"cores must be a sequence of 3-D arrays, got {type(cores).__name__}")
        try:
            cores = [np.asarray(c) for c in cores]
        except Exception as exc:
            raise InputError(f"cores could not be read as arrays: {exc}") from None
        if not cores:
            raise InputError("a tensor train needs at least one core")
        dtype = np.result_type(*cores, np.float64)
        if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.complexfloating)):
            raise InputError(f"cores must be numeric, got dtype {dtype}")
        out = []
        for k, c in enumerate(cores):
            if c.ndim != 3:
                raise InputError(f"core {k} must have 3 dimensions (r_left, n, r_right), got shape {c.shape}")
            if k > 0 and c.shape[0] != out[-1].shape[2]:
                raise InputError(f"core {k} has left rank {c.shape[0]} but core {k - 1} has right rank {out[-1].shape[2]}")
            if 0 in c.shape:
                raise InputError(f"core {k} has an empty dimension: shape {c.shape}")
            if not np.isfinite(c).all():
                raise InputError(f"core {k} has NaN or inf entries")
            out.append(_readonly(c.astype(dtype, copy=False)))
        if out[0].shape[0] != 1 or out[-1].shape[2] != 1:
            raise InputError(f"the boundary ranks must be 1, got {out[0].shape[0]} and {out[-1].shape[2]}")
        if order not in ("C", "F"):
            raise InputError(f"order must be 'C' or 'F', got {order!r}")
        d = len(out)
        if discarded is None:
            discarded = np.zeros(max(d - 1, 0))
        discarded = np.asarray(discarded, dtype=float)
        if discarded.shape != (max(d - 1, 0),):
            raise InputError(f"discarded must have one entry per bond ({d - 1}), got shape {discarded.shape}")
        if center is not None:
            center = check_int(center, "center", minimum=0)
            if center >= d:
                raise InputError(f"center {center} is outside the train (0 .. {d - 1})")
        object.__setattr__(self, "_cores", tuple(out))
        object.__setattr__(self, "_order", order)
        object.__setattr__(self, "_discarded", _readonly(discarded))
        object.__setattr__(self, "_singular_values",
                           None if singular_values is None else tuple(_readonly(np.asarray(s)) for s in singular_values))
        object.__setattr__(self, "_center", center)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable; operations return new trains")

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_dense(cls, x, tol=None, max_rank=None, order="C", dims=None):
        """TT-SVD of a dense tensor (Oseledets 2011, Algorithm 1); see :mod:`physfact.tt.ttsvd`.

        Parameters
        ----------
        x : array_like
            An ndarray of shape ``dims`` or a flat array with prod(dims) entries read in ``order``.
        tol : float, optional
            Relative Frobenius guarantee ||A - TT||_F <= tol ||A||_F, split as
            delta = tol ||A||_F / sqrt(d-1) per unfolding. Default 1e-14 (exact up to roundoff).
        max_rank : int, optional
            Cap on every bond rank.
        order : {"C", "F"}
            How a flat ``x`` is read: C: site 0 most significant; F: site 0 least significant.
        dims : sequence of int, optional
            Mode sizes; default ``x.shape``.

        Returns
        -------
        TensorTrain
            Left-orthonormal cores 0..d-2 (``center = d-1``), with ``discarded`` per bond and
            ``error_bound`` = ||A - TT||_F.
        """
        from physfact.tt.ttsvd import tt_svd

        cores, info = tt_svd(x, dims=dims, tol=tol, max_rank=max_rank, order=order)
        return cls(cores, order=order, discarded=info.discarded, singular_values=info.singular_values,
                   center=info.center)

    # ---------------------------------------------------------------- properties
    @property
    def cores(self) -> tuple:
        """The cores, read-only arrays of shape (r_{k-1}, n_k, r_k)."""
        return self._cores

    @property
    def order(self) -> str:
        return self._order

    @property
    def ndim(self) -> int:
        """Number of sites d."""
        return len(self._cores)

    def __len__(self):
        return len(self._cores)

    @property
    def dims(self) -> tuple:
        """Mode sizes (n_0, ..., n_{d-1})."""
        return tuple(c.shape[1] for c in self._cores)

    @property
    def ranks(self) -> tuple:
        """Bond ranks (r_0, ..., r_{d-2}); bond k joins sites k and k+1."""
        return tuple(c.shape[2] for c in self._cores[:-1])

    @property
    def dtype(self):
        return self._cores[0].dtype

    @property
    def size(self) -> int:
        """Number of entries of the full tensor."""
        return int(np.prod(self.dims, dtype=object))

    @property
    def nbytes(self) -> int:
        """Bytes held by the cores."""
        return int(sum(c.nbytes for c in self._cores))

    @property
    def discarded(self) -> np.ndarray:
        """Frobenius norm dropped at each bond by the operation that built this train."""
        return self._discarded

    @property
    def error_bound(self) -> float:
        """sqrt(sum discarded^2) -- the Frobenius error of that operation (exact for TT-SVD/rounding)."""
        return scaled_norm(self._discarded)

    @property
    def singular_values(self):
        """All singular values computed at each bond by the building sweep (None if not from one)."""
        return self._singular_values

    @property
    def center(self):
        """Orthogonality center, or None when the train is not known to be canonical."""
        return self._center

    def __repr__(self):
        dims = self.dims
        dims_s = f"({dims[0]},)*{len(dims)}" if len(set(dims)) == 1 and len(dims) > 4 else str(dims)
        r = self.ranks
        return (f"{type(self).__name__}(d={self.ndim}, dims={dims_s}, max_rank={max(r) if r else 1}, "
                f"order={self._order!r}, dtype={self.dtype}, nbytes={self.nbytes}, "
                f"error_bound={self.error_bound:.3e}, center={self._center})")

    def _new(self, cores, **kw):
        kw.setdefault("order", self._order)
        return type(self)(cores, **kw)

    # ---------------------------------------------------------------- dense views
    def full(self) -> np.ndarray:
        """The full tensor, shape ``dims`` (memory prod(dims)); refused before allocating when it
        cannot fit (:class:`~physfact.errors.ResourceError`)."""
        check_memory(2.0 * self.size * self.dtype.itemsize, f"the full tensor of dims {self.dims}",
                     "work with the cores (entry, dot, norm) instead of the full tensor")
        res = self._cores[0].reshape(self._cores[0].shape[1], -1)
        for c in self._cores[1:]:
            r, n, r2 = c.shape
            res = (res @ c.reshape(r, n * r2)).reshape(-1, r2)
        return res.reshape(self.dims)

    def to_vector(self) -> np.ndarray:
        """The flat vector in this train's ``order`` (the inverse of ``from_dense`` of a flat array)."""
        return self.full().reshape(-1, order=self._order)

    def entry(self, index) -> complex | float:
        """A single entry A[i_0, ..., i_{d-1}] as a product of d small matrices."""
        try:
            index = tuple(operator.index(i) for i in index)
        except TypeError:
            raise InputError(f"an entry needs {self.ndim} integer indices, got {index!r}") from None
        if len(index) != self.ndim:
            raise InputError(f"an entry needs {self.ndim} indices, got {len(index)}")
        v = np.ones((1,), dtype=self.dtype)
        for c, i in zip(self._cores, index):
            if not 0 <= i < c.shape[1]:
                raise InputError(f"index {i} out of range for a mode of size {c.shape[1]}")
            v = v @ c[:, i, :]
        return v[0]

    # ---------------------------------------------------------------- algebra
    def _check_compatible(self, other, what):
        if not isinstance(other, TensorTrain):
            raise InputError(f"{what} needs another TensorTrain, got {type(other).__name__}")
        if other.dims != self.dims:
            raise InputError(f"{what}: mode sizes differ: {self.dims} vs {other.dims}")
        if other.order != self.order:
            raise InputError(f"{what}: flattening orders differ ({self.order!r} vs {other.order!r}); "
                             "rebuild one train with the other order")

    def __add__(self, other):
        """Exact sum: ranks add (block-diagonal cores). Use :meth:`round` to recompress."""
        self._check_compatible(other, "addition")
        d = self.ndim
        dtype = np.result_type(self.dtype, other.dtype)
        if d == 1:
            return self._new([self._cores[0] + other._cores[0]])
        cores = []
        for k, (a, b) in enumerate(zip(self._cores, other._cores)):
            ra, n, sa = a.shape
            rb, _, sb = b.shape
            if k == 0:
                c = np.concatenate([a, b], axis=2)
            elif k == d - 1:
                c = np.concatenate([a, b], axis=0)
            else:
                c = np.zeros((ra + rb, n, sa + sb), dtype=dtype)
                c[:ra, :, :sa] = a
                c[ra:, :, sa:] = b
            cores.append(c.astype(dtype, copy=False))
        return self._new(cores)

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        self._check_compatible(other, "subtraction")
        return self + (-other)

    def __mul__(self, alpha):
        """Scalar multiple (the scalar goes into the orthogonality center, or the last core)."""
        if not isinstance(alpha, numbers.Number) or isinstance(alpha, bool):
            raise InputError("* multiplies a tensor train by a scalar; use hadamard() for the entrywise product")
        if not np.isfinite(alpha):
            raise InputError(f"a tensor train can only be scaled by a finite number, got {alpha}")
        k = self._center if self._center is not None else self.ndim - 1
        cores = list(self._cores)
        cores[k] = cores[k] * alpha
        sv = None if self._singular_values is None else tuple(abs(alpha) * s for s in self._singular_values)
        return self._new(cores, center=self._center, discarded=abs(alpha) * self._discarded, singular_values=sv)

    __rmul__ = __mul__

    def __truediv__(self, alpha):
        if not isinstance(alpha, numbers.Number) or alpha == 0:
            raise InputError("a tensor train can only be divided by a non-zero scalar")
        return self * (1.0 / alpha)

    def hadamard(self, other):
        """Entrywise product C[i] = A[i] B[i]: ranks multiply (core-wise Kronecker products)."""
        self._check_compatible(other, "hadamard")
        cores = []
        for a, b in zip(self._cores, other._cores):
            ra, n, sa = a.shape
            rb, _, sb = b.shape
            cores.append(np.einsum("aib,cid->acibd", a, b).reshape(ra * rb, n, sa * sb))
        return self._new(cores)

    def dot(self, other) -> complex | float:
        """Inner product <self, other> = sum_i conj(self[i]) other[i] (numpy ``vdot`` convention)."""
        self._check_compatible(other, "dot")
        E = np.ones((1, 1), dtype=np.result_type(self.dtype, other.dtype))
        for a, b in zip(self._cores, other._cores):
            # E'[c, d] = sum_{a b i} E[a, b] conj(A[a, i, c]) B[b, i, d]
            t = np.tensordot(E, b, axes=(1, 0))  # (ra, n, sb)
            E = np.tensordot(a.conj(), t, axes=([0, 1], [0, 1]))  # (sa, sb)
        val = E[0, 0]
        return complex(val) if np.iscomplexobj(val) else float(val)

    def norm(self) -> float:
        """Frobenius norm ||A||_F, from a QR sweep (no squaring of small quantities)."""
        if self._center is not None:
            return scaled_norm(self._cores[self._center])
        R = np.ones((1, 1), dtype=self.dtype)
        for c in self._cores[:-1]:
            r, n, s = c.shape
            M = np.tensordot(R, c, axes=(1, 0)).reshape(-1, s)
            R = sla.qr(M, mode="r", check_finite=False)[0][: min(M.shape), :]
        last = np.tensordot(R, self._cores[-1], axes=(1, 0))
        return scaled_norm(last)

    # ---------------------------------------------------------------- canonical forms
    def canonicalize(self, center: int):
        """Mixed canonical form with orthogonality center ``center`` (QR from both ends).

        Cores 0..center-1 become left-orthonormal and center+1..d-1 right-orthonormal; the tensor is
        unchanged. Ranks may shrink where a core's rank exceeded its unfolding's size.
        """
        center = check_int(center, "center", minimum=0)
        if center >= self.ndim:
            raise InputError(f"center {center} is outside the train (0 .. {self.ndim - 1})")
        cores = [np.array(c) for c in self._cores]
        _left_sweep(cores, 0, center)
        _right_sweep(cores, self.ndim - 1, center)
        # the tensor is unchanged: keep the truncation record of the train it came from
        return self._new(cores, center=center, discarded=self._discarded, singular_values=self._singular_values)

    def left_canonical(self):
        """Cores 0..d-2 left-orthonormal; the norm lives in the last core."""
        return self.canonicalize(self.ndim - 1)

    def right_canonical(self):
        """Cores 1..d-1 right-orthonormal; the norm lives in the first core."""
        return self.canonicalize(0)

    def round(self, tol=None, max_rank=None):
        """TT-rounding (Oseledets 2011, Algorithm 2): right-orthogonalize, then truncate left to right.

        Parameters
        ----------
        tol : float, optional
            Relative Frobenius tolerance: ||A - round(A)||_F <= tol ||A||_F
            (delta = tol ||A||_F / sqrt(d-1) per bond). Default 1e-14.
        max_rank : int, optional
            Cap on every bond rank.

        Returns
        -------
        TensorTrain
            With ``discarded`` per bond and ``error_bound`` = ||A - round(A)||_F (exact: the bond
            errors are orthogonal), left-canonical (``center = d-1``).
        """
        from physfact.tt.ttsvd import DEFAULT_TOL

        tol = DEFAULT_TOL if tol is None else check_positive(tol, "tol", allow_zero=True)
        if tol >= 1:
            raise InputError(f"tol is a relative error in [0, 1), got {tol}")
        max_rank = check_int(max_rank, "max_rank", minimum=1)
        d = self.ndim
        if d == 1:
            return self._new(self._cores, center=0)
        cores = [np.array(c) for c in self._cores]
        _right_sweep(cores, d - 1, 0)
        nrm = scaled_norm(cores[0])
        rule = Truncation(atol=tol * nrm / np.sqrt(d - 1), rank=max_rank)
        discarded, svals = [], []
        for k in range(d - 1):
            r, n, s = cores[k].shape
            U, sv, Vt = robust_svd(cores[k].reshape(r * n, s))
            svd = truncate(U, sv, Vt, rule, shape=(r * n, s))
            q = max(svd.rank, 1)
            discarded.append(scaled_norm(sv[q:]))
            svals.append(sv)
            cores[k] = U[:, :q].reshape(r, n, q)
            SV = sv[:q, None] * Vt[:q]
            cores[k + 1] = np.tensordot(SV, cores[k + 1], axes=(1, 0))
        return self._new(cores, discarded=discarded, singular_values=svals, center=d - 1)


def _left_sweep(cores, start, stop):
    """Left-orthonormalize cores start..stop-1 in place (QR), pushing R into core stop."""
    for k in range(start, stop):
        r, n, s = cores[k].shape
        Q, R = _qr(cores[k].reshape(r * n, s))
        cores[k] = Q.reshape(r, n, Q.shape[1])
        cores[k + 1] = np.tensordot(R, cores[k + 1], axes=(1, 0))


def _right_sweep(cores, start, stop):
    """Right-orthonormalize cores start..stop+1 (descending) in place (LQ), pushing L into core stop."""
    for k in range(start, stop, -1):
        r, n, s = cores[k].shape
        Q, R = _qr(cores[k].reshape(r, n * s).T)  # M^T = Q R -> M = R^T Q^T
        cores[k] = Q.T.reshape(Q.shape[1], n, s)
        cores[k - 1] = np.tensordot(cores[k - 1], R.T, axes=(2, 0))
