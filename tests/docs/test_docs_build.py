"""The documentation site builds with warnings as errors (the README's command)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # runs every example (small settings) for the gallery: ~1 min
def test_docs_build_with_warnings_as_errors(tmp_path):
    for module, extra in (("sphinx", "docs"), ("numpydoc", "docs"), ("myst_parser", "docs"),
                          ("sphinx_gallery", "docs")):
        pytest.importorskip(module, reason=f"{module} is not installed: pip install -e '.[{extra}]'")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                          "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(tmp_path / "html")],
                         capture_output=True, text=True, env=env, timeout=1200)
    assert out.returncode == 0, out.stderr[-4000:]
    html = tmp_path / "html"
    for page in ("index.html", "conventions.html", "cli_reference.html", "api/index.html", "gallery/index.html"):
        assert (html / page).is_file(), page
    # the gallery shows every example with its figure, the CLI reference every subcommand
    examples = sorted(p.stem for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
    for name in examples:
        assert (html / "_images" / f"sphx_glr_{name}_001.png").is_file(), f"gallery figure of {name} missing"
    reference = (html / "cli_reference.html").read_text()
    for command in ("physfact bt", "physfact fem beam", "physfact df", "physfact tt chain", "physfact rank"):
        assert command in reference
    # every public name of every subpackage has an API page
    import importlib

    for sub in ("lowrank", "control", "fem", "chem", "tt"):
        for name in importlib.import_module(f"physfact.{sub}").__all__:
            assert (html / "api" / "generated" / f"physfact.{sub}.{name}.html").is_file(), f"physfact.{sub}.{name}"
