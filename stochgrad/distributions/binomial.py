"""Binomial(n, p): the number of successes in ``n`` independent trials of probability ``p``.

``n`` is a fixed non-negative integer; ``p`` may depend on θ. Support ``0..n`` (finite: Exact enumerates it, up to a
tail of mass 1e-12). Sampling: exact inverse CDF of the replayed uniform (``F`` from the regularised incomplete
beta, O(log n) evaluations, any ``n``). Alternatives (stochastic derivative): the neighbours ``k ± 1`` with the
inverse-CDF densities of :class:`~.base.IntegerFamily`; for ``p`` increasing only ``k → k + 1`` moves, with weight
``(n − k) p'/(1 − p)`` — the sum of the flip densities of the ``n − k`` failed trials, so the variance matches the
same program written as ``n`` Bernoullis. Edges: at ``p = 1`` the outcome ``n − 1`` (probability 0, derivative
``−n``) still counts; at ``p = 0`` the outcome ``1``. No GS-STE relaxation.
"""

from __future__ import annotations

import math

import autograd.numpy as anp
import numpy as np
from scipy.special import betainc, betaincc, ndtri

from .base import IntegerFamily, implicit, plain, scalar_param

__all__ = ["Binomial", "BINOMIAL"]

_LOG_BIG = 644.0  # beyond C(n, k) = e^644 (about 1e280) the pmf is computed in log space


def _small_comb(n, k):
    """``C(n, k)`` if it is below ``e^644`` (an exact Python int), else ``None`` (without computing it)."""
    if math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) > _LOG_BIG:
        return None
    return math.comb(n, k)


def _log_term(m, j, p):
    """``log(C(m, j) p^j (1 − p)^(m − j))`` for ``0 < p < 1``."""
    return (math.lgamma(m + 1) - math.lgamma(j + 1) - math.lgamma(m - j + 1)
            + j * math.log(p) + (m - j) * math.log1p(-p))


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

    def support(self, pv):
        n, p = pv
        return (0, 0) if p == 0.0 else (n, n) if p == 1.0 else (0, n)

    def edge_outcomes(self, pv):
        n, p = pv
        return () if n == 0 or 0.0 < p < 1.0 else ((1,) if p == 0.0 else (n - 1,))

    def guess(self, pv, u):
        n, p = pv
        return math.floor(n * p + math.sqrt(n * p * (1 - p)) * max(-40.0, min(40.0, float(ndtri(u)))))

    def prob(self, params, k):
        n, p = params
        if k < 0 or k > n:
            return 0.0
        c = _small_comb(n, k)
        if c is not None:
            return c * p ** k * (1 - p) ** (n - k)
        pv = float(plain(p))  # C(n, k) > e^644: 2 ≤ k ≤ n − 2, so π(k) and its derivative vanish at p = 0, 1
        if not 0.0 < pv < 1.0:
            return 0.0
        v = math.exp(_log_term(n, k, pv))
        return implicit(v, [v * (k / pv - (n - k) / (1 - pv))], [p])

    def log_prob(self, params, k):
        n, p = params
        if _small_comb(n, k) is not None:
            return anp.log(self.prob(params, k))
        return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * anp.log(p) + \
            (n - k) * anp.log1p(-p)

    def ppf(self, pv, u):
        """The smallest ``k`` with ``u < F(k)``: summing the pmf from the nearer end for ``n ≤ 64``, else the search."""
        n, p = pv
        if n > 64 or not 0.0 < p < 1.0:
            return super().ppf(pv, u)
        if u <= 0.5:  # F(k) = π(0) + ... + π(k) until it exceeds u
            c = 0.0
            for k in range(n):
                c += math.comb(n, k) * p ** k * (1 - p) ** (n - k)
                if u < c:
                    return k
            return n
        k, s, t = n, 0.0, 1.0 - u  # S(k − 1) = π(k) + ... + π(n); the answer is the smallest k with S(k) < 1 − u
        while k > 0:
            s += math.comb(n, k) * p ** k * (1 - p) ** (n - k)
            if not s < t:
                return k
            k -= 1
        return 0

    def cdf_value(self, pv, k):  # F(k) = 1 − I_p(k + 1, n − k), any n (scipy's bdtr takes n as a C int)
        return float(betaincc(k + 1, pv[0] - k, pv[1]))

    def sf_value(self, pv, k):
        return float(betainc(k + 1, pv[0] - k, pv[1]))

    def cdf_partials(self, pv, k):
        n, p = pv  # dF(k)/dp = −n C(n−1, k) p^k (1 − p)^(n−1−k)
        if 0.0 < p < 1.0:
            return [0.0, -n * math.exp(_log_term(n - 1, k, p))]
        return [0.0, -float(n) if (p == 0.0 and k == 0) or (p == 1.0 and k == n - 1) else 0.0]  # on an edge


BINOMIAL = Binomial()
