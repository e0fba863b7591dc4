"""Kronecker-sum operators K = sum_r A_r (x) B_r (axial (x) cross-section).

Two constructions:

* :meth:`KroneckerOperator.from_problem` -- *assembly-free*: the terms come from 1-D matrices
  (:mod:`physfact.fem.tensor_assembly`); exact for tensor elements with a separable material
  (4 terms for plane or 3-D elasticity, 2 for Poisson).
* :meth:`KroneckerOperator.from_matrix` -- *black box*: the Van Loan--Pitsianis rearrangement.
  With K in (station, section) order, R(K)[(i, i'), (s, s')] = K[(i, s), (i', s')] turns
  K = sum_r A_r (x) B_r into the matrix identity R(K) = sum_r vec(A_r) vec(B_r)^T, so the
  truncated SVD of R(K) gives the nearest Kronecker sum in the Frobenius norm, with error
  ||K - sum_r A_r (x) B_r||_F = sqrt(sum_{i > r} s_i^2) (Van Loan & Pitsianis, "Approximation
  with Kronecker products", in Linear Algebra for Large Scale and Real-Time Applications, 1993).
  K is block-banded along the axis (block-tridiagonal for linear elements), so only the rows
  |i - i'| <= bandwidth of R(K) are non-zero (about 3 n_stations) and only the columns (s, s')
  in the union of the blocks' sparsity patterns: the SVD is taken of that compact matrix, never
  of the n_stations^2 x n_section^2 rearrangement.

Vectors are in the problem's DOF order; the operator holds the permutation ``index`` (DOF i sits
at position index[i] = station[i] * n_section + section[i] of the Kronecker order). Products use
(A (x) B) vec(X) = vec(A X B^T) (row-major vec, X of shape n_stations x n_section), never the
Kronecker product itself.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from physfact.errors import InputError
from physfact.lowrank import Truncation, as_truncation, truncate, truncated_svd
from physfact.validation import as_array, as_matrix

DENSE_SVD_LIMIT = 30_000_000  # entries of the compact rearrangement above which the Gram path is used


class KroneckerRankWarning(UserWarning):
    """The Kronecker rank needed for the requested accuracy does not pay (storage close to CSR)."""


def csr_nbytes(K) -> int:
    """Bytes of K in CSR (data + indices + indptr)."""
    K = sp.csr_matrix(K)
    return int(K.data.nbytes + K.indices.nbytes + K.indptr.nbytes)


def _nbytes(M) -> int:
    if sp.issparse(M):
        if M.format == "dia":
            return int(M.data.nbytes + M.offsets.nbytes)
        M = M.tocsr()
        return int(M.data.nbytes + M.indices.nbytes + M.indptr.nbytes)
    return int(np.asarray(M).nbytes)


def compact_factor(M):
    """Store a sparse factor in the cheaper of DIA (banded: one array per diagonal, no indices)
    and CSR format; 1-D FE matrices and structured section matrices are banded."""
    M = sp.csr_matrix(M, copy=True)  # a copy: eliminate_zeros works in place on shared arrays
    M.eliminate_zeros()
    n = M.shape[0]
    C = M.tocoo()
    offsets = np.unique(C.col.astype(np.int64) - C.row) if C.nnz else np.zeros(1, dtype=np.int64)
    dia_bytes = offsets.size * n * 8 + offsets.size * 4
    csr_bytes = M.data.nbytes + M.indices.nbytes + M.indptr.nbytes
    return M.todia() if dia_bytes < csr_bytes else M


def _inner(X, Y) -> float:
    """Frobenius inner product of two (sparse or dense) matrices."""
    if sp.issparse(X):
        return float(X.multiply(Y).sum())
    if sp.issparse(Y):
        return float(Y.multiply(X).sum())
    return float(np.vdot(X, Y))


class KroneckerOperator:
    """K ~= sum_r A_r (x) B_r acting on vectors in the problem's DOF order.

    Parameters
    ----------
    terms : list of (A, B)
        A_r: n_stations x n_stations (sparse, banded); B_r: n_section x n_section.
    index : ndarray of int, optional
        Kronecker position of each DOF (``problem.kron_index``); identity if None.
    singular_values : ndarray, optional
        All singular values of the rearrangement (black-box construction).
    discarded : float
        Frobenius norm of the dropped part, ||K - sum_r A_r (x) B_r||_F (0 when exact).
    reference_nbytes : int, optional
        CSR bytes of the assembled K, for ``compression_ratio``.
    method : str
        "1-D assembly", "rearrangement", or "given".

    Attributes
    ----------
    terms, index, singular_values, discarded, method, pays
        ``pays`` is False when the kept rank stores more than half of K's CSR bytes.
    """

    __array_priority__ = 20

    def __init__(self, terms, index=None, singular_values=None, discarded: float = 0.0,
                 reference_nbytes: int | None = None, method: str = "given", norm: float | None = None):
        terms = list(terms)
        if not terms:
            raise InputError("a KroneckerOperator needs at least one term (A, B)")
        clean = []
        for k, t in enumerate(terms):
            if len(t) != 2:
                raise InputError(f"term {k} must be a pair (A, B)")
            A = as_matrix(t[0], f"A_{k}", square=True)
            B = as_matrix(t[1], f"B_{k}", square=True)
            clean.append((compact_factor(A) if sp.issparse(A) else A, compact_factor(B) if sp.issparse(B) else B))
        na, nb = clean[0][0].shape[0], clean[0][1].shape[0]
        for k, (A, B) in enumerate(clean):
            if A.shape != (na, na) or B.shape != (nb, nb):
                raise InputError(f"term {k} has shapes {A.shape}, {B.shape}; expected ({na}, {na}) and ({nb}, {nb})")
        self.terms = clean
        self.n_stations, self.n_section = na, nb
        n = na * nb
        if index is not None:
            index = np.asarray(index, dtype=np.int64)
            if index.shape != (n,) or np.any(np.bincount(index, minlength=n) != 1):
                raise InputError(f"index must be a permutation of 0..{n - 1}")
            if np.array_equal(index, np.arange(n)):
                index = None  # the numbering is already station-major
        self.index = index
        self.singular_values = None if singular_values is None else np.asarray(singular_values)
        self.discarded = float(discarded)
        self.reference_nbytes = reference_nbytes
        self.method = method
        self._norm = norm
        self.pays = True

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_problem(cls, problem, rule: Truncation | int | float | None = None, which: str = "K"):
        """Kronecker form of a problem's stiffness (``which="K"``) or mass (``which="M"``) matrix.

        Tensor elements with a separable material: the exact terms from 1-D matrices (no assembly,
        ``rule`` ignored). Otherwise (P1 triangles, non-separable material) this falls back to the
        black-box :meth:`from_matrix` on the assembled K with ``rule`` (default rtol 1e-10).
        """
        from physfact.fem.problem import require_problem

        require_problem(problem, "KroneckerOperator.from_problem")
        rule = as_truncation(rule) if rule is not None else None
        if which == "M":
            if problem.mass_terms is not None:
                return cls(problem.mass_terms, index=problem.kron_index, method="1-D assembly")
            if problem.M is None:
                raise InputError("the problem has neither a Kronecker mass form nor an assembled M")
            return cls.from_matrix(problem.M, problem, rule=rule)
        if which != "K":
            raise InputError(f"which must be 'K' or 'M', got {which!r}")
        if problem.kron_terms is not None:
            ref = csr_nbytes(problem.K) if problem.K is not None else None
            return cls(problem.kron_terms, index=problem.kron_index, method="1-D assembly", reference_nbytes=ref)
        if problem.K is None:
            raise InputError("the problem has neither exact Kronecker terms nor an assembled K")
        return cls.from_matrix(problem.K, problem, rule=rule)

    @classmethod
    def from_matrix(cls, K, problem=None, rule: Truncation | int | float | None = None, coords=None,
                    axis: int = 0, n_components: int = 1):
        """Nearest Kronecker sum to an assembled K (Van Loan--Pitsianis + truncated SVD).

        Parameters
        ----------
        K : sparse or dense (n, n)
            The assembled matrix in the problem's DOF order.
        problem : FEProblem, optional
            Gives ``station`` / ``section``. Without it, ``coords`` (n, dim) of each DOF's node
            are used to detect the order (:func:`physfact.fem.ordering.tensor_order`).
        rule : Truncation, int or float
            Truncation of the singular values of the rearrangement (default ``rtol=1e-10``): the
            discarded tail is exactly the Frobenius error ||K - sum_r A_r (x) B_r||_F.

        Raises
        ------
        InputError
            Wrong shape, NaN/inf, or DOFs not on a tensor-product / extruded mesh.
        """
        from physfact.fem.ordering import tensor_order

        K = as_matrix(K, "K", square=True)
        K = sp.csr_matrix(K)
        n = K.shape[0]
        if problem is not None:
            from physfact.fem.problem import require_problem

            require_problem(problem, "KroneckerOperator.from_matrix")
            if problem.n != n:
                raise InputError(f"K has {n} rows but the problem has {problem.n} DOFs")
            station, section, na, nb = problem.station, problem.section, problem.n_stations, problem.n_section
        elif coords is not None:
            coords = as_array(coords, "coords", ndim=2)
            if coords.shape[0] != n:
                raise InputError(f"coords has {coords.shape[0]} rows but K has {n}")
            station, section, na, nb = tensor_order(coords, axis=axis, n_components=n_components)
        else:
            raise InputError("from_matrix needs a problem or the DOF coordinates (coords=) to find the axis order")
        rule = as_truncation(rule) if rule is not None else Truncation(rtol=1e-10)
        index = np.asarray(station, dtype=np.int64) * nb + np.asarray(section)
        R, row_keys, col_keys = _rearrange(K, index, na, nb)
        svd = _compact_svd(R, rule)
        terms = []
        for r in range(svd.rank):
            w = np.sqrt(svd.s[r])
            a = svd.U[:, r] * w
            b = svd.Vt[r] * w
            A = sp.csr_matrix((a, (row_keys // na, row_keys % na)), shape=(na, na))
            B = sp.csr_matrix((b, (col_keys // nb, col_keys % nb)), shape=(nb, nb))
            terms.append((A, B))
        if not terms:
            raise InputError("the truncation rule kept no term; loosen it (e.g. Truncation(rtol=1e-8))")
        ref = csr_nbytes(K)
        normK = float(np.sqrt(np.sum(svd.all_s ** 2)))
        op = cls(terms, index=index, singular_values=svd.all_s, discarded=svd.discarded,
                 reference_nbytes=ref, method="rearrangement", norm=normK)
        if op.nbytes > 0.5 * ref:
            op.pays = False
            warnings.warn(
                f"Kronecker rank {op.rank} stores {op.nbytes} bytes, {op.nbytes / ref:.2f} x the CSR matrix: the "
                "Kronecker form does not pay here (non-separable coefficients or an irregular mesh); use "
                "sweep_factor or a sparse direct solver", KroneckerRankWarning, stacklevel=2)
        return op

    # ------------------------------------------------------------------ properties
    @property
    def shape(self):
        n = self.n_stations * self.n_section
        return (n, n)

    @property
    def rank(self) -> int:
        """Number of Kronecker terms."""
        return len(self.terms)

    @property
    def nbytes(self) -> int:
        """Bytes of all factors as stored (banded factors in DIA format: the diagonals only; others
        CSR: data + indices + indptr). The DOF permutation ``index``
        (n integers; None when the numbering is already station-major, as for Q1 meshes) is a
        property of the numbering, not of K, and is not counted."""
        return sum(_nbytes(A) + _nbytes(B) for A, B in self.terms)

    @property
    def csr_nbytes_estimate(self) -> int:
        """CSR bytes of the assembled matrix: measured when known, else with nnz estimated as
        nnz(union pattern of the A_r) * nnz(union pattern of the B_r) -- an upper bound on the
        exact non-zeros, below what scikit-fem stores (it keeps entries that cancel to ~1e-17)."""
        if self.reference_nbytes is not None:
            return int(self.reference_nbytes)
        pa = sum(abs(sp.csr_matrix(A)).astype(bool).astype(np.int8) for A, _ in self.terms)
        pb = sum(abs(sp.csr_matrix(B)).astype(bool).astype(np.int8) for _, B in self.terms)
        nnz = int(sp.csr_matrix(pa).nnz) * int(sp.csr_matrix(pb).nnz)
        idx = 4 if nnz < 2**31 else 8
        return nnz * (8 + idx) + (self.shape[0] + 1) * idx

    @property
    def compression_ratio(self) -> float:
        """CSR bytes of K divided by the bytes of the Kronecker factors."""
        return self.csr_nbytes_estimate / self.nbytes

    # ------------------------------------------------------------------ products
    def _to_kron(self, x):
        if self.index is None:
            return x
        out = np.empty_like(x)
        out[self.index] = x
        return out

    def _from_kron(self, y):
        return y if self.index is None else y[self.index]

    def apply_kron(self, Xk):
        """Product in Kronecker order: Xk of shape (n,) or (n, k) -> sum_r vec(A_r X B_r^T)."""
        na, nb = self.n_stations, self.n_section
        vec = Xk.ndim == 1
        k = 1 if vec else Xk.shape[1]
        X = Xk.reshape(na, nb, k)
        Xt = np.ascontiguousarray(X.transpose(1, 0, 2)).reshape(nb, na * k)
        Y = np.zeros((na, nb * k), dtype=np.result_type(Xk, float))
        for A, B in self.terms:
            Z = (B @ Xt).reshape(nb, na, k).transpose(1, 0, 2).reshape(na, nb * k)
            Y += A @ Z
        Y = Y.reshape(na * nb, k)
        return Y[:, 0] if vec else Y

    def __matmul__(self, x):
        x = np.asarray(x)
        if x.ndim not in (1, 2) or x.shape[0] != self.shape[0]:
            raise InputError(f"shape mismatch: operator {self.shape} @ {x.shape}")
        return self._from_kron(self.apply_kron(self._to_kron(x)))

    def matvec(self, x):
        """Same as ``self @ x``."""
        return self @ x

    def to_sparse(self):
        """The assembled sum of Kronecker products in problem order (CSR)."""
        K = sum(sp.kron(sp.csr_matrix(A), sp.csr_matrix(B), format="csr") for A, B in self.terms)
        if self.index is not None:
            n = self.shape[0]
            P = sp.csr_matrix((np.ones(n), (np.arange(n), self.index)), shape=(n, n))
            K = P @ K @ P.T
        return sp.csr_matrix(K)

    def as_linear_operator(self):
        """A scipy LinearOperator with this operator's products."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=self.__matmul__, matmat=self.__matmul__, dtype=float)

    # ------------------------------------------------------------------ algebra
    def __add__(self, other):
        if not isinstance(other, KroneckerOperator):
            return NotImplemented
        if other.shape != self.shape or (self.n_stations, self.n_section) != (other.n_stations, other.n_section):
            raise InputError(f"shape mismatch: {self.shape} + {other.shape}")
        if not _same_index(self.index, other.index):
            raise InputError("the two operators use different DOF orders")
        return KroneckerOperator(self.terms + other.terms, index=self.index, method="sum")

    def __mul__(self, scalar):
        if not np.isscalar(scalar):
            return NotImplemented
        return KroneckerOperator([(scalar * A, B) for A, B in self.terms], index=self.index, method=self.method)

    __rmul__ = __mul__

    def recompress(self, rule: Truncation | int | float | None = None) -> "KroneckerOperator":
        """Fewest terms representing the same sum (or its truncation by ``rule``).

        The factors are vectorised over the union of their sparsity patterns, vec(A) = QA RA and
        vec(B) = QB RB (thin QR), and the SVD of the small core RA RB^T = W diag(s) Z^T is the
        Kronecker SVD of sum_r A_r (x) B_r without forming it. QR keeps the singular values
        accurate to rounding relative to s_1 (Gram matrices would square the condition and leave
        spurious terms at ~1e-8 s_1). With ``rule`` None only singular values at rounding level
        are dropped: ``Truncation(rtol=1e-13)``.
        """
        VA, keysA, shapeA, sparseA = _vectorise([A for A, _ in self.terms])
        VB, keysB, shapeB, sparseB = _vectorise([B for _, B in self.terms])
        QA, RA = np.linalg.qr(VA)
        QB, RB = np.linalg.qr(VB)
        W, s, Zt = np.linalg.svd(RA @ RB.T)
        if rule is None:
            rule = Truncation(rtol=1e-13)
        svd = truncate(W, s, Zt, rule, shape=(VA.shape[0], VB.shape[0]))
        root = np.sqrt(svd.s)
        CA = QA @ (svd.U * root)
        CB = QB @ (svd.Vt.T * root)
        terms = [(_unvectorise(CA[:, k], keysA, shapeA, sparseA), _unvectorise(CB[:, k], keysB, shapeB, sparseB))
                 for k in range(svd.rank)]
        return KroneckerOperator(terms, index=self.index, singular_values=s, discarded=self.discarded + svd.discarded,
                                 reference_nbytes=self.reference_nbytes, method=self.method)

    # ------------------------------------------------------------------ accuracy
    def frobenius_norm(self) -> float:
        """||sum_r A_r (x) B_r||_F from the Gram matrices (sum_rs <A_r,A_s><B_r,B_s>)."""
        r = self.rank
        tot = sum(_inner(self.terms[i][0], self.terms[j][0]) * _inner(self.terms[i][1], self.terms[j][1])
                  for i in range(r) for j in range(r))
        return float(np.sqrt(max(tot, 0.0)))

    def relative_error(self, K) -> float:
        """||K - sum_r A_r (x) B_r||_F / ||K||_F, computed on the compact rearrangement.

        Both K and the Kronecker sum are rearranged onto the union of their block rows
        (i, i') and section-pattern columns (s, s'), where the difference is evaluated exactly
        (no cancellation-prone expansion, never the dense n x n matrix).
        """
        K = sp.csr_matrix(as_matrix(K, "K", square=True))
        if K.shape != self.shape:
            raise InputError(f"K has shape {K.shape}, the operator {self.shape}")
        na, nb = self.n_stations, self.n_section
        index = self.index if self.index is not None else np.arange(self.shape[0])
        RK, rk, ck = _rearrange(K, index, na, nb)
        # keys of the Kronecker factors
        Akeys = np.unique(np.concatenate([_keys(A, na) for A, _ in self.terms]))
        Bkeys = np.unique(np.concatenate([_keys(B, nb) for _, B in self.terms]))
        rows = np.union1d(rk, Akeys)
        cols = np.union1d(ck, Bkeys)
        VA = np.column_stack([_values(A, na, rows) for A, _ in self.terms])
        VB = np.column_stack([_values(B, nb, cols) for _, B in self.terms])
        RKo = RK.tocoo()
        RKc = sp.csr_matrix((RKo.data, (np.searchsorted(rows, rk)[RKo.row], np.searchsorted(cols, ck)[RKo.col])),
                            shape=(rows.size, cols.size))
        err2 = 0.0
        step = max(1, int(2_000_000 // max(cols.size, 1)))
        for start in range(0, rows.size, step):
            sl = slice(start, min(start + step, rows.size))
            D = RKc[sl].toarray() - VA[sl] @ VB.T
            err2 += float(np.sum(D * D))
        return float(np.sqrt(err2) / sp.linalg.norm(K))

    def __repr__(self):
        return (f"KroneckerOperator(n={self.shape[0]}, stations={self.n_stations}, section={self.n_section}, "
                f"rank={self.rank}, nbytes={self.nbytes}, compression_ratio={self.compression_ratio:.1f}, "
                f"method={self.method!r})")


def _same_index(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))


def _keys(M, m):
    C = sp.coo_matrix(M)
    return C.row.astype(np.int64) * m + C.col


def _values(M, m, keys):
    C = sp.coo_matrix(M)
    k = C.row.astype(np.int64) * m + C.col
    out = np.zeros(keys.size)
    pos = np.searchsorted(keys, k)
    np.add.at(out, pos, C.data)
    return out


def _vectorise(mats):
    """Columns vec(M_r) over the union of the matrices' sparsity patterns (keys row * m + col)."""
    shape = mats[0].shape
    keys = np.unique(np.concatenate([_keys(M, shape[1]) for M in mats]))
    return (np.column_stack([_values(M, shape[1], keys) for M in mats]), keys, shape,
            all(sp.issparse(M) for M in mats))


def _unvectorise(values, keys, shape, sparse):
    M = sp.csr_matrix((values, (keys // shape[1], keys % shape[1])), shape=shape)
    return M if sparse else M.toarray()


def _rearrange(K, index, na, nb):
    """Compact Van Loan--Pitsianis rearrangement of K (problem order) with Kronecker positions
    ``index``: a sparse matrix over the non-zero block pairs (i, i') x section pairs (s, s'),
    with the keys i * na + i' and s * nb + s'."""
    C = sp.coo_matrix(K)
    r = index[C.row]
    c = index[C.col]
    i, s = r // nb, r % nb
    ip, spp = c // nb, c % nb
    rkey = i * na + ip
    ckey = s * nb + spp
    rows, rinv = np.unique(rkey, return_inverse=True)
    cols, cinv = np.unique(ckey, return_inverse=True)
    R = sp.csr_matrix((C.data, (rinv.ravel(), cinv.ravel())), shape=(rows.size, cols.size))
    return R, rows, cols


def _compact_svd(R, rule):
    """Truncated SVD of the compact rearrangement: dense when it fits, else via the Gram matrix of
    the smaller side (singular values below ~1e-8 s_1 are then at rounding level)."""
    m, n = R.shape
    if m * n <= DENSE_SVD_LIMIT:
        return truncated_svd(R.toarray(), rule)
    if m <= n:
        G = (R @ R.T).toarray()
        d, U = np.linalg.eigh(G)
        d, U = d[::-1], U[:, ::-1]
        s = np.sqrt(np.maximum(d, 0.0))
        keep = s > 0
        Vt = (R.T @ (U[:, keep] / s[keep])).T
        return truncate(U[:, keep], s[keep], Vt, rule, shape=R.shape, all_s=s)
    G = (R.T @ R).toarray()
    d, V = np.linalg.eigh(G)
    d, V = d[::-1], V[:, ::-1]
    s = np.sqrt(np.maximum(d, 0.0))
    keep = s > 0
    U = R @ (V[:, keep] / s[keep])
    return truncate(np.asarray(U), s[keep], V[:, keep].T, rule, shape=R.shape, all_s=s)
