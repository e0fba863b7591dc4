"""Measurement groups of a double-factorized Hamiltonian (Huggins et al., npj Quantum Inf. 7 (2021) 23).

H = E_0 + sum_pq T_pq E_pq + 1/2 sum_l (sum_i lambda_{l,i} n^{(l)}_i)^2 splits into L + 1 groups,
each diagonal in one orbital basis, so each is measured after one orbital rotation:

* group 0: T = W diag(t) W^T, measured as sum_i t_i n_i in the orbitals W (columns);
* group l >= 1: 1/2 sum_ij lambda_{l,i} lambda_{l,j} n_i n_j in the orbitals U_l,

with n_i = n_{i alpha} + n_{i beta} the number operator of rotated orbital i,
n_i = sum_pq R[p, i] R[q, i] E_pq for rotation R. Each rotation is also given as parallel layers of
nearest-neighbour Givens rotations for Q = R^T (rows of Q = new orbitals in the old basis), depth
<= 2N - 3 (linear; cf. Kivlichan et al., PRL 120 (2018) 110501), in OpenFermion's angle convention.

For comparison, :func:`pauli_groups` counts the Jordan-Wigner Pauli strings of the same
Hamiltonian and groups them greedily into qubit-wise-commuting sets.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from physfact.errors import InputError


@dataclass(frozen=True, eq=False)
class MeasurementGroup:
    """One group: an orbital rotation and the diagonal coefficients measured after it.

    Attributes
    ----------
    index : int
        0 for the one-body group, l for leaf l (1-based).
    rotation : ndarray (N, N)
        Real orthogonal R; rotated orbital i = sum_p R[p, i] phi_p.
    number_coefficients : ndarray (N,)
        Coefficients c_i of n_i (spin-summed), Hartree.
    pair_coefficients : ndarray (N, N)
        Coefficients d_ij of n_i n_j (spin-summed), Hartree; group operator sum c_i n_i + sum d_ij n_i n_j.
    givens : tuple
        Layers of parallel nearest-neighbour Givens rotations (i, j, theta, phi), applied in order,
        with Q = diag(givens_phases) G_m .. G_1 and Q = R^T (OpenFermion's angle convention).
    givens_phases : ndarray (N,)
        The diagonal D (entries +-1 for a real rotation).
    """

    index: int
    rotation: np.ndarray = field(repr=False)
    number_coefficients: np.ndarray = field(repr=False)
    pair_coefficients: np.ndarray = field(repr=False)
    givens: tuple = field(repr=False)
    givens_phases: np.ndarray = field(repr=False)

    def __repr__(self):
        kind = "one-body" if self.index == 0 else "square"
        n_rot = sum(len(layer) for layer in self.givens)
        return (f"MeasurementGroup(index={self.index}, {kind}, n_orbitals={self.rotation.shape[0]}, "
                f"givens={n_rot} in {len(self.givens)} layers)")

    def to_openfermion(self):
        """The group's operator as an openfermion.FermionOperator over spin orbitals 2p + sigma."""
        from openfermion import FermionOperator, normal_ordered

        R = self.rotation
        n = R.shape[0]

        def number_op(i):
            op = FermionOperator()
            for p in range(n):
                for q in range(n):
                    c = R[p, i] * R[q, i]
                    if c != 0.0:
                        for s in range(2):
                            op += FermionOperator(((2 * p + s, 1), (2 * q + s, 0)), c)
            return op

        nums = [number_op(i) for i in range(n)]
        total = FermionOperator()
        for i in range(n):
            if self.number_coefficients[i] != 0.0:
                total += self.number_coefficients[i] * nums[i]
        for i in range(n):
            for j in range(n):
                if self.pair_coefficients[i, j] != 0.0:
                    total += self.pair_coefficients[i, j] * nums[i] * nums[j]
        return normal_ordered(total)


def givens_layers(rotation: np.ndarray):
    """(layers, phases) with Q = rotation^T = diag(phases) G_m ... G_1, nearest-neighbour Givens.

    Each G acts on coordinates (j, j + 1) as [[cos t, -e^{i phi} sin t], [sin t, e^{i phi} cos t]]
    (OpenFermion's convention; phi = 0 for real rotations). Found by zeroing Q row by row from the
    bottom with column rotations (Q G_1^T G_2^T ... = D); N(N-1)/2 rotations, scheduled greedily
    into parallel layers of disjoint pairs: depth <= 2N - 3 (linear).
    """
    Q = np.array(rotation, dtype=float).T
    n = Q.shape[0]
    rotations = []
    for i in range(n - 1, 0, -1):
        for j in range(i):
            a, b = Q[i, j], Q[i, j + 1]
            theta = float(np.arctan2(a, b))  # zero Q[i, j] into column j + 1
            c, s = np.cos(theta), np.sin(theta)
            cj, cj1 = Q[:, j].copy(), Q[:, j + 1].copy()
            Q[:, j], Q[:, j + 1] = c * cj - s * cj1, s * cj + c * cj1
            rotations.append((j, j + 1, theta, 0.0))
    phases = np.sign(np.diagonal(Q)).astype(float)
    phases[phases == 0] = 1.0
    last = np.zeros(n, dtype=int)  # last layer that touched each coordinate
    layers: list[list] = []
    for rot in rotations:
        j, k = rot[0], rot[1]
        layer = max(last[j], last[k])
        if layer == len(layers):
            layers.append([])
        layers[layer].append(rot)
        last[j] = last[k] = layer + 1
    return tuple(tuple(layer) for layer in layers), phases


def givens_to_matrix(layers, phases) -> np.ndarray:
    """Rebuild Q = diag(phases) G_k ... G_1 from Givens layers (the inverse of :func:`givens_layers`)."""
    n = len(phases)
    U = np.eye(n, dtype=complex)
    for layer in layers:
        for i, j, theta, phi in layer:
            G = np.eye(n, dtype=complex)
            c, s = np.cos(theta), np.sin(theta)
            G[i, i], G[i, j] = c, -np.exp(1j * phi) * s
            G[j, i], G[j, j] = s, np.exp(1j * phi) * c
            U = G @ U
    return np.diag(phases) @ U


def measurement_groups(df) -> list[MeasurementGroup]:
    """The L + 1 groups of a :class:`~physfact.chem.DoubleFactorization` (module docstring).

    The one-body group is the exact T = h - 1/2 sum_r (pr|rq) (convention B), so
    E_0 + sum of the groups is the convention-B Hamiltonian.
    """
    from physfact.chem.double_factorization import DoubleFactorization

    if not isinstance(df, DoubleFactorization):
        raise InputError(f"measurement_groups needs a DoubleFactorization (from double_factorize), got "
                         f"{type(df).__name__}")
    t, W = np.linalg.eigh(df.one_body_correction)
    n = df.n_orbitals
    out = []
    layers, phases = givens_layers(W)
    out.append(MeasurementGroup(0, W, t, np.zeros((n, n)), layers, phases))
    for l in range(df.n_leaves):
        U = df.orbital_rotations[l]
        lam = df.eigenvalues[l]
        layers, phases = givens_layers(U)
        out.append(MeasurementGroup(l + 1, U, np.zeros(n), 0.5 * np.outer(lam, lam), layers, phases))
    return out


@dataclass(frozen=True, eq=False)
class PauliGrouping:
    """Jordan-Wigner Pauli strings of a Hamiltonian and a greedy qubit-wise-commuting grouping.

    Attributes
    ----------
    n_qubits, n_terms : int
        Qubits (2N) and non-identity Pauli strings with |coefficient| > ``cutoff``.
    n_groups : int
        Greedy QWC groups (strings sorted by |coefficient| rounded to 1e-10, ties by the string; each
        put in the first compatible group).
    one_norm : float
        Sum of |coefficients| of the non-identity strings (Hartree).
    """

    n_qubits: int
    n_terms: int
    n_groups: int
    one_norm: float
    groups: list = field(repr=False, default_factory=list)


def qwc_groups(terms) -> list[list[int]]:
    """Greedy qubit-wise-commuting grouping.

    ``terms`` is a list of Pauli strings as tuples ((qubit, 'X'|'Y'|'Z'), ...), already in the
    order of priority (largest |coefficient| first). Two strings commute qubit-wise when on every
    qubit they act by the same Pauli or one acts by the identity. Returns lists of term indices.
    """
    if not terms:
        return []
    n_qubits = 1 + max((q for term in terms for q, _ in term), default=0)
    code = {"X": 1, "Y": 2, "Z": 3}
    table = np.zeros((0, n_qubits), dtype=np.int8)  # per group: the Pauli fixed on each qubit (0: free)
    members: list[list[int]] = []
    for k, term in enumerate(terms):
        qs = np.array([q for q, _ in term], dtype=int)
        ps = np.array([code[p] for _, p in term], dtype=np.int8)
        if table.shape[0]:
            sub = table[:, qs]
            ok = np.all((sub == 0) | (sub == ps), axis=1)
            hit = np.flatnonzero(ok)
        else:
            hit = np.array([], dtype=int)
        if hit.size:
            g = int(hit[0])
            table[g, qs] = ps
            members[g].append(k)
        else:
            row = np.zeros((1, n_qubits), dtype=np.int8)
            row[0, qs] = ps
            table = np.vstack([table, row])
            members.append([k])
    return members


def pauli_groups(hamiltonian, cutoff: float = 1e-12) -> PauliGrouping:
    """Jordan-Wigner Pauli count and greedy QWC groups of a MolecularHamiltonian (via OpenFermion)."""
    from openfermion import jordan_wigner

    from physfact.chem.hamiltonian import MolecularHamiltonian
    from physfact.validation import check_positive

    if not isinstance(hamiltonian, MolecularHamiltonian):
        raise InputError(f"pauli_groups needs a MolecularHamiltonian, got {type(hamiltonian).__name__}")
    cutoff = check_positive(cutoff, "cutoff", allow_zero=True, allow_none=False)
    qubit_op = jordan_wigner(hamiltonian.to_openfermion())
    items = [(term, complex(c)) for term, c in qubit_op.terms.items() if term and abs(c) > cutoff]
    # |coefficient| rounded to 1e-10 Ha, then the string itself: symmetry-equal coefficients tie
    # exactly, and rounding noise must not decide the grouping (deterministic counts)
    items.sort(key=lambda tc: (-round(abs(tc[1]), 10), tc[0]))
    terms = [t for t, _ in items]
    groups = qwc_groups(terms)
    return PauliGrouping(2 * hamiltonian.n_orbitals, len(terms), len(groups),
                         float(sum(abs(c) for _, c in items)), groups)
