"""Double factorization of the two-electron integrals into squares of one-body operators.

With E_pq = sum_sigma a+_{p sigma} a_{q sigma} and chemist-order (pq|rs), the Hamiltonian of
:mod:`physfact.chem.hamiltonian` is rewritten as

.. math::

    H = E_0 + \\sum_{pq} T_{pq} E_{pq} + \\tfrac12 \\sum_{l=1}^{L} \\Big(\\sum_{pq} L^{(l)}_{pq} E_{pq}\\Big)^2,
    \\qquad T_{pq} = h_{pq} - \\tfrac12 \\sum_r (pr|rq),

by two factorizations (Peng & Kowalski, JCTC 13 (2017) 4179; Motta et al., npj Quantum Inf. 7
(2021) 83; von Burg et al., PRR 3 (2021) 033055):

1. **first level**: the (pq),(rs) supermatrix V is positive semidefinite, V = sum_l vec(L^(l))
   vec(L^(l))^T, by its eigendecomposition (``method="eigh"``: L^(l) = sqrt(w_l) v_l, optimal
   in every unitarily invariant norm) or by greedy pivoted Cholesky (``method="cholesky"``,
   :mod:`physfact.chem.pivoted_cholesky`; never forms a second N^4 array);
2. **second level**: each leaf L^(l) = U_l diag(lambda_l) U_l^T (symmetric eigendecomposition), so
   sum_pq L^(l)_pq E_pq = sum_i lambda_{l,i} n_i in the orbitals rotated by U_l and

   (pq|rs) ~= sum_l sum_ij U_l[p,i] U_l[q,i] lambda_l[i] lambda_l[j] U_l[r,j] U_l[s,j].

What ``tol`` means (libraries differ by 2x and more at equal nominal tol): ``tol`` is in Hartree
and bounds the *first-level* residual R = V - sum_{l<=L} vec(L^(l)) vec(L^(l))^T by the rule
``first_level``:

``"max_residual"`` (default)
    max_i R_ii <= tol. As R is PSD, |R_ij| <= max_i R_ii: tol bounds the largest ERI error. The
    stopping rule of pivoted Cholesky (ffsim's ``double_factorized(cholesky=True)``, PySCF); for
    ``eigh`` the fewest leading eigenpairs meeting it.
``"trace"``
    tr R = sum of the discarded eigenvalues <= tol (the cumulative |lambda| tail; ffsim's eigh
    path). tr R >= ||R||_F >= max |R_ij|.
``"frobenius"``
    ||R||_F = sqrt(sum of the squared discarded eigenvalues) <= tol, i.e. the Frobenius ERI error:
    ``Truncation(atol=tol)`` of physfact.lowrank on the eigenvalues (eigh only).
``"weight"``
    OpenFermion's ``low_rank_two_body_decomposition`` rule: leaves sorted by the weight
    w_l (sum_pq |v_l[pq]|)^2 and the tail sum of weights <= tol. OpenFermion's ``truncation_threshold``
    thr on its usual spin-orbital input (spin_basis=True) corresponds to tol = thr / 2. eigh only.

``leaf_tol`` (second level; the truncation of the second factorization of von Burg et al. 2021,
as implemented in OpenFermion's ``resource_estimates.df.factorize``): keep lambda_{l,i} when |lambda_{l,i}| sum_j |lambda_{l,j}| > leaf_tol; the leaves are visited in
first-level order and the factorization stops at the first leaf that keeps nothing. ``rank`` caps
L. ``target_error`` (mHa) chooses the fewest leading leaves whose energy error under convention B
is within target (:mod:`physfact.chem.energies`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from physfact.errors import InputError
from physfact.validation import check_int, check_positive

from physfact.chem.hamiltonian import MolecularHamiltonian
from physfact.chem.degenerate import canonical_eigenvectors, canonical_eigenvectors_batched
from physfact.chem.integrals import coulomb_contraction, exchange_contraction, restore_two_body

FIRST_LEVEL_RULES = ("max_residual", "trace", "frobenius", "weight")
METHODS = ("auto", "eigh", "cholesky")
#: above this many orbitals method="auto" uses pivoted Cholesky instead of the N^2 x N^2 eigh
AUTO_EIGH_MAX_ORBITALS = 40


@dataclass(frozen=True, eq=False)
class DoubleFactorization:
    """H = E_0 + sum_pq T_pq E_pq + 1/2 sum_l (sum_i lambda_{l,i} n^{(l)}_i)^2 (module docstring).

    Attributes
    ----------
    constant : float
        E_0 (Hartree).
    one_body_correction : ndarray (N, N)
        T = h - 1/2 sum_r (pr|rq) with the *exact* ERI (what is measured under convention B).
    eigenvalues : ndarray (L, N)
        lambda_l per leaf, sorted by decreasing |lambda|; entries dropped by ``leaf_tol`` are 0.
    orbital_rotations : ndarray (L, N, N)
        Real orthogonal U_l (columns: the rotated orbitals, U_l[p, i]).
    one_body : ndarray (N, N)
        The original h (for convention A and the LCU one-norm).
    first_level_values : ndarray (L,)
        ||L^(l)||_F^2 of each kept leaf (the supermatrix eigenvalue for eigh, the pivot for Cholesky).
    first_level_residual : dict
        Residual of the first level at the chosen L: ``max_diag`` (bounds the max-abs ERI error),
        ``trace`` and, for eigh, ``frobenius``. With ``leaf_tol`` these are the residual diagonal of
        the kept (second-level truncated) leaves, which is then not PSD: ``max_diag`` is no longer
        a bound, see ``two_body_error`` for the achieved errors.
    method, rule : str
        How the leaves were found and which named rule chose L (``rule`` is a readable summary).
    n_electrons, spin : int
        Carried over for energies.
    energy_report : dict or None
        Filled by ``target_error`` mode: energies per L tried and the chosen one.
    """

    constant: float
    one_body_correction: np.ndarray = field(repr=False)
    eigenvalues: np.ndarray = field(repr=False)
    orbital_rotations: np.ndarray = field(repr=False)
    one_body: np.ndarray = field(repr=False)
    first_level_values: np.ndarray = field(repr=False)
    first_level_residual: dict = field(repr=False)
    method: str = "eigh"
    rule: str = ""
    n_electrons: int | None = None
    spin: int = 0
    energy_report: dict | None = field(default=None, repr=False)
    # the exact ERI the factorization approximates (a reference, not a copy), for errors and energies
    exact_two_body: np.ndarray | None = field(default=None, repr=False, compare=False)
    hamiltonian: MolecularHamiltonian | None = field(default=None, repr=False, compare=False)

    def __repr__(self):
        return (f"DoubleFactorization(n_orbitals={self.n_orbitals}, n_leaves={self.n_leaves}, "
                f"n_eigenvectors={self.n_eigenvectors}, method={self.method!r}, rule={self.rule!r}, "
                f"max_residual={self.first_level_residual.get('max_diag', float('nan')):.2e})")

    # ---- sizes -------------------------------------------------------------------------------
    @property
    def n_orbitals(self) -> int:
        return int(self.one_body.shape[0])

    @property
    def n_leaves(self) -> int:
        """L, the number of squared one-body terms."""
        return int(self.eigenvalues.shape[0])

    @property
    def eigenvector_counts(self) -> np.ndarray:
        """Kept (non-zero) eigenvalues per leaf."""
        return np.count_nonzero(self.eigenvalues, axis=1)

    @property
    def n_eigenvectors(self) -> int:
        """Total kept second-level eigenvectors, sum_l #{i : lambda_{l,i} != 0} (the Xi of von Burg et al.)."""
        return int(self.eigenvector_counts.sum())

    @property
    def n_groups(self) -> int:
        """Measurement groups: L + 1 (the one-body term and one per leaf)."""
        return self.n_leaves + 1

    # ---- tensors -----------------------------------------------------------------------------
    def leaves(self) -> np.ndarray:
        """The leaf matrices L^(l) = U_l diag(lambda_l) U_l^T, shape (L, N, N)."""
        U = self.orbital_rotations
        return np.einsum("lpi,li,lqi->lpq", U, self.eigenvalues, U, optimize=True)

    def two_body(self) -> np.ndarray:
        """The truncated ERI sum_l L^(l)_pq L^(l)_rs, shape (N, N, N, N) (forms an N^4 array)."""
        n = self.n_orbitals
        Lt = self.leaves().reshape(self.n_leaves, n * n)
        return (Lt.T @ Lt).reshape(n, n, n, n)

    @cached_property
    def two_body_error(self) -> dict:
        """Achieved ERI errors of the truncated factorization against the exact ERI (Hartree):
        ``max_abs`` = max |(pq|rs) - (pq|rs)_DF| and ``frobenius`` = ||.||_F. Computed once, one
        orbital row at a time (no second N^4 array; O(L N^4) flops)."""
        if self.exact_two_body is None:
            raise InputError("this DoubleFactorization does not carry the exact ERI; errors are unknown")
        n = self.n_orbitals
        Lt = self.leaves()
        flat = Lt.reshape(self.n_leaves, n * n)
        max_abs, sq = 0.0, 0.0
        for p in range(n):
            approx = Lt[:, p, :].T @ flat if self.n_leaves else np.zeros((n, n * n))
            diff = self.exact_two_body[p].reshape(n, n * n) - approx
            max_abs = max(max_abs, float(np.max(np.abs(diff))))
            sq += float(np.vdot(diff, diff))
        return {"max_abs": max_abs, "frobenius": float(np.sqrt(sq))}

    # ---- derived quantities ------------------------------------------------------------------
    def one_norm(self) -> float:
        """LCU one-norm lambda_DF of von Burg et al. 2021 / Lee et al. 2021 (Hartree):

        lambda = sum_k |eig(T')_k| + 1/4 sum_l (sum_i |lambda_{l,i}|)^2,
        T' = h - 1/2 sum_r (pr|rq) + sum_r (pq|rr)   (exact ERI),

        the same expression as OpenFermion's resource_estimates.df.compute_lambda.
        """
        t_prime = self.one_body_correction + self._coulomb_exact
        lam_t = float(np.sum(np.abs(np.linalg.eigvalsh(t_prime))))
        lam_f = 0.25 * float(np.sum(np.sum(np.abs(self.eigenvalues), axis=1) ** 2))
        return lam_t + lam_f

    @cached_property
    def _coulomb_exact(self) -> np.ndarray:
        if self.exact_two_body is not None:
            return coulomb_contraction(self.exact_two_body)
        return coulomb_contraction(self.two_body())

    def truncate(self, n_leaves: int) -> "DoubleFactorization":
        """The factorization with only the first ``n_leaves`` leaves (first-level order)."""
        k = check_int(n_leaves, "n_leaves", minimum=0, allow_none=False)
        k = min(k, self.n_leaves)
        if k == self.n_leaves:
            return self
        res = dict(self.first_level_residual)
        res.pop("frobenius", None)
        if self.exact_two_body is not None:
            # residual diagonal of the first level with k leaves: diag V - sum_{l<k} L_l^2
            n = self.n_orbitals
            d = np.einsum("pqpq->pq", self.exact_two_body).ravel() - np.sum(
                self.leaves()[:k].reshape(k, n * n) ** 2, axis=0)
            res = {"max_diag": float(d.max()), "trace": float(d.sum())}
        return DoubleFactorization(self.constant, self.one_body_correction, self.eigenvalues[:k],
                                   self.orbital_rotations[:k], self.one_body, self.first_level_values[:k], res,
                                   self.method, f"first {k} leaves of [{self.rule}]", self.n_electrons, self.spin,
                                   None, self.exact_two_body, self.hamiltonian)

    def to_hamiltonian(self, convention: str = "B") -> MolecularHamiltonian:
        """The truncated Hamiltonian as integrals (see :mod:`physfact.chem.energies` for A and B)."""
        from physfact.chem.energies import truncated_hamiltonian

        return truncated_hamiltonian(self, convention)

    def energies(self, method: str = "auto") -> dict:
        """Energies of the exact and the truncated Hamiltonians (conventions A and B) and their errors."""
        from physfact.chem.energies import energy_errors

        return energy_errors(self, method=method)

    def measurement_groups(self):
        """L + 1 measurement groups (see :func:`physfact.chem.measurement.measurement_groups`)."""
        from physfact.chem.measurement import measurement_groups

        return measurement_groups(self)

    def to_openfermion(self, convention: str = "B"):
        """openfermion.InteractionOperator of the truncated Hamiltonian (spin orbitals 2p + sigma)."""
        return self.to_hamiltonian(convention).to_openfermion()

    def qubitization_cost(self, **kwargs):
        """Qubitization cost of this factorization (physfact.chem.resource_estimates.df_cost)."""
        from physfact.chem.resource_estimates import df_cost

        return df_cost(self, **kwargs)

    def compress(self, **kwargs):
        """Compressed double factorization (physfact.chem.compressed.compress)."""
        from physfact.chem.compressed import compress

        return compress(self, **kwargs)

    def save(self, path):
        """Save to .npz or .h5 (physfact.io, kind 'double_factorization'): the factors, the rule, the
        first-level residual, the energy report, and -- when known -- the Hamiltonian it came from
        (molecule name, basis, geometry in Angstrom, h, E_0 and the exact (pq|rs) packed 8-fold), so
        that :func:`load_double_factorization` gives back an object reproducing every number
        ``physfact df`` prints (ERI errors, one-norm, cost, Pauli counts, energies A and B)."""
        import json

        from physfact.io import save_arrays, to_jsonable

        ham = self.hamiltonian
        attrs = {"constant": self.constant, "method": self.method, "rule": self.rule,
                 "n_electrons": -1 if self.n_electrons is None else self.n_electrons, "spin": self.spin,
                 "first_level_residual": json.dumps(to_jsonable(self.first_level_residual)),
                 "energy_report": json.dumps(to_jsonable(self.energy_report))}
        arrays = dict(one_body_correction=self.one_body_correction, eigenvalues=self.eigenvalues,
                      orbital_rotations=self.orbital_rotations, one_body=self.one_body,
                      first_level_values=self.first_level_values)
        if ham is not None:
            attrs.update(molecule=ham.name, basis=ham.basis, geometry=ham.geometry, source=ham.source,
                         hamiltonian_constant=ham.constant,
                         hf_energy=float("nan") if ham.hf_energy is None else ham.hf_energy)
        if self.exact_two_body is not None:
            from pyscf import ao2mo

            arrays["exact_two_body_s8"] = ao2mo.restore(8, self.exact_two_body, self.n_orbitals)
        return save_arrays(path, "double_factorization", attrs=attrs, **arrays)

    def summary(self) -> dict:
        """Plain-number summary (JSON-able)."""
        out = {"n_orbitals": self.n_orbitals, "n_leaves": self.n_leaves, "n_eigenvectors": self.n_eigenvectors,
               "n_groups": self.n_groups, "method": self.method, "rule": self.rule,
               "first_level_residual": dict(self.first_level_residual), "one_norm": self.one_norm()}
        if self.exact_two_body is not None:
            out["two_body_error"] = dict(self.two_body_error)
        return out


