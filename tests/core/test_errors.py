"""Bad input gets a clear error that says what to change."""

import math
import warnings

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg
from stochgrad.examples import sincos


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan])
def test_bernoulli_bad_p(p):
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\]"):
        sg.bernoulli(p)

    @sg.stochastic
    def f(theta):
        return float(sg.bernoulli(p + 0 * theta))

    with pytest.raises(ValueError, match="sigmoid"):
        sg.value_and_grad(f, "score", n=2, seed=0)(0.1)


@pytest.mark.parametrize("logits", [[0.0, math.nan], [math.inf, 0.0], [0.0, -math.inf]])
def test_categorical_bad_logits(logits):
    with pytest.raises(ValueError, match="logits must be finite"):
        sg.categorical(logits=np.array(logits))


def test_categorical_bad_probs_and_arguments():
    with pytest.raises(ValueError, match="sum to 1"):
        sg.categorical(probs=np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="exactly one"):
        sg.categorical()
    with pytest.raises(ValueError, match="exactly one"):
        sg.categorical(logits=np.zeros(2), probs=np.ones(2) / 2)


def test_unknown_estimator_and_bad_n():
    with pytest.raises(ValueError, match="unknown estimator"):
        sg.value_and_grad(sincos, "magic")
    with pytest.raises(ValueError, match="unknown estimator"):
        sg.value_and_grad(sincos, object())
    for n in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            sg.value_and_grad(sincos, "score", n=n)


def test_estimator_configuration_errors():
    with pytest.raises(ValueError, match="baseline"):
        sg.ScoreFunction("median")
    with pytest.raises(ValueError, match="step"):
        sg.FiniteDifference(0.0)
    with pytest.raises(ValueError, match="temperature"):
        sg.GumbelSTE(-1.0)
    with pytest.raises(ValueError, match="n_alternatives"):
        sg.StochasticDerivative(0)


def test_non_scalar_and_nan_output():
    @sg.stochastic
    def vec(theta):
        return anp.array([theta, theta]) * sg.bernoulli(0.5)

    with pytest.raises(ValueError, match="must return a scalar"):
        sg.value_and_grad(vec, "score", n=3, seed=0)(0.2)

    @sg.stochastic
    def nan(theta):
        return anp.log(theta - 10.0) * sg.bernoulli(0.5)

    with pytest.raises(ValueError, match="returned nan"):
        sg.value_and_grad(nan, "sd", n=3, seed=0)(0.2)


def test_exact_too_many_traces():
    from stochgrad.examples import random_walk

    with pytest.raises(sg.TooManyTraces, match="more than 64 traces"):
        sg.value_and_grad(random_walk, sg.Exact(max_traces=64))(3.0, 10)


def test_gumbel_refuses_branch_only_program():
    with pytest.raises(ValueError, match="silently zero"):
        sg.value_and_grad(sincos, sg.GumbelSTE(0.5), n=20, seed=0)(0.3)


def test_comparison_of_theta_dependent_value_warns():
    @sg.stochastic
    def f(theta):
        x = theta * 2.0 + sg.bernoulli(0.5)
        return 1.0 if x > 1.0 else 0.0  # a hidden jump in θ

    with pytest.warns(sg.BiasWarning, match="compares a θ-dependent"):
        sg.value_and_grad(f, sg.StochasticDerivative(), n=5, seed=0)(0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.value_and_grad(f, sg.FiniteDifference(0.1), n=5, seed=0)(0.3)  # FD sees jumps: no warning


def test_batched_program_contract_errors():
    @sg.batched
    def wrong_shape(theta, n, seed, want):
        return sg.BatchSamples(value=np.zeros(n + 1), score=np.zeros(n + 1))

    with pytest.raises(ValueError, match="value must have shape"):
        sg.value_and_grad(wrong_shape, "score", n=4, seed=0)(0.1)

    @sg.batched
    def no_alts(theta, n, seed, want):
        return sg.BatchSamples(value=np.zeros(n), score=np.zeros(n))

    with pytest.raises(ValueError, match="alt_weight"):
        sg.value_and_grad(no_alts, "sd", n=4, seed=0)(0.1)
    with pytest.raises(TypeError, match="Exact"):
        sg.value_and_grad(no_alts, sg.Exact())(0.1)

    @sg.batched
    def has_nan(theta, n, seed, want):
        v = np.zeros(n)
        v[2] = np.nan
        return sg.BatchSamples(value=v, score=np.zeros(n))

    with pytest.raises(ValueError, match="sample 2 is not finite"):
        sg.value_and_grad(has_nan, "score", n=4, seed=0)(0.1)


def test_mixing_numpy_and_cupy_is_a_type_error():
    class FakeCupy:
        __module__ = "cupy._core"

    with pytest.raises(TypeError, match="mix numpy and cupy"):
        sg.backend.array_module(np.zeros(2), FakeCupy())


def test_score_function_refuses_at_a_boundary_of_the_parameter_space():
    """bernoulli(θ) at θ = 0 (or a categorical with a zero-probability outcome that moves): the score function refuses."""
    import warnings

    import autograd.numpy as anp
    import numpy as np
    import pytest

    import stochgrad as sg

    @sg.stochastic
    def f(theta):
        return 3.0 if sg.bernoulli(theta) else 1.0

    with pytest.raises(ValueError, match="probability 0"):  # it would give 0 (exact: 2)
        sg.value_and_grad(f, sg.ScoreFunction(), n=100, seed=0)(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sg.BiasWarning)
        sg.value_and_grad(f, sg.ScoreFunction(), n=100, seed=0)(0.3)  # inside: no warning
        # the stochastic derivative is right on the boundary
        assert sg.value_and_grad(f, sg.StochasticDerivative(), n=100, seed=0)(0.0).grad == pytest.approx(2.0)

    @sg.stochastic
    def g(theta):
        return float(sg.categorical(probs=anp.array([theta[0], theta[1], 1 - theta[0] - theta[1]])))

    with pytest.raises(ValueError, match="site"):
        sg.value_and_grad(g, sg.ScoreFunction(), n=100, seed=0)(np.array([0.0, 0.5]))
