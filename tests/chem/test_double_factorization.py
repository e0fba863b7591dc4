import numpy as np
import pytest

from physfact.chem import double_factorize, load_double_factorization, pivoted_cholesky
from physfact.errors import InputError


@pytest.mark.parametrize("name", ["H2", "LiH", "H2O"])
@pytest.mark.parametrize("method", ["eigh", "cholesky"])
def test_zero_truncation_is_exact(mol, name, method):
    H = mol(name)
    df = double_factorize(H, method=method)
    n = H.n_orbitals
    # the DESIGN contraction, written out independently of DoubleFactorization.two_body
    U, lam = df.orbital_rotations, df.eigenvalues
    rebuilt = np.einsum("lpi,lqi,li,lj,lrj,lsj->pqrs", U, U, lam, lam, U, U, optimize=True)
    assert np.max(np.abs(rebuilt - H.two_body)) < 1e-12
    assert df.two_body_error["max_abs"] < 1e-12
    # at most one leaf per symmetric pair (pq): the supermatrix has rank <= N(N+1)/2
    assert df.n_leaves <= n * (n + 1) // 2
    for l in range(df.n_leaves):  # orthogonal rotations
        assert np.max(np.abs(U[l].T @ U[l] - np.eye(n))) < 1e-12
    assert np.allclose(df.one_body_correction, H.one_body - 0.5 * np.einsum("prrq->pq", H.two_body), atol=1e-14)
    e = df.energies()
    assert abs(e["B"] - H.fci_energy()) < 1e-9 and abs(e["A"] - H.fci_energy()) < 1e-9


def test_tol_bounds_max_abs_error_for_both_methods(mol):
    H = mol("H2O")
    for method in ("eigh", "cholesky"):
        for tol in (1e-2, 1e-3, 1e-5):
            df = double_factorize(H, tol=tol, method=method)
            assert df.first_level_residual["max_diag"] <= tol
            assert df.two_body_error["max_abs"] <= df.first_level_residual["max_diag"] + 1e-13
    # eigh is Frobenius-optimal: at equal L it is never worse than Cholesky
    chol = double_factorize(H, tol=1e-3, method="cholesky")
    eig = double_factorize(H, rank=chol.n_leaves, method="eigh")
    assert eig.two_body_error["frobenius"] <= chol.two_body_error["frobenius"] * (1 + 1e-10)


def test_frobenius_and_trace_rules(mol):
    H = mol("H2O")
    n = H.n_orbitals
    w = np.sort(np.linalg.eigvalsh(H.two_body.reshape(n * n, n * n)))[::-1]
    df = double_factorize(H, tol=1e-3, first_level="frobenius", method="eigh")
    L = df.n_leaves
    assert np.sqrt(np.sum(w[L:] ** 2)) <= 1e-3 < np.sqrt(np.sum(w[L - 1:] ** 2))
    assert df.two_body_error["frobenius"] == pytest.approx(np.sqrt(np.sum(w[L:][w[L:] > 0] ** 2)), rel=1e-6, abs=1e-12)
    for method in ("eigh", "cholesky"):
        df = double_factorize(H, tol=1e-2, first_level="trace", method=method)
        assert df.first_level_residual["trace"] <= 1e-2
        assert df.two_body_error["frobenius"] <= df.first_level_residual["trace"] * (1 + 1e-10)
    with pytest.raises(InputError, match="eigh"):
        double_factorize(H, tol=1e-3, first_level="frobenius", method="cholesky")


def test_weight_rule_matches_openfermion_low_rank(mol):
    from openfermion.circuits.low_rank import low_rank_two_body_decomposition

    H = mol("H2O")
    for thr in (1e-1, 1e-2, 1e-3):
        # OpenFermion transposes its input (0, 3, 1, 2) to chemist order; its weights are over
        # kron(g, I_2), i.e. 4x the spatial weights
        eig, _, _, _ = low_rank_two_body_decomposition(H.two_body.transpose(0, 2, 3, 1), truncation_threshold=thr,
                                                       spin_basis=False)
        df = double_factorize(H, tol=thr / 4, first_level="weight", method="eigh")
        assert df.n_leaves == len(eig)
        assert np.allclose(np.sort(df.first_level_values), np.sort(eig), atol=1e-10)


