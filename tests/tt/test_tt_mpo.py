"""MPO: the finite-state-automaton construction against Kronecker products built term by term."""
import numpy as np
import pytest

from physfact.errors import InputError
from physfact.tt import MPO, MPS, random_mps_cores
from physfact.tt.models import heisenberg, tfim


def dense_of_terms(L, d, terms):
    """sum_terms c prod_k O_k by explicit Kronecker products (independent of the automaton)."""
    H = np.zeros((d**L, d**L), dtype=complex)
    for c, ops in terms:
        mats = [np.eye(d, dtype=complex) for _ in range(L)]
        for site, op in ops:
            mats[site] = mats[site] @ op
        P = np.ones((1, 1))
        for m in mats:
            P = np.kron(P, m)
        H += c * P
    return H


def random_terms(rng, L, d, n, complex_=False):
    terms = []
    for _ in range(n):
        k = rng.integers(1, 4)  # one-, two- and three-site strings, any range
        sites = rng.choice(L, size=k, replace=False)
        ops = []
        for s in sites:
            op = rng.standard_normal((d, d))
            if complex_:
                op = op + 1j * rng.standard_normal((d, d))
            ops.append((int(s), op))
        terms.append((float(rng.standard_normal()), ops))
    # operators drawn from a small pool too, so that futures coincide and states get shared
    pool = [rng.standard_normal((d, d)) for _ in range(2)]
    for i in range(L - 1):
        for j in range(i + 1, min(L, i + 3)):
            terms.append((float(rng.standard_normal()), [(i, pool[0]), (j, pool[1])]))
    return terms


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("d", [2, 3])
def test_random_terms_match_kronecker_sum(seed, d):
    rng = np.random.default_rng(seed)
    L = 6 if d == 2 else 5
    terms = random_terms(rng, L, d, 12, complex_=(seed == 2))
    H = MPO.from_terms(L, d, terms).to_sparse().toarray()
    ref = dense_of_terms(L, d, terms)
    assert np.max(np.abs(H - ref)) < 1e-12 * np.max(np.abs(ref))


@pytest.mark.parametrize("chain", [tfim(7, g=0.7, J=1.3), heisenberg(7, J=0.9, delta=0.4),
                                   tfim(6, g=1.2, boundary="periodic"), heisenberg(6, delta=-0.5, boundary="periodic")],
                         ids=["tfim", "xxz", "tfim-pbc", "xxz-pbc"])
def test_chain_mpo_matches_spin_chain_sparse(chain):
    H = chain.to_mpo().to_sparse()
    assert abs(H - chain.to_sparse()).max() < 1e-14


def test_minimal_bond_dimensions_and_any_length():
    assert set(tfim(200).to_mpo().bond_dimensions) == {3}
    assert set(heisenberg(200).to_mpo().bond_dimensions[1:-1]) == {5}
    # a range-3 interaction keeps three pending operators: 2 + 3 states
    Z = np.diag([1.0, -1.0])
    terms = [(1.0, [(i, Z), (j, Z)]) for i in range(10) for j in range(i + 1, min(10, i + 4))]
    assert max(MPO.from_terms(10, 2, terms).bond_dimensions) == 5


def test_apply_expectation_variance_against_dense():
    chain = heisenberg(8, delta=0.7)
    mpo = chain.to_mpo()
    mps = MPS(random_mps_cores(8, 4, seed=3))
    psi = mps.to_vector()
    H = chain.to_sparse()
    Hpsi = H @ psi
    assert np.allclose((mpo @ mps).to_vector(), Hpsi, atol=1e-13)
    e = psi @ Hpsi / (psi @ psi)
    assert mps.expectation(mpo) == pytest.approx(e, rel=1e-13)
    var = Hpsi @ Hpsi / (psi @ psi) - e**2
    assert mpo.variance(mps) == pytest.approx(var, rel=1e-10)


def test_hermiticity_error_against_dense():
    rng = np.random.default_rng(5)
    terms = random_terms(rng, 5, 2, 6, complex_=True)
    H = dense_of_terms(5, 2, terms)
    ref = np.linalg.norm(H - H.conj().T) / np.linalg.norm(H)
    assert MPO.from_terms(5, 2, terms).hermiticity_error() == pytest.approx(ref, rel=1e-8)
    assert heisenberg(300).to_mpo().hermiticity_error() < 1e-6  # long chains: no overflow, ~0


def test_mpo_errors():
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(InputError, match="outside"):
        MPO.from_terms(3, 2, [(1.0, [(3, X)])])
    with pytest.raises(InputError, match="2 x 2"):
        MPO.from_terms(3, 2, [(1.0, [(0, np.eye(3))])])
    with pytest.raises(InputError, match="no site"):
        MPO.from_terms(3, 2, [(1.0, [])])
    with pytest.raises(InputError, match="coefficient"):
        MPO.from_terms(3, 2, [("a", [(0, X)])])
    with pytest.raises(InputError, match="no non-zero"):
        MPO.from_terms(3, 2, [(0.0, [(0, X)])])
    with pytest.raises(InputError, match="boundary"):
        MPO([np.zeros((2, 2, 2, 1))])
    with pytest.raises(InputError, match="local dimensions"):
        tfim(4).to_mpo().expectation(MPS(random_mps_cores(4, 2, d=3)))
    with pytest.raises(InputError, match="no site"):
        MPS(random_mps_cores(4, 2)).expectation(tfim(4).to_mpo(), site=1)
