"""N2 dissociation scan on Dask: DF leaves, lambda and Toffoli counts of qubitization vs bond length.

The resource-estimation papers (von Burg et al., PRR 3, 033055 (2021); Lee et al., PRX Quantum 2,
030305 (2021)) report how the double-factorized Hamiltonian's one-norm lambda and the Toffoli count
of qubitized phase estimation change along a reaction coordinate. This runs that scan as a
:class:`physfact.sweep.Sweep` (the spec is ``sweep_n2_dissociation.toml`` beside this file; the
command-line equivalent is in its header), one point per bond length, each point a Dask task.
The Toffoli count obeys Toffolis = (Toffolis per step) x ceil(pi lambda / (2 dE)) (Lee et al.
App. C), checked on every point.
"""
import math
import tempfile
from pathlib import Path

from physfact.progress import terminal_progress
from physfact.sweep import Sweep, run_sweep
from physfact.sweep.store import load_table

SPEC = Path(__file__).with_suffix(".toml")


def main(small: bool = False, plot: str | None = None, client=None, store=None,
         progress=terminal_progress) -> dict:
    spec = Sweep.from_toml(SPEC)
    if small:  # minimal basis, three bond lengths: seconds
        spec = Sweep("df", fixed={**spec.fixed, "basis": "sto-3g"}, grid={"r": [1.0, 1.3, 1.8]})
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_sweep(spec, store or Path(tmp) / "n2-df", client=client, workers=None if client else 2,
                            progress=progress)
        table = load_table(summary.table)
        rows = [dict(zip(table, vals)) for vals in zip(*(list(table[c]) for c in table))]
        if plot:
            from physfact.sweep.plotting import plot_sweep

            plot_sweep(spec, summary.table, plot, columns=("n_leaves", "one_norm", "toffolis"))
    print(f"N2/{spec.fixed['basis']}, DF tol {spec.fixed['tol']:g} Ha: {summary.points} bond lengths "
          f"({summary.failed} failed)")
    print(f"{'r (A)':>6} {'L':>4} {'Xi':>5} {'lambda (Ha)':>12} {'Toffolis':>10} {'qubits':>7}")
    for r in rows:
        if r["n_leaves"] == r["n_leaves"] and r["n_leaves"] is not None:
            print(f"{r['r']:6.2f} {int(r['n_leaves']):4d} {int(r['n_eigenvectors']):5d} {r['one_norm']:12.4f} "
                  f"{r['toffolis']:10.3e} {int(r['logical_qubits']):7d}")
            steps = math.ceil(math.pi * r["one_norm"] / (2 * 1e-3))
            assert int(r["toffolis"]) == int(r["toffolis_per_step"]) * steps
    return {"points": summary.points, "failed": summary.failed, "rows": rows}


if __name__ == "__main__":
    main()
