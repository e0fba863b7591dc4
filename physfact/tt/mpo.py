"""Matrix product operators: sums of local terms as a tensor train of operators.

An operator on L sites of local dimension d is stored as cores W_k of shape (a_{k-1}, d, d, a_k),
a_{-1} = a_{L-1} = 1, W_k[a, s, t, b] the (s, t) matrix element (s: row/bra, t: column/ket):

    H[(s_0..s_{L-1}), (t_0..t_{L-1})] = W_0[:, s_0, t_0, :] W_1[:, s_1, t_1, :] ... W_{L-1}[:, s_{L-1}, t_{L-1}, :]

Sites in C order (site 0 is the most significant digit of a flat index), as :class:`physfact.tt.MPS`.

:meth:`MPO.from_terms` builds the exact MPO of a sum of product terms c * O_{i_1} O_{i_2} ... by the
finite-state-automaton construction (Crosswhite & Bacon, PRA 78 (2008) 012356; Schollwoeck,
Ann. Phys. 326 (2011) 96, Sec. 6.1): the virtual index at bond b is a state of the automaton --
"nothing applied yet", "term finished", or one state per distinct *future* of the terms that span
the bond (the operators still to come, with their sites). Terms that share a future share a state,
so the transverse-field Ising chain gets a = 3 and the XXZ chain a = 5 (the minimal values), and a
range-r interaction a = r + 2 per operator type.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from physfact.errors import InputError
from physfact.validation import check_int, check_memory


class MPO:
    """A matrix product operator (immutable).

    Parameters
    ----------
    cores : sequence of ndarray
        W_k with shape (a_{k-1}, d_k, d_k, a_k), a_{-1} = a_{L-1} = 1.
    """

    __slots__ = ("_cores",)

    def __init__(self, cores):
        out = []
        for k, W in enumerate(cores):
            W = np.asarray(W)
            if W.ndim != 4 or W.shape[1] != W.shape[2]:
                raise InputError(f"MPO core {k} must have shape (a_left, d, d, a_right), got {W.shape}")
            if not np.issubdtype(W.dtype, np.number) or not np.all(np.isfinite(W)):
                raise InputError(f"MPO core {k} must hold finite numbers")
            if k > 0 and W.shape[0] != out[-1].shape[3]:
                raise InputError(f"MPO core {k} has left bond {W.shape[0]} but core {k - 1} has right bond "
                                 f"{out[-1].shape[3]}")
            W = W.astype(np.result_type(W, np.float64), copy=True)
            W.setflags(write=False)
            out.append(W)
        if not out:
            raise InputError("an MPO needs at least one core")
        if out[0].shape[0] != 1 or out[-1].shape[3] != 1:
            raise InputError(f"the boundary bonds of an MPO must be 1, got {out[0].shape[0]} and {out[-1].shape[3]}")
        object.__setattr__(self, "_cores", tuple(out))

    def __setattr__(self, name, value):
        raise AttributeError("MPO is immutable")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_terms(cls, L: int, d, terms) -> "MPO":
        """Exact MPO of H = sum_terms c * O^(1)_{i_1} O^(2)_{i_2} ... (finite-state automaton).

        Parameters
        ----------
        L : int
            Number of sites.
        d : int
            Local dimension (same on every site).
        terms : iterable of (coefficient, ops)
            ``ops`` is a sequence of (site, d x d matrix) pairs: one pair for an on-site term, two for
            a two-site term of any range, more for longer strings. Operators on the same site are
            multiplied in the order given (first one leftmost).

        Returns
        -------
        MPO
            Bond dimension at bond b: 2 (nothing yet / finished, where present) plus the number of
            distinct futures of the terms spanning b.

        Examples
        --------
        >>> Z, X = np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> terms = [(-1.0, [(i, Z), (i + 1, Z)]) for i in range(3)] + [(-0.5, [(i, X)]) for i in range(4)]
        >>> MPO.from_terms(4, 2, terms).bond_dimensions
        (3, 3, 3)
        """
        L = check_int(L, "L", minimum=1)
        d = check_int(d, "d", minimum=1)
        ops_by_key, parsed = {}, []
        for n, term in enumerate(terms):
            try:
                coef, ops = term
            except (TypeError, ValueError):
                raise InputError(f"term {n} must be (coefficient, [(site, matrix), ...]), got {term!r}") from None
            if not isinstance(coef, numbers.Number) or not np.isfinite(coef):
                raise InputError(f"term {n}: the coefficient must be a finite number, got {coef!r}")
            by_site = {}
            for item in ops:
                try:
                    site, op = item
                except (TypeError, ValueError):
                    raise InputError(f"term {n}: each operator must be a (site, matrix) pair, got {item!r}") from None
                site = check_int(site, "site", minimum=0)
                if site >= L:
                    raise InputError(f"term {n} acts on site {site}, outside 0 .. {L - 1}")
                op = np.asarray(op)
                if op.shape != (d, d) or not np.issubdtype(op.dtype, np.number) or not np.all(np.isfinite(op)):
                    raise InputError(f"term {n}: the operator on site {site} must be a finite {d} x {d} matrix, "
                                     f"got shape {op.shape}")
                by_site[site] = by_site[site] @ op if site in by_site else op
            if not by_site:
                raise InputError(f"term {n} acts on no site; add constants to the energy instead")
            if coef == 0:
                continue
            chain = []
            for site in sorted(by_site):
                op = np.asarray(by_site[site])
                op = op.astype(np.result_type(op, np.float64))
                key = (op.dtype.str, op.tobytes())
                ops_by_key.setdefault(key, op)
                chain.append((site, key))
            parsed.append((coef, tuple(chain)))
        if not parsed:
            raise InputError("no non-zero terms: the MPO of the zero operator is not useful")
        dtype = np.result_type(np.float64, *(c for c, _ in parsed), *ops_by_key.values())
        eye = np.eye(d, dtype=dtype)

        # states at bond b (between sites b and b+1): "start", "done", and futures (tuple of (site, key))
        def future(chain, b):
            return tuple(x for x in chain if x[0] > b)

        states = []
        for b in range(L - 1):
            mid = {}
            has_start = has_done = False
            for _, chain in parsed:
                first, last = chain[0][0], chain[-1][0]
                if first > b:
                    has_start = True
                elif last <= b:
                    has_done = True
                else:
                    mid.setdefault(future(chain, b), None)
            names = (["start"] if has_start else []) + list(mid) + (["done"] if has_done else [])
            states.append({s: i for i, s in enumerate(names)})
        left_states = [{"start": 0}] + states
        right_states = states + [{"done": 0}]

        cores = []
        for k in range(L):
            ls, rs = left_states[k], right_states[k]
            W = np.zeros((len(ls), d, d, len(rs)), dtype=dtype)
            if "start" in ls and "start" in rs:
                W[ls["start"], :, :, rs["start"]] = eye
            if "done" in ls and "done" in rs:
                W[ls["done"], :, :, rs["done"]] = eye
            set_edges = set()
            for coef, chain in parsed:
                first, last = chain[0][0], chain[-1][0]
                if not first <= k <= last:
                    continue
                right = "done" if last <= k else future(chain, k)
                ops_here = dict(chain)
                op = ops_by_key[ops_here[k]] if k in ops_here else eye
                if k == first:  # edges out of "start" carry the coefficient and add up
                    W[ls["start"], :, :, rs[right]] += coef * op
                else:  # edges out of a future state are fixed by that future: set once
                    left = future(chain, k - 1)
                    edge = (ls[left], rs[right])
                    if edge not in set_edges:
                        W[edge[0], :, :, edge[1]] = op
                        set_edges.add(edge)
            cores.append(W)
        return cls(cores)

    # ------------------------------------------------------------------ properties
    @property
    def cores(self) -> tuple:
        return self._cores

    @property
    def n_sites(self) -> int:
        return len(self._cores)

    @property
    def dims(self) -> tuple:
        return tuple(W.shape[1] for W in self._cores)

    @property
    def bond_dimensions(self) -> tuple:
        """MPO bond dimensions a_0 .. a_{L-2}."""
        return tuple(W.shape[3] for W in self._cores[:-1])

    @property
    def dtype(self):
        return self._cores[0].dtype

    def __repr__(self):
        return f"MPO(L={self.n_sites}, d={self.dims[0]}, bond_dimensions max {max(self.bond_dimensions, default=1)})"

    # ------------------------------------------------------------------ dense/sparse forms
    def to_sparse(self) -> sp.csr_matrix:
        """The operator as a sparse (prod d) x (prod d) matrix, C order (for tests and small L)."""
        n = int(np.prod(self.dims, dtype=object))
        if n > 2**20:
            raise InputError(f"to_sparse forms a {n} x {n} matrix; meant for small chains (prod d <= 2^20)")
        # blocks[a] = the operator of sites 0..k with open right bond a
        blocks = [sp.csr_matrix(self._cores[0][0, :, :, a]) for a in range(self._cores[0].shape[3])]
        for W in self._cores[1:]:
            new = []
            for b in range(W.shape[3]):
                acc = None
                for a in range(W.shape[0]):
                    w = W[a, :, :, b]
                    if not np.any(w) or blocks[a].nnz == 0:
                        continue
                    t = sp.kron(blocks[a], sp.csr_matrix(w), format="csr")
                    acc = t if acc is None else acc + t
                size = blocks[0].shape[0] * W.shape[1]
                new.append(acc if acc is not None else sp.csr_matrix((size, size), dtype=self.dtype))
            blocks = new
        return blocks[0].tocsr()

    def hermiticity_error(self) -> float:
        """||H - H^dagger||_F / ||H||_F from tr(H^dagger H) and tr(H H), each a chain of a x a transfer
        matrices (normalized by d per site, so any L stays finite); cost O(L a^3 d^2). Cancellation
        limits it to ~1e-7 for a Hermitian operator."""
        E1 = np.ones((1, 1), dtype=self.dtype)  # Hermitian in (i, j), complex for a complex MPO
        E2 = np.ones((1, 1), dtype=self.dtype)
        for W in self._cores:
            d = W.shape[1]
            E1 = np.einsum("ab,asti,bstj->ij", E1, W.conj(), W, optimize=True) / d
            E2 = np.einsum("ab,asti,btsj->ij", E2, W, W, optimize=True) / d
        n2 = float(np.real(E1[0, 0]))
        if n2 <= 0:
            return 0.0
        return float(np.sqrt(max(2.0 * (n2 - float(np.real(E2[0, 0]))), 0.0) / n2))

    # ------------------------------------------------------------------ action on MPS
    def __matmul__(self, mps):
        """H |psi> as an MPS with bonds chi_k a_k (exact, not compressed; ``.round()`` it)."""
        from physfact.tt.mps import MPS

        if not isinstance(mps, MPS):
            return NotImplemented
        self._check_mps(mps)
        cores = []
        for W, A in zip(self._cores, mps.cores):
            # (a, s, t, b) x (l, t, r) -> (a, l, s, b, r) -> (a l, s, b r)
            C = np.tensordot(W, A, axes=([2], [1])).transpose(0, 3, 1, 2, 4)
            a, l, s, b, r = C.shape
            cores.append(C.reshape(a * l, s, b * r))
        return MPS(cores, order=mps.order)

    def _check_mps(self, mps):
        if tuple(mps.dims) != self.dims:
            raise InputError(f"the MPS has local dimensions {tuple(mps.dims)} but the MPO {self.dims}")

    def expectation(self, mps) -> float:
        """<psi|H|psi> / <psi|psi> by one left-to-right environment sweep, O(L chi^3 a d)."""
        self._check_mps(mps)
        E = np.ones((1, 1, 1))
        for W, A in zip(self._cores, mps.cores):
            E = transfer_left(E, A, W)
        nrm2 = mps.norm() ** 2
        if nrm2 == 0:
            raise InputError("the zero state has no expectation values")
        return _real_if_close(E[0, 0, 0] / nrm2)

    def variance(self, mps) -> float:
        """<H^2> - <H>^2 of the normalized state, from ||H psi||^2 by a two-layer sweep,
        O(L chi^3 a^2 d) (exactly zero for an eigenstate, up to roundoff ~ eps ||H||^2)."""
        self._check_mps(mps)
        F = np.ones((1, 1, 1, 1))
        for W, A in zip(self._cores, mps.cores):
            # F (a, w, v, a'): bra index a, layers w (H^dagger) and v (H), ket index a'
            T = np.tensordot(F, A, axes=([3], [0]))                    # (a, w, v, t, r')
            T = np.tensordot(T, W, axes=([2, 3], [0, 2]))              # (a, w, r', u, v')
            T = np.tensordot(T, W.conj(), axes=([1, 3], [0, 1]))       # (a, r', v', s, w')
            F = np.tensordot(A.conj(), T, axes=([0, 1], [0, 3]))       # (r, r', v', w')
            F = F.transpose(0, 3, 2, 1)
        nrm2 = mps.norm() ** 2
        h2 = _real_if_close(F[0, 0, 0, 0] / nrm2)
        h = self.expectation(mps)
        return float(np.real(h2 - abs(h) ** 2))


def transfer_left(E, A, W):
    """One step of a left environment: E'(b, w', b') = sum A*(a,s,b) E(a,w,a') W(w,s,t,w') A(a',t,b')."""
    T = np.tensordot(E, A, axes=([2], [0]))             # (a, w, t, b')
    T = np.tensordot(T, W, axes=([1, 2], [0, 2]))       # (a, b', s, w')
    T = np.tensordot(A.conj(), T, axes=([0, 1], [0, 2]))  # (b, b', w')
    return T.transpose(0, 2, 1)


def transfer_right(E, B, W):
    """One step of a right environment: E'(a, w, a') = sum B*(a,s,b) W(w,s,t,w') E(b,w',b') B(a',t,b')."""
    T = np.tensordot(B, E, axes=([2], [2]))             # (a', t, b, w')
    T = np.tensordot(T, W, axes=([1, 3], [2, 3]))       # (a', b, w, s)
    T = np.tensordot(T, B.conj(), axes=([1, 3], [2, 1]))  # (a', w, a)
    return T.transpose(2, 1, 0)


def _real_if_close(v):
    v = complex(v)
    return v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v.real)) else v


def check_mpo_memory(mpo: MPO, chi: int, what: str):
    """Refuse a DMRG whose environments, Lanczos basis (40 vectors) and two-site intermediates would
    not fit in memory (bytes of complex numbers for a complex MPO)."""
    a = max(mpo.bond_dimensions, default=1)
    d = max(mpo.dims)
    L = mpo.n_sites
    item = 16 if np.iscomplexobj(mpo.cores[0]) else 8
    chi = min(chi, d ** (L // 2))  # no bond of L sites is larger
    nbytes = item * (3 * L * chi * chi * a + (40 + 4 * a) * chi * chi * d * d + L * chi * chi * d)
    check_memory(nbytes, what, "lower --max-bond")
