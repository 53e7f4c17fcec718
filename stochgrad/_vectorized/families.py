"""Vectorised choice families: sampling from the keyed noise, score, alternatives and relaxation.

A family is a small object with the methods below; :data:`FAMILIES` maps the
primitive's name to it. Adding a family (binomial, poisson, ...) to the
vectorised mode is one class here plus the two-line delegation in its primitive.

Conventions (the same couplings as the per-sample mode, see ``stochgrad._trace``):
``bernoulli(p)`` is ``u < p``; ``categorical`` is the inverse CDF of ``u``;
under GS-STE a Bernoulli uses the same ``u`` through the logistic transform and a
categorical one Gumbel per category.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.extend import defjvp, primitive
from autograd.tracer import getval

__all__ = ["Bernoulli", "Categorical", "FAMILIES"]


@primitive
def _straight_through(p, hard, jac):
    """Value ``hard``; forward derivative ``jac · dp`` per sample (one autograd op)."""
    return hard


defjvp(_straight_through, lambda g, ans, p, hard, jac: jac * g)


@primitive
def _straight_through_onehot(probs, hard, jac):
    """Value ``hard`` (n, K); forward derivative ``jac (n, K, K) @ dπ`` per sample."""
    return hard


defjvp(_straight_through_onehot,
       lambda g, ans, probs, hard, jac: np.einsum("nij,nj->ni", jac, np.broadcast_to(g, hard.shape)))


class Bernoulli:
    """``k ~ Bernoulli(p)`` per sample; ``p`` of shape ``()`` or ``(n,)``."""

    name = "bernoulli"
    width = 1  # uniforms per sample

    @staticmethod
    def check(pv, n):
        if np.ndim(pv) not in (0, 1) or (np.ndim(pv) == 1 and pv.shape[0] != n):
            raise ValueError(f"bernoulli (vectorised): p must be a scalar or have one entry per sample, shape "
                             f"({n},), got shape {np.shape(pv)}")
        if np.ndim(pv) == 0:
            if not (0.0 <= pv <= 1.0):  # also NaN
                raise ValueError(f"bernoulli (vectorised): p must lie in [0, 1], got {pv!r}. Map an "
                                 "unconstrained parameter through a sigmoid or clip it.")
            return
        if not (float(pv.min()) >= 0.0 and float(pv.max()) <= 1.0):  # two reductions; NaN fails both
            xp = _xp(pv)
            i = int(xp.argmax(~((pv >= 0.0) & (pv <= 1.0))))
            raise ValueError(f"bernoulli (vectorised): p must lie in [0, 1], got {float(pv[i])!r} (sample {i}). "
                             "Map an unconstrained parameter through a sigmoid or clip it.")

    @staticmethod
    def sample(pv, u):
        return u < pv

    @staticmethod
    def score(pv, dp, k):
        """``∂ log π(k) / ∂θ`` along one direction: ``dp/p`` if ``k`` else ``−dp/(1 − p)``."""
        if np.ndim(dp) == 0 and dp == 0:
            return 0.0
        d = pv + k  # p + 1 if k else p: the score is dp/p if k else −dp/(1 − p) = dp/(p − 1)
        d -= 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.divide(dp, d, out=d) if type(d) is np.ndarray else dp / d

    @staticmethod
    def candidates(pv, dps, k, n):
        """Rao-Blackwellised alternative: the flip, weight ``+dp`` from 0 and ``−dp`` from 1.

        Args: ``dps``, the tangents of ``p`` along each θ component. Returns
        ``values (1, n)``, ``weights (1, n, size)`` and ``mass (1, n)`` (``Σ |weight|``)
        in *raw* form: the sampled ``k`` and the tangents ``dp``, turned into the
        flipped value and the signed weight by :meth:`finish` on the picked
        alternatives only (no per-choice work for the ones not picked).
        """
        xp = _xp(pv, k)
        ws = [xp.broadcast_to(dp, (n,)) for dp in dps]
        mass = xp.abs(ws[0]) if len(ws) == 1 else sum(xp.abs(w) for w in ws)
        return k[None], (ws[0][None, :, None] if len(ws) == 1 else xp.stack(ws, axis=-1)[None]), mass[None]

    @staticmethod
    def finish(values, weights):
        """Picked raw candidates → (flipped value, signed weight): ``1 − k`` and ``−dp`` if ``k`` else ``dp``."""
        xp = _xp(values, weights)
        return 1 - values, xp.where(values[..., None] == 1, -weights, weights)

    @staticmethod
    def relaxed(p, pv, u, k, temperature):
        """Hard ``k`` forward; derivative of ``σ((logit p + logistic noise)/τ)`` (GS-STE)."""
        xp = _xp(pv, u)
        eps = 1e-12
        logistic = xp.log1p(-u + eps) - xp.log(u + eps)  # k = 1 iff logit p + logistic > 0
        logit = xp.log(pv + eps) - xp.log1p(-pv + eps)
        s = 1.0 / (1.0 + xp.exp(-(logit + logistic) / temperature))
        jac = s * (1.0 - s) / temperature * (1.0 / (pv + eps) + 1.0 / (1.0 - pv + eps))
        return _straight_through(p, _per_sample(k.astype(float)), jac)


class Categorical:
    """``k ~ Categorical(π)`` per sample; ``π`` of shape ``(K,)`` or ``(n, K)``."""

    name = "categorical"
    width = 1

    @staticmethod
    def probs(logits, probs, n):
        if (logits is None) == (probs is None):
            raise ValueError("categorical: give exactly one of logits=... or probs=...")
        x = logits if logits is not None else probs
        v = getval(x)
        xp = _xp(v)
        if np.ndim(v) not in (1, 2) or (np.ndim(v) == 2 and v.shape[0] != n) or v.shape[-1] < 1:
            raise ValueError(f"categorical (vectorised): {'logits' if logits is not None else 'probs'} must have "
                             f"shape (K,) or ({n}, K) (one row per sample), got {np.shape(v)}")
        if logits is not None:
            if not bool(xp.all(xp.isfinite(v))):
                raise ValueError("categorical: logits must be finite; for an impossible outcome pass probs= "
                                 "with a zero instead of a -inf logit.")
            z = logits - xp.max(v, axis=-1, keepdims=True)
            e = anp.exp(z)
            return e / anp.sum(e, axis=-1, keepdims=True)
        if not bool(xp.all(xp.isfinite(v) & (v >= 0))) or not bool(xp.all(xp.abs(v.sum(axis=-1) - 1.0) <= 1e-6)):
            raise ValueError("categorical: probs must be finite, non-negative and sum to 1 (per sample); "
                             "normalise them or pass logits= instead.")
        return probs

    @staticmethod
    def sample(pv, u):
        """Inverse CDF per sample; rounding at the top end never gives an outcome of probability 0."""
        xp = _xp(pv, u)
        K = pv.shape[-1]
        c = xp.cumsum(pv, axis=-1)
        k = (u[:, None] >= c).sum(axis=-1)
        last = K - 1 - xp.argmax(pv[..., ::-1] > 0, axis=-1)  # the last outcome of positive probability
        return xp.minimum(k, last)

    @staticmethod
    def gumbel_sample(pv, u):
        xp = _xp(pv, u)
        g = -xp.log(-xp.log(u))
        with np.errstate(divide="ignore"):
            return xp.argmax(xp.log(pv) + g, axis=-1), g

    @staticmethod
    def score(pv, dpi, k):
        """``∂ log π_k / ∂θ`` along one direction: ``dπ_k / π_k``."""
        xp = _xp(pv, k)
        n = k.shape[0]
        pk = xp.take_along_axis(xp.broadcast_to(pv, (n, pv.shape[-1])), k[:, None], axis=1)[:, 0]
        dk = xp.take_along_axis(xp.broadcast_to(dpi, (n, pv.shape[-1])), k[:, None], axis=1)[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.where(dk == 0, 0.0, dk / pk)

    @staticmethod
    def candidates(pv, dpis, k, n):
        """Rao-Blackwellised alternatives: every other outcome ``j`` with weight ``∂π_j`` (0 for ``j = k``).

        Returns ``values (K, n)``, ``weights (K, n, size)``, ``mass (K, n)``.
        """
        xp = _xp(pv, k)
        K = pv.shape[-1]
        values = xp.broadcast_to(xp.arange(K)[:, None], (K, n))
        other = values != k[None, :]
        ws = [xp.where(other, xp.broadcast_to(d, (n, K)).T, 0.0) for d in dpis]  # (K, n) each
        W = xp.stack(ws, axis=-1)
        return values, W, xp.abs(W).sum(axis=-1)

    @staticmethod
    def finish(values, weights):
        return values, weights

    @staticmethod
    def relaxed(probs, pv, g, k, temperature):
        """Hard one-hot forward; derivative of ``softmax((log π + g)/τ)`` (GS-STE), shape (n, K)."""
        xp = _xp(pv, g)
        n, K = g.shape
        eps = 1e-300
        with np.errstate(divide="ignore"):
            z = (xp.log(pv + eps) + g) / temperature
        e = xp.exp(z - z.max(axis=-1, keepdims=True))
        s = e / e.sum(axis=-1, keepdims=True)
        eye = xp.eye(K)
        jac = (s[:, :, None] * eye - s[:, :, None] * s[:, None, :]) / temperature / (pv + eps)[..., None, :]
        return _straight_through_onehot(probs, _per_sample(eye[k]), jac)


def _per_sample(a):
    from .values import per_sample

    return per_sample(a)


def _xp(*arrays):
    from ..backend import array_module

    return array_module(*[a for a in arrays if hasattr(a, "shape")])


FAMILIES = {"bernoulli": Bernoulli, "categorical": Categorical}
