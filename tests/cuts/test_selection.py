"""Stochastic cuts: unbiased gradients against exact enumeration, estimator plumbing, hard-cut limit."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import stochgrad as sg
from apps.cuts import CutSpec, Events, hard_objective, pass_probability, soft_objective, stochastic_cut, traced_cut
from stochgrad.testing import assert_unbiased


def small(n=10, seed=1, weights=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    lab = np.arange(n) % 3 == 0
    w = rng.uniform(0.5, 2.0, n) if weights else None
    return Events(x, lab, w)


SPEC = CutSpec([(0, ">"), (1, "window")])
THETA = np.array([-0.3, -0.8, 0.9])


@pytest.fixture(scope="module")
def exact():
    ev = small()
    return ev, sg.value_and_grad(traced_cut(ev, SPEC, 0.5, b_min=0.5), sg.Exact())(THETA)


@pytest.mark.parametrize("estimator", [sg.StochasticDerivative(), sg.ScoreFunction("leave_one_out"),
                                       sg.ScoreFunction("none")])
def test_batched_unbiased_against_exact(exact, estimator):
    ev, ex = exact
    assert ex.info["traces"] == 2**ev.n
    n = 80_000 if getattr(estimator, "baseline", None) == "none" else 40_000  # no baseline: twice, for power
    est = sg.value_and_grad(stochastic_cut(ev, SPEC, 0.5, b_min=0.5), estimator, n=n, seed=3)(THETA)
    assert_unbiased(est, ex.grad, n_sigma=4)
    assert abs(est.value - ex.value) < 4 * est.value_stderr


def test_traced_sd_unbiased_against_exact(exact):
    ev, ex = exact
    est = sg.value_and_grad(traced_cut(ev, SPEC, 0.5, b_min=0.5), sg.StochasticDerivative(), n=1500, seed=0)(THETA)
    # the middle derivative is small (-0.08): 1500 traced samples reach 4 stderr = 0.56 of it (the batched test
    # above checks every component with full power); the others are checked with power
    assert_unbiased(est, ex.grad, n_sigma=4, power=np.array([0.25, 0.6, 0.3]))


def test_sd_has_lower_variance_than_score(exact):
    ev, _ = exact
    prog = stochastic_cut(ev, SPEC, 0.5, b_min=0.5)
    sd = sg.value_and_grad(prog, "sd", n=5000, seed=1)(THETA)
    sf = sg.value_and_grad(prog, sg.ScoreFunction("none"), n=5000, seed=1)(THETA)
    assert np.all(sd.grad_stderr < sf.grad_stderr)


def test_per_event_alternatives_match_summed():
    ev = small(12, seed=4)
    a = sg.value_and_grad(stochastic_cut(ev, SPEC, 0.3), "sd", n=500, seed=2)(THETA)
    b = sg.value_and_grad(stochastic_cut(ev, SPEC, 0.3, per_event=True), "sd", n=500, seed=2)(THETA)
    np.testing.assert_allclose(a.samples, b.samples, atol=1e-12)


def test_ungrouped_weights_match_exact():
    """More than 16 distinct weights: Δ is evaluated per event instead of per weight pair."""
    ev = small(12, seed=5)
    ev = Events(ev.features, ev.is_signal, np.linspace(0.5, 2.0, 12))
    spec = CutSpec([(0, ">")])
    ex = sg.value_and_grad(traced_cut(ev, spec, 0.4), sg.Exact())(0.1)
    prog = stochastic_cut(ev, spec, 0.4)
    est = sg.value_and_grad(prog, "sd", n=20_000, seed=0)(0.1)
    assert_unbiased(est, ex.grad)


def test_fd_bias_small_and_crn():
    ev = small()
    prog = stochastic_cut(ev, SPEC, 0.5, b_min=0.5)
    ex = sg.value_and_grad(traced_cut(ev, SPEC, 0.5, b_min=0.5), "exact")(THETA)
    fd = sg.value_and_grad(prog, sg.FiniteDifference(0.02), n=300_000, seed=0)(THETA)  # 20000: no power
    assert_unbiased(fd, ex.grad, n_sigma=4, atol=0.01)
    v1 = prog(THETA, 50, 7, sg.Want()).value
    v2 = prog(THETA, 50, 7, sg.Want()).value
    np.testing.assert_array_equal(v1, v2)


def test_gumbel_runs_and_is_finite_scalar_theta():
    ev = Events(small().features[:, 0], small().is_signal)
    prog = stochastic_cut(ev, CutSpec([">"]), 0.5)
    est = sg.value_and_grad(prog, sg.GumbelSTE(0.5), n=2000, seed=0)(0.2)
    assert np.isfinite(est.grad) and est.samples.shape == (2000,)
    tr = sg.value_and_grad(traced_cut(ev, CutSpec([">"]), 0.5), sg.GumbelSTE(0.5), n=200, seed=0)(0.2)
    assert np.isfinite(tr.grad)


def test_sigmoid_surrogate_is_biased_on_few_events(exact):
    """The sigmoid-weight gradient is exact for f(E s, E b), not for E f(s, b)."""
    ev, ex = exact
    _, g = soft_objective(ev, SPEC, THETA, 0.5, b_min=0.5)
    # small here (≈2 %), but not zero: the Jensen gap f(E s, E b) − E f(s, b) has a θ-dependent slope
    assert np.linalg.norm(g - ex.grad) > 0.01 * np.linalg.norm(ex.grad)


def test_s_to_zero_is_the_hard_cut():
    ev = small(30, seed=2)
    prog = stochastic_cut(ev, SPEC, 1e-9)
    v = prog(THETA, 5, 0, sg.Want()).value
    np.testing.assert_allclose(v, hard_objective(ev, SPEC, THETA))
    p = pass_probability(ev, SPEC, THETA, 1e-9)
    np.testing.assert_array_equal(p > 0.5, SPEC.hard_pass(ev, THETA))


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=20), st.floats(-2, 2), st.integers(0, 2**31))
def test_hard_limit_property(xs, c, seed):
    xs = np.array(xs)
    ev = Events(xs, np.arange(len(xs)) % 2 == 0)
    if np.min(np.abs(xs - c)) < 1e-6:
        return
    v = stochastic_cut(ev, CutSpec([">"]), 1e-9)(c, 3, seed, sg.Want(score=True, alternatives=True))
    np.testing.assert_allclose(v.value, hard_objective(ev, CutSpec([">"]), c))
    assert np.all(np.isfinite(v.score)) and np.all(np.isfinite(v.alt_weight))


def test_batched_shapes():
    ev = small()
    out = stochastic_cut(ev, SPEC, 0.5)(THETA, 7, 0, sg.Want(score=True, alternatives=True, temperature=0.3))
    assert out.value.shape == (7,) and out.score.shape == (7, 3) and out.pathwise.shape == (7, 3)
    assert out.alt_weight.shape == (7, 1, 3) and out.alt_delta.shape == (7, 1)
    out = stochastic_cut(ev, SPEC, 0.5, per_event=True)(THETA, 7, 0, sg.Want(alternatives=True))
    assert out.alt_weight.shape == (7, 10, 3) and out.alt_delta.shape == (7, 10)
