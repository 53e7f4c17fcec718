"""Categorical(π): index ``k`` with probability ``π_k`` (sampled by :func:`stochgrad.categorical`).

Coupling: inverse CDF, the first ``k`` with ``u < F_k``. Score ``dπ_k/π_k``.
Alternatives: every other outcome ``j`` with weight ``∂π_j/∂θ``
(Rao-Blackwellised), or the inverse-CDF neighbours across a moving boundary
with density ``|∂F/∂θ| / π_k``. GS-STE: Gumbel-softmax (in :mod:`stochgrad._trace`).
"""

from __future__ import annotations

import numpy as np

from .._dual import Dual
from .base import Family, plain

__all__ = ["Categorical", "CATEGORICAL", "inverse_cdf"]


def inverse_cdf(pv: np.ndarray, u: float) -> int:
    """The first ``k`` with ``u < π_0 + ... + π_k``; rounding at the top end never gives an outcome of probability 0."""
    k = min(int(np.searchsorted(np.cumsum(pv), u, side="right")), len(pv) - 1)
    while pv[k] == 0 and k > 0:
        k -= 1
    return k


class Categorical(Family):
    """The categorical family; its recorded parameter is the probability vector."""

    name = "categorical"
    params_are_probabilities = True  # the recorded parameter is the probability (vector) itself

    def sample(self, probs, u):
        return inverse_cdf(np.asarray(plain(probs), dtype=float), u)

    def log_prob(self, probs, k):
        import autograd.numpy as anp
        return anp.log(probs[k])

    def prob(self, probs, k):
        return probs[k]

    def n_outcomes(self, probs):
        return int(np.size(plain(probs)))

    def depends(self, run, probs):
        return run.owns(probs)

    def first(self, probs) -> int:
        return int(np.argmax(np.asarray(plain(probs)) > 0))

    def outcomes(self, probs, tail=0.0):
        return [int(j) for j in np.flatnonzero(np.asarray(plain(probs)) > 0)], 0.0

    def moves(self, run, c, v) -> bool:
        return run.owns(c.params) and bool(np.any(run.grad_of(c.params, np.eye(c.n_outcomes)[v]) != 0))

    def enumeration_order(self, run, c):
        pv = np.asarray(plain(c.params), dtype=float)
        first = self.first(c.params)
        order = [first] + [v for v in range(c.n_outcomes) if v != first]
        return [v for v in order if pv[v] > 0 or self.moves(run, c, v)]

    def score(self, run, choices):
        total = np.zeros(run.theta_size)
        parts, cots, edge = [], [], []
        for c in choices:  # d log π_k = dπ_k / π_k
            pv = np.asarray(plain(c.params), dtype=float)
            cot = np.zeros(c.n_outcomes)
            cot[c.value] = 1.0 / pv[c.value]
            if run.forward:
                total += np.ravel(run.grad_of(c.params, cot))
            else:
                parts.append(c.params)
                cots.append(cot)
            if any(self.moves(run, c, j) for j in np.flatnonzero(pv == 0.0)):
                edge.append(c.site)
        if parts:
            import autograd.numpy as anp
            flat = parts[0] if len(parts) == 1 else anp.concatenate(parts)
            total += np.ravel(run.grad_of(flat, np.concatenate(cots)))
        return total, edge

    def dual_score(self, run, c):
        p = c.params
        if not (isinstance(p, np.ndarray) and p.dtype == object):
            return 0.0, False
        e = p[c.value]
        s = e.t / e.v if type(e) is Dual and np.any(e.t != 0) else 0.0
        edge = any(type(ej) is Dual and ej.v == 0.0 and np.any(ej.t != 0) for ej in p)
        return s, edge

    def alternatives(self, run, choices, form):
        rows = []
        for c in choices:
            p = c.params
            pv_c = np.asarray(plain(p), dtype=float)
            k, K = c.value, c.n_outcomes
            if form == "rao_blackwell":
                for j in range(K):
                    if j != k:
                        w = run.grad_of(p, np.eye(K)[j]).ravel()
                        if w.any():
                            rows.append((c.site, j, w))
                continue
            for j, step in ((k - 1, -1), (k + 1, 1)):  # the boundary F between bins j and k moves mass
                if not 0 <= j < K:
                    continue
                sign = 1.0 if step < 0 else -1.0  # F_{k-1} rising moves mass down; F_k falling moves it up
                flux = sign * run.grad_of(p, (np.arange(K) <= min(j, k)).astype(float)).ravel()
                if pv_c[j] == 0.0:  # the other side has probability 0: it takes the whole signed flux
                    nxt = j + step
                    if 0 <= nxt < K and pv_c[nxt] == 0.0 and flux.any() and self.moves(run, c, nxt):
                        raise ValueError(
                            "StochasticDerivative(form='inverse_cdf'): a categorical choice has two adjacent "
                            "outcomes of probability 0 whose probabilities move with θ; the inverse-CDF coupling "
                            "cannot tell which receives the mass. Use form='rao_blackwell'.")
                    w = flux / pv_c[k]
                else:
                    w = np.maximum(flux, 0.0) / pv_c[k]
                if w.any():
                    rows.append((c.site, j, w))
        return rows


CATEGORICAL = Categorical()
