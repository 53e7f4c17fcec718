"""Differentiable event selection: stochastic cuts optimised without bias, handing back the hard cut.

Each event passes with probability ``Π σ(±(x − θ)/s)`` (``s → 0``: the hard cut).
:func:`stochastic_cut` is a stochgrad batched program whose stochastic-derivative
alternatives cover every event in closed form; :func:`optimize_cuts` runs Adam
while annealing ``s`` (unit-free defaults, restarts, a final hard-cut polish);
:func:`hard_objective` scores the hard cut you hand back.
"""

from .events import CutSpec, Events
from .objectives import Objective, asimov, asimov_z, resolve_objective, s_over_sqrt_b
from .selection import (SharpnessWarning, hard_objective, pass_probability, soft_objective, stochastic_cut,
                        traced_cut)
from .optimize import CutResult, optimize_cuts, polish_cuts
from .problems import (CutProblem, differential_evolution_cuts, generate_problem, issue_problem, problem_a, problem_b,
                       scan_one_cut)
from .references import differential_evolution_best, grid_cuts

__all__ = [
    "Events", "CutSpec",
    "Objective", "asimov", "asimov_z", "s_over_sqrt_b", "resolve_objective",
    "stochastic_cut", "traced_cut", "pass_probability", "hard_objective", "soft_objective", "SharpnessWarning",
    "optimize_cuts", "CutResult", "polish_cuts",
    "problem_a", "problem_b", "scan_one_cut", "differential_evolution_cuts",
    "CutProblem", "generate_problem", "issue_problem", "grid_cuts", "differential_evolution_best",
]
