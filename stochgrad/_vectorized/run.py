"""One vectorised run of the user's function: every choice draws for all samples at once.

A :class:`VecRun` is what the primitives (:func:`~stochgrad.bernoulli`,
:func:`~stochgrad.categorical`, :func:`~stochgrad.uniform`,
:func:`~stochgrad.select`, :func:`~stochgrad.one_hot`) delegate to while it is
active. Its mode is an object that owns what differs between runs:

* :data:`PLAIN`: θ is a number; values only (finite differences, replays).
* :data:`FORWARD`: θ is an autograd forward-mode box along one direction; the
  run records each θ-dependent choice with its parameter tangent, from which
  the score and the alternative weights follow (no reverse pass).
* :class:`Gumbel`: forward mode with GS-STE straight-through choices.

``forced`` maps a choice position to ``(sample indices, values)``: those samples
take the given value there (the alternative paths of the stochastic derivative,
a different flip for every sample in one run).
"""

from __future__ import annotations

import numpy as np
from autograd.core import JVPNode
from autograd.tracer import getval, isbox, new_box, trace_stack

import autograd.numpy as anp

from .. import _trace
from ..distributions.bernoulli import BERNOULLI
from ..distributions.categorical import CATEGORICAL, probs_from
from ._context import RUN
from .noise import stream_id
from .values import per_sample, plain

__all__ = ["VecRun", "PLAIN", "FORWARD", "Gumbel"]


class Plain:
    """Values only: θ a number, choices hard (finite differences, the stochastic derivative's replays)."""

    relaxed = False  # whether choices are relaxed (no score, no alternatives)

    def call(self, run, fn, theta, args, kwargs, tangent):
        return fn(theta, *args, **kwargs)

    def categorical(self, run, fam, pv, stream, K):
        """``(outcomes (n,), noise for the relaxation or None)`` of a categorical choice."""
        return fam.batch_sample(pv, run.noise.uniform(stream)), None

    def bernoulli_value(self, run, fam, p, pv, u, k):
        """What :func:`~stochgrad.bernoulli` returns for the outcomes ``k``."""
        return per_sample(k.astype(np.int64))

    def relax(self, run, site, fam, probs, pv, g, k, K):
        """Record the relaxed one-hot of a categorical choice (GS-STE only)."""

    def hard(self, family):
        """A θ-dependent choice of a family without a relaxation (refused under GS-STE)."""


class Forward(Plain):
    """θ an autograd forward-mode box along one direction (the tangents give pathwise term and score)."""

    def call(self, run, fn, theta, args, kwargs, tangent):
        with trace_stack.new_trace() as t:
            run.t = t
            return fn(new_box(theta, t, JVPNode.new_root(tangent)), *args, **kwargs)


class Gumbel(Forward):
    """Forward mode with GS-STE straight-through choices at ``temperature``."""

    relaxed = True

    def __init__(self, temperature):
        self.temperature = temperature

    def categorical(self, run, fam, pv, stream, K):
        return fam.batch_gumbel_sample(pv, run.noise.uniform(stream, K))

    def bernoulli_value(self, run, fam, p, pv, u, k):
        if not run.owns(p):
            return super().bernoulli_value(run, fam, p, pv, u, k)
        return fam.batch_relaxed(p, pv, u, per_sample(k.astype(float)), self.temperature)

    def relax(self, run, site, fam, probs, pv, g, k, K):
        if run.owns(probs):
            run.relaxed[site] = fam.batch_relaxed(probs, pv, g, per_sample(run.xp.eye(K)[k]), self.temperature)

    def hard(self, family):
        raise ValueError(f"GumbelSTE: {family.name} has no Gumbel-softmax relaxation, so its dependence on θ would "
                         "be silently dropped; use ScoreFunction or StochasticDerivative for this program")


PLAIN, FORWARD = Plain(), Forward()


