"""The one entry point: ``value_and_grad`` / ``grad`` for any estimator and program."""

from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

from ._batched import BatchedProgram
from ._estimate import Estimate
from ._streams import private_rng
from ._trace import StochasticFunction, stochastic
from .estimators import Estimator, Exact, FiniteDifference, GumbelSTE, ScoreFunction, StochasticDerivative

__all__ = ["value_and_grad", "grad", "resolve_estimator"]

_BY_NAME: dict[str, Callable[[], Estimator]] = {
    "score": ScoreFunction,
    "score_function": ScoreFunction,
    "reinforce": ScoreFunction,
    "fd": FiniteDifference,
    "finite_difference": FiniteDifference,
    "gumbel": GumbelSTE,
    "gs-ste": GumbelSTE,
    "exact": Exact,
    "stochastic_derivative": StochasticDerivative,
    "sd": StochasticDerivative,
}


def resolve_estimator(estimator) -> Estimator:
    """An :class:`Estimator` from an instance, its class, or a name such as ``"score"``.

    Raises:
        ValueError: unknown name or object.
    """
    if isinstance(estimator, Estimator):
        return estimator
    if isinstance(estimator, type) and issubclass(estimator, Estimator):
        return estimator()
    if isinstance(estimator, str) and estimator.lower() in _BY_NAME:
        return _BY_NAME[estimator.lower()]()
    raise ValueError(
        f"unknown estimator {estimator!r}; pass one of stochgrad.ScoreFunction(...), "
        "FiniteDifference(...), GumbelSTE(...), StochasticDerivative(...), Exact(), "
        f"or a name in {sorted(_BY_NAME)}"
    )


def _theta(theta):
    a = np.asarray(theta, dtype=float) if not hasattr(theta, "__cuda_array_interface__") else None
    if a is None:
        raise TypeError("θ must be a host value (float or numpy array); programs may move it to the GPU")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"θ must be finite, got {theta!r}")
    return float(a) if a.ndim == 0 else a


def value_and_grad(f, estimator="score", n: int = 1000, seed=None, *, executor=None, chunk_size=None,
                   return_samples=None) -> Callable[..., Estimate]:
    """Build ``θ ↦ Estimate`` of ``E[f(θ)]`` and ``∇θ E[f(θ)]``.

    Args:
        f: a :func:`~stochgrad.stochastic` function ``f(theta, *args, **kwargs) -> scalar``
            (a plain function is wrapped), or a :class:`~stochgrad.BatchedProgram`.
        estimator: an estimator object (``ScoreFunction()``, ...) or its name.
        n: number of samples (ignored by :class:`~stochgrad.Exact`).
        seed: integer seed or ``numpy.random.Generator``. The same seed gives the
            same estimate. ``None`` draws fresh entropy.
        executor: where the samples run (score function, stochastic derivative,
            finite differences): ``None`` (this process), a
            :class:`concurrent.futures.Executor` or a :class:`dask.distributed.Client`.
            The estimate is bit-identical for every executor and ``chunk_size``
            (see :mod:`stochgrad.distributed`).
        chunk_size: samples per chunk on an executor (default: one chunk).
        return_samples: attach ``.samples``/``.values`` (default: yes locally, no on an executor).

    Returns:
        A function of ``(theta, *args, **kwargs)`` returning an
        :class:`~stochgrad.Estimate` (``.value``, ``.grad``, ``.grad_stderr``,
        ``.samples`` of shape ``(n, *θ.shape)``).

    Raises:
        ValueError: unknown estimator, ``n < 1``.
        TypeError: ``f`` is not callable.
    """
    est = resolve_estimator(estimator)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer number of samples, got {n!r}")
    n = int(n)
    if not callable(f):
        raise TypeError(f"f must be a stochastic function or batched program, got {type(f).__name__}")
    if not isinstance(f, (StochasticFunction, BatchedProgram)):
        f = stochastic(f)

    from . import distributed

    if executor is not None and not distributed.supports(est, f):
        raise TypeError(f"{est!r} does not follow the chunk protocol (see stochgrad.Estimator), so it does not run "
                        "on an executor; use ScoreFunction, StochasticDerivative or FiniteDifference, or executor=None")

    def estimate(theta, *args, **kwargs) -> Estimate:
        th = _theta(theta)
        est.validate(th)
        if distributed.supports(est, f):  # local or not, one exact (chunking-independent) reduction
            return distributed.estimate(f, est, th, args, kwargs, n, seed, executor, chunk_size, return_samples)
        if isinstance(f, BatchedProgram):
            prog, s = distributed.bind_batched(f, args, kwargs, seed)  # one seed for all of the estimator's calls
            return est.batched(prog, th, n, s)
        if isinstance(seed, np.random.Generator):
            return est.traced(f, th, args, kwargs, n, seed)
        with private_rng(seed) as rng:
            return est.traced(f, th, args, kwargs, n, rng)

    estimate.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return estimate


def grad(f, estimator="score", n: int = 1000, seed=None, **kw):
    """Like :func:`value_and_grad`, returning the gradient estimate alone (shaped like θ)."""
    vg = value_and_grad(f, estimator, n=n, seed=seed, **kw)

    def g(theta, *args, **kwargs):
        return vg(theta, *args, **kwargs).grad

    return g
