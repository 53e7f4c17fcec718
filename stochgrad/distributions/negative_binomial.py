"""NegativeBinomial(r, p): failures before the ``r``-th success (Distributions.jl's convention).

``π(k) = Γ(k + r) / (k! Γ(r)) p^r (1 − p)^k`` on ``0, 1, 2, ...``; ``r > 0`` is fixed (not differentiated), ``p``
may depend on θ. ``F(k) = I_p(r, k + 1)`` (regularised incomplete beta). Sampling: exact inverse CDF of the replayed
uniform, O(log) evaluations of ``F``. Countable support: Exact truncates it where ``P(X > K)`` falls below its
tolerance. Alternatives: ``k ± 1`` with the inverse-CDF densities. Edge: at ``p = 1`` the outcome ``1`` (probability
0, derivative ``−r``) still counts. No GS-STE relaxation.
"""

from __future__ import annotations

import math

import autograd.numpy as anp
from scipy.special import betainc, betaincc, ndtri

from .base import IntegerFamily, plain, scalar_param

__all__ = ["NegativeBinomial", "NEGATIVE_BINOMIAL"]


class NegativeBinomial(IntegerFamily):
    """The negative binomial family; parameters ``(r, p)``."""

    name = "negative_binomial"

    def check(self, r, p):
        if not isinstance(plain(r), (int, float)) or plain(r) is not r:
            raise ValueError(f"negative_binomial: r must be a plain positive number (not differentiated), got {r!r}")
        scalar_param("r", "negative_binomial", r, 0.0, None, open_low=True)
        scalar_param("p", "negative_binomial", p, 0.0, 1.0, open_low=True)
        return float(r), p

    def support(self, pv):
        return (0, 0) if pv[1] == 1.0 else (0, None)

    def edge_outcomes(self, pv):
        return (1,) if pv[1] == 1.0 else ()

    def guess(self, pv, u):
        r, p = pv
        mean, sd = r * (1 - p) / p, math.sqrt(r * (1 - p)) / p
        return math.floor(mean + sd * max(-40.0, min(40.0, float(ndtri(u)))))

    def _coef(self, r, k):
        return math.exp(math.lgamma(k + r) - math.lgamma(k + 1) - math.lgamma(r))

    def prob(self, params, k):
        r, p = params
        if k < 0:
            return 0.0
        return self._coef(r, k) * p ** r * (1 - p) ** k

    def log_prob(self, params, k):
        return anp.log(self.prob(params, k))

    def cdf_value(self, pv, k):
        r, p = pv
        return float(betainc(r, k + 1, p))

    def sf_value(self, pv, k):
        r, p = pv
        return float(betaincc(r, k + 1, p))

    def cdf_partials(self, pv, k):
        r, p = pv  # dI_p(r, k + 1)/dp = p^(r−1) (1 − p)^k / B(r, k + 1)
        if p == 1.0:
            return [0.0, r if k == 0 else 0.0]
        log_beta = math.lgamma(r) + math.lgamma(k + 1) - math.lgamma(r + k + 1)
        return [0.0, math.exp((r - 1) * math.log(p) + k * math.log1p(-p) - log_beta)]


NEGATIVE_BINOMIAL = NegativeBinomial()
