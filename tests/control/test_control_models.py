"""Benchmark models and file readers."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from physfact.control import models
from physfact.errors import DataFileError, UnknownNameError


def test_fom_structure():
    s = models.load("fom")
    assert (s.n, s.m, s.p) == (1006, 1, 1)
    lam = s.poles()
    assert np.allclose(np.sort(lam[np.abs(lam.imag) > 0].imag), [-400, -200, -100, 100, 200, 400])
    assert np.allclose(np.sort(lam[lam.imag == 0].real), -np.arange(1000.0, 0, -1))


def test_heat1d_eigenvalues_are_analytic():
    n = 50
    s = models.heat1d(n)
    h = 1 / (n + 1)
    exact = -4 / h**2 * np.sin(np.arange(1, n + 1) * np.pi * h / 2) ** 2
    assert np.allclose(np.sort(s.poles().real), np.sort(exact), rtol=1e-10)
    assert models.load("heat1d:30").n == 30


def test_msd_transfer_function_matches_second_order_form():
    k = 6
    s = models.msd(k, damping=0.2)
    assert s.n == 2 * k and s.is_stable()
    T = np.diag([2.0] * (k - 1) + [1.0]) - np.eye(k, k=1) - np.eye(k, k=-1)
    b = np.zeros(k)
    b[-1] = 1
    for w in (0.3, 1.7):
        q = np.linalg.solve(-w**2 * np.eye(k) + 1j * w * 0.2 * T + T, b)
        assert s.freqresp([w])[0, 0, 0] == pytest.approx(1j * w * q[-1], rel=1e-12)


def test_heat2d_scikit_fem():
    pytest.importorskip("skfem")
    s = models.heat2d(12)
    assert s.n == 11 * 11 and sp.issparse(s.A) and sp.issparse(s.E)
    E = s.E.toarray()
    assert np.allclose(E, E.T) and np.linalg.eigvalsh(E).min() > 0
    assert np.allclose(s.A.toarray(), s.A.toarray().T) and s.is_stable()
    g = [models.heat2d(nx).freqresp([0.0])[0, 0, 0].real for nx in (16, 32)]
    assert g[0] > 0 and g[1] == pytest.approx(g[0], rel=0.02)  # mesh convergence of the DC gain


def test_load_mat_files_and_int16_cast(control_data):
    rail = models.load(control_data / "rail_371.mat")
    raw = scipy.io.loadmat(control_data / "rail_371.mat")
    assert raw["C"].dtype == np.int16
    assert rail.C.dtype == np.float64 and np.array_equal(rail.C, raw["C"].astype(float))
    assert (rail.n, rail.m, rail.p) == (371, 7, 6) and rail.E is not None
    build = models.load(str(control_data / "build.mat"))
    assert (build.n, build.m, build.p) == (48, 1, 1)


def test_second_order_lf10(control_data):
    s = models.load(control_data / "LF10.mat")
    raw = scipy.io.loadmat(control_data / "LF10.mat")
    M, D, K = (raw[k].toarray() for k in ("M", "D", "K"))
    B, C = raw["B"].toarray(), raw["C"].toarray()
    assert s.n == 2 * M.shape[0]
    for w in (1.0, 50.0):
        ref = C @ np.linalg.solve(-w**2 * M + 1j * w * D + K, B)
        assert np.allclose(s.freqresp([w])[0], ref, rtol=1e-9)


def test_matrix_market_base_path_and_directory(tmp_path, control_data):
    ref = models.load(control_data / "rail_371.mat")
    base = tmp_path / "rail"
    for k, M in dict(A=ref.A, B=ref.B, C=ref.C, E=ref.E).items():
        scipy.io.mmwrite(str(base) + f".{k}.mtx", sp.csr_matrix(M) if k in "AE" else M)
    d = tmp_path / "dir"
    d.mkdir()
    for k, M in dict(A=ref.A, B=ref.B, C=ref.C.T, E=ref.E).items():  # C stored as C^T (MORwiki)
        scipy.io.mmwrite(str(d / f"{k}.mtx"), sp.csr_matrix(M) if k in "AE" else M)
    w = [1e-4, 1e-2]
    for src in (base, str(base) + ".A.mtx", d):
        s = models.load(src)
        assert np.allclose(s.freqresp(w), ref.freqresp(w), rtol=1e-12)


def test_errors(tmp_path):
    with pytest.raises(UnknownNameError, match="fom, heat1d, msd, heat2d"):
        models.load("no-such-model")
    with pytest.raises(DataFileError, match="no such file"):
        models.load(tmp_path / "missing.mat")
    bad = tmp_path / "bad.mat"
    scipy.io.savemat(bad, {"X": np.eye(2)})
    with pytest.raises(DataFileError, match="expected A, B, C"):
        models.load(bad)
    (tmp_path / "junk.mat").write_text("not a mat file")
    with pytest.raises(DataFileError, match="readable"):
        models.load(tmp_path / "junk.mat")
    with pytest.raises(DataFileError, match="Matrix Market"):
        models.load(tmp_path)
