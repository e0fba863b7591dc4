"""Atomic writes and versioned array files."""
import numpy as np
import pytest

from physfact.errors import DataFileError, InputError
from physfact.io import atomic_path, load_h5, load_npz, save_arrays, save_npz, write_json


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("precious")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "precious"
    assert list(tmp_path.iterdir()) == [target]  # no temp file left behind


def test_npz_round_trip_and_version(tmp_path):
    a = np.arange(6.0).reshape(2, 3)
    save_npz(tmp_path / "x.npz", "test", a=a)
    out = load_npz(tmp_path / "x.npz", kind="test")
    assert np.array_equal(out["a"], a) and "format_version" not in out
    with pytest.raises(DataFileError, match="expected"):
        load_npz(tmp_path / "x.npz", kind="rom")
    np.savez(tmp_path / "foreign.npz", a=a)
    with pytest.raises(DataFileError, match="format_version"):
        load_npz(tmp_path / "foreign.npz")
    with pytest.raises(DataFileError, match="no such file"):
        load_npz(tmp_path / "missing.npz")


def test_h5_round_trip(tmp_path):
    save_arrays(tmp_path / "x.h5", "test", attrs={"n": 3}, b=np.ones(4))
    arrays, attrs = load_h5(tmp_path / "x.h5", kind="test")
    assert np.array_equal(arrays["b"], np.ones(4)) and attrs["n"] == 3


def test_bad_targets(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_json(tmp_path / "nodir" / "x.json", {})
    with pytest.raises(InputError, match="unknown output format"):
        save_arrays(tmp_path / "x.txt", "test", a=np.ones(2))


def test_json_converts_numpy(tmp_path):
    import json

    write_json(tmp_path / "r.json", {"a": np.arange(3), "x": np.float64(1.5), "nan": float("nan")})
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": [0, 1, 2], "x": 1.5, "nan": None}


# ------------------------------------------------------------------ file safety (#10 section 5)
import contextlib
import os
import subprocess
import sys
from pathlib import Path

from physfact.errors import DiskFullError
from physfact.io import FORMAT_VERSION, LOADERS, Loaded, RawFile, load, load_raw, read_header


@contextlib.contextmanager
def _umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("suffix", [".json", ".npz", ".h5"])
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_new_files_follow_the_umask(tmp_path, suffix, mask):
    path = tmp_path / f"out{suffix}"
    with _umask(mask):
        if suffix == ".json":
            write_json(path, {"a": 1})
        else:
            save_arrays(path, "test", attrs={"n": 1}, a=np.ones(3))
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_replacing_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "out.npz"
    path.write_text("old")
    os.chmod(path, 0o640)
    with _umask(0o022):
        save_npz(path, "test", a=np.arange(3))
    assert path.stat().st_mode & 0o777 == 0o640
    assert np.array_equal(load_npz(path)["a"], np.arange(3))


def test_figure_follows_the_umask(tmp_path):
    from physfact.plotting import pyplot, save_figure

    fig, ax = pyplot().subplots()
    ax.plot([0, 1], [0, 1])
    with _umask(0o027):
        save_figure(fig, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_mode & 0o777 == 0o640


def test_symlinked_target_stays_a_link_to_the_updated_file(tmp_path):
    real_dir = tmp_path / "real"
    link_dir = tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    target = real_dir / "rom.npz"
    save_npz(target, "test", a=np.zeros(2))
    link = link_dir / "rom.npz"
    link.symlink_to(target)
    save_npz(link, "test", a=np.arange(5.0))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert np.array_equal(load_npz(target)["a"], np.arange(5.0))
    assert sorted(p.name for p in real_dir.iterdir()) == ["rom.npz"]
    assert sorted(p.name for p in link_dir.iterdir()) == ["rom.npz"]


def test_dangling_symlink_creates_its_target(tmp_path):
    target = tmp_path / "new.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_json(link, {"x": 2})
    assert link.is_symlink() and target.is_file() and '"x": 2' in target.read_text()


def test_directory_target_and_read_only_directory_refused(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        write_json(tmp_path, {})
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores directory permissions: a read-only mount below
            pytest.skip("running as root: a read-only directory is still writable (see the read-only tmpfs test)")
        with pytest.raises(InputError, match="not writable"):
            write_json(ro / "x.json", {})
    finally:
        os.chmod(ro, 0o700)


def test_read_only_file_system_refused_before_writing(tmp_path):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mnt)], capture_output=True,
                         text=True, timeout=30)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here ({res.stderr.strip()}); needs root")
    try:
        with pytest.raises(InputError, match="not writable"):
            save_arrays(mnt / "x.h5", "test", a=np.ones(2))
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
        out = subprocess.run([sys.executable, "-m", "physfact.cli", "rank", "--out", str(mnt / "r.json")],
                             capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and "not writable" in out.stderr
        assert out.stdout == ""  # refused before the computation printed anything
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


def test_attribute_and_array_with_the_same_name_refused(tmp_path):
    with pytest.raises(InputError, match="both as an attribute and as an array"):
        save_arrays(tmp_path / "x.npz", "test", attrs={"section": 3}, section=np.arange(3))


_SIGTERM_SCRIPT = r"""
import sys, time
from pathlib import Path
import physfact.lowrank.cli as lowrank_cli
from physfact import cli, io

def slow(args, console):
    with io.atomic_path(args.out) as tmp:
        Path(tmp).write_text("half-written")
        print("writing", flush=True)
        time.sleep(60)
    return {}

lowrank_cli.run_rank = slow
sys.exit(cli.main(["rank", "--out", sys.argv[1]]))
"""


def test_sigterm_during_a_write_leaves_no_temporary(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("precious")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen([sys.executable, "-c", _SIGTERM_SCRIPT, str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert len(list(tmp_path.iterdir())) == 2  # the target and the temporary
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143
    assert err.strip() == "physfact: terminated"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"] and target.read_text() == "precious"


# ------------------------------------------------------------------ a full disk, on a real tmpfs
@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 1 MiB tmpfs; skipped (saying why) where mounting is not allowed."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    try:
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(mnt)], capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); the full-disk case needs root or a user namespace")
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()}); the full-disk case needs root")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_full_disk_is_one_error_and_keeps_the_old_file(tiny_tmpfs, suffix):
    path = tiny_tmpfs / f"big{suffix}"
    save_arrays(path, "test", a=np.ones(10))
    before = path.read_bytes()
    noise = np.random.default_rng(0).standard_normal(400_000)  # 3.2 MB that does not compress
    with pytest.raises(DiskFullError, match="no space left"):
        save_arrays(path, "test", attrs={"n": 1}, a=noise)
    assert path.read_bytes() == before
    assert [p.name for p in tiny_tmpfs.iterdir()] == [path.name]


