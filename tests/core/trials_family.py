"""The family of docs/distributions.md, as one module (the test checks the docs show this code)."""

import math
import autograd.numpy as anp
import stochgrad as sg
from stochgrad.extend import IntegerFamily, sample
from stochgrad.distributions.base import scalar_param


class Trials(IntegerFamily):
    """Trials up to and including the first success (support 1, 2, ...)."""

    name = "trials"

    def check(self, p):
        scalar_param("p", "trials", p, 0.0, 1.0, open_low=True)
        return (p,)

    def bounds(self, pv):
        return 1, None

    def support(self, pv):  # at p = 1 only k = 1 is left ...
        return (1, 1) if pv[0] == 1.0 else (1, None)

    def edge_outcomes(self, pv):  # ... and k = 2 has probability 0 but derivative -1
        return (2,) if pv[0] == 1.0 else ()

    def prob(self, params, k):
        (p,) = params
        return 0.0 if k < 1 else (1 - p) ** (k - 1) * p

    def log_prob(self, params, k):
        return anp.log(self.prob(params, k))

    def cdf_value(self, pv, k):
        return 1 - (1 - pv[0]) ** k

    def cdf_partials(self, pv, k):
        return [k * (1 - pv[0]) ** (k - 1)]


TRIALS = Trials()


def trials(p, *, key=None, rng=None):
    return sample(TRIALS, TRIALS.check(p), key=key, rng=rng)


def program(p):
    """``(K + 1)²`` with ``K ~ Trials(p)``: ``E = (2 − p)/p² + 2/p + 1``."""
    return (trials(p) + 1.0) ** 2
