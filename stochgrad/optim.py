"""Gradient-descent loops (SGD, Adam) that consume noisy gradient estimates.

Optimisers are small update objects in the style of optax: ``init(θ) -> state``
and ``update(grad, state) -> (step, state)``, the state carrying the step count;
learning rates are numbers or schedules ``step -> rate`` (:func:`constant`,
:func:`exponential_decay`). :func:`minimize` runs any of them.

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

__all__ = ["OptimResult", "adam", "sgd", "minimize", "Adam", "SGD", "AdamState", "SGDState", "constant",
           "exponential_decay"]


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


# --- schedules: step -> learning rate --------------------------------------------------------------------------

def constant(value: float) -> Callable[[int], float]:
    """The schedule ``step ↦ value``."""
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"learning rate must be a positive number, got {value!r}")
    return lambda step: value


def exponential_decay(start: float, stop: float, steps: int) -> Callable[[int], float]:
    """``steps`` rates from ``start`` to ``stop`` evenly spaced in log (``stop`` from the last step on).

    Step ``t`` gets ``exp(log(start)·(1 − s) + log(stop)·s)`` with
    ``s = t / (steps − 1)``.

    Raises:
        ValueError: non-positive rates or ``steps < 1``.
    """
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"exponential_decay: steps must be a positive int, got {steps!r}")
    for v in (start, stop):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"exponential_decay: rates must be positive numbers, got {v!r}")
    t = np.linspace(0.0, 1.0, steps)
    rates = np.exp(np.log(float(start)) * (1 - t) + np.log(float(stop)) * t)
    return lambda step: float(rates[min(step, steps - 1)])


def _schedule(lr):
    return lr if callable(lr) else constant(lr)


# --- update objects (optax-style: init(θ) -> state; update(grad, state) -> (step, state)) ---------------------

@dataclasses.dataclass(frozen=True)
class AdamState:
    """Adam's state: step count and moment estimates."""

    count: int
    m: np.ndarray
    v: np.ndarray


class Adam:
    """Adam (Kingma & Ba 2015) as an update object; the state carries the step count.

    Args:
        lr: learning rate or schedule ``step -> rate`` (:func:`constant`, :func:`exponential_decay`).
        b1, b2: moment decay rates in [0, 1).
        eps: denominator guard.
    """

    def __init__(self, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
        for name, b in (("b1", b1), ("b2", b2)):
            if not (0.0 <= b < 1.0):
                raise ValueError(f"Adam: {name} must lie in [0, 1), got {b!r}")
        self.lr, self.b1, self.b2, self.eps = _schedule(lr), float(b1), float(b2), float(eps)

    def init(self, theta) -> AdamState:
        z = np.zeros_like(np.asarray(theta, dtype=float))
        return AdamState(0, z, z)

    def update(self, grad, state: AdamState):
        """``(step to add to θ, new state)`` for gradient ``grad`` (descent)."""
        t = state.count + 1
        m = self.b1 * state.m + (1 - self.b1) * grad
        v = self.b2 * state.v + (1 - self.b2) * grad * grad
        mh = m / (1 - self.b1**t)
        vh = v / (1 - self.b2**t)
        return -self.lr(t - 1) * mh / (np.sqrt(vh) + self.eps), AdamState(t, m, v)


@dataclasses.dataclass(frozen=True)
class SGDState:
    """SGD's state: step count and velocity."""

    count: int
    velocity: object


class SGD:
    """Stochastic gradient descent with optional heavy-ball momentum, as an update object.

    Args:
        lr: learning rate or schedule ``step -> rate``.
        momentum: in [0, 1).
    """

    def __init__(self, lr=0.01, momentum=0.0):
        if not (0.0 <= momentum < 1.0):
            raise ValueError(f"SGD: momentum must lie in [0, 1), got {momentum!r}")
        self.lr, self.momentum = _schedule(lr), float(momentum)

    def init(self, theta) -> SGDState:
        return SGDState(0, None)

    def update(self, grad, state: SGDState):
        vel = grad if state.velocity is None else self.momentum * state.velocity + grad
        return -self.lr(state.count) * vel, SGDState(state.count + 1, vel)


class _Callable:
    """Adapts a plain ``grad -> step`` function to the update-object interface."""

    def __init__(self, fn):
        self.fn = fn

    def init(self, theta):
        return None

    def update(self, grad, state):
        return self.fn(grad), state


def minimize(estimate: Callable, theta0, update, steps: int, *, patience=None, z=2.0,
             callback=None, progress=False, label="optimise", pass_step=False, project=None) -> OptimResult:
    """Run ``steps`` updates ``θ ← θ + step`` on noisy estimates (``θ ← project(θ + step)`` with ``project``).

    Args:
        estimate: ``theta -> Estimate`` (``.value``, ``.grad``, ``.grad_stderr``);
            with ``pass_step``, ``(theta, step) -> Estimate`` (e.g. to seed each
            step's samples or anneal a parameter; no counter of your own needed).
        theta0: start (float or array).
        update: an update object (:class:`Adam`, :class:`SGD`: ``init`` / ``update``),
            or a plain function mapping a gradient to a step.
        steps: maximum number of steps (≥ 1).
        patience: if set, stop after this many consecutive steps whose gradient is
            within ``z`` standard errors of zero in every component.
        callback: called as ``callback(record)`` after each step.
        progress: print a one-line progress bar to stderr.
        project: ``theta -> theta`` applied after every update (projected gradient
            descent onto a feasible set, e.g. a box); the update object's state
            (Adam's moments) is built from the raw gradients as without it.

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
    opt = update if hasattr(update, "init") and hasattr(update, "update") else _Callable(update)
    opt_state = opt.init(theta)
    for step in range(steps):
        th = float(theta) if scalar else theta.copy()
        est = estimate(th, step) if pass_step else estimate(th)
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
        delta, opt_state = opt.update(g, opt_state)
        theta = theta + delta
        if project is not None:
            theta = np.array(project(float(theta) if scalar else theta.copy()), dtype=float)
            if theta.shape != np.shape(theta0) or not np.all(np.isfinite(theta)):
                raise ValueError(f"{label}: project returned {theta!r}, not a finite point of θ's shape")
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
    return minimize(estimate, theta0, Adam(lr, betas[0], betas[1], eps), steps, **kw)


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
    return minimize(estimate, theta0, SGD(lr, momentum), steps, **kw)
