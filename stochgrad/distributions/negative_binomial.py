"""NegativeBinomial(r, p): failures before the ``r``-th success (Distributions.jl's convention).

``π(k) = Γ(k + r) / (k! Γ(r)) p^r (1 − p)^k`` on ``0, 1, 2, ...``; ``r > 0`` is
fixed (not differentiated), ``p`` may depend on θ. Countable support: Exact
truncates it where ``P(X > K)`` falls below its tolerance. Alternatives:
``k ± 1`` with the inverse-CDF densities. No GS-STE relaxation.
"""

from __future__ import annotations

import math

from .base import IntegerFamily, plain, scalar_param

__all__ = ["NegativeBinomial", "NEGATIVE_BINOMIAL", "negative_binomial"]


class NegativeBinomial(IntegerFamily):
    """The negative binomial family; parameters ``(r, p)``."""

    name = "negative_binomial"

    def check(self, r, p):
        if not isinstance(plain(r), (int, float)) or plain(r) is not r:
            raise ValueError(f"negative_binomial: r must be a plain positive number (not differentiated), got {r!r}")
        scalar_param("r", "negative_binomial", r, 0.0, None, open_low=True)
        scalar_param("p", "negative_binomial", p, 0.0, 1.0, open_low=True)
        return float(r), p

    def _coef(self, r, k):
        return math.exp(math.lgamma(k + r) - math.lgamma(k + 1) - math.lgamma(r))

    def prob(self, params, k):
        r, p = params
        if k < 0:
            return 0.0
        return self._coef(r, k) * p ** r * (1 - p) ** k

    def log_prob(self, params, k):
        import autograd.numpy as anp
        return anp.log(self.prob(params, k))

    def cdf(self, params, k):
        if k < 0:
            return 0.0
        total = 0.0
        for j in range(k + 1):
            total = total + self.prob(params, j)
        return total

    def ppf(self, pv, u):
        r, p = pv
        if p >= 1.0:
            return 0
        k, c = 0, 0.0
        while True:
            c += self._coef(r, k) * p ** r * (1 - p) ** k
            if u < c:
                return k
            k += 1
            if k > 10**7:
                raise ValueError(f"negative_binomial: r={r}, p={p} puts its mass beyond 10^7")


NEGATIVE_BINOMIAL = NegativeBinomial()


def negative_binomial(r, p, *, key=None, rng=None) -> int:
    """Sample the number of failures before the ``r``-th success (success probability ``p``) as a traced choice.

    Args:
        r: number of successes, a plain number ``> 0`` (not differentiated).
        p: success probability in (0, 1]; may depend on θ.

    Returns:
        ``k ≥ 0`` (an ``int``).

    Raises:
        ValueError: ``r`` not a plain positive number, ``p`` outside (0, 1] or NaN.
    """
    from .._trace import sample
    return sample(NEGATIVE_BINOMIAL, NEGATIVE_BINOMIAL.check(r, p), key=key, rng=rng)
