"""The result type shared by every estimator: value, gradient, standard errors, samples."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .backend import array_module, to_numpy

__all__ = ["Estimate", "summarise"]


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo (or exact) estimate of ``E[f]`` and ``∇θ E[f]``.

    Attributes:
        value: estimate of ``E[f(θ)]`` (float).
        value_stderr: its standard error (0 for :class:`~stochgrad.Exact`).
        grad: estimate of ``∇θ E[f]``, shaped like θ (numpy).
        grad_stderr: standard error of each gradient component (numpy).
        samples: per-sample gradient estimates, shape ``(n, *θ.shape)``; they stay
            on the device they were computed on (numpy or cupy).
        values: per-sample values ``f``, shape ``(n,)``.
        n: number of samples.
        estimator: the estimator's ``repr``.
        info: estimator-specific extras (e.g. runs per sample).
    """

    value: float
    value_stderr: float
    grad: Any
    grad_stderr: Any
    samples: Any
    values: Any
    n: int
    estimator: str
    info: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.grad is None:
            return
        g = np.asarray(to_numpy(self.grad), dtype=float)
        if not np.all(np.isfinite(g)):
            raise ValueError(f"{self.estimator}: the gradient estimate is not finite ({g.tolist()}); a NaN or "
                             "infinite gradient is an error, not a result (check the program for a derivative "
                             "that diverges at this θ, e.g. sqrt(x) at x = 0)")

    def __repr__(self):
        g = np.array2string(np.asarray(self.grad), formatter={"float_kind": "{:.6g}".format})
        e = np.array2string(np.asarray(self.grad_stderr), formatter={"float_kind": "{:.2g}".format})
        return (
            f"Estimate(value={self.value:.6g} ± {self.value_stderr:.2g}, grad={g} ± {e}, "
            f"n={self.n}, estimator={self.estimator})"
        )


def _stderr(xp, a):
    n = a.shape[0]
    if n < 2:
        return xp.full(a.shape[1:], np.nan)
    return xp.std(a, axis=0, ddof=1) / np.sqrt(n)


def summarise(values, samples, theta_shape, estimator, info=None, extra_variance=None) -> Estimate:
    """Build an :class:`Estimate` from per-sample values ``(n,)`` and gradients ``(n, *θ)``.

    The gradient's standard error is the spread of the samples over ``√n``; when the
    samples are not independent (a baseline computed from the other samples),
    ``extra_variance`` (shaped like θ) is the variance of the mean that this spread
    misses, added to its square (see :meth:`stochgrad.ScoreFunction.baseline_variance`).
    """
    xp = array_module(values, samples)
    values = xp.asarray(values, dtype=float)
    samples = xp.asarray(samples, dtype=float).reshape((values.shape[0],) + tuple(theta_shape))
    bad = ~xp.isfinite(samples.reshape(values.shape[0], -1)).all(axis=1)
    if bool(to_numpy(xp.any(bad))):
        i = int(to_numpy(xp.argmax(bad)))
        raise ValueError(
            f"{estimator!r}: the gradient of sample {i} is not finite ({to_numpy(samples[i]).tolist()}); a NaN or "
            "infinite gradient is an error, not a result (check the program for a derivative that diverges at "
            "this θ, e.g. sqrt(x) at x = 0, or a non-finite input)")
    grad = to_numpy(xp.mean(samples, axis=0))
    grad_se = to_numpy(_stderr(xp, samples))
    if extra_variance is not None:
        grad_se = np.sqrt(grad_se ** 2 + np.reshape(to_numpy(extra_variance), np.shape(grad_se)))
    value = float(to_numpy(xp.mean(values)))
    value_se = float(to_numpy(_stderr(xp, values[:, None])[0]))
    if theta_shape == ():
        grad, grad_se = float(grad), float(grad_se)
    return Estimate(value, value_se, grad, grad_se, samples, values, int(values.shape[0]),
                    repr(estimator), dict(info or {}))
