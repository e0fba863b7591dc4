"""Double factorization straight from three-index factors, never forming the N^4 integrals.

With (pq|rs) = sum_Q B_Qpq B_Qrs (:mod:`physfact.chem.three_index`), the ERI supermatrix is
V = B^T B with B of shape (N_aux, N^2). The first level of the double factorization
(:mod:`physfact.chem.double_factorization`, same rules and names) is then built from B alone:

``method="eigh"``
    The nonzero eigenpairs of V from the N_aux x N_aux Gram matrix G = B B^T = W diag(s) W^T:
    V = sum_l s_l v_l v_l^T with v_l = B^T w_l / sqrt(s_l), so the leaf L^(l) = sqrt(s_l) v_l =
    B^T w_l is a rotation of B within the auxiliary space (the SVD of B). Flops N_aux^2 N^2.
``method="cholesky"``
    Greedy pivoted Cholesky of V with its rows formed on the fly, V[idx, :] = B[:, idx]^T B
    (:func:`physfact.chem.pivoted_cholesky.pivoted_cholesky`); the same pivots as on the four-index
    supermatrix. Flops ~ L N_aux N^2.

The truncation rules (``max_residual``, ``trace``, ``frobenius``, ``weight``), ``rank``, ``leaf_tol``
and ``target_error`` mean what they mean for the four-index route, with V the three-index ERI.
The second level (one symmetric eigendecomposition per leaf) runs in chunks, writing the rotations
over the leaves in place: B and one leaf-sized array are the only three-index-sized arrays held.
Achieved errors (``two_body_error``) are against the three-index ERI; the representation error of
B itself against the exact integrals is ``hamiltonian.representation_error()`` (small N).
References: Peng & Kowalski, JCTC 13 (2017) 4179; Motta et al., npj Quantum Inf. 7 (2021) 83;
von Burg et al., PRR 3 (2021) 033055.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from physfact.errors import InputError

from physfact.chem.double_factorization import DoubleFactorization

#: leaves per chunk in the second level and the error passes
CHUNK = 64


def _progress_bar(progress, total, desc):
    bar = progress(None, total=total, desc=desc) if progress is not None else None
    return bar if hasattr(bar, "update") else None


@dataclass(frozen=True, eq=False)
class ThreeIndexDoubleFactorization(DoubleFactorization):
    """A :class:`DoubleFactorization` of a :class:`~physfact.chem.three_index.ThreeIndexHamiltonian`.

    ``exact_two_body`` is None; the reference ERI is the three-index one of ``hamiltonian``.
    """

    def _flat_leaves(self, start=0, stop=None) -> np.ndarray:
        U = self.orbital_rotations[start:stop]
        lam = self.eigenvalues[start:stop]
        n = self.n_orbitals
        return np.matmul(U * lam[:, None, :], U.transpose(0, 2, 1)).reshape(len(U), n * n)

    @cached_property
    def two_body_error(self) -> dict:
        """``max_abs`` and ``frobenius`` of sum_Q B B - sum_l L L over all (pq|rs) (Hartree), a block
        of supermatrix rows at a time. O((N_aux + L) N^4) flops and the L leaves formed once."""
        ham = self.hamiltonian
        n = self.n_orbitals
        flat = ham.three_index.reshape(ham.n_aux, n * n)
        leaves = self._flat_leaves()
        max_abs, sq = 0.0, 0.0
        step = max(1, int(4e6 // (n * n)))
        for i in range(0, n * n, step):
            diff = flat[:, i:i + step].T @ flat - leaves[:, i:i + step].T @ leaves
            max_abs = max(max_abs, float(np.max(np.abs(diff))))
            sq += float(np.vdot(diff, diff))
        return {"max_abs": max_abs, "frobenius": float(np.sqrt(sq))}

    @cached_property
    def _coulomb_exact(self) -> np.ndarray:
        return self.hamiltonian.coulomb()

    def sos_one_body(self) -> np.ndarray:
        """T' = h - 1/2 sum_r (pr|rq) + sum_r (pq|rr) with the three-index ERI (lambda's one-body part)."""
        return self.one_body_correction + self._coulomb_exact

    def _residual_diagonal(self, k) -> np.ndarray:
        n = self.n_orbitals
        flat = self.hamiltonian.three_index.reshape(-1, n * n)
        d = np.einsum("Qi,Qi->i", flat, flat)
        for s in range(0, k, CHUNK):
            d -= np.sum(self._flat_leaves(s, min(k, s + CHUNK)) ** 2, axis=0)
        return d

    def truncate(self, n_leaves: int) -> "ThreeIndexDoubleFactorization":
        """The factorization with only the first ``n_leaves`` leaves (first-level order)."""
        k = min(int(n_leaves), self.n_leaves)
        if k == self.n_leaves:
            return self
        d = self._residual_diagonal(k)
        return dataclasses.replace(self, eigenvalues=self.eigenvalues[:k], orbital_rotations=self.orbital_rotations[:k],
                                   first_level_values=self.first_level_values[:k],
                                   first_level_residual={"max_diag": float(d.max()), "trace": float(d.sum())},
                                   rule=f"first {k} leaves of [{self.rule}]", energy_report=None)

    def truncated_three_index(self, convention: str = "B"):
        """The truncated Hamiltonian (conventions A / B of :mod:`physfact.chem.energies`) with the
        leaves as its three-index factors (no N^4 array)."""
        conv = str(convention).upper()
        if conv not in ("A", "B"):
            raise InputError(f"convention must be 'A' or 'B', got {convention!r}")
        n = self.n_orbitals
        leaves = self._flat_leaves().reshape(self.n_leaves, n, n)
        if conv == "A":
            h1 = self.one_body
        else:
            rows = leaves.reshape(self.n_leaves * n, n)
            h1 = self.one_body_correction + 0.5 * (rows.T @ rows)
        return self.hamiltonian.with_factors(leaves, one_body=h1,
                                             source=f"double factorization L={self.n_leaves} ({conv})")

    def to_hamiltonian(self, convention: str = "B"):
        return self.truncated_three_index(convention)

    def summary(self) -> dict:
        out = super().summary()
        out["eri"] = self.hamiltonian.eri_method
        out["n_aux"] = self.hamiltonian.n_aux
        return out


def _first_level_cholesky(flat, diag, rule, tol, cap, block, progress):
    from physfact.chem.pivoted_cholesky import pivoted_cholesky

    if rule not in ("max_residual", "trace"):
        raise InputError(f"first_level={rule!r} needs the eigenvalues of the supermatrix: use method='eigh', "
                         "or first_level='max_residual' / 'trace' with method='cholesky'")
    n2 = flat.shape[1]
    if tol is None:
        tol = n2 * np.finfo(float).eps * max(float(diag.max(initial=0.0)), 1e-300)
    max_rank = flat.shape[0] if cap is None else min(cap, flat.shape[0])  # rank V <= N_aux
    chol = pivoted_cholesky(lambda idx: flat[:, idx].T @ flat, tol=tol, max_rank=max_rank, block=block,
                            stop="max" if rule == "max_residual" else "trace", diagonal=diag, progress=progress)
    residual = {"max_diag": float(max(chol.residual_max[-1], 0.0)),
                "trace": float(max(chol.residual_trace[-1], 0.0))}
    return chol.vectors, np.sum(chol.vectors**2, axis=1), residual


def _first_level_eigh(flat, diag, n, rule, tol, cap, progress):
    from physfact.lowrank.truncation import Truncation, choose_rank

    # Gram matrix on the symmetric pairs p >= q (weight sqrt 2 off the diagonal): B B^T at half the flops
    p_idx, q_idx = np.tril_indices(n)
    scale = np.where(p_idx == q_idx, 1.0, np.sqrt(2.0))
    half = flat[:, p_idx * n + q_idx] * scale
    G = half @ half.T
    del half
    s, W = np.linalg.eigh(G)
    s, W = s[::-1], W[:, ::-1]
    smax = max(float(s[0]), 1e-300) if s.size else 1e-300
    if s.size and s[-1] < -1e-8 * smax:
        raise InputError(f"the three-index Gram matrix B B^T has a negative eigenvalue {s[-1]:.3e}: not real factors")
    keep = int(np.count_nonzero(s > flat.shape[1] * np.finfo(float).eps * smax))
    s, W = s[:keep], W[:, :keep]
    kmax = keep if cap is None else min(cap, keep)
    if rule == "trace":
        tail = np.append(np.cumsum(s[::-1])[::-1], 0.0)
        k = keep if tol is None else int(np.argmax(tail <= tol)) if np.any(tail <= tol) else keep
        k = min(k, kmax)
    elif rule == "frobenius":
        k = keep if tol is None else min(choose_rank(s, Truncation(atol=tol)), kmax)
    else:
        k = kmax
    order = np.arange(keep)
    if rule == "weight":  # weights (sum_pq |L_pq|)^2 need every leaf: one pass, leaves not kept
        weights = np.concatenate([np.sum(np.abs(W[:, i:i + CHUNK].T @ flat), axis=1) ** 2
                                  for i in range(0, keep, CHUNK)]) if keep else np.zeros(0)
        order = np.argsort(-weights, kind="stable")
        tail = np.append(np.cumsum(weights[order][::-1])[::-1], 0.0)
        k = keep if tol is None else int(np.argmax(tail <= tol))
        k = min(k, kmax)
    leaves = np.empty((kmax if rule == "max_residual" else k, flat.shape[1]))
    d = diag.copy()
    bar = _progress_bar(progress, leaves.shape[0], "first level (eigh)")
    done = 0
    for i in range(0, leaves.shape[0], CHUNK):
        cols = order[i:min(i + CHUNK, len(leaves))]
        leaves[i:i + len(cols)] = W[:, cols].T @ flat
        if rule == "max_residual" and tol is not None:
            for j in range(len(cols)):  # the first k with max residual diagonal <= tol
                if d.max() <= tol:
                    break
                d -= leaves[i + j] ** 2
                done += 1
            else:
                if bar is not None:
                    bar.update(len(cols))
                continue
            break
        else:
            d -= np.sum(leaves[i:i + len(cols)] ** 2, axis=0)
            done += len(cols)
        if bar is not None:
            bar.update(len(cols))
    if rule == "max_residual":
        k = done
    leaves = leaves[:k]
    residual = {"max_diag": float(max(d.max(initial=0.0), 0.0)), "trace": float(max(d.sum(), 0.0)),
                "frobenius": float(np.sqrt(np.sum(s[order[k:]] ** 2)))}
    return leaves, s[order[:k]].copy(), residual


def double_factorize_three_index(ham, tol=None, rank=None, target_error=None, method="auto",
                                 first_level="max_residual", leaf_tol=None, energy_method="auto", block=16,
                                 progress=None) -> ThreeIndexDoubleFactorization:
    """Double factorization of a ThreeIndexHamiltonian (arguments as :func:`double_factorize`, validated there)."""
    from physfact.chem.double_factorization import AUTO_EIGH_MAX_ORBITALS

    n = ham.n_orbitals
    flat = ham.three_index.reshape(ham.n_aux, n * n)
    diag = np.einsum("Qi,Qi->i", flat, flat)
    if method == "auto":
        method = "eigh" if n <= AUTO_EIGH_MAX_ORBITALS else "cholesky"
    if method == "eigh":
        leaves, values, residual = _first_level_eigh(flat, diag, n, first_level, tol, rank, progress)
    else:
        leaves, values, residual = _first_level_cholesky(flat, diag, first_level, tol, rank, block, progress)
    rule = f"{method}: {first_level} <= {tol:g}" if tol is not None else f"{method}: full (numerical rank)"
    if rank is not None:
        rule += f", rank <= {rank}"
    rule += f" (three-index ERI, {ham.eri_method})"

    # second level, a chunk of leaves at a time; the rotations overwrite the leaves (no third array)
    leaves = leaves.reshape(-1, n, n)
    lam = np.zeros((len(leaves), n))
    stop = len(leaves)
    bar = _progress_bar(progress, len(leaves), "leaves (eigh)")
    for i in range(0, len(leaves), CHUNK):
        chunk = leaves[i:i + CHUNK]
        chunk += chunk.transpose(0, 2, 1).copy()
        chunk *= 0.5
        w, U = np.linalg.eigh(chunk)
        order = np.argsort(-np.abs(w), axis=1, kind="stable")
        lam[i:i + len(chunk)] = np.take_along_axis(w, order, axis=1)
        chunk[...] = np.take_along_axis(U, order[:, None, :], axis=2)
        if bar is not None:
            bar.update(len(chunk))
        if leaf_tol is not None:
            a = np.abs(lam[i:i + len(chunk)])
            alive = (a * a.sum(axis=1, keepdims=True) > leaf_tol).any(axis=1)
            if not alive.all():
                stop = i + int(np.argmin(alive))
                break
    U, lam, values = leaves[:stop], lam[:stop], np.asarray(values[:stop], dtype=float)
    if leaf_tol is not None:
        lam = np.where(np.abs(lam) * np.sum(np.abs(lam), axis=1, keepdims=True) > leaf_tol, lam, 0.0)
        rule += f"; second level: |lambda| sum|lambda| > {leaf_tol:g} (von Burg)"
    df = ThreeIndexDoubleFactorization(
        constant=float(ham.constant), one_body_correction=ham.one_body - 0.5 * ham.exchange(),
        eigenvalues=np.ascontiguousarray(lam), orbital_rotations=U, one_body=np.array(ham.one_body, dtype=float),
        first_level_values=values, first_level_residual=residual, method=method, rule=rule,
        n_electrons=ham.n_electrons, spin=ham.spin, exact_two_body=None, hamiltonian=ham)
    if leaf_tol is not None:
        d = df._residual_diagonal(df.n_leaves)
        df = dataclasses.replace(df, first_level_residual={"max_diag": float(max(d.max(), 0.0)),
                                                           "trace": float(max(d.sum(), 0.0))})
    if target_error is not None:
        from physfact.chem.energies import fewest_leaves_for_energy

        df = fewest_leaves_for_energy(df, target_error, method=energy_method, progress=progress)
    return df
