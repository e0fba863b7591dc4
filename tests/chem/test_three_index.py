"""Three-index ERI routes (density fitting, AO pivoted Cholesky) and the double factorization built from them.

References are independent of the code under test: the exact integrals from ``pyscf.ao2mo`` /
``mol.intor`` and the four-index route of physfact (RHF + ao2mo + DF of the N^4 tensor).
"""
import json

import numpy as np
import pytest

from physfact.chem import double_factorize, molecular_hamiltonian
from physfact.errors import InputError

CASES = [("H2O", None), ("LiH", None), ("N2", None), ("N2", (6, 6))]  # the last one: frozen core


@pytest.fixture(scope="module")
def exact():
    cache = {}

    def get(name, active_space=None, basis="sto-3g"):
        key = (name, active_space, basis)
        if key not in cache:
            cache[key] = molecular_hamiltonian(name, basis=basis, active_space=active_space)
        return cache[key]

    return get


@pytest.mark.parametrize("name, active_space", CASES)
def test_cholesky_route_reproduces_exact_eri_and_fci(exact, name, active_space):
    H = molecular_hamiltonian(name, active_space=active_space, eri="cholesky", eri_tol=1e-10)
    assert H.eri_method == "cholesky" and "two_body" not in H.__dict__
    # the exact ERI in the route's own orbitals (pyscf.ao2mo, four-index)
    err = H.representation_error()
    assert err["max_abs"] <= 1e-9
    assert abs(H.fci_energy() - exact(name, active_space).fci_energy()) <= 1e-8


@pytest.mark.parametrize("name, active_space", CASES)
def test_density_fitting_fci_within_half_mha(exact, name, active_space):
    H = molecular_hamiltonian(name, active_space=active_space, eri="density_fitting")
    assert H.auxbasis and H.n_aux > H.n_orbitals
    dE = H.fci_energy() - exact(name, active_space).fci_energy()
    assert abs(dE) <= 5e-4
    assert H.representation_error()["max_abs"] > 1e-6  # fitting is not exact: the check above is not vacuous


def test_ao_cholesky_bounds_every_ao_integral():
    from pyscf import gto

    from physfact.chem.ao_eri_cholesky import ao_cholesky, ao_eri_diagonal

    mol = gto.M(atom="O 0 0 0; H 0 0.76 0.59; H 0 -0.76 0.59", basis="6-31g*", verbose=0)
    eri = mol.intor("int2e", aosym="s4")  # (npair, npair) in the same s2 pair order
    np.testing.assert_allclose(ao_eri_diagonal(mol), np.diag(eri), atol=1e-14)
    for tol in (1e-4, 1e-7):
        L = ao_cholesky(mol, tol=tol)
        err = np.abs(L.T @ L - eri).max()
        assert err <= tol and L.shape[0] < eri.shape[0]
    assert err > 1e-12  # truncated, not full rank


def test_pivoted_cholesky_with_more_ties_than_the_block_terminates():
    from physfact.chem.pivoted_cholesky import pivoted_cholesky

    V = np.eye(40) + 1e-3
    chol = pivoted_cholesky(lambda idx: V[idx], tol=0.0, block=4, diagonal=np.diag(V))
    np.testing.assert_allclose(chol.vectors.T @ chol.vectors, V, atol=1e-12)


@pytest.fixture(scope="module")
def h2o_df():
    return molecular_hamiltonian("H2O", basis="6-31g", eri="density_fitting")


@pytest.mark.parametrize("method", ["eigh", "cholesky"])
def test_three_index_df_at_tol_zero_rebuilds_the_three_index_eri(h2o_df, method):
    df = double_factorize(h2o_df, tol=0, method=method)
    assert type(df).__name__ == "ThreeIndexDoubleFactorization" and "two_body" not in h2o_df.__dict__
    n = h2o_df.n_orbitals
    B = h2o_df.three_index.reshape(h2o_df.n_aux, n * n)
    rebuilt = df.two_body().reshape(n * n, n * n)
    assert np.abs(rebuilt - B.T @ B).max() <= 1e-12
    assert df.two_body_error["max_abs"] <= 1e-12


@pytest.mark.parametrize("method, rules", [("eigh", ["max_residual", "trace", "frobenius", "weight"]),
                                           ("cholesky", ["max_residual", "trace"])])
def test_three_index_df_matches_four_index_route_on_the_same_integrals(h2o_df, method, rules):
    from physfact.chem import MolecularHamiltonian
    from physfact.chem.resource_estimates import df_lambda

    # the same integrals as an ordinary four-index Hamiltonian (sum_Q B B formed once, here only)
    four = MolecularHamiltonian(h2o_df.constant, h2o_df.one_body, h2o_df.two_body, h2o_df.n_electrons)
    for rule in rules:
        a = double_factorize(h2o_df, tol=1e-4, method=method, first_level=rule)
        b = double_factorize(four, tol=1e-4, method=method, first_level=rule)
        assert a.n_leaves == b.n_leaves, rule
        assert abs(a.one_norm() - b.one_norm()) <= 1e-10 * b.one_norm()
        assert abs(float(df_lambda(a)) - float(df_lambda(b))) <= 1e-10 * b.one_norm()
        for key in ("max_abs", "frobenius"):
            assert a.two_body_error[key] == pytest.approx(b.two_body_error[key], rel=1e-6, abs=1e-12)
        assert a.first_level_residual["max_diag"] == pytest.approx(b.first_level_residual["max_diag"], rel=1e-6)


