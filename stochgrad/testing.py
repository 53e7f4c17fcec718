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


def assert_unbiased(estimate, exact, n_sigma: float = 4.0, atol: float = 0.0, power: float = 0.25) -> None:
    """Assert that the gradient estimate agrees with ``exact`` within ``n_sigma`` standard errors, with power.

    A check passes only if it could have failed: where ``exact`` is non-zero,
    ``n_sigma`` standard errors must not exceed ``power · |exact|`` (by
    default a quarter), otherwise an estimator that always returns 0 would
    pass too. Components whose exact value is 0 are checked without that
    condition.

    Args:
        estimate: an :class:`~stochgrad.Estimate`.
        exact: the exact gradient (same shape as θ).
        n_sigma: allowed deviation in standard errors.
        atol: absolute slack (for components whose standard error is 0). A
            rounding slack of ``1e-12 · max(1, |exact|)`` is always allowed: an
            estimate whose samples all agree (e.g. control variates that fit a
            single choice exactly) is exact only up to rounding.
        power: the largest ``n_sigma · stderr / |exact|`` accepted (raise it
            only for a check that is meant to be weak).

    Raises:
        AssertionError: the estimate is off (with the estimate, exact value
            and standard error), or the check has no power (too few samples
            for the size of ``exact``).
    """
    g = np.asarray(estimate.grad, dtype=float)
    se = np.asarray(estimate.grad_stderr, dtype=float)
    ex = np.asarray(exact, dtype=float)
    weak = (ex != 0) & ~(n_sigma * se <= power * np.abs(ex))  # also a NaN standard error
    if np.any(weak):
        raise AssertionError(
            f"{estimate.estimator}: the check has no power: {n_sigma}·stderr = {n_sigma * se} exceeds {power}·|exact| "
            f"(exact {ex}); an estimate of 0 would pass. Use more samples."
        )
    bad = ~(np.abs(g - ex) <= n_sigma * se + atol + 1e-12 * np.maximum(1.0, np.abs(ex)))
    if np.any(bad):
        raise AssertionError(
            f"{estimate.estimator}: gradient {g} vs exact {ex}: off by "
            f"{np.abs(g - ex)} > {n_sigma}·stderr {se} (+{atol})"
        )


def exact_value_and_grad(f, theta, *args, max_traces=100_000, **kwargs):
    """``(E[f], ∇θ E[f])`` by exact enumeration of every trace (small programs only)."""
    est = value_and_grad(f, Exact(max_traces=max_traces))(theta, *args, **kwargs)
    return est.value, est.grad
