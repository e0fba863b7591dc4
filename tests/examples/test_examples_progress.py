"""Long examples show what they are doing: they take ``progress=`` like the library, hand it to the
library calls and name their own phases; ``physfact examples run`` shows it on a terminal only."""
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.progress_bar import recorder
from tests.terminal import ROOT, run_with_terminal_stderr

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _main(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"]


def test_examples_hand_progress_to_the_library_and_name_their_phases():
    bars = []
    out = _main("control_dae_circuit")(small=True, progress=recorder(bars))
    descs = [b.desc for b in bars]
    assert descs[0] == "QZ split (finite/infinite eigenvalues)"  # balanced_truncation's DAE route
    assert any(d.startswith("Gramian 1/2") for d in descs) and descs[-1].startswith("frequency response")
    assert all(b.closed for b in bars)
    ref = _main("control_dae_circuit")(small=True, progress=None)
    assert out["error_bound"] == ref["error_bound"]
    bars = []
    out = _main("fem_poisson_fdm")(small=True, progress=recorder(bars))
    (euler,) = [b for b in bars if b.desc == "implicit Euler steps"]
    assert euler.total == euler.n == 20 and euler.closed  # the example's own loop
    assert np.isfinite(out["decay_rate"])


def test_examples_run_shows_progress_on_a_terminal_only():
    args = ["examples", "run", "control_dae_circuit", "--small"]
    rc, out, err = run_with_terminal_stderr(args + ["--json"])
    assert rc == 0, err
    assert json.loads(out)["order"] > 0  # --json: only the JSON on stdout, bars on stderr
    assert "QZ split" in err and "Gramian 1/2" in err
    piped = subprocess.run([sys.executable, "-m", "physfact.cli", *args], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)
    assert piped.returncode == 0 and "QZ split" not in piped.stderr and "\r" not in piped.stderr
    lines = piped.stderr.splitlines()  # piped: the start and end lines only
    assert len(lines) == 2 and all(ln.startswith("example control_dae_circuit") for ln in lines), lines
    rc, _, err = run_with_terminal_stderr(args + ["--quiet"])
    assert rc == 0 and err.strip() == ""


#: examples whose full setting ran over ~2 s of CPU here (measured with ``physfact examples run NAME``)
LONG = ("chem_measurement_groups", "control_dae_circuit", "control_fom_bode", "control_rail_rom", "control_stokes",
        "fem_cantilever_kronecker", "fem_poisson_fdm", "fem_prismatic_sweep", "sweep_n2_dissociation",
        "sweep_tfim_field", "tt_dmrg_heisenberg_central_charge", "tt_dmrg_ising_central_charge",
        "tt_molecule_orbitals", "tt_tfim_entanglement")


def test_long_examples_take_progress():
    import inspect

    from physfact.examples_registry import list_examples

    assert set(LONG) <= set(list_examples())
    for name in LONG:
        param = inspect.signature(_main(name)).parameters.get("progress")
        assert param is not None, f"{name}: main(..., progress=terminal_progress) shows its phases"
        assert param.default.__name__ == "terminal_progress", name
