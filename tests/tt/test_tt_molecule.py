"""FCI vector -> orbital MPS: against an explicit Jordan-Wigner construction and PySCF's RDMs."""
import numpy as np
import pytest
import scipy.sparse as sp

from physfact.errors import InputError, UnknownNameError
from physfact.tt.mps import rank_profile_of_spectra
from physfact.tt.molecule import (
    bond_spectra_from_ci,
    fci_state,
    fci_to_mps,
    fiedler_order,
    molecule_geometry,
    molecule_mps,
    orbital_entanglement,
    orbital_entanglement_from_ci,
    single_orbital_rdms,
    single_orbital_rdms_from_pyscf,
    two_orbital_rdm,
    two_orbital_rdm_from_ci,
)

# water without symmetry, so that the sign-sensitive RDM elements are far from zero
GEOMETRY = "O 0 0 0; H 0.15 0.8 -0.5; H -0.25 -0.75 -0.42"


@pytest.fixture(scope="module")
def water():
    return fci_state(GEOMETRY, "sto-3g")


def _jw_dense_state(state, order):
    """The FCI state built by applying Jordan-Wigner creation matrices (4^n space) to the vacuum,
    one determinant at a time, in PySCF's operator order: A+_{alpha, descending} B+_{beta, descending}."""
    from pyscf.fci import cistring

    n = state.n_orbitals
    pos = np.empty(n, dtype=int)
    pos[np.asarray(order)] = np.arange(n)
    P = sp.diags([1.0, -1.0, -1.0, 1.0])
    I4 = sp.identity(4)
    cdag_a = sp.csr_matrix(([1.0, 1.0], ([1, 3], [0, 2])), shape=(4, 4))   # |up><0| + |updn><dn|
    cdag_b = sp.csr_matrix(([1.0, -1.0], ([2, 3], [0, 1])), shape=(4, 4))  # |dn><0| - |updn><up|

    def op(site, local):
        out = sp.identity(1, format="csr")
        for j in range(n):
            out = sp.kron(out, P if j < site else (local if j == site else I4), format="csr")
        return out

    A = [op(pos[o], cdag_a) for o in range(n)]
    B = [op(pos[o], cdag_b) for o in range(n)]
    na, nb = state.n_electrons
    sa = cistring.make_strings(range(n), na)
    sb = cistring.make_strings(range(n), nb)
    psi = np.zeros(4**n)
    for i, x in enumerate(sa):
        for j, y in enumerate(sb):
            v = np.zeros(4**n)
            v[0] = 1.0
            for q in range(n):  # rightmost operator (lowest beta orbital) acts first
                if (y >> q) & 1:
                    v = B[q] @ v
            for p in range(n):
                if (x >> p) & 1:
                    v = A[p] @ v
            psi += state.ci[i, j] * v
    return psi


@pytest.mark.parametrize("order", [None, [3, 0, 6, 1, 5, 2, 4]])
def test_mps_equals_explicit_jordan_wigner_state(water, order):
    n = water.n_orbitals
    m = fci_to_mps(water.ci, n, water.n_electrons, order=order)
    ref = _jw_dense_state(water, np.arange(n) if order is None else order)
    np.testing.assert_allclose(m.to_vector(), ref, atol=1e-12)
    # bond entropies against SVDs of the dense state's unfoldings
    for k in range(n - 1):
        s = np.linalg.svd(ref.reshape(4 ** (k + 1), -1), compute_uv=False)
        p = s**2 / np.sum(s**2)
        p = p[p > 1e-30]
        assert m.entanglement_entropy(bond=k) == pytest.approx(-np.sum(p * np.log(p)), abs=1e-12)


def test_single_orbital_rdms_match_pyscf_rdm_formulas(water):
    n = water.n_orbitals
    ref = single_orbital_rdms_from_pyscf(water.ci, n, water.n_electrons)
    m = fci_to_mps(water.ci, n, water.n_electrons)
    np.testing.assert_allclose(single_orbital_rdms(m), ref, atol=1e-12)
    # in a permuted order, site j holds orbital order[j]
    order = np.array([6, 2, 0, 5, 1, 4, 3])
    mp = fci_to_mps(water.ci, n, water.n_electrons, order=order)
    np.testing.assert_allclose(single_orbital_rdms(mp), ref[order], atol=1e-12)
    oe = orbital_entanglement_from_ci(water.ci, n, water.n_electrons)
    ent = [-sum(x * np.log(x) for x in row if x > 0) for row in ref]
    np.testing.assert_allclose(oe.single, ent, atol=1e-12)


