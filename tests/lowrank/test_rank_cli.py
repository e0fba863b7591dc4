"""``physfact rank``: every flag's bad input is one line on stderr with exit 2; impossible sizes are
refused before loading; ``--out`` writes what was printed (issue #10 sections 3-5)."""
import json

import numpy as np
import pytest

from physfact.cli import main


def run(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "ok.npy", rng.standard_normal((60, 5)) @ rng.standard_normal((5, 30))
            + 0.01 * rng.standard_normal((60, 30)))
    np.save(tmp_path / "vec.npy", np.ones(5))
    np.save(tmp_path / "t3.npy", np.ones((2, 2, 2)))
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    np.save(tmp_path / "obj.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    with open(tmp_path / "big.npy", "wb") as fh:  # a header promising 10^6 x 10^6 doubles (8 TB)
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    (tmp_path / "cut.npy").write_bytes((tmp_path / "ok.npy").read_bytes()[:300])
    (tmp_path / "bad.csv").write_text("1,2\n3,x\n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "m.xlsx").write_text("")
    return tmp_path


BAD = [
    (["{d}/missing.npy"], "no such file"),
    (["{d}/vec.npy"], "2 dimensions"),
    (["{d}/t3.npy"], "2 dimensions"),
    (["{d}/nan.npy"], "non-finite"),
    (["{d}/obj.npy"], "could not read a matrix"),
    (["{d}/big.npy"], "needs about"),
    (["{d}/cut.npy"], "could not read a matrix"),
    (["{d}/bad.csv"], "could not read a matrix"),
    (["{d}/empty.txt"], "holds no numbers"),
    (["{d}/m.xlsx"], "unknown matrix format"),
    (["{d}/ok.npy", "--synthetic", "5", "5", "1"], "not both"),
    (["--synthetic", "0", "5", "1"], "1 <= R <= min(M, N)"),
    (["--synthetic", "5", "5", "9"], "1 <= R <= min(M, N)"),
    (["--synthetic", "5", "5"], "expected 3 arguments"),
    (["--synthetic", "100000", "100000", "5"], "needs about"),
    (["--noise", "nan"], "--noise"),
    (["--noise", "-1"], "--noise"),
    (["--rtol", "2"], "--rtol"),
    (["--rtol", "0"], "--rtol"),
    (["--rtol", "nan"], "--rtol"),
    (["--energy", "0"], "energy"),
    (["--energy", "1.5"], "energy"),
    (["--seed", "-1"], "seed"),
    (["--seed", "x"], "not an integer"),
    (["--out", "r.txt"], "give a file name ending in one of them"),
    (["--out", "no/such/r.npz"], "does not exist"),
    (["--plot", "r.npz"], "give a figure file name"),
    (["--plot", "no/such/r.png"], "does not exist"),
]


@pytest.mark.parametrize("args, msg", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2(args, msg, files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    monkeypatch.setenv("PHYSFACT_MAX_MEMORY", "4G")
    before = set(files.iterdir())
    rc, _, err = run(["rank"] + [a.format(d=files) for a in args], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and msg in err, err
    assert set(files.iterdir()) == before  # nothing written


@pytest.mark.parametrize("suffix", [".npz", ".h5", ".json"])
def test_out_writes_what_was_printed(files, suffix, capsys):
    from physfact.io import load_h5, load_npz

    out = files / f"r{suffix}"
    rc, text, _ = run(["rank", str(files / "ok.npy"), "--rtol", "0.01", "--json", "--out", str(out)], capsys)
    assert rc == 0
    printed = json.loads(text)
    s_ref = np.linalg.svd(np.load(files / "ok.npy"), compute_uv=False)  # independent SVD
    assert printed["ranks"]["gap"] == 5 and printed["ranks"]["rtol=0.01"] == 5
    if suffix == ".json":
        saved = json.loads(out.read_text())
        np.testing.assert_allclose(saved["singular_values"], s_ref, rtol=1e-12)
        assert saved["ranks"] == printed["ranks"]
        return
    if suffix == ".npz":
        fields = load_npz(out, kind="lowrank.rank")
    else:
        arrays, attrs = load_h5(out, kind="lowrank.rank")
        fields = {**arrays, **attrs}
    np.testing.assert_allclose(fields["singular_values"], s_ref, rtol=1e-12)
    assert int(fields["rank[gap]"]) == 5 and list(fields["shape"]) == [60, 30]
