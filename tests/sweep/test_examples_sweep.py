"""The sweep examples run with small=True on the shared LocalCluster."""
import runpy
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _main(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"]


def test_n2_dissociation_example(client, tmp_path):
    out = _main("sweep_n2_dissociation")(small=True, plot=tmp_path / "n2.png", client=client)
    assert (out["points"], out["failed"]) == (3, 0)
    rows = out["rows"]
    assert [r["n_orbitals"] for r in rows] == [10] * 3
    assert all(r["n_leaves"] >= 1 and r["toffolis"] > 0 for r in rows)
    assert (tmp_path / "n2.png").stat().st_size > 1000


def test_tfim_field_example(client, tmp_path):
    out = _main("sweep_tfim_field")(small=True, plot=tmp_path / "tfim.png", client=client)
    assert out["failed"] == 0 and out["entropy_error"] < 1e-8
    S = np.asarray(out["S_half"])
    assert np.all(np.diff(S) < 0)       # entanglement falls monotonically with the field (open chain)
    assert (tmp_path / "tfim.png").stat().st_size > 1000
