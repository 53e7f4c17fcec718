"""Tracing behaviour: seeding, replay, control flow, optimisers, GPU parity."""

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg
from stochgrad.examples import random_walk, sincos, sincos_batched, sincos_exact


def test_same_seed_same_result_and_different_seed_differs():
    for est in ("score", "sd", "fd", sg.GumbelSTE(0.5)):
        f = sg.examples.sincos_arith
        a = sg.value_and_grad(f, est, n=50, seed=3)(0.4)
        b = sg.value_and_grad(f, est, n=50, seed=3)(0.4)
        c = sg.value_and_grad(f, est, n=50, seed=4)(0.4)
        assert np.array_equal(a.samples, b.samples) and a.value == b.value
        assert not np.array_equal(a.samples, c.samples)


def test_outside_trace_sampling_runs_user_code_unchanged():
    sg.seed(0)
    xs = [sincos(0.5) for _ in range(2000)]
    assert abs(np.mean(xs) - sincos_exact(0.5)[0]) < 0.05
    rng = np.random.default_rng(1)
    ks = [sg.categorical(probs=np.array([0.2, 0.8]), rng=rng) for _ in range(2000)]
    assert abs(np.mean(ks) - 0.8) < 0.03 and isinstance(ks[0], int)


def test_finite_difference_crn_lowers_variance_and_bias_shrinks():
    crn = sg.value_and_grad(sincos, sg.FiniteDifference(0.05), n=2000, seed=0)(0.3)
    indep = sg.value_and_grad(sincos, sg.FiniteDifference(0.05, common_random_numbers=False), n=2000, seed=0)(0.3)
    assert crn.grad_stderr < indep.grad_stderr / 3
    exact = sincos_exact(0.3)[1]
    big = sg.value_and_grad(sincos_batched(), sg.FiniteDifference(1.0), n=400_000, seed=0)(0.3)
    small = sg.value_and_grad(sincos_batched(), sg.FiniteDifference(0.05), n=400_000, seed=0)(0.3)
    assert abs(big.grad - exact) > 4 * big.grad_stderr
    assert abs(small.grad - exact) < 4 * small.grad_stderr


def test_replayed_alternative_keeps_later_choices_coupled():
    """Flipping one choice replays the same uniforms at later sites."""
    from stochgrad.extend import run_plain
    from stochgrad.extend import NoiseTape, Trace

    tape = NoiseTape(np.random.default_rng(0))
    primal = run_plain(random_walk, 5.0, (12,), {}, Trace(tape), "primal")
    alt = run_plain(random_walk, 5.0, (12,), {}, Trace(tape, forced={4: 1 - primal.records[4].value}), "alt")
    assert [c.noise for c in alt.records] == [c.noise for c in primal.records]
    assert alt.records[4].value != primal.records[4].value


def test_estimate_reports_samples_and_errors():
    e = sg.value_and_grad(sincos, "score", n=100, seed=0)(0.2)
    assert e.samples.shape == (100,) and e.values.shape == (100,)
    # leave-one-out: the samples' spread plus the part their shared baseline adds (ScoreFunction.baseline_variance)
    p = 1 / (1 + np.exp(-0.2))
    score = np.where(e.values == np.sin(0.2), 1 - p, -p)  # d log P(k)/dθ, k = 1 where f = sin θ
    extra = sg.ScoreFunction().baseline_variance(e.values, score)
    assert e.grad_stderr == pytest.approx(np.sqrt(np.var(e.samples, ddof=1) / 100 + extra))
    assert e.grad_stderr > np.std(e.samples, ddof=1) / 10
    plain = sg.value_and_grad(sincos, sg.ScoreFunction("none"), n=100, seed=0)(0.2)  # independent samples
    assert plain.grad_stderr == pytest.approx(np.std(plain.samples, ddof=1) / 10)
    assert "ScoreFunction" in repr(e)
    assert sg.grad(sincos, "score", n=100, seed=0)(0.2) == e.grad


def test_adam_finds_minimum_of_expectation():
    from scipy.optimize import minimize_scalar

    best = minimize_scalar(lambda t: sincos_exact(t)[0], bounds=(-4, 0), method="bounded").x
    vg = sg.value_and_grad(sincos_batched(), sg.StochasticDerivative(), n=20_000, seed=0)
    res = sg.optim.adam(vg, -0.5, steps=300, lr=0.05)
    assert abs(res.theta - best) < 0.05
    assert len(res.history) == 300 and res.column("value")[-1] < res.column("value")[0]
    res2 = sg.optim.sgd(vg, -0.5, steps=400, lr=0.5, momentum=0.5, patience=5)
    assert abs(res2.theta - best) < 0.1


def _backends():
    yield np
    try:
        import cupy

        cupy.zeros(1)
        yield cupy
    except Exception:  # pragma: no cover - no GPU here
        yield pytest.param(None, marks=pytest.mark.skip(reason="no cupy / CUDA device"))


