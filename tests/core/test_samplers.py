"""Integer samplers: the exact inverse CDF of the replayed uniform (checked against scipy), at a cost that does not
grow with the parameter, and Exact refusing supports it cannot enumerate."""

import math

import autograd.numpy as anp
import numpy as np
import pytest
import scipy.stats as st

import stochgrad as sg
from stochgrad.distributions import BINOMIAL, GEOMETRIC, NEGATIVE_BINOMIAL, POISSON, Binomial, Geometric, \
    NegativeBinomial, Poisson

CASES = [(POISSON, (3.5,), st.poisson(3.5)), (POISSON, (1e-9,), st.poisson(1e-9)),
         (POISSON, (1e8,), st.poisson(1e8)),
         (BINOMIAL, (20, 0.3), st.binom(20, 0.3)), (BINOMIAL, (2000, 0.5), st.binom(2000, 0.5)),
         (BINOMIAL, (10**6, 0.3), st.binom(10**6, 0.3)), (BINOMIAL, (10**12, 1e-3), st.binom(10**12, 1e-3)),
         (GEOMETRIC, (0.3,), st.geom(0.3, loc=-1)), (GEOMETRIC, (1e-9,), st.geom(1e-9, loc=-1)),
         (NEGATIVE_BINOMIAL, (3.0, 0.4), st.nbinom(3, 0.4)), (NEGATIVE_BINOMIAL, (2.5, 1e-6), st.nbinom(2.5, 1e-6))]
IDS = [f"{fam.name}{pv}" for fam, pv, _ in CASES]


@pytest.mark.parametrize("fam, pv, ref", CASES, ids=IDS)
def test_inverse_cdf_equals_scipy(fam, pv, ref):
    u = np.random.default_rng(len(IDS)).random(200) * (1 - 2e-10) + 1e-10
    ours = np.array([fam.ppf(pv, float(x)) for x in u], dtype=float)
    np.testing.assert_array_equal(ours, ref.ppf(u))


@pytest.mark.parametrize("fam, pv, ref", CASES + [(POISSON, (2.5e13,), st.poisson(2.5e13))],
                         ids=IDS + ["poisson(2.5e13) (scipy's ppf gives NaN there)"])
def test_inverse_cdf_in_the_far_tails(fam, pv, ref):
    """Beyond scipy's ppf's precision: F(k − 1) ≤ u < F(k) with scipy's cdf (lower half) or sf (upper half)."""
    for u in (1e-300, 1e-17, 1e-12, 0.3, 0.7, 1 - 1e-12, 1 - 2.0**-53):
        k = fam.ppf(pv, u)
        if u <= 0.5:
            assert u < ref.cdf(k) and (k == ref.support()[0] or ref.cdf(k - 1) <= u)
        else:
            assert ref.sf(k) < 1 - u <= ref.sf(k - 1) * (1 + 1e-9)


@pytest.mark.parametrize("cls, pv", [(Poisson, (1e8,)), (Poisson, (1e14,)), (Binomial, (10**9, 0.5)),
                                     (Geometric, (1e-12,)), (NegativeBinomial, (4.0, 1e-7))])
def test_cost_does_not_grow_with_the_parameter(cls, pv):
    class Counting(cls):
        calls = 0

        def below(self, pv, u, k):
            Counting.calls += 1
            return super().below(pv, u, k)

    fam = Counting()
    for u in np.random.default_rng(0).random(50):
        fam.ppf(pv, float(u))
    assert Counting.calls <= 50 * 2 * 64  # galloping + bisection: O(log) evaluations of the CDF per draw


def test_geometric_with_a_vanishing_success_probability():
    for u in (1e-12, 0.3, 0.9, 1 - 2.0**-53):
        k = GEOMETRIC.ppf((1e-300,), u)  # 1 − p == 1 in floats: the old search never ended
        assert k * 1e-300 == pytest.approx(-math.log1p(-u), rel=1e-12)


def test_large_parameters_are_traced_and_replayed():
    """Finite differences replay the same uniforms at θ ± h (common random numbers), the stochastic derivative moves
    single units: both see d/dθ E[X] with X ~ Poisson(1e8 e^θ) or Binomial(10^6, σ(θ))."""
    pois = sg.stochastic(lambda t: sg.poisson(1e8 * anp.exp(t)) * 1e-8)
    e = sg.value_and_grad(pois, sg.FiniteDifference(1e-4), n=50, seed=0)(0.0)
    assert abs(e.grad - 1.0) < 5 * e.grad_stderr + 0.05
    e = sg.value_and_grad(pois, sg.StochasticDerivative(), n=50, seed=0)(0.0)
    assert e.grad == pytest.approx(1.0, rel=1e-6)
    binom = sg.stochastic(lambda t: sg.binomial(10**6, 1 / (1 + anp.exp(-t))) * 1e-6)
    e = sg.value_and_grad(binom, sg.StochasticDerivative(), n=50, seed=0)(0.0)
    assert abs(e.grad - 0.25) <= 4 * e.grad_stderr


def test_exact_refuses_a_support_it_cannot_enumerate_at_once():
    for prog in (lambda t: sg.poisson(1e8 * anp.exp(t)), lambda t: sg.geometric(1e-9 + 0 * t),
                 lambda t: sg.binomial(10**9, 0.5 + 0 * t)):
        with pytest.raises(ValueError, match="more than the 100000"):
            sg.value_and_grad(sg.stochastic(prog), sg.Exact())(0.0)


def test_samples_outside_a_trace_follow_the_law():
    """Chi-square of 4000 draws of Binomial(30, 0.4) and Poisson(6.5) against scipy's pmf (cells of expectation ≥ 5)."""
    rng = np.random.default_rng(3)
    for draw, law in [(lambda: sg.binomial(30, 0.4, rng=rng), st.binom(30, 0.4)),
                      (lambda: sg.poisson(6.5, rng=rng), st.poisson(6.5)),
                      (lambda: sg.negative_binomial(2.5, 0.4, rng=rng), st.nbinom(2.5, 0.4))]:
        x = np.array([draw() for _ in range(4000)])
        edges = np.arange(law.ppf(0.005), law.ppf(0.995) + 1)
        obs = np.array([np.sum(x < edges[0])] + [np.sum(x == k) for k in edges] + [np.sum(x > edges[-1])])
        exp = 4000 * np.concatenate([[law.cdf(edges[0] - 1)], law.pmf(edges), [law.sf(edges[-1])]])
        obs, exp = obs[exp > 0], exp[exp > 0]
        assert st.chi2.sf(np.sum((obs - exp) ** 2 / exp), len(obs) - 1) > 1e-4
