"""Bernoulli(p): 1 with probability ``p``, else 0 (sampled by :func:`stochgrad.bernoulli`).

Coupling: ``k = 1`` iff ``u < p``. Score ``dp/p`` (k = 1) or ``−dp/(1 − p)``
(k = 0). Alternatives: the flip, with weight ``±∂p/∂θ`` (Rao-Blackwellised) or
the inverse-CDF density ``∂p/(1 − p)`` from 0, ``−∂p/p`` from 1. GS-STE: the
logistic relaxation of the same uniform (in :mod:`stochgrad._trace`).

The choices of one run are handled together with array operations (one
gradient array for all θ-dependent Bernoullis), because long simulations make
thousands of them.
"""

from __future__ import annotations

import numpy as np

from .._dual import Dual
from .base import Family, plain

__all__ = ["Bernoulli", "BERNOULLI", "grads", "flip_weights"]


def grads(run):
    """``(choices, p (m,), ∂p/∂θ (m, θ.size))`` of the run's θ-dependent Bernoulli choices, computed once."""
    if run._bern is None:
        dual = getattr(run, "_dual_bernoulli", None)  # a dual-number run reads them off its values in one pass
        if dual is not None and dual():
            return run._bern
        bern = [c for c in run.records if c.family is BERNOULLI and run.owns(c.params)]
        pv = np.array([plain(c.params) for c in bern], dtype=float)
        run._bern = (bern, pv, run.scalar_grads([c.params for c in bern]))
    return run._bern


def flip_weights(k, p, g, form="rao_blackwell"):
    """The weight of flipping ``k`` (``g = ∂p/∂θ``; floats or arrays): ``±g`` (Rao-Blackwellised), or the inverse-CDF
    density ``max(g, 0)/(1 − p)`` from 0, ``max(−g, 0)/p`` from 1 — the whole signed ``±g`` on an edge (p = 0 or 1)."""
    if form == "rao_blackwell":
        return np.where(k == 0, g, -g)
    with np.errstate(divide="ignore", invalid="ignore"):
        edge = (p == 0.0) | (p == 1.0)
        return np.where(k == 0, np.where(edge, g, np.maximum(g, 0.0)) / (1.0 - p),
                        np.where(edge, -g, np.maximum(-g, 0.0)) / p)


class Bernoulli(Family):
    """The Bernoulli family; its recorded parameter is ``p`` itself (not a tuple)."""

    name = "bernoulli"
    params_are_probabilities = True  # the recorded parameter is the probability (vector) itself

    def sample(self, p, u):
        return 1 if u < plain(p) else 0

    def log_prob(self, p, k):
        import autograd.numpy as anp
        return anp.log(p) if k else anp.log(1.0 - p)

    def prob(self, p, k):
        return p if k == 1 else 1 - p

    def n_outcomes(self, p):
        return 2

    def depends(self, run, p):
        return run.owns(p)

    def first(self, p) -> int:
        return 0 if plain(p) < 1.0 else 1

    def outcomes(self, p, tail=0.0):
        pv = float(plain(p))
        return [v for v in (0, 1) if (pv if v else 1.0 - pv) > 0], 0.0

    def moves(self, run, c, v) -> bool:
        """Whether outcome ``v``'s probability depends on θ."""
        return run.owns(c.params) and bool(np.any(run.grad_of(c.params) != 0))

    def enumeration_order(self, run, c):
        """Outcomes Exact explores at this choice: positive probability, or zero probability that moves."""
        first = self.first(c.params)
        pv = float(plain(c.params))
        order = [first, 1 - first]
        return [v for v in order if (pv if v else 1.0 - pv) > 0 or self.moves(run, c, v)]

    def score(self, run, choices):
        edge = []
        if run.forward or run._bern is not None:  # d log p = dp/p (k = 1), −dp/(1 − p) (k = 0)
            bern, pv, G = grads(run)
            k = np.array([c.value for c in bern])[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                total = np.where(G == 0, 0.0, np.where(k == 1, G / pv[:, None], -G / (1.0 - pv[:, None]))).sum(axis=0)
            edge += [c.site for c, p, g in zip(bern, pv, G) if (p == 0.0 or p == 1.0) and np.any(g != 0)]
            return total, edge
        import autograd.numpy as anp
        for c in choices:
            pv = plain(c.params)
            if (pv == 0.0 or pv == 1.0) and self.moves(run, c, 1):
                edge.append(c.site)
        cot = np.array([1.0 / plain(c.params) if c.value else -1.0 / (1.0 - plain(c.params)) for c in choices])
        return np.ravel(run.grad_of(anp.array([c.params for c in choices]), cot)), edge

    def dual_score(self, run, c):
        """Score and boundary flag of one choice of a dual-number run (Python floats, the hot path)."""
        p = c.params
        if type(p) is not Dual:
            return 0.0, False
        g, pv = p.t, p.v
        if (g == 0.0) if type(g) is float else not np.any(g != 0):
            return 0.0, False
        return (g / pv if c.value else -g / (1.0 - pv)), (pv == 0.0 or pv == 1.0)

    def alternatives(self, run, choices, form):
        bern, pv, g = grads(run)
        if not bern:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, run.theta_size))
        k = np.array([c.value for c in bern])[:, None]
        pv = pv[:, None]
        w = flip_weights(k, pv, g, form)
        keep = (w != 0).any(axis=1)
        sites = np.array([c.site for c in bern], dtype=np.int64)[keep]
        return sites, 1 - k[keep, 0], w[keep]


BERNOULLI = Bernoulli()
