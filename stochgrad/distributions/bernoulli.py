"""Bernoulli(p): 1 with probability ``p``, else 0 (sampled by :func:`stochgrad.bernoulli`).

Coupling: ``k = 1`` iff ``u < p``. Score ``dp/p`` (k = 1) or ``−dp/(1 − p)``
(k = 0) (:func:`score_term`, :func:`score_terms`). Alternatives: the flip, with
weight ``±∂p/∂θ`` (Rao-Blackwellised) or the inverse-CDF density ``∂p/(1 − p)``
from 0, ``−∂p/p`` from 1 (:func:`flip_weights`). GS-STE: the logistic relaxation
of the same uniform (:func:`logistic_slope`).

The choices of one run are handled together with array operations (one
gradient array for all θ-dependent Bernoullis), because long simulations make
thousands of them. The ``batch_*`` methods are the array form used by the
vectorised mode (``p`` of shape ``()`` or ``(n,)``, one entry per sample).
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from .._dual import Dual
from ..backend import array_module
from .base import Family, plain, straight_through

__all__ = ["Bernoulli", "BERNOULLI", "grads", "flip_weights", "score_term", "score_terms", "logistic_slope"]


def score_term(k, p, g):
    """``∂ log π(k)/∂θ`` of one choice (floats): ``g/p`` for ``k = 1``, ``−g/(1 − p)`` for ``k = 0`` (``g = ∂p/∂θ``)."""
    return g / p if k else -g / (1.0 - p)


def score_terms(k, p, g):
    """:func:`score_term` on arrays (any array module): ``g / p`` or ``g / (p − 1)`` (``p − 1 = −(1 − p)`` exactly)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return g / (p - (k == 0))


def logistic_slope(pv, u, temperature, xp=np):
    """GS-STE: ``d/dp σ((logit p + logistic(u))/τ)``, the relaxed derivative of ``k = [u < p]`` (floats or arrays)."""
    eps = 1e-12
    logistic = xp.log1p(-u + eps) - xp.log(u + eps)  # k = 1 iff logit(p) + logistic > 0
    logit = xp.log(pv + eps) - xp.log1p(-pv + eps)
    s = 1.0 / (1.0 + xp.exp(-(logit + logistic) / temperature))
    return s * (1.0 - s) / temperature * (1.0 / (pv + eps) + 1.0 / (1.0 - pv + eps))


def grads(run):
    """``(choices, p (m,), ∂p/∂θ (m, θ.size))`` of the run's θ-dependent Bernoulli choices, computed once."""
    if run._bern is None:
        bern = [c for c in run.records if c.family is BERNOULLI and run.owns(c.params)]
        pv = np.array([plain(c.params) for c in bern], dtype=float)
        run._bern = (bern, pv, run.scalar_grads([c.params for c in bern]))
    return run._bern


def flip_weights(k, p, g, form="rao_blackwell"):
    """The weight of flipping ``k`` (``g = ∂p/∂θ``; floats or arrays): ``±g`` (Rao-Blackwellised), or the inverse-CDF
    density ``max(g, 0)/(1 − p)`` from 0, ``max(−g, 0)/p`` from 1 — the whole signed ``±g`` on an edge (p = 0 or 1)."""
    xp = array_module(*[a for a in (k, p, g) if hasattr(a, "shape")])
    if form == "rao_blackwell":
        return xp.where(k == 0, g, -g)
    with np.errstate(divide="ignore", invalid="ignore"):
        edge = (p == 0.0) | (p == 1.0)
        return xp.where(k == 0, np.where(edge, g, np.maximum(g, 0.0)) / (1.0 - p),
                        np.where(edge, -g, np.maximum(-g, 0.0)) / p)


