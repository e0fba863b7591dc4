"""tt tests: one BLAS thread (small dense kernels; threads only contend on a shared machine)."""
import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
