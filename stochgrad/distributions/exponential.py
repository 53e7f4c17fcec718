"""Exponential(rate), reparameterised: ``x = −log(1 − u) / rate``.

θ-derivatives flow through the sample (``∂x/∂rate = −x/rate``). Exact cannot
enumerate it. The same formula serves a traced choice (``u`` a float) and the
vectorised mode (``u`` one uniform per sample).
"""

from __future__ import annotations

import math

import numpy as np

from .base import ContinuousFamily, scalar_param

__all__ = ["Exponential", "EXPONENTIAL"]


class Exponential(ContinuousFamily):
    """The exponential family; parameters ``(rate,)``."""

    name = "exponential"

    def check(self, rate):
        scalar_param("rate", "exponential", rate, 0.0, None, open_low=True)
        return (rate,)

    def transform(self, params, u):
        (rate,) = params
        return -(math.log1p(-u) if type(u) is float else np.log1p(-u)) / rate


EXPONENTIAL = Exponential()
