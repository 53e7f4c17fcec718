"""Every unbiased estimator against analytic answers and exact enumeration."""

import numpy as np
import pytest

import stochgrad as sg
from stochgrad.examples import (
    random_walk, random_walk_exact, sincos, sincos_arith, sincos_batched, sincos_exact,
    three_cut, three_cut_exact,
)
from stochgrad.testing import assert_unbiased

UNBIASED = [
    sg.ScoreFunction("none"),
    sg.ScoreFunction("leave_one_out"),
    sg.ScoreFunction(0.5),
    sg.StochasticDerivative(),
    sg.StochasticDerivative(n_alternatives=3),
]


# θ = 2.5 rather than 1.5, where dE/dθ = 0.014 is too small for any of these checks to have power
@pytest.mark.parametrize("theta", [-1.2, 0.3, 2.5])
@pytest.mark.parametrize("est", UNBIASED, ids=repr)
def test_sincos_traced(est, theta):
    e = sg.value_and_grad(sincos, est, n=4000, seed=11)(theta)
    value, deriv = sincos_exact(theta)
    assert_unbiased(e, deriv)
    assert abs(e.value - value) < 4 * e.value_stderr
    assert e.samples.shape == (4000,)


@pytest.mark.parametrize("theta", [-1.2, 0.3, 2.5])
@pytest.mark.parametrize("est", UNBIASED[:4], ids=repr)
def test_sincos_batched(est, theta):
    e = sg.value_and_grad(sincos_batched(), est, n=200_000, seed=5)(theta)
    assert_unbiased(e, sincos_exact(theta)[1])


def test_exact_matches_formula():
    for theta in (-2.0, 0.0, 0.7):
        e = sg.value_and_grad(sincos, sg.Exact())(theta)
        v, d = sincos_exact(theta)
        assert e.value == pytest.approx(v, rel=1e-12) and e.grad == pytest.approx(d, rel=1e-12)
        assert e.info["traces"] == 2


def test_gumbel_bias_shrinks_with_temperature():
    prog, theta = sincos_batched(), 0.7
    exact = sincos_exact(theta)[1]
    bias = {t: sg.value_and_grad(prog, sg.GumbelSTE(t), n=400_000, seed=3)(theta).grad - exact
            for t in (2.0, 0.5, 0.1)}
    se = sg.value_and_grad(prog, sg.GumbelSTE(0.1), n=400_000, seed=3)(theta).grad_stderr
    assert bias[2.0] > bias[0.5] + 4 * se > 0
    assert abs(bias[0.1]) < 4 * se
    # traced GS-STE agrees with the batched closed form at the same temperature
    tr = sg.value_and_grad(sincos_arith, sg.GumbelSTE(2.0), n=3000, seed=4)(theta)
    assert abs(tr.grad - (exact + bias[2.0])) < 4 * tr.grad_stderr


@pytest.mark.parametrize("theta", [0.4, 1.5, 2.6])
@pytest.mark.parametrize("est", UNBIASED[1:4] + [sg.GumbelSTE(0.05)], ids=repr)
def test_three_option_cut(est, theta):
    exact_v, exact_d = three_cut_exact(theta)
    ex = sg.value_and_grad(three_cut, sg.Exact())(theta)
    assert ex.grad == pytest.approx(exact_d, rel=1e-10) and ex.value == pytest.approx(exact_v, rel=1e-12)
    e = sg.value_and_grad(three_cut, est, n=3000, seed=2)(theta)
    if est.unbiased:
        assert_unbiased(e, exact_d)
    else:  # GS-STE at low temperature: close, not exact
        assert abs(e.grad - exact_d) < 4 * e.grad_stderr + 0.1


def test_random_walk_chain_against_exact_enumeration():
    """A chain of 8 dependent choices (256 traces): Exact == transition matrix, samplers agree."""
    p, n = 3.0, 8
    ex = sg.value_and_grad(random_walk, sg.Exact())(p, n)
    v, d = random_walk_exact(p, n)
    assert ex.value == pytest.approx(v, rel=1e-10) and ex.grad == pytest.approx(d, rel=1e-9)
    for est in (sg.ScoreFunction("leave_one_out"), sg.StochasticDerivative(), sg.StochasticDerivative(4)):
        assert_unbiased(sg.value_and_grad(random_walk, est, n=3000, seed=8)(p, n), d)


def test_vector_theta_shapes_and_values():
    @sg.stochastic
    def f(theta):
        import autograd.numpy as anp
        k = sg.bernoulli(1 / (1 + anp.exp(-theta[0])))
        j = sg.categorical(logits=anp.array([theta[1], 0.0, -theta[1]]))
        return (k + 1.0) * (j - theta[0] * theta[1]) ** 2

    theta = np.array([0.3, -0.8])
    ex = sg.value_and_grad(f, sg.Exact())(theta)
    assert ex.grad.shape == (2,) and ex.info["traces"] == 6
    for est in UNBIASED[1:4]:
        e = sg.value_and_grad(f, est, n=4000, seed=1)(theta)
        assert e.samples.shape == (4000, 2) and e.grad.shape == (2,)
        assert_unbiased(e, ex.grad)
    fd = sg.value_and_grad(f, sg.FiniteDifference(0.02), n=4000, seed=1)(theta)
    assert np.all(np.abs(fd.grad - ex.grad) < 4 * fd.grad_stderr + 0.05)


def test_exact_explores_zero_probability_outcomes_that_move():
    """On a boundary (bernoulli(θ) at θ = 0 or 1; a categorical with π_j = 0) the unseen outcome carries gradient."""
    import autograd.numpy as anp
    import numpy as np
    import pytest

    import stochgrad as sg

    @sg.stochastic
    def f(theta):
        return 3.0 * sg.bernoulli(theta)

    for theta in (0.0, 0.4, 1.0):
        e = sg.value_and_grad(f, sg.Exact())(theta)
        assert e.grad == pytest.approx(3.0) and e.value == pytest.approx(3 * theta)

    @sg.stochastic
    def g(theta):
        return float(sg.categorical(probs=anp.array([theta[0], theta[1], 1 - theta[0] - theta[1]])))

    e = sg.value_and_grad(g, sg.Exact())(np.array([0.0, 0.5]))
    np.testing.assert_allclose(e.grad, [-2.0, -1.0])  # E = θ₁ + 2(1 − θ₀ − θ₁)

    @sg.stochastic
    def still(theta):  # a zero-probability outcome that does not move is still not explored
        return 1.0 / sg.bernoulli(0.0 * theta + 1.0)

    assert sg.value_and_grad(still, sg.Exact())(0.3).info["traces"] == 1
