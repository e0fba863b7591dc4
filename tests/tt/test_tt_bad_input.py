"""Every public entry point of physfact.tt answers bad input with a specific PhysfactError whose
message says what to fix (issue #10 section 3), and refuses impossible sizes before allocating
(section 4)."""
import numpy as np
import pytest

from physfact.errors import DataFileError, InputError, ResourceError, UnknownNameError
from physfact.tt import (
    MPS,
    TensorTrain,
    entropy_from_probabilities,
    maxvol,
    qtt_cross,
    qtt_from_vector,
    qtt_values,
    quantics_grid,
    quantics_index,
    random_mps_cores,
    sample_error,
    schmidt_entropy,
    schmidt_spectrum_of_cores,
    tsqr_r,
    tt_cross,
    tt_svd,
)
from physfact.tt.models import (
    SpinChain,
    calabrese_cardy_fit,
    chord_variable,
    fci_to_mps,
    fiedler_order,
    ground_state,
    heisenberg,
    orbital_entanglement,
    orbital_entanglement_from_ci,
    tfim,
    tfim_correlation_matrix,
    tfim_energy_exact,
    tfim_entropies_exact,
    tfim_majorana_matrix,
)

nan, inf = float("nan"), float("inf")


def tt22():
    return TensorTrain.from_dense(np.arange(1.0, 5.0).reshape(2, 2))


def mps4():
    return MPS.from_statevector(np.arange(1.0, 5.0))


def ones(idx):
    return np.ones(len(idx))


