"""Differential tests: generated programs of ordinary Python, every execution path and estimator against Exact.

A program is a sequence of blocks, each a piece of Python a user writes around a
stochastic choice: a dispatch table keyed by functions, an identity test between
module names, an ``==`` guard on θ, a closure, a method, ``functools.partial``, a
module attribute rebound during the run, a loop, an early return; the whole
program is sometimes a subclass of ``StochasticFunction`` overriding
``__call__``. On the same noise the plain, dual-number and autograd-boxed runs
give the same value exactly; the unbiased estimators agree with ``Exact`` within
4 standard errors, and so does the vectorised mode on branch-free programs.
"""

import functools
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import stochgrad as sg
import stochgrad.numpy as snp
from stochgrad.extend import NoiseTape, Trace, run_boxed, run_plain
from stochgrad._run import run_dual

LEVEL = 1.0


def _sig(x):
    return 1.0 / (1.0 + snp.exp(-x))


def _helper(y):
    return y


def _other(y):
    return -y


ALIAS = _helper
TABLE = {snp.sin: 0.5, snp.cos: 2.0, _helper: 1.5, _other: -0.5}


class Scaler:
    def __init__(self, a):
        self.a = a

    def apply(self, t, x):
        return x + self.a * t


def _affine(a, t):
    return a * t + 1.0


def _set_level(v):
    sys.modules[__name__].LEVEL = v


def b_dispatch(t, x, c):
    f = snp.sin if sg.bernoulli(_sig(c * t)) else snp.cos
    g = _helper if sg.bernoulli(0.4) else _other
    return x + TABLE[f] * f(t) + TABLE[g] * g(c)


def b_identity(t, x, c):
    g = ALIAS if sg.bernoulli(_sig(t - c)) else _other
    if g is _helper:
        return x + t * t
    return x - c * t


def b_guard(t, x, c):
    k = sg.bernoulli(_sig(t))
    if t == c:
        return x + 10.0 * k
    return x + k * c


def b_closure(t, x, c):
    def inner(y):
        return y * c + t

    return inner(x) if sg.bernoulli(0.3 + 0.4 * _sig(t)) else x


def b_method(t, x, c):
    return Scaler(c).apply(t, x) if sg.bernoulli(_sig(-t)) else x


def b_partial(t, x, c):
    f = functools.partial(_affine, c)
    k = sg.categorical(logits=snp.array([0.0, t, c * t]))
    return x + f(t) * int(k)


def b_module(t, x, c):
    _set_level(c)
    try:
        return x + LEVEL * t * sg.bernoulli(_sig(t + c))
    finally:
        _set_level(1.0)


def b_loop(t, x, c):
    for i in range(2):
        x = x + sg.bernoulli(_sig(t + i * c)) * t
    return x


BLOCKS = {f.__name__: f for f in (b_dispatch, b_identity, b_guard, b_closure, b_method, b_partial, b_module, b_loop)}


class Twice(sg.StochasticFunction):
    def __call__(self, theta, *args, **kwargs):
        return 2.0 * super().__call__(theta, *args, **kwargs) - 1.0


def make(blocks, subclass):
    def prog(t):
        x = 0.0
        for name, c, early in blocks:
            x = BLOCKS[name](t, x, c)
            if early and sg.bernoulli(0.5):  # an early return
                return x
        return x

    return Twice(prog) if subclass else sg.stochastic(prog)


block = st.tuples(st.sampled_from(sorted(BLOCKS)), st.sampled_from([0.25, -0.4, 0.7]), st.booleans())
programs = st.tuples(st.lists(block, min_size=1, max_size=3), st.booleans(), st.sampled_from([0.25, 0.7]))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(programs)
def test_paths_give_the_same_values(case):
    blocks, subclass, theta = case
    f = make(blocks, subclass)
    for seed in range(3):
        tape = NoiseTape(np.random.default_rng(seed))
        plain = run_plain(f, theta, (), {}, Trace(tape), "t")
        dual = run_dual(f, theta, (), {}, Trace(tape), "t")
        boxed = run_boxed(f, theta, (), {}, Trace(tape), "t")
        assert plain.value == dual.value == boxed.value
        assert [c.value for c in plain.records] == [c.value for c in dual.records] == [c.value for c in boxed.records]
        assert float(dual.grad_of(dual.out)) == float(boxed.grad_of(boxed.out)) or \
            abs(float(dual.grad_of(dual.out)) - float(boxed.grad_of(boxed.out))) <= 1e-12 * (
                1 + abs(float(boxed.grad_of(boxed.out))))


ESTIMATORS = [sg.ScoreFunction(), sg.StochasticDerivative(), sg.StochasticDerivative(2, control_variates=False)]


@settings(max_examples=12, deadline=None, derandomize=True)
@given(programs)
def test_estimators_agree_with_exact(case):
    blocks, subclass, theta = case
    f = make(blocks, subclass)
    exact = sg.value_and_grad(f, sg.Exact())(theta)
    for est in ESTIMATORS:
        e = sg.value_and_grad(f, est, n=400, seed=11)(theta)
        assert abs(e.value - exact.value) <= 4 * e.value_stderr + 1e-9, (est, e, exact)
        assert abs(e.grad - exact.grad) <= 4 * e.grad_stderr + 1e-9, (est, e, exact)


def make_branch_free(coefs):
    def prog(t):
        x = 0.0
        for a, b in coefs:
            k = sg.bernoulli(_sig(a * t + b))
            x = x + sg.select(k, [b, a * t * t]) + LEVEL * t
        return x * x

    return prog


@settings(max_examples=6, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from([0.5, -1.0, 2.0]), st.sampled_from([0.0, 0.3, -0.7])), min_size=1,
                max_size=3))
def test_vectorised_mode_agrees_with_exact_on_branch_free_programs(coefs):
    prog = make_branch_free(coefs)
    exact = sg.value_and_grad(sg.stochastic(prog), sg.Exact())(0.4)
    for est in ESTIMATORS:
        e = sg.value_and_grad(sg.vectorized(prog), est, n=4000, seed=5)(0.4)
        assert abs(e.value - exact.value) <= 4 * e.value_stderr + 1e-9, (est, e, exact)
        assert abs(e.grad - exact.grad) <= 4 * e.grad_stderr + 1e-9, (est, e, exact)
