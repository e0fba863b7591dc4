"""Pages generated from the code at build time, so the site cannot drift from it.

- ``api/<subpackage>.rst``: one page per subpackage listing every name of its ``__all__`` (autosummary
  writes a page per name from the numpy docstrings), plus the shared top-level modules;
- ``cli_reference.rst``: the help of every ``physfact`` subcommand, from the argparse parser itself;
- ``_gallery_src/``: the scripts of ``examples/`` as sphinx-gallery sources: the docstring's first line
  becomes the title, and the script's ``main()`` runs with the small settings and saves its figure,
  which :func:`saved_figure_scraper` puts on the page.

Generated files are git-ignored (``docs/api/``, ``docs/cli_reference.rst``, ``docs/_gallery_src/``,
``docs/gallery/``).
"""
from __future__ import annotations

import ast
import importlib
import os
import re
import shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent
#: top-level modules every subpackage shares (documented with all their public members)
CORE_MODULES = ("physfact.io", "physfact.errors", "physfact.validation", "physfact.console", "physfact.progress",
                "physfact.plotting", "physfact.threads", "physfact.cli")


def subpackages() -> list[str]:
    """Every ``physfact.<name>`` package that declares ``__all__`` (new subpackages appear by themselves)."""
    out = []
    for init in sorted((ROOT / "physfact").glob("*/__init__.py")):
        name = init.parent.name
        if name.startswith("_"):
            continue
        mod = importlib.import_module(f"physfact.{name}")
        if getattr(mod, "__all__", None):
            out.append(name)
    return out


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def write_api_pages() -> None:
    api = DOCS / "api"
    pages = []
    for name in subpackages():
        mod = importlib.import_module(f"physfact.{name}")
        names = list(mod.__all__)
        body = [_title(f"physfact.{name}"), f".. automodule:: physfact.{name}\n   :no-members:\n",
                f".. currentmodule:: physfact.{name}\n", ".. autosummary::\n   :toctree: generated\n"]
        body.append("\n".join(f"   {n}" for n in names) + "\n")
        _write_if_changed(api / f"{name}.rst", "\n".join(body))
        pages.append(name)
    core = [_title("Shared modules"),
            "The top-level modules every subpackage uses: files, errors, input checks, console, figures, threads "
            "and the command line's argument types.\n"]
    for module in CORE_MODULES:
        core += [_title(module, "-"), f".. automodule:: {module}\n   :members:\n"]
    _write_if_changed(api / "core.rst", "\n".join(core))
    index = [_title("API reference"),
             "Every public name of each subpackage (its ``__all__``), from the numpy-style docstrings.\n",
             ".. toctree::\n   :maxdepth: 1\n\n" + "\n".join(f"   {p}" for p in pages) + "\n   core\n"]
    _write_if_changed(api / "index.rst", "\n".join(index))


def _leaf_parsers(parser, prefix=()):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if sub.get_default("handler") is not None:
                    yield prefix + (name,), sub
                yield from _leaf_parsers(sub, prefix + (name,))


def write_cli_reference() -> None:
    os.environ["COLUMNS"] = "100"  # argparse wraps help text to the terminal width: make it fixed
    from physfact.cli import build_parser

    parser = build_parser()
    parts = [_title("Command-line reference"),
             "Generated from the ``physfact`` argument parser (``docs/_ext/physfact_docs.py``), so it is the "
             "help text of this version. The guide is :doc:`cli`.\n",
             _title("physfact", "-"), ".. code-block:: text\n", _indent(parser.format_help())]
    for words, sub in _leaf_parsers(parser):
        parts += [_title("physfact " + " ".join(words), "-"), ".. code-block:: text\n", _indent(sub.format_help())]
    _write_if_changed(DOCS / "cli_reference.rst", "\n".join(parts))


def _indent(text: str) -> str:
    return "\n".join(("   " + line) if line.strip() else "" for line in text.splitlines()) + "\n"


_MAIN_CALL = re.compile(r"^(\s+)main\(\)\s*$", re.MULTILINE)


