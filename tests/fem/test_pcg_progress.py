"""pcg_solve advances a progress bar once per iteration and closes it (also when it fails)."""
import numpy as np
import pytest

from physfact.errors import ConvergenceError
from physfact.fem import cantilever, pcg_solve
from tests.progress_bar import recorder


def test_pcg_progress_counts_iterations():
    prob = cantilever(length=8.0, ny=4)
    bars = []
    res = pcg_solve(prob, tol=1e-8, progress=recorder(bars))
    (bar,) = bars
    assert bar.closed and bar.n == res.iterations and bar.total is None
    assert len(bar.postfix) == res.iterations and bar.postfix[-1].startswith("relative residual ")
    ref = pcg_solve(prob, tol=1e-8)
    assert np.array_equal(res.x, ref.x)


def test_pcg_progress_closed_on_failure():
    prob = cantilever(length=8.0, ny=4)
    bars = []
    with pytest.raises(ConvergenceError):
        pcg_solve(prob, tol=1e-12, maxiter=2, progress=recorder(bars))
    assert bars[0].closed and bars[0].n == 2