class VecRun:
    """The recording context of one vectorised run (see module docs)."""

    def __init__(self, n, noise, xp=np, mode=PLAIN, forced=None, score=False, alternatives=False):
        self.n, self.noise, self.xp, self.mode = n, noise, xp, mode
        self.forced = forced or {}
        self.score = xp.zeros(n) if score else None  # ∂ log p(trajectory) along this run's direction
        self.score_edge = False  # a choice on an edge of its parameters: the score is not mean-zero (dropped)
        self.alternatives = [] if alternatives else None  # per θ-dependent choice: (site, family, p, dp, value)
        self.relaxed: dict = {}
        self.n_sites = 0
        self.n_uniform = 0
        self.keys: set = set()
        self.t = None  # autograd trace of the boxed θ (forward modes)

    # -- running ---------------------------------------------------------------------------------------------
    def call(self, fn, theta, args, kwargs, tangent=None):
        """Run ``fn(θ, *args, **kwargs)`` once for all samples; returns the raw output."""
        token = RUN.set(self)
        try:
            return self.mode.call(self, fn, theta, args, kwargs, tangent)
        finally:
            RUN.reset(token)

    def owns(self, x) -> bool:
        return self.t is not None and isbox(x) and x._trace == self.t

    def tangent(self, x):
        """``dx`` along this run's direction (0 when ``x`` does not depend on θ)."""
        return plain(x._node.g) if self.owns(x) else 0.0

    # -- slots -------------------------------------------------------------------------------------------------
    def _slot(self, kind, key):
        site = self.n_sites
        self.n_sites += 1
        if key is None:
            return site, stream_id("site", site)
        _trace.claim_key(self.keys, kind, key)
        return site, stream_id(kind, key)

    def _force(self, site, k):
        f = self.forced.get(site)
        if f is None:
            return k
        idx, values = f
        k = k.copy()
        k[idx] = values
        return k

    # -- primitives ----------------------------------------------------------------------------------------
    def bernoulli(self, p, key=None):
        fam = BERNOULLI
        pv = plain(getval(p))
        if not hasattr(pv, "shape") or pv.ndim == 0:
            pv = float(pv)
        edge = fam.batch_check(pv, self.n)
        site, stream = self._slot("bernoulli", key)
        u = self.noise.uniform(stream)
        k = self._force(site, fam.batch_sample(pv, u))
        if self.owns(p):
            self._derivatives(site, fam, pv, self.tangent(p), k, edge)
        return self.mode.bernoulli_value(self, fam, p, pv, u, k)

    def categorical(self, logits=None, probs=None, key=None):
        fam = CATEGORICAL
        probs = probs_from(logits, probs, self.n)
        pv = plain(getval(probs))
        K = pv.shape[-1]
        site, stream = self._slot("categorical", key)
        k, g = self.mode.categorical(self, fam, pv, stream, K)
        k = self._force(site, k)
        if self.owns(probs):
            self._derivatives(site, fam, pv, self.tangent(probs), k)
        out = per_sample(k.astype(np.int64))
        out._site, out._n_outcomes = site, K
        self.mode.relax(self, site, fam, probs, pv, g, k, K)
        return out

    def sample(self, family, params, key=None):
        """A choice of another family (the generic primitive), through the family's array form."""
        if family is BERNOULLI:
            return self.bernoulli(params[0] if isinstance(params, tuple) else params, key=key)
        continuous = not getattr(family, "discrete", True)
        if not (continuous or hasattr(family, "batch_sample")):
            raise TypeError(f"stochgrad.vectorized: the {family.name} family has no array form (batch_sample). "
                            "Use the per-sample mode (@stochgrad.stochastic) for this program.")
        if continuous and self.xp is not np:
            raise TypeError(f"stochgrad.vectorized: {family.name} runs on NumPy only; on {self.xp.__name__} "
                            "transform stochgrad.uniform() with its special functions")
        pv = tuple(p if isinstance(p, (int, np.integer)) else _host(plain(getval(p))) for p in params)
        for v in pv:
            if np.ndim(v) not in (0, 1) or (np.ndim(v) == 1 and v.shape[0] != self.n):
                raise ValueError(f"{family.name} (vectorised): each parameter must be a scalar or have one entry "
                                 f"per sample, shape ({self.n},), got shape {np.shape(v)}")
        if continuous:  # reparameterised: the family's formula on the uniforms, pathwise in θ
            x = family.transform(params, self.noise.uniform(self._slot("sample", key)[1]))
            return x if isbox(x) else per_sample(x)
        site, stream = self._slot("sample", key)
        u = _host(self.noise.uniform(stream))
        k = self._force(site, family.batch_sample(pv, u))
        if any(self.owns(p) for p in params):
            self.mode.hard(family)
            self._derivatives(site, family, pv, tuple(_host(self.tangent(p)) for p in params), k)
        return per_sample(self.xp.asarray(k))

    def _derivatives(self, site, fam, pv, dp, k, edge=True):
        """Accumulate the score and record the alternatives of a θ-dependent choice (forward modes).

        An outcome of probability 0 that moves with θ (a parameter on its edge) is never sampled, so the score
        is not mean-zero there: the stochastic derivative's control variates are dropped (``score_edge``: the
        program returns no score, as the traced mode turns them off), and the score function refuses.

        Raises:
            ValueError: the score function's score at such an edge (its estimate would be wrong).
        """
        if self.score is not None and not self.score_edge:
            if edge and fam.batch_edge(pv, dp):  # edge=False: the caller knows no parameter is on an edge
                if self.alternatives is None:
                    raise ValueError(
                        f"stochgrad.vectorized: a {fam.name} choice (site {site}) has an outcome of probability 0 "
                        "whose probability moves with θ (a parameter on its edge, e.g. bernoulli(θ) at θ = 0). No "
                        "sample sees it, so the score function cannot estimate its part of the gradient. Use "
                        "StochasticDerivative or FiniteDifference here, or keep θ inside the parameter space.")
                self.score_edge = True
            s = fam.batch_score(pv, dp, k)
            if np.ndim(s):
                self.score += self.xp.asarray(s)
        if self.alternatives is not None:
            self.alternatives.append((site, fam, pv, dp, k))

    def uniform(self, key=None):
        if key is None:
            stream = stream_id("uniform_position", self.n_uniform)
            self.n_uniform += 1
        else:
            stream = self._slot("uniform", key)[1]
            self.n_sites -= 1  # a uniform is not a choice position
        return per_sample(self.noise.uniform(stream))

    def one_hot(self, k):
        site = getattr(k, "_site", None)
        if site is None:
            raise TypeError("one_hot needs the value returned by stochgrad.categorical(...)")
        if site in self.relaxed:
            return self.relaxed[site]
        return per_sample(self.xp.eye(k._n_outcomes)[plain(k)])

    def select(self, k, options):
        """``options[k]`` per sample, differentiable through the options (and the choice under GS-STE)."""
        n = self.n
        site = getattr(k, "_site", None)
        if site is not None and site in self.relaxed:  # relaxed categorical: one-hot (n, K) · options
            oh = self.relaxed[site]
            return sum(_col(oh, j, opt) * opt for j, opt in enumerate(options))
        if isbox(k):  # a relaxed Bernoulli value
            nd = max(np.ndim(getval(options[0])), np.ndim(getval(options[1])), 1)
            kk = k if nd == 1 else anp.reshape(k, (n,) + (1,) * (nd - 1))
            return kk * options[1] + (1 - kk) * options[0]
        kv = plain(getval(k))
        if np.ndim(kv) == 0:
            return options[int(kv)]
        opts = list(options)
        if not any(isbox(o) for o in opts):  # plain options: one gather (scalars) or one np.choose
            vals = [plain(o) for o in opts]
            if all(np.ndim(v) == 0 for v in vals):
                return per_sample(self.xp.asarray(vals)[kv])
            if len(vals) <= 32 and all(np.ndim(v) <= 1 for v in vals):
                return per_sample(self.xp.choose(kv, vals))
        out = opts[-1]
        for j in range(len(opts) - 2, -1, -1):
            cond = kv == j
            a, b = opts[j], out
            nd = max(np.ndim(getval(a)), np.ndim(getval(b)), 1)
            out = anp.where(cond.reshape(cond.shape + (1,) * (nd - 1)), a, b)
        if np.ndim(getval(out)) == 0 or getval(out).shape[0] != n:
            out = out + self.xp.zeros(n)
        return out if isbox(out) else per_sample(out)


def _host(a):
    """A NumPy copy of a device array (the integer families' array form loops over the samples on the host)."""
    return a.get() if hasattr(a, "get") else a


def _col(oh, j, opt):
    c = oh[:, j]
    nd = np.ndim(getval(opt))
    return c if nd <= 1 else anp.reshape(c, (c.shape[0],) + (1,) * (nd - 1))
