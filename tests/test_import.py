"""`import physfact` stays light: heavy dependencies are imported only where used."""
import subprocess
import sys

import pytest

HEAVY = ("pyscf", "openfermion", "matplotlib", "skfem", "h5py", "cirq", "tqdm")


@pytest.mark.parametrize("module", ["physfact", "physfact.lowrank", "physfact.cli", "physfact.control",
                                    "physfact.fem", "physfact.chem", "physfact.tt"])
def test_import_does_not_pull_heavy_dependencies(module):
    code = (f"import importlib, sys\n"
            f"try:\n    importlib.import_module({module!r})\nexcept ModuleNotFoundError:\n    print('ABSENT'); sys.exit()\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    if out.stdout.strip() == "ABSENT":
        pytest.skip(f"{module} not built yet")
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()} at import time"
