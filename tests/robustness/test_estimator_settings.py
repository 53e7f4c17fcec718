"""Estimator settings that can only give NaN or a meaningless number are refused (issue 17)."""

import warnings

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg


@sg.stochastic
def quad(theta):
    k = sg.bernoulli(0.5)
    return theta * theta + k


@pytest.mark.parametrize("b", [float("nan"), float("inf"), -float("inf"), np.float64("nan")])
def test_non_finite_constant_baseline_refused(b):
    with pytest.raises(ValueError, match="finite"):
        sg.ScoreFunction(b)


@pytest.mark.parametrize("b", ["bogus", None, True, [1.0]])
def test_bad_baseline_kinds_refused(b):
    with pytest.raises(ValueError, match="baseline"):
        sg.ScoreFunction(b)


def test_finite_numpy_baseline_accepted():
    est = sg.value_and_grad(quad, sg.ScoreFunction(np.int64(1)), n=200, seed=0)(0.3)
    assert np.isfinite(est.grad)


def test_fd_step_lost_in_theta_refused_at_call_time():
    # issue: FiniteDifference(1e-300) gave an exact-looking 0 ± 0
    vg = sg.value_and_grad(quad, sg.FiniteDifference(1e-300), n=10, seed=0)
    with pytest.raises(ValueError, match="below 1e-08"):
        vg(0.3)
    with pytest.raises(ValueError, match=r"θ\[1\]"):
        sg.value_and_grad(quad, sg.FiniteDifference(1e-5), n=4, seed=0)(np.array([0.1, 1e4]))
    e = sg.value_and_grad(quad, sg.FiniteDifference(1e-4), n=50, seed=0)(0.3)
    assert e.grad == pytest.approx(0.6, rel=1e-6)  # CRN: the Bernoulli cancels exactly


@pytest.mark.parametrize("step", [0.0, -1e-3, float("nan"), float("inf"), True, "0.1"])
def test_fd_bad_steps_refused(step):
    with pytest.raises(ValueError):
        sg.FiniteDifference(step)


@pytest.mark.parametrize("tau", [float("nan"), float("inf"), 0.0, -0.5])
def test_gumbel_bad_temperatures_refused(tau):
    with pytest.raises(ValueError, match="temperature"):
        sg.GumbelSTE(tau)


def _program(alt_weight=None, alt_delta=None, group=None):
    @sg.batched
    def prog(theta, n, seed, want):
        rng = np.random.default_rng(seed)
        out = sg.BatchSamples(value=rng.random(n), score=rng.normal(size=n), pathwise=np.zeros(n))
        if want.alternatives:
            out.alt_weight = np.ones(n) if alt_weight is None else alt_weight(n)
            out.alt_delta = np.ones(n) if alt_delta is None else alt_delta(n)
        if group is not None:
            out.group = group(n)
        return out

    return prog


def _with(i, v):
    def make(n):
        a = np.ones(n)
        a[i] = v
        return a

    return make


@pytest.mark.parametrize("kw", [dict(alt_weight=_with(3, np.nan)), dict(alt_weight=_with(0, np.inf)),
                                dict(alt_delta=_with(5, np.nan))])
def test_batched_non_finite_alternatives_refused(kw):
    # issue: a batched program's NaN alt_weight gave a NaN gradient with no error
    with pytest.raises(ValueError, match="not finite"):
        sg.value_and_grad(_program(**kw), sg.StochasticDerivative(), n=10, seed=0)(0.3)


def test_batched_alternative_shapes_checked():
    with pytest.raises(ValueError, match="alt_weight must have shape"):
        sg.value_and_grad(_program(alt_weight=lambda n: np.ones((n, 2))), sg.StochasticDerivative(),
                          n=10, seed=0)(0.3)
    with pytest.raises(ValueError, match="group"):
        sg.value_and_grad(_program(group=lambda n: np.zeros(n)), sg.ScoreFunction(), n=10, seed=0)(0.3)


@sg.stochastic
def kink(theta):
    k = sg.bernoulli(0.5)
    return anp.sqrt(theta - 0.3) + k


@pytest.mark.parametrize("est", [sg.ScoreFunction(), sg.StochasticDerivative(), sg.GumbelSTE(), sg.Exact()])
def test_non_finite_gradient_is_an_error(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="not finite"):
            sg.value_and_grad(kink, est, n=8, seed=0)(0.3)


@sg.stochastic
def nan_branch(theta):
    return float("nan") if sg.bernoulli(theta) else 1.0


@pytest.mark.parametrize("est", [sg.ScoreFunction(), sg.FiniteDifference(), sg.StochasticDerivative(), sg.Exact()])
def test_nan_sample_is_an_error(est):
    with pytest.raises(ValueError, match="nan"):
        sg.value_and_grad(nan_branch, est, n=30, seed=0)(0.5)
