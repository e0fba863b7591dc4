"""Sphinx configuration of the physfact documentation site.

Build: ``python -m pip install -e ".[docs]" && python -m sphinx -W -b html docs docs/_build/html``.
Stack: Sphinx + numpydoc (the docstrings are numpy style) + myst-parser (the guides are Markdown) +
autosummary (a page per public name) + sphinx-gallery (the examples, run with small settings, with
their figures). The API pages, the CLI reference and the gallery sources are generated from the code
by ``_ext/physfact_docs.py``.
"""
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the checkout's physfact, installed or not
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import physfact  # noqa: E402


project = "physfact"
author = "the physfact developers"
copyright = "the physfact developers, BSD-3-Clause"
version = release = physfact.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "physfact_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_gallery_src", "_ext", "gallery/*.ipynb", "gallery/*.py", "gallery/*.zip", "sg_execution_times.rst",
                    "gallery/*.json", "gallery/*.md5", "gallery/*.codeobj.json"]

# numpy docstrings; member tables without a toctree of pages autosummary does not write
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_typehints = "none"

myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

sphinx_gallery_conf = {
    "examples_dirs": "_gallery_src",
    "gallery_dirs": "gallery",
    "filename_pattern": r".*\.py$",  # run every example (small settings): the gallery shows real figures
    "image_scrapers": ("physfact_docs",),
    "download_all_examples": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "show_signature": False,
}

html_theme = "alabaster"
html_title = f"physfact {release}"
html_static_path = []
html_theme_options = {"description": "find the few factors that matter", "fixed_sidebar": True}
