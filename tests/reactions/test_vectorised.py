import numpy as np
import pytest

import stochgrad as sg
from apps.reactions import TELEGRAPH_TRUE, immigration_death_network, telegraph_network
from apps.reactions import exact
from apps.reactions.direct import direct_ssa
from apps.reactions.vectorised import batched_ssa, simulate

TH = np.array([10.0, 0.5])
EXACT = np.array([1.26424, -10.56964])


def test_exact_reference_values():
    assert exact.immigration_death_mean(TH, 2.0) == pytest.approx(12.642411, rel=1e-6)
    assert np.allclose(exact.immigration_death_mean_grad(TH, 2.0), EXACT, atol=1e-5)
    tt = np.array(TELEGRAPH_TRUE)
    assert exact.telegraph_stationary_mean(tt) == pytest.approx(20 / 3)
    # finite-T telegraph mean tends to the stationary one, derivatives too
    assert np.allclose(exact.telegraph_mean_grad(tt, 40.0), exact.telegraph_stationary_mean_grad(tt), rtol=1e-6)


def _id_prog(**kw):
    return batched_ssa(immigration_death_network(), {"X": 0}, 2.0, "X", **kw)


def test_immigration_death_within_one_percent_stochastic_derivative():
    est = sg.value_and_grad(_id_prog(), sg.StochasticDerivative(), n=300_000, seed=11)(TH)
    assert abs(est.value - 12.642411) < 4 * est.value_stderr
    sg.testing.assert_unbiased(est, EXACT, n_sigma=4)
    assert np.all(np.abs(est.grad / EXACT - 1) < 0.01), est


def test_immigration_death_within_one_percent_score():
    est = sg.value_and_grad(_id_prog(), sg.ScoreFunction(), n=800_000, seed=12)(TH)
    sg.testing.assert_unbiased(est, EXACT, n_sigma=4)
    assert np.all(np.abs(est.grad / EXACT - 1) < 0.01), est


def test_uniformised_score_and_fd_with_crn():
    est = sg.value_and_grad(_id_prog(score_kind="uniformised"), sg.ScoreFunction(), n=100_000, seed=13)(TH)
    sg.testing.assert_unbiased(est, EXACT, n_sigma=4)
    fd = sg.value_and_grad(_id_prog(dominating=1.5 * TH), sg.FiniteDifference(0.01), n=100_000, seed=14)(TH)
    assert np.all(np.abs(fd.grad - EXACT) < 4 * fd.grad_stderr + 0.02 * np.abs(EXACT))


def test_telegraph_mean_derivatives():
    tt = np.array(TELEGRAPH_TRUE)
    prog = batched_ssa(telegraph_network(), {"G_off": 1}, 10.0, "M")
    ex = exact.telegraph_mean_grad(tt, 10.0)
    for est, n in ((sg.ScoreFunction(), 30_000), (sg.StochasticDerivative(), 30_000)):
        e = sg.value_and_grad(prog, est, n=n, seed=21)(tt)
        assert abs(e.value - exact.telegraph_mean(tt, 10.0)) < 4 * e.value_stderr
        sg.testing.assert_unbiased(e, ex, n_sigma=4.5)


def test_same_seed_same_numbers_and_distribution_matches_direct_method():
    net = telegraph_network()
    tt = np.array(TELEGRAPH_TRUE)
    a = simulate(net, tt, {"G_off": 1}, 3.0, 500, 5, observable="M", score=True, alternatives=True)
    b = simulate(net, tt, {"G_off": 1}, 3.0, 500, 5, observable="M", score=True, alternatives=True)
    for key in ("X", "score", "alt_weight", "alt_delta"):
        assert np.array_equal(a[key], b[key])
    c = simulate(net, tt, {"G_off": 1}, 3.0, 500, 6)
    assert not np.array_equal(a["X"], c["X"])
    # same law as the plain direct method: compare mean and variance of M(3)
    X1 = simulate(net, tt, {"G_off": 1}, 3.0, 20000, 7)["X"][:, 2]
    X2, _ = direct_ssa(net, tt, {"G_off": 1}, 3.0, 4000, 8)
    X2 = X2[:, 2]
    se = np.sqrt(X1.var() / X1.size + X2.var() / X2.size)
    assert abs(X1.mean() - X2.mean()) < 4 * se
    assert abs(X1.var() / X2.var() - 1) < 0.1


def test_end_time_exact_for_pure_birth():
    # g = 0: X(T) ~ Poisson(kT), so E and Var are kT; derivative wrt k is T
    th = np.array([3.0, 0.0])
    prog = batched_ssa(immigration_death_network(), {"X": 0}, 1.7, "X")
    e = sg.value_and_grad(prog, sg.StochasticDerivative(), n=50_000, seed=3)(th)
    assert abs(e.value - 5.1) < 4 * e.value_stderr
    assert abs(np.var(e.values) / 5.1 - 1) < 0.05
    assert abs(e.grad[0] - 1.7) < 4 * e.grad_stderr[0]
    # dE/dg at g = 0 is -k T^2 / 2 (rate 0 gets a positive dominating rate 1/T)
    assert abs(e.grad[1] + 3.0 * 1.7**2 / 2) < 4 * e.grad_stderr[1]


def test_gumbel_refused():
    with pytest.raises(TypeError, match="GumbelSTE"):
        sg.value_and_grad(_id_prog(), sg.GumbelSTE(0.5), n=10, seed=0)(TH)


def test_score_function_warns_at_a_zero_rate():
    """At g = 0 the score function depends on its baseline (it cannot see deaths); it says so."""
    import warnings

    prog = batched_ssa(immigration_death_network(), {"X": 0}, 1.7, "X")
    with pytest.warns(sg.BiasWarning, match="exactly 0"):
        sg.value_and_grad(prog, sg.ScoreFunction(), n=1000, seed=0)(np.array([3.0, 0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.BiasWarning)
        sg.value_and_grad(prog, sg.ScoreFunction(), n=1000, seed=0)(np.array([3.0, 0.5]))
        sg.value_and_grad(prog, sg.StochasticDerivative(), n=1000, seed=0)(np.array([3.0, 0.0]))
