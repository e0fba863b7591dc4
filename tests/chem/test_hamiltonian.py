import os
import subprocess
import sys

import numpy as np
import pytest

from physfact.chem import MolecularHamiltonian, from_fcidump, h_chain, known_molecules, molecular_hamiltonian
from physfact.errors import DataFileError, InputError, UnknownNameError


def _openfermion_data(name):
    import openfermion

    return os.path.join(os.path.dirname(openfermion.__file__), "testing", "data", name)


def test_h2_fci_matches_openfermion_data_file(mol):
    # OpenFermion ships H2/sto-3g at 0.7414 A computed by its own PySCF run (stored FCI energy)
    from openfermion import MolecularData

    ref = MolecularData(filename=_openfermion_data("H2_sto-3g_singlet_0.7414"))
    ref.load()
    H = mol("H2")
    assert H.n_orbitals == 2 and H.n_electrons == 2
    assert H.fci_energy() == pytest.approx(ref.fci_energy, abs=1e-9)
    assert H.hf_energy == pytest.approx(ref.hf_energy, abs=1e-9)


def test_lih_145_matches_openfermion_data_file():
    from openfermion import MolecularData

    ref = MolecularData(filename=_openfermion_data("H1-Li1_sto-3g_singlet_1.45"))
    ref.load()
    H = molecular_hamiltonian("Li 0 0 0; H 0 0 1.45")
    assert H.fci_energy() == pytest.approx(ref.fci_energy, abs=1e-8)
    # the data file predates the CODATA-2018 Bohr radius in PySCF: ~5e-9 Ha difference
    assert H.constant == pytest.approx(ref.nuclear_repulsion, abs=2e-8)


def test_library_names_and_unknown_name():
    names = known_molecules()
    for want in ("H2", "LiH", "H2O", "NH3", "N2"):
        assert want in names
    with pytest.raises(UnknownNameError, match="H2O"):
        molecular_hamiltonian("unobtainium")


def test_h_chain_geometry_and_name():
    s = h_chain(4, spacing=0.9)
    assert s.count("H ") == 4 and "2.7000000000" in s
    H = molecular_hamiltonian("hchain4")
    assert H.n_orbitals == 4 and H.n_electrons == 4
    with pytest.raises(InputError):
        h_chain(0)


def test_active_space_matches_pyscf_casci():
    from pyscf import gto, mcscf, scf

    from physfact.chem.molecules import resolve_geometry

    H = molecular_hamiltonian("H2O", active_space=(4, 4))
    assert H.n_orbitals == 4 and H.n_electrons == 4
    mol = gto.M(atom=resolve_geometry("H2O")[0], basis="sto-3g", verbose=0)
    mf = scf.RHF(mol).run(conv_tol=1e-11)
    e_cas = mcscf.CASCI(mf, 4, 4).kernel()[0]
    assert H.fci_energy() == pytest.approx(e_cas, abs=1e-8)


def test_rohf_doublet_fci_matches_pyscf_fci_on_ao_integrals():
    from pyscf import fci, gto, scf

    atoms = "H 0 0 0; H 0 0 0.9; H 0 0 1.8"
    H = molecular_hamiltonian(atoms, spin=1)
    assert (H.n_alpha, H.n_beta) == (2, 1)
    mol = gto.M(atom=atoms, basis="sto-3g", spin=1, verbose=0)
    mf = scf.RHF(mol).run()  # any orbitals: FCI is invariant
    e_ref = fci.FCI(mf).kernel()[0]
    assert H.fci_energy() == pytest.approx(e_ref, abs=1e-8)


def test_packed_s4_s8_restore_and_refusals(mol):
    from pyscf import ao2mo

    H = mol("H2O")
    n = H.n_orbitals
    for packing in (4, 8):
        packed = ao2mo.restore(packing, H.two_body, n)
        H2 = MolecularHamiltonian(H.constant, H.one_body, packed, H.n_electrons)
        assert np.max(np.abs(H2.two_body - H.two_body)) < 1e-14
    sup = H.two_body.reshape(n * n, n * n)
    assert np.array_equal(MolecularHamiltonian(0.0, H.one_body, sup, 10).two_body, H.two_body)
    # physicist order breaks (pq|rs) = (qp|rs): refused with a hint
    with pytest.raises(InputError, match="physicist"):
        MolecularHamiltonian(0.0, H.one_body, H.two_body.transpose(0, 2, 1, 3), 10)
    with pytest.raises(InputError, match="s8"):
        MolecularHamiltonian(0.0, H.one_body, np.ones(7), 10)
    with pytest.raises(InputError, match="electrons"):
        MolecularHamiltonian(0.0, H.one_body, H.two_body, 2 * n + 2)
    with pytest.raises(InputError, match="spin"):
        MolecularHamiltonian(0.0, H.one_body, H.two_body, 10, spin=1)
    with pytest.raises(InputError, match="real"):
        MolecularHamiltonian(0.0, H.one_body, H.two_body * (1 + 1e-3j), 10)


def test_fcidump_round_trip(tmp_path, mol):
    H = mol("LiH")
    path = H.to_fcidump(tmp_path / "lih.fcidump")
    back = from_fcidump(path)
    assert back.n_orbitals == H.n_orbitals and back.n_electrons == H.n_electrons and back.spin == 0
    assert back.constant == pytest.approx(H.constant, abs=1e-14)
    assert np.max(np.abs(back.one_body - H.one_body)) < 1e-14
    assert np.max(np.abs(back.two_body - H.two_body)) < 1e-14
    assert back.fci_energy() == pytest.approx(H.fci_energy(), abs=1e-10)
    with pytest.raises(DataFileError):
        from_fcidump(tmp_path / "missing.fcidump")


def test_import_is_light():
    # import time itself is measured in benchmarks, not asserted here (no wall-clock asserts in tests)
    code = ("import sys; import physfact.chem; "
            "print('pyscf' in sys.modules, 'openfermion' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__)))).stdout.split()
    assert out == ["False", "False"]


def test_bad_basis_charge_and_active_space_are_input_errors():
    with pytest.raises(InputError, match="basis"):
        molecular_hamiltonian("H2", basis="no-such-basis")
    with pytest.raises(InputError, match="spin"):
        molecular_hamiltonian("H2O", charge=1)  # 9 electrons need spin=1
    with pytest.raises(InputError, match="active_space"):
        molecular_hamiltonian("H2O", active_space=(5, 4))
