"""The estimator interface: small configuration objects with a traced and a batched path."""

from __future__ import annotations

import numpy as np

from .._streams import PCGStream, child_seeds, is_private
from .._estimate import summarise
from .._trace import NoiseTape, Trace

__all__ = ["Estimator", "sample_tapes"]


class Estimator:
    """Base class of every gradient estimator.

    Subclasses implement :meth:`traced` (a :class:`~stochgrad.StochasticFunction`
    run sample by sample) and, where possible, :meth:`batched` (a
    :class:`~stochgrad.BatchedProgram`, combined with array operations).

    Attributes:
        unbiased: whether the gradient estimate is unbiased for ``∇θ E[f]``.
    """

    unbiased: bool = True

    def validate(self, theta) -> None:
        """Check the settings against θ at call time (before any sample); raise ``ValueError``.

        The base class accepts every θ; e.g. :class:`FiniteDifference` refuses steps
        that θ's magnitude would swallow.
        """

    def traced(self, fn, theta, args, kwargs, n, rng):  # pragma: no cover - interface
        raise TypeError(f"{self!r} cannot estimate gradients of traced programs")

    def batched(self, program, theta, n, seed):
        """Estimate from a :class:`~stochgrad.BatchedProgram`: :meth:`per_sample`, then the summary."""
        values, grads, info = self.per_sample(program, theta, n, seed)
        return summarise(values, grads, np.shape(theta), self, info)

    def want(self):
        """What a batched program must return for this estimator (a :class:`~stochgrad.Want`)."""
        raise TypeError(f"{self!r} does not support batched programs; use a traced @stochastic function")

    def combine_samples(self, out, theta_shape):
        """Per-sample gradients ``(n, *θ)`` and an info dict from one batched run's :class:`~stochgrad.BatchSamples`.

        Uses ``out.group`` where the estimator has per-group parts (baselines,
        control-variate folds), so per-event code needs no estimator-specific
        branches.
        """
        raise TypeError(f"{self!r} does not support batched programs; use a traced @stochastic function")

    def per_sample(self, program, theta, n, seed):
        """``(values (n,), per-sample gradients (n, *θ), info)`` of a batched program: what the estimate averages.

        One run asking for :meth:`want`, combined by :meth:`combine_samples`
        (:class:`~stochgrad.FiniteDifference` runs the program at θ ± h instead).
        For a *separable* program — sample ``i`` depends only on its own
        component, e.g. one jet radius per event — call it with a scalar shift
        ``t = 0`` added to every component: the per-sample derivative along that
        shift is each sample's derivative with respect to its own component.
        """
        out = program(theta, n, seed, self.want())
        grads, info = self.combine_samples(out, np.shape(theta))
        return out.value, grads, info

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(map(repr, vars(self).items())))))


def sample_tapes(rng: np.random.Generator, n: int):
    """``n`` independent noise tapes; tape ``i`` draws the stream of ``rng.spawn(n)[i]``.

    The streams are those of NumPy's spawned children (bit-identical), started
    without building ``n`` generators (:mod:`stochgrad._streams`). ``rng``'s
    spawn counter advances by ``n`` as with ``rng.spawn(n)``, except for a
    generator :func:`stochgrad.value_and_grad` made itself from an integer
    seed, which nothing else can see.
    """
    bg = rng.bit_generator
    ss = getattr(bg, "seed_seq", None)
    if not (type(bg) is np.random.PCG64 and isinstance(ss, np.random.SeedSequence)):
        for child in rng.spawn(n):
            yield NoiseTape(child)
        return
    start = ss.n_children_spawned
    seeds = child_seeds(ss, start, n)
    if not is_private(rng):
        ss.spawn(n)  # advance the counter as rng.spawn(n) would (a generator passed in by the user)
    hint = [False]  # see PCGStream
    for state, inc in seeds:
        yield NoiseTape(PCGStream(state, inc, hint))


def new_trace(tape, **kw) -> Trace:
    return Trace(tape=tape, **kw)
