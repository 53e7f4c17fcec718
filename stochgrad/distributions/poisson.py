"""Poisson(λ): ``π(k) = e^{−λ} λ^k / k!`` on ``0, 1, 2, ...``.

Sampling: exact inverse CDF of the replayed uniform (``F`` from the regularised incomplete gamma, O(log λ)
evaluations: ``poisson(1e8)`` costs what ``poisson(3)`` costs). Countable support: Exact truncates it where ``P(X >
K)`` falls below its tolerance. Alternatives: ``k ± 1`` with the inverse-CDF densities of
:class:`~.base.IntegerFamily`; for ``λ`` increasing only ``k → k + 1`` moves, with weight ``−∂F(k)/∂λ · λ' / π(k) =
λ'`` (since ``∂F(k)/∂λ = −π(k)``). Edge: at ``λ = 0`` the outcome ``1`` (probability 0, derivative 1) still counts.
No GS-STE relaxation.
"""

from __future__ import annotations

import math

import autograd.numpy as anp
from scipy.special import ndtri, pdtr, pdtrc

from .base import IntegerFamily, scalar_param

__all__ = ["Poisson", "POISSON"]

MAX_RATE = 1e15  # λ up to here: integers and the incomplete gamma stay exact enough in double precision


class Poisson(IntegerFamily):
    """The Poisson family; parameters ``(rate,)``."""

    name = "poisson"

    def check(self, rate):
        scalar_param("rate", "poisson", rate, 0.0, MAX_RATE)
        return (rate,)

    def support(self, pv):
        return (0, 0) if pv[0] == 0.0 else (0, None)

    def edge_outcomes(self, pv):
        return (1,) if pv[0] == 0.0 else ()

    def guess(self, pv, u):
        (lam,) = pv
        return math.floor(lam + math.sqrt(lam) * max(-40.0, min(40.0, float(ndtri(u)))))

    def prob(self, params, k):
        (lam,) = params
        if k < 0:
            return 0.0
        if k == 0:
            return anp.exp(-lam)
        return anp.exp(-lam) * lam ** k / math.factorial(k) if k < 150 else anp.exp(
            -lam + k * anp.log(lam) - math.lgamma(k + 1))

    def log_prob(self, params, k):
        (lam,) = params
        return -lam + k * anp.log(lam) - math.lgamma(k + 1) if k else -lam

    def cdf_value(self, pv, k):
        return float(pdtr(k, pv[0]))

    def sf_value(self, pv, k):
        return float(pdtrc(k, pv[0]))

    def cdf_partials(self, pv, k):
        (lam,) = pv  # dF(k)/dλ = −π(k)
        return [-(math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1)) if lam > 0 else float(k == 0))]


POISSON = Poisson()
