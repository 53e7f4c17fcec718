"""The estimator interface: small configuration objects with a traced and a batched path."""

from __future__ import annotations

import numpy as np

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
        raise TypeError(
            f"{self!r} does not support batched programs; use a traced @stochastic function"
        )

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(map(repr, vars(self).items())))))


def sample_tapes(rng: np.random.Generator, n: int):
    """``n`` independent noise tapes, each with its own child generator."""
    for child in rng.spawn(n):
        yield NoiseTape(child)


def new_trace(tape, **kw) -> Trace:
    return Trace(tape=tape, **kw)
