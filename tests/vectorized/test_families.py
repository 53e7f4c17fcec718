"""Every discrete family in the vectorised mode (continuous ones: tests/core/test_vectorised_continuous.py): draws
equal scipy's inverse CDF of the same uniforms, and each
estimator agrees with Exact; the device's counter-based (hash) noise run through the estimators on NumPy."""

import numpy as np
import pytest
from scipy import stats

import stochgrad as sg
from stochgrad._vectorized.noise import Noise, stream_id
from stochgrad.examples import random_walk_exact
from stochgrad.testing import assert_unbiased

from .programs import walk

THETA = 0.4
# name: (program, scipy law at THETA of the first choice)
FAMILIES = {
    "binomial": (lambda t: (sg.binomial(5, t) + 1.0) ** 2, stats.binom(5, THETA)),
    "geometric": (lambda t: (sg.geometric(t) + 1.0) * 2, stats.geom(THETA, loc=-1)),
    "poisson": (lambda t: (sg.poisson(3 * t) + 1.0) ** 2, stats.poisson(3 * THETA)),
    "negative_binomial": (lambda t: (sg.negative_binomial(2.0, t) + 1.0) * 2, stats.nbinom(2.0, THETA)),
}
ESTIMATORS = [sg.ScoreFunction(), sg.ScoreFunction("none"), sg.StochasticDerivative(),
              sg.StochasticDerivative(2, control_variates=False), sg.FiniteDifference(0.05)]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_draws_are_the_inverse_cdf_of_the_keyed_uniforms(family):
    prog, law = FAMILIES[family]
    draws = sg.vectorized(lambda t: prog(t)).sample(THETA, 2000, seed=3)
    draws = draws ** 0.5 - 1.0 if family in ("binomial", "poisson") else draws / 2 - 1.0
    u = Noise(3, 0, 2000).uniform(stream_id("site", 0))
    np.testing.assert_array_equal(draws, law.ppf(u))


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("est", ESTIMATORS, ids=repr)
def test_every_estimator_agrees_with_exact(family, est):
    prog = FAMILIES[family][0]
    exact = sg.value_and_grad(sg.stochastic(prog), sg.Exact())(THETA)
    n = 20_000 if isinstance(est, sg.FiniteDifference) else 6000
    e = sg.value_and_grad(sg.vectorized(prog), est, n=n, seed=11)(THETA)
    assert abs(e.value - exact.value) <= 4 * e.value_stderr
    assert_unbiased(e, exact.grad, atol=1e-6)  # Exact truncates countable supports (tail ≤ 1e-12)


def test_a_gradient_of_two_components():
    prog = lambda t: (sg.poisson(t[0] + 2 * t[1]) + 1.0) ** 2  # noqa: E731
    t = np.array([0.5, 0.4])
    exact = sg.value_and_grad(sg.stochastic(prog), sg.Exact())(t).grad
    for est in (sg.ScoreFunction(), sg.StochasticDerivative(control_variates=False)):
        assert_unbiased(sg.value_and_grad(sg.vectorized(prog), est, n=4000, seed=2)(t), exact)


@pytest.mark.parametrize("est", [sg.ScoreFunction(), sg.StochasticDerivative(4)], ids=repr)
def test_the_device_noise_scheme_through_an_estimator_on_numpy(est):
    """noise="hash" is the scheme CuPy runs (counter-based, computed with array operations): unbiased, and the
    estimate does not depend on the chunking."""
    prog = sg.vectorized(walk, noise="hash").bind(30)
    e = sg.value_and_grad(prog, est, n=20_000, seed=1)(20.0)
    assert_unbiased(e, random_walk_exact(20.0, 30)[1])
    chunked = sg.value_and_grad(sg.vectorized(walk, noise="hash", chunk=7_000).bind(30), est, n=20_000, seed=1)(20.0)
    np.testing.assert_array_equal(chunked.samples, e.samples)
    plain = sg.value_and_grad(prog, est, n=200, seed=1)(20.0)
    other = sg.value_and_grad(sg.vectorized(walk).bind(30), est, n=200, seed=1)(20.0)
    assert not np.array_equal(plain.samples, other.samples)  # the scheme is really the other one


def test_gs_ste_refuses_a_theta_dependent_family_without_a_relaxation():
    """As the per-sample mode does: the integer families have no Gumbel-softmax relaxation, so GS-STE would drop
    their θ-dependence silently (it returned a zero gradient)."""
    with pytest.raises(ValueError, match="poisson has no Gumbel-softmax relaxation"):
        sg.value_and_grad(sg.vectorized(lambda t: sg.poisson(t) * 1.0), sg.GumbelSTE(0.5), n=10, seed=0)(1.0)
    e = sg.value_and_grad(sg.vectorized(lambda t: sg.poisson(2.0) * t), sg.GumbelSTE(0.5), n=10, seed=0)(1.0)
    np.testing.assert_array_equal(e.samples[:, 0] if e.samples.ndim == 2 else e.samples, e.values)
