"""Bad input, files cut short, impossible sizes and non-terminating loops in physfact.chem: each gets a
specific PhysfactError (library) or one line on stderr with exit 2 / 1 (``physfact df``)."""
import json
import shutil

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physfact.chem import (
    double_factorize, from_fcidump, h_chain, load_double_factorization, molecular_hamiltonian, pivoted_cholesky,
    restore_two_body,
)
from physfact.chem.energies import energy_errors, truncated_hamiltonian
from physfact.chem.hamiltonian import MolecularHamiltonian, fci_ground_state
from physfact.chem.measurement import measurement_groups, pauli_groups
from physfact.cli import main
from physfact.errors import (
    ConvergenceError, DataFileError, InputError, PhysfactError, ResourceError, UnknownNameError,
)


# ------------------------------------------------------------------ molecular_hamiltonian
@pytest.mark.parametrize("kwargs,error,fragment", [
    (dict(molecule="H2", charge=3), InputError, "-1 electrons"),
    (dict(molecule="H2", spin=1), InputError, "impossible"),
    (dict(molecule="H2", charge=0.5), InputError, "charge must be an integer"),
    (dict(molecule="H 0 0 0; H 0 0 0"), InputError, "apart"),
    (dict(molecule="H 0 0 0; H 0 0 1e-6"), InputError, "linearly dependent"),
    (dict(molecule="H 0 0 nan; H 0 0 0.74"), InputError, "finite coordinates"),
    (dict(molecule="H 0 0 inf; H 0 0 0.74"), InputError, "finite coordinates"),
    (dict(molecule="Xx 0 0 0; H 0 0 1"), InputError, "unknown element"),
    (dict(molecule="H2", basis="no-such-basis"), InputError, "basis"),
    (dict(molecule="Unobtainium"), UnknownNameError, "known: BeH2"),
    (dict(molecule=5), InputError, "atom string"),
    (dict(molecule="H2", unit="furlong"), InputError, "unit"),
    (dict(molecule="/no/such/file.xyz"), DataFileError, "cannot read"),
    (dict(molecule="hchain0"), InputError, "n must be"),
    (dict(molecule="hchain100000"), ResourceError, "PiB"),
    (dict(molecule="LiH", active_space=(2,)), InputError, "active_space"),
    (dict(molecule="LiH", active_space=(2, 10)), InputError, "does not fit"),
    (dict(molecule="LiH", active_space=(-2, 2)), InputError, "does not fit"),
    (dict(molecule="LiH", active_space="ab"), InputError, "active_space"),
])
def test_molecular_hamiltonian_bad_input(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        molecular_hamiltonian(**kwargs)


def test_memory_refused_before_allocating(monkeypatch):
    monkeypatch.setenv("PHYSFACT_MAX_MEMORY", "100K")
    with pytest.raises(ResourceError, match="integrals"):       # 3 * 8 * 13^4 bytes of ERI > 100 KiB
        molecular_hamiltonian("H2O", basis="6-31g")
    with pytest.raises(ResourceError, match="FCI of 12 orbitals"):
        h = np.eye(12)
        fci_ground_state(h, np.zeros((12,) * 4), 12, (6, 6))


@pytest.mark.parametrize("kwargs,fragment", [
    (dict(constant=np.nan), "finite"),
    (dict(one_body=np.full((2, 2), np.nan)), "non-finite"),
    (dict(n_electrons=-2), "n_electrons"),
    (dict(n_electrons=6), "do not fit"),
    (dict(one_body=np.eye(3)), "orbitals"),
    (dict(spin="a"), "spin"),
    (dict(two_body=np.ones(7)), "s8"),
])
def test_hamiltonian_container_bad_input(mol, kwargs, fragment):
    H = mol("H2")
    args = dict(constant=0.0, one_body=H.one_body, two_body=H.two_body, n_electrons=2)
    args.update(kwargs)
    with pytest.raises(InputError, match=fragment):
        MolecularHamiltonian(**args)


# ------------------------------------------------------------------ double_factorize and friends
@pytest.mark.parametrize("kwargs,fragment", [
    (dict(tol=np.nan), "tol"), (dict(tol=-1), "tol"), (dict(rank=0), "rank"), (dict(rank=1.5), "rank"),
    (dict(target_error=-1), "target_error"), (dict(target_error=np.inf), "target_error"),
    (dict(method="svd"), "method"), (dict(method="cholesky", block=0), "block"),
    (dict(first_level="foo"), "first_level"), (dict(leaf_tol=np.nan), "leaf_tol"),
    (dict(target_error=1, energy_method="dmrg"), "energy method"),
])
def test_double_factorize_bad_options(mol, kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        double_factorize(mol("H2"), **kwargs)


@pytest.mark.parametrize("two_body,fragment", [
    (np.full((2, 2, 2, 2), np.nan), "non-finite"), (np.ones((2, 3)), "square"), ("abc", "numeric"),
    (None, "numeric"), (np.ones((2, 2, 2, 2)) * 1j, "real"), (-np.ones((2, 2, 2, 2)), "semidefinite"),
    (np.ones(7), "s8"),
])
def test_double_factorize_bad_arrays(two_body, fragment):
    with pytest.raises(InputError, match=fragment):
        double_factorize(two_body)
    if fragment != "semidefinite":   # restoring does not diagonalise
        with pytest.raises(InputError):
            restore_two_body(two_body)


def test_pivoted_cholesky_returns_on_tied_maxima():
    """block < number of tied diagonal maxima used to loop forever."""
    res = pivoted_cholesky(np.eye(10), tol=1e-8, block=2)
    assert res.rank == 10 and list(res.pivots) == list(range(10))   # ties: lowest index first
    assert res.residual_max[-1] == 0.0


def test_cholesky_block_one_matches_block_sixteen(mol):
    H = mol("H2O")
    a = double_factorize(H, method="cholesky", block=1, tol=1e-4)
    b = double_factorize(H, method="cholesky", block=16, tol=1e-4)
    assert a.n_leaves == b.n_leaves
    assert a.two_body_error["max_abs"] == pytest.approx(b.two_body_error["max_abs"], rel=1e-8)
    assert a.two_body_error["max_abs"] <= 1e-4   # the max_residual rule bounds the ERI error


@pytest.mark.parametrize("kwargs,fragment", [
    (dict(V=np.full((3, 3), np.nan)), "non-finite"), (dict(V=np.eye(3), tol=-1), "tol"),
    (dict(V=np.eye(3), block=0), "block"), (dict(V=np.ones((2, 3))), "square"),
    (dict(V=np.eye(3), max_rank=-1), "max_rank"), (dict(V=np.eye(3), stop="x"), "stop"),
    (dict(V=-np.eye(3)), "semidefinite"),
])
def test_pivoted_cholesky_bad_input(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        pivoted_cholesky(**kwargs)


@pytest.mark.parametrize("args,fragment", [
    ((0.0, np.full((2, 2), np.nan), np.zeros((2,) * 4)), "non-finite"),
    ((0.0, np.eye(2), np.zeros((3,) * 4)), "orbitals"),
    ((np.nan, np.eye(2), np.zeros((2,) * 4)), "finite number"),
    (("x", np.eye(2), np.zeros((2,) * 4)), "finite number"),
])
def test_openfermion_export_bad_input(args, fragment):
    from physfact.chem.export import interaction_operator

    with pytest.raises(InputError, match=fragment):
        interaction_operator(*args)


def test_downstream_entry_points_refuse_wrong_objects(mol):
    df = double_factorize(mol("H2"), tol=1e-6)
    with pytest.raises(InputError, match="DoubleFactorization"):
        measurement_groups(np.eye(2))
    with pytest.raises(InputError, match="MolecularHamiltonian"):
        pauli_groups(None)
    with pytest.raises(InputError, match="cutoff"):
        pauli_groups(mol("H2"), cutoff=-1)
    with pytest.raises(InputError, match="dE"):
        df.qubitization_cost(dE=np.nan)
    with pytest.raises(InputError, match="energy method"):
        energy_errors(df, method="foo")
    with pytest.raises(InputError, match="MolecularHamiltonian"):
        energy_errors(double_factorize(mol("H2").two_body))
    with pytest.raises(InputError, match="convention"):
        truncated_hamiltonian(df, "C")
    with pytest.raises(InputError, match="n_leaves"):
        df.truncate(-1)
    with pytest.raises(InputError, match="maxiter"):
        df.compress(maxiter=-1)
    with pytest.raises(InputError, match="maxiter"):
        df.compress(maxiter=10**9)
    with pytest.raises(InputError, match="h_chain|n must"):
        h_chain(0)


# ------------------------------------------------------------------ files
def test_fcidump_cut_short_or_header_only_is_refused(mol, tmp_path):
    H = mol("H2O")
    good = H.to_fcidump(tmp_path / "h2o.fcidump")
    assert from_fcidump(good).fci_energy() == pytest.approx(H.fci_energy(), abs=1e-9)
    text = good.read_text()
    header_end = text.index("&END") + len("&END\n")
    cases = {
        "cut.fcidump": text[: text.rindex("\n", 0, len(text) // 2)] + "\n",   # cut at a line boundary
        "mid.fcidump": text[: len(text) // 2],                                  # cut inside a line
        "nocore.fcidump": text[: text.rstrip().rindex("\n") + 1],               # only the core line lost
        "header.fcidump": text[:header_end],
        "blank.fcidump": text[:header_end] + "\n" + text[header_end:],
        "nan.fcidump": text.replace(text[header_end:].split()[0], "nan", 1),
        "index.fcidump": text[:header_end] + " 0.5 9 9 9 9\n" + text[header_end:],
    }
    for name, body in cases.items():
        p = tmp_path / name
        p.write_text(body)
        with pytest.raises(DataFileError):
            from_fcidump(p)
    # the cut-short file used to load with an energy 8 Ha off; a foreign complete file still loads
    with pytest.raises(DataFileError, match="no such"):
        from_fcidump(tmp_path / "absent.fcidump")


@pytest.fixture(scope="module")
def saved_df(tmp_path_factory):
    from physfact.chem import molecular_hamiltonian as mh

    df = double_factorize(mh("H2"), tol=1e-6)
    path = tmp_path_factory.mktemp("df") / "h2.h5"
    df.save(path)
    return df, path


def _mutated(path, tmp_path, change):
    p = tmp_path / "m.h5"
    shutil.copy(path, p)
    with h5py.File(p, "a") as h:
        change(h)
    return p


def _replace(name, value):
    def change(h):
        del h[name]
        h.create_dataset(name, data=value)
    return change


@pytest.mark.parametrize("change,fragment", [
    (lambda h: h.__delitem__("eigenvalues"), "missing eigenvalues"),
    (lambda h: h.attrs.__delitem__("rule"), "missing rule"),
    (lambda h: h["eigenvalues"].__setitem__((0, 0), np.nan), "NaN"),
    (_replace("orbital_rotations", np.zeros((1, 3, 3))), "shape"),
    (_replace("first_level_values", np.zeros(7)), "shape"),
    (lambda h: h["orbital_rotations"].__setitem__((0, 0, 0), 5.0), "orthogonal"),
    (_replace("exact_two_body_s8", np.zeros(5)), "exact_two_body_s8"),
    (lambda h: h.attrs.__setitem__("constant", np.nan), "constant"),
])
def test_load_double_factorization_refuses_inconsistent_files(saved_df, tmp_path, change, fragment):
    _, path = saved_df
    with pytest.raises(DataFileError, match=fragment):
        load_double_factorization(_mutated(path, tmp_path, change))


def test_load_double_factorization_refuses_truncated_and_foreign_files(saved_df, tmp_path):
    _, path = saved_df
    cut = tmp_path / "cut.h5"
    cut.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(DataFileError):
        load_double_factorization(cut)
    text = tmp_path / "text.h5"
    text.write_text("hello")
    with pytest.raises(DataFileError):
        load_double_factorization(text)
    with pytest.raises(DataFileError, match="no such"):
        load_double_factorization(tmp_path / "absent.npz")


# ------------------------------------------------------------------ #11: what df --out carries
@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_df_out_reloads_and_reproduces_every_printed_number(capsys, tmp_path, suffix):
    from physfact.chem.measurement import pauli_groups as pg

    out = tmp_path / f"h2o{suffix}"
    assert main(["df", "H2O", "--tol", "1e-3", "--json", "--quiet", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    df = load_double_factorization(out)
    H = df.hamiltonian
    assert (H.name, H.basis, H.n_orbitals, H.n_electrons) == ("H2O", "sto-3g", 7, 10)
    assert H.geometry.startswith("O ") and H.geometry.count(";") == 2
    assert "max_residual <= 0.001" in df.rule and df.rule == printed["rule"]
    assert (df.n_leaves, df.n_eigenvectors, df.n_groups) == (printed["n_leaves"], printed["n_eigenvectors"],
                                                              printed["n_groups"])
    assert df.two_body_error["max_abs"] == pytest.approx(printed["eri_max_abs_error"], rel=1e-12)
    assert df.two_body_error["frobenius"] == pytest.approx(printed["eri_frobenius_error"], rel=1e-12)
    assert df.first_level_residual == pytest.approx(printed["first_level_residual"], rel=1e-12)
    assert df.one_norm() == pytest.approx(printed["one_norm"], rel=1e-12)
    assert df.qubitization_cost().toffolis == printed["toffolis"]
    p = pg(H)
    assert (p.n_terms, p.n_groups) == (printed["pauli_terms"], printed["pauli_qwc_groups"])
    rep, e = df.energy_report, printed["energies"]
    for key in ("exact", "A", "B", "error_A_mha", "error_B_mha"):
        assert rep[key] == pytest.approx(e[key], rel=1e-12)
    # and recomputed from the reloaded object (an FCI independent of the stored report)
    again = df.energies()
    assert again["exact"] == pytest.approx(e["exact"], abs=1e-9)
    assert again["error_B_mha"] == pytest.approx(e["error_B_mha"], abs=1e-5)
    assert e["exact"] == pytest.approx(molecular_hamiltonian("H2O").fci_energy(), abs=1e-9)


def test_tt_molecule_and_df_share_the_library():
    from physfact.chem.molecules import resolve_geometry
    from physfact.tt.molecule import molecule_geometry

    for name in ("h2o", "H2O", "ch4", "nh3", "LiH"):
        assert molecule_geometry(name) == resolve_geometry(name)[0]
    assert molecule_geometry("h4") == resolve_geometry("hchain4")[0]


# ------------------------------------------------------------------ physfact df flags
@pytest.mark.parametrize("argv,code,fragment", [
    (["df", "H2", "--tol", "nan"], 2, "--tol"),
    (["df", "H2", "--tol", "-1"], 2, "--tol"),
    (["df", "H2", "--target-error", "0"], 2, "--target-error"),
    (["df", "H2", "--target-error", "inf"], 2, "--target-error"),
    (["df", "H2", "--leaf-tol", "nan"], 2, "--leaf-tol"),
    (["df", "H2", "--rank", "0"], 2, "--rank"),
    (["df", "H2", "--rank", "-3"], 2, "--rank"),
    (["df", "H2", "--tol", "1e-3", "--charge", "5"], 2, "electrons"),
    (["df", "H2", "--tol", "1e-3", "--spin", "1"], 2, "impossible"),
    (["df", "H 0 0 0; H 0 0 0", "--tol", "1e-3"], 2, "apart"),
    (["df", "H2", "--tol", "1e-3", "--basis", "nope"], 2, "basis"),
    (["df", "Unobtainium", "--tol", "1e-3"], 2, "known"),
    (["df", "hchain100000", "--tol", "1e-3"], 2, "memory"),
    (["df", "LiH", "--tol", "1e-3", "--active-space", "-2", "2"], 2, "active-space"),
    (["df", "LiH", "--tol", "1e-3", "--active-space", "2", "10"], 2, "does not fit"),
    (["df", "H2", "--tol", "1e-3", "--out", "x.txt"], 2, "--out"),
    (["df", "H2", "--tol", "1e-3", "--out", "/no/such/dir/x.h5"], 2, "does not exist"),
    (["df", "H2", "--tol", "1e-3", "--plot", "x.doc"], 2, "--plot"),
    (["df", "/no/such.fcidump", "--tol", "1e-3"], 2, "no such"),
    (["df", "H2", "--target-error", "1e-9", "--method", "eigh", "--rank", "1", "--quiet"], 2, "target"),
])
def test_df_cli_bad_input_one_line(capsys, argv, code, fragment):
    assert main(argv) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err and err.startswith("physfact: error:")


def test_df_cli_cut_short_fcidump_is_one_line(capsys, tmp_path, mol):
    path = mol("H2").to_fcidump(tmp_path / "h2.fcidump")
    text = path.read_text()
    path.write_text(text[: text.rstrip().rindex("\n") + 1])
    assert main(["df", str(path), "--tol", "1e-3", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "cut short" in err


def test_physfact_errors_are_the_only_exceptions():
    # every class above derives from PhysfactError (the CLI's contract)
    for cls in (InputError, DataFileError, UnknownNameError, ResourceError, ConvergenceError):
        assert issubclass(cls, PhysfactError)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), rank=st.integers(0, 6), copies=st.integers(1, 3), block=st.integers(1, 5),
       seed=st.integers(0, 1000), scale=st.sampled_from([1e-150, 1.0, 1e150]))
def test_pivoted_cholesky_terminates_and_bounds_the_residual(n, rank, copies, block, seed, scale):
    """Any PSD matrix (tied diagonals from repeated blocks, any scale): returns, with
    max |V - L^T L| <= tol (the residual is PSD, so its diagonal bounds every entry)."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((rank, n))
    V = np.kron(np.eye(copies), G.T @ G) * scale     # `copies` equal diagonal blocks: exact ties
    tol = 1e-10 * max(float(np.max(np.diagonal(V))), 1e-300)
    res = pivoted_cholesky(V, tol=tol, block=block)
    assert res.rank <= copies * min(rank, n) + 1
    err = np.max(np.abs(V - res.vectors.T @ res.vectors)) if V.size else 0.0
    assert err <= 10 * tol + 1e-12 * max(float(np.max(np.abs(V))), 1e-300)


def test_bare_two_body_factorization_round_trips_with_its_errors(mol, tmp_path):
    df = double_factorize(mol("LiH").two_body, tol=1e-3)
    back = load_double_factorization(df.save(tmp_path / "bare.npz"))
    assert back.hamiltonian is None and back.n_electrons is None
    assert back.two_body_error["max_abs"] == pytest.approx(df.two_body_error["max_abs"], rel=1e-12)
