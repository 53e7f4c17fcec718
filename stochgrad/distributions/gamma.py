"""Gamma(shape α, rate β), reparameterised: ``x = P⁻¹(α, u) / β``.

``P(α, ·)`` is the regularised lower incomplete gamma function. The derivative
with respect to ``α`` is the implicit one (Figurnov et al. 2018):
``∂x₀/∂α = −∂P(α, x₀)/∂α / p(x₀; α)``, with ``∂P/∂α`` by a central difference
in ``α`` (relative step 1e-5, error ~1e-10) and ``p`` the standard gamma
density; ``∂x/∂β = −x/β``. Exact cannot enumerate it. The same formula serves
a traced choice (``u`` a float) and the vectorised mode (``u`` one uniform per
sample).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammainc, gammaincinv, gammaln

from .base import ContinuousFamily, plain, scalar_param

__all__ = ["Gamma", "GAMMA"]


class Gamma(ContinuousFamily):
    """The gamma family; parameters ``(shape, rate)``."""

    name = "gamma"

    def check(self, shape, rate):
        scalar_param("shape", "gamma", shape, 0.0, None, open_low=True)
        scalar_param("rate", "gamma", rate, 0.0, None, open_low=True)
        return shape, rate

    def transform(self, params, u):
        shape, rate = params
        a, scalar = float(plain(shape)), type(u) is float
        x0 = float(gammaincinv(a, u)) if scalar else gammaincinv(a, u)
        if not isinstance(shape, (int, float)):
            h = 1e-5 * a
            dP = (gammainc(a + h, x0) - gammainc(a - h, x0)) / (2 * h)
            with np.errstate(divide="ignore", invalid="ignore"):  # x0 = 0 (u = 0): no derivative
                d = np.where(x0 > 0.0, -dP / np.exp((a - 1) * np.log(x0) - x0 - gammaln(a)), 0.0)
            x0 = x0 + (float(d) if scalar else d) * (shape - a)  # the implicit derivative (value x0)
        return x0 / rate

GAMMA = Gamma()
