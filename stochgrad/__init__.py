"""stochgrad: gradients of programs that make discrete random decisions.

Recipe: make each discrete decision a traced stochastic choice, then estimate
``∇θ E[f]`` with the estimator of your choice.
"""

# recording primitives
from ._trace import (
    Choice, Outcome, bernoulli, categorical, one_hot, select, seed, stochastic, StochasticFunction, uniform,
)

# more distribution families (each a module of stochgrad.distributions; their primitives on the tracer's side)
from ._primitives import binomial, exponential, gamma, geometric, negative_binomial, normal, poisson

# entry points and results
from ._api import grad, value_and_grad
from ._estimate import Estimate
from ._run import BiasWarning
from ._dual import DualUnsupported

# estimators
from .estimators import (
    Estimator,
    Exact,
    FiniteDifference,
    GumbelSTE,
    ScoreFunction,
    StochasticDerivative,
    TooManyTraces,
)

# vectorised simulators
from ._batched import BatchedProgram, BatchSamples, Want, batched
from ._vectorized import PerSampleBranchError, VectorizedProgram, vectorized

from . import backend, distributions, examples, extend, numpy, optim, testing  # noqa: E402  (submodules users reach for)

__version__ = "0.1.0"

__all__ = [
    "Choice", "Outcome", "bernoulli", "categorical", "one_hot", "select", "seed", "stochastic", "uniform",
    "StochasticFunction",
    "binomial", "geometric", "poisson", "negative_binomial", "normal", "exponential", "gamma",
    "grad", "value_and_grad", "Estimate", "BiasWarning", "DualUnsupported",
    "Estimator", "Exact", "FiniteDifference", "GumbelSTE", "ScoreFunction", "StochasticDerivative",
    "TooManyTraces",
    "BatchedProgram", "BatchSamples", "Want", "batched",
    "vectorized", "VectorizedProgram", "PerSampleBranchError",
]
