"""Exact enumeration of every trace of a small program: the ground truth."""

from __future__ import annotations

import numpy as np
from autograd.tracer import getval

from .._estimate import Estimate
from .._run import run_boxed, run_plain
from .._trace import Enumeration
from .base import Estimator

__all__ = ["Exact", "TooManyTraces"]


PROBE_AFTER = 256  # traces enumerated before the size estimate is made (small programs never pay for it)


class TooManyTraces(ValueError):
    """Raised by :class:`Exact` when a program has more traces than allowed.

    Attributes:
        estimate: the estimated number of traces when refused up front (else ``None``).
    """

    def __init__(self, message, estimate=None):
        super().__init__(message)
        self.estimate = estimate


class Exact(Estimator):
    """Exact ``E[f]`` and ``∇θ E[f]`` by enumerating every trace (depth-first).

    ``E[f] = Σ_traces P(trace) f(trace)``, differentiated with autograd. Exact
    (no noise, zero standard error); the cost grows with the number of traces,
    so it is for small programs and for testing the other estimators. Branches of
    probability zero are explored only where that probability moves with θ (on a
    boundary of the parameter space they carry no value but part of the gradient).

    Once 256 traces have been enumerated without reaching the end, the number
    of traces is estimated from a few random root-to-leaf probes (Knuth's
    estimator: the product of the numbers of outcomes met along a random path
    has the tree's leaf count as expectation), so a program far too large is
    refused within a fraction of a second instead of after minutes, and small
    programs pay nothing for the check.

    Args:
        max_traces: refuse programs with more traces than this.
        probes: random paths used for the up-front estimate (0 disables it;
            the count is still enforced while enumerating).

    Raises:
        ValueError: ``max_traces`` not a positive int, ``probes`` not an int ≥ 0.
    """

    def __init__(self, max_traces=100_000, probes=16):
        if not (isinstance(max_traces, int) and max_traces >= 1):
            raise ValueError(f"Exact: max_traces must be a positive int, got {max_traces!r}")
        if not (isinstance(probes, int) and not isinstance(probes, bool) and probes >= 0):
            raise ValueError(f"Exact: probes must be an int >= 0, got {probes!r}")
        self.max_traces = max_traces
        self.probes = probes

    def estimate_traces(self, fn, theta, args=(), kwargs=None, seed=0) -> float:
        """Estimate the number of traces of ``fn`` at ``theta`` (mean of Knuth's estimator over the probes).

        Each probe runs the program once with every choice's outcome picked
        uniformly among those of positive probability; the product of the
        numbers of such outcomes is an unbiased estimate of the number of
        traces (outcomes of probability zero that move with θ are not counted).
        Deterministic for a given ``seed``. Returns 1 for ``probes=0``.
        """
        kwargs = kwargs or {}
        rng = np.random.default_rng(seed)
        total = 0.0
        for i in range(self.probes):
            tr = Enumeration(probe=rng)
            run_plain(fn, getval(theta), args, kwargs, tr, f"trace-count probe {i}")
            total += tr.branching
        return total / self.probes if self.probes else 1.0

    def _refuse_up_front(self, fn, theta, args, kwargs):
        if not self.probes:
            return
        est = self.estimate_traces(fn, theta, args, kwargs)
        if est > self.max_traces:
            self._refuse(f"about {est:.3g} estimated from {self.probes} random paths before enumerating", est)

    def _refuse(self, how, estimate=None):
        raise TooManyTraces(f"Exact: the program has more than {self.max_traces} traces ({how}). Raise "
                            "Exact(max_traces=...) or use a sampling estimator (ScoreFunction, StochasticDerivative).",
                            estimate)

    def enumerate(self, fn, theta, args=(), kwargs=None):
        """Yield ``(run, probability_box)`` for every trace of positive probability (or moving zero probability)."""
        kwargs = kwargs or {}
        forced: dict[int, int] = {}
        count = 0
        while True:
            count += 1
            if count == PROBE_AFTER + 1:  # not a small program: estimate its size before going on
                self._refuse_up_front(fn, theta, args, kwargs)
            if count > self.max_traces:
                self._refuse(f"enumerated {self.max_traces} so far, choices per trace up to {len(forced) + 1}")
            run = run_boxed(fn, theta, args, kwargs, Enumeration(dict(forced)),
                            f"trace {count}")
            prob = 1.0
            for c in run.records:
                prob = prob * c.family.prob(c.params, c.value)
            yield run, prob
            forced = _next_prefix(run)
            if forced is None:
                return

    def traced(self, fn, theta, args, kwargs, n, rng):
        d = np.shape(theta)
        value, grad, count = 0.0, np.zeros(d), 0
        for run, prob in self.enumerate(fn, theta, args, kwargs):
            count += 1
            value += float(getval(prob)) * run.value
            term = prob * run.out
            grad = grad + run.grad_of(term)
        g = float(grad) if d == () else grad
        z = 0.0 if d == () else np.zeros(d)
        samples = np.asarray(grad).reshape((1,) + d)
        return Estimate(value, 0.0, g, z, samples, np.array([value]), 1, repr(self),
                        {"traces": count})


def _next_prefix(run):
    """The forced prefix of the next trace in depth-first order, or None when done.

    Each choice's family gives the outcomes to explore, in order
    (:meth:`~stochgrad.distributions.Family.enumeration_order`): those of
    positive probability (a countable support truncated at the family's tail
    bound), and outcomes of probability zero whose probability moves with θ —
    on a boundary of the parameter space (``bernoulli(θ)`` at ``θ = 0``) such an
    outcome has no weight in ``E[f]`` but its ``f`` enters ``∇θ E[f]``.
    """
    records = run.records
    for i in range(len(records) - 1, -1, -1):
        c = records[i]
        order = c.family.enumeration_order(run, c)
        later = order[order.index(c.value) + 1:] if c.value in order else []
        if later:
            prefix = {r.site: r.value for r in records[:i]}
            prefix[i] = later[0]
            return prefix
    return None