def test_full_disk_from_the_command_line_is_one_line_exit_1(tiny_tmpfs):
    # fill the device, then ask for a result file: one line, exit 1, no temporary, no crash
    with open(tiny_tmpfs / "filler", "wb", buffering=0) as fh:
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 4096)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    for suffix in (".h5", ".npz"):
        out = subprocess.run([sys.executable, "-m", "physfact.cli", "rank", "--synthetic", "300", "200", "5",
                              "--quiet", "--out", str(tiny_tmpfs / f"r{suffix}")],
                             capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 1, out.stderr
        assert out.stderr.count("\n") == 1 and "no space left" in out.stderr
    out = subprocess.run([sys.executable, "-m", "physfact.cli", "rank", "--quiet", "--plot", str(tiny_tmpfs / "f.png")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "no space left" in out.stderr, out.stderr
    assert [p.name for p in tiny_tmpfs.iterdir()] == ["filler"]


# ------------------------------------------------------------------ reading back: one reader
def _cut(path, fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_truncated_files_are_refused(tmp_path, suffix):
    path = tmp_path / f"x{suffix}"
    save_arrays(path, "bt_rom", attrs={"error_bound": 1e-3},
                A=np.random.default_rng(1).standard_normal((60, 60)), B=np.ones((60, 2)))
    _cut(path)
    reader = load_npz if suffix == ".npz" else load_h5
    with pytest.raises(DataFileError, match="cut short"):
        reader(path)
    with pytest.raises(DataFileError, match="cut short"):
        load(path)


def test_load_dispatches_on_kind_and_rebuilds_a_double_factorization(tmp_path):
    from physfact.chem.double_factorization import DoubleFactorization, double_factorize

    rng = np.random.default_rng(3)
    n = 4
    X = rng.standard_normal((n * n, 3))
    X = (X.reshape(n, n, 3) + X.reshape(n, n, 3).transpose(1, 0, 2)).reshape(n * n, 3)
    eri = (X @ X.T).reshape(n, n, n, n)  # a positive semidefinite, 8-fold symmetric two-body tensor
    df = double_factorize(eri, rank=3)
    for suffix in (".npz", ".h5"):
        res = load(df.save(tmp_path / f"df{suffix}"))
        assert isinstance(res, Loaded) and res.kind == "double_factorization"
        assert isinstance(res.obj, DoubleFactorization) and res.format_version == FORMAT_VERSION
        assert np.allclose(res.obj.eigenvalues, df.eigenvalues, rtol=0, atol=0)
        # the reloaded factors rebuild the same (pq|rs) as the original
        rebuilt = np.einsum("lpi,lqi,li,lj,lrj,lsj->pqrs", res.obj.orbital_rotations, res.obj.orbital_rotations,
                            res.obj.eigenvalues, res.obj.eigenvalues, res.obj.orbital_rotations,
                            res.obj.orbital_rotations)
        assert np.abs(rebuilt - eri).max() < 1e-10 * np.abs(eri).max()


def test_load_raw_kinds_json_and_refusals(tmp_path):
    # a reduced model without B, C, D is damaged: refused, saying what is missing (not completed with zeros)
    save_arrays(tmp_path / "r.h5", "bt_rom", attrs={"error_bound": 2.5, "dt": 0.0}, A=-np.eye(2))
    assert read_header(tmp_path / "r.h5") == ("bt_rom", FORMAT_VERSION)
    with pytest.raises(DataFileError, match="B, C, D missing"):
        load(tmp_path / "r.h5")
    # complete: the system, and the rest of the file as meta
    save_arrays(tmp_path / "r.h5", "bt_rom", attrs={"error_bound": 2.5, "dt": 0.0, "method": "sr"}, A=-np.eye(2),
                B=np.ones((2, 1)), C=np.ones((1, 2)), D=np.zeros((1, 1)), hsv=np.array([0.5, 0.25]))
    res = load(tmp_path / "r.h5")
    assert res.kind == "bt_rom" and res.obj.n == 2 and res.obj.dt is None
    assert np.array_equal(res.obj.A, -np.eye(2))
    assert res.meta["error_bound"] == 2.5 and res.meta["method"] == "sr" and np.array_equal(res.meta["hsv"], [0.5, 0.25])
    assert set(res.meta) == {"error_bound", "method", "hsv"}
    save_arrays(tmp_path / "r.npz", "tt.chain", attrs={"L": 8, "model": "tfim"}, entropy=np.ones(7))
    raw = load_raw(tmp_path / "r.npz")
    assert raw.attrs == {"L": 8, "model": "tfim"} and raw.arrays["entropy"].shape == (7,)
    write_json(tmp_path / "r.json", {"n": 3})
    assert load(tmp_path / "r.json").obj == {"n": 3}
    # a kind no loader knows, a newer format, a foreign file, a wrong suffix
    save_npz(tmp_path / "u.npz", "from_the_future", a=np.ones(1))
    assert "from_the_future" not in LOADERS
    with pytest.raises(DataFileError, match="cannot read"):
        load(tmp_path / "u.npz")
    np.savez(tmp_path / "new.npz", format_version=FORMAT_VERSION + 1, kind="bt_rom", A=np.ones(1))
    with pytest.raises(DataFileError, match="newer physfact"):
        load(tmp_path / "new.npz")
    np.savez(tmp_path / "foreign.npz", A=np.ones(1))
    with pytest.raises(DataFileError, match="format_version"):
        load(tmp_path / "foreign.npz")
    (tmp_path / "x.txt").write_text("1 2 3")
    with pytest.raises(DataFileError, match="reads .npz"):
        load(tmp_path / "x.txt")
    (tmp_path / "cut.json").write_text('{"n": ')
    with pytest.raises(DataFileError, match="not valid JSON"):
        load(tmp_path / "cut.json")


def test_every_registered_loader_resolves():
    from physfact.io import _resolve

    for kind, spec in LOADERS.items():
        assert callable(_resolve(spec)), kind
    assert _resolve("physfact.io:RawFile.__getitem__") is RawFile.__getitem__  # Class.method specs


def test_a_registered_kind_reaches_its_loader(tmp_path, monkeypatch):
    save_arrays(tmp_path / "k.h5", "test.kind", attrs={"n": 2}, a=np.arange(2.0))
    monkeypatch.setitem(LOADERS, "test.kind", "physfact.io:load_raw")
    res = load(tmp_path / "k.h5")
    assert res.kind == "test.kind" and res.obj.attrs == {"n": 2} and np.array_equal(res.obj["a"], [0.0, 1.0])
