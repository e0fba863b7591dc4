"""Every option and positional of every subcommand says what it is for (``--help`` is the reference)."""
import argparse

from physfact.cli import build_parser


def _walk(parser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, path + (name,))
        else:
            yield path, action


def test_every_option_of_every_subcommand_has_help():
    missing = [" ".join(path) + " " + ("/".join(a.option_strings) or a.dest)
               for path, a in _walk(build_parser())
               if a.help is not argparse.SUPPRESS and not (a.help or "").strip()]
    assert not missing, f"options without help: {missing}"


def test_the_walk_reaches_the_nested_subcommands():
    paths = {path for path, _ in _walk(build_parser())}
    assert ("fem", "poisson") in paths and ("tt", "molecule") in paths and ("df",) in paths
