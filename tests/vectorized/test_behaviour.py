"""Vectorised mode: branching errors, keyed noise (seeds, chunks, offsets), agreement in distribution with the
per-sample mode, continuous noise, GS-STE through select, the array-module rules."""

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg
from stochgrad._vectorized.noise import Noise, stream_id
from stochgrad.testing import assert_unbiased

from .programs import mixed, sigmoid, walk

THETA2 = np.array([0.4, -0.7])


# -- Python control flow on per-sample values ------------------------------------------------------------------
def _if(theta):
    k = sg.bernoulli(sigmoid(theta))
    return 1.0 if k else 0.0


def _while(theta):
    x = sg.bernoulli(sigmoid(theta)) + 1
    while x > 0:
        x = x - 1
    return x


def _int(theta):
    return float(int(sg.categorical(logits=anp.array([theta, 0.0]))))


def _list_index(theta):
    return [1.0, 2.0][sg.bernoulli(0.5)]


@pytest.mark.parametrize("fn", [_if, _while, _int, _list_index])
@pytest.mark.parametrize("n", [1, 50])
def test_branching_on_a_per_sample_value_names_select_and_the_per_sample_mode(fn, n):
    with pytest.raises(sg.PerSampleBranchError, match=r"select.*\n?.*|stochastic") as err:
        sg.value_and_grad(sg.vectorized(fn), "score", n=n, seed=0)(0.3)
    msg = str(err.value)
    assert "stochgrad.select" in msg and "@stochgrad.stochastic" in msg


def test_fixed_trip_count_loops_and_theta_branches_work():
    def f(theta):
        x = 0.0
        for i in range(3):  # fixed trip count
            x = x + sg.select(sg.bernoulli(sigmoid(theta - i)), [0.0, theta])
        if theta > 0:  # θ is shared by all samples: branching on it is fine
            x = x * 2.0
        return x
    exact = sg.value_and_grad(sg.stochastic(f), sg.Exact())(0.3)
    e = sg.value_and_grad(sg.vectorized(f), sg.StochasticDerivative(2), n=20_000, seed=1)(0.3)
    assert_unbiased(e, exact.grad)


# -- keyed noise -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("est", [sg.ScoreFunction(), sg.StochasticDerivative(3, control_variates=False),
                                 sg.FiniteDifference(0.1), sg.GumbelSTE(0.5)], ids=repr)
def test_same_seed_same_samples_whatever_the_chunk(est):
    runs = [sg.value_and_grad(sg.vectorized(mixed, chunk=c), est, n=300, seed=5)(THETA2) for c in (300, 64, 7)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r.samples, runs[0].samples)
        np.testing.assert_array_equal(r.values, runs[0].values)
    other = sg.value_and_grad(sg.vectorized(mixed), est, n=300, seed=6)(THETA2)
    assert not np.array_equal(other.values, runs[0].values)


def test_a_chunk_can_be_computed_on_its_own():
    prog = sg.vectorized(walk).bind(20)
    want = sg.Want(score=True, pathwise=True, alternatives=True, n_alternatives=2)
    whole = prog(200.0, 100, 9, want)
    part = prog(200.0, 30, 9, want, start=50)
    for field in ("value", "score", "alt_weight", "alt_delta"):
        np.testing.assert_array_equal(getattr(part, field), getattr(whole, field)[50:80])


def test_keyed_draws_keep_their_noise_when_earlier_draws_change():
    def f(theta, extra):
        for i in range(extra):
            sg.bernoulli(0.5)
        return sg.uniform(key="u") + sg.bernoulli(sigmoid(theta), key="b")
    a = sg.vectorized(f).bind(0).sample(0.2, 50, seed=3)
    b = sg.vectorized(f).bind(3).sample(0.2, 50, seed=3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="used twice"):
        sg.vectorized(lambda t: sg.bernoulli(0.5, key=1) + sg.bernoulli(0.5, key=1)).sample(0.0, 5, 0)


def test_hash_noise_is_uniform_and_chunk_invariant():
    """The counter-based stream used on CuPy, checked here on NumPy."""
    whole = Noise(7, 0, 200_000, np, method="hash").uniform(stream_id("site", 3))
    part = Noise(7, 1000, 500, np, method="hash").uniform(stream_id("site", 3))
    np.testing.assert_array_equal(part, whole[1000:1500])
    assert abs(whole.mean() - 0.5) < 4 * np.sqrt(1 / 12 / whole.size)
    counts = np.histogram(whole, bins=20, range=(0, 1))[0]
    chi2 = ((counts - whole.size / 20) ** 2 / (whole.size / 20)).sum()
    assert chi2 < 50  # 19 degrees of freedom: P(chi2 > 50) ≈ 1e-4
    other = Noise(7, 0, 200_000, np, method="hash").uniform(stream_id("site", 4))
    assert abs(np.corrcoef(whole, other)[0, 1]) < 0.02


