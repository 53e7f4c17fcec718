"""One real LocalCluster (2 worker processes) shared by the distributed tests."""

import os

import pytest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def client():
    """A Client on a LocalCluster of 2 worker processes (1 thread, 1 numba thread each)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       env={"NUMBA_NUM_THREADS": "1", "PYTHONPATH": path})
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def in_worker() -> bool:
    """Whether this code runs inside a Dask worker (not in the test process)."""
    try:
        distributed.get_worker()
        return True
    except ValueError:
        return False
