"""Small example programs with known answers: Sin&Cos, the three-option cut, a random walk.

Each comes traced (a :func:`~stochgrad.stochastic` function) and, where it is
natural, batched (a :class:`~stochgrad.BatchedProgram`), with its exact
expectation and derivative for checking estimators.
"""

from __future__ import annotations

from . import numpy as anp  # the fast namespace (a drop-in for autograd.numpy, same numbers)
import numpy as np
from autograd import grad as _agrad

from ._batched import BatchSamples, batched
from ._trace import bernoulli, categorical, select, stochastic

__all__ = ["sincos", "sincos_arith", "sincos_batched", "sincos_exact", "three_cut", "three_cut_exact", "random_walk",
           "random_walk_exact"]


def _sigmoid(x):
    return 1.0 / (1.0 + anp.exp(-x))


@stochastic
def sincos(theta):
    """Sin&Cos (seed talk): ``k ~ Ber(σ(θ))``, ``f = sin θ if k else cos θ`` (branching form)."""
    k = bernoulli(_sigmoid(theta))
    return anp.sin(theta) if k else anp.cos(theta)


@stochastic
def sincos_arith(theta):
    """Sin&Cos written arithmetically, ``f = k sin θ + (1 − k) cos θ`` (usable by GS-STE)."""
    k = bernoulli(_sigmoid(theta))
    return k * anp.sin(theta) + (1 - k) * anp.cos(theta)


def sincos_exact(theta):
    """``(E[f], dE[f]/dθ)`` for Sin&Cos: ``E[f] = σ(θ) sin θ + (1 − σ(θ)) cos θ``."""
    s = 1.0 / (1.0 + np.exp(-theta))
    value = s * np.sin(theta) + (1 - s) * np.cos(theta)
    deriv = s * (1 - s) * (np.sin(theta) - np.cos(theta)) + s * np.cos(theta) - (1 - s) * np.sin(theta)
    return value, deriv


def _sincos_batch(theta, n, seed, want, xp=np):
    rng = xp.random.default_rng(seed)
    u = rng.random(n)
    p = 1.0 / (1.0 + np.exp(-theta))
    k = u < p
    s, c = np.sin(theta), np.cos(theta)
    value = xp.where(k, s, c)
    pathwise = xp.where(k, c, -s)
    score = xp.where(k, 1.0 - p, -p) if want.score else None
    alt_w = alt_d = None
    if want.alternatives:  # dp/dθ = p(1-p) > 0: only k = 0 can flip (to 1), density p'/(1-p) = p
        alt_w = xp.where(k, 0.0, p)
        alt_d = xp.where(k, 0.0, s - c)
    if want.temperature is not None:  # straight-through: d/dθ of σ((θ + L)/τ), L = logit(1 - u)
        L = xp.log1p(-u) - xp.log(u)
        r = 1.0 / (1.0 + xp.exp(-(theta + L) / want.temperature))
        pathwise = pathwise + (s - c) * r * (1 - r) / want.temperature
    return BatchSamples(value, pathwise, score, alt_w, alt_d)


def sincos_batched(xp=np):
    """Sin&Cos as a batched program on ``xp`` (``numpy`` or ``cupy``).

    Returns value, pathwise, score, alternative-path and GS-STE quantities in
    closed form for every sample at once.
    """
    prog = batched(lambda theta, n, seed, want: _sincos_batch(theta, n, seed, want, xp))
    prog.__name__ = f"sincos_batched[{xp.__name__}]"
    return prog


def _three_cut_logits(theta, beta):
    return anp.array([beta * (1.0 - theta), 0.0 * theta, beta * (theta - 2.0)])


def _three_cut_values(theta):
    return [1.0 + 0.5 * theta, 3.0 - theta, 2.0 * anp.cos(theta)]


@stochastic
def three_cut(theta, beta=2.0):
    """The three-option cut toy (second seed talk) with softmax logits.

    Deterministic version: A if θ < 1, B if 1 ≤ θ ≤ 2, C if θ > 2. Stochastic:
    ``k ~ softmax(β(1 − θ), 0, β(θ − 2))``; ``f = [1 + θ/2, 3 − θ, 2 cos θ][k]``.
    """
    k = categorical(logits=_three_cut_logits(theta, beta))
    return select(k, _three_cut_values(theta))


def three_cut_exact(theta, beta=2.0):
    """``(E[f], dE[f]/dθ)`` for :func:`three_cut`, in closed form."""
    def expect(t):
        lg = _three_cut_logits(t, beta)
        p = anp.exp(lg - anp.max(lg))
        p = p / anp.sum(p)
        v = _three_cut_values(t)
        return p[0] * v[0] + p[1] * v[1] + p[2] * v[2]
    return float(expect(theta)), float(_agrad(expect)(float(theta)))


@stochastic
def random_walk(p, n=100):
    """StochasticAD.jl's random walk: ``X₀ = 0``; each step +1 with probability ``exp(−X/p)``, else −1; ``f = X²``."""
    x = 0
    for _ in range(n):
        x += 1 if bernoulli(anp.exp(-x / p)) else -1
    return x * x


def random_walk_exact(p, n=100):
    """``(E[X_n²], dE/dp)`` for :func:`random_walk` from the transition matrix (X stays ≥ 0)."""
    xs = np.arange(n + 1, dtype=float)

    def expect(pp):
        dist = anp.concatenate([anp.ones(1), anp.zeros(n)])
        up = anp.exp(-xs / pp)
        for _ in range(n):
            moved_up = anp.concatenate([anp.zeros(1), (dist * up)[:-1]])
            moved_down = anp.concatenate([(dist * (1 - up))[1:], anp.zeros(1)])
            dist = moved_up + moved_down
        return anp.sum(dist * xs**2)

    return float(expect(float(p))), float(_agrad(expect)(float(p)))
