"""The ``physfact`` command.

Subcommands come from each subpackage's ``cli`` module (``physfact.<sub>.cli``), which provides
``register(subparsers, common)`` (adds its parsers; each sets ``handler(args, console) -> dict``)
and ``demo(console, args) -> dict`` (its part of ``physfact demo``).

What a subcommand declares (``parser.set_defaults(...)`` beside ``handler``):

``out_suffixes``
    the ``--out`` formats it writes, e.g. ``(".npz", ".h5", ".json")``. Without it ``--out`` is refused.
``out_by_cli``
    ``True``: the handler writes nothing itself; the command line writes the returned dict to ``--out``
    (``.json`` as is; ``.npz``/``.h5`` flattened, kind ``cli.result``).
``plot_flags``
    the attribute names of its figure options (``("plot", "bode")``). Without it ``--plot`` is refused.

Every declared output is checked (suffix, directory exists and is writable) *before* the handler runs,
so a typo costs nothing. Argument types for numeric flags that refuse NaN, inf and out-of-range values
with one line: :func:`finite_float`, :func:`positive_float`, :func:`nonnegative_float`,
:func:`fraction`, :func:`positive_int`, :func:`nonnegative_int`.

Errors: one line on stderr; exit 2 for bad input, 1 for a failed computation (and a full disk), 130 on
Ctrl-C, 143 on SIGTERM (temporary files removed). Library warnings appear once each as one
``physfact: warning: ...`` line. ``PHYSFACT_DEBUG=1`` (or true/yes/on) re-raises internal errors with
their traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from physfact import __version__
from physfact.console import Console, silence_closed_stdout
from physfact.errors import InputError, PhysfactError
from physfact.validation import PLOT_SUFFIXES  # the figure formats matplotlib writes

SUBPACKAGES = ("lowrank", "control", "fem", "chem", "tt", "sweep")

#: formats ``--out`` of a result dict can take when the command line writes it (``out_by_cli``)
RESULT_SUFFIXES = (".json", ".npz", ".h5", ".hdf5")


# ------------------------------------------------------------------------------ argument types
def _argument_type(kind, need: str, accept=lambda v: True):
    """An argparse type converting with ``kind`` (float: finite only) and refusing values ``accept``
    rejects, with a message saying what is needed."""

    def convert(text):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {need}") from None
        if (kind is float and not math.isfinite(value)) or not accept(value):
            raise argparse.ArgumentTypeError(f"{text!r}: give {need}")
        return value

    convert.__name__ = convert.__qualname__ = need.replace(" ", "_")
    convert.__doc__ = f"argparse type: {need}."
    return convert


#: argparse type: a finite real number (refuses nan, inf)
finite_float = _argument_type(float, "a finite number")
#: argparse type: a finite number > 0
positive_float = _argument_type(float, "a finite number > 0", lambda v: v > 0)
#: argparse type: a finite number >= 0
nonnegative_float = _argument_type(float, "a finite number >= 0", lambda v: v >= 0)
#: argparse type: a number strictly between 0 and 1 (a relative tolerance, an energy fraction)
fraction = _argument_type(float, "a number strictly between 0 and 1", lambda v: 0 < v < 1)
#: argparse type: an integer >= 1
positive_int = _argument_type(int, "an integer >= 1", lambda v: v >= 1)
#: argparse type: an integer >= 0
nonnegative_int = _argument_type(int, "an integer >= 0", lambda v: v >= 0)


# ------------------------------------------------------------------------------ parser
class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line (exit 2), like every other input error."""

    def error(self, message):
        self.exit(2, f"physfact: error: {message} (see '{self.prog} --help')\n")


def _common_flags(defaults: bool) -> argparse.ArgumentParser:
    # Accepted both before and after the subcommand: the subcommand copies use SUPPRESS so they
    # do not overwrite a value given globally.
    d = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("common options")
    g.add_argument("--json", action="store_true", default=d(False), help="print the result as JSON on stdout")
    g.add_argument("--out", metavar="FILE", default=d(None),
                   help="write results to FILE (.npz, .h5 or .json; what each command accepts is in its help)")
    g.add_argument("--plot", metavar="FILE", default=d(None), help="save a figure to FILE (.png, .pdf, .svg)")
    g.add_argument("--quiet", "-q", action="store_true", default=d(False), help="no progress or status output")
    g.add_argument("--max-memory", metavar="SIZE", default=d(None),
                   help="memory a request may use (e.g. 64G; default: what is available now); larger "
                        "requests are refused before allocating")
    return p


