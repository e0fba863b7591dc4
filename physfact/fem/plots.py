"""Figures: the deformed beam and the singular values of the Kronecker rearrangement."""
from __future__ import annotations

import numpy as np

from physfact.plotting import pyplot, save_figure


def plot_beam(problem, u, path, singular_values=None, rank=None, scale=None, title=None):
    """Save a figure of the deformed (2-D) beam, coloured by |u|, and optionally the normalized
    singular values of the rearrangement with the kept rank marked.

    ``scale`` magnifies the displacement (default: tip deflection drawn as 10% of the length).
    """
    plt = pyplot()
    panels = 2 if singular_values is not None else 1
    fig, axes = plt.subplots(panels, 1, figsize=(8, 3.2 * panels), squeeze=False)
    ax = axes[0, 0]
    u = np.asarray(u, dtype=float)
    ncomp = problem.n_components
    coords = problem.coords
    if coords.shape[1] == 2 and ncomp == 2:
        ux, uy = u[problem.section % 2 == 0], u[problem.section % 2 == 1]
        xy = coords[problem.section % 2 == 0]
        mag = np.hypot(ux, uy)
        length = float(np.ptp(problem.mesh.p[0])) if problem.mesh is not None else float(np.ptp(xy[:, 0]))
        if scale is None:
            scale = 0.1 * length / max(mag.max(), 1e-300)
        if problem.mesh is not None:
            p = problem.mesh.p
            ax.plot(p[0], p[1], ",", color="0.8")
        sc = ax.scatter(xy[:, 0] + scale * ux, xy[:, 1] + scale * uy, c=mag, s=4, cmap="viridis")
        fig.colorbar(sc, ax=ax, label="|u| (length units)")
        ax.set_title(title or f"deformed beam (displacement x {scale:.3g})")
        ax.set_aspect("equal", adjustable="datalim")
    else:
        sc = ax.scatter(coords[:, 0], coords[:, 1], c=u if ncomp == 1 else np.abs(u), s=4, cmap="viridis")
        fig.colorbar(sc, ax=ax, label="u" if ncomp == 1 else "|u|")
        ax.set_title(title or "solution")
    ax.set_xlabel("x (length units)")
    ax.set_ylabel("y (length units)")
    if singular_values is not None:
        ax = axes[1, 0]
        s = np.asarray(singular_values, dtype=float)
        s = s[s > 0]
        ax.semilogy(np.arange(1, s.size + 1), s / s[0], ".-")
        if rank is not None:
            ax.axvline(rank + 0.5, color="k", ls="--", lw=1, label=f"Kronecker rank {rank}")
            ax.legend()
        ax.set_xlabel("index i")
        ax.set_ylabel("$s_i / s_1$")
        ax.set_title("singular values of the Van Loan-Pitsianis rearrangement")
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)
