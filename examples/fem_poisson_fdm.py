"""Fast diagonalisation of a Poisson strip and of implicit heat steps, against scipy splu.

-div grad u = 1 on a 20 x 1 strip (u = 0 on the boundary) is a two-term Kronecker sum
K = K_x (x) M_y + M_x (x) K_y; the cross-section pencil is diagonalised once and the axis is
solved by banded Cholesky. The same factor type solves implicit Euler steps (M + dt K) u+ = M u
of the heat equation, whose slowest mode decays like exp(-lambda_1 t), lambda_1 = pi^2 (1/L^2 + 1/H^2).
"""
import time

import numpy as np

from physfact.progress import step, terminal_progress, track


def main(small: bool = False, plot: str | None = None, progress=terminal_progress) -> dict:
    from scipy.sparse.linalg import splu

    from physfact.fem import FDMFactor, KroneckerOperator, fdm_solve, poisson_strip

    ny = 8 if small else 64
    with step(progress, f"assembling the Poisson strip (ny = {ny}) with scikit-fem"):
        prob = poisson_strip(length=20.0, height=1.0, ny=ny)
    K = KroneckerOperator.from_problem(prob)
    res = fdm_solve(K, prob.f)
    t0 = time.perf_counter()
    with step(progress, "reference solve by scipy splu"):
        ref = splu(prob.K.tocsc(), permc_spec="MMD_AT_PLUS_A").solve(prob.f)
    t_lu = time.perf_counter() - t0
    err = float(np.linalg.norm(res.x - ref) / np.linalg.norm(ref))
    print(f"Poisson strip n = {prob.n}: FDM {res.seconds * 1e3:.1f} ms, splu {t_lu * 1e3:.1f} ms, "
          f"relative difference {err:.1e}; max u = {res.x.max():.5f} (1-D limit H^2/8 = 0.125)")
    assert err < 1e-10

    # heat equation u_t = lap u from the Poisson solution: implicit Euler with one FDM factor
    M = KroneckerOperator.from_problem(prob, which="M")
    dt, steps = 0.01, (20 if small else 50)
    implicit = FDMFactor(M + dt * K)  # one factor for every implicit Euler step
    u = res.x.copy()
    norms = [float(np.sqrt(u @ (prob.M @ u)))]
    for _ in track(progress, range(steps), "implicit Euler steps", unit="step"):
        u = implicit.solve(prob.M @ u)
        norms.append(float(np.sqrt(u @ (prob.M @ u))))
    rate = -np.log(norms[-1] / norms[-2]) / dt
    lam1 = np.pi**2 * (1 / 20.0**2 + 1 / 1.0**2)
    euler = np.log(1 + lam1 * dt) / dt         # decay rate of implicit Euler for the exact eigenvalue
    print(f"heat: late decay rate {rate:.4f} vs implicit-Euler rate of lambda_1 {euler:.4f} "
          f"(lambda_1 = {lam1:.4f})")
    assert abs(rate / euler - 1) < 0.05
    if plot:
        from physfact.fem.plots import plot_beam

        plot_beam(prob, res.x, plot, title="Poisson strip: u")
    return {"n": prob.n, "fdm_seconds": res.seconds, "splu_seconds": t_lu, "relative_difference": err,
            "decay_rate": float(rate), "expected_rate": float(euler)}


if __name__ == "__main__":
    main()