def test_two_orbital_rdms_match_pyscf_one_and_two_body_elements(water):
    from pyscf.fci import direct_spin1

    n, ne = water.n_orbitals, water.n_electrons
    (dm1a, dm1b), (_, dm2ab, _) = direct_spin1.make_rdm12s(water.ci, n, ne)
    m = fci_to_mps(water.ci, n, ne)
    assert np.abs(dm1a - np.diag(np.diag(dm1a))).max() > 1e-3  # the test is sign-sensitive
    for p in range(n):
        for q in range(p + 1, n):
            rho = two_orbital_rdm_from_ci(water.ci, n, ne, p, q)
            # <a+_qa a_pa> = sum_{bp,bq} (-1)^bp rho[(up+2bp, 2bq), (2bp, up+2bq)]
            hop_a = sum((-1) ** bp * rho[4 * (1 + 2 * bp) + 2 * bq, 4 * (2 * bp) + 1 + 2 * bq]
                        for bp in (0, 1) for bq in (0, 1))
            hop_b = sum((-1) ** aq * rho[4 * (ap + 2) + aq, 4 * ap + aq + 2] for ap in (0, 1) for aq in (0, 1))
            assert hop_a == pytest.approx(dm1a[p, q], abs=1e-12)
            assert hop_b == pytest.approx(dm1b[p, q], abs=1e-12)
            # pair hopping <a+_qa a+_qb a_pb a_pa> = dm2ab[q, p, q, p]
            assert rho[4 * 3 + 0, 4 * 0 + 3] == pytest.approx(dm2ab[q, p, q, p], abs=1e-12)
            np.testing.assert_allclose(two_orbital_rdm(m, p, q), rho, atol=1e-12)
            assert np.trace(rho) == pytest.approx(1.0, abs=1e-12)


def test_mutual_information_is_order_independent_and_fiedler_lowers_the_bond(water):
    n, ne = water.n_orbitals, water.n_electrons
    oe = orbital_entanglement_from_ci(water.ci, n, ne)
    order = np.array([3, 0, 6, 1, 5, 2, 4])
    oe_mps = orbital_entanglement(fci_to_mps(water.ci, n, ne, order=order), order=order)
    np.testing.assert_allclose(oe_mps.single, oe.single, atol=1e-12)
    np.testing.assert_allclose(oe_mps.mutual_information, oe.mutual_information, atol=1e-10)
    assert np.all(oe.mutual_information >= 0) and np.allclose(oe.mutual_information, oe.mutual_information.T)
    f = fiedler_order(oe.mutual_information)
    assert sorted(f.tolist()) == list(range(n))
    tol = 1e-4
    scrambled = np.array([0, 4, 1, 5, 2, 6, 3])
    chi_scr = max(fci_to_mps(water.ci, n, ne, order=scrambled).rank_profile([tol])[0])
    chi_f = max(fci_to_mps(water.ci, n, ne, order=f).rank_profile([tol])[0])
    assert chi_f < chi_scr


def test_truncation_accounting(water):
    n, ne = water.n_orbitals, water.n_electrons
    exact = fci_to_mps(water.ci, n, ne)
    for tol in (1e-2, 1e-4):
        m = fci_to_mps(water.ci, n, ne, tol=tol)
        err = np.linalg.norm(m.to_vector() - exact.to_vector())
        assert err <= tol * (1 + 1e-9)
        assert m.error_bound == pytest.approx(err, rel=0.03)
        assert max(m.bond_dimensions) < max(exact.bond_dimensions)


def test_names_and_errors(water):
    assert molecule_geometry("h2o").startswith("O ") and molecule_geometry("H2O") == molecule_geometry("h2o")
    with pytest.raises(UnknownNameError, match="known: BeH2, CH4"):
        molecule_geometry("unobtainium")
    with pytest.raises(InputError, match="permutation"):
        fci_to_mps(water.ci, water.n_orbitals, water.n_electrons, order=[0, 0, 1, 2, 3, 4, 5])
    with pytest.raises(InputError, match="shape"):
        fci_to_mps(water.ci[:5], water.n_orbitals, water.n_electrons)


