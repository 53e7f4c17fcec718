"""Keyed choices: replays match noise by name, so alternative paths stay coupled."""

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg
from stochgrad.testing import assert_unbiased


@sg.stochastic
def varying_length(theta, keyed):
    """One θ-dependent choice decides how many θ-free coins are tossed before a final draw."""
    n = 1 + 2 * sg.bernoulli(1 / (1 + anp.exp(-theta)))
    s = 0.0
    for i in range(n):
        s += sg.bernoulli(0.5, key=("coin", i) if keyed else None)
    last = sg.bernoulli(0.3, key="last" if keyed else None)
    return 10.0 * last + s + 0.0 * theta


@pytest.mark.parametrize("estimator", [sg.StochasticDerivative(), sg.FiniteDifference(0.05)])
def test_keys_keep_alternatives_coupled(estimator):
    exact = sg.value_and_grad(varying_length, sg.Exact())(0.4, True)
    assert exact.grad == pytest.approx(sg.value_and_grad(varying_length, sg.Exact())(0.4, False).grad)
    # by position the samples are noisy (that is the point): 13000 of them for a check with power
    by_position = sg.value_and_grad(varying_length, estimator, n=13000, seed=1)(0.4, False)
    by_key = sg.value_and_grad(varying_length, estimator, n=4000, seed=1)(0.4, True)
    if isinstance(estimator, sg.StochasticDerivative):
        assert_unbiased(by_position, exact.grad)
        assert_unbiased(by_key, exact.grad)
    # by position the final draw reads a coin's uniform on the alternative path; by key it reads its own
    assert np.std(by_key.samples) < 0.5 * np.std(by_position.samples)


def test_keyed_noise_is_replayed_and_score_function_unchanged():
    @sg.stochastic
    def f(theta):
        u = sg.uniform(key="smear")
        k = sg.categorical(logits=anp.array([0.0, theta]), key="pick")
        return (sg.select(k, anp.array([0.0, 1.0])) + u) * theta

    a = sg.value_and_grad(f, sg.ScoreFunction(), n=300, seed=4)(0.7)
    b = sg.value_and_grad(f, sg.ScoreFunction(), n=300, seed=4)(0.7)
    np.testing.assert_array_equal(a.samples, b.samples)
    # CRN: both sides of a finite difference read the same keyed u and (away from flips) the same k,
    # so a sample is the pathwise k + u in [0, 2), not a jump of order 1/h
    fd = np.asarray(sg.value_and_grad(f, sg.FiniteDifference(1e-6), n=200, seed=4)(0.7).samples)
    assert np.mean((fd >= 0) & (fd < 2)) > 0.95
    gs = sg.value_and_grad(f, sg.GumbelSTE(0.5), n=50, seed=4)(0.7)
    assert np.all(np.isfinite(gs.samples))


def test_bad_keys_are_refused():
    @sg.stochastic
    def twice(theta):
        return sg.bernoulli(0.5, key="a") + sg.bernoulli(0.5, key="a") + 0.0 * theta

    with pytest.raises(ValueError, match="used twice in one run"):
        sg.value_and_grad(twice, sg.ScoreFunction(), n=2, seed=0)(0.1)

    @sg.stochastic
    def unhashable(theta):
        return sg.bernoulli(0.5, key=["a"]) + 0.0 * theta

    with pytest.raises(TypeError, match="key must be hashable"):
        sg.value_and_grad(unhashable, sg.ScoreFunction(), n=2, seed=0)(0.1)

    @sg.stochastic
    def uniform_twice(theta):
        return sg.uniform(key=1) + sg.uniform(key=1) + 0.0 * theta

    with pytest.raises(ValueError, match="used twice in one run"):
        sg.value_and_grad(uniform_twice, sg.ScoreFunction(), n=2, seed=0)(0.1)
    # outside a trace keys are accepted and ignored
    assert sg.bernoulli(0.5, key="a", rng=np.random.default_rng(0)) in (0, 1)