def add_seed_flag(parser, what: str) -> None:
    """``--seed N`` on a command where something is random (``what`` says what it seeds). Commands
    with nothing random (bt, df, fem, sweep, examples) do not take it: a seed that changes nothing
    would suggest that it does."""
    parser.add_argument("--seed", type=nonnegative_int, default=0,
                        help=f"random seed, an integer >= 0, for {what} (default 0)")


def _cli_modules():
    mods = []
    for name in SUBPACKAGES:
        try:
            mods.append(importlib.import_module(f"physfact.{name}.cli"))
        except ModuleNotFoundError as exc:
            if exc.name != f"physfact.{name}.cli" and exc.name != f"physfact.{name}":
                raise
    return mods


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="physfact",
        description="Find the few factors that matter: low-rank methods for control, FEM, chemistry, tensor trains.",
        parents=[_common_flags(True)],
    )
    parser.add_argument("--version", action="version", version=f"physfact {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    common = _common_flags(False)

    p = sub.add_parser("demo", parents=[common], help="a short tour of every subpackage (under a minute)",
                       description="A short tour of every subpackage. --out FILE.json writes the tour's results.")
    p.add_argument("--only", nargs="+", metavar="PART", help="run only these parts (e.g. control tt)")
    add_seed_flag(p, "the rank part's synthetic matrix and the tt part's start vector")
    p.set_defaults(handler=_demo, out_suffixes=(".json",), out_by_cli=True)

    p = sub.add_parser("examples", parents=[common], help="list or run the bundled examples")
    esub = p.add_subparsers(dest="examples_command", metavar="ACTION", parser_class=_OneLineParser, required=True)
    pl = esub.add_parser("list", parents=[common], help="list the examples")
    pl.set_defaults(handler=_examples_list)
    pr = esub.add_parser("run", parents=[common], help="run one example",
                         description="Run one example. --plot FILE saves its figure; --out FILE.json its results; "
                                     "with --json only the JSON result goes to stdout (its text to stderr).")
    pr.add_argument("name", help="example name (see 'physfact examples list')")
    pr.add_argument("--small", action="store_true", help="small settings (what the tests run)")
    pr.set_defaults(handler=_examples_run, out_suffixes=(".json",), out_by_cli=True, plot_flags=("plot",))

    for mod in _cli_modules():
        mod.register(sub, common)
    return parser


def _command_name(args) -> str:
    words = [args.command] + [getattr(args, k) for k in vars(args) if k.endswith("_command") and getattr(args, k)]
    return "physfact " + " ".join(str(w) for w in words)


def check_outputs(args) -> None:
    """Refuse ``--out`` / ``--plot`` (and a command's other figure flags) the command cannot honour,
    before any computation: undeclared, wrong suffix, missing or read-only directory."""
    from physfact.io import check_writable

    name = _command_name(args)
    out = getattr(args, "out", None)
    if out is not None:
        suffixes = tuple(getattr(args, "out_suffixes", ()) or ())
        if not suffixes:
            raise InputError(f"{name} writes no files: drop --out (use --json > FILE for its result)")
        if Path(out).suffix.lower() not in suffixes:
            raise InputError(f"--out {out}: {name} writes {', '.join(suffixes)} files; "
                             f"give a file name ending in one of them")
        check_writable(out)
    flags = tuple(getattr(args, "plot_flags", ()) or ())
    if getattr(args, "plot", None) is not None and "plot" not in flags:
        raise InputError(f"{name} draws no figure: drop --plot")
    for flag in flags:
        target = getattr(args, flag, None)
        if target is None:
            continue
        if Path(target).suffix.lower() not in PLOT_SUFFIXES:
            raise InputError(f"--{flag} {target}: give a figure file name ending in "
                             f"{', '.join(PLOT_SUFFIXES[:3])} (or {', '.join(PLOT_SUFFIXES[3:])})")
        check_writable(target)


def write_result(path, result: dict, command: str) -> Path:
    """Write a command's result dict: ``.json`` as is; ``.npz``/``.h5`` with nested keys joined by '.'
    (numeric lists become arrays, scalars attributes; kind ``cli.result``)."""
    import numpy as np

    from physfact.io import save_arrays, to_jsonable, write_json

    if Path(path).suffix.lower() == ".json":
        return write_json(path, result)
    arrays, attrs = {}, {"command": command}

    def walk(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
            return
        value = to_jsonable(value) if not isinstance(value, np.ndarray) else value
        if value is None:
            return
        if isinstance(value, (bool, int, float, str)):
            attrs[prefix] = value
            return
        arr = np.asarray(value)
        if arr.dtype.kind in "biufc":
            arrays[prefix] = arr
        else:  # ragged or mixed: keep it readable as JSON text
            import json

            attrs[prefix] = json.dumps(to_jsonable(value))

    walk("", result)
    return save_arrays(path, "cli.result", attrs=attrs, **arrays)


# ------------------------------------------------------------------------------ handlers
def _demo(args, console: Console) -> dict:
    results = {}
    wanted = set(args.only) if args.only else None
    for mod in _cli_modules():
        part = mod.__name__.split(".")[1]
        if wanted is not None and part not in wanted:
            continue
        if not hasattr(mod, "demo"):
            continue
        console.print(f"== {part} ==")
        t0 = time.perf_counter()
        results[part] = mod.demo(console, args)
        results[part]["seconds"] = round(time.perf_counter() - t0, 3)
        console.print()
    if wanted is not None and not results:
        raise InputError(f"no demo part among {sorted(wanted)}; known: {[m.__name__.split('.')[1] for m in _cli_modules()]}")
    return results


def _examples_list(args, console: Console) -> dict:
    from physfact.examples_registry import list_examples

    examples = list_examples()
    for name, summary in examples.items():
        console.print(f"{name:32s} {summary}")
    return {"examples": examples}


def _examples_run(args, console: Console) -> dict:
    from physfact.examples_registry import run_example

    return run_example(args.name, small=args.small, console=console, args=args)


# ------------------------------------------------------------------------------ main
class Terminated(BaseException):
    """SIGTERM, turned into an exception so that ``finally`` blocks (temporary files) run."""


def _on_sigterm(signum, frame):
    raise Terminated()


def _debug() -> bool:
    return os.environ.get("PHYSFACT_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


@contextlib.contextmanager
def _one_line_warnings(stream):
    """Show each distinct library warning once, as ``physfact: warning: <first line>``."""
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
        if (category, text) in seen:
            return
        seen.add((category, text))
        with contextlib.suppress(OSError, ValueError):
            print(f"physfact: warning: {text}", file=stream)

    with warnings.catch_warnings():  # Python's filters stay (deprecations of dependencies stay hidden)
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _sigterm_as_exception():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    console = Console(quiet=args.quiet, json=args.json)
    from physfact.io import cleanup_pending

    try:
        with _sigterm_as_exception(), _one_line_warnings(sys.stderr):
            if getattr(args, "max_memory", None):
                from physfact.validation import parse_bytes

                os.environ["PHYSFACT_MAX_MEMORY"] = str(parse_bytes(args.max_memory))
            check_outputs(args)
            result = args.handler(args, console)
            if args.out is not None and getattr(args, "out_by_cli", False):
                write_result(args.out, result, _command_name(args))
                console.info(f"wrote {args.out}")
            if args.json:
                import json

                from physfact.io import to_jsonable

                print(json.dumps(to_jsonable(result), indent=2), file=console.stdout, flush=True)
        return getattr(args, "exit_status", 0)  # a handler may report partial failure (sweep: some points failed)
    except BrokenPipeError:
        silence_closed_stdout()
        return 0
    except InputError as exc:
        print(f"physfact: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError, NotADirectoryError) as exc:
        print(f"physfact: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except PhysfactError as exc:
        print(f"physfact: failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        cleanup_pending()
        print("physfact: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        cleanup_pending()
        print("physfact: terminated", file=sys.stderr)
        return 143
    except Exception as exc:  # a bug: one line, traceback on request
        if _debug():
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"physfact: internal error: {type(exc).__name__}: {msg} (set PHYSFACT_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
