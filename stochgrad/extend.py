"""The extension API: everything a new estimator, distribution family or app builds on.

Like autograd's ``extend`` module, this is the whole supported surface below the
user-facing entry points; apps and tests import from here, never from the
private modules.

Runs (one execution of a stochastic function inside a trace)
    :class:`Run`, :class:`DualRun`, :class:`TangentRun`, :func:`run_plain`,
    :func:`run_boxed`, :func:`run_dual`, :func:`run_differentiated`,
    :func:`check_value`, :func:`warn_comparisons`.
Traces and noise
    :class:`Trace`, :class:`NoiseTape`, :class:`Choice`, :func:`current_trace`,
    :func:`sample` (record a choice of any family), :func:`sample_tapes`
    (per-sample tapes keyed by sample index), :func:`private_rng`.
Summaries
    :func:`summarise` (per-sample values and gradients into an
    :class:`~stochgrad.Estimate`), :func:`cross_fitted` (control variates, applied from
    ``CONTROL_MIN_SAMPLES`` samples on), :func:`score_controls` (the stochastic
    derivative's score control variates).
Stochastic-derivative pieces
    :func:`alternatives`, :func:`alternative_arrays`, :func:`alternatives_and_score`.
Batched programs
    :class:`~stochgrad.BatchSamples`, :class:`~stochgrad.Want`,
    :class:`~stochgrad.BatchedProgram`, :func:`~stochgrad.batched`.
Distribution families
    :class:`Family`, :class:`IntegerFamily`, :class:`ContinuousFamily`, :func:`implicit`.

A minimal estimator (see ``docs/estimators.md``)::

    class PlainScore(sg.Estimator):
        def traced(self, fn, theta, args, kwargs, n, rng):
            values, grads = [], []
            for i, tape in enumerate(extend.sample_tapes(rng, n)):
                run = extend.run_differentiated(fn, theta, args, kwargs, tape, f"sample {i}")
                values.append(run.value)
                grads.append(run.grad_of(run.out) + run.value * run.score())
            return extend.summarise(values, grads, np.shape(theta), self)
"""

from ._batched import BatchedProgram, BatchSamples, Want, batched
from ._estimate import Estimate, summarise
from ._run import (
    BiasWarning, DualRun, Run, TangentRun, check_value, run_boxed, run_differentiated, run_dual, run_plain,
    warn_comparisons,
)
from ._streams import private_rng
from ._trace import Choice, NoiseTape, Trace, current_trace, sample
from .distributions.base import ContinuousFamily, Family, IntegerFamily, implicit
from .estimators._control import MIN_SAMPLES as CONTROL_MIN_SAMPLES
from .estimators._control import cross_fitted
from .estimators.base import Estimator, sample_tapes
from .estimators.stochastic_derivative import _alternatives_and_score as alternatives_and_score
from .estimators.stochastic_derivative import _score_controls as score_controls
from .estimators.stochastic_derivative import alternative_arrays, alternatives

__all__ = [
    "Run", "DualRun", "TangentRun", "run_plain", "run_boxed", "run_dual", "run_differentiated", "check_value",
    "warn_comparisons", "BiasWarning",
    "Trace", "NoiseTape", "Choice", "current_trace", "sample", "sample_tapes", "private_rng",
    "summarise", "Estimate", "cross_fitted", "CONTROL_MIN_SAMPLES", "score_controls", "Estimator",
    "alternatives", "alternative_arrays", "alternatives_and_score",
    "BatchSamples", "Want", "BatchedProgram", "batched",
    "Family", "IntegerFamily", "ContinuousFamily", "implicit",
]
