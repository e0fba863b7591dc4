"""Reduced model of the cooling of a steel rail profile (balanced truncation, error bound checked).

The model (Benner & Saak 2005, MORwiki "Steel Profile") is a 2-D heat equation on a rail cross-section,
E x' = A x + B u, with 7 cooling-nozzle inputs and 6 temperature outputs. We reduce it by
square-root balanced truncation to a guaranteed H-infinity error, then compare the step responses
of the full and the reduced model. Without the benchmark data (../shared/data/control, or
$PHYSFACT_SHARED_DATA/control), a scikit-fem 2-D heat model of the same kind stands in, and the run says so
(a note on stderr and ``stand_in`` in the result).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from sys import stderr

import numpy as np

from physfact.control import balanced_truncation, models
from physfact.progress import phase, step, terminal_progress


def _model(small):
    """(name, system, note): the rail model, or a stand-in (with a note saying so) when its data is absent."""
    shared = os.environ.get("PHYSFACT_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data"
    data = Path(shared) / "control"
    name = "rail_371.mat" if small else "rail_1357.mat"
    if (data / name).is_file():
        return name[:-4], models.load(data / name), None
    nx = 16 if small else 36
    note = (f"{name} is not in {data}: running the stand-in scikit-fem model heat2d:{nx} "
            f"(2-D heat equation) instead of the steel rail")
    return f"heat2d:{nx}", models.heat2d(nx), note


def main(small: bool = False, plot: str | None = None, progress=terminal_progress) -> dict:
    name, sys, note = _model(small)
    if note:
        print(f"note: {note}", file=stderr)
    t0 = time.perf_counter()
    tol = 1e-3 * sys.hinf_norm(method="sampling", omega=np.concatenate([[0.0], np.logspace(-6, 2, 60)]),
                               progress=phase(progress, "||G||_Hinf of the full model"))
    res = balanced_truncation(sys, tol=float(tol), progress=progress)
    seconds = time.perf_counter() - t0
    rom = res.rom
    print(f"{name}: n = {sys.n}, m = {sys.m}, p = {sys.p} -> r = {rom.n} in {seconds:.2f} s "
          f"(target error {float(tol):.3e}, bound {res.error_bound:.3e})")
    # step on the first cooling input, long enough to reach steady state
    slow = float(np.min(np.abs(rom.poles().real)))
    t = np.linspace(0.0, 5.0 / slow, 201)
    u = np.zeros((t.size, sys.m))
    u[:, 0] = 1.0
    with step(progress, f"step response of the full model (n = {sys.n}, {t.size} time steps)"):
        y = sys.simulate(t, u).y
    yr = rom.simulate(t, u).y
    step_err = float(np.abs(y - yr).max())
    dc_err = float(np.linalg.norm(sys.freqresp([0.0])[0] - rom.freqresp([0.0])[0], 2))
    print(f"step response: max |y - y_r| = {step_err:.3e} (outputs up to {np.abs(y).max():.3e}); "
          f"DC gain error {dc_err:.3e} <= bound {res.error_bound:.3e}")
    assert dc_err <= res.error_bound * (1 + 1e-8), "BT error bound violated at omega = 0"
    assert res.error_bound <= float(tol)
    assert step_err <= 0.01 * np.abs(y).max(), "reduced step response is off by more than 1%"
    if plot:
        from physfact.plotting import pyplot, save_figure

        plt = pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        axes[0].semilogy(np.arange(1, res.hsv.size + 1), res.hsv / res.hsv[0], ".", label="Hankel singular values")
        axes[0].axvline(rom.n + 0.5, color="k", lw=0.8, label=f"order r = {rom.n}")
        axes[0].set_title("Hankel singular values")
        axes[0].set_xlabel("k")
        axes[0].set_ylabel(r"$\sigma_k / \sigma_1$")
        axes[0].legend()
        for j in range(sys.p):
            axes[1].plot(t, y[:, j], "-", color=f"C{j}", label=f"output {j + 1}")
            axes[1].plot(t, yr[:, j], "--", color=f"C{j}")
        axes[1].plot([], [], "k-", label=f"full (n = {sys.n})")
        axes[1].plot([], [], "k--", label=f"reduced (r = {rom.n})")
        axes[1].set_title("step response on input 1")
        axes[1].set_xlabel("t (model time units)")
        axes[1].set_ylabel("output y (model units)")
        axes[1].legend(fontsize="small", ncol=2, loc="center right")
        fig.tight_layout()
        save_figure(fig, plot)
    return {"model": name, "stand_in": note, "n": sys.n, "r": rom.n, "error_bound": res.error_bound, "target": float(tol),
            "step_error": step_err, "dc_error": dc_err, "output_max": float(np.abs(y).max()), "seconds": seconds}


if __name__ == "__main__":
    main()