# -- agreement with the per-sample mode --------------------------------------------------------------------------
@pytest.mark.parametrize("est", [sg.ScoreFunction(), sg.StochasticDerivative(2), sg.GumbelSTE(0.5)], ids=repr)
def test_same_estimate_as_the_per_sample_mode_in_distribution(est):
    traced = sg.value_and_grad(sg.stochastic(mixed), est, n=1500, seed=2)(THETA2)
    vec = sg.value_and_grad(sg.vectorized(mixed), est, n=30_000, seed=2)(THETA2)
    se = np.hypot(traced.grad_stderr, vec.grad_stderr)
    assert np.all(np.abs(traced.grad - vec.grad) < 4 * se)
    # the same per-sample variance, within 4 standard errors of the traced variance estimate
    dev = (traced.samples - traced.samples.mean(axis=0)) ** 2
    var_se = dev.std(axis=0) / np.sqrt(len(dev))
    assert np.all(np.abs(dev.mean(axis=0) - vec.samples.var(axis=0)) < 4 * var_se)


def test_mixed_program_against_exact_for_every_estimator():
    exact = sg.value_and_grad(sg.stochastic(mixed), sg.Exact())(THETA2)
    for est in (sg.ScoreFunction("none"), sg.ScoreFunction(), sg.StochasticDerivative(1),
                sg.StochasticDerivative(3)):
        assert_unbiased(sg.value_and_grad(sg.vectorized(mixed), est, n=35_000, seed=4)(THETA2), exact.grad)


def test_continuous_uniform_noise():
    """E[f] = σ(θ)/3 + (1 − σ(θ))/2 for f = u² if k else u."""
    def f(theta):
        u = sg.uniform()
        return sg.select(sg.bernoulli(sigmoid(theta)), [u, u * u])
    s = 1 / (1 + np.exp(-0.3))
    exact = s * (1 - s) * (1 / 3 - 1 / 2)
    for est in (sg.ScoreFunction(), sg.StochasticDerivative(1)):
        assert_unbiased(sg.value_and_grad(sg.vectorized(f), est, n=40_000, seed=8)(0.3), exact)


def test_gs_ste_through_select_matches_the_per_sample_relaxation_on_a_categorical():
    def f(theta):
        j = sg.categorical(logits=anp.array([theta, 0.5 * theta, -theta]))
        return sg.select(j, [1.0 + theta, anp.cos(theta), 2.0 * theta * theta])
    traced = sg.value_and_grad(sg.stochastic(f), sg.GumbelSTE(0.3), n=1500, seed=1)(0.4)
    vec = sg.value_and_grad(sg.vectorized(f), sg.GumbelSTE(0.3), n=60_000, seed=1)(0.4)
    assert abs(traced.grad - vec.grad) < 4 * np.hypot(traced.grad_stderr, vec.grad_stderr)
    one_hot = sg.vectorized(lambda t: sg.one_hot(sg.categorical(logits=anp.array([t, 0.0]))) @ np.array([1.0, 3.0]))
    e = sg.value_and_grad(one_hot, sg.GumbelSTE(0.3), n=2000, seed=1)(0.4)
    assert np.all(np.isin(e.values, [1.0, 3.0])) and e.grad < 0


# -- inputs, outputs, array modules ------------------------------------------------------------------------------
def test_bad_inputs_and_outputs_are_refused_clearly():
    with pytest.raises(ValueError, match=r"\[0, 1\].*sample 0"):
        sg.vectorized(lambda t: sg.bernoulli(t + np.zeros(4) + 1.5)).sample(0.0, 4, 0)
    with pytest.raises(ValueError, match="one entry per sample"):
        sg.vectorized(lambda t: sg.bernoulli(np.full(3, 0.5))).sample(0.0, 4, 0)
    with pytest.raises(ValueError, match="one value per sample"):
        sg.vectorized(lambda t: np.zeros((4, 2)) + sg.uniform()[:, None]).sample(0.0, 4, 0)
    with pytest.raises(ValueError, match="not finite"), np.errstate(divide="ignore"):
        sg.value_and_grad(sg.vectorized(lambda t: anp.log(sg.bernoulli(0.5) + 0.0)), "score", n=64, seed=0)(0.0)
    with pytest.raises(ValueError, match="chunk"):
        sg.vectorized(walk, chunk=0)


def test_arguments_are_bound_and_results_are_seeded():
    vg = sg.value_and_grad(sg.vectorized(walk), sg.StochasticDerivative(2), n=500, seed=3)
    a, b = vg(50.0, 10), vg(50.0, steps=10)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert sg.vectorized(walk).xp is np


def test_cupy_arrays_run_on_the_device():
    cupy = pytest.importorskip("cupy")
    try:
        cupy.zeros(1)
    except Exception:  # pragma: no cover - no device
        pytest.skip("no CUDA device")
    prog = sg.vectorized(walk, xp="cupy").bind(100)  # pragma: no cover - device only
    from stochgrad.examples import random_walk_exact
    e = sg.value_and_grad(prog, sg.StochasticDerivative(4), n=20_000, seed=1)(200.0)
    assert type(e.samples).__module__.startswith("cupy")
    assert_unbiased(e, random_walk_exact(200.0, 100)[1])


def test_a_family_without_an_array_form_is_refused_clearly():
    from stochgrad._vectorized._context import state

    class Poisson:
        name = "poisson"

    def f(theta):  # what the generic primitive of a new family delegates to in the vectorised mode
        return state.run.sample(Poisson(), (theta,))
    with pytest.raises(TypeError, match="poisson.*per-sample mode"):
        sg.vectorized(f).sample(1.0, 4, 0)
