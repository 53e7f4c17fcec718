"""Categorical(π): index ``k`` with probability ``π_k`` (sampled by :func:`stochgrad.categorical`).

Coupling: inverse CDF, the first ``k`` with ``u < F_k``. Score ``dπ_k/π_k``.
Alternatives: every other outcome ``j`` with weight ``∂π_j/∂θ``
(Rao-Blackwellised), or the inverse-CDF neighbours across a moving boundary
with density ``|∂F/∂θ| / π_k``. GS-STE: Gumbel-softmax (:func:`softmax_slope`).
The ``batch_*`` methods are the array form used by the vectorised mode (``π`` of
shape ``(K,)`` or ``(n, K)``, one row per sample).
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

from .._dual import Dual, normalise, value_of
from ..backend import array_module
from .base import Family, plain, straight_through

__all__ = ["Categorical", "CATEGORICAL", "inverse_cdf", "probs_from", "softmax_slope"]


def probs_from(logits, probs, n=None):
    """The probabilities (traced) from exactly one of ``logits``/``probs``, checked.

    Shape ``(K,)``; in the array form (``n`` samples) also ``(n, K)``, one row per sample.

    Raises:
        ValueError: both or neither given; a wrong shape; non-finite logits; probabilities that are
            negative, not finite or do not sum to 1.
    """
    if (logits is None) == (probs is None):
        raise ValueError("categorical: give exactly one of logits=... or probs=...")
    name = "logits" if logits is not None else "probs"
    x = normalise(logits if logits is not None else probs)
    v = getval(x) if n is not None else np.asarray(value_of(getval(x)), dtype=float)
    xp = array_module(v)
    if np.ndim(v) not in ((1,) if n is None else (1, 2)) or (np.ndim(v) == 2 and v.shape[0] != n) or v.shape[-1] < 1:
        raise ValueError(f"categorical: {name} must have shape (K,), K ≥ 1" + ("" if n is None else f", or ({n}, K) "
                         f"(one row per sample)") + f", got shape {np.shape(v)}")
    if logits is not None:
        if not bool(xp.all(xp.isfinite(v))):
            raise ValueError("categorical: logits must be finite; for an impossible outcome pass probs= with a zero "
                             "instead of a -inf logit.")
        e = anp.exp(x - xp.max(v, axis=-1, keepdims=True))
        return e / anp.sum(e, axis=-1, keepdims=True)
    if not bool(xp.all(xp.isfinite(v) & (v >= 0))) or not bool(xp.all(xp.abs(v.sum(axis=-1) - 1.0) <= 1e-6)):
        raise ValueError(f"categorical: probs must be finite, non-negative and sum to 1 (per sample), sum "
                         f"{v.sum(axis=-1)!r}; normalise them or pass logits= instead.")
    return x


def softmax_slope(pv, g, temperature, xp=np):
    """GS-STE: ``∂ softmax((log π + g)/τ) / ∂π = (diag s − s sᵀ)/τ · diag(1/π)``, shape ``(K, K)`` or ``(n, K, K)``."""
    eps = 1e-300
    with np.errstate(divide="ignore"):
        z = (xp.log(pv + eps) + g) / temperature
    e = xp.exp(z - z.max(axis=-1, keepdims=True))
    s = e / e.sum(axis=-1, keepdims=True)
    eye = xp.eye(g.shape[-1])
    return (s[..., :, None] * eye - s[..., :, None] * s[..., None, :]) / temperature / (pv + eps)[..., None, :]


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


    def relax(self, trace, site, probs, g, k):
        """GS-STE: keeps the relaxed one-hot of ``k`` (Gumbel noise ``g``, :func:`softmax_slope`) by site; returns ``k``."""
        pv = np.asarray(plain(probs), dtype=float)
        trace.relaxed[site] = straight_through(probs, np.eye(pv.size)[k], softmax_slope(pv, g, trace.temperature))
        return k

    # -- the array form (vectorised mode): π of shape (K,) or (n, K) --------------------------------------------
    def batch_sample(self, pv, u):
        """:func:`inverse_cdf` per sample."""
        xp = array_module(pv, u)
        k = (u[:, None] >= xp.cumsum(pv, axis=-1)).sum(axis=-1)
        last = pv.shape[-1] - 1 - xp.argmax(pv[..., ::-1] > 0, axis=-1)  # the last outcome of positive probability
        return xp.minimum(k, last)

    def batch_gumbel_sample(self, pv, u):
        """The Gumbel-max sample of ``K`` uniforms per sample, and the Gumbel noise."""
        xp = array_module(pv, u)
        g = -xp.log(-xp.log(u))
        with np.errstate(divide="ignore"):
            return xp.argmax(xp.log(pv) + g, axis=-1), g

    def batch_edge(self, pv, dpi) -> bool:
        """Whether some sample has an outcome of probability 0 whose probability moves."""
        xp = array_module(pv, dpi)
        return bool(xp.any((pv == 0.0) & (dpi != 0)))

    def batch_score(self, pv, dpi, k):
        """``dπ_k/π_k`` per sample along one direction."""
        xp = array_module(pv, k)
        n = k.shape[0]
        pk, dk = (xp.take_along_axis(xp.broadcast_to(a, (n, pv.shape[-1])), k[:, None], axis=1)[:, 0]
                  for a in (pv, dpi))
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.where(dk == 0, 0.0, dk / pk)

    def batch_candidates(self, pv, dpis, k, n):
        """Every other outcome ``j`` with weight ``∂π_j`` (Rao-Blackwellised): ``values, weights, mass`` (K, n, ...)."""
        xp = array_module(pv, k)
        K = pv.shape[-1]
        values = xp.broadcast_to(xp.arange(K)[:, None], (K, n))
        other = values != k[None, :]
        W = xp.stack([xp.where(other, xp.broadcast_to(d, (n, K)).T, 0.0) for d in dpis], axis=-1)  # (K, n, size)
        return values, W, xp.abs(W).sum(axis=-1)

    def batch_finish(self, values, weights):
        return values, weights

    def batch_relaxed(self, probs, pv, g, hard, temperature):
        """Hard one-hot ``hard`` forward; the derivative of ``softmax((log π + g)/τ)`` (GS-STE), shape (n, K)."""
        return straight_through(probs, hard, softmax_slope(pv, g, temperature, array_module(pv, g)))


CATEGORICAL = Categorical()