def test_three_index_df_leaf_tol_target_error_energies_groups(exact):
    H = molecular_hamiltonian("H2O", eri="cholesky", eri_tol=1e-10)
    ref = exact("H2O")
    a = double_factorize(H, tol=1e-4, leaf_tol=1e-3)
    b = double_factorize(ref, tol=1e-4, leaf_tol=1e-3)
    assert (a.n_leaves, a.n_eigenvectors) == (b.n_leaves, b.n_eigenvectors)
    H, ref = molecular_hamiltonian("LiH", eri="cholesky", eri_tol=1e-10), exact("LiH")
    t = double_factorize(H, target_error=1.0)
    t_ref = double_factorize(ref, target_error=1.0)
    assert t.n_leaves == t_ref.n_leaves and abs(t.energy_report["error_B_mha"]) <= 1.0
    assert t.energy_report["error_B_mha"] == pytest.approx(t_ref.energy_report["error_B_mha"], abs=1e-6)
    assert len(t.measurement_groups()) == t.n_leaves + 1
    cost = t.qubitization_cost()
    assert cost.toffolis == t_ref.qubitization_cost().toffolis


def test_dfccsd_energies_match_four_index_ccsd_t(exact):
    from physfact.chem.energies import ground_energy, truncated_hamiltonian

    H = molecular_hamiltonian("LiH", eri="cholesky", eri_tol=1e-10)
    ref = exact("LiH")
    assert ground_energy(H, "CCSD(T)") == pytest.approx(ground_energy(ref, "CCSD(T)"), abs=1e-7)
    a, b = double_factorize(H, tol=1e-3), double_factorize(ref, tol=1e-3)
    e_a = ground_energy(truncated_hamiltonian(a, "B"), "CCSD(T)")
    assert e_a == pytest.approx(ground_energy(truncated_hamiltonian(b, "B"), "CCSD(T)"), abs=1e-7)
    assert abs(e_a - ground_energy(ref, "CCSD(T)")) > 1e-5  # the truncation shows: the check is not vacuous
    assert "two_body" not in H.__dict__  # DF-CCSD ran on the factors


def test_bad_input():
    with pytest.raises(InputError, match="eri must be"):
        molecular_hamiltonian("H2", eri="four-index")
    with pytest.raises(InputError, match="eri_tol"):
        molecular_hamiltonian("H2", eri="cholesky", eri_tol=0)
    from physfact.chem.three_index import ThreeIndexHamiltonian

    with pytest.raises(InputError, match="three_index"):
        ThreeIndexHamiltonian(0.0, np.eye(2), None, 2, three_index=np.ones((3, 2, 3)))
    with pytest.raises(InputError, match="symmetric"):
        ThreeIndexHamiltonian(0.0, np.eye(2), None, 2, three_index=np.arange(8.0).reshape(2, 2, 2))


def test_cli_three_index(capsys):
    from physfact.cli import main

    rc = main(["df", "LiH", "--eri", "cholesky", "--eri-tol", "1e-9", "--tol", "1e-4", "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["eri"] == "cholesky" and res["n_aux"] >= res["n_orbitals"]
    assert res["eri_max_abs_error"] <= 1e-4 and abs(res["energies"]["error_B_mha"]) < 1.0


@pytest.mark.slow
def test_lambda_cholesky_route_equals_exact_route_at_50_orbitals():
    H = molecular_hamiltonian("hchain25", basis="6-31g", spin=1, eri="cholesky", eri_tol=1e-10)
    ref = molecular_hamiltonian("hchain25", basis="6-31g", spin=1)
    assert H.n_orbitals == 50
    a = double_factorize(H, tol=1e-6, method="cholesky")
    b = double_factorize(ref, tol=1e-6, method="cholesky")
    assert abs(a.one_norm() - b.one_norm()) <= 1e-6 * b.one_norm()
    assert abs(a.n_leaves - b.n_leaves) <= 1


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_save_load_round_trip(tmp_path, h2o_df, suffix):
    from physfact.chem import load_three_index_hamiltonian

    path = h2o_df.save(tmp_path / f"h{suffix}")
    back = load_three_index_hamiltonian(path)
    np.testing.assert_array_equal(back.three_index, h2o_df.three_index)
    np.testing.assert_array_equal(back.one_body, h2o_df.one_body)
    assert (back.constant, back.n_electrons, back.eri_method) == (h2o_df.constant, 10, "density_fitting")


def test_density_fitting_compression_keeps_the_fitted_integrals():
    full = molecular_hamiltonian("H2O", basis="6-31g", eri="density_fitting", eri_tol=0)
    comp = molecular_hamiltonian("H2O", basis="6-31g", eri="density_fitting", eri_tol=1e-9)
    from pyscf import df, gto

    mol = gto.M(atom=full.mol.atom, basis="6-31g", verbose=0)
    assert full.n_aux == df.make_auxmol(mol, full.auxbasis).nao  # eri_tol=0: every auxiliary function
    assert comp.n_aux < full.n_aux
    assert np.abs(comp.two_body - full.two_body).max() <= 1e-7
    assert abs(comp.hf_energy - full.hf_energy) <= 1e-12  # the SCF ran on the uncompressed factors


def test_io_load_reads_a_three_index_hamiltonian(tmp_path, h2o_df):
    from physfact.io import load

    loaded = load(h2o_df.save(tmp_path / "h.h5"))
    assert loaded.kind == "three_index_hamiltonian"
    np.testing.assert_array_equal(loaded.obj.three_index, h2o_df.three_index)
