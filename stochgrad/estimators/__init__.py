"""Gradient estimators, one module per family, all behind :func:`stochgrad.value_and_grad`."""

from .base import Estimator
from .exact import Exact, TooManyTraces
from .finite_difference import FiniteDifference
from .gumbel import GumbelSTE
from .score_function import ScoreFunction
from .stochastic_derivative import StochasticDerivative

__all__ = [
    "Estimator",
    "Exact",
    "TooManyTraces",
    "FiniteDifference",
    "GumbelSTE",
    "ScoreFunction",
    "StochasticDerivative",
]
