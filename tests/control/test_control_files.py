"""Reduced models round-trip (issue #11 §1): ``physfact bt --out`` files read back through
models.load, LTISystem.load and ``physfact bt`` itself; python-control and scipy.signal interop."""
from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.signal as sig

from physfact.cli import main
from physfact.control import LTISystem, models


def _same_response(s1, s2, w=np.logspace(-2, 3, 25), rtol=1e-10):
    H1, H2 = s1.freqresp(w), s2.freqresp(w)
    assert np.abs(H1 - H2).max() <= rtol * np.abs(H1).max()


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_bt_out_round_trip(tmp_path, capsys, monkeypatch, suffix):
    if suffix == ".h5":
        pytest.importorskip("h5py")
    monkeypatch.chdir(tmp_path)
    out = f"rom{suffix}"
    assert main(["bt", "fom", "--order", "10", "--out", out, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    rom = models.load(out)
    assert rom.n == 10 and (rom.m, rom.p) == (1, 1)
    assert LTISystem.load(out).n == 10
    # the ROM meets the printed error against the full model (independent sampled check)
    full = models.fom()
    w = np.concatenate([[0.0], np.logspace(-1, 4, 200)])
    assert np.abs(full.freqresp(w) - rom.freqresp(w)).max() <= res["error_bound"] * (1 + 1e-8)
    # and feeds the next step: reduce the ROM again
    assert main(["bt", out, "--order", "5", "--json"]) == 0
    res5 = json.loads(capsys.readouterr().out)
    assert res5["n"] == 10 and res5["r"] == 5 and res5["hinf_error"] <= res5["error_bound"] * (1 + 1e-8)
    assert "omitted" in res5["rom"]  # without --full the matrices are not in the JSON


def test_bt_json_full_holds_the_rom(capsys):
    assert main(["bt", "heat1d:60", "--order", "4", "--json", "--full"]) == 0
    res = json.loads(capsys.readouterr().out)
    rom = LTISystem(res["rom"]["A"], res["rom"]["B"], res["rom"]["C"], res["rom"]["D"])
    full = models.heat1d(60)
    w = np.logspace(-1, 4, 50)
    assert rom.n == 4
    assert np.abs(full.freqresp(w) - rom.freqresp(w)).max() <= res["error_bound"] * (1 + 1e-8)


def test_save_load_descriptor_and_discrete(tmp_path):
    rng = np.random.default_rng(1)
    n = 5
    E = np.eye(n) + 0.1 * rng.standard_normal((n, n))
    s = LTISystem(-3 * np.eye(n) + 0.3 * rng.standard_normal((n, n)), rng.standard_normal((n, 2)),
                  rng.standard_normal((3, n)), rng.standard_normal((3, 2)), E)
    s.save(tmp_path / "s.npz")
    t = LTISystem.load(tmp_path / "s.npz")
    assert np.array_equal(t.E, E) and t.dt is None
    _same_response(s, t, rtol=1e-14)
    d = LTISystem(0.2 * np.eye(2), np.ones(2), np.ones(2), dt=0.1)
    d.save(tmp_path / "d.npz")
    assert LTISystem.load(tmp_path / "d.npz").dt == 0.1


def test_truncated_file_is_refused(tmp_path):
    from physfact.errors import DataFileError

    LTISystem(-np.eye(3), np.ones(3), np.ones(3)).save(tmp_path / "s.npz")
    data = (tmp_path / "s.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError):
        LTISystem.load(tmp_path / "cut.npz")


@pytest.mark.parametrize("dt", [None, 0.05])
def test_python_control_round_trip(dt):
    control = pytest.importorskip("control", reason="python-control is in the 'test' extra")
    rng = np.random.default_rng(2)
    A = rng.standard_normal((4, 4)) - 3 * np.eye(4)
    if dt is not None:
        A = 0.2 * A / np.abs(np.linalg.eigvals(A)).max()
    ss = control.ss(A, rng.standard_normal((4, 2)), rng.standard_normal((1, 4)), np.zeros((1, 2)),
                    0 if dt is None else dt)
    s = LTISystem.from_control(ss)
    assert s.dt == dt and (s.n, s.m, s.p) == (4, 2, 1)
    w = np.array([0.1, 1.0, 5.0])
    # independent: python-control's own frequency response
    ref = np.moveaxis(np.asarray(ss(1j * w if dt is None else np.exp(1j * w * dt))), -1, 0)
    assert np.allclose(s.freqresp(w), ref.reshape(3, 1, 2), rtol=1e-12)
    back = s.to_control()
    assert back.dt == ss.dt
    assert np.array_equal(back.A, ss.A) and np.array_equal(back.D, ss.D)


def test_to_control_folds_e():
    control = pytest.importorskip("control", reason="python-control is in the 'test' extra")
    s = LTISystem(-np.eye(2), np.ones(2), np.ones(2), E=np.diag([2.0, 4.0]))
    g = s.to_control()
    assert isinstance(g, control.StateSpace)
    assert complex(g(0.0)) == pytest.approx(1.0 + 1.0)  # C (-A)^{-1} B = 2, independent of E


@pytest.mark.parametrize("dt", [None, 0.1])
def test_scipy_round_trip(dt):
    A = np.array([[-1.0, 2.0], [0.0, -3.0]]) if dt is None else np.array([[0.5, 0.1], [0.0, 0.2]])
    s = LTISystem(A, [[1.0], [1.0]], [[1.0, 0.0]], [[0.5]], dt=dt)
    sc = s.to_scipy()
    assert isinstance(sc, sig.StateSpace) and (sc.dt if dt else None) == dt
    w = np.array([0.3, 2.0])
    ref = sig.freqresp(sc, w)[1] if dt is None else sig.dfreqresp(sc, w * dt)[1]
    assert np.allclose(s.freqresp(w)[:, 0, 0], ref, rtol=1e-12)
    back = LTISystem.from_scipy(sc)
    assert back.dt == dt and np.array_equal(back.A, A)
    tf = LTISystem.from_scipy(sig.TransferFunction([1.0], [1.0, 3.0, 2.0]))
    assert tf.n == 2 and tf.freqresp([0.0])[0, 0, 0] == pytest.approx(0.5)


def test_io_load_reads_systems_and_bt_roms(tmp_path, capsys):
    from physfact.io import load

    s = LTISystem(-np.eye(3), np.ones(3), np.ones(3), dt=None)
    s.save(tmp_path / "s.h5")
    got = load(tmp_path / "s.h5")
    assert got.kind == "lti_system" and isinstance(got.obj, LTISystem)
    _same_response(s, got.obj, rtol=1e-15)
    assert main(["bt", "heat1d:40", "--order", "4", "--out", str(tmp_path / "r.npz"), "--quiet"]) == 0
    rom = load(tmp_path / "r.npz")
    assert rom.kind == "bt_rom" and isinstance(rom.obj, LTISystem) and rom.obj.A.shape == (4, 4)
    assert rom.meta["order"] == 4 and rom.meta["model"] == "heat1d:40" and rom.meta["V"].shape == (40, 4)


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_bt_out_reads_back_as_the_reduced_system(tmp_path, capsys, suffix):
    """``bt fom --order 10 --out`` -> physfact.io.load: an LTISystem with the ROM's transfer function
    (the reference: the same reduction in-process) and every reported number in ``meta``."""
    from physfact.control import balanced_truncation
    from physfact.io import load

    out = tmp_path / f"r{suffix}"
    assert main(["bt", "fom", "--order", "10", "--out", str(out), "--json", "--full"]) == 0
    printed = json.loads(capsys.readouterr().out)
    got = load(out)
    assert got.kind == "bt_rom" and isinstance(got.obj, LTISystem) and got.obj.dt is None
    ref = balanced_truncation(models.fom(), rank=10)
    _same_response(ref.rom, got.obj, w=np.concatenate([[0.0], np.logspace(-1, 4, 60)]), rtol=1e-12)
    assert np.array_equal(got.obj.A, np.array(printed["rom"]["A"]))  # the matrices the JSON printed
    meta = got.meta
    assert (meta["order"], meta["n"], meta["method"], meta["model"]) == (10, 1006, "sr", "fom")
    assert meta["error_bound"] == printed["error_bound"] and meta["hinf_error"] == printed["hinf_error"]
    assert meta["requested_order"] == 10 and meta["V"].shape == meta["W"].shape == (1006, 10)
    assert np.array_equal(meta["hsv"][:100], printed["hsv"])
    # the bases are the projection that made the ROM: W^T A V is its A
    fom = models.fom()
    assert np.allclose(meta["W"].T @ (fom.A @ meta["V"]), got.obj.A, rtol=0, atol=1e-9 * np.abs(got.obj.A).max())


def test_band_limited_out_keeps_the_band(tmp_path, capsys):
    from physfact.io import load

    assert main(["bt", "msd:20", "--order", "6", "--band", "0.5", "1.0", "--json", "--out",
                 str(tmp_path / "r.h5")]) == 0
    printed = json.loads(capsys.readouterr().out)
    got = load(tmp_path / "r.h5")
    assert list(got.meta["band"]) == [0.5, 1.0] and got.meta["band_error"] == printed["band_error"]
    assert np.isnan(got.meta["error_bound"]) and got.obj.n == printed["r"]


def test_second_order_system_save_load_and_bt_reads_it(tmp_path, capsys):
    """SecondOrderSystem files (``sobt_rom`` of bt --out, or .save) come back as SecondOrderSystem,
    through physfact.io.load, SecondOrderSystem.load and models.load (so ``physfact bt FILE`` reduces them)."""
    from physfact.control import SecondOrderSystem
    from physfact.errors import DataFileError
    from physfact.io import load, save_arrays

    n = 12
    K = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    sos = SecondOrderSystem(np.eye(n), 0.05 * K + 0.01 * np.eye(n), K, np.eye(n)[:, :1], np.eye(n)[-1:])
    for suffix in (".npz", ".h5"):
        path = sos.save(tmp_path / f"s{suffix}")
        got = load(path)
        assert got.kind == "second_order_system" and isinstance(got.obj, SecondOrderSystem) and got.meta == {}
        w = np.logspace(-2, 1, 30)
        assert np.abs(got.obj.freqresp(w) - sos.freqresp(w)).max() == 0.0
        assert isinstance(models.load(path), SecondOrderSystem)
    assert main(["bt", str(tmp_path / "s.h5"), "--order", "3", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["structure"] == "second-order" and res["nq"] == n and res["r"] == 3
    save_arrays(tmp_path / "cut.npz", "sobt_rom", M=np.eye(2), K=np.eye(2))
    with pytest.raises(DataFileError, match="D, B, Cp missing"):
        load(tmp_path / "cut.npz")
    LTISystem(-np.eye(2), np.ones(2), np.ones(2)).save(tmp_path / "first.npz")
    with pytest.raises(DataFileError, match="not a second-order system"):
        SecondOrderSystem.load(tmp_path / "first.npz")
    with pytest.raises(DataFileError, match="not a first-order system"):
        LTISystem.load(tmp_path / "s.npz")


def test_lf10_sobt_out_reads_back_as_a_second_order_system(control_data, tmp_path, capsys):
    from physfact.control import SecondOrderSystem, second_order_balanced_truncation
    from physfact.io import load

    out = tmp_path / "r.h5"
    assert main(["bt", "lf10", "--order", "4", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    got = load(out)
    assert got.kind == "sobt_rom" and isinstance(got.obj, SecondOrderSystem) and got.obj.nq == 4
    ref = second_order_balanced_truncation(models.load("lf10"), rank=4, variant="p", method="bfsr")
    w = np.logspace(1, 4, 40)
    H, Hr = ref.rom.freqresp(w), got.obj.freqresp(w)
    assert np.abs(H - Hr).max() <= 1e-12 * np.abs(H).max()
    assert (got.meta["variant"], got.meta["method"], got.meta["order"]) == ("p", "bfsr", 4)
    assert got.meta["hinf_error"] == printed["hinf_error"] and got.meta["V"].shape == (printed["nq"], 4)
