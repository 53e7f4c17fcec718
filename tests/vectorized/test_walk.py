"""The 100-step random walk (p = 200, f = X²): every estimator of the vectorised mode against the
transition-matrix answer (exact dE/dp = 15.1349), within 4 standard errors."""

import numpy as np
import pytest

import stochgrad as sg
from stochgrad.examples import random_walk_exact
from stochgrad.testing import assert_unbiased

from .programs import walk

THETA = 200.0
EXACT_VALUE, EXACT = random_walk_exact(THETA, 100)
vwalk = sg.vectorized(walk)


def test_exact_reference():
    assert EXACT == pytest.approx(15.1349, abs=1e-4)


@pytest.mark.parametrize("est", [
    sg.ScoreFunction("none"),
    sg.ScoreFunction("mean"),  # biased by a factor (n − 1)/n: invisible at this n
    sg.ScoreFunction("leave_one_out"),
    sg.ScoreFunction(4000.0),
    sg.StochasticDerivative(1),
    sg.StochasticDerivative(4),
    sg.StochasticDerivative(4, control_variates=False),
], ids=repr)
def test_unbiased_on_the_walk(est):
    e = sg.value_and_grad(vwalk, est, n=40_000, seed=11)(THETA)
    assert_unbiased(e, EXACT, n_sigma=4)
    assert abs(e.value - EXACT_VALUE) < 4 * e.value_stderr


def test_finite_differences_estimate_the_central_difference_of_the_expectation():
    h = 5.0
    e = sg.value_and_grad(vwalk, sg.FiniteDifference(h), n=40_000, seed=12)(THETA)
    target = (random_walk_exact(THETA + h, 100)[0] - random_walk_exact(THETA - h, 100)[0]) / (2 * h)
    assert_unbiased(e, target, n_sigma=4)
    # common random numbers: the two sides share their noise, so most samples' difference is small
    no_crn = sg.value_and_grad(vwalk, sg.FiniteDifference(h, common_random_numbers=False), n=4000, seed=12)(THETA)
    assert np.std(e.samples) < 0.2 * np.std(no_crn.samples)
    # without a seed, the runs at θ ± h of one estimate still share their noise
    unseeded = sg.value_and_grad(vwalk, sg.FiniteDifference(h), n=4000)(THETA)
    assert np.std(unseeded.samples) < 0.2 * np.std(no_crn.samples)


def test_gs_ste_bias_shrinks_with_the_temperature():
    hot = sg.value_and_grad(vwalk, sg.GumbelSTE(1.0), n=20_000, seed=13)(THETA)
    cold = sg.value_and_grad(vwalk, sg.GumbelSTE(0.05), n=20_000, seed=13)(THETA)
    assert abs(hot.grad - EXACT) > 10 * hot.grad_stderr  # biased at τ = 1 (about 13.8)
    assert abs(cold.grad - EXACT) < abs(hot.grad - EXACT) / 4


def test_stochastic_derivative_variance_matches_the_traced_mode():
    """Per-sample sd of the traced SD(4) with control variates is 5.47 ± 0.05 (docs/estimators.md)."""
    e = sg.value_and_grad(vwalk, sg.StochasticDerivative(4), n=40_000, seed=14)(THETA)
    assert 5.0 < np.std(e.samples) < 6.0
    sf = sg.value_and_grad(vwalk, sg.ScoreFunction(), n=40_000, seed=14)(THETA)
    assert np.std(sf.samples) > 3 * np.std(e.samples)
