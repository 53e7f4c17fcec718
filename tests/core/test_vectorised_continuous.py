"""The continuous families (normal, exponential, gamma) in the vectorised mode: every estimator the mode runs
agrees with a closed form, the draws and their pathwise derivatives are the traced mode's formula on the same
uniforms, the device's noise scheme runs them on NumPy, and a continuous draw feeding a discrete choice is right
under the stochastic derivative's replays."""

import numpy as np
import pytest
from autograd import grad
from scipy import integrate, stats

import autograd.numpy as anp
import stochgrad as sg
from stochgrad._dual import Dual
from stochgrad._vectorized.noise import Noise, stream_id
from stochgrad.distributions import EXPONENTIAL, GAMMA, NORMAL
from stochgrad.testing import assert_unbiased

T = 0.5
# name: (draw X, E[X²](θ) in closed form, family, its parameters as functions of θ, scipy law of X at T)
FAMILIES = {
    "normal": (lambda t: sg.normal(t, 1 + t ** 2), lambda t: t ** 2 + (1 + t ** 2) ** 2,
               NORMAL, lambda t: (t, 1 + t ** 2), stats.norm(T, 1 + T ** 2)),
    "exponential": (lambda t: sg.exponential(anp.exp(t)), lambda t: 2 / anp.exp(2 * t),
                    EXPONENTIAL, lambda t: (anp.exp(t),), stats.expon(scale=np.exp(-T))),
    "gamma": (lambda t: sg.gamma(1.5 + t ** 2, 2.0 + t),
              lambda t: (1.5 + t ** 2) * (2.5 + t ** 2) / (2.0 + t) ** 2,
              GAMMA, lambda t: (1.5 + t ** 2, 2.0 + t), stats.gamma(1.5 + T ** 2, scale=1 / (2.0 + T))),
}
# (estimator, its bias bound: FD's O(h²) and GS-STE's none, as the families are pathwise)
ESTIMATORS = [sg.ScoreFunction(), sg.ScoreFunction("none"), sg.StochasticDerivative(2),
              sg.FiniteDifference(0.01), sg.GumbelSTE(0.5)]


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("est", ESTIMATORS, ids=repr)
def test_every_estimator_agrees_with_the_closed_form(family, est):
    draw, expect = FAMILIES[family][:2]
    e = sg.value_and_grad(sg.vectorized(lambda t: draw(t) ** 2), est, n=20_000, seed=4)(T)
    assert abs(e.value - expect(T)) <= 4 * e.value_stderr
    assert_unbiased(e, grad(expect)(T), atol=1e-4 if isinstance(est, sg.FiniteDifference) else 0.0)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_draws_and_derivatives_are_the_traced_formula_on_the_same_uniforms(family):
    draw, _, fam, params, law = FAMILIES[family]
    n = 64
    u = Noise(3, 0, n).uniform(stream_id("site", 0))
    x = sg.vectorized(draw).sample(T, n, seed=3)
    np.testing.assert_allclose(x, law.ppf(u), rtol=1e-9)  # an independent inverse CDF (scipy)
    path = sg.vectorized(draw)(T, n, 3, sg.Want(pathwise=True)).pathwise
    traced = [fam.transform(params(Dual(T, 1.0)), float(ui)) for ui in u]  # the traced mode's dual numbers
    np.testing.assert_array_equal(x, [d.v for d in traced])
    np.testing.assert_allclose(path, [d.t for d in traced], rtol=1e-12)


@pytest.mark.parametrize("est", [sg.ScoreFunction(), sg.StochasticDerivative(2)], ids=repr)
def test_the_device_noise_scheme_and_chunks(est):
    draw, expect = FAMILIES["gamma"][:2]
    prog = lambda t: draw(t) ** 2  # noqa: E731
    e = sg.value_and_grad(sg.vectorized(prog, noise="hash"), est, n=20_000, seed=1)(T)
    assert_unbiased(e, grad(expect)(T))
    chunked = sg.value_and_grad(sg.vectorized(prog, noise="hash", chunk=7_000), est, n=20_000, seed=1)(T)
    np.testing.assert_array_equal(chunked.samples, e.samples)


def _smeared(t):
    """A continuous draw feeding a discrete choice: x ~ N(t, 1), kept with probability σ(x); f = x if kept."""
    x = sg.normal(t, 1.0)
    return sg.select(sg.bernoulli(1 / (1 + anp.exp(-x))), [0.0, x])


def _smeared_exact(t):
    mean = integrate.quad(lambda x: x / (1 + np.exp(-x)) * stats.norm.pdf(x, t), -12 + t, 12 + t, epsabs=1e-13)
    return mean[0]


@pytest.mark.parametrize("est", [sg.ScoreFunction(), sg.StochasticDerivative(2), sg.FiniteDifference(0.01)],
                         ids=repr)
def test_a_continuous_draw_feeding_a_choice(est):
    h = 1e-4
    exact = (_smeared_exact(T + h) - _smeared_exact(T - h)) / (2 * h)
    e = sg.value_and_grad(sg.vectorized(_smeared), est, n=20_000, seed=2)(T)
    assert_unbiased(e, exact, atol=1e-4 if isinstance(est, sg.FiniteDifference) else 1e-6)


def test_per_sample_parameters_are_refused_clearly():
    with pytest.raises(ValueError, match="mean must be a scalar"):
        sg.vectorized(lambda t: sg.normal(sg.uniform() * t, 1.0)).sample(1.0, 4, 0)


def test_another_array_module_is_refused_clearly():
    """On CuPy the families' scipy special functions would need a host round trip: refused, naming the way out."""
    import types

    from stochgrad._vectorized.run import VecRun

    run = VecRun(4, Noise(0, 0, 4), xp=types.SimpleNamespace(__name__="cupy"))
    with pytest.raises(TypeError, match="normal runs on NumPy only.*stochgrad.uniform"):
        run.sample(NORMAL, (0.0, 1.0))


def test_a_family_module_with_per_sample_parameters_through_the_generic_primitive():
    """sg.extend.sample (what a new family's primitive calls) may pass one parameter per sample: checked, then the
    same transform (here the normal's) on each sample's own parameters."""
    from stochgrad.extend import sample

    x = sg.vectorized(lambda t: sample(NORMAL, (np.arange(4.0) * t, 1.0))).sample(2.0, 4, seed=0)
    z = stats.norm.ppf(Noise(0, 0, 4).uniform(stream_id("site", 0)))
    np.testing.assert_allclose(x, np.arange(4.0) * 2.0 + z, rtol=1e-12)
    with pytest.raises(ValueError, match=r"one entry per sample, shape \(4,\), got shape \(3,\)"):
        sg.vectorized(lambda t: sample(NORMAL, (np.arange(3.0), 1.0))).sample(2.0, 4, seed=0)
