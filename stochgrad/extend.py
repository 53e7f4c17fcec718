"""The extension API: what a new distribution family, estimator or batched program needs, and nothing else.

Like autograd's ``extend`` module this is the whole supported surface below the
user-facing entry points (see ``docs/architecture.md``); nothing inside
``stochgrad`` imports from it.

A distribution family
    :class:`Family`, :class:`IntegerFamily`, :class:`ContinuousFamily`,
    :func:`implicit`; :func:`sample` records a choice of any family.
An estimator
    :class:`Estimator` (its chunk protocol makes it run locally and on
    executors), :func:`sample_tapes` (per-sample noise keyed by sample index),
    :class:`Trace`, :class:`NoiseTape`, :class:`Run` and the runs
    :func:`run_plain`, :func:`run_boxed`, :func:`run_differentiated`;
    :func:`value_of` (a θ-dependent value without its derivative);
    :func:`summarise` into an :class:`Estimate`; :func:`cross_fitted` control
    variates.
A batched program
    :class:`BatchedProgram`, :func:`batched`, :class:`BatchSamples`, :class:`Want`.

A minimal estimator (``docs/estimators.md``): per-sample arrays of any range
of samples are all it defines; the reduction, local or on an executor, does the
rest::

    class PlainScore(sg.Estimator):
        def traced_arrays(self, fn, theta, args, kwargs, tapes, index):
            values, grads = [], []
            for i, tape in zip(index, tapes):
                run = extend.run_differentiated(fn, theta, args, kwargs, tape, f"sample {i}")
                values.append(run.value)
                grads.append(np.ravel(run.grad_of(run.out) + run.value * run.score()))
            return {"value": np.array(values), "grad": np.array(grads).reshape(len(values), -1)}
"""

from ._batched import BatchedProgram, BatchSamples, Want, batched
from ._estimate import Estimate, summarise
from ._run import Run, run_boxed, run_differentiated, run_plain, value_of
from ._trace import NoiseTape, Trace, sample
from .distributions.base import ContinuousFamily, Family, IntegerFamily, implicit
from ._crossfit import cross_fitted
from .estimators.base import Estimator, sample_tapes

__all__ = [
    "Family", "IntegerFamily", "ContinuousFamily", "implicit", "sample",
    "Estimator", "sample_tapes", "Trace", "NoiseTape", "Run", "run_plain", "run_boxed", "run_differentiated",
    "value_of",
    "summarise", "Estimate", "cross_fitted",
    "BatchedProgram", "batched", "BatchSamples", "Want",
]
