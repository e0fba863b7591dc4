"""tt_cross reports each sweep pair to a progress bar (the CLI's tqdm) and closes it."""
import numpy as np

from physfact.tt.cross import tt_cross


class RecordingBar:
    def __init__(self, total, desc):
        self.total, self.desc, self.n, self.postfix, self.closed = total, desc, 0, [], False

    def update(self, k):
        self.n += k

    def set_postfix_str(self, text, refresh=True):
        self.postfix.append(text)

    def close(self):
        self.closed = True


def test_cross_progress_counts_sweeps():
    bars = []

    def progress(iterable, total, desc):
        bars.append(RecordingBar(total, desc))
        return bars[-1]

    f = lambda idx: 1.0 / (1.0 + idx.sum(axis=1))  # noqa: E731
    res = tt_cross(f, [6] * 4, tol=1e-6, seed=0, progress=progress)
    (bar,) = bars
    assert bar.closed and bar.n == res.sweeps and bar.total == 12 and "TT-cross" in bar.desc
    assert f"{res.evaluations} evaluations" in bar.postfix[-1]
    # the progress hook changes nothing in the result
    ref = tt_cross(f, [6] * 4, tol=1e-6, seed=0)
    assert np.allclose(res.tt.full(), ref.tt.full(), rtol=0, atol=1e-12)
