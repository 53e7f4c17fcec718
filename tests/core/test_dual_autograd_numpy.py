"""autograd.numpy on the dual path (score function / stochastic derivative with a one-component θ): the same
program written with autograd.numpy and with stochgrad.numpy gives the same samples, and both agree with Exact.

``autograd.numpy.array([θ, 2θ])`` nests each dual number in a 0-d object array (NumPy keeps 0-d object arrays as
items); NumPy's elementwise functions then look for a method ``exp`` on that 0-d array, which neither stochgrad nor
its dual numbers can supply: that one case raises NumPy's TypeError (an error, never a number), and
``stochgrad.numpy``'s functions accept the nested array."""

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg
import stochgrad.numpy as snp
from stochgrad._dual import Dual


def program(np_):
    """logits built with np_.array, arithmetic and reductions on them, a categorical and a Bernoulli."""
    def f(th):
        t = th[0] if np.ndim(th) else th
        logits = np_.array([t, 2 * t, 0.5]) * np_.array([1.0, -0.5, 1.0])
        j = sg.categorical(logits=logits)
        b = sg.bernoulli(1 / (1 + np_.exp(-np_.sum(logits))))
        return (j + 1.0) ** 2 + b * np_.dot(logits, np_.array([0.5, 1.0, 0.0])) + np_.cos(t)
    return sg.stochastic(f)


@pytest.mark.parametrize("est, n, theta", [(sg.ScoreFunction(), 600, 0.3), (sg.StochasticDerivative(1), 600, 0.3),
                                           (sg.ScoreFunction(), 600, np.array([0.3]))], ids=repr)
def test_autograd_numpy_and_stochgrad_numpy_give_the_same_estimate_as_exact(est, n, theta):
    exact = sg.value_and_grad(program(anp), sg.Exact())(theta)
    assert np.allclose(sg.value_and_grad(program(snp), sg.Exact())(theta).grad, exact.grad, rtol=1e-12)
    ours = sg.value_and_grad(program(snp), est, n=n, seed=5)(theta)
    theirs = sg.value_and_grad(program(anp), est, n=n, seed=5)(theta)
    np.testing.assert_allclose(theirs.samples, ours.samples, rtol=1e-12, atol=1e-12)
    sg.testing.assert_unbiased(ours, exact.grad)


@pytest.mark.parametrize("fn", ["exp", "log", "sin", "sqrt", "tanh", "sinh", "arcsin", "square", "log10"])
def test_elementwise_functions_of_arrays_of_dual_numbers(fn):
    """NumPy calls a method of the ufunc's name on each item of an object array: every dual rule is one."""
    t = Dual(0.3, 1.0)
    want = getattr(snp, fn)(t), getattr(snp, fn)(2 * t)
    for arr in (snp.array([t, 2 * t]), np.array([t, 2 * t])):
        got = getattr(np, fn)(arr)
        assert [g.v for g in got] == [w.v for w in want] and [g.t for g in got] == [w.t for w in want]
    nested = anp.array([t, 2 * t])  # dual numbers inside 0-d arrays
    got = getattr(snp, fn)(nested)
    assert [g.v for g in got] == [w.v for w in want] and [g.t for g in got] == [w.t for w in want]
    if fn == "square":  # NumPy's object loop multiplies: no method is looked up
        got = anp.square(nested)
        assert [g.v for g in got] == [w.v for w in want] and [g.t for g in got] == [w.t for w in want]
        return
    with pytest.raises(TypeError, match=f"no callable {fn} method"):  # NumPy's own error (documented)
        getattr(anp, fn)(nested)
