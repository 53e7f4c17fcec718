"""The docs' estimator example: unbiased, and bit-identical locally, on a thread pool, a process pool and Dask."""

import concurrent.futures as cf
import os
import re

import numpy as np
import pytest

import stochgrad as sg

from .plain_score import PlainScore, walk

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "estimators.md")


def test_the_docs_show_this_example():
    text = open(DOCS, encoding="utf-8").read()
    block = re.search(r"```python\n(class PlainScore.*?)```", text, re.S).group(1)
    src = open(os.path.join(os.path.dirname(__file__), "plain_score.py"), encoding="utf-8").read()
    assert block.strip() in src


def _same(a, b):
    return (a.value, a.value_stderr, np.asarray(a.grad).tolist(), np.asarray(a.grad_stderr).tolist()) == \
        (b.value, b.value_stderr, np.asarray(b.grad).tolist(), np.asarray(b.grad_stderr).tolist())


def test_unbiased_against_exact():
    exact = sg.value_and_grad(walk, sg.Exact())(3.0)
    e = sg.value_and_grad(walk, PlainScore(), n=3000, seed=1)(3.0)
    assert abs(e.grad - exact.grad) <= 4 * e.grad_stderr
    assert abs(e.value - exact.value) <= 4 * e.value_stderr


def test_local_thread_pool_process_pool_and_dask_are_bit_identical():
    vg = dict(n=90, seed=7)
    local = sg.value_and_grad(walk, PlainScore(), **vg)(3.0)
    with cf.ThreadPoolExecutor(2) as pool:
        threads = sg.value_and_grad(walk, PlainScore(), executor=pool, chunk_size=25, **vg)(3.0)
    with cf.ProcessPoolExecutor(2) as pool:
        procs = sg.value_and_grad(walk, PlainScore(), executor=pool, chunk_size=40, **vg)(3.0)
    assert _same(local, threads) and _same(local, procs)
    distributed = pytest.importorskip("distributed")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  env={"PYTHONPATH": root}) as cluster, distributed.Client(cluster) as client:
        dask = sg.value_and_grad(walk, PlainScore(), executor=client, chunk_size=30, **vg)(3.0)
    assert _same(local, dask)


def test_estimators_outside_the_protocol_refuse_executors_clearly():
    with cf.ThreadPoolExecutor(1) as pool:
        for est in (sg.GumbelSTE(0.5), sg.Exact()):
            with pytest.raises(TypeError, match="chunk protocol"):
                sg.value_and_grad(walk, est, n=4, executor=pool)(3.0)
