"""The end-to-end H → bb̄ analysis: Qanti-kT clustering and stochastic cuts optimised together.

Signal gg → H → bb̄ against qq̄ → Z/γ* → bb̄ and QCD bb̄ (Pythia 8, weighted by their
cross sections); parameters: the jet radius R, the dijet-mass window and a
leading-jet pT threshold; objective: the expected (Asimov) discovery significance.

* samples — :func:`load_samples`, :func:`background_floor` (QCD phase-space slices:
  ``samples.generate_qcd_slices``, ``samples.default_inputs``);
* significance — :func:`asimov_significance`;
* the stochastic program and its gradient — :func:`joint_program`;
* optimisation — :func:`optimize_analysis` (and its budget mode: :func:`batch_sampler`,
  :func:`refine_cuts`; histories reused across steps: :class:`ReusedHistories`),
  :func:`sequential`, :func:`evaluate_hard`;
* the brute-force reference — :func:`grid_search` (FastJet + hard cuts).
"""

from .grid import GridResult, default_grid, fastjet_observables, grid_search, hard_significance
from .optimize import AnalysisResult, batch_sampler, evaluate_hard, optimize_analysis, refine_cuts, sequential
from .program import PARAMS, UNITS, cut_probabilities, default_estimator, joint_program, to_physical, to_units
from .reuse import ReusedHistories
from .samples import Sample, background_floor, load_samples
from .significance import asimov_significance, significance_objective

__all__ = [
    "Sample", "load_samples", "background_floor",
    "asimov_significance", "significance_objective",
    "joint_program", "cut_probabilities", "default_estimator", "PARAMS", "UNITS", "to_physical", "to_units",
    "optimize_analysis", "sequential", "evaluate_hard", "AnalysisResult", "batch_sampler", "refine_cuts",
    "ReusedHistories",
    "grid_search", "GridResult", "default_grid", "fastjet_observables", "hard_significance",
]
