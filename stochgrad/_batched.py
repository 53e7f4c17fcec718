"""Protocol for vectorised simulators (design boundary 3).

A GPU kernel or a vectorised NumPy simulator cannot be traced by autograd, so it
reports per-sample statistics itself. A *batched program* is a function

    program(theta, n, seed, want) -> BatchSamples

that simulates ``n`` independent samples at θ and returns arrays (numpy or cupy):

* ``value``: ``f`` per sample, shape ``(n,)``;
* ``pathwise``: ``∂f/∂θ`` at fixed discrete choices, shape ``(n, *θ.shape)``
  (omit / ``None`` when ``f`` has no direct θ-dependence);
* ``score``: ``∇θ log p(trajectory)``, shape ``(n, *θ.shape)``;
* ``alt_weight``, ``alt_delta``: alternative-path contributions for the stochastic
  derivative, shapes ``(n, [m,] *θ.shape)`` and ``(n, [m])``: the per-sample
  derivative is ``pathwise + Σ_m alt_weight · alt_delta``;
* under GS-STE (``want.temperature`` set): ``pathwise`` must be the relaxed
  straight-through gradient;
* ``group`` (optional): an integer id per sample. Samples of one group share a
  context (e.g. the same event clustered many times); score-function baselines
  are then computed within each group, which removes the between-group variance.

The same ``seed`` must give the same random numbers (finite differences rely on
it for common random numbers). Estimators combine the arrays with array
operations on their own module: there is no Python loop over samples.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = ["Want", "BatchSamples", "BatchedProgram", "batched"]


class Want(NamedTuple):
    """What an estimator needs from a batched program (so it can skip work).

    Attributes:
        score: ``∇θ log p`` per sample. Required, except when ``alternatives`` is
            also set: the stochastic derivative asks for it as an optional extra
            (for its control variates) and works without it.
        pathwise: ``∂f/∂θ`` per sample.
        alternatives: alternative-path weights and differences.
        temperature: GS-STE temperature (``None`` unless GS-STE asks).
        n_alternatives: how many sampled alternatives per sample the stochastic
            derivative asks for (a program that sums every alternative in closed
            form may ignore it).
    """

    score: bool = False
    pathwise: bool = False
    alternatives: bool = False
    temperature: float | None = None
    n_alternatives: int = 1


@dataclasses.dataclass
class BatchSamples:
    """Per-sample arrays returned by a batched program (see module docs)."""

    value: Any
    pathwise: Any = None
    score: Any = None
    alt_weight: Any = None
    alt_delta: Any = None
    group: Any = None


class BatchedProgram:
    """A vectorised stochastic program usable by every estimator that supports it."""

    def __init__(self, fn: Callable, name: str | None = None):
        self.fn = fn
        self.__name__ = name or getattr(fn, "__name__", "batched_program")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, theta, n: int, seed, want: Want = Want()) -> BatchSamples:
        out = self.fn(theta, n, seed, want)
        if not isinstance(out, BatchSamples):
            raise TypeError(
                f"batched program {self.__name__} must return stochgrad.BatchSamples, "
                f"got {type(out).__name__}"
            )
        _check(out, n, np.shape(theta), self.__name__, want)
        return out

    def __repr__(self):
        return f"<batched program {self.__name__}>"


def _check(out: BatchSamples, n, theta_shape, name, want: Want):
    from .backend import array_module, to_numpy

    xp = array_module(out.value, out.pathwise, out.score, out.alt_weight, out.alt_delta)
    if tuple(out.value.shape) != (n,):
        raise ValueError(f"{name}: value must have shape ({n},), got {tuple(out.value.shape)}")
    bad = ~xp.isfinite(out.value)
    if bool(to_numpy(xp.any(bad))):
        i = int(to_numpy(xp.argmax(bad)))
        raise ValueError(f"{name}: value of sample {i} is not finite ({to_numpy(out.value[i])})")
    for field, needed in (("score", want.score and not want.alternatives), ("pathwise", False)):
        a = getattr(out, field)
        if a is None:
            if needed:
                raise ValueError(f"{name}: this estimator needs `{field}` but the program returned None")
            continue
        if tuple(a.shape) != (n,) + tuple(theta_shape):
            raise ValueError(f"{name}: {field} must have shape {(n,) + tuple(theta_shape)}, got {tuple(a.shape)}")
        bad = ~xp.isfinite(a)
        if bool(to_numpy(xp.any(bad))):
            i = int(to_numpy(xp.argmax(bad.reshape(n, -1).any(axis=1))))
            raise ValueError(f"{name}: {field} of sample {i} is not finite; every sample needs a finite {field}")
    if want.alternatives and (out.alt_weight is None or out.alt_delta is None):
        raise ValueError(
            f"{name}: StochasticDerivative needs alt_weight and alt_delta; this program does not provide them"
        )
    if want.alternatives:
        _check_alternatives(out, n, tuple(theta_shape), name, xp, to_numpy)
    if out.group is not None:
        g = out.group
        if tuple(g.shape) != (n,) or g.dtype.kind not in "iu":
            raise ValueError(f"{name}: group must be integer ids of shape ({n},), got {g.dtype} {tuple(g.shape)}")
        if n and int(to_numpy(xp.min(g))) < 0:
            raise ValueError(f"{name}: group ids must be >= 0")


def _check_alternatives(out, n, theta_shape, name, xp, to_numpy):
    """alt_weight ``(n, [m,] *θ)`` and alt_delta ``(n, [m])``: consistent shapes, finite values."""
    w, d = out.alt_weight, out.alt_delta
    ws, ds = tuple(w.shape), tuple(d.shape)
    if len(ds) not in (1, 2) or ds[0] != n or ws[:len(ds)] != ds or ws[len(ds):] != theta_shape:
        raise ValueError(f"{name}: alt_weight must have shape (n, [m,] *θ.shape) and alt_delta (n, [m]) with the "
                         f"same n and m (n = {n}, θ.shape = {theta_shape}); got {ws} and {ds}")
    for field, a in (("alt_weight", w), ("alt_delta", d)):
        bad = ~xp.isfinite(a)
        if bool(to_numpy(xp.any(bad))):
            i = int(to_numpy(xp.argmax(bad.reshape(n, -1).any(axis=1))))
            raise ValueError(f"{name}: {field} of sample {i} is not finite; alternative-path weights and "
                             "differences must be finite (a NaN here would make the gradient NaN)")


def batched(fn: Callable) -> BatchedProgram:
    """Mark ``fn(theta, n, seed, want) -> BatchSamples`` as a batched program.

    Args:
        fn: the vectorised simulator (see the module documentation for the contract).

    Returns:
        A :class:`BatchedProgram`.
    """
    return fn if isinstance(fn, BatchedProgram) else BatchedProgram(fn)
