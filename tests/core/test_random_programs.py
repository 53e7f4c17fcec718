"""hypothesis: random small programs with data-dependent branches agree with Exact()."""

import autograd.numpy as anp
import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import stochgrad as sg

coef = st.floats(-1.5, 1.5, allow_nan=False)
node = st.tuples(st.sampled_from(["bern", "cat"]), coef, coef, coef, coef)


def build(spec):
    @sg.stochastic
    def prog(theta):
        state, acc = 0, 0.0
        for i, (kind, a, b, c, w) in enumerate(spec):
            if kind == "bern":
                k = sg.bernoulli(1.0 / (1.0 + anp.exp(-(a * theta + b + c * state))))
                if k:
                    state += 1
                    acc = acc + w * anp.sin(theta + i)
                else:
                    acc = acc + w * theta
                    if state == 0 and i % 2 == 1:
                        return acc - 1.0  # early return on a sampled value
            else:
                j = sg.categorical(logits=anp.array([a * theta, b + c * state, -a * theta + w]))
                while j > 0 and state < 3:  # a loop driven by the sampled value
                    state += 1
                    j -= 1
                acc = acc + (state - 1.5) * (w + theta)
        return acc + 0.5 * state**2

    return prog


@given(spec=st.lists(node, min_size=1, max_size=4), theta=coef)
# a choice whose probability barely moves: its alternative part (~1e-139) must not be
# lost next to the pathwise term, or the control variates (which then fit the
# choice perfectly) shift the mean
@example(spec=[("bern", 2.9e-138, 0.0, 0.0, 1.0)], theta=1.0)
def test_unbiased_estimators_agree_with_exact(spec, theta):
    prog = build(spec)
    exact = sg.value_and_grad(prog, sg.Exact())(theta)
    for est in (sg.ScoreFunction("leave_one_out"), sg.StochasticDerivative()):
        e = sg.value_and_grad(prog, est, n=1500, seed=7)(theta)
        assert abs(e.value - exact.value) <= 4.5 * e.value_stderr + 1e-9
        assert abs(e.grad - exact.grad) <= 4.5 * e.grad_stderr + 1e-9, (est, e.grad, exact.grad, e.grad_stderr)


@given(spec=st.lists(node, min_size=1, max_size=3), theta=coef)
def test_exact_probabilities_sum_to_one(spec, theta):
    prog = build(spec)
    total = 0.0
    for run, prob in sg.Exact().enumerate(prog, theta):
        total += float(getattr(prob, "_value", prob))
    assert np.isclose(total, 1.0)
