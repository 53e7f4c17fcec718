"""Exact SSA by uniformisation, written with the core's traced choices.

Uniformisation (thinning). Pick dominating rates ``λ_r > θ_r`` that do *not*
depend on θ (``λ = safety · value(θ)``, safety 1.5 by default, frozen at the
evaluation point, and at least ``1/T``). In state ``x`` proposals
arrive at the θ-free rate ``Λ(x) = Σ_j λ_{r(j)} h_j(x)``; a θ-free draw picks
channel ``j`` with probability ``λ_{r(j)} h_j(x)/Λ(x)``, and one traced Bernoulli
choice fires the reaction with probability ``θ_{r(j)}/λ_{r(j)}`` (otherwise nothing
happens). Reaction ``j`` then fires at rate ``θ_{r(j)} h_j(x)``: the law of the path
is the Gillespie law exactly, for every θ below λ. Event times and the end-time
test ``t > T`` involve only θ-free numbers, so all θ-dependence sits in discrete
traced choices: the score function, finite differences with common random
numbers and the stochastic derivative are unbiased (FD up to its O(h²)), and
``T`` is handled exactly. Raising ``θ_r`` can only turn a thinned proposal of a
channel with rate ``θ_r`` into a firing (density ``1/(λ_r − θ_r)``). The core
replays noise by choice order, so the traced simulator uses one global proposal
clock (choice ``m`` = proposal ``m`` on the primal and on every alternative); the
vectorised simulator, whose noise is keyed by (channel, proposal count), uses
per-channel clocks (Kurtz's random time change), a tighter coupling.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

import stochgrad as sg

from .models import immigration_death_network, telegraph_network
from .network import ReactionNetwork

__all__ = ["uniformised_ssa", "dominating_rates", "immigration_death", "telegraph"]


def dominating_rates(theta, T: float, safety: float = 1.5, dominating=None) -> np.ndarray:
    """θ-free dominating rates ``λ`` (shape of θ): ``max(safety · θ, 1/T)``, or given.

    The floor ``1/T`` keeps a positive proposal rate where θ is 0 (so its derivative
    is still seen) and keeps ``1/(λ − θ)`` finite for tiny rates.

    Raises:
        ValueError: ``safety <= 1`` or given rates not strictly above θ.
    """
    theta = np.asarray(theta, dtype=float)
    if dominating is not None:
        lam = np.asarray(dominating, dtype=float)
        if lam.shape != theta.shape or not np.all(lam > theta):
            raise ValueError(f"dominating rates {lam.tolist()} must have θ's shape and exceed θ = {theta.tolist()}")
        return lam
    if not (np.isfinite(safety) and safety > 1):
        raise ValueError(f"safety factor must be > 1, got {safety!r}")
    return np.maximum(safety * theta, 1.0 / T)


def _check_T(T) -> float:
    if not (isinstance(T, (int, float)) and np.isfinite(T) and T > 0):
        raise ValueError(f"end time T must be a positive finite number, got {T!r}")
    return float(T)


def observable_fn(net: ReactionNetwork, observable) -> Callable:
    """``observable`` as a function of a state: a species name gives its count."""
    if isinstance(observable, str):
        i = net.species_index(observable)
        return lambda x: x[i]
    if callable(observable):
        return observable
    raise TypeError(f"observable must be a species name or a callable, got {observable!r}")


def uniformised_ssa(net: ReactionNetwork, x0, T: float, observable="X", *, safety: float = 1.5,
                    dominating=None) -> sg.StochasticFunction:
    """A traced exact SSA: ``f(θ) = g(X(T))`` with θ the rate constants (``net.rates`` order).

    Estimates nothing by itself: pass it to ``stochgrad.value_and_grad`` with
    ``ScoreFunction``, ``StochasticDerivative`` or ``FiniteDifference`` (all unbiased
    for ``∇θ E[g(X(T))]`` except FD's O(h²); ``Exact`` is refused, ``GumbelSTE`` sees
    no gradient because ``g`` does not use ``select``). One Bernoulli choice per
    proposal; the waiting times and channel picks are θ-free ``stochgrad.uniform()``
    noise, replayed with the run.

    Args:
        net: the network.
        x0: initial state (dict or sequence).
        T: end time (> 0).
        observable: species name, or ``g(x) -> float`` of the count vector ``x`` (numpy).
        safety: dominating rates are ``safety · θ`` (> 1; more virtual events when larger).
        dominating: explicit θ-free dominating rates (overrides ``safety``).

    Returns:
        A :class:`stochgrad.StochasticFunction` of θ (an array of rate constants).

    Raises:
        ValueError: bad ``T``, state, observable; at call time, negative or misshapen θ.
    """
    T = _check_T(T)
    x_init = net.state(x0).tolist()
    g = observable_fn(net, observable)
    J = net.n_reactions
    terms = net._terms
    changes = [[(s, int(net.change[j, s])) for s in np.flatnonzero(net.change[j])] for j in range(J)]
    rix = net.rate_index

    def ssa(theta):
        th = net.theta(theta)
        lam = dominating_rates(th, T, safety, dominating)[rix]
        keep = theta[rix] / lam  # P(a proposal of channel j fires), carries θ
        lam = lam.tolist()
        x = list(x_init)
        t = 0.0
        while True:
            cum, total = [], 0.0
            for j in range(J):
                v = lam[j]
                for s, nu in terms[j]:
                    for i in range(nu):
                        v *= x[s] - i
                total += v
                cum.append(total)
            if total <= 0.0:
                break
            # θ-free noise replayed with the run (event e reads calls 2e and 2e + 1)
            t -= math.log1p(-sg.uniform()) / total
            if t > T:
                break
            pick = sg.uniform() * total  # uniform on [0, Λ(x))
            jb = 0
            while jb < J - 1 and cum[jb] <= pick:
                jb += 1
            if sg.bernoulli(keep[jb]):
                for s, d in changes[jb]:
                    x[s] += d
        return g(np.array(x))

    ssa.__name__ = f"uniformised_ssa[{', '.join(net.rates)}]"
    ssa.__doc__ = f"g(X(T)) at T = {T} for {net!r}; θ = rate constants {net.rates}."
    return sg.stochastic(ssa)


def immigration_death(T: float = 2.0, x0: int = 0, safety: float = 1.5) -> sg.StochasticFunction:
    """Traced immigration–death ``∅ → X`` (k), ``X → ∅`` (g): ``f(θ) = X(T)``, θ = ``[k, g]``.

    Exact: ``E[X(T)] = x0 e^{−gT} + (k/g)(1 − e^{−gT})`` (see :mod:`apps.reactions.exact`).
    Unbiased with the score function and the stochastic derivative.
    """
    return uniformised_ssa(immigration_death_network(), {"X": x0}, T, "X", safety=safety)


def telegraph(T: float = 10.0, observable="M", safety: float = 1.5) -> sg.StochasticFunction:
    """Traced telegraph model from gene off and no mRNA: θ = ``[k_on, k_off, r, gamma]``.

    ``f(θ) = g(X(T))`` (default the mRNA count). Unbiased with the score function and
    the stochastic derivative.
    """
    return uniformised_ssa(telegraph_network(), {"G_off": 1}, T, observable, safety=safety)
