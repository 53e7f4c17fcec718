"""The family added in one module in docs/distributions.md (trials up to the first success): right under every
estimator, Exact, the vectorised mode and an executor (bit-identical there)."""

import concurrent.futures as cf
import os
import re

import numpy as np
import pytest

import stochgrad as sg
from stochgrad.testing import assert_unbiased

from .trials_family import program

P = 0.6
EXACT = ((2 - P) / P**2 + 2 / P + 1, (P - 4) / P**3 - 2 / P**2)  # E[(K + 1)²] and its derivative in p
ESTIMATORS = [
    (sg.ScoreFunction("none"), 16000), (sg.ScoreFunction(), 6000), (sg.ScoreFunction(2.0), 16000),
    (sg.StochasticDerivative(), 1500), (sg.StochasticDerivative(control_variates=False), 1500),
    (sg.StochasticDerivative(3, control_variates=False), 1500), (sg.StochasticDerivative(form="inverse_cdf"), 1500),
    (sg.FiniteDifference(0.02), 6000),
]


def test_the_docs_show_this_module():
    doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "distributions.md"), encoding="utf-8").read()
    block = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    assert block.strip() in open(os.path.join(os.path.dirname(__file__), "trials_family.py"), encoding="utf-8").read()


def test_exact():
    e = sg.value_and_grad(sg.stochastic(program), sg.Exact())(P)
    assert (e.value, e.grad) == pytest.approx(EXACT, rel=1e-7)  # the support is cut at a tail of 1e-12


@pytest.mark.parametrize("est,n", ESTIMATORS, ids=lambda x: repr(x) if not isinstance(x, int) else str(x))
@pytest.mark.parametrize("mode", ["per-sample", "vectorised"])
def test_every_estimator(est, n, mode):
    f = sg.stochastic(program) if mode == "per-sample" else sg.vectorized(program)
    e = sg.value_and_grad(f, est, n=n, seed=4)(P)
    assert abs(e.value - EXACT[0]) <= 4 * e.value_stderr
    assert_unbiased(e, EXACT[1])


@pytest.mark.parametrize("est", [sg.ScoreFunction(), sg.StochasticDerivative()], ids=repr)
def test_an_executor_gives_the_same_numbers(est):
    f = sg.stochastic(program)
    local = sg.value_and_grad(f, est, n=400, seed=2, chunk_size=100)(P)
    with cf.ProcessPoolExecutor(2) as pool:
        remote = sg.value_and_grad(f, est, n=400, seed=2, executor=pool, chunk_size=100)(P)
    assert (remote.value, remote.grad, remote.grad_stderr) == (local.value, local.grad, local.grad_stderr)
