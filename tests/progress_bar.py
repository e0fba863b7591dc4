"""A stand-in for the tqdm bar a ``progress=`` hook returns: records what a library function reports."""
from __future__ import annotations


class RecordingBar:
    def __init__(self, total, desc, unit="it"):
        self.total, self.desc, self.unit, self.n, self.postfix, self.closed = total, desc, unit, 0, [], False

    def update(self, k=1):
        self.n += k

    def set_postfix_str(self, text, refresh=True):
        self.postfix.append(text)

    def close(self):
        self.closed = True


def recorder(bars: list):
    """A ``progress(iterable, total, desc, unit)`` hook that appends a :class:`RecordingBar` to ``bars``
    (an ``iterable`` is passed through, as tqdm wraps it)."""
    def progress(iterable=None, total=None, desc=None, unit="it"):
        bars.append(RecordingBar(total, desc, unit))
        if iterable is None:
            return bars[-1]

        def counted():
            for item in iterable:
                yield item
                bars[-1].update(1)
            bars[-1].close()
        return counted()
    return progress


class Recorder:
    """A progress factory object: ``Recorder()`` is the hook, ``.bars`` what it recorded."""

    def __init__(self):
        self.bars = []
        self._progress = recorder(self.bars)

    def __call__(self, iterable=None, total=None, desc=None, unit="it"):
        return self._progress(iterable, total=total, desc=desc, unit=unit)
