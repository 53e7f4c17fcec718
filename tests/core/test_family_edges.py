"""Every family at the edge of its parameter range: Exact and the stochastic derivative are right (an outcome of
probability 0 whose probability moves still counts), the score function refuses with a ValueError (per-sample and
vectorised modes)."""

import pathlib
import re

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg

SD = [sg.StochasticDerivative(), sg.StochasticDerivative(form="inverse_cdf"),
      sg.StochasticDerivative(3, control_variates=False)]

# (program, θ on the edge, analytic dE[f]/dθ there)
EDGES = {
    "binomial p=1, f=X (Exact gave 25)": (lambda t: sg.binomial(5, t), 1.0, 5.0),
    "binomial p=1, f=X²": (lambda t: sg.binomial(5, t) ** 2, 1.0, 45.0),  # n(1 − 2p) + 2n²p
    "binomial p=1 approached from above": (lambda t: sg.binomial(5, 1 - t) ** 2, 0.0, -45.0),
    "binomial p=0, f=X²": (lambda t: sg.binomial(5, t) ** 2, 0.0, 5.0),
    "binomial p=0 approached from below": (lambda t: sg.binomial(5, -t) ** 2, 0.0, -5.0),
    "binomial n=1 p=1": (lambda t: 3.0 * sg.binomial(1, t), 1.0, 3.0),
    "geometric p=1, f=X (all gave 0)": (lambda t: sg.geometric(t), 1.0, -1.0),  # d/dp (1 − p)/p
    "geometric p=1, f=X²": (lambda t: sg.geometric(t) ** 2, 1.0, -1.0),  # d/dp (2/p² − 3/p + 1)
    "poisson rate=0, f=X²": (lambda t: sg.poisson(t) ** 2, 0.0, 1.0),  # d/dλ (λ + λ²)
    "poisson rate=0 falling": (lambda t: sg.poisson(-2.0 * t) ** 2, 0.0, -2.0),
    "negative binomial p=1, f=X": (lambda t: sg.negative_binomial(2.0, t), 1.0, -2.0),  # d/dp r(1 − p)/p
    "negative binomial p=1, r=0.5, f=X²": (lambda t: sg.negative_binomial(0.5, t) ** 2, 1.0, -0.5),
    "bernoulli p=1": (lambda t: 3 * sg.bernoulli(t) + 1, 1.0, 3.0),
    "bernoulli p=0 falling": (lambda t: 3 * sg.bernoulli(-t) + 1, 0.0, -3.0),
    "bernoulli p=1 falling": (lambda t: 3 * sg.bernoulli(1 - t) + 1, 0.0, -3.0),
    "categorical π_0 = 0 rising": (lambda t: (sg.categorical(probs=anp.array([t, 0.5 - t, 0.5])) + 1) ** 2, 0.0, -3.0),
    "categorical π_1 = 0 falling": (lambda t: (sg.categorical(probs=anp.array([0.5 + t, -t, 0.5])) + 1) ** 2, 0.0,
                                    -3.0),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_exact_and_stochastic_derivative_on_the_edge(name):
    prog, theta, deriv = EDGES[name]
    f = sg.stochastic(prog)
    assert sg.value_and_grad(f, sg.Exact())(theta).grad == pytest.approx(deriv, rel=1e-12, abs=1e-12)
    for est in SD:
        if name.startswith("bernoulli") and est.form == "inverse_cdf":
            continue  # see test_bernoulli_inverse_cdf_form_on_the_edge
        e = sg.value_and_grad(f, est, n=300, seed=1)(theta)
        assert abs(e.grad - deriv) <= 4 * e.grad_stderr + 1e-9 * abs(deriv), (est, e.grad, e.grad_stderr)
        if not name.startswith("categorical"):  # one outcome left: every sample gives the derivative itself
            assert e.grad == pytest.approx(deriv, rel=1e-12)
    if not name.startswith("categorical"):  # the vectorised mode: control variates dropped on the edge, as traced
        for est in (sg.StochasticDerivative(), sg.StochasticDerivative(3, control_variates=False)):
            e = sg.value_and_grad(sg.vectorized(prog), est, n=300, seed=1)(theta)
            assert e.grad == pytest.approx(deriv, rel=1e-12), (est, e.grad)


@pytest.mark.parametrize("name", sorted(EDGES))
def test_score_function_refuses_on_the_edge(name):
    prog, theta, deriv = EDGES[name]
    with pytest.raises(ValueError, match="probability 0"):
        sg.value_and_grad(sg.stochastic(prog), sg.ScoreFunction(), n=50, seed=1)(theta)
    if not name.startswith("categorical"):  # the vectorised mode (categorical programs here build probs per sample)
        with pytest.raises(ValueError, match="probability 0"):
            sg.value_and_grad(sg.vectorized(prog), sg.ScoreFunction(), n=50, seed=1)(theta)


@pytest.mark.parametrize("theta", [np.array([1.0, 0.3]), 1.0])
def test_bernoulli_inverse_cdf_form_on_the_edge(theta):
    """p = 1 rising: the flip 1 → 0 has the signed weight −∂p/∂θ, on the vector path and on the stochastic
    derivative's scalar fast paths (_one_bernoulli, _dual_bernoullis), which take the family's flip_weights."""
    f = sg.stochastic(lambda t: 3 * sg.bernoulli(anp.sum(t * np.array([1.0, 0.0]) if np.ndim(t) else t)) + 1)
    e = sg.value_and_grad(f, sg.StochasticDerivative(form="inverse_cdf"), n=50, seed=0)(theta)
    np.testing.assert_allclose(e.grad, [3.0, 0.0] if np.ndim(theta) else 3.0)


def test_inside_the_range_no_edge_is_reported():
    import warnings

    for prog in (lambda t: sg.binomial(5, t) ** 2, lambda t: sg.geometric(t) ** 2, lambda t: sg.poisson(t) ** 2,
                 lambda t: sg.negative_binomial(2.0, t) ** 2):
        with warnings.catch_warnings():
            warnings.simplefilter("error", sg.BiasWarning)
            sg.value_and_grad(sg.stochastic(prog), sg.ScoreFunction(), n=50, seed=1)(0.999)
            sg.value_and_grad(sg.vectorized(prog), sg.ScoreFunction(), n=50, seed=1)(0.999)


def test_inverse_cdf_form_refuses_two_adjacent_moving_zero_outcomes():
    prog = sg.stochastic(lambda t: sg.categorical(probs=anp.array([0.5 - 2 * t, t, t, 0.5])) ** 2)
    assert sg.value_and_grad(prog, sg.Exact())(0.0).grad == pytest.approx(5.0)  # −2·0 + 1 + 4
    with pytest.raises(ValueError, match="rao_blackwell"):
        sg.value_and_grad(prog, sg.StochasticDerivative(form="inverse_cdf"), n=20, seed=0)(0.0)
    e = sg.value_and_grad(prog, sg.StochasticDerivative(), n=400, seed=0)(0.0)
    assert abs(e.grad - 5.0) <= 4 * e.grad_stderr


def test_the_documented_family_is_right_on_its_edge():
    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "distributions.md").read_text()
    ns = {}
    exec(re.search(r"```python\n(.*?)```", doc, re.S).group(1), ns)
    prog = sg.stochastic(lambda t: ns["trials"](t))  # E[K] = 1/p, derivative −1 at p = 1
    assert sg.value_and_grad(prog, sg.Exact())(1.0).grad == pytest.approx(-1.0)
    for est in SD:
        assert sg.value_and_grad(prog, est, n=50, seed=0)(1.0).grad == pytest.approx(-1.0)
    assert np.isfinite(sg.value_and_grad(prog, sg.Exact())(0.7).grad)
