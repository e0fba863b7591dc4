"""A stand-in for the tqdm bar a ``progress=`` hook returns: records what a library function reports."""
from __future__ import annotations


class RecordingBar:
    def __init__(self, total, desc):
        self.total, self.desc, self.n, self.postfix, self.closed = total, desc, 0, [], False

    def update(self, k):
        self.n += k

    def set_postfix_str(self, text, refresh=True):
        self.postfix.append(text)

    def close(self):
        self.closed = True


def recorder(bars: list):
    """A ``progress(iterable, total, desc)`` hook that appends a :class:`RecordingBar` to ``bars``."""
    def progress(iterable, total, desc):
        bars.append(RecordingBar(total, desc))
        return bars[-1]
    return progress
