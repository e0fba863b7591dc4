"""Progress hooks: what a long computation tells the person waiting for it.

Library functions that run for more than a moment take ``progress=None``: a factory
``progress(iterable=None, total=None, desc=None, unit="it")`` returning a tqdm-like bar (``update(k)``,
``set_postfix_str(text)``, ``close()``), or wrapping ``iterable`` like ``tqdm(iterable)``. The command
line passes :meth:`physfact.console.Console.progress` (bars on stderr only on a terminal, none with
``--quiet``); ``tqdm.auto.tqdm`` itself fits too; None shows nothing. The helpers here name the phases
of a computation on such a factory:

* :func:`phase` -- every bar of a sub-computation labelled by its phase ("Gramian 1/2 (LR-ADI)");
* :func:`step` -- a phase with no inner progress (a Schur form, a matrix logarithm) shown by name while
  it runs;
* :func:`track` -- a loop of the caller's own (molecules, parameter values) as a bar;
* :func:`terminal_progress` -- the factory for scripts (the examples' default): bars on stderr when it
  is a terminal, nothing when it is piped.
"""
from __future__ import annotations

import contextlib


def phase(progress, name: str):
    """``progress`` with every bar's description prefixed by the phase ``name`` (None stays None)."""
    if progress is None:
        return None
    return lambda iterable=None, total=None, desc=None, unit="it": progress(
        iterable, total=total, desc=f"{name} ({desc})" if desc else name, unit=unit)


@contextlib.contextmanager
def step(progress, desc: str):
    """Show the phase ``desc`` (a one-step bar) while the ``with`` block runs; nothing when ``progress`` is None.

    >>> with step(progress, "Schur form of A"):   # doctest: +SKIP
    ...     T, Z = scipy.linalg.schur(A)
    """
    bar = progress(None, total=1, desc=desc, unit="step") if progress is not None else None
    try:
        yield bar
    finally:
        if bar is not None:
            bar.update(1)
            bar.close()


def track(progress, iterable, desc: str, unit: str = "it"):
    """``iterable`` as a bar named ``desc`` on ``progress`` (``iterable`` itself when ``progress`` is None)."""
    if progress is None:
        return iterable
    items = list(iterable)
    return progress(items, total=len(items), desc=desc, unit=unit)


def terminal_progress(iterable=None, total=None, desc=None, unit="it"):
    """A progress factory for scripts: a tqdm bar on stderr when stderr is a terminal, else a pass-through."""
    from physfact.console import Console

    return Console().progress(iterable, total=total, desc=desc, unit=unit)
