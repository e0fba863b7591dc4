"""Every figure the command line and the examples draw: a title, labelled axes with units where the
quantity has one, a legend where several curves share an axes, and mathtext instead of raw TeX."""
import sys

import pytest

import physfact.plotting
from physfact.cli import main
from physfact.plotting import figure_problems


@pytest.fixture
def figures(monkeypatch):
    """Collect every figure saved through physfact.plotting.save_figure (module-level imports too)."""
    seen = []
    original = physfact.plotting.save_figure

    def recording(fig, path, *args, **kwargs):
        seen.append((str(path), figure_problems(fig)))
        return original(fig, path, *args, **kwargs)

    recording.__wrapped__ = original
    monkeypatch.setattr(physfact.plotting, "save_figure", recording)
    for mod in list(sys.modules.values()):
        bound = getattr(mod, "save_figure", None)
        # modules that imported it by name; also those imported under an earlier test's recorder
        if mod is not physfact.plotting and (bound is original or getattr(bound, "__wrapped__", None) is original):
            monkeypatch.setattr(mod, "save_figure", recording)
    return seen


def _assert_clean(seen, expected):
    assert len(seen) == expected, f"expected {expected} figures, saw {[p for p, _ in seen]}"
    bad = {path: probs for path, probs in seen if probs}
    assert not bad, bad


def test_the_checker_catches_what_it_should():
    from physfact.plotting import pyplot

    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [1, 2, 3])
    ax.plot([1, 2, 3], [3, 2, 1])
    ax.set_xlabel(r"\omega")
    ax.set_ylabel("entropy S")
    problems = " | ".join(figure_problems(fig))
    assert "no title" in problems and "no legend" in problems and "raw TeX" in problems
    assert "without its unit" in problems
    ax.set_title("ok")
    ax.set_xlabel(r"$\omega$ [rad/s]")
    ax.set_ylabel("entropy S (nats)")
    ax.legend(["a", "b"])
    assert figure_problems(fig) == []
    plt.close(fig)


CLI_FIGURES = {
    "rank": (["rank", "--plot", "{d}/f.png"], 1),
    "bt": (["bt", "heat1d:40", "--order", "6", "--plot", "{d}/h.png", "--bode", "{d}/b.png"], 2),
    "fem beam": (["fem", "beam", "--ny", "4", "--solve", "--plot", "{d}/f.png"], 1),
    "fem poisson": (["fem", "poisson", "--ny", "8", "--plot", "{d}/f.png"], 1),
    "df": (["df", "H2", "--rank", "2", "--energies", "none", "--plot", "{d}/f.png"], 1),
    "tt chain": (["tt", "chain", "--sites", "8", "--plot", "{d}/f.png"], 1),
    "tt molecule": (["tt", "molecule", "h2", "--plot", "{d}/f.png"], 1),
}


@pytest.mark.parametrize("command", sorted(CLI_FIGURES))
def test_cli_figures(command, figures, tmp_path, capsys):
    argv, expected = CLI_FIGURES[command]
    assert main([a.format(d=tmp_path) for a in argv] + ["--quiet"]) == 0, capsys.readouterr().err
    _assert_clean(figures, expected)


def test_every_plotting_command_is_covered():
    from tests.cli.test_cli_outputs import MINIMAL  # noqa: F401  (the list of commands)
    from physfact.cli import build_parser

    parse = build_parser().parse_args
    drawing = {c for c, argv in MINIMAL.items() if "plot" in (getattr(parse(argv), "plot_flags", ()) or ())}
    # examples: rendered below; sweep: its figure needs a Dask cluster and is checked in tests/sweep
    assert drawing - {"examples run", "sweep"} <= set(CLI_FIGURES), sorted(drawing - set(CLI_FIGURES))


FAST_EXAMPLES = ["lowrank_rank_selection", "tt_compress_function", "fem_poisson_fdm", "fem_cantilever_kronecker"]


def _examples():
    from physfact.examples_registry import list_examples

    return sorted(list_examples())


@pytest.mark.parametrize("name", [n if n in FAST_EXAMPLES else pytest.param(n, marks=pytest.mark.slow)
                                  for n in _examples()])
def test_example_figures(name, figures, tmp_path, capsys):
    from physfact.examples_registry import run_example

    run_example(name, small=True, args=type("A", (), {"plot": str(tmp_path / "f.png")})())
    _assert_clean(figures, 1)
