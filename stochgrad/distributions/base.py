"""The family interface every distribution implements.

A *family* (``Binomial``, ``Poisson``, ...) is a stateless object; a traced
choice records the family together with its *parameters* (possibly dual
numbers or autograd boxes carrying their dependence on θ). Everything the
tracer and the estimators need from a distribution is a method of its family:

* :meth:`Family.sample` — the outcome for the replayed uniform ``u`` (inverse-CDF
  coupling, the same for every estimator, so runs can be replayed);
* :meth:`Family.log_prob` — ``log π(k)`` as a traced value (its θ-derivative is the score);
* :meth:`Family.outcomes` — the support for :class:`~stochgrad.Exact`, truncated with a
  stated tail bound when it is countable;
* :meth:`Family.alternatives` — the stochastic derivative's alternative outcomes and weights;
* :meth:`Family.relax` — the GS-STE relaxation where one exists;
* for continuous families, :meth:`ContinuousFamily.transform` — the reparameterised sample.

The tracer, :class:`~stochgrad.Exact`, the score function and the stochastic
derivative call these methods and never look at the family's name, so a new
family is one new module (see ``docs/distributions.md``).
"""

from __future__ import annotations

import abc

import math

import autograd.numpy as anp
import numpy as np
from autograd.extend import defjvp, defvjp, primitive
from autograd.tracer import getval

from .._dual import Dual, value_of

__all__ = ["Family", "IntegerFamily", "ContinuousFamily", "plain", "scalar_param", "straight_through", "TAIL",
           "MAX_OUTCOMES"]

TAIL = 1e-12  # default probability mass Exact may leave out of a countable support
MAX_OUTCOMES = 100_000  # Exact refuses a choice with more outcomes than this (its default trace budget)


def plain(x):
    """The plain float value of a parameter (strips dual numbers and autograd boxes)."""
    return value_of(getval(x))


def scalar_param(name: str, family: str, x, low=None, high=None, open_low=False, open_high=False) -> float:
    """Validate a scalar parameter and return its plain value.

    Raises:
        ValueError: not a scalar, not finite, or outside ``[low, high]`` (open ends as flagged).
    """
    v = plain(x)
    if np.ndim(v) != 0:
        raise ValueError(f"{family}: {name} must be a scalar, got shape {np.shape(v)}")
    v = float(v)
    bad = not math.isfinite(v)
    if low is not None:
        bad = bad or v < low or (open_low and v == low)
    if high is not None:
        bad = bad or v > high or (open_high and v == high)
    if bad:
        lo = "(" if open_low else "["
        hi = ")" if open_high else "]"
        raise ValueError(f"{family}: {name} must lie in {lo}{low if low is not None else '-inf'}, "
                         f"{high if high is not None else 'inf'}{hi}, got {v!r}")
    return v