def write_gallery_sources() -> None:
    src = DOCS / "_gallery_src"
    src.mkdir(exist_ok=True)
    _write_if_changed(src / "GALLERY_HEADER.rst", _title("Examples gallery") + "\nThe scripts in ``examples/``, each run "
                      "with its small settings (what the tests run; ``physfact examples run NAME --small``). "
                      "Full size: ``physfact examples run NAME --plot fig.png``.\n")
    wanted = set()
    for path in sorted((ROOT / "examples").glob("*.py")):
        if path.name.startswith("_"):
            continue
        text = path.read_text()
        tree = ast.parse(text)
        doc = ast.get_docstring(tree) or path.stem
        first, _, rest = doc.strip().partition("\n")
        node = tree.body[0]
        lines = text.splitlines(keepends=True)
        title = "".join(escape_plain_text([first.strip().rstrip(".")]))
        rest = "\n".join(escape_plain_text(rest.strip().splitlines()))
        header = f'r"""\n{_title(title)}\n{rest}\n"""\n'
        body = "".join(lines[node.end_lineno:]) if isinstance(node, ast.Expr) else text
        body, n = _MAIN_CALL.subn(rf'\1main(small=True, plot="{path.stem}.png")  # small settings for the gallery',
                                  body)
        if n != 1:
            raise RuntimeError(f"{path}: expected one 'main()' call under __main__ for the gallery, found {n}")
        # sphinx-gallery runs the code without __file__; examples that find data beside themselves need it
        # (the ignore markers hide these lines on the page)
        hidden = (f"# sphinx_gallery_start_ignore\n__file__ = {str(path)!r}\n"
                  "# sphinx_gallery_end_ignore\n") if "__file__" in body else ""
        name = f"{path.stem}.py"
        wanted.add(name)
        future = re.match(r"\s*(from __future__ import [^\n]*\n)", body)  # must stay first
        if future:
            body = body[future.end():]
        _write_if_changed(src / name, header + (future.group(1) if future else "") + hidden + body)
    for stale in src.glob("*.py"):
        if stale.name not in wanted:
            stale.unlink()


def saved_figure_scraper(block, block_vars, gallery_conf):
    """sphinx-gallery scraper: the figure an example saved with ``plot=<name>.png`` (physfact saves and
    closes its figures, so the default matplotlib scraper would find none)."""
    from sphinx_gallery.scrapers import figure_rst

    src = Path(block_vars["src_file"])
    saved = src.with_suffix(".png")
    if not saved.is_file():
        return ""
    target = next(block_vars["image_path_iterator"])
    shutil.move(str(saved), target)
    return figure_rst([target], gallery_conf["src_dir"])


# ------------------------------------------------------------------ plain-text docstrings as RST
# The docstrings are written for people reading them in a terminal: |x| is an absolute value and
# data/*.xyz a glob, which reStructuredText would read as a substitution and an emphasis. Outside
# literals, roles, literal blocks and doctests those characters are escaped before numpydoc sees them.
_PROTECTED = re.compile(r"(``.+?``|:[\w:.-]+:`[^`]+`|`[^`]+`_{0,2}|\\.)")
_EMPHASIS = re.compile(r"(?<![\w*\\])(\*\*?)(?=\S)[^*]*?(?<=\S)\1(?![\w*])")


def _escape_plain(segment: str) -> str:
    keep = {}

    def hold(m):
        keep[f"\0{len(keep)}\0"] = m.group(0)
        return f"\0{len(keep) - 1}\0"

    segment = _EMPHASIS.sub(hold, segment)
    segment = segment.replace("|", "\\|").replace("*", "\\*")
    for key, value in keep.items():
        segment = segment.replace(key, value)
    return segment


def escape_plain_text(lines: list[str]) -> list[str]:
    """Escape ``|`` and unpaired ``*`` in the prose lines of a docstring (in place and returned)."""
    literal_indent = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                continue
            literal_indent = None
        if stripped.startswith((">>>", "...", ".. ")):
            if stripped.endswith("::") or stripped.startswith(".. math"):
                literal_indent = indent
            continue
        bullet = re.match(r"\s*\* ", line)  # a list item's marker stays a marker
        head, rest = (line[:bullet.end()], line[bullet.end():]) if bullet else ("", line)
        parts = _PROTECTED.split(rest)
        lines[i] = head + "".join(p if k % 2 else _escape_plain(p) for k, p in enumerate(parts))
        if stripped.endswith("::"):
            literal_indent = indent
    return lines


def _process_docstring(app, what, name, obj, options, lines):
    escape_plain_text(lines)


def _generate(app, config=None):
    write_api_pages()
    write_cli_reference()
    write_gallery_sources()


def setup(app):
    # config-inited: before sphinx-gallery (builder-inited) looks for its sources
    app.connect("config-inited", _generate, priority=100)
    app.connect("autodoc-process-docstring", _process_docstring, priority=100)  # before numpydoc (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _get_sg_image_scraper():
    """sphinx-gallery's hook for ``image_scrapers = ("physfact_docs",)`` (a name keeps the config picklable)."""
    return saved_figure_scraper
