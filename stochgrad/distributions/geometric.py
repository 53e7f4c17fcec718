"""Geometric(p): the number of failures before the first success (support ``0, 1, 2, ...``).

``π(k) = (1 − p)^k p``, ``F(k) = 1 − (1 − p)^(k+1)``. Sampling: the closed-form inverse CDF (exact, any ``p`` in (0,
1], also ``1e-300`` where ``1 − p == 1``). Countable support: Exact truncates it where the tail ``(1 − p)^(K+1)``
falls below its tolerance. Alternatives: ``k ± 1`` with the inverse-CDF densities of :class:`~.base.IntegerFamily`;
for ``p`` increasing only ``k → k − 1`` moves, with weight ``∂F(k − 1)/∂p / π(k) = k p' / (p (1 − p))``. Edge: at
``p = 1`` the outcome ``1`` (probability 0, derivative ``−1``) still counts. No GS-STE relaxation.
"""

from __future__ import annotations

import math

import autograd.numpy as anp

from .base import IntegerFamily, plain, scalar_param

__all__ = ["Geometric", "GEOMETRIC"]


class Geometric(IntegerFamily):
    """The geometric family (failures before the first success); parameters ``(p,)``."""

    name = "geometric"

    def check(self, p):
        scalar_param("p", "geometric", p, 0.0, 1.0, open_low=True)
        return (p,)

    def support(self, pv):
        return (0, 0) if pv[0] == 1.0 else (0, None)

    def edge_outcomes(self, pv):
        return (1,) if pv[0] == 1.0 else ()

    def guess(self, pv, u):
        return math.ceil(math.log1p(-u) / math.log1p(-pv[0])) - 1

    def prob(self, params, k):
        (p,) = params
        if k < 0:
            return 0.0
        if k == 0 or plain(p) == 1.0:
            return (1 - p) ** k * p
        return anp.exp(k * anp.log1p(-p)) * p  # (1 − p)^k without rounding 1 − p (p = 1e-300)

    def log_prob(self, params, k):
        (p,) = params
        return anp.log(p) if k == 0 else k * anp.log1p(-p) + anp.log(p)

    def cdf_value(self, pv, k):
        return -math.expm1((k + 1) * math.log1p(-pv[0])) if pv[0] < 1.0 else 1.0

    def sf_value(self, pv, k):
        return math.exp((k + 1) * math.log1p(-pv[0])) if pv[0] < 1.0 else 0.0

    def ppf(self, pv, u):
        g = self.guess(pv, u) if pv[0] < 1.0 else 0
        if g > 1 << 52:  # F moves by less than its rounding per step: the closed form is the answer
            return g
        return super().ppf(pv, u)

    def cdf_partials(self, pv, k):
        p = pv[0]
        return [(k + 1) * (math.exp(k * math.log1p(-p)) if p < 1.0 else float(k == 0))]


GEOMETRIC = Geometric()
