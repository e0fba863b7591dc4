"""Shared test configuration: the ``slow`` marker, ``--runslow``, and the reference-data folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """``../shared/data`` beside the project root (override with PHYSFACT_SHARED_DATA)."""
    env = os.environ.get("PHYSFACT_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow test: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data():
    """Path to the shared reference data; skips the test (saying why) when it is absent."""
    d = shared_data_dir()
    if not d.is_dir():
        pytest.skip(f"reference data folder {d} is absent (it lives beside the project on dev/CI machines)")
    return d


@pytest.fixture(autouse=True)
def _headless_matplotlib(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
