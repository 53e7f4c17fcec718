"""Normal(μ, σ), reparameterised: ``x = μ + σ Φ⁻¹(u)`` with the replayed uniform ``u``.

θ-derivatives flow through the sample (pathwise: ``∂x/∂μ = 1``,
``∂x/∂σ = Φ⁻¹(u)``); the choice adds nothing to the score and has no
alternatives. Exact cannot enumerate it. The same formula serves a traced
choice (``u`` a float) and the vectorised mode (``u`` one uniform per sample).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from .base import ContinuousFamily, scalar_param

__all__ = ["Normal", "NORMAL"]

_TINY = 2.0**-60  # u = 0 (probability 2^-53) would give −inf


class Normal(ContinuousFamily):
    """The normal family; parameters ``(mean, sd)``."""

    name = "normal"

    def check(self, mean, sd):
        scalar_param("mean", "normal", mean)
        scalar_param("sd", "normal", sd, 0.0, None)
        return mean, sd

    def transform(self, params, u):
        mean, sd = params
        z = ndtri(np.maximum(u, _TINY))
        return mean + sd * (float(z) if type(u) is float else z)


NORMAL = Normal()
