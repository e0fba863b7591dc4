"""Matplotlib helpers: headless-safe figures and atomic saving. matplotlib is imported lazily."""
from __future__ import annotations

import os
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