class Family(abc.ABC):
    """Base class of discrete families (methods take the recorded parameters ``params``, a tuple).

    Attributes:
        name: a short name (for messages and :attr:`Choice.kind <stochgrad.Choice>`).
        discrete: ``True``; continuous families override it.
    """

    name = "family"
    discrete = True

    def check(self, *args) -> tuple:
        """Validate the user's arguments; return the parameter tuple recorded with the choice.

        Families whose primitive validates its own arguments (``bernoulli``,
        ``categorical``) do not override it.
        """
        raise TypeError(f"{self.name}: this family validates its arguments in its own primitive "
                        "(it has no generic check)")

    @abc.abstractmethod
    def sample(self, params, u: float) -> int:
        """The outcome for the uniform ``u`` (inverse CDF on the plain parameter values)."""

    def log_prob(self, params, k):
        """``log π(k)``, traced (differentiable in the parameters).

        Reparameterised continuous families have none: their θ-dependence flows
        through the sample, and they add nothing to the score.
        """
        raise TypeError(f"{self.name}: a reparameterised family has no log-probability in stochgrad "
                        "(its gradient is pathwise)")

    def prob(self, params, k):
        """``π(k)``, traced (used by :class:`~stochgrad.Exact`)."""
        return anp.exp(self.log_prob(params, k))

    @abc.abstractmethod
    def outcomes(self, params, tail: float = TAIL):
        """``(outcomes, tail_bound)``: the outcomes of positive probability, in order, for Exact.

        A countable support is truncated so that the probability left out is at
        most ``tail_bound`` (``0`` for finite supports).
        """

    def n_outcomes(self, params) -> int:
        """Number of outcomes (``-1`` for a countable support)."""
        return -1

    def relax(self, trace, site, params, u, k):
        """GS-STE: what a choice whose parameters depend on θ returns under GumbelSTE, or ``None`` (no relaxation).

        ``trace.temperature`` is τ; a relaxed value :func:`~stochgrad.select` needs goes in ``trace.relaxed[site]``.
        """
        return None

    def depends(self, run, params) -> bool:
        """Whether any parameter depends on θ in ``run``."""
        return any(run.owns(p) for p in params)

    def first(self, params):
        """The outcome an unforced choice takes while Exact enumerates (its first outcome)."""
        return self.outcomes(params)[0][0]

    def moves(self, run, c, v) -> bool:
        """Whether the probability of outcome ``v`` of the recorded choice ``c`` depends on θ."""
        return self.depends(run, c.params) and bool(np.any(run.grad_of(self.prob(c.params, v)) != 0))

    def enumeration_order(self, run, c):
        """The outcomes Exact explores at choice ``c``, starting with :meth:`first`."""
        return self.outcomes(c.params)[0]

    def moving_edges(self, run, c) -> list:
        """Outcomes of choice ``c`` of probability 0 whose probability moves with θ in ``run`` (none by default)."""
        return []

    def dual_score(self, run, c):
        """``(∇θ log π(value), on a boundary)`` of one choice of a dual-number run."""
        if not self.depends(run, c.params):
            return 0.0, False
        return np.ravel(run.grad_of(self.log_prob(c.params, c.value))), bool(self.moving_edges(run, c))

    def score(self, run, choices):
        """``Σ ∇θ log π(value)`` over ``choices`` (all of this family), shape ``(θ.size,)``, and boundary sites.

        The default differentiates :meth:`log_prob` of each choice.
        """
        total = np.zeros(run.theta_size)
        for c in choices:
            total = total + np.ravel(run.grad_of(self.log_prob(c.params, c.value)))
        return total, [c.site for c in choices if self.moving_edges(run, c)]

    @abc.abstractmethod
    def alternatives(self, run, choices, form):
        """The stochastic derivative's alternatives: a list of ``(site, value, weight (θ.size,))``.

        ``weight · (f(alternative) − f)`` summed over the list is the discrete
        part of the derivative of this sample.
        """

    def __repr__(self):
        return f"<family {self.name}>"