@pytest.mark.parametrize("xp", list(_backends()))
def test_batched_estimators_on_each_array_module(xp):
    prog = sincos_batched(xp)
    for est in (sg.ScoreFunction(), sg.StochasticDerivative(), sg.FiniteDifference(0.01)):
        e = sg.value_and_grad(prog, est, n=200_000, seed=1)(0.9)
        assert abs(e.grad - sincos_exact(0.9)[1]) < 4 * e.grad_stderr + (1e-3 if not est.unbiased else 0)


def test_plain_function_is_wrapped_and_control_flow_works():
    def f(theta):
        total = 0.0
        while sg.bernoulli(0.6):  # geometric number of choices
            total = total + theta
            if total > 2.5 * theta and theta > 0:
                break
        return total * total

    e = sg.value_and_grad(f, sg.Exact(max_traces=50))(1.0)
    assert e.info["traces"] == 4


def test_uniform_noise_is_replayed_and_theta_free():
    """A θ-free continuous draw is common to both sides of FD and to alternative paths."""
    @sg.stochastic
    def f(theta):
        t = -np.log(1.0 - sg.uniform())  # θ-free exponential waiting time
        k = sg.bernoulli(1 / (1 + anp.exp(-theta)))
        return (1.0 + k) * t + 0.0 * theta

    s = 1 / (1 + np.exp(-0.3))
    exact = s * (1 - s)  # E[t] = 1, so dE/dθ = σ'(θ)
    fd = sg.value_and_grad(f, sg.FiniteDifference(0.1), n=4000, seed=0)(0.3)
    assert abs(fd.grad - exact) < 4 * fd.grad_stderr + 0.005
    sd = sg.value_and_grad(f, sg.StochasticDerivative(), n=4000, seed=0)(0.3)
    assert abs(sd.grad - exact) < 4 * sd.grad_stderr
    with pytest.raises(ValueError, match="discrete choices only"):
        sg.value_and_grad(f, sg.Exact())(0.3)
    assert 0.0 <= sg.uniform(rng=np.random.default_rng(0)) < 1.0


def test_score_from_records_matches_autograd_of_the_log_probability():
    """Run.score() (built from the choice records after the run) equals ∇θ log p(trace)."""
    from autograd import grad

    from stochgrad.extend import run_boxed
    from stochgrad.extend import NoiseTape, Trace

    @sg.stochastic
    def f(th):
        th = anp.atleast_1d(th)
        a = sg.bernoulli(1 / (1 + anp.exp(-th[0])))
        k = sg.categorical(logits=anp.array([0.0, th[-1], 2 * th[-1]]))
        b = sg.bernoulli(0.3)  # θ-free: no score term
        return float(a + k + b)

    for theta in (0.4, np.array([0.4, -1.1])):  # forward mode, reverse pass
        for seed in range(6):
            run = run_boxed(f, theta, (), {}, Trace(NoiseTape(np.random.default_rng(seed))), "t")
            a, k = run.records[0].value, run.records[1].value

            def logp(th):
                th = anp.atleast_1d(th)
                p = 1 / (1 + anp.exp(-th[0]))
                lg = anp.array([0.0, th[-1], 2 * th[-1]])
                return (anp.log(p) if a else anp.log(1 - p)) + lg[k] - anp.log(anp.sum(anp.exp(lg)))

            np.testing.assert_allclose(run.score(), grad(logp)(theta), rtol=1e-12, atol=1e-12)


def test_minimize_projects_after_each_update_and_keeps_adams_raw_moments():
    """Projected Adam: the iterate stays in the box, and the moments see the raw gradients."""
    def est(theta):  # gradient of ½‖θ − (3, −3)‖², exact
        g = np.asarray(theta) - np.array([3.0, -3.0])
        return sg.Estimate(0.0, 0.0, g, np.zeros(2), None, None, 1, "exact")

    box = lambda t: np.clip(t, -1.0, 1.0)  # noqa: E731
    res = sg.optim.minimize(est, np.zeros(2), sg.optim.Adam(lr=0.3), 60, project=box)
    assert np.allclose(res.theta, [1.0, -1.0])
    assert all(np.all(np.abs(h["theta"]) <= 1.0) for h in res.history)
    # the same run by hand: Adam on the raw gradient, then the clip
    opt, th = sg.optim.Adam(lr=0.3), np.zeros(2)
    st = opt.init(th)
    for _ in range(60):
        d, st = opt.update(th - np.array([3.0, -3.0]), st)
        th = box(th + d)
    assert np.array_equal(th, res.theta)
    with pytest.raises(ValueError, match="project returned"):
        sg.optim.minimize(est, np.zeros(2), sg.optim.Adam(), 2, project=lambda t: np.full(2, np.nan))
