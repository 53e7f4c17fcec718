"""Differentiable event selection: stochastic cuts optimised without bias, handing back the hard cut.

Each event passes with probability ``Π σ(±(x − θ)/s)`` (``s → 0``: the hard cut).
:func:`stochastic_cut` is a stochgrad batched program whose stochastic-derivative
alternatives cover every event in closed form; :func:`optimize_cuts` runs Adam
while annealing ``s``; :func:`hard_objective` scores the hard cut you hand back.
"""

from .events import CutSpec, Events
from .objectives import Objective, asimov, asimov_z, resolve_objective, s_over_sqrt_b
from .selection import (SharpnessWarning, hard_objective, pass_probability, soft_objective, stochastic_cut,
                        traced_cut)
from .optimize import CutResult, optimize_cuts
from .problems import differential_evolution_cuts, problem_a, problem_b, scan_one_cut

__all__ = [
    "Events", "CutSpec",
    "Objective", "asimov", "asimov_z", "s_over_sqrt_b", "resolve_objective",
    "stochastic_cut", "traced_cut", "pass_probability", "hard_objective", "soft_objective", "SharpnessWarning",
    "optimize_cuts", "CutResult",
    "problem_a", "problem_b", "scan_one_cut", "differential_evolution_cuts",
]
