"""Terminal output for the command line: human text on stdout (or JSON with ``--json``), progress
bars on stderr only when stderr is a terminal and ``--quiet`` is off. A reader that closes stdout
early (``physfact ... | head``) ends the text, not the command: files are still written."""
from __future__ import annotations

import contextlib
import os
import sys


def silence_closed_stdout():
    """Point stdout at /dev/null after its reader went away, so later prints and the interpreter's final
    flush do not raise ``BrokenPipeError`` again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class Console:
    """What a command handler uses to talk to the user.

    Parameters
    ----------
    quiet : bool
        No progress, no informational text on stderr.
    json : bool
        The command's result dict goes to stdout as JSON; human text is suppressed.
    """

    def __init__(self, quiet: bool = False, json: bool = False, stdout=None, stderr=None):
        self.quiet = quiet
        self.json = json
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.stdout_closed = False

    def print(self, *args, **kwargs):
        """Human-readable result text (stdout); silent in JSON mode."""
        if not self.json and not self.stdout_closed:
            try:
                print(*args, file=self.stdout, **kwargs)
            except BrokenPipeError:
                self.stdout_closed = True
                silence_closed_stdout()

    def info(self, msg: str):
        """A status line on stderr (e.g. 'assembling ...'); silent with --quiet."""
        if not self.quiet:
            print(msg, file=self.stderr)

    @property
    def show_progress(self) -> bool:
        return not self.quiet and hasattr(self.stderr, "isatty") and self.stderr.isatty()

    def progress(self, iterable=None, total=None, desc=None, unit="it"):
        """Wrap ``iterable`` in a tqdm bar on a terminal; pass it through otherwise. ``unit`` names
        what is counted ("frequencies", "columns")."""
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, file=self.stderr, disable=not self.show_progress,
                    leave=False, dynamic_ncols=True)

    def table(self, rows, headers):
        """Print a plain aligned table (list of row tuples)."""
        cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
        for k, row in enumerate(cells):
            self.print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
            if k == 0:
                self.print("  ".join("-" * w for w in widths))


def _fmt(x):
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)