CASES = [
    # TensorTrain construction and algebra
    ("TT no cores", lambda: TensorTrain([]), InputError, "at least one core"),
    ("TT not a sequence", lambda: TensorTrain(5), InputError, "sequence of 3-D arrays"),
    ("TT 2-D core", lambda: TensorTrain([np.ones((1, 2))]), InputError, "3 dimensions"),
    ("TT ranks", lambda: TensorTrain([np.ones((1, 2, 2)), np.ones((3, 2, 1))]), InputError, "left rank"),
    ("TT boundary", lambda: TensorTrain([np.ones((2, 2, 1))]), InputError, "boundary ranks"),
    ("TT nan core", lambda: TensorTrain([np.full((1, 2, 1), nan)]), InputError, "NaN or inf"),
    ("TT str core", lambda: TensorTrain([np.array([[["a"]]])]), InputError, "numeric"),
    ("TT order", lambda: TensorTrain([np.ones((1, 2, 1))], order="X"), InputError, "order"),
    ("from_dense nan", lambda: TensorTrain.from_dense(np.full((2, 2), nan)), InputError, "non-finite"),
    ("from_dense tol<0", lambda: TensorTrain.from_dense(np.ones((2, 2)), tol=-1), InputError, "tol"),
    ("from_dense tol nan", lambda: TensorTrain.from_dense(np.ones((2, 2)), tol=nan), InputError, "tol"),
    ("from_dense tol 1", lambda: TensorTrain.from_dense(np.ones((2, 2)), tol=1), InputError, r"\[0, 1\)"),
    ("from_dense dims", lambda: TensorTrain.from_dense(np.ones(8), dims=(2, 2)), InputError, "hold 4 entries"),
    ("from_dense dims 0", lambda: TensorTrain.from_dense(np.ones(8), dims=(0, 2)), InputError, "dims entry"),
    ("from_dense dims float", lambda: TensorTrain.from_dense(np.ones(8), dims=(2.5, 2)), InputError, "integer"),
    ("from_dense max_rank 0", lambda: TensorTrain.from_dense(np.ones((2, 2)), max_rank=0), InputError, "max_rank"),
    ("from_dense str", lambda: TensorTrain.from_dense("abc"), InputError, "numeric"),
    ("from_dense scalar", lambda: TensorTrain.from_dense(3.0), InputError, "at least one dimension"),
    ("from_dense order", lambda: TensorTrain.from_dense(np.ones(4), dims=(2, 2), order="Z"), InputError, "order"),
    ("TT + mismatch", lambda: tt22() + TensorTrain.from_dense(np.ones((2, 3))), InputError, "mode sizes differ"),
    ("TT + scalar", lambda: tt22() + 1.0, InputError, "another TensorTrain"),
    ("TT - array", lambda: tt22() - np.ones((2, 2)), InputError, "another TensorTrain"),
    ("TT + order", lambda: tt22() + TensorTrain.from_dense(np.ones(4), dims=(2, 2), order="F"), InputError, "orders"),
    ("TT * nan", lambda: tt22() * nan, InputError, "finite"),
    ("TT * array", lambda: tt22() * np.ones(2), InputError, "hadamard"),
    ("TT / 0", lambda: tt22() / 0, InputError, "non-zero"),
    ("TT / str", lambda: tt22() / "a", InputError, "non-zero scalar"),
    ("TT dot mismatch", lambda: tt22().dot(TensorTrain.from_dense(np.ones((2, 2, 2)))), InputError, "mode sizes"),
    ("TT dot array", lambda: tt22().dot(np.ones((2, 2))), InputError, "another TensorTrain"),
    ("TT hadamard", lambda: tt22().hadamard(TensorTrain.from_dense(np.ones((3, 2)))), InputError, "mode sizes"),
    ("TT round tol 2", lambda: tt22().round(tol=2), InputError, "tol"),
    ("TT round max_rank", lambda: tt22().round(max_rank=-1), InputError, "max_rank"),
    ("TT canonicalize 5", lambda: tt22().canonicalize(5), InputError, "outside the train"),
    ("TT canonicalize -1", lambda: tt22().canonicalize(-1), InputError, "center"),
    ("TT entry range", lambda: tt22().entry((0, 5)), InputError, "out of range"),
    ("TT entry count", lambda: tt22().entry((0,)), InputError, "2 indices"),
    ("TT entry str", lambda: tt22().entry(("a", "b")), InputError, "integer indices"),
    ("TT entry float", lambda: tt22().entry((0.5, 0)), InputError, "integer indices"),
    ("tt_svd dims", lambda: tt_svd(np.ones(4), dims=(3,)), InputError, "hold 3 entries"),
    ("tsqr_r 1-D", lambda: tsqr_r(np.ones(3)), InputError, "2-D"),
    # MPS
    ("MPS psi 2-D", lambda: MPS.from_statevector(np.ones((2, 2))), InputError, "flat state vector"),
    ("MPS psi length", lambda: MPS.from_statevector(np.ones(3)), InputError, "not a power"),
    ("MPS psi one amplitude", lambda: MPS.from_statevector(np.ones(1)), InputError, "at least 2 amplitudes"),
    ("MPS psi empty", lambda: MPS.from_statevector(np.ones(0)), InputError, "at least 2 amplitudes"),
    ("MPS psi nan", lambda: MPS.from_statevector(np.full(4, nan)), InputError, "non-finite"),
    ("MPS psi str", lambda: MPS.from_statevector(np.array(list("abcd"))), InputError, "numeric"),
    ("MPS zero state", lambda: MPS.from_statevector(np.zeros(4)).entanglement_entropy(), InputError, "zero state"),
    ("MPS dims 1", lambda: MPS.from_statevector(np.ones(4), dims=1), InputError, "dims must be >= 2"),
    ("MPS dims str", lambda: MPS.from_statevector(np.ones(4), dims="a"), InputError, "dims"),
    ("MPS dims product", lambda: MPS.from_statevector(np.ones(4), dims=[3, 3]), InputError, "hold 9"),
    ("MPS dims entry str", lambda: MPS.from_statevector(np.ones(4), dims=["a", 2]), InputError, "integer"),
    ("MPS max_bond 0", lambda: MPS.from_statevector(np.ones(4), max_bond=0), InputError, "max_rank"),
    ("MPS tol 1", lambda: MPS.from_statevector(np.ones(4), tol=1), InputError, "tol"),
    ("MPS bond 9", lambda: mps4().schmidt_values(9), InputError, "bonds 0 .. 0"),
    ("MPS bond str", lambda: mps4().schmidt_values("a"), InputError, "integer"),
    ("MPS bond -1", lambda: mps4().entanglement_entropy(bond=-1), InputError, "bond"),
    ("MPS base 1", lambda: mps4().entanglement_entropy(base=1), InputError, "base"),
    ("MPS base str", lambda: mps4().entanglement_entropy(base="e"), InputError, "base"),
    ("MPS alpha<0", lambda: mps4().entanglement_entropy(alpha=-1), InputError, "alpha"),
    ("MPS rank_profile nan", lambda: mps4().rank_profile([nan]), InputError, r"\[0, 1\)"),
    ("MPS rank_profile str", lambda: mps4().rank_profile("a"), InputError, "tols"),
    ("MPS expectation shape", lambda: mps4().expectation(np.eye(3), 0), InputError, "2 x 2"),
    ("MPS expectation nan", lambda: mps4().expectation(np.full((2, 2), nan), 0), InputError, "non-finite"),
    ("MPS expectation site", lambda: mps4().expectation(np.eye(2), 5), InputError, "outside"),
    ("MPS local_expectations count", lambda: mps4().local_expectations([np.eye(2)]), InputError, "one operator"),
    ("MPS normalized zero", lambda: MPS([np.zeros((1, 2, 1)), np.zeros((1, 2, 1))]).normalized(), InputError,
     "zero state"),
    ("MPS from_tensor_train", lambda: MPS.from_tensor_train(3), InputError, "TensorTrain"),
    ("MPS from_quimb", lambda: MPS.from_quimb(3), InputError, "quimb MatrixProductState"),
    ("random_mps_cores L 0", lambda: random_mps_cores(0, 2), InputError, "L must be >= 1"),
    ("random_mps_cores seed", lambda: random_mps_cores(3, 2, seed="x"), InputError, "seed"),
    ("schmidt_spectrum_of_cores shape", lambda: schmidt_spectrum_of_cores([np.ones((1, 2))]), InputError, "shape"),
    ("schmidt_spectrum_of_cores nan", lambda: schmidt_spectrum_of_cores([np.full((1, 2, 2), nan), np.ones((2, 2, 1))]),
     InputError, "non-finite|NaN"),
    ("schmidt_spectrum center", lambda: schmidt_spectrum_of_cores([np.ones((1, 2, 2)), np.ones((2, 2, 1))], center=5),
     InputError, "outside"),
    ("entropy negative p", lambda: entropy_from_probabilities([-1, 2]), InputError, "non-negative"),
    ("entropy 2-D p", lambda: entropy_from_probabilities([[1]]), InputError, "vector"),
    ("entropy str p", lambda: entropy_from_probabilities("ab"), InputError, "numbers"),
    ("entropy zero p", lambda: schmidt_entropy([0.0, 0.0]), InputError, "zero"),
    ("schmidt_entropy nan", lambda: schmidt_entropy([nan, 1]), InputError, "finite"),
    # cross and quantics
    ("tt_cross f", lambda: tt_cross(3, (2, 2)), InputError, "callable"),
    ("tt_cross f shape", lambda: tt_cross(lambda i: np.ones(3), (4, 4)), InputError, "one value per index row"),
    ("tt_cross f scalar", lambda: tt_cross(lambda i: 1.0, (4, 4)), InputError, "one value per index row"),
    ("tt_cross f nan", lambda: tt_cross(lambda i: np.full(len(i), nan), (4, 4)), InputError, "non-finite"),
    ("tt_cross one dim", lambda: tt_cross(ones, (4,)), InputError, "at least 2"),
    ("tt_cross dims 0", lambda: tt_cross(ones, (4, 0)), InputError, "dims entry"),
    ("tt_cross dims str", lambda: tt_cross(ones, "ab"), InputError, "dims"),
    ("tt_cross tol 0", lambda: tt_cross(ones, (4, 4), tol=0), InputError, "tol"),
    ("tt_cross tol 1", lambda: tt_cross(ones, (4, 4), tol=1), InputError, "tol"),
    ("tt_cross seed", lambda: tt_cross(ones, (4, 4), seed=-1), InputError, "seed"),
    ("tt_cross sweeps", lambda: tt_cross(ones, (4, 4), max_sweeps=10**9), InputError, "max_sweeps"),
    ("tt_cross init_rank", lambda: tt_cross(ones, (4, 4), init_rank=0), InputError, "init_rank"),
    ("maxvol wide", lambda: maxvol(np.ones((2, 3))), InputError, "tall"),
    ("maxvol nan", lambda: maxvol(np.full((3, 2), nan)), InputError, "non-finite"),
    ("maxvol 1-D", lambda: maxvol(np.ones(3)), InputError, "dimensions"),
    ("maxvol tol", lambda: maxvol(np.ones((3, 2)), tol=0.5), InputError, ">= 1"),
    ("maxvol iters", lambda: maxvol(np.ones((3, 2)), max_iters=10**9), InputError, "max_iters"),
    ("sample_error tt", lambda: sample_error(3, ones), InputError, "TensorTrain"),
    ("sample_error f", lambda: sample_error(tt22(), lambda i: np.ones(3)), InputError, "finite values"),
    ("qtt_from_vector length", lambda: qtt_from_vector(np.ones(3)), InputError, "2\\^L"),
    ("qtt_from_vector nan", lambda: qtt_from_vector(np.full(4, nan)), InputError, "non-finite"),
    ("qtt_cross levels 1", lambda: qtt_cross(np.sin, 0, 1, 1), InputError, "levels"),
    ("qtt_cross levels 100", lambda: qtt_cross(np.sin, 0, 1, 100), InputError, "levels"),
    ("qtt_cross a > b", lambda: qtt_cross(np.sin, 1, 0, 4), InputError, "a < b"),
    ("qtt_cross a nan", lambda: qtt_cross(np.sin, nan, 0, 4), InputError, "finite"),
    ("qtt_cross f", lambda: qtt_cross("sin", 0, 1, 4), InputError, "callable"),
    ("qtt_cross f nan", lambda: qtt_cross(lambda x: np.full_like(x, nan), 0, 1, 4), InputError, "non-finite"),
    ("quantics_grid a", lambda: quantics_grid("a", 1, 3), InputError, "two numbers"),
    ("quantics_index bits", lambda: quantics_index(np.array([[2, 0]])), InputError, "0/1"),
    ("quantics_index 1-D", lambda: quantics_index(np.array([1, 0])), InputError, "0/1"),
    ("qtt_values j", lambda: qtt_values(qtt_from_vector(np.ones(4)), [9]), InputError, "grid indices"),
    ("qtt_values float j", lambda: qtt_values(qtt_from_vector(np.ones(4)), [0.5]), InputError, "grid indices"),
    ("qtt_values tt", lambda: qtt_values(tt22(), [0]) if False else qtt_values(TensorTrain.from_dense(np.ones((3, 2))),
                                                                                 [0]), InputError, "quantics"),
    # spin chains, free fermions, Calabrese-Cardy
    ("tfim L 0", lambda: tfim(0), InputError, "L must be >= 2"),
    ("tfim L str", lambda: tfim("a"), InputError, "integer"),
    ("tfim g nan", lambda: tfim(4, g=nan), InputError, "g must be a finite"),
    ("tfim g str", lambda: tfim(4, g="x"), InputError, "g must be a finite"),
    ("tfim J inf", lambda: tfim(4, J=inf), InputError, "J must be a finite"),
    ("tfim boundary", lambda: tfim(4, boundary="x"), InputError, "boundary"),
    ("heisenberg delta nan", lambda: heisenberg(4, delta=nan), InputError, "delta"),
    ("SpinChain model", lambda: SpinChain("potts", 4), InputError, "model"),
    ("SpinChain params", lambda: SpinChain("tfim", 4, {}), InputError, "keys"),
    ("SpinChain param str", lambda: SpinChain("tfim", 4, {"J": "a", "g": 1.0}), InputError, "finite"),
    ("ground_state chain", lambda: ground_state(3), InputError, "SpinChain"),
    ("ground_state tol", lambda: ground_state(tfim(4), tol=-1), InputError, "tol"),
    ("ground_state k 0", lambda: ground_state(tfim(4), k=0), InputError, "k must be >= 1"),
    ("ground_state k 99", lambda: ground_state(tfim(4), k=99), InputError, "eigenpairs"),
    ("ground_state seed", lambda: ground_state(tfim(4), seed="x"), InputError, "seed"),
    ("ground_state L 100", lambda: ground_state(tfim(100), method="lanczos"), ResourceError, "beyond any machine"),
    ("ground_state method", lambda: ground_state(tfim(4), method="ed"), InputError, "method"),
    ("matvec shape", lambda: tfim(4).matvec(np.ones(3)), InputError, "16 amplitudes"),
    ("to_sparse big", lambda: tfim(30).to_sparse(), InputError, "small chains"),
    ("tfim_energy_exact L", lambda: tfim_energy_exact(0), InputError, "L must be >= 1"),
    ("tfim_energy_exact g", lambda: tfim_energy_exact(4, g=nan), InputError, "finite"),
    ("tfim_energy_exact boundary", lambda: tfim_energy_exact(4, boundary="x"), InputError, "boundary"),
    ("tfim_entropies_exact zero mode", lambda: tfim_entropies_exact(4, g=0.0, J=0.0), InputError, "zero mode"),
    ("tfim_entropies_exact nan", lambda: tfim_entropies_exact(4, g=nan), InputError, "finite"),
    ("tfim_entropies_exact base", lambda: tfim_entropies_exact(4, base=0.5), InputError, "base"),
    ("tfim_majorana_matrix L", lambda: tfim_majorana_matrix("a"), InputError, "integer"),
    ("tfim_correlation_matrix J", lambda: tfim_correlation_matrix(4, J=nan), InputError, "finite"),
    ("calabrese_cardy short", lambda: calabrese_cardy_fit([1.0, 2.0]), InputError, "fewer than 3"),
    ("calabrese_cardy nan", lambda: calabrese_cardy_fit([nan] * 10), InputError, "non-finite"),
    ("calabrese_cardy L", lambda: calabrese_cardy_fit(np.ones(10), L=5), InputError, "values"),
    ("calabrese_cardy L str", lambda: calabrese_cardy_fit(np.ones(10), L="x"), InputError, "integer"),
    ("calabrese_cardy boundary", lambda: calabrese_cardy_fit(np.ones(10), boundary="x"), InputError, "boundary"),
    ("calabrese_cardy margin", lambda: calabrese_cardy_fit(np.ones(10), margin=nan), InputError, "margin"),
    ("calabrese_cardy window", lambda: calabrese_cardy_fit(np.ones(10), window=(5, 2)), InputError, "fewer than 3"),
    ("calabrese_cardy window str", lambda: calabrese_cardy_fit(np.ones(10), window="ab"), InputError, "window"),
    ("chord_variable boundary", lambda: chord_variable([1], 4, "x"), InputError, "boundary"),
    # molecules (no PySCF needed for these)
    ("fiedler nan", lambda: fiedler_order(np.full((3, 3), nan)), InputError, "non-finite"),
    ("fiedler non-square", lambda: fiedler_order(np.ones((3, 2))), InputError, "square"),
    ("fci_to_mps shape", lambda: fci_to_mps(np.ones((2, 3)), 2, (1, 1)), InputError, "shape"),
    ("fci_to_mps electrons str", lambda: fci_to_mps(np.ones((2, 2)), 2, "ab"), InputError, "n_electrons|integer"),
    ("fci_to_mps electrons > orbitals", lambda: fci_to_mps(np.ones((2, 2)), 2, (5, 5)), InputError, "do not fit"),
    ("fci_to_mps electrons < 0", lambda: fci_to_mps(np.ones((2, 2)), 2, (-1, 1)), InputError, "electron count"),
    ("fci_to_mps nan", lambda: fci_to_mps(np.full((2, 2), nan), 2, (1, 1)), InputError, "non-finite"),
    ("fci_to_mps order", lambda: fci_to_mps(np.ones((2, 2)), 2, (1, 1), order=[0, 0]), InputError, "permutation"),
    ("fci_to_mps tol", lambda: fci_to_mps(np.ones((2, 2)), 2, (1, 1), tol=nan), InputError, "tol"),
    ("fci_to_mps zero", lambda: fci_to_mps(np.zeros((2, 2)), 2, (1, 1)), InputError, "zero"),
    ("orbital_entanglement_from_ci shape", lambda: orbital_entanglement_from_ci(np.ones((2, 3)), 2, (1, 1)),
     InputError, "shape"),
    ("orbital_entanglement type", lambda: orbital_entanglement(3), InputError, "orbital MPS"),
    ("orbital_entanglement qubits", lambda: orbital_entanglement(mps4()), InputError, "local dimension 4"),
]


