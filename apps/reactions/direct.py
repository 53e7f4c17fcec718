"""Plain-Python Gillespie direct method: the reference simulator (no gradients).

Used to cross-check the distribution of the uniformised simulators and as the
baseline of the benchmark. Waiting times ``Exp(Σ a_j)``, reaction ``j`` with
probability ``a_j/Σ a``; the state at ``T`` is the state before the first event
after ``T``.
"""

from __future__ import annotations

import math
import random

import numpy as np

from .network import ReactionNetwork

__all__ = ["direct_ssa"]


def direct_ssa(net: ReactionNetwork, theta, x0, T: float, n: int, seed: int | None = None):
    """Final states of ``n`` independent direct-method runs to time ``T``.

    Args:
        net: the network; theta: rate constants (``net.rates`` order).
        x0: initial state; T: end time; n: number of runs; seed: integer seed.

    Returns:
        ``(X, reactions)``: final counts ``(n, S)`` and the total number of reactions fired.

    Raises:
        ValueError: negative or misshapen θ, bad state.
    """
    th = net.theta(theta)
    rates = th[net.rate_index].tolist()
    x_init = net.state(x0).tolist()
    terms = net._terms
    changes = [[(s, int(net.change[j, s])) for s in np.flatnonzero(net.change[j])] for j in range(net.n_reactions)]
    rnd = random.Random(seed)
    out = np.empty((n, net.n_species), dtype=np.int64)
    fired = 0
    for i in range(n):
        x = list(x_init)
        t = 0.0
        while True:
            a = []
            total = 0.0
            for j, tj in enumerate(terms):
                v = rates[j]
                for s, nu in tj:
                    for q in range(nu):
                        v *= x[s] - q
                total += v
                a.append(total)
            if total <= 0.0:
                break
            t += -math.log(1.0 - rnd.random()) / total
            if t > T:
                break
            u = rnd.random() * total
            j = 0
            while a[j] <= u and j < len(a) - 1:
                j += 1
            for s, d in changes[j]:
                x[s] += d
            fired += 1
        out[i] = x
    return out, fired
