"""Statistical checks for estimators, used by our tests and by users' tests."""

from __future__ import annotations

import numpy as np

from ._api import value_and_grad
from .estimators import Exact

__all__ = ["assert_unbiased", "exact_value_and_grad", "z_scores"]


def z_scores(estimate, exact) -> np.ndarray:
    """``(estimate.grad − exact) / estimate.grad_stderr`` per component."""
    g = np.asarray(estimate.grad, dtype=float)
    se = np.asarray(estimate.grad_stderr, dtype=float)
    return (g - np.asarray(exact, dtype=float)) / np.where(se > 0, se, np.inf)


def assert_unbiased(estimate, exact, n_sigma: float = 4.0, atol: float = 0.0) -> None:
    """Assert that the gradient estimate agrees with ``exact`` within ``n_sigma`` standard errors.

    Args:
        estimate: an :class:`~stochgrad.Estimate`.
        exact: the exact gradient (same shape as θ).
        n_sigma: allowed deviation in standard errors.
        atol: absolute slack (for components whose standard error is 0). A
            rounding slack of ``1e-12 · max(1, |exact|)`` is always allowed: an
            estimate whose samples all agree (e.g. control variates that fit a
            single choice exactly) is exact only up to rounding.

    Raises:
        AssertionError: with the estimate, exact value and standard error.
    """
    g = np.asarray(estimate.grad, dtype=float)
    se = np.asarray(estimate.grad_stderr, dtype=float)
    ex = np.asarray(exact, dtype=float)
    bad = np.abs(g - ex) > n_sigma * se + atol + 1e-12 * np.maximum(1.0, np.abs(ex))
    if np.any(bad):
        raise AssertionError(
            f"{estimate.estimator}: gradient {g} vs exact {ex}: off by "
            f"{np.abs(g - ex)} > {n_sigma}·stderr {se} (+{atol})"
        )


def exact_value_and_grad(f, theta, *args, max_traces=100_000, **kwargs):
    """``(E[f], ∇θ E[f])`` by exact enumeration of every trace (small programs only)."""
    est = value_and_grad(f, Exact(max_traces=max_traces))(theta, *args, **kwargs)
    return est.value, est.grad
