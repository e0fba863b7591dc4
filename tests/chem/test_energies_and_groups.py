import numpy as np
import pytest

from physfact.chem import double_factorize, energy_errors, truncated_hamiltonian
from physfact.chem.export import ground_energy_openfermion, spin_orbital_tensors
from physfact.chem.measurement import givens_to_matrix, pauli_groups, qwc_groups


@pytest.mark.parametrize("name", ["H2", "LiH"])
def test_openfermion_export_reproduces_fci(mol, name):
    H = mol(name)
    e = ground_energy_openfermion(H.to_openfermion(), H.n_electrons)
    assert e == pytest.approx(H.fci_energy(), abs=1e-9)


def test_openfermion_export_of_truncated_hamiltonian(mol):
    H = mol("LiH")
    df = double_factorize(H, rank=6)
    for conv in ("A", "B"):
        e_of = ground_energy_openfermion(df.to_openfermion(conv), H.n_electrons)
        assert e_of == pytest.approx(truncated_hamiltonian(df, conv).fci_energy(), abs=1e-9)


def test_spin_orbital_tensor_matches_openfermion_molecular_data(mol):
    # OpenFermion's own route from spatial physicist-order integrals to spin orbitals
    from openfermion.chem.molecular_data import spinorb_from_spatial

    H = mol("H2")
    h_ref, g_ref = spinorb_from_spatial(H.one_body, H.two_body.transpose(0, 2, 3, 1))
    h, g = spin_orbital_tensors(H.one_body, H.two_body)
    assert np.allclose(h, h_ref, atol=1e-14) and np.allclose(g, 0.5 * g_ref, atol=1e-14)


def test_convention_b_equals_sum_of_measured_groups(mol):
    # E_B from the normal-ordered h_eff formula vs the ground energy of E_0 + sum of the L+1 group
    # operators built literally from rotated number operators (OpenFermion, sparse eigsh)
    import openfermion as of

    H = mol("hchain4")
    df = double_factorize(H, rank=4)
    total = of.FermionOperator((), df.constant)
    for g in df.measurement_groups():
        total += g.to_openfermion()
    e_groups = ground_energy_openfermion(total, H.n_electrons)
    e = energy_errors(df)
    # OpenFermion drops summands below 1e-8 while accumulating operators: 1e-6 Ha slack
    assert e_groups == pytest.approx(e["B"], abs=1e-6)
    assert abs(e_groups - e["A"]) > 1e-4  # and A is a different Hamiltonian


def test_groups_rebuild_hamiltonian_exactly_h2(mol):
    import openfermion as of

    H = mol("H2")
    df = double_factorize(H)
    groups = df.measurement_groups()
    assert len(groups) == df.n_leaves + 1
    total = of.FermionOperator((), df.constant)
    for g in groups:
        total += g.to_openfermion()
        Q = givens_to_matrix(g.givens, g.givens_phases)
        assert np.max(np.abs(Q - g.rotation.T)) < 1e-12
        assert len(g.givens) <= max(2 * H.n_orbitals - 3, 1)  # linear depth
    A = of.get_sparse_operator(total, n_qubits=4)
    B = of.get_sparse_operator(H.to_openfermion(), n_qubits=4)
    assert abs(A - B).max() < 1e-12


def test_givens_layers_linear_depth(mol):
    df = double_factorize(mol("H2O"), rank=3)
    for g in df.measurement_groups():
        n = g.rotation.shape[0]
        assert len(g.givens) <= 2 * n - 3 and sum(len(layer) for layer in g.givens) == n * (n - 1) // 2
        assert np.max(np.abs(givens_to_matrix(g.givens, g.givens_phases) - g.rotation.T)) < 1e-12


def test_pauli_counts_h2_and_lih(mol):
    # textbook counts: H2/sto-3g has 14 non-identity JW strings in 5 QWC groups; LiH/sto-3g 630 strings
    pg = pauli_groups(mol("H2"))
    assert (pg.n_qubits, pg.n_terms, pg.n_groups) == (4, 14, 5)
    pg = pauli_groups(mol("LiH"))
    assert pg.n_terms == 630
    assert 100 < pg.n_groups < 630


def test_qwc_grouping_is_valid():
    terms = [((0, "X"), (1, "Z")), ((0, "X"),), ((1, "Y"),), ((0, "Z"), (1, "Y")), ((2, "X"),)]
    groups = qwc_groups(terms)
    assert sorted(i for g in groups for i in g) == list(range(5))
    for g in groups:
        fixed = {}
        for i in g:
            for q, p in terms[i]:
                assert fixed.setdefault(q, p) == p
    assert len(groups) == 2


@pytest.mark.parametrize("name,max_groups", [("LiH", 19), ("H2O", 24)])
def test_one_mha_group_counts(mol, name, max_groups):
    H = mol(name)
    df = double_factorize(H, target_error=1.0, method="eigh")
    rep = df.energy_report
    assert rep["method"] == "FCI"
    assert df.n_groups <= max_groups
    assert abs(rep["error_B_mha"]) <= 1.0
    # independent recomputation of the chosen Hamiltonian's energy, and the previous L misses
    e_b = truncated_hamiltonian(df, "B").fci_energy()
    assert 1e3 * abs(e_b - H.fci_energy()) == pytest.approx(abs(rep["error_B_mha"]), abs=1e-6)
    prev = dict(rep["scan"])[df.n_leaves - 1]
    assert abs(prev) > 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name,max_groups", [("NH3", 28), ("N2", 33)])
def test_one_mha_group_counts_larger(mol, name, max_groups):
    H = mol(name)
    df = double_factorize(H, target_error=1.0, method="eigh")
    assert df.n_groups <= max_groups
    assert abs(df.energy_report["error_B_mha"]) <= 1.0


def test_ccsd_t_energy_path_labelled(mol):
    H = mol("LiH")
    df = double_factorize(H, rank=12)
    e = energy_errors(df, method="ccsd(t)")
    assert e["method"] == "CCSD(T)"
    f = energy_errors(df, method="fci")
    # CCSD(T) is within 0.1 mHa of FCI for LiH (2 valence electrons), exact and truncated H alike
    assert abs(e["exact"] - f["exact"]) < 1e-4
    assert abs(e["error_B_mha"] - f["error_B_mha"]) < 0.1
    assert abs(e["error_B_mha"]) > 1.0  # and the truncation error is resolved


def test_target_error_ccsd_t_bisection_agrees_with_fci_scan(mol):
    H = mol("LiH")
    fci = double_factorize(H, target_error=1.0, method="eigh")
    cc = double_factorize(H, target_error=1.0, method="eigh", energy_method="ccsd(t)")
    rep = cc.energy_report
    assert rep["method"] == "CCSD(T)" and "bisection" in rep["search"]
    # LiH's |dE_B(L)| decreases monotonically and CCSD(T) ~ FCI here: same L
    assert cc.n_leaves == fci.n_leaves
    assert abs(rep["error_B_mha"]) <= 1.0
    assert len(rep["scan"]) < fci.n_leaves  # bisection evaluated fewer L than the linear scan


def test_target_error_unreachable_is_refused(mol):
    from physfact.errors import InputError

    with pytest.raises(InputError, match="even all"):
        double_factorize(mol("LiH"), rank=3, target_error=1.0)
