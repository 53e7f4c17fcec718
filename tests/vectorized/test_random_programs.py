"""hypothesis: random branch-free programs, written once; vectorised estimates against Exact() on the
per-sample mode."""

import autograd.numpy as anp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import stochgrad as sg
from stochgrad.testing import assert_unbiased

coef = st.floats(-1.5, 1.5, allow_nan=False)
node = st.tuples(st.sampled_from(["bern", "cat"]), coef, coef, coef, coef, st.booleans())


def build(spec):
    """A program of Bernoulli / categorical choices over a two-component θ, branch-free (sg.select only)."""

    def prog(theta):
        t0, t1 = theta[0], theta[1]
        state, acc = 0.0, 0.0
        for i, (kind, a, b, c, w, second) in enumerate(spec):
            t = t1 if second else t0
            if kind == "bern":
                k = sg.bernoulli(1.0 / (1.0 + anp.exp(-(a * t + b + c * state))))
                state = state + sg.select(k, [0.0, 1.0])
                acc = acc + sg.select(k, [w * t, w * anp.sin(t0 + i)])
            else:
                j = sg.categorical(logits=anp.stack([a * t + 0.0 * state, b + c * state, -a * t1 + w + 0.0 * state],
                                                    axis=-1))
                state = state + sg.select(j, [0.0, 1.0, 2.0])
                acc = acc + (state - 1.5) * (w + t)
        return acc + 0.5 * state**2

    return prog


ESTIMATORS = [sg.ScoreFunction("leave_one_out"), sg.StochasticDerivative(2),
              sg.StochasticDerivative(1, control_variates=False)]


@settings(max_examples=10, deadline=None, derandomize=True)
@given(spec=st.lists(node, min_size=1, max_size=3), t0=coef, t1=coef)
def test_vectorised_estimators_agree_with_exact(spec, t0, t1):
    fn = build(spec)
    theta = np.array([t0, t1])
    exact = sg.value_and_grad(sg.stochastic(fn), sg.Exact())(theta)
    prog = sg.vectorized(fn)
    for est in ESTIMATORS:
        e = sg.value_and_grad(prog, est, n=6000, seed=3)(theta)
        # a generated gradient component can be too small for 6000 samples to give the check power (4 stderr <
        # |exact| / 4; 50000 did not suffice either): those are checked within 4 stderr without it (the fixed
        # programs of tests/vectorized/test_behaviour.py are checked with power)
        weak = 4 * np.asarray(e.grad_stderr) > 0.25 * np.abs(exact.grad)
        assert_unbiased(e, exact.grad, n_sigma=4, atol=1e-9, power=np.where(weak, np.inf, 0.25))
        assert abs(e.value - exact.value) <= 4 * e.value_stderr + 1e-9
    h = 0.05
    fd = sg.value_and_grad(prog, sg.FiniteDifference(h), n=6000, seed=3)(theta)
    target = [(sg.value_and_grad(sg.stochastic(fn), sg.Exact())(theta + h * e).value
               - sg.value_and_grad(sg.stochastic(fn), sg.Exact())(theta - h * e).value) / (2 * h) for e in np.eye(2)]
    # With common random numbers only the samples whose choices differ between θ ± h carry the
    # difference; with fewer than 25 of them the normal-theory standard error means nothing (a
    # weak θ-slope can leave all 6000 samples concordant: estimate 0 ± 0), so such components
    # are not compared here (test_walk.py checks FD against the exact central difference).
    informative = np.count_nonzero(fd.samples, axis=0) >= 25
    if informative.any():
        assert np.all(np.abs(fd.grad - target)[informative]
                      <= 4 * fd.grad_stderr[informative] + 1e-9), (fd.grad, target, fd.grad_stderr)