def _plain_fci(molecule, basis):
    """The reference: PySCF without point-group symmetry, singlet solver (the previous path)."""
    from pyscf import fci, gto, scf

    mol = gto.M(atom=molecule_geometry(molecule), basis=basis, verbose=0)
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-11
    mf.kernel()
    solver = fci.FCI(mf, singlet=True)
    solver.conv_tol = 1e-12
    e, ci = solver.kernel()
    return e, mf.e_tot, np.asarray(ci)


@pytest.mark.parametrize("name,group", [("h2o", "C2v"), ("lih", "C2v"), ("beh2", "D2h")])
def test_point_group_fci_matches_plain_fci(name, group):
    state = fci_state(name, "sto-3g")
    assert state.point_group == group  # linear molecules in the C2v / D2h subgroup
    e, e_hf, ci = _plain_fci(name, "sto-3g")
    assert state.energy == pytest.approx(e, abs=1e-9)
    assert state.hf_energy == pytest.approx(e_hf, abs=1e-9)
    # the full (alpha x beta) array in PySCF's string order, zero off the ground state's irrep
    assert state.ci.shape == ci.shape and np.linalg.norm(state.ci) == pytest.approx(1.0, abs=1e-12)
    if name == "h2o":
        assert np.count_nonzero(state.ci) < 0.5 * state.ci.size
        # no degenerate orbitals: the same orbitals up to sign, so the entanglement agrees
        # (to the FCI convergence, residual < 1e-6)
        n, ne = state.n_orbitals, state.n_electrons
        a = orbital_entanglement_from_ci(state.ci, n, ne)
        b = orbital_entanglement_from_ci(ci, n, ne)
        np.testing.assert_allclose(a.single, b.single, atol=1e-7)
        np.testing.assert_allclose(a.mutual_information, b.mutual_information, atol=1e-7)


def test_bond_spectra_from_ci_match_dense_unfoldings_and_the_sweep(water):
    n, ne = water.n_orbitals, water.n_electrons
    for order in (None, [3, 0, 6, 1, 5, 2, 4]):
        spec = bond_spectra_from_ci(water.ci, n, ne, order=order)
        ref = _jw_dense_state(water, np.arange(n) if order is None else order)
        for k, s in enumerate(spec):
            s_ref = np.linalg.svd(ref.reshape(4 ** (k + 1), -1), compute_uv=False)
            m = min(s.size, s_ref.size)
            np.testing.assert_allclose(s[:m], s_ref[:m], atol=1e-12)
            assert np.all(s[m:] < 1e-12) and np.all(s_ref[m:] < 1e-12)
        sweep = fci_to_mps(water.ci, n, ne, order=order)
        np.testing.assert_array_equal(rank_profile_of_spectra(spec, [1e-3, 1e-6]), sweep.rank_profile([1e-3, 1e-6]))


def test_molecule_mps_orders_and_bond_dimensions():
    res = molecule_mps(GEOMETRY, "sto-3g", rank_tol=1e-4)
    f = res.fci
    n, ne = f.n_orbitals, f.n_electrons
    # the definitions: the largest bond at rank_tol of the full TT-SVD in each order
    canon = int(fci_to_mps(f.ci, n, ne).rank_profile([1e-4])[0].max())
    forder = fiedler_order(res.orbitals.mutual_information)
    fied = int(fci_to_mps(f.ci, n, ne, order=forder).rank_profile([1e-4])[0].max())
    assert (res.canonical_max_bond, res.fiedler_max_bond) == (canon, fied)
    want = forder if fied < canon else np.arange(n)
    np.testing.assert_array_equal(res.order, want)
    np.testing.assert_allclose(res.mps.to_vector(), fci_to_mps(f.ci, n, ne, order=want).to_vector(), atol=1e-13)
    # with a truncating tol the comparison still uses the exact spectra
    loose = molecule_mps(GEOMETRY, "sto-3g", rank_tol=1e-4, tol=1e-2)
    assert (loose.canonical_max_bond, loose.fiedler_max_bond) == (canon, fied)
    assert loose.mps.error_bound <= 1e-2 * np.linalg.norm(f.ci) * (1 + 1e-9)
