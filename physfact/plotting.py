"""Matplotlib helpers: headless-safe figures, atomic saving, and :func:`figure_problems`, the check
every physfact figure passes (title, labelled axes with units, legend, mathtext). matplotlib is
imported lazily."""
from __future__ import annotations

import os
import re
from pathlib import Path

from physfact.io import atomic_path


def pyplot():
    """Return matplotlib.pyplot, selecting the Agg backend when there is no display."""
    import matplotlib

    if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi: int = 120) -> Path:
    """Save ``fig`` to ``path`` atomically (format from the suffix) and close it."""
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return path


def plot_singular_values(s, path, rank=None, title="singular values", ylabel="$s_i / s_1$", labels=None):
    """Semilog plot of one or several singular-value sequences (normalized by the first), with the
    chosen rank marked; saved to ``path``."""
    import numpy as np

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    seqs = s if isinstance(s, (list, tuple)) else [s]
    labels = labels or [None] * len(seqs)
    for seq, lab in zip(seqs, labels):
        seq = np.asarray(seq, dtype=float)
        if seq.size and seq[0] > 0:
            ax.semilogy(np.arange(1, seq.size + 1), seq / seq[0], ".-", label=lab)
    if rank is not None:
        ax.axvline(rank + 0.5, color="k", ls="--", lw=1, label=f"rank {rank}")
    ax.set_xlabel("index i")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if any(labels) or rank is not None:
        ax.legend()
    return save_figure(fig, path)


def plot_hankel_singular_values(hsv, path, order=None, floor=None, title="Hankel singular values",
                                extra_below: int = 5):
    """Hankel singular values sigma_k (log scale) with the roundoff floor and the chosen order marked.

    Only the resolvable part is drawn: the values above ``floor`` and at most ``extra_below`` below it
    (a large model has hundreds of values at ~1e-16 sigma_1 that say nothing but "rounding").

    Parameters
    ----------
    hsv : array_like
        Hankel singular values, descending (k = 1, 2, ... on the x axis).
    path : str or Path
        Output file (format from the suffix).
    order : int, optional
        The reduced order r kept: a vertical line between sigma_r and sigma_{r+1}.
    floor : float, optional
        Roundoff floor (absolute, same units as ``hsv``); default 100 eps sigma_1.
    """
    import numpy as np

    s = np.asarray(hsv, dtype=float)
    if floor is None:
        floor = 100.0 * np.finfo(float).eps * (s[0] if s.size else 0.0)
    above = int(np.count_nonzero(s > floor))
    shown = s[:min(s.size, max(above + extra_below, (order or 0) + 1, 2))]
    k = np.arange(1, shown.size + 1)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ok = shown > 0
    ax.semilogy(k[ok], shown[ok], "o-", ms=3, label=f"$\\sigma_k$ ({above} of {s.size} above the floor)")
    if floor > 0:
        ax.axhline(floor, color="tab:red", ls=":", lw=1.2, label=f"roundoff floor {floor:.1e}")
    if order is not None:
        ax.axvline(order + 0.5, color="k", ls="--", lw=1, label=f"chosen order r = {order}")
    if s.size > shown.size:
        ax.set_xlim(0.5, shown.size + 0.5)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("k")
    ax.set_ylabel("$\\sigma_k$")
    ax.set_title(title + (f": first {shown.size} of {s.size}" if s.size > shown.size else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


#: (quantity named in a label, the unit it must then show): checked by :func:`figure_problems`
_QUANTITY_UNITS = [
    (re.compile(r"omega|frequenc", re.I), re.compile(r"rad")),
    (re.compile(r"entrop|mutual information", re.I), re.compile(r"nats|bits")),
    (re.compile(r"energy|Hartree|error.*mHa|\bE_", re.I), re.compile(r"Ha\b|Hartree|mHa")),
    (re.compile(r"^\s*(t|time)\b", re.I), re.compile(r"[\[(].+[\])]")),
    (re.compile(r"deflection|displacement|\|u\||^\s*[xyz]\s*$|^\s*[xyz] \(", re.I), re.compile(r"[\[(].+[\])]")),
]


def _outside_math(text):
    """The parts of a label outside $...$ (mathtext)."""
    return "".join(text.split("$")[0::2])


def figure_problems(fig) -> list:
    """What a figure lacks, as a list of strings (empty when it is fine).

    Every axes needs a title (or the figure a suptitle), x and y labels, a legend when it holds more
    than one curve, and no raw TeX outside ``$...$`` (mathtext); a label that names a quantity with a
    unit (frequency, entropy, energy, time, displacement, coordinates) must give the unit; a colorbar
    needs a label. The tests run it on every figure the command line and the examples draw.
    """
    problems = []
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    for k, ax in enumerate(fig.axes):
        where = f"axes {k}"
        labels = [ax.get_xlabel(), ax.get_ylabel()]
        if hasattr(ax, "_colorbar"):  # a colorbar: its one label names the coloured quantity
            labels = [lab for lab in labels if lab] or [""]
            if not labels[0]:
                problems.append(f"{where}: colorbar without a label")
        else:
            if not ax.get_title() and not suptitle:
                problems.append(f"{where}: no title (and no suptitle)")
            if not labels[0]:
                problems.append(f"{where}: no x label")
            if not labels[1]:
                problems.append(f"{where}: no y label")
            # curves: lines with data (not a marker line of two points) and labelled scatter/bar sets
            curves = [ln for ln in ax.lines if len(ln.get_xdata()) > 2]
            curves += [c for c in ax.collections if c.get_label() and not c.get_label().startswith("_")]
            if len(curves) > 1 and ax.get_legend() is None:
                problems.append(f"{where}: {len(curves)} curves but no legend")
        texts = labels + [ax.get_title(), suptitle]
        for text in texts:
            plain = _outside_math(text)
            if re.search(r"\\[a-zA-Z]+|[_^]\{|\{|\}", plain):
                problems.append(f"{where}: raw TeX outside $...$ in {text!r}")
        for text in labels:
            for quantity, unit in _QUANTITY_UNITS:
                if text and quantity.search(_outside_math(text)) and not unit.search(text):
                    problems.append(f"{where}: label {text!r} names a quantity without its unit")
    return problems
