"""Distributions as objects: one module per family.

Each family owns its sampling from the replayed uniform, log-probability and
score, support (finite, or countable with a stated truncation), stochastic
derivative alternatives, GS-STE relaxation (where one exists) and
enumeration for :class:`~stochgrad.Exact`. See ``docs/distributions.md`` for
how to add one.
"""

from .base import ContinuousFamily, Family, IntegerFamily
from .bernoulli import BERNOULLI, Bernoulli
from .binomial import BINOMIAL, Binomial, binomial
from .categorical import CATEGORICAL, Categorical
from .exponential import EXPONENTIAL, Exponential, exponential
from .gamma import GAMMA, Gamma, gamma
from .geometric import GEOMETRIC, Geometric, geometric
from .negative_binomial import NEGATIVE_BINOMIAL, NegativeBinomial, negative_binomial
from .normal import NORMAL, Normal, normal
from .poisson import POISSON, Poisson, poisson

__all__ = [
    "Family", "IntegerFamily", "ContinuousFamily",
    "Bernoulli", "Categorical", "Binomial", "Geometric", "Poisson", "NegativeBinomial",
    "Normal", "Exponential", "Gamma",
    "BERNOULLI", "CATEGORICAL", "BINOMIAL", "GEOMETRIC", "POISSON", "NEGATIVE_BINOMIAL",
    "NORMAL", "EXPONENTIAL", "GAMMA",
    "binomial", "geometric", "poisson", "negative_binomial", "normal", "exponential", "gamma",
]
