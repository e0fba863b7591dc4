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


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Run the control tests on one BLAS thread: the dense kernels here are small, and a threaded
    BLAS (slycot's included) on a busy 2-core machine is 10x slower, not faster."""
    from physfact.control._blas import single_blas_thread

    with single_blas_thread():
        yield
