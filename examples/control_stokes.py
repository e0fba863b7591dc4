"""Stokes flow, an index-2 DAE with singular E: balanced truncation on the hidden manifold ker G^T.

``stokes:N`` is M-M.E.S.S.'s ``stokes_ind2`` benchmark (Schmidt 2007): velocities and pressure on a
staggered N x N grid of the unit square, E = blkdiag(I, 0), A = [[A11, G], [G^T, 0]], 5 force inputs
on a strip near the bottom and 5 velocity outputs in a window above it. ``balanced_truncation`` sees
the structure and reduces the system without forming the projector onto ker G^T: one saddle-point LU
per ADI shift (Heinkenschloss, Sorensen & Sun 2008; Benner, Saak & Uddin 2016). The figure shows the
largest singular value of G, of the ROM and of the error G - G_r against frequency, with the bound
2 sum(hsv[r:]).
"""
from __future__ import annotations

import numpy as np

from physfact.control import balanced_truncation, models
from physfact.progress import track, terminal_progress


def main(small: bool = False, plot: str | None = None, progress=terminal_progress) -> dict:
    nx = 16 if small else 60
    sys = models.load(f"stokes:{nx}")
    r = 15
    # the sparse index-2 route: n > 500 and the structure is found
    res = balanced_truncation(sys, rank=r, progress=progress)
    w = np.logspace(-1, 5, 60)
    # one sparse LU of s E - A per frequency
    G = np.concatenate([sys.freqresp([wk]) for wk in track(progress, w, "frequency response of the full DAE",
                                                             unit="frequency")])
    Gr = res.rom.freqresp(w)
    sig = np.linalg.svd(G, compute_uv=False)[:, 0]
    sig_r = np.linalg.svd(Gr, compute_uv=False)[:, 0]
    sig_e = np.linalg.svd(G - Gr, compute_uv=False)[:, 0]
    print(f"stokes:{nx}: n = {sys.n} ({res.info['n_algebraic']} pressure unknowns, "
          f"{(nx - 1) ** 2} finite poles), m = {sys.m}, p = {sys.p}")
    print(f"route: {res.info['route']}; ADI steps {res.info['iterations']}, {res.info['factorizations']} saddle-point "
          f"factorizations, factor columns {res.info['factor_columns']}, {res.seconds:.2f} s")
    print(f"r = {res.order}: sampled max sigma(G - G_r) = {sig_e.max():.3e} <= bound {res.error_bound:.3e} "
          f"(hsv[r] = {res.hsv[r]:.3e})")
    if plot:
        from physfact.plotting import pyplot, save_figure

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6.5, 4))
        ax.loglog(w, sig, "-", label=f"full DAE (n={sys.n})")
        ax.loglog(w, sig_r, "--", label=f"ROM (r={res.order})")
        ax.loglog(w, sig_e, ":", label="error G - G_r")
        ax.axhline(res.error_bound, color="gray", lw=0.8, label="bound 2 sum(hsv[r:])")
        ax.set_xlabel(r"$\omega$ [rad/s]")
        ax.set_ylabel(r"$\sigma_{\max}(G(i\omega))$")
        ax.set_title(f"Stokes index-2 DAE stokes:{nx}: balanced truncation on ker $G^T$")
        ax.legend()
        save_figure(fig, plot)
    return {"n": sys.n, "r": res.order, "error": float(sig_e.max()), "error_bound": res.error_bound,
            "hsv_r": float(res.hsv[r]), "solver": res.solver, "stable": res.rom.is_stable(),
            "hinf_full": float(sig.max())}


if __name__ == "__main__":
    main()