#: what a saved factorization must hold (array name -> shape in terms of L and N)
_SAVED_ARRAYS = {"one_body_correction": "NN", "eigenvalues": "LN", "orbital_rotations": "LNN", "one_body": "NN",
                 "first_level_values": "L"}
_SAVED_ATTRS = ("constant", "method", "rule", "n_electrons", "spin")


def load_double_factorization(path) -> DoubleFactorization:
    """Read a factorization written by :meth:`DoubleFactorization.save` (.npz or .h5).

    Files that carry the Hamiltonian come back with it (``hamiltonian``, ``exact_two_body``), so
    errors, energies and counts can be recomputed; older files without it give the factors alone.

    Raises
    ------
    DataFileError
        Missing, unreadable or cut-short file; a missing field; NaN/inf; shapes that do not agree
        (L leaves of N orbitals); orbital rotations that are not orthogonal.
    """
    import json
    from pathlib import Path

    from physfact.errors import DataFileError
    from physfact.io import load_raw

    path = Path(path)
    raw = load_raw(path, kind="double_factorization")
    arrays, attrs = raw.arrays, raw.attrs
    missing = [k for k in _SAVED_ARRAYS if k not in arrays] + [k for k in _SAVED_ATTRS if k not in attrs]
    if missing:
        raise DataFileError(f"{path}: not a complete double factorization: missing {', '.join(missing)}")
    fields = {}
    for k in _SAVED_ARRAYS:
        a = np.asarray(arrays[k])
        if not np.issubdtype(a.dtype, np.number) or not np.all(np.isfinite(a)):
            raise DataFileError(f"{path}: {k} holds NaN, inf or non-numbers")
        fields[k] = a.astype(float)
    L, n = fields["eigenvalues"].shape if fields["eigenvalues"].ndim == 2 else (-1, -1)
    sizes = {"L": L, "N": n}
    for k, pattern in _SAVED_ARRAYS.items():
        want = tuple(sizes[c] for c in pattern)
        if fields[k].shape != want:
            raise DataFileError(f"{path}: {k} has shape {fields[k].shape}, expected {want} for L = {L} leaves of "
                                f"N = {n} orbitals")
    U = fields["orbital_rotations"]
    if L and np.max(np.abs(np.einsum("lpi,lpj->lij", U, U) - np.eye(n))) > 1e-8:
        raise DataFileError(f"{path}: orbital_rotations are not orthogonal (U^T U != I); the file is damaged")
    try:
        constant = float(attrs["constant"])
        ne, spin = int(attrs["n_electrons"]), int(attrs["spin"])
        residual = json.loads(str(attrs.get("first_level_residual", "{}"))) or {}
        report = json.loads(str(attrs.get("energy_report", "null")))
    except (TypeError, ValueError) as exc:
        raise DataFileError(f"{path}: damaged attributes ({exc})") from None
    if not np.isfinite(constant):
        raise DataFileError(f"{path}: constant is NaN or inf")
    ham, eri = None, None
    if "exact_two_body_s8" in arrays:
        packed = np.asarray(arrays["exact_two_body_s8"], dtype=float)
        npair = n * (n + 1) // 2
        if packed.shape != (npair * (npair + 1) // 2,) or not np.all(np.isfinite(packed)):
            raise DataFileError(f"{path}: exact_two_body_s8 has {packed.size} entries (NaN-free expected: "
                                f"{npair * (npair + 1) // 2} for N = {n})")
        if ne < 0 or "molecule" not in attrs:  # factors of a bare two-body array: no Hamiltonian to rebuild
            eri = restore_two_body(packed, n_orbitals=n)
        else:
            hf = float(attrs.get("hf_energy", float("nan")))
            ham = MolecularHamiltonian(float(attrs.get("hamiltonian_constant", constant)), fields["one_body"], packed, ne,
                                       n, spin, name=str(attrs.get("molecule", "")), basis=str(attrs.get("basis", "")),
                                       source=str(attrs.get("source", "file")), hf_energy=None if np.isnan(hf) else hf,
                                       geometry=str(attrs.get("geometry", "")))
            eri = ham.two_body
    return DoubleFactorization(constant, fields["one_body_correction"], fields["eigenvalues"], U, fields["one_body"],
                               fields["first_level_values"], residual, str(attrs["method"]), str(attrs["rule"]),
                               None if ne < 0 else ne, spin, report, eri, ham)


def _as_problem(obj, check=True):
    """(hamiltonian or None, h, eri, constant) from a MolecularHamiltonian or a bare two-body array."""
    if isinstance(obj, MolecularHamiltonian):
        return obj, obj.one_body, obj.two_body, obj.constant
    eri = restore_two_body(obj, check=check)
    n = eri.shape[0]
    return None, np.zeros((n, n)), eri, 0.0


def _first_level_eigh(V, n, rule, tol, cap):
    from physfact.lowrank.truncation import Truncation, choose_rank  # not at import: keeps scipy.linalg out

    # V annihilates antisymmetric pair vectors ((pq|rs) = (qp|rs)), so diagonalise it on the
    # orthonormal basis of symmetric pairs p >= q only: N(N+1)/2 instead of N^2 rows (8x fewer flops).
    # There V_s = D (pq|rs)_{p>=q, r>=s} D with D = sqrt(2) on off-diagonal pairs, and v = B v_s.
    p_idx, q_idx = np.tril_indices(n)
    flat, flat_t = p_idx * n + q_idx, q_idx * n + p_idx
    scale = np.where(p_idx == q_idx, 1.0, np.sqrt(2.0))
    Vs = V[np.ix_(flat, flat)] * scale[:, None] * scale[None, :]
    w, vs = np.linalg.eigh(Vs)
    del Vs
    w, vs = w[::-1], vs[:, ::-1]
    wmax = max(float(w[0]), 1e-300)
    if w[-1] < -1e-8 * wmax:
        raise InputError(f"two_body is not positive semidefinite as a (pq),(rs) supermatrix (eigenvalue {w[-1]:.3e}"
                         f" vs largest {wmax:.3e}); electron repulsion integrals always are -- check their origin")
    # numerical rank: eigenvalues below n^2 eps w_max are rounding noise
    keep = int(np.count_nonzero(w > (n * n) * np.finfo(float).eps * wmax))
    # equal eigenvalues (symmetry): a basis of their eigenspace that rounding does not decide
    w, vs = w[:keep], canonical_eigenvectors(w[:keep], vs[:, :keep]) / scale[:, None]
    vecs = np.zeros((n * n, keep))
    vecs[flat] = vs
    vecs[flat_t] = vs
    if rule == "weight":
        weights = w * np.sum(np.abs(vecs), axis=0) ** 2
        # symmetry-equal weights tie exactly up to rounding: round before sorting (stable, by index)
        order = np.argsort(-np.round(weights / max(float(weights.max(initial=0.0)), 1e-300), 12), kind="stable")
        w, vecs, weights = w[order], vecs[:, order], weights[order]
    diag_v = np.diagonal(V).copy()
    # residual diagonal after k leaves, for every k (k = 0..keep), by a running subtraction
    res_max = np.empty(keep + 1)
    res_tr = np.empty(keep + 1)
    d = diag_v.copy()
    res_max[0], res_tr[0] = d.max(), d.sum()
    for k in range(keep):
        d -= w[k] * vecs[:, k] ** 2
        res_max[k + 1], res_tr[k + 1] = d.max(), d.sum()
    if tol is None:
        k = keep
    elif rule == "max_residual":
        k = int(np.argmax(res_max <= tol)) if np.any(res_max <= tol) else keep
    elif rule == "trace":
        k = int(np.argmax(res_tr <= tol)) if np.any(res_tr <= tol) else keep
    elif rule == "frobenius":
        k = choose_rank(np.sort(w)[::-1], Truncation(atol=tol))
    else:
        tail = np.append(np.cumsum(weights[::-1])[::-1], 0.0)
        k = int(np.argmax(tail <= tol))
    if cap is not None:
        k = min(k, cap)
    leaves = (vecs[:, :k] * np.sqrt(w[:k])).T.reshape(k, n, n)
    residual = {"max_diag": float(max(res_max[k], 0.0)), "trace": float(max(res_tr[k], 0.0)),
                "frobenius": float(np.sqrt(np.sum(w[k:] ** 2)))}
    return leaves, w[:k].copy(), residual


def _first_level_cholesky(V, n, rule, tol, cap, block):
    from physfact.chem.pivoted_cholesky import pivoted_cholesky

    if rule not in ("max_residual", "trace"):
        raise InputError(f"first_level={rule!r} needs the eigenvalues of the supermatrix: use method='eigh', "
                         "or first_level='max_residual' / 'trace' with method='cholesky'")
    if tol is None:  # numerical rank: stop when the residual is rounding noise, like eigh
        tol = (n * n) * np.finfo(float).eps * max(float(np.max(np.diagonal(V))), 1e-300)
    chol = pivoted_cholesky(V, tol=tol, max_rank=cap, block=block,
                            stop="max" if rule == "max_residual" else "trace")
    k = chol.rank
    leaves = chol.vectors.reshape(k, n, n)
    residual = {"max_diag": float(max(chol.residual_max[-1], 0.0)), "trace": float(max(chol.residual_trace[-1], 0.0))}
    return leaves, np.sum(chol.vectors**2, axis=1), residual


def double_factorize(hamiltonian_or_two_body, tol: float | None = None, rank: int | None = None,
                     target_error: float | None = None, method: str = "auto", first_level: str = "max_residual",
                     leaf_tol: float | None = None, energy_method: str = "auto", block: int = 16,
                     check: bool = True, progress=None) -> DoubleFactorization:
    """Double-factorize the two-electron integrals (module docstring: equations, rules, references).

    Parameters
    ----------
    hamiltonian_or_two_body : MolecularHamiltonian or array_like
        A Hamiltonian, or (pq|rs) alone (full, supermatrix or PySCF s4/s8; h = 0, E_0 = 0). A
        :class:`~physfact.chem.three_index.ThreeIndexHamiltonian` (``eri="density_fitting"`` or
        ``"cholesky"``) is factorized from its three-index factors without forming (pq|rs)
        (:mod:`physfact.chem.df_three_index`; the result's errors are against that ERI).
    tol : float, optional
        First-level tolerance in Hartree under ``first_level`` (default: the largest diagonal of
        the residual supermatrix, which bounds the max-abs ERI error). None or 0: keep every leaf
        above the numerical rank (eigh) or until the residual vanishes (Cholesky).
    rank : int, optional
        Cap on the number of leaves L.
    target_error : float, optional
        Energy error target in mHa: the fewest leading leaves with |E_B(L) - E_exact| <= target
        (convention B; FCI when the space is small, else CCSD(T), see ``energy_method``). Needs a
        MolecularHamiltonian.
    method : {"auto", "eigh", "cholesky"}
        First-level algorithm; ``auto`` = eigh up to 40 orbitals, pivoted Cholesky above.
    first_level : {"max_residual", "trace", "frobenius", "weight"}
        Meaning of ``tol`` (module docstring).
    leaf_tol : float, optional
        Second-level threshold (von Burg et al.): keep lambda_{l,i} with |lambda_{l,i}| sum_j
        |lambda_{l,j}| > leaf_tol; stop at the first leaf keeping none.
    energy_method : {"auto", "fci", "ccsd(t)"}
        Energies for ``target_error``.
    block : int
        Block size of the pivoted Cholesky.
    check : bool
        Verify the 8-fold symmetry of a bare two-body array (an O(N^4) pass; a
        MolecularHamiltonian was checked when it was built). Skip only for trusted input.
    progress : callable, optional
        ``progress(iterable, total, desc)`` wrapper (e.g. a tqdm bar) for the target_error scan
        (and, for three-index input, the first level and the leaves).

    Returns
    -------
    DoubleFactorization
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}")
    if first_level not in FIRST_LEVEL_RULES:
        raise InputError(f"first_level must be one of {FIRST_LEVEL_RULES}, got {first_level!r}")
    tol = check_positive(tol, "tol", allow_zero=True)
    rank = check_int(rank, "rank", minimum=1)
    leaf_tol = check_positive(leaf_tol, "leaf_tol", allow_zero=True)
    target_error = check_positive(target_error, "target_error (mHa)")
    block = check_int(block, "block", minimum=1, allow_none=False)
    if getattr(hamiltonian_or_two_body, "three_index", None) is not None:  # never form the N^4 ERI
        from physfact.chem.df_three_index import double_factorize_three_index

        return double_factorize_three_index(hamiltonian_or_two_body, tol=tol, rank=rank, target_error=target_error,
                                            method=method, first_level=first_level, leaf_tol=leaf_tol,
                                            energy_method=energy_method, block=block, progress=progress)
    ham, h, eri, constant = _as_problem(hamiltonian_or_two_body, check)
    if target_error is not None and ham is None:
        raise InputError("target_error needs a MolecularHamiltonian (one-body part and electron count), "
                         "not a bare two-body array")
    n = eri.shape[0]
    if method == "auto":
        method = "eigh" if n <= AUTO_EIGH_MAX_ORBITALS else "cholesky"
    V = eri.reshape(n * n, n * n)
    if method == "eigh":
        leaves, values, residual = _first_level_eigh(V, n, first_level, tol, rank)
    else:
        leaves, values, residual = _first_level_cholesky(V, n, first_level, tol, rank, block)
    rule = f"{method}: {first_level} <= {tol:g}" if tol is not None else f"{method}: full (numerical rank)"
    if rank is not None:
        rule += f", rank <= {rank}"

    # second level: batched symmetric eigendecompositions of the leaves
    leaves = 0.5 * (leaves + leaves.transpose(0, 2, 1))
    if leaf_tol is not None:
        # find the first leaf the von Burg rule empties from eigenvalues alone (chunks), so that
        # eigenvectors are computed only for the leaves that stay
        for start in range(0, len(leaves), 64):
            a = np.abs(np.linalg.eigvalsh(leaves[start:start + 64]))
            alive = (a * a.sum(axis=1, keepdims=True) > leaf_tol).any(axis=1)
            if not alive.all():
                stop = start + int(np.argmin(alive))
                leaves, values = leaves[:stop], values[:stop]
                break
    lam, U = np.linalg.eigh(leaves) if len(leaves) else (np.zeros((0, n)), np.zeros((0, n, n)))
    U = canonical_eigenvectors_batched(lam, U)  # signs and degenerate groups independent of rounding
    # decreasing |lambda|; equal magnitudes (to rounding) by value, so +x and -x keep a fixed order
    mag = np.abs(lam) / np.maximum(np.max(np.abs(lam), axis=1, keepdims=True), 1e-300) if len(lam) else lam
    order = np.lexsort((lam, -np.round(mag, 12)), axis=1)
    lam = np.take_along_axis(lam, order, axis=1)
    U = np.take_along_axis(U, order[:, None, :], axis=2)
    if leaf_tol is not None:
        keep = np.abs(lam) * np.sum(np.abs(lam), axis=1, keepdims=True) > leaf_tol
        empty = np.flatnonzero(~keep.any(axis=1))
        stop = int(empty[0]) if empty.size else len(lam)
        lam = np.where(keep, lam, 0.0)[:stop]
        U, values = U[:stop], values[:stop]
        rule += f"; second level: |lambda| sum|lambda| > {leaf_tol:g} (von Burg)"
        # the residual diagonal of what is kept (dropped eigenvalues change it too)
        diag_v = np.einsum("pqpq->pq", eri).ravel()
        kept = np.einsum("lpi,li,lqi->lpq", U, lam, U).reshape(stop, n * n)
        d = diag_v - np.sum(kept**2, axis=0)
        residual = {"max_diag": float(max(d.max(), 0.0)), "trace": float(max(d.sum(), 0.0))}
    K_exact = exchange_contraction(eri)
    df = DoubleFactorization(
        constant=float(constant), one_body_correction=h - 0.5 * K_exact, eigenvalues=np.ascontiguousarray(lam),
        orbital_rotations=np.ascontiguousarray(U), one_body=np.array(h, dtype=float),
        first_level_values=np.asarray(values, dtype=float), first_level_residual=residual, method=method, rule=rule,
        n_electrons=None if ham is None else ham.n_electrons, spin=0 if ham is None else ham.spin,
        exact_two_body=eri, hamiltonian=ham)
    if target_error is not None:
        from physfact.chem.energies import fewest_leaves_for_energy

        df = fewest_leaves_for_energy(df, target_error, method=energy_method, progress=progress)
    return df
