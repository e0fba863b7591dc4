"""tt_cross reports each sweep pair to a progress bar (the CLI's tqdm) and closes it."""
import numpy as np

from physfact.tt.cross import tt_cross
from tests.progress_bar import recorder


def test_cross_progress_counts_sweeps():
    bars = []
    f = lambda idx: 1.0 / (1.0 + idx.sum(axis=1))  # noqa: E731
    res = tt_cross(f, [6] * 4, tol=1e-6, seed=0, progress=recorder(bars))
    (bar,) = bars
    assert bar.closed and bar.n == res.sweeps and bar.total == 12 and "TT-cross" in bar.desc
    assert f"{res.evaluations} evaluations" in bar.postfix[-1]
    # the progress hook changes nothing in the result
    ref = tt_cross(f, [6] * 4, tol=1e-6, seed=0)
    assert np.allclose(res.tt.full(), ref.tt.full(), rtol=0, atol=1e-12)
