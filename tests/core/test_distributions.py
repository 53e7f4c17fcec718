"""Distribution families: unbiased score function, stochastic derivative and pathwise gradients against
closed forms and Exact, hypothesis programs mixing families, and StochasticAD.jl's test programs
(test/triples.jl, tutorials/toy_optimizations/intro.jl) written natively."""

import math

# The score function runs without a baseline here, so the samples are independent and the check is the textbook
# one. (With the leave-one-out baseline the samples share the others' mean; its standard error accounts for that
# since issue 18, see tests/core/test_baseline_stderr.py.)

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st

import stochgrad as sg
from stochgrad.testing import assert_unbiased


def sig(t):
    return 1.0 / (1.0 + anp.exp(-t))


# (program, closed-form E[f](θ)) per family; f = X² (or x²) so the derivative involves the whole law
FAMILIES = {
    "binomial": (lambda t: sg.binomial(10, sig(t)) ** 2, lambda t: 10 * sig(t) * (1 - sig(t)) + (10 * sig(t)) ** 2),
    "geometric": (lambda t: sg.geometric(sig(t)) ** 2, lambda t: (1 - sig(t)) * (2 - sig(t)) / sig(t) ** 2),
    "poisson": (lambda t: sg.poisson(anp.exp(t)) ** 2, lambda t: anp.exp(t) + anp.exp(2 * t)),
    "negative_binomial": (lambda t: sg.negative_binomial(3, sig(t)) ** 2,
                          lambda t: 3 * (1 - sig(t)) / sig(t) ** 2 + (3 * (1 - sig(t)) / sig(t)) ** 2),
    "normal": (lambda t: sg.normal(t, 1 + t ** 2) ** 2, lambda t: t ** 2 + (1 + t ** 2) ** 2),
    "exponential": (lambda t: sg.exponential(anp.exp(t)) ** 2, lambda t: 2 / anp.exp(2 * t)),
    "gamma": (lambda t: sg.gamma(1.5 + t ** 2, 2.0 + t) ** 2, lambda t: (1.5 + t ** 2) * (2.5 + t ** 2) / (2.0 + t) ** 2),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("theta", [-0.4, 0.5])
def test_family_gradients_are_unbiased(family, theta):
    prog, expect = FAMILIES[family]
    exact = grad(expect)(theta)
    if family in ("binomial", "geometric", "poisson", "negative_binomial"):  # Exact on the (truncated) support
        ex = sg.value_and_grad(prog, sg.Exact())(theta)
        assert ex.value == pytest.approx(expect(theta), rel=1e-9) and ex.grad == pytest.approx(exact, rel=1e-7)
    if family in ("binomial", "geometric", "poisson", "negative_binomial"):
        # the score function on these families: tests/core/test_estimator_family.py, sized to have power
        assert_unbiased(sg.value_and_grad(prog, sg.StochasticDerivative(), n=1000, seed=11)(theta), exact)
        return
    for est in (sg.ScoreFunction("none"), sg.StochasticDerivative()):  # pathwise: both give the same samples
        assert_unbiased(sg.value_and_grad(prog, est, n=2500, seed=11)(theta), exact)


def test_continuous_choices_are_pathwise_under_every_mode():
    """A normal sample differentiates through its value: dual numbers, autograd forward and reverse agree."""
    from stochgrad.extend import run_boxed, run_differentiated
    from stochgrad.extend import NoiseTape, Trace

    prog = sg.stochastic(lambda t: sg.normal(t[0], anp.exp(t[1])) * sg.gamma(2.0 + t[0] ** 2, 1.0 + t[1] ** 2))
    theta = np.array([0.3, -0.2])
    for seed in range(4):
        tape = NoiseTape(np.random.default_rng(seed))
        dual = run_differentiated(prog, theta, (), {}, tape, "t")
        rev = run_boxed(prog, theta, (), {}, Trace(tape), "t", forward=False)
        np.testing.assert_allclose(dual.grad_of(dual.out), rev.grad_of(rev.out), rtol=1e-9)
        assert np.all(dual.score() == 0)
    with pytest.raises(ValueError, match="discrete choices only"):
        sg.value_and_grad(prog, sg.Exact())(theta)


def test_parameter_checks():
    for call, match in [(lambda: sg.binomial(2.5, 0.3), "n must be"), (lambda: sg.binomial(3, 1.2), "p must lie"),
                        (lambda: sg.geometric(0.0), "p must lie"), (lambda: sg.poisson(-1.0), "rate must lie"),
                        (lambda: sg.negative_binomial(0, 0.5), "r must lie"), (lambda: sg.normal(0.0, -1.0), "sd"),
                        (lambda: sg.exponential(math.nan), "rate"), (lambda: sg.gamma(0.0), "shape")]:
        with pytest.raises(ValueError, match=match):
            call()
    with pytest.raises(ValueError, match="no Gumbel-softmax relaxation"):
        sg.value_and_grad(lambda t: sg.poisson(anp.exp(t)) * 1.0, sg.GumbelSTE())(0.1)


def test_samplers_follow_their_laws_outside_a_trace():
    rng = np.random.default_rng(0)
    n = 4000
    for draw, mean, var in [(lambda: sg.binomial(20, 0.3, rng=rng), 6.0, 4.2),
                            (lambda: sg.geometric(0.25, rng=rng), 3.0, 12.0),
                            (lambda: sg.poisson(3.5, rng=rng), 3.5, 3.5),
                            (lambda: sg.negative_binomial(2.5, 0.4, rng=rng), 3.75, 9.375),
                            (lambda: sg.gamma(2.0, 0.5, rng=rng), 4.0, 8.0)]:
        x = np.array([draw() for _ in range(n)], dtype=float)
        assert abs(x.mean() - mean) < 4 * math.sqrt(var / n)


# --- StochasticAD.jl test/triples.jl: "Distributions w.r.t. continuous parameter" -----------------------------
# distributions of p on (0.2, 0.8), functions 7x − 3, (x + 1)², sqrt(x + 1); Categorical indices are 1-based there
JL_DISTS = {
    "Bernoulli": lambda p: sg.bernoulli(p),
    "Geometric": lambda p: sg.geometric(p),
    "Poisson": lambda p: sg.poisson(p),
    "Categorical([p², 1-p²])": lambda p: 1 + sg.categorical(probs=anp.array([p ** 2, 1 - p ** 2])),
    "Categorical([0, p², 0, 0, 1-p²])": lambda p: 1 + sg.categorical(probs=anp.array([0.0, p ** 2, 0.0, 0.0, 1 - p ** 2])),
    "Categorical(logistic)": lambda p: 1 + sg.categorical(probs=anp.array([1.0, anp.exp(p)]) / (1.0 + anp.exp(p))),
    "Binomial(3, p)": lambda p: sg.binomial(3, p),
    "Binomial(20, p)": lambda p: sg.binomial(20, p),
}
JL_FUNCS = [lambda x: 7 * x - 3, lambda x: (x + 1) ** 2, lambda x: anp.sqrt(x + 1.0)]


@pytest.mark.parametrize("name", sorted(JL_DISTS))
def test_stochasticad_triples_distributions(name):
    rng = np.random.default_rng(len(name))
    for j, f in enumerate(JL_FUNCS):
        p = 0.2 + 0.6 * rng.random()
        for mirrored in (False, True):  # both sides of the derivative: g(p) = p and g(p) = 1 − p
            prog = sg.stochastic(lambda t, f=f, m=mirrored: f(JL_DISTS[name](1.0 - t if m else t)))
            exact = sg.value_and_grad(prog, sg.Exact())(p).grad
            # the score function needs a baseline and more samples to have power (4 stderr < |exact| / 4)
            est, n = ((sg.StochasticDerivative(), 600) if (j + mirrored) % 2 == 0 else
                      (sg.ScoreFunction("leave_one_out"), 12000 if name == "Geometric" else 2000))
            # atol: Exact leaves out a tail of probability ≤ 1e-12 of the countable supports
            assert_unbiased(sg.value_and_grad(prog, est, n=n, seed=j)(p), exact, atol=1e-7 * abs(exact))


def test_stochasticad_nested_binomials():
    """rand(Binomial(rand(Binomial(10, p)), p)) ~ Binomial(10, p²): derivative of the mean 20p."""
    prog = sg.stochastic(lambda p: sg.binomial(sg.binomial(10, p), p) * 1.0)
    for p in (0.3, 0.7):
        assert sg.value_and_grad(prog, sg.Exact())(p).grad == pytest.approx(20 * p, rel=1e-9)
        assert_unbiased(sg.value_and_grad(prog, sg.StochasticDerivative(), n=1000, seed=3)(p), 20 * p)


def crazy(p):
    """tutorials/toy_optimizations/intro.jl: a = p(1−p), b ~ Bin(10, p), c = 2b + 3 Ber(p), X = a c Normal(b, a)."""
    a = p * (1 - p)
    b = sg.binomial(10, p)
    c = 2 * b + 3 * sg.bernoulli(p)
    return a * c * sg.normal(b, a)


def crazy_mean(p):
    a = p * (1 - p)
    return a * (2 * (10 * p * (1 - p) + 100 * p ** 2) + 3 * p * 10 * p)  # a E[(2b + 3B) b]


@pytest.mark.parametrize("p", [0.3, 0.6])
def test_stochasticad_intro_program(p):
    exact = grad(crazy_mean)(p)
    for est, n in ((sg.StochasticDerivative(), 1500), (sg.ScoreFunction("none"), 4000)):  # sized for power
        assert_unbiased(sg.value_and_grad(crazy, est, n=n, seed=5)(p), exact)


# --- hypothesis: random programs mixing families ------------------------------------------------------------------
step = st.tuples(st.sampled_from(["bern", "cat", "binom", "geom", "pois", "negbin"]), st.floats(-1.0, 1.0),
                 st.floats(-1.0, 1.0))


def mixed(spec):
    @sg.stochastic
    def prog(theta):
        state, acc = 0, 0.0
        for i, (kind, a, b) in enumerate(spec):
            q = sig(a * theta + b + 0.3 * state)
            if kind == "bern":
                x = sg.bernoulli(q)
            elif kind == "cat":
                x = sg.categorical(logits=anp.array([a * theta, b, 0.2 * state]))
            elif kind == "binom":
                x = sg.binomial(3, q)
            elif kind == "geom":
                x = sg.geometric(0.3 + 0.6 * q)
            elif kind == "pois":
                x = sg.poisson(0.5 * q + 0.1 * state)
            else:
                x = sg.negative_binomial(2, 0.4 + 0.5 * q)
            state = min(state + x, 4)
            acc = acc + (x - 1.0) * (b + anp.sin(theta + i))
            if state >= 4:
                break  # data-dependent length
        return acc + 0.3 * state ** 2

    return prog


@settings(max_examples=8)
@given(spec=st.lists(step, min_size=1, max_size=3), theta=st.floats(-1.0, 1.0))
def test_mixed_family_programs_agree_with_exact(spec, theta):
    prog = mixed(spec)
    exact = sg.value_and_grad(prog, sg.Exact())(theta)
    for est in (sg.ScoreFunction("none"), sg.StochasticDerivative()):
        e = sg.value_and_grad(prog, est, n=800, seed=2)(theta)
        assert abs(e.value - exact.value) <= 4.5 * e.value_stderr + 1e-9
        assert abs(e.grad - exact.grad) <= 4.5 * e.grad_stderr + 1e-9, (est, e.grad, exact.grad, e.grad_stderr)


def test_the_documented_new_family_works_under_every_estimator():
    """docs/distributions.md's example family (one module, no other edit) against its closed form."""
    import pathlib
    import re

    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "distributions.md").read_text()
    ns = {}
    exec(re.search(r"```python\n(.*?)```", doc, re.S).group(1), ns)
    prog = sg.stochastic(lambda t: ns["trials"](sig(t)) ** 2)
    for theta in (-0.3, 0.6):
        exact = grad(lambda t: (2 - sig(t)) / sig(t) ** 2)(theta)  # E[K²] of trials up to a success
        assert sg.value_and_grad(prog, sg.Exact())(theta).grad == pytest.approx(exact, rel=1e-7)
        # every estimator, sized to have power, and an executor: tests/core/test_estimator_family.py
        assert_unbiased(sg.value_and_grad(prog, sg.StochasticDerivative(), n=1000, seed=4)(theta), exact)
