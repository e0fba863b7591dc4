"""The ``physfact`` command.

Subcommands come from each subpackage's ``cli`` module (``physfact.<sub>.cli``), which provides
``register(subparsers, common)`` (adds its parsers; each sets ``handler(args, console) -> dict``)
and ``demo(console) -> dict`` (its part of ``physfact demo``). Errors: one line on stderr;
exit 2 for bad input, 1 for a failed computation.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

from physfact import __version__
from physfact.console import Console
from physfact.errors import InputError, PhysfactError

SUBPACKAGES = ("lowrank", "control", "fem", "chem", "tt", "sweep")


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
    g.add_argument("--out", metavar="FILE", default=d(None), help="write results to FILE (.npz, .h5 or .json)")
    g.add_argument("--plot", metavar="FILE", default=d(None), help="save a figure to FILE (.png, .pdf, .svg)")
    g.add_argument("--quiet", "-q", action="store_true", default=d(False), help="no progress or status output")
    g.add_argument("--seed", type=int, default=d(0), help="random seed (default 0)")
    g.add_argument("--max-memory", metavar="SIZE", default=d(None),
                   help="memory a request may use (e.g. 64G; default: what is available now); larger "
                        "requests are refused before allocating")
    return p


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

    p = sub.add_parser("demo", parents=[common], help="a short tour of every subpackage (under a minute)")
    p.add_argument("--only", nargs="+", metavar="PART", help="run only these parts (e.g. control tt)")
    p.set_defaults(handler=_demo)

    p = sub.add_parser("examples", parents=[common], help="list or run the bundled examples")
    esub = p.add_subparsers(dest="examples_command", metavar="ACTION", parser_class=_OneLineParser, required=True)
    pl = esub.add_parser("list", parents=[common], help="list the examples")
    pl.set_defaults(handler=_examples_list)
    pr = esub.add_parser("run", parents=[common], help="run one example")
    pr.add_argument("name", help="example name (see 'physfact examples list')")
    pr.add_argument("--small", action="store_true", help="small settings (what the tests run)")
    pr.set_defaults(handler=_examples_run)

    for mod in _cli_modules():
        mod.register(sub, common)
    return parser


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


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    console = Console(quiet=args.quiet, json=args.json)
    try:
        if getattr(args, "max_memory", None):
            from physfact.validation import parse_bytes

            os.environ["PHYSFACT_MAX_MEMORY"] = str(parse_bytes(args.max_memory))
        result = args.handler(args, console)
        if args.json:
            import json

            from physfact.io import to_jsonable

            print(json.dumps(to_jsonable(result), indent=2))
        return getattr(args, "exit_status", 0)  # a handler may report partial failure (sweep: some points failed)
    except InputError as exc:
        print(f"physfact: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"physfact: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except PhysfactError as exc:
        print(f"physfact: failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("physfact: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, traceback on request
        if os.environ.get("PHYSFACT_DEBUG"):
            raise
        print(f"physfact: internal error: {type(exc).__name__}: {exc} (set PHYSFACT_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
