"""Runs change no shared state (thread safety) and Exact refuses huge programs up front."""

import sys
import threading
import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd.numpy.numpy_boxes import ArrayBox

import stochgrad as sg
from stochgrad.examples import sincos


@sg.stochastic
def compares(theta):
    """A program that compares a θ-dependent value (BiasWarning expected)."""
    k = sg.bernoulli(1 / (1 + anp.exp(-theta)))
    return anp.sin(theta) if theta * 1.0 > 0.5 else k * anp.cos(theta)


def _job(f, est, seed, theta, seen):
    e = sg.value_and_grad(f, est, n=200, seed=seed)(theta)
    return e, sorted(seen.get(threading.get_ident(), set()))


class _PerThreadWarnings:
    """Collect warning categories per thread (``catch_warnings`` itself is process-wide, not per thread)."""

    def __init__(self):
        self.seen = {}

    def __enter__(self):
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, category, *a, **k: self.seen.setdefault(
            threading.get_ident(), set()).add(category.__name__)
        return self.seen

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)


def test_eight_threads_match_serial_runs_and_leave_autograd_alone():
    cmp_methods = {name: getattr(ArrayBox, name) for name in ("__lt__", "__le__", "__gt__", "__ge__")}
    jobs = [(sincos if i % 2 else compares, sg.ScoreFunction() if i % 4 < 2 else sg.StochasticDerivative(),
             i, 0.3 + 0.1 * i) for i in range(8)]
    serial, results = [], [None] * len(jobs)
    for j in jobs:
        with _PerThreadWarnings() as seen:
            serial.append(_job(*j, seen))
    barrier = threading.Barrier(len(jobs))

    def work(i, seen):
        barrier.wait()
        results[i] = _job(*jobs[i], seen)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so the runs really interleave
    try:
        with _PerThreadWarnings() as seen:
            threads = [threading.Thread(target=work, args=(i, seen)) for i in range(len(jobs))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        sys.setswitchinterval(old)
    for (f, _, _, _), (es, ws), (ep, wp) in zip(jobs, serial, results):
        assert ws == wp == (["BiasWarning"] if f is compares else [])
        np.testing.assert_array_equal(es.samples, ep.samples)
        assert es.value == ep.value
    assert {name: getattr(ArrayBox, name) for name in cmp_methods} == cmp_methods  # nothing patched per run


@sg.stochastic
def twenty_flips(theta):
    p = 1 / (1 + anp.exp(-theta))
    return sum(sg.bernoulli(p) for _ in range(20)) * theta


def test_exact_refuses_twenty_bernoullis_up_front():
    with pytest.raises(sg.TooManyTraces, match="about 1.05e\\+06 estimated") as info:
        sg.value_and_grad(twenty_flips, sg.Exact())(0.2)
    assert info.value.estimate == 2.0**20  # a full binary tree: every probe gives 2^20
    assert sg.Exact().estimate_traces(sincos, 0.3) == 2.0
    with pytest.raises(ValueError, match="probes"):
        sg.Exact(probes=-1)
