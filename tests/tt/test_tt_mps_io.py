"""MPS files (.npz/.h5) and the MPS objects of quimb and TeNPy (issue #11 section 1)."""
import numpy as np
import pytest

from physfact.errors import DataFileError
from physfact.tt import MPS, random_mps_cores


def state(L=7, chi=5, complex_=False, seed=3):
    return MPS(random_mps_cores(L, chi, seed=seed, complex_=complex_))


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
@pytest.mark.parametrize("complex_", [False, True])
def test_save_load_round_trip(tmp_path, suffix, complex_):
    mps = MPS.from_statevector(state(complex_=complex_).to_statevector(), dims=2, tol=1e-3)
    path = mps.save(tmp_path / f"m{suffix}")
    back = MPS.load(path)
    assert back.dims == mps.dims and back.bond_dimensions == mps.bond_dimensions and back.center == mps.center
    for a, b in zip(back.cores, mps.cores):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.discarded, mps.discarded)
    assert back.error_bound == mps.error_bound
    np.testing.assert_allclose(back.entanglement_entropy(), mps.entanglement_entropy(), atol=1e-13)


def test_non_uniform_dims_and_order(tmp_path):
    psi = np.random.default_rng(0).standard_normal(2 * 3 * 4)
    mps = MPS.from_statevector(psi, dims=(2, 3, 4), order="F")
    back = MPS.load(mps.save(tmp_path / "m.h5"))
    assert back.dims == (2, 3, 4) and back.order == "F"
    np.testing.assert_allclose(back.to_statevector(), psi, atol=1e-13)


def _rewrite_npz(src, dst, **changes):
    with np.load(src) as d:
        fields = {k: d[k] for k in d.files}
    for k, v in changes.items():
        if v is None:
            fields.pop(k)
        else:
            fields[k] = v
    np.savez(dst, **fields)


@pytest.mark.parametrize("changes, match", [
    ({"core_0003": None}, "cores"),
    ({"core_0002": np.full((2, 2, 4), np.nan)}, "NaN or inf|do not match"),
    ({"dims": np.array([2, 2, 2])}, "do not match"),
    ({"n_sites": np.array(9)}, "cores"),
    ({"format_version": np.array(99)}, "newer"),
    ({"kind": np.array("df.factorization")}, "not an MPS"),
    ({"order": None}, "missing"),
])
def test_inconsistent_files_refused(tmp_path, changes, match):
    src = state().save(tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    _rewrite_npz(src, bad, **changes)
    with pytest.raises(DataFileError, match=match):
        MPS.load(bad)


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_truncated_file_refused(tmp_path, suffix):
    src = state(L=10, chi=16).save(tmp_path / f"good{suffix}")
    data = src.read_bytes()
    for cut in (len(data) // 3, len(data) - 100):
        bad = tmp_path / f"cut{suffix}"
        bad.write_bytes(data[:cut])
        with pytest.raises(DataFileError):
            MPS.load(bad)


def test_quimb_round_trip():
    pytest.importorskip("quimb", reason="quimb is a peer in the 'test' extra: install it")
    import quimb.tensor as qtn

    mps = state(complex_=True)
    q = mps.to_quimb()
    np.testing.assert_allclose(q.to_dense().ravel(), mps.to_statevector(), atol=1e-13)  # quimb's own contraction
    back = MPS.from_quimb(q)
    np.testing.assert_allclose(back.to_statevector(), mps.to_statevector(), atol=1e-13)
    # a state built by quimb, read by us: entropies agree with quimb's (quimb's schmidt_values are lambda^2)
    r = qtn.MPS_rand_state(8, 6, seed=2)
    ours = MPS.from_quimb(r)
    np.testing.assert_allclose(ours.to_statevector(), r.to_dense().ravel(), atol=1e-13)
    for bond in range(7):
        np.testing.assert_allclose(ours.entanglement_entropy(bond=bond, base=2), r.entropy(bond + 1), atol=1e-10)


def test_tenpy_export():
    pytest.importorskip("tenpy", reason="TeNPy is a peer in the 'test' extra: install it")
    mps = state(L=6, chi=4) * 3.0
    t = mps.to_tenpy()
    assert t.norm == pytest.approx(mps.norm(), rel=1e-12)
    np.testing.assert_allclose(t.entanglement_entropy(), mps.entanglement_entropy(), atol=1e-10)
    theta = t.get_theta(0, n=6).to_ndarray().ravel() * t.norm  # TeNPy's own contraction of all sites
    np.testing.assert_allclose(theta, mps.to_statevector(), atol=1e-12)
