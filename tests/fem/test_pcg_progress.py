"""pcg_solve advances a progress bar once per iteration and closes it (also when it fails)."""
import numpy as np
import pytest

from physfact.errors import ConvergenceError
from physfact.fem import cantilever, pcg_solve


class RecordingBar:
    def __init__(self, total, desc):
        self.total, self.desc, self.n, self.postfix, self.closed = total, desc, 0, [], False

    def update(self, k):
        self.n += k

    def set_postfix_str(self, text, refresh=True):
        self.postfix.append(text)

    def close(self):
        self.closed = True


def _recorder(bars):
    def progress(iterable, total, desc):
        bars.append(RecordingBar(total, desc))
        return bars[-1]
    return progress


def test_pcg_progress_counts_iterations():
    prob = cantilever(length=8.0, ny=4)
    bars = []
    res = pcg_solve(prob, tol=1e-8, progress=_recorder(bars))
    (bar,) = bars
    assert bar.closed and bar.n == res.iterations and bar.total is None
    assert len(bar.postfix) == res.iterations and bar.postfix[-1].startswith("relative residual ")
    ref = pcg_solve(prob, tol=1e-8)
    assert np.array_equal(res.x, ref.x)


def test_pcg_progress_closed_on_failure():
    prob = cantilever(length=8.0, ny=4)
    bars = []
    with pytest.raises(ConvergenceError):
        pcg_solve(prob, tol=1e-12, maxiter=2, progress=_recorder(bars))
    assert bars[0].closed and bars[0].n == 2
