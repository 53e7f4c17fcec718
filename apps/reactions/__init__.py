"""stochgrad reactions: unbiased gradients of stochastic reaction networks (Gillespie SSA).

Networks with mass-action rates, an exact SSA by uniformisation written with traced
choices, a vectorised simulator implementing the batched protocol (value, score,
stochastic-derivative alternatives), exact checks and a telegraph-model fit.
"""

# networks and the reference models
from .network import Reaction, ReactionNetwork
from .models import TELEGRAPH_TRUE, immigration_death_network, telegraph_network

# simulators: traced (core choices), vectorised (batched protocol), plain direct method
from .traced import dominating_rates, immigration_death, telegraph, uniformised_ssa
from .vectorised import batched_ssa, simulate
from .direct import direct_ssa

# exact answers, checks, fit
from .exact import (
    immigration_death_mean, immigration_death_mean_grad, telegraph_mean, telegraph_mean_grad,
    telegraph_stationary_mean, telegraph_stationary_mean_grad,
)
from .checks import derivative_checks
from .fit import FitResult, data_uncertainty, fit_telegraph

__all__ = [
    "Reaction", "ReactionNetwork", "TELEGRAPH_TRUE", "immigration_death_network", "telegraph_network",
    "dominating_rates", "immigration_death", "telegraph", "uniformised_ssa", "batched_ssa", "simulate",
    "direct_ssa",
    "immigration_death_mean", "immigration_death_mean_grad", "telegraph_mean", "telegraph_mean_grad",
    "telegraph_stationary_mean", "telegraph_stationary_mean_grad",
    "derivative_checks", "FitResult", "data_uncertainty", "fit_telegraph",
]
