"""Gamma(shape α, rate β), reparameterised: ``x = P⁻¹(α, u) / β``.

``P(α, ·)`` is the regularised lower incomplete gamma function. The derivative
with respect to ``α`` is the implicit one (Figurnov et al. 2018):
``∂x₀/∂α = −∂P(α, x₀)/∂α / p(x₀; α)``, with ``∂P/∂α`` by a central difference
in ``α`` (relative step 1e-5, error ~1e-10) and ``p`` the standard gamma
density; ``∂x/∂β = −x/β``. Exact cannot enumerate it.
"""

from __future__ import annotations

import math

from scipy.special import gammainc, gammaincinv

from .base import ContinuousFamily, implicit, plain, scalar_param

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
        a = float(plain(shape))
        x0 = float(gammaincinv(a, u))
        if x0 > 0.0 and not isinstance(shape, (int, float)):
            h = 1e-5 * a
            dP = (gammainc(a + h, x0) - gammainc(a - h, x0)) / (2 * h)
            dens = math.exp((a - 1) * math.log(x0) - x0 - math.lgamma(a))
            x0 = implicit(x0, [-dP / dens], [shape])
        return x0 / rate


GAMMA = Gamma()
