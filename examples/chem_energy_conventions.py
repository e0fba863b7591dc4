"""Energy error of a truncated double factorization vs the number of leaves, conventions A and B.

A: the truncated ERI with its own one-body correction (what costing tables usually report).
B: the Hamiltonian actually measured: exact one-body group, truncated squares. The two differ by
the one-body term 1/2 sum_r [(pr|rq) - (pr|rq)~], so their errors differ in size and sign.
"""
import numpy as np

from physfact.chem import double_factorize, energy_errors, molecular_hamiltonian


def main(small: bool = False, plot: str | None = None) -> dict:
    name = "LiH" if small else "H2O"
    H = molecular_hamiltonian(name)
    full = double_factorize(H, method="eigh")
    Ls = list(range(1, full.n_leaves + 1, 1 if small else 2))
    if Ls[-1] != full.n_leaves:
        Ls.append(full.n_leaves)
    err_a, err_b, eri = [], [], []
    for L in Ls:
        df = full.truncate(L)
        e = energy_errors(df)
        err_a.append(e["error_A_mha"])
        err_b.append(e["error_B_mha"])
        eri.append(df.two_body_error["max_abs"])
    print(f"{H.name} / {H.basis}, N = {H.n_orbitals}, E_FCI = {H.fci_energy():.8f} Ha")
    print("   L   max|dERI| (Ha)   dE_A (mHa)   dE_B (mHa)")
    for L, x, a, b in zip(Ls, eri, err_a, err_b):
        print(f"{L:4d}   {x:12.3e}   {a:+10.4f}   {b:+10.4f}")
    assert abs(err_a[-1]) < 1e-6 and abs(err_b[-1]) < 1e-6  # all leaves: exact
    assert eri[-1] < 1e-12
    mid = len(Ls) // 3
    assert abs(err_a[mid] - err_b[mid]) > 1e-3  # the conventions are different Hamiltonians
    if plot:
        from physfact.plotting import pyplot, save_figure

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.semilogy(Ls, np.abs(err_a) + 1e-12, "o-", label="|dE_A| (truncated ERI, own correction)")
        ax.semilogy(Ls, np.abs(err_b) + 1e-12, "s-", label="|dE_B| (measured Hamiltonian)")
        ax.axhline(1.0, color="k", ls=":", lw=1, label="1 mHa")
        ax.set_xlabel("leaves L")
        ax.set_ylabel("|energy error| (mHa)")
        ax.set_title(f"DF energy conventions, {H.name} / {H.basis}")
        ax.legend()
        save_figure(fig, plot)
    return {"molecule": name, "leaves": Ls, "error_A_mha": err_a, "error_B_mha": err_b, "eri_max_abs": eri}


if __name__ == "__main__":
    main()