class Bernoulli(Family):
    """The Bernoulli family; its recorded parameter is ``p`` itself (not a tuple)."""

    name = "bernoulli"
    params_are_probabilities = True  # the recorded parameter is the probability (vector) itself

    def sample(self, p, u):
        return 1 if u < plain(p) else 0

    def log_prob(self, p, k):
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
            total = score_terms(np.array([c.value for c in bern])[:, None], pv[:, None], G).sum(axis=0)
            edge += [c.site for c, p, g in zip(bern, pv, G) if (p == 0.0 or p == 1.0) and np.any(g != 0)]
            return total, edge
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
        return score_term(c.value, pv, g), (pv == 0.0 or pv == 1.0)

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


    # -- the array form (vectorised mode): p of shape () or (n,) ------------------------------------------------
    def batch_check(self, pv, n) -> bool:
        """Refuse ``p`` of the wrong shape or outside [0, 1] (NaN included), naming the sample.

        Returns:
            Whether some ``p`` lies on an edge (0 or 1), where :meth:`batch_edge` has to look closer.
        """
        if np.ndim(pv) not in (0, 1) or (np.ndim(pv) == 1 and pv.shape[0] != n):
            raise ValueError(f"bernoulli (vectorised): p must be a scalar or have one entry per sample, shape "
                             f"({n},), got shape {np.shape(pv)}")
        if np.ndim(pv) == 0 and not (0.0 <= pv <= 1.0):
            raise ValueError(f"bernoulli (vectorised): p must lie in [0, 1], got {pv!r}. Map an "
                             "unconstrained parameter through a sigmoid or clip it.")
        lo, hi = (pv, pv) if np.ndim(pv) == 0 else (float(pv.min()), float(pv.max()))
        if not (lo >= 0.0 and hi <= 1.0):  # NaN fails both
            i = int(array_module(pv).argmax(~((pv >= 0.0) & (pv <= 1.0))))
            raise ValueError(f"bernoulli (vectorised): p must lie in [0, 1], got {float(pv[i])!r} (sample {i}). "
                             "Map an unconstrained parameter through a sigmoid or clip it.")
        return lo == 0.0 or hi == 1.0

    def batch_sample(self, pv, u):
        return u < pv

    def batch_edge(self, pv, dp) -> bool:
        """Whether some sample sits on an edge (p = 0 or 1) that moves: its unsampled outcome carries derivative."""
        return bool(array_module(pv, dp).any(((pv == 0.0) | (pv == 1.0)) & (dp != 0)))

    def batch_score(self, pv, dp, k):
        """``∂ log π(k)/∂θ`` per sample along one direction (:func:`score_terms`)."""
        return 0.0 if np.ndim(dp) == 0 and dp == 0 else score_terms(k, pv, dp)

    def batch_candidates(self, pv, dps, k, n):
        """The flip as ``values (1, n)``, ``weights (1, n, size)``, ``mass (1, n)`` in raw form (``k``, ``dp``).

        :meth:`batch_finish` turns the picked ones into the flipped value and the signed weight
        (:func:`flip_weights`), so no per-choice work is spent on alternatives that are not picked.
        """
        xp = array_module(pv, k)
        ws = [xp.broadcast_to(dp, (n,)) for dp in dps]
        mass = xp.abs(ws[0]) if len(ws) == 1 else sum(xp.abs(w) for w in ws)
        return k[None], (ws[0][None, :, None] if len(ws) == 1 else xp.stack(ws, axis=-1)[None]), mass[None]

    def batch_finish(self, values, weights):
        """Picked raw candidates → (``1 − k``, the Rao-Blackwellised :func:`flip_weights`)."""
        return 1 - values, flip_weights(values[..., None], None, weights)

    def relax(self, trace, site, p, u, k):
        """GS-STE: ``float(k)`` forward, the derivative of the logistic relaxation of ``u`` backward (kept by site)."""
        slope = float(logistic_slope(plain(p), u, trace.temperature))
        value = trace.relaxed[site] = straight_through(p, float(k), slope)
        return value

    def batch_relaxed(self, p, pv, u, hard, temperature):
        """Hard ``k`` forward; the derivative of the logistic relaxation (:func:`logistic_slope`) per sample."""
        return straight_through(p, hard, logistic_slope(pv, u, temperature, array_module(pv, u)))


BERNOULLI = Bernoulli()
