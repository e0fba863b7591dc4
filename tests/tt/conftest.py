"""tt tests: one BLAS thread (small dense kernels; threads only contend on a shared machine)."""
import contextlib

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it the tests just run with the default thread count
        limit = contextlib.nullcontext()
    else:
        limit = threadpool_limits(limits=1)
    with limit:
        yield
