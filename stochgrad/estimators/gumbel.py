"""Gumbel-softmax straight-through estimator (GS-STE)."""

from __future__ import annotations

import numpy as np

from .._batched import Want
from .._estimate import summarise
from .._run import run_boxed, warn_comparisons
from .._trace import Relaxation
from .base import Estimator, sample_tapes

__all__ = ["GumbelSTE"]


class GumbelSTE(Estimator):
    """Gumbel-softmax straight-through gradient (Jang, Gu & Poole 2017).

    Forward: the hard sample (Gumbel-max for a categorical, the same uniform as
    every other estimator for a Bernoulli). Backward: the gradient of the
    softmax relaxation ``softmax((log p + g) / τ)`` in place of the one-hot.

    Biased: the relaxed gradient is not the gradient of ``E[f]``. The bias does
    not vanish for non-linear ``f`` at finite ``τ``; lowering ``τ`` reduces it
    while the variance grows (roughly as ``1/τ``). Low variance, one run per
    sample.

    Requires that the sampled values enter ``f`` arithmetically
    (``k * a + (1 - k) * b`` for a Bernoulli, :func:`~stochgrad.select` /
    :func:`~stochgrad.one_hot` for a categorical); a program that only branches on
    them (``if k:``) would get a silently zero discrete gradient, so it is refused
    with a ``ValueError``.

    Args:
        temperature: ``τ > 0``.
    """

    unbiased = False

    def __init__(self, temperature=0.5):
        if not (isinstance(temperature, (int, float)) and np.isfinite(temperature) and temperature > 0):
            raise ValueError(f"GumbelSTE: temperature must be a positive number, got {temperature!r}")
        self.temperature = float(temperature)

    def traced(self, fn, theta, args, kwargs, n, rng):
        values, grads, cmp = np.empty(n), [], []
        used = False
        any_relaxed = False
        for i, tape in enumerate(sample_tapes(rng, n)):
            tr = Relaxation(tape, self.temperature)
            # reverse mode until some run shows that a relaxed choice reaches f
            run = run_boxed(fn, theta, args, kwargs, tr, f"sample {i}", forward=None if used else False)
            values[i] = run.value
            grads.append(run.grad_of(run.out))
            cmp += run.comparisons
            if tr.relaxed:
                any_relaxed = True
                if not used:
                    used = any(run.depends_on(v) for v in tr.relaxed.values())
        if any_relaxed and not used:
            raise ValueError(
                "GumbelSTE: no sampled choice enters the returned value arithmetically (the program "
                "only branches on them), so the straight-through gradient would be silently zero. "
                "Write the choice into the arithmetic: `k * a + (1 - k) * b` for a Bernoulli, "
                "`stochgrad.select(k, options)` for a categorical; or use ScoreFunction / "
                "StochasticDerivative, which handle branching."
            )
        warn_comparisons(cmp, repr(self))
        d = np.shape(theta)
        return summarise(values, np.array(grads).reshape((n,) + d), d, self)

    def want(self):
        return Want(pathwise=True, temperature=self.temperature)

    def combine_samples(self, out, theta_shape):
        if out.pathwise is None:
            raise ValueError("GumbelSTE: the batched program returned no relaxed pathwise gradient")
        return out.pathwise, {}