def test_von_burg_second_level_matches_openfermion_resource_estimates(mol):
    from openfermion.resource_estimates.df.factorize_df import factorize

    H = mol("H2O")
    for thr in (1e-2, 1e-3):
        eri_rr, factors, _, n_vec = factorize(H.two_body, thr)
        df = double_factorize(H, leaf_tol=thr, method="eigh")
        assert df.n_leaves == factors.shape[2]
        assert df.n_eigenvectors == n_vec
        assert np.max(np.abs(df.two_body() - eri_rr)) < 1e-10


def test_cholesky_matches_ffsim_leaf_count(mol):
    import ffsim

    H = mol("H2O")
    for tol in (1e-2, 1e-4, 1e-6):
        diag, orb = ffsim.linalg.double_factorized(H.two_body, tol=tol, cholesky=True)
        df = double_factorize(H, tol=tol, method="cholesky")
        assert df.n_leaves == len(diag)
        ffsim_eri = np.einsum("tkl,tpk,tqk,trl,tsl->pqrs", diag, orb, orb, orb, orb)
        assert np.max(np.abs(df.two_body() - ffsim_eri)) < 1e-8


def test_rank_cap_and_truncate(mol):
    H = mol("LiH")
    df = double_factorize(H, rank=5)
    assert df.n_leaves == 5 and df.n_groups == 6
    full = double_factorize(H)
    t = full.truncate(5)
    assert np.allclose(t.two_body(), df.two_body(), atol=1e-12)
    assert t.first_level_residual["max_diag"] == pytest.approx(df.first_level_residual["max_diag"], abs=1e-12)


def test_bare_two_body_packed_and_refused(mol):
    from pyscf import ao2mo

    H = mol("H2O")
    n = H.n_orbitals
    ref = double_factorize(H.two_body, method="eigh")
    for k in (4, 8):
        df = double_factorize(ao2mo.restore(k, H.two_body, n), method="eigh")
        assert np.max(np.abs(df.two_body() - H.two_body)) < 1e-12
        assert df.n_leaves == ref.n_leaves
    with pytest.raises(InputError, match="symmetry"):
        double_factorize(H.two_body.transpose(0, 2, 1, 3))
    with pytest.raises(InputError, match="positive semidefinite"):
        double_factorize(-H.two_body, method="eigh")
    with pytest.raises(InputError, match="positive semidefinite"):
        double_factorize(-H.two_body, method="cholesky")
    with pytest.raises(InputError, match="MolecularHamiltonian"):
        double_factorize(H.two_body, target_error=1.0)
    with pytest.raises(InputError, match="method"):
        double_factorize(H, method="svd")


def test_one_norm_matches_openfermion_compute_lambda(mol):
    from openfermion.resource_estimates.df.compute_lambda_df import compute_lambda
    from pyscf import gto, scf

    from physfact.chem.molecules import resolve_geometry

    mf = scf.RHF(gto.M(atom=resolve_geometry("H2O")[0], basis="sto-3g", verbose=0)).run(conv_tol=1e-11)
    H = mol("H2O")
    df = double_factorize(H, leaf_tol=1e-3, method="eigh")
    lam_of = compute_lambda(mf, df.leaves().transpose(1, 2, 0))
    assert df.one_norm() == pytest.approx(lam_of, rel=1e-9)


def test_save_load_roundtrip(tmp_path, mol):
    df = double_factorize(mol("LiH"), tol=1e-4)
    for suffix in (".npz", ".h5"):
        path = df.save(tmp_path / f"f{suffix}")
        back = load_double_factorization(path)
        assert back.n_leaves == df.n_leaves and back.rule == df.rule
        assert np.array_equal(back.eigenvalues, df.eigenvalues)
        assert np.allclose(back.two_body(), df.two_body(), atol=0)


def test_pivoted_cholesky_blocked_equals_unblocked():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 30)) * np.logspace(0, -6, 30)
    V = X @ X.T
    a = pivoted_cholesky(V, tol=1e-10, block=1)
    b = pivoted_cholesky(V, tol=1e-10, block=16)
    assert np.array_equal(a.pivots, b.pivots)
    # same greedy pivots; vectors agree up to rounding amplified by the tiny late pivots
    assert np.max(np.abs(a.vectors[:15] - b.vectors[:15])) < 1e-10
    assert np.max(np.abs(a.vectors.T @ a.vectors - b.vectors.T @ b.vectors)) < 1e-12
    R = V - b.vectors.T @ b.vectors
    assert np.max(np.abs(R)) <= 1e-10 and b.residual_max[-1] <= 1e-10
    assert b.rank <= 30


