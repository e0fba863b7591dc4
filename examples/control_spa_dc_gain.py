"""SPA vs balanced truncation on the 1-D heat equation: same error bound, but SPA keeps the DC gain.

Balanced truncation matches G at s = infinity (the ROM's steady state is off by up to the bound);
the singular perturbation approximation (Liu & Anderson 1989) residualizes the discarded states
and matches G(0) exactly -- what matters when a controller or a step response needs the right
steady state.
"""
from __future__ import annotations

import numpy as np

from physfact.control import balanced_truncation, models


def main(small: bool = False, plot: str | None = None) -> dict:
    sys = models.heat1d(100 if small else 400)
    r = 3
    bt = balanced_truncation(sys, rank=r, method="sr")
    spa = balanced_truncation(sys, rank=r, method="spa")
    g0 = sys.freqresp([0.0])[0, 0, 0].real
    t = np.linspace(0.0, 1.0, 201)
    u = np.ones((t.size, 1))
    y = sys.simulate(t, u).y[:, 0]
    out = {"n": sys.n, "r": r, "dc_gain": g0, "error_bound": bt.error_bound}
    for name, res in (("bt", bt), ("spa", spa)):
        yr = res.rom.simulate(t, u).y[:, 0]
        out[f"{name}_dc_error"] = abs(res.rom.freqresp([0.0])[0, 0, 0] - g0)
        out[f"{name}_final_step_error"] = abs(yr[-1] - y[-1])
        out[f"{name}_error_bound"] = res.error_bound
        print(f"{name.upper():>3}: r = {r}, bound {res.error_bound:.3e}, |G(0) - G_r(0)| = {out[f'{name}_dc_error']:.3e}, "
              f"step response at t = 1: error {out[f'{name}_final_step_error']:.3e} (of {y[-1]:.4f})")
    if plot:
        from physfact.plotting import pyplot, save_figure

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6.5, 4))
        ax.plot(t, y, "-", label=f"full (n={sys.n})")
        ax.plot(t, bt.rom.simulate(t, u).y[:, 0], "--", label=f"BT (r={r})")
        ax.plot(t, spa.rom.simulate(t, u).y[:, 0], ":", label=f"SPA (r={r})")
        ax.set_xlabel("time t [s]")
        ax.set_ylabel("output y(t) [temperature]")
        ax.set_title("Step response: SPA keeps the steady state")
        ax.legend()
        save_figure(fig, plot)
        print(f"plot: {plot}")
    return out


if __name__ == "__main__":
    main()