@pytest.mark.parametrize("name, call, exc, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_specific_error(name, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


SIZE_CASES = [
    ("TT full", lambda: TensorTrain([np.ones((1, 10**4, 1))] * 6).full(), "full tensor"),
    ("TT-SVD of a broadcast tensor", lambda: TensorTrain.from_dense(np.broadcast_to(1.0, (2,) * 40)), "TT-SVD"),
    ("tt_cross 10^9 grid", lambda: tt_cross(ones, (10**9, 10**9)), "TT-cross supercore"),
    ("tt_cross 10^5 x 10^5", lambda: tt_cross(ones, (10**5,) * 3), "TT-cross supercore"),
    ("quantics grid", lambda: quantics_grid(0, 1, 60), "quantics grid"),
    ("random cores", lambda: random_mps_cores(10**6, 10**4), "random cores"),
    ("ED of 30 sites", lambda: ground_state(tfim(30), method="lanczos"), "Lanczos"),
    ("free fermions", lambda: tfim_energy_exact(10**6), "free-fermion"),
]


@pytest.mark.parametrize("name, call, match", SIZE_CASES, ids=[c[0] for c in SIZE_CASES])
def test_impossible_sizes_refused_with_the_estimate(name, call, match, monkeypatch):
    monkeypatch.setenv("PHYSFACT_MAX_MEMORY", "1G")
    with pytest.raises(ResourceError, match=match) as info:
        call()
    assert "needs about" in str(info.value) and "PHYSFACT_MAX_MEMORY" in str(info.value)


def test_molecule_checks_before_any_scf(monkeypatch):
    from physfact.tt.molecule import build_molecule, molecule_mps

    monkeypatch.setenv("PHYSFACT_MAX_MEMORY", "64G")
    # N2/cc-pVDZ: 28 orbitals, 7 + 7 electrons, C(28,7)^2 = 1.4e12 determinants: refused in well under a second
    with pytest.raises(ResourceError, match=r"1.4e\+12 determinants.*TiB"):
        build_molecule("n2", basis="cc-pvdz")
    with pytest.raises(UnknownNameError, match="known: BeH2, CH4"):
        molecule_mps("unobtainium")
    with pytest.raises(InputError, match="removes more than the 2 electrons"):
        build_molecule("h2", charge=5)
    with pytest.raises(InputError, match="spin 2S = 1 is impossible"):
        build_molecule("h2", spin=1)
    with pytest.raises(InputError, match="apart"):
        build_molecule("H 0 0 0; H 0 0 0")
    with pytest.raises(InputError, match="basis"):
        build_molecule("h2", basis="nosuch")
    with pytest.raises(InputError, match="integer"):
        build_molecule("h2", charge=0.5)


def test_mps_files_refused_when_bad(tmp_path):
    good = tmp_path / "m.npz"
    mps4().save(good)
    with pytest.raises(DataFileError, match="no such file"):
        MPS.load(tmp_path / "missing.npz")
    with pytest.raises(InputError, match="use one of .npz, .h5"):
        mps4().save(tmp_path / "m.txt")  # refused before writing
    with pytest.raises(InputError, match="does not exist"):
        mps4().save(tmp_path / "nodir" / "m.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DataFileError):
        MPS.load(cut)
