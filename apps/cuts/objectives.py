"""Objectives of the selected signal and background yields: Asimov significance, s/√b, user functions.

An objective maps the selected (weighted) signal yield ``s`` and background yield
``b`` to a number to maximise. It must accept numpy arrays (it is evaluated for
every Monte-Carlo sample and every flipped event at once) and, for the traced
programs under GS-STE, autograd boxes. Its partial derivatives are needed only by
the relaxed (GS-STE) and sigmoid-weight methods; score-function and stochastic-
derivative estimates use values alone.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import elementwise_grad

__all__ = ["Objective", "asimov", "s_over_sqrt_b", "resolve_objective", "asimov_z"]


class Objective:
    """A function ``f(s, b)`` of the selected yields, with its partial derivatives.

    Args:
        fn: ``fn(s, b) -> array``, elementwise on numpy arrays (write it with
            ``autograd.numpy`` if no ``grad`` is given, so autograd can differentiate it).
        grad: optional ``grad(s, b) -> (∂f/∂s, ∂f/∂b)``; default: autograd.
        name: label used in tables and plots.

    Raises:
        TypeError: ``fn`` (or ``grad``) is not callable.
    """

    def __init__(self, fn, grad=None, name=None):
        if not callable(fn) or (grad is not None and not callable(grad)):
            raise TypeError(f"objective must be callable f(s, b), got {type(fn).__name__}")
        self.fn, self._grad = fn, grad
        self.name = name or getattr(fn, "__name__", "objective")

    def __call__(self, s, b):
        return self.fn(s, b)

    def grad(self, s, b):
        """``(∂f/∂s, ∂f/∂b)`` as float arrays shaped like ``s``."""
        s = np.asarray(s, dtype=float)
        b = np.asarray(b, dtype=float)
        if self._grad is not None:
            gs, gb = self._grad(s, b)
        else:
            gs = elementwise_grad(self.fn, 0)(s, b)
            gb = elementwise_grad(self.fn, 1)(s, b)
        return np.broadcast_to(gs, s.shape).astype(float), np.broadcast_to(gb, s.shape).astype(float)

    def __repr__(self):
        return f"Objective({self.name})"


def asimov_z(s, b, b_min=1.0):
    """Asimov significance ``Z = sqrt(2((s + b) ln(1 + s/b) − s))`` (Cowan et al. 2011).

    ``b`` is floored at ``b_min`` so that a selection with no background gives a
    finite value, and ``s`` at 0. Works on numpy arrays and autograd boxes.
    """
    b = anp.maximum(b, b_min)
    s = anp.maximum(s, 0.0)
    q = (s + b) * anp.log1p(s / b) - s
    return anp.sqrt(2.0 * anp.maximum(q, 1e-300))


def _asimov_grad(b_min):
    def grad(s, b):
        floored = b < b_min
        b = np.maximum(b, b_min)
        s = np.maximum(s, 0.0)
        lg = np.log1p(s / b)
        z = np.sqrt(2.0 * np.maximum((s + b) * lg - s, 0.0))
        small = z < 1e-8  # Z ≈ s/√b near s = 0
        zs = np.where(small, 1.0, z)
        gs = np.where(small, 1.0 / np.sqrt(b), lg / zs)
        gb = np.where(small | floored, 0.0, (lg - s / b) / zs)
        return gs, gb
    return grad


def asimov(b_min=1.0) -> Objective:
    """The Asimov significance as an :class:`Objective` (background floored at ``b_min``).

    Raises:
        ValueError: ``b_min <= 0``.
    """
    if not (np.isfinite(b_min) and b_min > 0):
        raise ValueError(f"b_min must be a positive number, got {b_min!r}")
    return Objective(lambda s, b: asimov_z(s, b, b_min), _asimov_grad(b_min), "asimov")


def s_over_sqrt_b(b_min=1.0) -> Objective:
    """``s/√b`` as an :class:`Objective` (background floored at ``b_min``).

    Raises:
        ValueError: ``b_min <= 0``.
    """
    if not (np.isfinite(b_min) and b_min > 0):
        raise ValueError(f"b_min must be a positive number, got {b_min!r}")

    def fn(s, b):
        return s / anp.sqrt(anp.maximum(b, b_min))

    def grad(s, b):
        bf = np.maximum(b, b_min)
        return 1.0 / np.sqrt(bf), np.where(b < b_min, 0.0, -0.5 * s / bf**1.5)

    return Objective(fn, grad, "s_over_sqrt_b")


def resolve_objective(objective, b_min=1.0) -> Objective:
    """An :class:`Objective` from a name (``"asimov"``, ``"s_over_sqrt_b"``), a callable or an Objective.

    Raises:
        ValueError: unknown name.
        TypeError: not a name, callable or Objective.
    """
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        names = {"asimov": asimov, "z": asimov, "s_over_sqrt_b": s_over_sqrt_b, "s/sqrt(b)": s_over_sqrt_b}
        if objective.lower() not in names:
            raise ValueError(f"unknown objective {objective!r}; use one of {sorted(names)} or a callable f(s, b)")
        return names[objective.lower()](b_min)
    if callable(objective):
        return Objective(objective)
    raise TypeError(f"objective must be a name, a callable f(s, b) or an Objective, got {type(objective).__name__}")