class IntegerFamily(Family):
    """Integer-valued families: exact inverse-CDF sampling and ±1-neighbour alternatives.

    Subclasses give :meth:`prob` / :meth:`log_prob` (traced), :meth:`cdf_value` and :meth:`cdf_partials`
    (plain), :meth:`bounds`, and where they have them :meth:`support`, :meth:`edge_outcomes`, :meth:`guess`.
    Sampling gallops from the guess over :meth:`below`: O(log) CDF evaluations whatever the parameter.
    The stochastic derivative uses the inverse-CDF coupling (Arya et al. 2022): the boundary ``F(b)``
    carries the flux ``−∂F(b)/∂θ`` from ``b`` to ``b + 1``; its positive part goes to the sample ``b``
    (alternative ``b + 1``, density ``flux / π(b)``), its negative part to ``b + 1``. When one side has
    probability 0 (a parameter on its edge) the other takes the whole signed flux, so the derivative stays
    unbiased there. Only neighbours move (a Binomial's variance stays near that of its Bernoulli form).
    """

    @abc.abstractmethod
    def cdf_value(self, pv, k: int) -> float:
        """``F(k) = P(X ≤ k)`` for plain parameter values ``pv`` (``lo ≤ k < hi``)."""

    def sf_value(self, pv, k: int) -> float:
        """``1 − F(k)`` for plain parameter values (override where a direct form is more accurate in the tail)."""
        return 1.0 - self.cdf_value(pv, k)

    def below(self, pv, u: float, k: int) -> bool:
        """``u < F(k)``, decided on the survival function in the upper half (where ``1 − u`` is exact)."""
        return u < self.cdf_value(pv, k) if u <= 0.5 else self.sf_value(pv, k) < 1.0 - u

    @abc.abstractmethod
    def cdf_partials(self, pv, k: int) -> list:
        """``[∂F(k)/∂param_i]`` for plain parameter values (0 for fixed parameters)."""

    def cdf(self, params, k):
        """``F(k)``, traced (its derivative is :meth:`cdf_partials`)."""
        pv = self.values(params)
        lo, hi = self.bounds(pv)
        if k < lo:
            return 0.0
        if hi is not None and k >= hi:
            return 1.0
        return implicit(self.cdf_value(pv, k), self.cdf_partials(pv, k), params)

    def bounds(self, pv):
        """``(lowest outcome, highest outcome or None)`` of the family's range for plain parameter values."""
        return 0, None

    def support(self, pv):
        """``(first, last or None)``: the outcomes of positive probability (narrower than :meth:`bounds` at an edge)."""
        return self.bounds(pv)

    def edge_outcomes(self, pv) -> tuple:
        """Outcomes of probability 0 whose probability may move with the parameters (a parameter on its edge)."""
        return ()

    def guess(self, pv, u: float) -> int:
        """A starting point for the inverse-CDF search (the closer, the fewer CDF evaluations)."""
        return self.support(pv)[0]

    def values(self, params):
        """The parameters as plain numbers (integers stay integers)."""
        return tuple(p if isinstance(p, (int, np.integer)) else float(plain(p)) for p in params)

    def sample(self, params, u):
        return self.ppf(self.values(params), u)

    def ppf(self, pv, u: float) -> int:
        """The smallest ``k`` with ``u < F(k)`` (exact inverse CDF; O(log) evaluations of :meth:`below`)."""
        lo, hi = self.support(pv)
        if hi is not None and (hi == lo or not self.below(pv, u, hi - 1)):
            return hi
        g = self.guess(pv, u)
        g = lo if not math.isfinite(g) or g < lo else int(g) if hi is None else min(int(g), hi - 1)
        step, below = 1, self.below(pv, u, g)
        a, b = (g - 1, g) if below else (g, g + 1)  # gallop until F(a) ≤ u < F(b) (F(lo − 1) = 0)
        while below and a >= lo and self.below(pv, u, a):
            a, b, step = a - step, a, 2 * step
        while not below and not self.below(pv, u, b):  # below(hi − 1) holds: b stays under hi
            a, b, step = b, b + step if hi is None else min(b + step, hi - 1), 2 * step
        a = max(a, lo - 1)
        while b - a > 1:
            m = (a + b) // 2
            a, b = (a, m) if self.below(pv, u, m) else (m, b)
        return b

    def outcomes(self, params, tail=TAIL):
        pv = self.values(params)
        lo, hi = self.support(pv)
        top = self.ppf(pv, 1.0 - tail)  # the smallest K with P(X > K) < tail
        if top - lo + 1 > MAX_OUTCOMES:
            raise ValueError(f"Exact: {self.name}{pv} has {top - lo + 1} outcomes (its support up to a tail of "
                             f"{tail:g}), more than the {MAX_OUTCOMES} that enumeration allows for one choice; "
                             "use a sampling estimator (ScoreFunction, StochasticDerivative)")
        left = 0.0 if top == hi else max(0.0, self.sf_value(pv, top))
        return list(range(lo, top + 1)), left

    def n_outcomes(self, params):
        hi = self.bounds(self.values(params))[1]
        return -1 if hi is None else hi - self.bounds(self.values(params))[0] + 1

    def moving_edges(self, run, c) -> list:
        """The :meth:`edge_outcomes` of choice ``c`` whose probability moves with θ in ``run``."""
        edges = self.edge_outcomes(self.values(c.params))
        return [v for v in edges if self.moves(run, c, v)] if edges else []

    def enumeration_order(self, run, c):
        """Outcomes of positive probability, then those of probability 0 that move with θ (their ``f`` enters the gradient)."""
        return self.outcomes(c.params)[0] + self.moving_edges(run, c)

    def alternatives(self, run, choices, form):
        rows = []
        for c in choices:
            k = c.value
            pv = self.values(c.params)
            pk = float(plain(self.prob(pv, k)))
            if pk <= 0:
                continue
            if abs(k) >= 1 << 62:
                raise ValueError(f"StochasticDerivative: {self.name} sampled {k}, too large for the alternative "
                                 "paths' integer arrays (|k| < 2^62); use ScoreFunction for this program")
            lo, hi = self.support(pv)
            edges = self.edge_outcomes(pv)
            for alt, sign, b in ((k + 1, -1.0, k), (k - 1, 1.0, k - 1)):  # boundary F(b) between b and b + 1
                if alt in edges:  # the other side has probability 0: it takes the whole signed flux
                    w = sign * np.ravel(run.grad_of(self.cdf(c.params, b))) / pk
                elif lo <= alt and (hi is None or alt <= hi):
                    w = np.maximum(sign * np.ravel(run.grad_of(self.cdf(c.params, b))), 0.0) / pk
                else:
                    continue
                if w.any():
                    rows.append((c.site, alt, w))
        return rows


    # -- the array form (vectorised mode): each parameter a number or one entry per sample ---------------------
    # Written once for every integer family on top of its scalar methods (a loop over the samples): the tangents
    # ride on dual numbers, so the score and the alternatives are the per-sample mode's, sample by sample.
    def batch_sample(self, pv, u):
        """The inverse CDF of ``u (n,)`` per sample; ``pv`` the parameters' plain values (numbers or ``(n,)``)."""
        return np.array([self.ppf(q, float(ui)) for q, ui in zip(_rows(pv, len(u)), u)], dtype=np.int64)

    def _duals(self, pv, dps, n):
        """Per sample: the parameters as dual numbers whose tangents are ``dps`` (one tuple per θ direction)."""
        for i, q in enumerate(_rows(pv, n)):
            ts = [[float(np.broadcast_to(d[j], (n,))[i]) for d in dps] for j in range(len(q))]
            yield tuple(Dual(float(v), np.array(t)) if any(t) else v for v, t in zip(q, ts)), q

    def batch_edge(self, pv, dp) -> bool:
        """Whether some sample has an outcome of probability 0 whose probability moves (a parameter on its edge)."""
        n = max([np.size(v) for v in pv])
        return any(_tangent(self.prob(d, v)).any() for d, q in self._duals(pv, [dp], n) for v in self.edge_outcomes(q))

    def batch_score(self, pv, dp, k):
        """``∂ log π(k)/∂θ`` per sample along one direction (``dp``: the parameters' tangents)."""
        return np.array([_tangent(self.log_prob(d, int(ki)))[0] for (d, q), ki in zip(self._duals(pv, [dp], len(k)), k)])

    def batch_candidates(self, pv, dps, k, n):
        """The neighbours ``k ± 1`` with the inverse-CDF weights of :meth:`alternatives`: ``(2, n)``, ``(2, n, size)``."""
        values, weights = np.repeat(np.asarray(k)[None], 2, axis=0), np.zeros((2, n, len(dps)))
        probe = _Probe()
        for i, (d, q) in enumerate(self._duals(pv, dps, n)):
            probe.value = int(k[i])
            for site, alt, w in self.alternatives(probe, [_Choice(d, int(k[i]))], "inverse_cdf"):
                r = int(alt > k[i])
                values[r, i], weights[r, i] = alt, w
        return values, weights, np.abs(weights).sum(axis=-1)

    def batch_finish(self, values, weights):
        return values, weights


