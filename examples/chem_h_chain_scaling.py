"""Leaves of a pivoted-Cholesky double factorization of hydrogen chains (6-31g) grow linearly with N.

At a fixed bound on the largest ERI error (tol = max residual diagonal), the number of leaves L
of a chain of n H atoms 1 Angstrom apart grows ~linearly in the number of orbitals N = 2n
(Peng & Kowalski 2017; Motta et al. 2021), not as N^2.
"""
import time

import numpy as np

from physfact.chem import double_factorize, h_chain, molecular_hamiltonian


def main(small: bool = False, plot: str | None = None) -> dict:
    atoms = [4, 6, 8] if small else [4, 8, 12, 16, 20]
    tol = 1e-4
    out = {"n_orbitals": [], "n_leaves": [], "max_abs_error": [], "seconds": []}
    for n in atoms:
        H = molecular_hamiltonian(h_chain(n), basis="6-31g")
        t = time.perf_counter()
        df = double_factorize(H, tol=tol, method="cholesky")
        dt = time.perf_counter() - t
        err = df.two_body_error["max_abs"]
        out["n_orbitals"].append(H.n_orbitals)
        out["n_leaves"].append(df.n_leaves)
        out["max_abs_error"].append(err)
        out["seconds"].append(dt)
        print(f"H{n:<3d} N = {H.n_orbitals:3d}: L = {df.n_leaves:4d} (L/N = {df.n_leaves / H.n_orbitals:.2f}), "
              f"max |dERI| = {err:.2e} <= tol {tol:g}, {dt:.3f} s")
        assert err <= tol
    ratio = np.array(out["n_leaves"]) / np.array(out["n_orbitals"])
    assert ratio.max() < 10 and ratio[-1] < ratio[0] * 3  # linear, not quadratic, growth
    slope = np.polyfit(np.log(out["n_orbitals"]), np.log(out["n_leaves"]), 1)[0]
    print(f"L ~ N^{slope:.2f}")
    out["exponent"] = float(slope)
    if plot:
        from physfact.plotting import pyplot, save_figure

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.loglog(out["n_orbitals"], out["n_leaves"], "o-", label=f"L (tol {tol:g} Ha)")
        ax.loglog(out["n_orbitals"], out["n_orbitals"], "k:", label="L = N")
        ax.set_xlabel("orbitals N")
        ax.set_ylabel("leaves L")
        ax.set_title("double-factorization leaves of hydrogen chains")
        ax.legend()
        save_figure(fig, plot)
    return out


if __name__ == "__main__":
    main()
