r"""DF lambda and the qubitization cost (Toffolis, logical qubits) of the double-factorized Hamiltonian.

The algorithm costed here is the double-factorization (DF) block encoding of von Burg et al.,
"Quantum computing enhanced computational catalysis", Phys. Rev. Research 3, 033055 (2021), in
the improved form and with the step-by-step Toffoli and qubit counts of Lee et al., "Even more
efficient quantum computations of chemistry through tensor hypercontraction", PRX Quantum 2,
030305 (2021), Appendix C ("double factorization"; the Toffoli list of steps 1-10 and the qubit
list that follows it). The numbers agree with OpenFermion's ``resource_estimates.df`` (which
implements the same appendix) on the Reiher FeMoco integrals: L = 360, Xi = 13 031, lambda = 294.8,
21 753 Toffolis per step, 1.0073e10 Toffolis, 3 725 logical qubits (dE = 1 mHa, aleph = 10,
beth = 16). Unlike OpenFermion this module never exits the interpreter: small systems, where the
amount of data is below the output size of a QROM, are costed with the plain QROM (k = 0) that is
optimal there.

Notation (Lee et al.)
---------------------
N        number of spin orbitals (twice the spatial orbitals ``n``)
L        number of leaves (first-level rank) of the factorization
Xi       total number of second-level eigenvectors kept, :math:`\Xi = \sum_l \Xi^{(l)}`
aleph    bits for the state-preparation coefficients (``chi`` in OpenFermion), aleph_1 = aleph_2
beth     bits for the Givens-rotation angles (``beta`` in OpenFermion)
dE       allowed error of phase estimation (Hartree)

Lambda
------
With the sum-of-squares Hamiltonian :math:`H = \sum_{pq} T_{pq} \sum_\sigma (a^\dagger_{p\sigma}
a_{q\sigma}) + \tfrac12\sum_l (\sum_{pq\sigma} L^{(l)}_{pq} a^\dagger_{p\sigma} a_{q\sigma})^2` written
in the symmetric (n - 1/2) form used by the block encoding,

.. math::
    T_{pq} = h_{pq} - \tfrac12 \sum_r (pr|rq) + \sum_r (rr|pq), \qquad
    \lambda_{DF} = \sum_k |t_k| + \tfrac14 \sum_l \Big(\sum_i |\lambda^{(l)}_i|\Big)^2,

where :math:`t_k` are the eigenvalues of T and :math:`\lambda^{(l)}_i` the kept eigenvalues of leaf
l, :math:`L^{(l)} = U_l\,\mathrm{diag}(\lambda^{(l)})\,U_l^T` (von Burg et al. 2021, Sec. II and
App. A; Lee et al. 2021, App. C). T uses the exact ERI, the squares the truncated leaves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from physfact.errors import InputError
from physfact.validation import as_array, check_int, check_positive

__all__ = [
    "DFLambda", "DFCost", "df_lambda", "df_lambda_from_arrays", "df_lambda_from_integrals",
    "df_cost", "df_qubitization_cost", "qrom_cost", "qrom_uncompute_cost", "sos_one_body",
]

#: Bits of the rotation that prepares the ancilla for the second (inner) state preparation:
#: a fixed typical value in Lee et al. (and OpenFermion); it enters the QROM output size b_o.
ROTATION_BITS_SECOND = 7
#: Steps assumed when choosing the rotation precision of the first preparation before the
#: step cost is known (the same first guess as OpenFermion's costing table).
INITIAL_STEP_GUESS = 20000


# ----------------------------------------------------------------------------------------------
# lambda
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DFLambda:
    """The 1-norm of the DF block encoding, split into its one- and two-body parts (Hartree).

    Attributes
    ----------
    lambda_ : float
        ``one_body + two_body``.
    one_body : float
        :math:`\\sum_k |t_k|` over the eigenvalues of T (see the module docstring).
    two_body : float
        :math:`\\frac14 \\sum_l (\\sum_i |\\lambda^{(l)}_i|)^2`.
    n_leaves, n_eigenvectors : int
        L and Xi of the factorization the lambda belongs to.
    """

    lambda_: float
    one_body: float
    two_body: float
    n_leaves: int
    n_eigenvectors: int

    def __float__(self):
        return float(self.lambda_)

    def __repr__(self):
        return (f"DFLambda(lambda_={self.lambda_:.6g}, one_body={self.one_body:.6g}, "
                f"two_body={self.two_body:.6g}, n_leaves={self.n_leaves}, "
                f"n_eigenvectors={self.n_eigenvectors})")


def _leaf_eigenvalues(eigenvalues) -> list[np.ndarray]:
    if isinstance(eigenvalues, np.ndarray) and eigenvalues.ndim == 2:
        leaves = list(eigenvalues)
    else:
        try:
            leaves = [np.asarray(e, dtype=float).ravel() for e in eigenvalues]
        except (TypeError, ValueError) as exc:
            raise InputError(f"eigenvalues must be a sequence of 1-D arrays (one per leaf): {exc}") from None
    for l, e in enumerate(leaves):
        if not np.all(np.isfinite(e)):
            raise InputError(f"eigenvalues of leaf {l} are not finite; check the factorization")
    return leaves


def df_lambda_from_arrays(one_body_sos, eigenvalues) -> DFLambda:
    """Lambda from the symmetric one-body matrix T and the kept leaf eigenvalues.

    Parameters
    ----------
    one_body_sos : (n, n) array
        :math:`T_{pq} = h_{pq} - \\frac12\\sum_r (pr|rq) + \\sum_r (rr|pq)` in Hartree, spatial orbitals.
    eigenvalues : sequence of 1-D arrays
        :math:`\\lambda^{(l)}` for each leaf l (only the kept ones; zeros are harmless).

    Returns
    -------
    DFLambda
        ``lambda_ = sum |eig(T)| + 1/4 sum_l (sum_i |lambda_i^(l)|)^2``.
    """
    T = as_array(one_body_sos, "one_body_sos", ndim=2)
    if T.shape[0] != T.shape[1]:
        raise InputError(f"one_body_sos must be square (n x n), got shape {T.shape}")
    leaves = _leaf_eigenvalues(eigenvalues)
    # T is symmetric for real orbitals; symmetrise against round-off before eigvalsh.
    t = np.linalg.eigvalsh(0.5 * (T + T.T))
    one = float(np.sum(np.abs(t)))
    two = float(sum(0.25 * np.sum(np.abs(e)) ** 2 for e in leaves))
    n_vec = int(sum(np.count_nonzero(e) for e in leaves))
    n_leaves = sum(1 for e in leaves if np.count_nonzero(e))
    return DFLambda(one + two, one, two, n_leaves, n_vec)


def _check_two_body(two_body, n=None) -> np.ndarray:
    eri = as_array(two_body, "two_body", ndim=4)
    m = eri.shape[0]
    if eri.shape != (m, m, m, m) or (n is not None and m != n):
        raise InputError(f"two_body must have shape (n, n, n, n) with n = {n or m} orbitals (chemist order "
                         f"(pq|rs)), got {eri.shape}")
    return eri


def sos_one_body(one_body, two_body) -> np.ndarray:
    """:math:`T_{pq} = h_{pq} - \\frac12\\sum_r (pr|rq) + \\sum_r (rr|pq)` (chemist order, Hartree)."""
    h = as_array(one_body, "one_body", ndim=2)
    n = h.shape[0]
    if h.shape != (n, n):
        raise InputError(f"one_body must be square (n x n), got shape {h.shape}")
    eri = _check_two_body(two_body, n)
    return h - 0.5 * np.einsum("prrq->pq", eri) + np.einsum("rrpq->pq", eri)


def df_lambda_from_integrals(one_body, two_body, eigenvalues) -> DFLambda:
    """Lambda from the exact integrals h, (pq|rs) and the kept leaf eigenvalues.

    This is the quantity OpenFermion's ``resource_estimates.df.compute_lambda`` reports
    (T from the exact ERI, the squares from the truncated leaves).
    """
    return df_lambda_from_arrays(sos_one_body(one_body, two_body), eigenvalues)


def _exact_integrals(df):
    """(h, eri) of the Hamiltonian the factorization came from, or (None, None)."""
    ham = getattr(df, "hamiltonian", None)
    if ham is not None and getattr(ham, "two_body", None) is not None:
        return np.asarray(ham.one_body), np.asarray(ham.two_body)
    eri = getattr(df, "exact_two_body", None)
    h = getattr(df, "one_body", None)
    if eri is not None and h is not None:
        return np.asarray(h), np.asarray(eri)
    return None, None


def df_lambda(df, one_body=None, two_body=None) -> DFLambda:
    """Lambda of a :class:`~physfact.chem.DoubleFactorization` (von Burg et al. 2021; Lee et al. 2021).

    Parameters
    ----------
    df : DoubleFactorization
        Supplies ``eigenvalues`` and ``orbital_rotations`` (the kept leaves) and
        ``one_body_correction`` = h - 1/2 sum_r (pr|rq).
    one_body, two_body : arrays, optional
        The exact h and (pq|rs). Default: those of the Hamiltonian the factorization was built
        from, when it keeps them. The term :math:`\\sum_r (rr|pq)` of T then uses the exact ERI
        (as OpenFermion does); without the exact ERI it is rebuilt from the leaves,
        :math:`\\sum_l \\mathrm{tr}(L^{(l)}) L^{(l)}_{pq}`, which differs by the truncation error.
    """
    if one_body is None or two_body is None:
        h_exact, eri_exact = _exact_integrals(df)
        one_body = h_exact if one_body is None else one_body
        two_body = eri_exact if two_body is None else two_body
    if one_body is not None and two_body is not None:
        return df_lambda_from_integrals(one_body, two_body, df.eigenvalues)
    corr = as_array(df.one_body_correction, "df.one_body_correction", ndim=2)
    coulomb = np.zeros_like(corr)
    for lam, U in zip(df.eigenvalues, df.orbital_rotations):
        lam = np.asarray(lam, dtype=float)
        U = np.asarray(U, dtype=float)
        leaf = (U * lam) @ U.T
        coulomb += np.sum(lam) * leaf
    return df_lambda_from_arrays(corr + coulomb, df.eigenvalues)


# ----------------------------------------------------------------------------------------------
# QROM costs (Berry et al., Quantum 3, 208 (2019), "Qubitization of arbitrary basis quantum
# chemistry leveraging sparsity and low rank factorization", Appendix; Low, Kliuchnikov, Schaeffer,
# arXiv:1812.00954)
# ----------------------------------------------------------------------------------------------
def _best_power(cost, k_real: float) -> tuple[int, int]:
    """Minimise the convex cost(k) over integers k >= 0 given its real minimiser k_real.

    Returns (k, ceil(cost(k))); ties go to the smaller k (fewer ancillae).
    """
    lo = max(0, math.floor(k_real))
    hi = max(0, math.ceil(k_real))
    k = lo if cost(lo) <= cost(hi) else hi
    return k, math.ceil(cost(k))


def qrom_cost(n_items: int, output_bits: int) -> tuple[int, int]:
    """Toffolis of an advanced QROM (QROAM) outputting ``output_bits`` bits for ``n_items`` items.

    Cost :math:`\\lceil d/2^k + M (2^k - 1)\\rceil` with the integer k >= 0 nearest the minimiser
    :math:`k^* = \\frac12\\log_2(d/M)`. When d < M (small systems) the optimum is k = 0, the plain
    QROM of cost d (OpenFermion exits here instead).

    Returns
    -------
    (k, toffolis)
    """
    d = check_int(n_items, "n_items", minimum=1, allow_none=False)
    m = check_int(output_bits, "output_bits", minimum=1, allow_none=False)
    return _best_power(lambda k: d / 2.0 ** k + m * (2.0 ** k - 1), 0.5 * math.log2(d / m))


def qrom_uncompute_cost(n_items: int) -> tuple[int, int]:
    """Toffolis of erasing a QROM output by measurement and phase fix-up: ceil(d/2^k + 2^k)."""
    d = check_int(n_items, "n_items", minimum=1, allow_none=False)
    return _best_power(lambda k: d / 2.0 ** k + 2.0 ** k, 0.5 * math.log2(d))


def _power_of_two_factor(m: int) -> int:
    """eta with 2^eta the largest power of two dividing m (m >= 1)."""
    return (m & -m).bit_length() - 1


def _rotation_bits_first(n_leaves: int, steps: float, openfermion_rule: bool) -> int:
    """Bits b_r of the ancilla rotation that makes the equal superposition over L+1 leaves exact.

    An equal superposition over d = (L+1)/2^eta items (d odd) is prepared in k = ceil(log2 d)
    qubits and flagged by an inequality test; success amplitude sqrt(d/2^k). An ancilla rotated by
    phi with cos(phi) = 1/(2 sqrt(d/2^k)) brings the amplitude to 1/2, so one round of amplitude
    amplification succeeds exactly. With phi rounded to b bits the failure probability is
    1/sin^2(3 arcsin(a_b)) - 1; b is chosen to minimise ``steps`` x failure + 4 b (each extra bit
    costs ~4 Toffolis per step: two rotations, forwards and backwards).

    ``openfermion_rule`` uses the amplitude sqrt(d)/2^nL of OpenFermion's compute_cost (an arccos
    argument above 1, continued to complex values); it gives the same b for FeMoco (L = 360) and
    is kept only to reproduce OpenFermion's numbers bit for bit.
    """
    from numpy.lib import scimath  # complex continuation, for the OpenFermion rule

    eta = _power_of_two_factor(n_leaves + 1)
    d = (n_leaves + 1) >> eta
    if openfermion_rule:
        n_l = math.ceil(math.log2(n_leaves + 1))
        amp = math.sqrt(d) / 2.0 ** n_l
    else:
        if d == 1:  # L+1 a power of two: Hadamards alone are exact, no rotation is needed
            return 0
        amp = math.sqrt(d / 2.0 ** math.ceil(math.log2(d)))
    best_b, best_cost = 1, np.inf
    for b in range(1, 21):
        angle = np.round(2.0 ** b / (2 * np.pi) * scimath.arccos(1.0 / (2.0 * amp)))
        a_b = np.cos(angle * 2 * np.pi / 2.0 ** b) * amp
        fail = 1.0 / np.sin(3 * scimath.arcsin(a_b)) ** 2 - 1.0
        total = float(np.real(steps * fail + 4 * b))
        if total < best_cost:
            best_b, best_cost = b, total
    return best_b


# ----------------------------------------------------------------------------------------------
# Toffoli and qubit counts
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DFCost:
    """Fault-tolerant cost of qubitized phase estimation with the DF block encoding.

    Attributes
    ----------
    toffolis : int
        Total Toffoli gates, ``toffolis_per_step * iterations``.
    toffolis_per_step : int
        Toffolis of one step of the quantum walk (one call of the block encoding and reflection).
    iterations : int
        Walk steps, :math:`\\lceil \\pi\\lambda / (2\\,dE) \\rceil`.
    logical_qubits : int
        Logical qubits (system + ancillae, Lee et al. App. C qubit list).
    lambda_ : float
        The 1-norm used (Hartree).
    n_spin_orbitals, n_leaves, n_eigenvectors : int
        N, L and Xi.
    dE : float
        Phase-estimation error (Hartree).
    aleph, beth : int
        Bits for the state-preparation coefficients and the rotation angles.
    rotation_bits : int
        b_r chosen for the first state preparation (0 when L+1 is a power of two and no
        rotation is needed).
    breakdown : dict
        Toffolis per step of each stage (keys "1a" ... "10", Lee et al. App. C numbering).
    """

    toffolis: int
    toffolis_per_step: int
    iterations: int
    logical_qubits: int
    lambda_: float
    n_spin_orbitals: int
    n_leaves: int
    n_eigenvectors: int
    dE: float
    aleph: int
    beth: int
    rotation_bits: int
    breakdown: dict = field(repr=False, compare=False, hash=False)

    def __repr__(self):
        return (f"DFCost(toffolis={self.toffolis:.4e}, logical_qubits={self.logical_qubits}, "
                f"toffolis_per_step={self.toffolis_per_step}, iterations={self.iterations}, "
                f"lambda_={self.lambda_:.6g}, N={self.n_spin_orbitals}, L={self.n_leaves}, "
                f"Xi={self.n_eigenvectors}, dE={self.dE:g}, aleph={self.aleph}, beth={self.beth})")


def _step_and_qubits(N, lam, dE, L, Xi, aleph, beth, steps, openfermion_rule):
    n = N // 2                                   # spatial orbitals
    n_xi = math.ceil(math.log2(n)) if n > 1 else 0
    n_lxi = math.ceil(math.log2(Xi + n))
    n_l = math.ceil(math.log2(L + 1))
    eta = _power_of_two_factor(L + 1)
    b_r = _rotation_bits_first(L, steps, openfermion_rule)
    b_r2 = ROTATION_BITS_SECOND

    QR = lambda d, m: qrom_cost(d, m)[1]        # noqa: E731
    QI = lambda d: qrom_uncompute_cost(d)[1]     # noqa: E731
    c = {}
    # 1: outer state preparation over the L+1 terms (L leaves + the one-body term) and inverse
    if b_r == 0:   # L+1 = 2^nL: Hadamards, no Toffolis (the general count would go negative)
        c["1a"] = 0
    else:
        c["1a"] = 2 * (3 * n_l - 3 * eta + 2 * b_r - 9)  # equal superposition, and its inverse
    c["1b"] = QR(L + 1, n_l + aleph) + QI(L + 1)          # coherent alias sampling QROM (Eq. C27)
    c["1cd"] = 2 * (aleph + n_l)                          # inequality test + controlled swap
    # 2: QROM for the data (offset, count, rotation) of the inner equal superposition (Eq. C29)
    b_o = n_xi + n_lxi + b_r2 + 1
    c["2"] = QR(L + 1, b_o) + QI(L + 1)
    # 3: inner state preparation over the eigenvectors of the selected leaf, done four times
    b_p2 = n_xi + aleph + 2
    c["3a"] = 4 * (7 * n_xi + 2 * b_r2 - 6)
    c["3b"] = 4 * (n_lxi - 1)
    c["3c"] = QR(Xi + n, b_p2) + QI(Xi + n) + QR(Xi, b_p2) + QI(Xi)   # + n: one-body eigenvectors
    c["3d"] = 4 * (n_xi + aleph)
    # 4: Givens rotations of the selected eigenvector, loaded by QROM, applied and undone
    c["4ah"] = 4 * (n_lxi - 1)
    c["4bg"] = QR(Xi + n, n * beth) + QI(Xi + n) + QR(Xi, n * beth) + QI(Xi)
    c["4cf"] = 2 * N                                      # spin-controlled swaps
    c["4df"] = 4 * N * (beth - 2)                         # the rotations themselves
    c["4e"] = 3                                           # controlled Z in the middle
    c["6"] = n_xi + aleph + 2                             # reflection on the second register
    c["9"] = n_l + n_xi + aleph + 1                       # reflection of the walk step
    c["10"] = 2                                           # unary iteration / control qubits
    step = int(sum(c.values()))

    iterations = math.ceil(math.pi * lam / (2.0 * dE))
    k_rot = qrom_cost(Xi + n, n * beth)[0]
    qubits = (
        2 * math.ceil(math.log2(iterations + 1)) - 1     # phase-estimation control register
        + N                                             # system
        + n_l + 2                                       # first register, rotated qubit, flag
        + n_l + 2 * aleph + 1                           # QROM output, equal superposition, flag
        + b_o                                           # data for the inner equal superposition
        + n_xi + 2                                      # second register, rotated qubit, flag
        + b_p2                                          # inner QROM output
        + aleph + 1                                     # equal superposition + inequality result
        + 2 ** k_rot * n * beth                         # rotation angles (QROAM copies)
        + beth                                          # phase-gradient state
        + 1 + 1                                         # spin control qubit, T state
    )
    return step, iterations, qubits, b_r, c


def df_qubitization_cost(n_orbitals: int, lambda_: float, n_leaves: int, n_eigenvectors: int,
                         dE: float = 0.001, aleph: int = 10, beth: int = 20, steps: int | None = None,
                         openfermion_rotation_rule: bool = False) -> DFCost:
    """Toffolis and logical qubits of DF qubitization (Lee et al. 2021, App. C) from plain numbers.

    Parameters
    ----------
    n_orbitals : int
        Spatial orbitals n (N = 2n spin orbitals).
    lambda_ : float
        1-norm of the block encoding (Hartree), e.g. from :func:`df_lambda`.
    n_leaves : int
        L, the number of leaves (first-level rank).
    n_eigenvectors : int
        Xi, the total number of kept second-level eigenvectors.
    dE : float
        Allowed phase-estimation error in Hartree (1 mHa as in Lee et al.'s tables).
    aleph : int
        Bits for the state-preparation coefficients (OpenFermion ``chi``).
    beth : int
        Bits for the rotation angles (OpenFermion ``beta``; Lee et al. use 16 for FeMoco).
    steps : int, optional
        Step count used to choose the rotation precision of the first state preparation. Default:
        first 20 000, then the step cost that gives, as in Lee et al.'s costing (two passes).
    openfermion_rotation_rule : bool
        Choose that rotation precision as OpenFermion's compute_cost does (see
        ``_rotation_bits_first``). The default rule differs from OpenFermion's by up to ~1.3 % of the
        Toffolis per step (up to 24 Toffolis; H2 ... CH4/sto-3g at tol 1e-2 ... 1e-4), not "a few".

    Returns
    -------
    DFCost
    """
    n = check_int(n_orbitals, "n_orbitals", minimum=1, allow_none=False)
    lam = check_positive(lambda_, "lambda_", allow_none=False)
    L = check_int(n_leaves, "n_leaves", minimum=1, allow_none=False)
    Xi = check_int(n_eigenvectors, "n_eigenvectors", minimum=1, allow_none=False)
    dE = check_positive(dE, "dE", allow_none=False)
    aleph = check_int(aleph, "aleph", minimum=1, allow_none=False)
    beth = check_int(beth, "beth", minimum=3, allow_none=False)
    if Xi < L:
        raise InputError(f"n_eigenvectors ({Xi}) cannot be smaller than n_leaves ({L}): each leaf keeps "
                         "at least one eigenvector")
    if Xi > L * n:
        raise InputError(f"n_eigenvectors ({Xi}) exceeds n_leaves x n_orbitals ({L * n})")
    N = 2 * n
    if steps is None:
        first = _step_and_qubits(N, lam, dE, L, Xi, aleph, beth, INITIAL_STEP_GUESS, openfermion_rotation_rule)
        steps = first[0]
    else:
        steps = check_int(steps, "steps", minimum=1, allow_none=False)
    step, iterations, qubits, b_r, c = _step_and_qubits(N, lam, dE, L, Xi, aleph, beth, steps,
                                                        openfermion_rotation_rule)
    return DFCost(toffolis=step * iterations, toffolis_per_step=step, iterations=iterations,
                  logical_qubits=qubits, lambda_=lam, n_spin_orbitals=N, n_leaves=L, n_eigenvectors=Xi,
                  dE=dE, aleph=aleph, beth=beth, rotation_bits=b_r, breakdown=dict(c))


def df_cost(df, dE: float = 0.001, aleph: int = 10, beth: int = 20, lambda_=None,
            openfermion_rotation_rule: bool = False) -> DFCost:
    """Qubitization cost of a :class:`~physfact.chem.DoubleFactorization` (Lee et al. 2021, App. C).

    L is the number of leaves with at least one kept eigenvector and Xi the number of kept
    eigenvectors (non-zero ``eigenvalues`` entries); lambda from :func:`df_lambda` unless given.
    See :func:`df_qubitization_cost` for the other parameters.
    """
    leaves = _leaf_eigenvalues(df.eigenvalues)
    counts = [int(np.count_nonzero(e)) for e in leaves]
    L = sum(1 for c in counts if c)
    Xi = sum(counts)
    if L == 0:
        raise InputError("the factorization has no kept eigenvectors; loosen the truncation")
    n = int(np.shape(df.one_body_correction)[0])
    lam = float(df_lambda(df)) if lambda_ is None else lambda_
    return df_qubitization_cost(n, lam, L, Xi, dE=dE, aleph=aleph, beth=beth,
                                openfermion_rotation_rule=openfermion_rotation_rule)
