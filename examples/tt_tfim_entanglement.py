"""Critical Ising chain: ED ground state -> MPS, bond entropies vs exact free fermions, central charge.

The transverse-field Ising chain H = -sum Z_i Z_{i+1} - g sum X_i at g = 1 is critical (c = 1/2).
Its ED ground state is turned into an MPS by TT-SVD; the entropy of every bond is compared with the
exact free-fermion value (Majorana correlation matrix), and the Calabrese-Cardy formula for open
chains, S(l) = (c/6) ln[(2L/pi) sin(pi l/L)] + const, is fitted on l in [L/8, 7L/8]. A long
free-fermion chain (L = 200) shows c -> 1/2.
"""
import numpy as np

from physfact.progress import step, terminal_progress
from physfact.tt import MPS
from physfact.tt.models import calabrese_cardy_fit, ground_state, tfim, tfim_energy_exact, tfim_entropies_exact


def main(small: bool = False, plot: str | None = None, progress=terminal_progress) -> dict:
    L = 10 if small else 18
    with step(progress, f"exact diagonalization of L = {L} (2^{L} amplitudes)"):
        gs = ground_state(tfim(L, g=1.0))
    with step(progress, "TT-SVD of the ground state into an MPS"):
        mps = MPS.from_statevector(gs.psi, dims=2, tol=1e-12)
    S = mps.entanglement_entropy()
    S_exact = tfim_entropies_exact(L, g=1.0)
    e_exact = tfim_energy_exact(L, g=1.0)
    fit = calabrese_cardy_fit(S)
    fit_long = calabrese_cardy_fit(tfim_entropies_exact(200))
    print(f"L = {L}: E0 = {gs.energy:.12f} (free fermions {e_exact:.12f})")
    print(f"bond dimensions at tol 1e-12: {list(mps.bond_dimensions)}; MPS error {mps.error_bound:.1e}")
    print(f"max |S_MPS - S_exact| over bonds: {np.max(np.abs(S - S_exact)):.2e} nats")
    print(f"central charge: L = {L} -> {fit.c:.4f} (finite size), free fermions L = 200 -> {fit_long.c:.4f}")
    # sanity: the ED and the MPS agree with the exact solution
    assert abs(gs.energy - e_exact) < 1e-9
    assert np.max(np.abs(S - S_exact)) < 1e-8
    assert abs(fit_long.c - 0.5) < 0.02
    if plot:
        from physfact.plotting import pyplot, save_figure
        from physfact.tt.models import chord_variable

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6, 4))
        ell = np.arange(1, L)
        ax.plot(ell, S, "o", label="MPS of the ED ground state")
        ax.plot(ell, S_exact, "-", label="free fermions (exact)")
        ax.plot(ell, fit.c * chord_variable(ell, L) + fit.constant, "--", label=f"Calabrese-Cardy c = {fit.c:.3f}")
        ax.set_xlabel("block size l")
        ax.set_ylabel("entanglement entropy S (nats)")
        ax.set_title(f"critical transverse-field Ising chain, L = {L}")
        ax.legend()
        save_figure(fig, plot)
    return {"L": L, "energy": gs.energy, "energy_exact": e_exact, "entropy_error": float(np.max(np.abs(S - S_exact))),
            "c_small": fit.c, "c_L200": fit_long.c, "bond_dimensions": list(mps.bond_dimensions)}


if __name__ == "__main__":
    main()
