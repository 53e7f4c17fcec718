import warnings

import numpy as np
import pytest

import stochgrad as sg
from apps.reactions import immigration_death, telegraph, uniformised_ssa, ReactionNetwork
from apps.reactions import exact

TH = np.array([10.0, 0.5])
EXACT = np.array([1.26424, -10.56964])


@pytest.mark.parametrize("estimator", [sg.ScoreFunction(), sg.StochasticDerivative()])
def test_traced_immigration_death_unbiased(estimator):
    f = immigration_death(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.BiasWarning)  # no θ-dependent comparisons anywhere
        est = sg.value_and_grad(f, estimator, n=1500, seed=4)(TH)
    assert abs(est.value - 12.642411) < 4 * est.value_stderr
    # 1500 traced histories: 4 stderr reach 0.36 |exact| for the score function (0.25 would need 4000)
    sg.testing.assert_unbiased(est, EXACT, n_sigma=4, power=0.4)


def test_traced_is_replayable_and_runs_outside_traces():
    f = immigration_death(2.0)
    a = sg.value_and_grad(f, sg.StochasticDerivative(), n=50, seed=9)(TH)
    b = sg.value_and_grad(f, sg.StochasticDerivative(), n=50, seed=9)(TH)
    assert np.array_equal(a.samples, b.samples)
    # FD with common random numbers replays the waiting times: at a tiny step nothing moves
    fd = sg.value_and_grad(f, sg.FiniteDifference(1e-7), n=20, seed=1)(TH)  # the smallest step FD accepts at |θ| = 10
    assert np.all(np.abs(fd.samples) < 1e-3) or np.mean(fd.samples != 0) < 0.2
    x = f(TH)
    assert isinstance(int(x), int) and x >= 0


def test_exact_refused_with_clear_error():
    with pytest.raises(ValueError, match="continuous noise needs a sampling estimator"):
        sg.value_and_grad(immigration_death(1.0), sg.Exact())(TH)


def test_traced_telegraph_and_generic_network():
    tt = np.array([0.5, 1.0, 20.0, 1.0])
    est = sg.value_and_grad(telegraph(3.0), sg.ScoreFunction(), n=600, seed=2)(tt)
    assert abs(est.value - exact.telegraph_mean(tt, 3.0)) < 4 * est.value_stderr
    # 600 traced histories give power on the first two rates only (4.5 stderr: 0.41, 0.59 of |exact|; the
    # last two would need 30 times as many): those two are checked with power, the others without
    sg.testing.assert_unbiased(est, exact.telegraph_mean_grad(tt, 3.0), n_sigma=4.5,
                               power=np.array([0.45, 0.65, np.inf, np.inf]))
    # dimerisation with a shared rate name and a callable observable
    net = ReactionNetwork(["A", "B"], [("2A -> B", "k"), ("B -> 2A", "k")])
    f = uniformised_ssa(net, {"A": 4}, 1.0, observable=lambda x: float(x[1] ** 2))
    e = sg.value_and_grad(f, sg.ScoreFunction(), n=200, seed=0)(np.array([0.7]))
    assert np.isfinite(e.grad) and 0 <= e.value <= 4
