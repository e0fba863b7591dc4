"""The lowrank example doubles as a test (small settings)."""
import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_lowrank_rank_selection(tmp_path):
    res = runpy.run_path(str(EXAMPLES / "lowrank_rank_selection.py"))["main"](small=True, plot=str(tmp_path / "s.png"))
    assert res["ranks"] == {"aic": 4, "gap": 4}
    assert abs(res["sigma_hat"] - 0.5) < 0.03
    assert res["error_denoised"] < 0.5 * res["error_noisy"]
    assert (tmp_path / "s.png").stat().st_size > 1000