def test_cholesky_never_allocates_a_second_eri():
    import tracemalloc

    from physfact.chem import h_chain, molecular_hamiltonian

    H = molecular_hamiltonian(h_chain(14), basis="6-31g")  # N = 28, ERI 4.9 MB
    eri = H.two_body
    tracemalloc.start()
    df = double_factorize(eri, tol=1e-6, method="cholesky")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n = eri.shape[0]
    # the symmetry check's 1/16 blocks plus a few copies of the L x N^2 factors -- never N^4 more
    budget = 0.25 * eri.nbytes + 6 * df.n_leaves * n * n * 8
    assert peak < budget, f"peak {peak / 2**20:.2f} MiB vs ERI {eri.nbytes / 2**20:.1f} MiB"
    assert peak < 0.6 * eri.nbytes
    assert df.first_level_residual["max_diag"] <= 1e-6


def test_one_norm_agrees_with_resource_estimates_lambda(mol):
    # two implementations of lambda_DF (this module and chem-cost's df_lambda)
    from physfact.chem.resource_estimates import df_lambda

    df = double_factorize(mol("LiH"), tol=1e-3)
    assert df.one_norm() == pytest.approx(float(df_lambda(df)), rel=1e-10)


def test_symmetrize_noisy_two_body(mol):
    from physfact.chem import symmetrize_two_body

    H = mol("LiH")
    rng = np.random.default_rng(3)
    noisy = H.two_body + 1e-6 * rng.standard_normal(H.two_body.shape)
    with pytest.raises(InputError, match="symmetrize_two_body"):
        double_factorize(noisy)
    clean = symmetrize_two_body(noisy)
    assert np.max(np.abs(clean - H.two_body)) < 5e-6
    df = double_factorize(clean, method="eigh")
    assert df.two_body_error["max_abs"] < 1e-12  # exact for the symmetrized tensor


def test_open_shell_energies_and_ccsd_refusal():
    from physfact.chem import energy_errors, molecular_hamiltonian

    H = molecular_hamiltonian("H 0 0 0; H 0 0 0.9; H 0 0 1.8", spin=1)
    df = double_factorize(H)
    e = energy_errors(df)
    assert abs(e["error_A_mha"]) < 1e-6 and abs(e["error_B_mha"]) < 1e-6
    assert double_factorize(H, rank=2).energies()["error_B_mha"] != 0.0
    with pytest.raises(InputError, match="closed-shell"):
        energy_errors(df, method="ccsd(t)")


def test_symmetry_threshold_is_relative_to_the_largest_element():
    # the check first compares against max (pq|pq) (the largest element of a valid ERI); a tensor whose
    # largest element is off the diagonal must still be judged against that element, not the diagonal
    from physfact.chem import check_symmetry
    from physfact.chem.integrals import symmetrize_two_body

    rng = np.random.default_rng(5)
    eri = symmetrize_two_body(rng.standard_normal((4, 4, 4, 4)))
    eri[0, 1, 2, 3] = eri[1, 0, 2, 3] = eri[0, 1, 3, 2] = eri[1, 0, 3, 2] = 1e3
    eri[2, 3, 0, 1] = eri[3, 2, 0, 1] = eri[2, 3, 1, 0] = eri[3, 2, 1, 0] = 1e3
    assert np.max(np.abs(np.diagonal(eri.reshape(16, 16)))) < 10.0
    eri[2, 3, 0, 1] += 1e-7  # 1e-10 of the largest element, 1e-8 of the largest diagonal
    assert check_symmetry(eri) == pytest.approx(1e-7, rel=1e-3)
    eri[2, 3, 0, 1] += 1e-3  # 1e-6 of the largest element: rejected
    with pytest.raises(InputError, match=r"8-fold symmetry .* by 1\.000e-03 \(max \|\(pq\|rs\)\| = 1\.000e\+03\)"):
        check_symmetry(eri)