def _rows(pv, n):
    """Per-sample tuples of parameter values (numbers are shared by all samples; integers stay integers)."""
    cols = [v if np.ndim(v) == 0 else np.asarray(v) for v in pv]
    return [tuple(c if np.ndim(c) == 0 else (int(c[i]) if c.dtype.kind in "iu" else float(c[i])) for c in cols)
            for i in range(n)]


def _tangent(x):
    return np.atleast_1d(x.t) if type(x) is Dual else np.zeros(1)


class _Choice:
    site = 0

    def __init__(self, params, value):
        self.params, self.value = params, value


class _Probe:
    """The part of a run :meth:`IntegerFamily.alternatives` reads: derivatives off dual numbers."""

    grad_of = staticmethod(_tangent)


class ContinuousFamily(Family):
    """Reparameterised continuous families: the sample is a traced function of the parameters and ``u``.

    θ-derivatives flow through the sample itself (the pathwise gradient); such
    a choice adds nothing to the score and has no alternatives. Exact cannot
    enumerate it.
    """

    discrete = False

    @abc.abstractmethod
    def transform(self, params, u: float):
        """The sample for uniform ``u``, traced in the parameters."""

    def sample(self, params, u):
        return float(plain(self.transform(tuple(plain(p) for p in params), u)))

    def outcomes(self, params, tail=TAIL):
        raise ValueError(f"Exact() enumerates discrete choices only; {self.name} is continuous "
                         "(use a sampling estimator)")

    def score(self, run, choices):
        return np.zeros(run.theta_size), []

    def alternatives(self, run, choices, form):
        return []


@primitive
def straight_through(x, hard, jac):
    """Value ``hard``; derivative ``jac`` times that of ``x`` (GS-STE), as one autograd op.

    ``jac``: a number, or one per sample (elementwise); a matrix (one choice's relaxed one-hot over its
    probabilities); or one matrix per sample, ``(n, K, K)``.
    """
    return hard


def _jvp(g, ans, x, hard, jac):
    nd = np.ndim(jac)
    return jac * g if nd <= 1 else jac @ g if nd == 2 else np.einsum("nij,nj->ni", jac, np.broadcast_to(g, hard.shape))


defjvp(straight_through, _jvp)
defvjp(straight_through, lambda ans, x, hard, jac: (lambda g: jac * g) if np.ndim(jac) == 0 else (lambda g: g @ jac))


def implicit(value: float, partials, params):
    """``value`` carrying the derivative ``Σ_i partials[i] · d params[i]`` (dual numbers or autograd boxes).

    Built as ``value + Σ partials[i] · (params[i] − plain(params[i]))``: each
    bracket is exactly 0 in value and has the parameter's derivative, so the
    result equals ``value`` and differentiates as an implicit function.
    """
    out = value
    for d, p in zip(partials, params):
        if not isinstance(p, (int, float)) and d != 0:
            out = out + d * (p - plain(p))
    return out
