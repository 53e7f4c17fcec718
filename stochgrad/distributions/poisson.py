"""Poisson(λ): ``π(k) = e^{−λ} λ^k / k!`` on ``0, 1, 2, ...``.

Countable support: Exact truncates it where ``P(X > K)`` falls below its
tolerance. Alternatives: ``k ± 1`` with the inverse-CDF densities of
:class:`~.base.IntegerFamily`; for ``λ`` increasing only ``k → k + 1`` moves,
with weight ``−∂F(k)/∂λ · λ' / π(k) = λ'`` (since ``∂F(k)/∂λ = −π(k)``). No
GS-STE relaxation.
"""

from __future__ import annotations

import math

from .base import IntegerFamily, implicit, plain, scalar_param

__all__ = ["Poisson", "POISSON", "poisson"]


class Poisson(IntegerFamily):
    """The Poisson family; parameters ``(rate,)``."""

    name = "poisson"

    def check(self, rate):
        scalar_param("rate", "poisson", rate, 0.0, 1e8)
        return (rate,)

    def prob(self, params, k):
        import autograd.numpy as anp
        (lam,) = params
        if k < 0:
            return 0.0
        if k == 0:
            return anp.exp(-lam)
        return anp.exp(-lam) * lam ** k / math.factorial(k) if k < 150 else anp.exp(
            -lam + k * anp.log(lam) - math.lgamma(k + 1))

    def log_prob(self, params, k):
        import autograd.numpy as anp
        (lam,) = params
        return -lam + k * anp.log(lam) - math.lgamma(k + 1) if k else -lam

    def cdf(self, params, k):
        if k < 0:
            return 0.0
        (lam,) = params
        lv = float(plain(lam))
        value = sum(math.exp(-lv + j * math.log(lv) - math.lgamma(j + 1)) if lv > 0 else float(j == 0)
                    for j in range(k + 1))
        pk = math.exp(-lv + k * math.log(lv) - math.lgamma(k + 1)) if lv > 0 else float(k == 0)
        return implicit(value, [-pk], [lam])  # dF(k)/dλ = −π(k)

    def ppf(self, pv, u):
        (lam,) = pv
        if lam == 0.0:
            return 0
        k, term = 0, math.exp(-lam)
        if term == 0.0:  # large λ: start from the log-space mode region
            c = 0.0
            k = 0
            while True:
                c += math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1))
                if u < c:
                    return k
                k += 1
        c = term
        while not u < c:
            k += 1
            term *= lam / k
            c += term
            if term == 0.0 and k > lam:
                return k
        return k


POISSON = Poisson()


def poisson(rate, *, key=None, rng=None) -> int:
    """Sample ``k ~ Poisson(rate)`` as a traced choice.

    Args:
        rate: ``λ ≥ 0``; may depend on θ.

    Returns:
        ``k ≥ 0`` (an ``int``).

    Raises:
        ValueError: ``rate`` negative, NaN or above 1e8.
    """
    from .._trace import sample
    return sample(POISSON, POISSON.check(rate), key=key, rng=rng)
