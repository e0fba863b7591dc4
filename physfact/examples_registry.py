"""Find and run the scripts in ``examples/``.

Each example is a script ``examples/<name>.py`` whose docstring's first line is its summary and
which defines ``main(small=False, plot=None) -> dict``; ``small=True`` is the setting the tests run.
An example tells its story with ``print`` (stdout); under ``physfact examples run NAME --json`` that
text goes to stderr so stdout holds only the JSON result. Notices the user must see even then (a
stand-in model used because data is absent) go to stderr and into the result dict.

Progress: an example that runs for more than a couple of seconds takes
``main(..., progress=terminal_progress)`` -- the same hook the library functions take
(:mod:`physfact.progress`) -- and hands it to the library calls it makes (``balanced_truncation(...,
progress=progress)``), names its own phases with ``step(progress, "...")`` and its own loops with
``track(progress, items, "...")``. Run as a script it shows bars when stderr is a terminal;
``physfact examples run`` passes the command's console (bars on stderr on a terminal, none when piped or
with ``--quiet``; stdout keeps only the JSON with ``--json``).
"""
from __future__ import annotations

import ast
import contextlib
import inspect
import io
import os
import runpy
import time
from pathlib import Path

from physfact.errors import InputError, UnknownNameError


class _ConsoleText(io.TextIOBase):
    """stdout for an example's ``print``: through the console, which survives a closed stdout."""

    def __init__(self, console):
        self.console = console

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.console.print(text, end="")
        if "\n" in text:  # a piped stdout is block-buffered: each finished line shows as the example runs
            with contextlib.suppress(OSError, ValueError):
                self.console.stdout.flush()
        return len(text)


def examples_dir() -> Path:
    """The examples folder of a source checkout (editable install)."""
    here = Path(__file__).resolve().parent.parent / "examples"
    if not here.is_dir():
        raise InputError("the examples are not installed with this copy of physfact; "
                         "they ship in the source tree (git clone, then pip install -e .)")
    return here


def list_examples() -> dict:
    """{name: summary} for every example script."""
    out = {}
    for path in sorted(examples_dir().glob("*.py")):
        if path.name.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        out[path.stem] = doc.strip().splitlines()[0] if doc.strip() else ""
    return out


def run_example(name: str, small: bool = False, console=None, args=None) -> dict:
    """Run example ``name``'s ``main``; returns its result dict."""
    known = list_examples()
    if name not in known:
        raise UnknownNameError(f"unknown example {name!r}; known: {', '.join(known)}")
    plot = getattr(args, "plot", None) if args is not None else None
    # an example prints its story with print(); with --json stdout carries only the JSON result, so
    # the story goes to stderr (or nowhere with --quiet)
    text = None
    if console is not None and console.json:
        text = console.stderr if not console.quiet else open(os.devnull, "w")  # noqa: SIM115
    elif console is not None:
        text = _ConsoleText(console)  # a closed stdout (| head) ends the text, not the example
    if console is not None:  # the examples compute before they print: say what runs meanwhile
        console.info(f"example {name}{' (small)' if small else ''}: {known[name].rstrip('.') or 'running'} ...")
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if text is not None:
            stack.enter_context(contextlib.redirect_stdout(text))
            if text is not console.stderr and not isinstance(text, _ConsoleText):
                stack.callback(text.close)
        ns = runpy.run_path(str(examples_dir() / f"{name}.py"), run_name=f"physfact_example_{name}")
        main = ns["main"]
        extra = {}
        if console is not None and "progress" in inspect.signature(main).parameters:
            extra["progress"] = console.progress  # bars on stderr, on a terminal only, none with --quiet
        result = main(small=small, plot=plot, **extra)
    if console is not None:
        console.info(f"example {name}: done in {time.perf_counter() - t0:.1f} s")
    return result if isinstance(result, dict) else {"result": result}
