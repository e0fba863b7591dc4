"""Fixtures for the control tests: benchmark models from the shared data folder."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def control_data(shared_data):
    d = shared_data / "control"
    if not d.is_dir():
        pytest.skip(f"{d} is absent")
    return d


@pytest.fixture(scope="session")
def load_benchmark(control_data):
    from physfact.control.models import DATA_FILES, load_mat

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_mat(control_data / DATA_FILES[name])
        return cache[name]

    return get
