"""The sweep figure: titles, labelled axes with units, legends (the CLI figure checker), without a cluster."""
import csv

import pytest

import physfact.sweep.plotting as sweep_plotting
from physfact.plotting import figure_problems
from physfact.sweep import Sweep


@pytest.mark.parametrize("grid", [{"g": [0.5, 1.0, 1.5]}, {"g": [0.5, 1.0, 1.5], "L": [6, 8]}])
def test_sweep_figure_passes_the_figure_checks(grid, tmp_path, monkeypatch):
    sweep = Sweep("tt-chain", fixed={} if "L" in grid else {"L": 8}, grid=grid)
    rows = [{"g": g, "L": L, "energy": -L * (1 + g), "half_chain_entropy": 0.1 * L * g,
             "max_bond_dimension": 2 + L, "error": ""}
            for g in grid["g"] for L in grid.get("L", [8])]
    table = tmp_path / "results.csv"
    with open(table, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    seen = []
    original = sweep_plotting.save_figure

    def recording(fig, path, *args, **kwargs):
        seen.append(figure_problems(fig))
        return original(fig, path, *args, **kwargs)

    monkeypatch.setattr(sweep_plotting, "save_figure", recording)
    sweep_plotting.plot_sweep(sweep, table, tmp_path / "f.png")
    assert seen == [[]]
    assert (tmp_path / "f.png").stat().st_size > 1000
