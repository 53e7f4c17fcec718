"""Binomial(n, p): the number of successes in ``n`` independent trials of probability ``p``.

``n`` is a fixed non-negative integer; ``p`` may depend on θ. Support
``0..n`` (finite: Exact enumerates it all). Sampling: inverse CDF of the
replayed uniform. Alternatives (stochastic derivative): the neighbours
``k ± 1`` with the inverse-CDF densities of :class:`~.base.IntegerFamily`;
for ``p`` increasing only ``k → k + 1`` moves, with weight
``(n − k) p'/(1 − p)`` — the sum of the flip densities of the ``n − k``
failed trials, so the variance matches the same program written as ``n``
Bernoullis. No GS-STE relaxation.
"""

from __future__ import annotations

import math

import numpy as np

from .base import IntegerFamily, implicit, plain, scalar_param

__all__ = ["Binomial", "BINOMIAL", "binomial"]


class Binomial(IntegerFamily):
    """The binomial family; parameters ``(n, p)``."""

    name = "binomial"

    def check(self, n, p):
        nv = plain(n)
        if isinstance(nv, bool) or not isinstance(nv, (int, np.integer)) or nv < 0:
            raise ValueError(f"binomial: n must be a non-negative int, got {n!r}")
        scalar_param("p", "binomial", p, 0.0, 1.0)
        return int(nv), p

    def bounds(self, pv):
        return 0, int(pv[0])

    def n_outcomes(self, params):
        return int(plain(params[0])) + 1

    def prob(self, params, k):
        n, p = params
        if k < 0 or k > n:
            return 0.0
        return math.comb(n, k) * p ** k * (1 - p) ** (n - k)

    def log_prob(self, params, k):
        import autograd.numpy as anp
        return anp.log(self.prob(params, k))

    def cdf(self, params, k):
        n, p = params
        if k < 0:
            return 0.0
        if k >= n:
            return 1.0
        pv = float(plain(p))
        value = sum(math.comb(n, j) * pv ** j * (1 - pv) ** (n - j) for j in range(k + 1))
        # dF(k)/dp = −n C(n−1, k) p^k (1 − p)^(n−1−k)
        return implicit(value, [-n * math.comb(n - 1, k) * pv ** k * (1 - pv) ** (n - 1 - k)], [p])

    def ppf(self, pv, u):
        n, p = int(pv[0]), pv[1]
        if p <= 0.0:
            return 0
        if p >= 1.0:
            return n
        c = 0.0
        for k in range(n):
            c += math.comb(n, k) * p ** k * (1 - p) ** (n - k)
            if u < c:
                return k
        return n


BINOMIAL = Binomial()


def binomial(n, p, *, key=None, rng=None) -> int:
    """Sample ``k ~ Binomial(n, p)`` as a traced choice (see :func:`stochgrad.bernoulli` for ``key``/``rng``).

    Args:
        n: number of trials, a non-negative int (not differentiated).
        p: success probability in [0, 1]; may depend on θ.

    Returns:
        The number of successes (an ``int``).

    Raises:
        ValueError: ``n`` not a non-negative int, ``p`` outside [0, 1] or NaN.
    """
    from .._trace import sample
    return sample(BINOMIAL, BINOMIAL.check(n, p), key=key, rng=rng)
