"""Every estimator × every discrete family against an answer computed independently of stochgrad: the exact
expectation Σ_k pmf(k) f(k) with scipy's pmf (differentiated by a central difference of step 1e-5 on that sum, or
compared at the finite-difference estimator's own step, where it is unbiased)."""

import autograd.numpy as anp
import numpy as np
import pytest
import scipy.stats as st

import stochgrad as sg
import stochgrad.numpy as snp
from stochgrad.testing import assert_unbiased

THETA = 0.3


def sig(t):
    return 1.0 / (1.0 + anp.exp(-t))


def softmax3(t):
    z = snp.array([t, 0.5 * t, -t])  # (autograd.numpy.array cannot hold dual numbers: docs/architecture.md)
    return anp.exp(z) / anp.sum(anp.exp(z))


def f(k):
    return (k + 1.0) ** 2


# family: (traced program, scipy law as a function of θ)
FAMILIES = {
    "bernoulli": (lambda t: f(sg.bernoulli(sig(t))), lambda t: st.bernoulli(float(sig(t)))),
    "categorical": (lambda t: f(sg.categorical(probs=softmax3(t))),
                    lambda t: st.rv_discrete(values=(np.arange(3), softmax3(t)))),
    "binomial": (lambda t: f(sg.binomial(8, sig(t))), lambda t: st.binom(8, float(sig(t)))),
    "geometric": (lambda t: f(sg.geometric(sig(t))), lambda t: st.geom(float(sig(t)), loc=-1)),
    "poisson": (lambda t: f(sg.poisson(2 * anp.exp(t))), lambda t: st.poisson(2 * float(anp.exp(t)))),
    "negative_binomial": (lambda t: f(sg.negative_binomial(2.5, sig(t))), lambda t: st.nbinom(2.5, float(sig(t)))),
}


MORE = {"geometric": 5, "negative_binomial": 2}  # heavier tails: more samples for the same power (< 0.25)


def expectation(law):
    ks = np.arange(0, int(law.ppf(1 - 1e-16)) + 2)
    return float(np.sum(law.pmf(ks) * f(ks)))


def scipy_derivative(family, theta=THETA, h=1e-5):
    law = FAMILIES[family][1]
    return (expectation(law(theta + h)) - expectation(law(theta - h))) / (2 * h)


ESTIMATORS = [
    (sg.ScoreFunction("none"), 3000), (sg.ScoreFunction("leave_one_out"), 3000), (sg.ScoreFunction(2.0), 3000),
    (sg.StochasticDerivative(), 600), (sg.StochasticDerivative(control_variates=False), 600),
    (sg.StochasticDerivative(3, control_variates=False), 600), (sg.StochasticDerivative(3), 600),
    (sg.StochasticDerivative(form="inverse_cdf"), 600),
]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_exact_against_scipy(family):
    e = sg.value_and_grad(sg.stochastic(FAMILIES[family][0]), sg.Exact())(THETA)
    assert e.value == pytest.approx(expectation(FAMILIES[family][1](THETA)), rel=1e-9)
    assert e.grad == pytest.approx(scipy_derivative(family), rel=1e-7)


@pytest.mark.parametrize("est, n", ESTIMATORS, ids=[repr(e) for e, _ in ESTIMATORS])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_unbiased_estimator_against_scipy(family, est, n):
    e = sg.value_and_grad(sg.stochastic(FAMILIES[family][0]), est, n=int(n * MORE.get(family, 1)), seed=7)(THETA)
    exact = scipy_derivative(family)
    assert_unbiased(e, exact, atol=1e-8 * abs(exact))  # the central difference of the sum is good to ~1e-10
    assert abs(e.value - expectation(FAMILIES[family][1](THETA))) <= 4 * e.value_stderr


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_finite_differences_against_scipy_at_their_step(family):
    """With common random numbers FD estimates (E f(θ + h) − E f(θ − h)) / 2h without bias."""
    h = 0.2
    e = sg.value_and_grad(sg.stochastic(FAMILIES[family][0]), sg.FiniteDifference(h), n=3000, seed=5)(THETA)
    assert_unbiased(e, scipy_derivative(family, h=h))


def _documented_family():
    import pathlib
    import re

    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "distributions.md").read_text()
    ns = {}
    exec(re.search(r"```python\n(.*?)```", doc, re.S).group(1), ns)
    return ns["trials"]


def test_the_documented_family_under_every_estimator_and_an_executor():
    """docs/distributions.md's one-module family (trials up to a success, scipy's geom) like the built-in ones."""
    from concurrent.futures import ThreadPoolExecutor

    trials = _documented_family()
    prog = sg.stochastic(lambda t: f(trials(sig(t))))
    law = lambda t: st.geom(float(sig(t)))  # noqa: E731  (support 1, 2, ...)
    exact = (expectation(law(THETA + 1e-5)) - expectation(law(THETA - 1e-5))) / 2e-5
    e = sg.value_and_grad(prog, sg.Exact())(THETA)
    assert e.value == pytest.approx(expectation(law(THETA)), rel=1e-9) and e.grad == pytest.approx(exact, rel=1e-7)
    for est, n in ESTIMATORS:
        assert_unbiased(sg.value_and_grad(prog, est, n=3 * n, seed=7)(THETA), exact, atol=1e-8 * abs(exact))
    h = 0.2
    fd = sg.value_and_grad(prog, sg.FiniteDifference(h), n=9000, seed=5)(THETA)
    assert_unbiased(fd, (expectation(law(THETA + h)) - expectation(law(THETA - h))) / (2 * h))
    local = sg.value_and_grad(prog, sg.StochasticDerivative(), n=400, seed=3)(THETA)
    with ThreadPoolExecutor(2) as ex:
        pooled = sg.value_and_grad(prog, sg.StochasticDerivative(), n=400, seed=3, executor=ex, chunk_size=150)(THETA)
    assert (pooled.value, pooled.grad, pooled.grad_stderr) == (local.value, local.grad, local.grad_stderr)
