"""Stochastic derivatives: StochasticAD.jl's random walk, many-outcome categoricals, batched form."""

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg
from stochgrad.estimators.stochastic_derivative import alternatives
from stochgrad.examples import random_walk, random_walk_exact
from stochgrad.testing import assert_unbiased


@pytest.mark.parametrize("form", ["rao_blackwell", "inverse_cdf"])
@pytest.mark.parametrize("n, p, exact", [(50, 100.0, 7.5582), (100, 200.0, 15.1349)])
def test_random_walk_tutorial(n, p, exact, form):
    assert random_walk_exact(p, n)[1] == pytest.approx(exact, abs=1e-4)
    e = sg.value_and_grad(random_walk, sg.StochasticDerivative(4, form), n=2000, seed=123)(p, n)
    assert_unbiased(e, exact)
    # far less noisy than the score function with the best baseline (sd ≈ 21 at n = 100)
    assert np.std(e.samples) < 9.0


@pytest.mark.parametrize("K", [4, 6])
def test_categorical_many_outcomes(K):
    @sg.stochastic
    def f(theta):
        logits = anp.array([np.sin(j) * theta + 0.3 * j for j in range(K)])
        k = sg.categorical(logits=logits)
        j = sg.categorical(probs=anp.ones(3) / 3 + anp.array([-0.1, 0.0, 0.1]) * anp.tanh(theta * k))
        return (k - 1.7) ** 2 + j * theta

    for theta in (-0.6, 0.9):
        exact = sg.value_and_grad(f, sg.Exact())(theta)
        assert exact.info["traces"] == 3 * K
        for m, form in ((1, "rao_blackwell"), (3, "rao_blackwell"), (1, "inverse_cdf"), (3, "inverse_cdf")):
            est = sg.StochasticDerivative(m, form)
            assert_unbiased(sg.value_and_grad(f, est, n=2000, seed=9)(theta), exact.grad)  # detects a bias ≥ 15 %


def test_alternative_weights_are_the_coupling_densities():
    """Bernoulli: density p'/(1-p) for k=0 -> 1 when p' > 0; categorical: F'/p_k at each moving boundary."""
    from stochgrad.extend import run_boxed
    from stochgrad.extend import NoiseTape, Trace

    @sg.stochastic
    def f(theta):
        return float(sg.bernoulli(theta)) + 0.0 * theta

    theta = 0.3
    for seed in range(20):
        run = run_boxed(f, theta, (), {}, Trace(NoiseTape(np.random.default_rng(seed))), "t")
        alts = alternatives(run, "inverse_cdf")
        if run.records[0].value == 0:
            assert len(alts) == 1 and alts[0][1] == 1 and alts[0][2][0] == pytest.approx(1 / (1 - theta))
        else:
            assert alts == []

    @sg.stochastic
    def g(theta):
        return float(sg.categorical(probs=anp.array([0.5 - theta, 0.2, 0.3 + theta])))

    for seed in range(30):
        run = run_boxed(g, 0.1, (), {}, Trace(NoiseTape(np.random.default_rng(seed))), "t")
        k = run.records[0].value
        alts = {a[1]: a[2][0] for a in alternatives(run, "inverse_cdf")}
        # F_0 = 0.5 - θ falls (mass from bin 0 to 1); F_1 = 0.7 - θ falls (bin 1 to 2)
        expected = {0: {1: 1 / 0.4}, 1: {2: 1 / 0.2}, 2: {}}[k]
        assert alts.keys() == expected.keys()
        for key in expected:
            assert alts[key] == pytest.approx(expected[key])


