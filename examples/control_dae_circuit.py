"""An RC ladder driven by a voltage source: a DAE (index 2) whose input admittance has an s-term.

States: node voltages v_0..v_{N-1} and the source current i. Node 0 has a capacitor C0 to ground and
the ideal source v_0 = u -- an algebraic equation (a zero row of E) -- so the output y = i contains
the capacitor current C0 u': G(s) = s C0 + 1/R + G_sp(s). Balanced truncation reduces the strictly
proper part (bound 2 sum hsv[r:]) and keeps M0 = 1/R and M1 = C0 exactly.
"""
from __future__ import annotations

import numpy as np

from physfact.control import LTISystem, balanced_truncation
from physfact.progress import step, terminal_progress


def rc_ladder(n_nodes: int, R: float = 1.0, C: float = 1e-3, C0: float = 2e-3, Rg: float = 50.0):
    """E x' = A x + B u with x = [v_0..v_{N-1}, i]; series resistors R, capacitors C (C0 at node 0)
    and leak resistors Rg to ground; y = i (the source current)."""
    N = n_nodes
    A = np.zeros((N + 1, N + 1))
    for k in range(N - 1):  # resistor between nodes k and k + 1
        A[k, k] -= 1 / R
        A[k, k + 1] += 1 / R
        A[k + 1, k + 1] -= 1 / R
        A[k + 1, k] += 1 / R
    A[np.arange(1, N), np.arange(1, N)] -= 1 / Rg
    A[0, N] = 1.0  # the source current enters node 0
    A[N, 0] = -1.0  # 0 = -v_0 + u
    E = np.diag(np.r_[C0, np.full(N - 1, C), 0.0])
    B = np.zeros((N + 1, 1))
    B[N] = 1.0
    Cout = np.zeros((1, N + 1))
    Cout[0, N] = 1.0
    return LTISystem(A, B, Cout, None, E)


def main(small: bool = False, plot: str | None = None, progress=terminal_progress) -> dict:
    R, C0 = 1.0, 2e-3
    sys = rc_ladder(60 if small else 300, R=R, C0=C0)
    r = 8
    res = balanced_truncation(sys, rank=r, progress=progress)
    M = res.info["polynomial"]
    w = np.logspace(-1, 4, 200)
    with step(progress, f"frequency response of the full DAE ({w.size} frequencies)"):
        G, Gr = sys.freqresp(w), res.rom.freqresp(w)
    err = float(np.abs(G - Gr).max())
    print(f"RC ladder: n = {sys.n} (DAE, {res.info['n_infinite']} infinite eigenvalues), proper part reduced to "
          f"r = {r}, ROM order {res.order} (+{res.info['polynomial_states']} states for s M1)")
    print(f"polynomial part kept: M0 = {M[0][0, 0]:.6g} (1/R = {1 / R:g}), M1 = {M[1][0, 0]:.6g} (C0 = {C0:g})")
    print(f"sampled |G - G_r| = {err:.3e} <= bound {res.error_bound:.3e} (the bound is the proper part's)")
    if plot:
        from physfact.plotting import pyplot, save_figure

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6.5, 4))
        ax.loglog(w, np.abs(G[:, 0, 0]), "-", label=f"full DAE (n={sys.n})")
        ax.loglog(w, np.abs(Gr[:, 0, 0]), "--", label=f"ROM (order {res.order})")
        ax.loglog(w, np.abs(G - Gr)[:, 0, 0], ":", label="error")
        ax.set_xlabel(r"$\omega$ [rad/s]")
        ax.set_ylabel(r"$|G(i\omega)|$ [S]")
        ax.set_title("RC ladder input admittance: polynomial part kept")
        ax.legend()
        save_figure(fig, plot)
    return {"n": sys.n, "r": r, "order": res.order, "M0": float(M[0][0, 0]), "M1": float(M[1][0, 0]),
            "R": R, "C0": C0, "error": err, "error_bound": res.error_bound, "hsv_r": float(res.hsv[r])}


if __name__ == "__main__":
    main()
