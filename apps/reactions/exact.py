"""Exact means and their θ-derivatives for the reference networks (checks for the estimators).

Both networks are linear (reactions of order ≤ 1), so the mean obeys a closed linear
ODE and has a closed form; the derivatives are taken with autograd through it.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad

__all__ = [
    "immigration_death_mean", "immigration_death_mean_grad",
    "telegraph_mean", "telegraph_mean_grad", "telegraph_stationary_mean", "telegraph_stationary_mean_grad",
]


def immigration_death_mean(theta, T: float, x0: int = 0):
    """``E[X(T)] = x0 e^{−gT} + (k/g)(1 − e^{−gT})`` for θ = ``[k, g]``."""
    k, g = theta[0], theta[1]
    e = anp.exp(-g * T)
    return x0 * e + k / g * (1.0 - e)


def immigration_death_mean_grad(theta, T: float, x0: int = 0) -> np.ndarray:
    """``∇θ E[X(T)]`` (e.g. ``[1.26424, −10.56964]`` at k = 10, g = 0.5, T = 2)."""
    return grad(immigration_death_mean)(np.asarray(theta, dtype=float), T, x0)


def telegraph_mean(theta, T: float, g0: float = 0.0, m0: float = 0.0):
    """``E[M(T)]`` of the telegraph model, θ = ``[k_on, k_off, r, gamma]``, from ``P(on) = g0``, ``M = m0``.

    With κ = k_on + k_off and ρ = k_on/κ: ``P(on, t) = ρ + (g0 − ρ) e^{−κt}`` and
    ``E[M(T)] = m0 e^{−γT} + r[ρ(1 − e^{−γT})/γ + (g0 − ρ)(e^{−κT} − e^{−γT})/(γ − κ)]``
    (the last fraction becomes ``T e^{−γT}`` when γ = κ).
    """
    kon, koff, r, gam = theta[0], theta[1], theta[2], theta[3]
    kap = kon + koff
    rho = kon / kap
    eg = anp.exp(-gam * T)
    if abs(float(_val(gam) - _val(kap))) < 1e-9:
        mix = T * eg
    else:
        mix = (anp.exp(-kap * T) - eg) / (gam - kap)
    return m0 * eg + r * (rho * (1.0 - eg) / gam + (g0 - rho) * mix)


def telegraph_mean_grad(theta, T: float, g0: float = 0.0, m0: float = 0.0) -> np.ndarray:
    """``∇θ E[M(T)]`` of the telegraph model."""
    return grad(telegraph_mean)(np.asarray(theta, dtype=float), T, g0, m0)


def telegraph_stationary_mean(theta):
    """Stationary mean ``(r/γ) · k_on/(k_on + k_off)``."""
    kon, koff, r, gam = theta[0], theta[1], theta[2], theta[3]
    return r / gam * kon / (kon + koff)


def telegraph_stationary_mean_grad(theta) -> np.ndarray:
    """Gradient of the stationary mean in ``[k_on, k_off, r, gamma]``."""
    return grad(telegraph_stationary_mean)(np.asarray(theta, dtype=float))


def _val(x):
    from autograd.tracer import getval

    return getval(x)
