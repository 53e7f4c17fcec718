"""Distributions as objects: one module per family.

Each family owns its sampling from the replayed uniform, log-probability and
score, support (finite, or countable with a stated truncation), stochastic
derivative alternatives, GS-STE relaxation (where one exists) and
enumeration for :class:`~stochgrad.Exact`. See ``docs/distributions.md`` for
how to add one. The recording primitives (``stochgrad.binomial``, ...) are on
the tracer's side (``stochgrad._primitives``): nothing here imports the tracer.
"""

from .base import ContinuousFamily, Family, IntegerFamily
from .bernoulli import BERNOULLI, Bernoulli
from .binomial import BINOMIAL, Binomial
from .categorical import CATEGORICAL, Categorical
from .exponential import EXPONENTIAL, Exponential
from .gamma import GAMMA, Gamma
from .geometric import GEOMETRIC, Geometric
from .negative_binomial import NEGATIVE_BINOMIAL, NegativeBinomial
from .normal import NORMAL, Normal
from .poisson import POISSON, Poisson

__all__ = [
    "Family", "IntegerFamily", "ContinuousFamily",
    "Bernoulli", "Categorical", "Binomial", "Geometric", "Poisson", "NegativeBinomial",
    "Normal", "Exponential", "Gamma",
    "BERNOULLI", "CATEGORICAL", "BINOMIAL", "GEOMETRIC", "POISSON", "NEGATIVE_BINOMIAL",
    "NORMAL", "EXPONENTIAL", "GAMMA",
]
