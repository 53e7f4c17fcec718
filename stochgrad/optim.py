"""Gradient-descent loops (SGD, Adam) that consume noisy gradient estimates.

Each step calls ``estimate(theta) -> Estimate`` (typically from
:func:`stochgrad.value_and_grad`), records value, gradient and standard errors in
the history, and updates θ. A statistical stopping rule is optional: stop when
every gradient component has been within ``z`` standard errors of zero for
``patience`` consecutive steps.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Callable

import numpy as np

__all__ = ["OptimResult", "adam", "sgd", "minimize"]


@dataclasses.dataclass
class OptimResult:
    """Outcome of an optimisation.

    Attributes:
        theta: final parameters (float or array, like ``theta0``).
        history: one dict per step: ``step, theta, value, value_stderr, grad,
            grad_stderr, seconds``.
        stopped_early: whether the stopping rule ended the run.
        seconds: wall time.
    """

    theta: object
    history: list
    stopped_early: bool
    seconds: float

    def column(self, key):
        """The history of one quantity as a numpy array (e.g. ``"value"``)."""
        return np.array([h[key] for h in self.history])


class _Adam:
    def __init__(self, lr, b1, b2, eps):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.m = self.v = None
        self.t = 0

    def __call__(self, g):
        if self.m is None:
            self.m, self.v = np.zeros_like(g), np.zeros_like(g)
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        mh = self.m / (1 - self.b1**self.t)
        vh = self.v / (1 - self.b2**self.t)
        return -_rate(self.lr, self.t - 1) * mh / (np.sqrt(vh) + self.eps)


class _SGD:
    def __init__(self, lr, momentum):
        self.lr, self.momentum, self.vel = lr, momentum, None

        self.t = 0

    def __call__(self, g):
        self.vel = g if self.vel is None else self.momentum * self.vel + g
        self.t += 1
        return -_rate(self.lr, self.t - 1) * self.vel


def _rate(lr, step):
    return float(lr(step)) if callable(lr) else lr


def minimize(estimate: Callable, theta0, update, steps: int, *, patience=None, z=2.0,
             callback=None, progress=False, label="optimise") -> OptimResult:
    """Run ``steps`` updates ``θ ← θ + update(grad)`` on noisy estimates.

    Args:
        estimate: ``theta -> Estimate`` (``.value``, ``.grad``, ``.grad_stderr``).
        theta0: start (float or array).
        update: a function mapping a gradient to a step (see :func:`adam`).
        steps: maximum number of steps (≥ 1).
        patience: if set, stop after this many consecutive steps whose gradient is
            within ``z`` standard errors of zero in every component.
        callback: called as ``callback(record)`` after each step.
        progress: print a one-line progress bar to stderr.

    Returns:
        :class:`OptimResult`.

    Raises:
        ValueError: ``steps < 1`` or a non-finite gradient.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    scalar = np.ndim(theta0) == 0
    theta = np.array(theta0, dtype=float)
    history, quiet, t0 = [], 0, time.perf_counter()
    stopped = False
    for step in range(steps):
        est = estimate(float(theta) if scalar else theta.copy())
        g = np.asarray(est.grad, dtype=float)
        if not np.all(np.isfinite(g)):
            raise ValueError(f"{label}: non-finite gradient {g} at step {step}, θ = {theta}")
        se = np.asarray(est.grad_stderr, dtype=float)
        rec = {"step": step, "theta": theta.tolist(), "value": float(est.value),
               "value_stderr": float(est.value_stderr), "grad": g.tolist(), "grad_stderr": se.tolist(),
               "seconds": time.perf_counter() - t0}
        history.append(rec)
        if callback is not None:
            callback(rec)
        if progress:
            _bar(step + 1, steps, label, rec)
        theta = theta + update(g)
        if patience is not None:
            quiet = quiet + 1 if np.all(np.abs(g) <= z * np.nan_to_num(se, nan=0.0)) else 0
            if quiet >= patience:
                stopped = True
                break
    if progress:
        sys.stderr.write("\n")
    return OptimResult(float(theta) if scalar else theta, history, stopped, time.perf_counter() - t0)


def _bar(i, n, label, rec):
    w = 24
    filled = int(w * i / n)
    th = np.array2string(np.asarray(rec["theta"]), precision=4)
    sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (w - filled)}] {i}/{n} θ={th} loss={rec['value']:.5g}")
    sys.stderr.flush()


def adam(estimate: Callable, theta0, steps=100, lr=0.05, betas=(0.9, 0.999), eps=1e-8, **kw) -> OptimResult:
    """Adam (Kingma & Ba 2015) on noisy gradient estimates.

    Args:
        estimate: ``theta -> Estimate``.
        theta0: start.
        steps: maximum steps.
        lr: learning rate, or a function ``step -> learning rate`` (a schedule).
        betas: moment decay rates.
        eps: denominator guard.
        **kw: forwarded to :func:`minimize` (``patience``, ``callback``, ``progress``, ...).

    Returns:
        :class:`OptimResult`.
    """
    return minimize(estimate, theta0, _Adam(lr, betas[0], betas[1], eps), steps, **kw)


def sgd(estimate: Callable, theta0, steps=100, lr=0.01, momentum=0.0, **kw) -> OptimResult:
    """Stochastic gradient descent (optionally with momentum) on noisy estimates.

    Args:
        estimate: ``theta -> Estimate``.
        theta0: start.
        steps: maximum steps.
        lr: learning rate, or a function ``step -> learning rate``.
        momentum: heavy-ball momentum in [0, 1).
        **kw: forwarded to :func:`minimize`.

    Returns:
        :class:`OptimResult`.
    """
    return minimize(estimate, theta0, _SGD(lr, momentum), steps, **kw)