def test_rao_blackwell_weights_are_the_probability_derivatives():
    """Every other outcome k is an alternative with weight dπ_k/dθ (a Bernoulli: ±p')."""
    from stochgrad.extend import run_boxed
    from stochgrad.extend import NoiseTape, Trace

    @sg.stochastic
    def f(theta):
        return float(sg.bernoulli(theta**2)) + 0.0 * theta

    theta = 0.6  # p = 0.36, p' = 1.2
    seen = set()
    for seed in range(20):
        run = run_boxed(f, theta, (), {}, Trace(NoiseTape(np.random.default_rng(seed))), "t")
        ((site, alt, w),) = alternatives(run)
        k = run.records[0].value
        seen.add(k)
        assert alt == 1 - k and w[0] == pytest.approx(1.2 if k == 0 else -1.2)
    assert seen == {0, 1}

    @sg.stochastic
    def g(theta):
        t = anp.sum(theta)  # θ is a scalar (forward mode) or a 1-vector (reverse passes)
        return float(sg.categorical(probs=anp.array([0.5 - t, 0.2, 0.3 + t])))

    for forward in (True, False):  # forward mode and reverse passes give the same weights
        for seed in range(30):
            run = run_boxed(g, np.array([0.1]) if not forward else 0.1, (), {},
                            Trace(NoiseTape(np.random.default_rng(seed))), "t", forward=forward)
            k = run.records[0].value
            alts = {a[1]: a[2][0] for a in alternatives(run)}
            expected = {0: {2: 1.0}, 1: {0: -1.0, 2: 1.0}, 2: {0: -1.0}}[k]
            assert alts.keys() == expected.keys()
            for key in expected:
                assert alts[key] == pytest.approx(expected[key])


def test_unknown_form_is_refused():
    with pytest.raises(ValueError, match="form must be one of"):
        sg.StochasticDerivative(form="pathwise")


def test_batched_alternatives_with_several_per_sample():
    """(n, m) alternative arrays are summed per sample."""
    @sg.batched
    def prog(theta, n, seed, want):
        rng = np.random.default_rng(seed)
        u = rng.random((n, 3))
        p = 1 / (1 + np.exp(-theta))
        k = u < p  # three independent Bernoulli(σ(θ)), f = number of ones
        w = np.where(k, 0.0, p)  # p'/(1-p) = σ(θ)
        return sg.BatchSamples(value=k.sum(axis=1).astype(float), alt_weight=w, alt_delta=np.where(k, 0.0, 1.0))

    theta = 0.4
    s = 1 / (1 + np.exp(-theta))
    e = sg.value_and_grad(prog, sg.StochasticDerivative(), n=200_000, seed=0)(theta)
    assert_unbiased(e, 3 * s * (1 - s))


@pytest.mark.parametrize("form", ["rao_blackwell", "inverse_cdf"])
def test_forward_and_reverse_alternatives_agree_on_mixed_choices(form):
    """Vectorised forward-mode Bernoulli weights, in choice order among categoricals, equal the reverse passes."""
    from stochgrad.extend import run_boxed
    from stochgrad.extend import NoiseTape, Trace

    @sg.stochastic
    def f(theta):
        t = anp.sum(theta)
        a = sg.bernoulli(1 / (1 + anp.exp(-t)))
        k = sg.categorical(logits=anp.array([0.0, t, -2 * t, 0.5]))
        b = sg.bernoulli(0.4)  # θ-free: never an alternative
        c = sg.bernoulli(anp.exp(-t * t))
        return float(a + k + b + c)

    for seed in range(15):
        fwd = run_boxed(f, 0.3, (), {}, Trace(NoiseTape(np.random.default_rng(seed))), "t")
        rev = run_boxed(f, np.array([0.3]), (), {}, Trace(NoiseTape(np.random.default_rng(seed))), "t", forward=False)
        assert fwd.forward and not rev.forward
        A, B = alternatives(fwd, form), alternatives(rev, form)
        assert [(s, v) for s, v, _ in A] == [(s, v) for s, v, _ in B]
        assert [s for s, _, _ in A] == sorted(s for s, _, _ in A)
        for (_, _, wa), (_, _, wb) in zip(A, B):
            np.testing.assert_allclose(wa, wb, rtol=1e-12)


