"""A real Dask LocalCluster (2 worker processes) shared by the sweep tests, and the test-only tasks."""
import pytest


@pytest.fixture(scope="session")
def client():
    import logging

    distributed = pytest.importorskip("distributed")  # a runtime dependency; present after the README's install
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()
