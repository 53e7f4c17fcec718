"""Geometric(p): the number of failures before the first success (support ``0, 1, 2, ...``).

``π(k) = (1 − p)^k p``, ``F(k) = 1 − (1 − p)^(k+1)``. Countable support: Exact
truncates it where the tail ``(1 − p)^(K+1)`` falls below its tolerance.
Alternatives: ``k ± 1`` with the inverse-CDF densities of
:class:`~.base.IntegerFamily`; for ``p`` increasing only ``k → k − 1`` moves,
with weight ``∂F(k − 1)/∂p / π(k) = k p' / (p (1 − p))``. No GS-STE relaxation.
"""

from __future__ import annotations

import math

from .base import IntegerFamily, scalar_param

__all__ = ["Geometric", "GEOMETRIC", "geometric"]


class Geometric(IntegerFamily):
    """The geometric family (failures before the first success); parameters ``(p,)``."""

    name = "geometric"

    def check(self, p):
        scalar_param("p", "geometric", p, 0.0, 1.0, open_low=True)
        return (p,)

    def prob(self, params, k):
        (p,) = params
        if k < 0:
            return 0.0
        return (1 - p) ** k * p

    def log_prob(self, params, k):
        import autograd.numpy as anp
        return anp.log(self.prob(params, k))

    def cdf(self, params, k):
        (p,) = params
        if k < 0:
            return 0.0
        return 1 - (1 - p) ** (k + 1)

    def ppf(self, pv, u):
        (p,) = pv
        if p >= 1.0:
            return 0
        k = max(int(math.floor(math.log1p(-u) / math.log1p(-p))) - 1, 0)
        while not (u < 1.0 - (1.0 - p) ** (k + 1)):
            k += 1
        while k > 0 and u < 1.0 - (1.0 - p) ** k:
            k -= 1
        return k


GEOMETRIC = Geometric()


def geometric(p, *, key=None, rng=None) -> int:
    """Sample the number of failures before the first success, success probability ``p``, as a traced choice.

    Args:
        p: success probability in (0, 1]; may depend on θ.

    Returns:
        ``k ≥ 0`` (an ``int``).

    Raises:
        ValueError: ``p`` outside (0, 1] or NaN.
    """
    from .._trace import sample
    return sample(GEOMETRIC, GEOMETRIC.check(p), key=key, rng=rng)