def test_control_variates_keep_the_walk_unbiased_and_cut_its_variance():
    """Same samples with and without the cross-fitted score control variates."""
    kw = dict(n=2000, seed=7)
    plain = sg.value_and_grad(random_walk, sg.StochasticDerivative(4, control_variates=False), **kw)(100.0, 50)
    cv = sg.value_and_grad(random_walk, sg.StochasticDerivative(4), **kw)(100.0, 50)
    assert "control_variates" not in plain.info
    assert cv.info["control_variates"] == "cross-fitted (2 folds)"
    assert_unbiased(cv, 7.5582)
    ratio = cv.info["variance_ratio"][0]
    assert ratio == pytest.approx(np.var(cv.samples) / np.var(plain.samples))
    assert ratio < 0.9  # about 0.75-0.8 on the walk
    np.testing.assert_array_equal(cv.values, plain.values)  # same runs; only the gradients are corrected


def test_cross_fitting_corrects_a_sample_with_the_other_fold_only():
    """Changing one sample moves its own corrected value one for one and no other sample of its fold."""
    from stochgrad._crossfit import MIN_SAMPLES, cross_fitted

    rng = np.random.default_rng(0)
    n, d = 300, 2
    X = rng.normal(size=(n, d, 2))
    g = 3.0 + X @ np.array([1.5, -0.5]) + 0.1 * rng.normal(size=(n, d))
    out, info = cross_fitted(g, X)
    assert info["control_variates"] == "cross-fitted (2 folds)"
    assert np.all(np.array(info["variance_ratio"]) < 0.05)
    g2 = g.copy()
    g2[4] += 10.0  # sample 4 is in the even fold
    out2, _ = cross_fitted(g2, X)
    np.testing.assert_allclose(out2[4] - out[4], 10.0)
    np.testing.assert_array_equal(out2[0::2][np.arange(n // 2) != 2], out[0::2][np.arange(n // 2) != 2])
    assert not np.allclose(out2[1::2], out[1::2])  # the odd fold's coefficients did change
    # too few samples: returned as is, and said so
    small, info = cross_fitted(g[: MIN_SAMPLES - 1], X[: MIN_SAMPLES - 1])
    np.testing.assert_array_equal(small, g[: MIN_SAMPLES - 1])
    assert "not applied" in info["control_variates"]
    # a feature that is identically zero gets coefficient zero instead of a singular solve
    X0 = X.copy()
    X0[..., 1] = 0.0
    out0, _ = cross_fitted(g, X0)
    assert np.all(np.isfinite(out0))


def test_cross_fitted_control_variates_are_unbiased_over_repetitions():
    """Mean of corrected estimates over many independent small batches stays at the true mean."""
    from stochgrad.extend import cross_fitted

    rng = np.random.default_rng(1)
    means = []
    for _ in range(1000):
        x = rng.normal(size=(256, 1, 1))
        g = 2.0 + 4.0 * x[:, :, 0] + x[:, :, 0] ** 2 - 1.0  # E[g] = 2; correlated with x, non-linearly
        means.append(cross_fitted(g, x)[0].mean())
    means = np.array(means)
    assert abs(means.mean() - 2.0) < 4 * means.std() / np.sqrt(len(means))


def test_batched_control_variates_need_a_score():
    """A batched program that returns its score gets the control variates; one that does not, does not."""
    @sg.batched
    def prog(theta, n, seed, want):
        rng = np.random.default_rng(seed)
        p = 1 / (1 + np.exp(-theta))
        k = rng.random((n, 3)) < p
        out = sg.BatchSamples(value=k.sum(axis=1).astype(float), alt_weight=np.where(k, 0.0, p),
                              alt_delta=np.where(k, 0.0, 1.0))
        if prog.with_score:
            out.score = (k - p).sum(axis=1)  # d/dθ log of three Bernoulli(σ(θ))
        return out

    theta = 0.4
    s = 1 / (1 + np.exp(-theta))
    prog.with_score = True
    e = sg.value_and_grad(prog, sg.StochasticDerivative(), n=100_000, seed=0)(theta)
    assert_unbiased(e, 3 * s * (1 - s))
    assert e.info["variance_ratio"][0] < 0.9
    prog.with_score = False
    e = sg.value_and_grad(prog, sg.StochasticDerivative(), n=1000, seed=0)(theta)
    assert "control_variates" not in e.info


def test_control_variates_flag_is_checked():
    with pytest.raises(ValueError, match="control_variates must be True or False"):
        sg.StochasticDerivative(control_variates="yes")


@pytest.mark.parametrize("form", ["rao_blackwell", "inverse_cdf"])
@pytest.mark.parametrize("theta", [0.3, np.array([0.3, -0.2])])
def test_score_from_the_alternatives_pass_equals_the_runs_score(form, theta):
    """The score read off the weights' gradients (forward and reverse mode) is Run.score()."""
    from stochgrad.extend import run_boxed
    from stochgrad.extend import NoiseTape, Trace
    from stochgrad.estimators.stochastic_derivative import _alternatives_and_score

    @sg.stochastic
    def f(theta):
        t = anp.sum(theta * anp.arange(1, np.size(theta) + 1))
        a = sg.bernoulli(1 / (1 + anp.exp(-t)))
        k = sg.categorical(logits=anp.array([0.0, t, -2 * t, 0.5]))
        c = sg.bernoulli(anp.exp(-t * t) * 0.9)
        b = sg.bernoulli(0.4)  # θ-free
        return float(a + k + b + c)

    for seed in range(10):
        run = run_boxed(f, theta, (), {}, Trace(NoiseTape(np.random.default_rng(seed))), "t")
        score = _alternatives_and_score(run, form, True)[3]
        np.testing.assert_allclose(score, np.ravel(run.score()), rtol=1e-12, atol=1e-15)


def test_grouped_control_variates_use_whole_groups_as_folds_and_stay_unbiased():
    """With groups, the baseline is the group's leave-one-out mean and folds are whole groups."""
    offsets = np.repeat(np.linspace(-5, 5, 50), 10)  # 50 groups of 10 samples, each with its own level

    @sg.batched
    def prog(theta, n, seed, want):
        rng = np.random.default_rng(seed)
        p = 1 / (1 + np.exp(-theta))
        k = rng.random((n, 2)) < p
        base = np.resize(offsets, n)
        value = base + 3.0 * k[:, 0] + k[:, 1] * (1 + k[:, 0])
        alt = np.stack([base + 3.0 * (~k[:, 0]) + k[:, 1] * (1 + ~k[:, 0]),
                        base + 3.0 * k[:, 0] + (~k[:, 1]) * (1 + k[:, 0])], axis=1) - value[:, None]
        w = np.where(k, -1.0, 1.0) * p * (1 - p)  # Rao-Blackwellised: ±∂p/∂θ
        return sg.BatchSamples(value=value, score=(k - p).sum(axis=1), alt_weight=w, alt_delta=alt,
                               group=np.arange(n) // 10)

    theta = 0.3
    s = 1 / (1 + np.exp(-theta))
    exact = s * (1 - s) * (3.0 + 1.0 + 2 * s)  # d/dθ of 3p + p(1 + p)
    e = sg.value_and_grad(prog, sg.StochasticDerivative(), n=500, seed=3)(theta)
    assert_unbiased(e, exact)
    assert e.info["variance_ratio"][0] < 0.5

    # structure: a sample's value moves the coefficients of the other fold only
    rng = np.random.default_rng(0)
    n = 600
    group = np.arange(n) // 10
    v, sc, disc = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)

    def given(values):  # the per-sample arrays as a batched program: g = 0.5·s + disc
        return sg.batched(lambda t, n_, seed, want: sg.BatchSamples(values, 0.5 * sc, sc, disc, np.ones(n), group))

    out = sg.StochasticDerivative().per_sample(given(v), 0.0, n, 0)[1]
    v2 = v.copy()
    v2[3] += 1.0  # group 0, fold 0
    out2 = sg.StochasticDerivative().per_sample(given(v2), 0.0, n, 0)[1]
    fold0_other_groups = (group % 2 == 0) & (group != 0)
    np.testing.assert_array_equal(out2[fold0_other_groups], out[fold0_other_groups])
    assert not np.allclose(out2[group % 2 == 1], out[group % 2 == 1])


def test_control_variates_drop_a_score_that_is_not_mean_zero_at_a_boundary():
    """Bernoulli(θ) at θ = 0: the score is −1 on every sample (not a score there); the estimate stays right."""
    @sg.stochastic
    def f(theta):
        return 3.0 if sg.bernoulli(theta) else 1.0

    e = sg.value_and_grad(f, sg.StochasticDerivative(), n=200, seed=0)(0.0)
    assert e.grad == pytest.approx(2.0)  # d/dθ (1 + 2θ)
    assert e.info["control_variates"].startswith("not applied: a choice has an outcome of probability 0")

    @sg.stochastic
    def h(theta):  # the boundary choice next to interior ones: the score is not mean-zero but not constant
        a = sg.bernoulli(theta)
        b = sg.bernoulli(1 / (1 + anp.exp(-8 * theta)))
        c = sg.bernoulli(1 / (1 + anp.exp(-8 * theta)))
        return 5.0 * a + 2.0 * b + c

    exact = sg.value_and_grad(h, sg.Exact())(0.0)
    assert exact.grad == pytest.approx(11.0)  # Exact explores the outcome of probability 0 that moves
    e = sg.value_and_grad(h, sg.StochasticDerivative(), n=2000, seed=1)(0.0)
    assert "not applied" in e.info["control_variates"]
    assert_unbiased(e, 11.0)


def test_mean_zero_guard_decides_on_the_fitting_fold_only():
    """A rare choice (p ≈ 1.5 %) at 256 samples: the guard fires now and then; the estimate must stay unbiased."""
    theta = 0.5

    @sg.batched
    def prog(theta, n, seed, want):
        rng = np.random.default_rng(seed)
        p1, p2 = 0.01 * (1 + theta), 1 / (1 + np.exp(-theta))
        k1, k2 = rng.random(n) < p1, rng.random(n) < p2
        value = 10.0 * k1 + k2 * (1.0 + k1)
        d1 = 10.0 * (1 - 2 * k1) + k2 * (1 - 2 * k1)  # flip k1
        d2 = (1 - 2 * k2) * (1.0 + k1)  # flip k2
        w = np.stack([np.where(k1, -0.01, 0.01), np.where(k2, -1.0, 1.0) * p2 * (1 - p2)], axis=1)
        score = np.where(k1, 0.01 / p1, -0.01 / (1 - p1)) + (k2 - p2)
        return sg.BatchSamples(value=value, score=score, alt_weight=w, alt_delta=np.stack([d1, d2], axis=1))

    p1, p2 = 0.01 * (1 + theta), 1 / (1 + np.exp(-theta))
    exact = 10 * 0.01 + 0.01 * p2 + p2 * (1 - p2) * (1 + p1)  # d/dθ of 10 p1 + p2 (1 + p1)
    est = np.array([sg.value_and_grad(prog, sg.StochasticDerivative(), n=256, seed=s)(theta).grad
                    for s in range(1500)])
    assert abs(est.mean() - exact) < 4 * est.std() / np.sqrt(len(est))


def test_non_finite_scores_from_a_batched_program_are_refused():
    @sg.batched
    def prog(theta, n, seed, want):
        score = np.zeros(n)
        score[3] = np.nan
        return sg.BatchSamples(value=np.ones(n), score=score, alt_weight=np.zeros(n), alt_delta=np.zeros(n))

    with pytest.raises(ValueError, match="score of sample 3 is not finite"):
        sg.value_and_grad(prog, sg.StochasticDerivative(), n=100, seed=0)(0.1)


def test_a_fit_carried_by_one_sample_is_not_used():
    """Sparse features (non-zero on one sample per fold) get coefficient 0: leave-one-out finds no evidence."""
    from stochgrad.extend import cross_fitted

    rng = np.random.default_rng(3)
    n = 512
    g = rng.normal(size=(n, 1))
    X = np.zeros((n, 1, 2))
    X[[0, 1], 0, 0] = [5.0, -5.0]  # one sample in each fold
    X[:, 0, 1] = rng.normal(size=n) * 1e-3 * (np.arange(n) < 2)  # same two samples only
    out, info = cross_fitted(g, X)
    np.testing.assert_array_equal(out, g)
    assert info["variance_ratio"] == [1.0]
