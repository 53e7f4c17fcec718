"""Ordinary Python in a stochastic function means what it means in plain Python, on every execution path.

One regression test per defect found by trying programs as a new user would
(dispatch tables keyed by functions, identity tests, subclasses, module
attributes rebound during the run, ``==`` guards on θ, θ of shape ``(1,)``,
exceptions, pickling, executors). Each compares the traced estimators with
:class:`~stochgrad.Exact` (values exactly where the estimator is exact in value,
gradients within 4 standard errors).
"""

import concurrent.futures as cf
import pickle
import sys

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg
import stochgrad.numpy as snp

ESTIMATORS = [sg.ScoreFunction(), sg.StochasticDerivative(), sg.StochasticDerivative(control_variates=False)]
N = 2000


def _sigmoid(x):
    return 1.0 / (1.0 + snp.exp(-x))


def _agrees_with_exact(f, theta, estimators=ESTIMATORS, n=N):
    ex = sg.value_and_grad(f, sg.Exact())(theta)
    for est in estimators:
        e = sg.value_and_grad(f, est, n=n, seed=3)(theta)
        assert abs(e.value - ex.value) <= 4 * e.value_stderr + 1e-12, (est, e, ex)
        assert np.all(np.abs(np.asarray(e.grad) - ex.grad) <= 4 * np.asarray(e.grad_stderr) + 1e-9), (est, e, ex)
    return ex


def helper(x):
    return x


def other(x):
    return 2.0 * x


ACT = {anp.exp: 1.0, anp.sin: 2.0}
WEIGHT = {helper: 3.0, other: 0.5}
STEP = helper
SCALE = 1.0


@sg.stochastic
def dispatch(t):
    """Dispatch tables keyed by functions (autograd.numpy's and our own)."""
    f = anp.exp if sg.bernoulli(_sigmoid(t)) else anp.sin
    g = other if sg.bernoulli(0.3 + 0.4 * _sigmoid(2 * t)) else helper
    return ACT[f] * f(t) * WEIGHT[g] * g(t)


def test_dispatch_tables_keyed_by_functions():
    ex = _agrees_with_exact(dispatch, 0.4)
    s, s2 = 1 / (1 + np.exp(-0.4)), 0.3 + 0.4 / (1 + np.exp(-0.8))
    a = s * np.exp(0.4) + (1 - s) * 2 * np.sin(0.4)
    assert ex.value == pytest.approx(a * (s2 * 0.5 * 0.8 + (1 - s2) * 3.0 * 0.4), rel=1e-12)


@sg.stochastic
def identity(t):
    """An identity test between module names decides the branch."""
    k = sg.bernoulli(_sigmoid(t))
    if STEP is helper:
        return k * t * t
    return 100.0 * k


def test_identity_tests_between_module_names():
    ex = _agrees_with_exact(identity, 0.7)
    s = 1 / (1 + np.exp(-0.7))
    assert ex.value == pytest.approx(s * 0.49, rel=1e-12)
    for est in ESTIMATORS:
        e = sg.value_and_grad(identity, est, n=200, seed=1)(0.7)
        assert set(np.round(e.values, 12)) <= {0.0, 0.49}


class Doubled(sg.StochasticFunction):
    """A subclass whose ``__call__`` changes what the program returns."""

    def __call__(self, theta, *args, **kwargs):
        return 2.0 * self.fn(theta, *args, **kwargs) + 1.0


def _plain(t):
    return sg.bernoulli(_sigmoid(t)) * snp.sin(t)


def test_a_subclass_overriding_call_is_called():
    f = Doubled(_plain)
    ex = _agrees_with_exact(f, 0.3, ESTIMATORS + [sg.FiniteDifference(0.01)])
    s = 1 / (1 + np.exp(-0.3))
    assert ex.value == pytest.approx(2 * s * np.sin(0.3) + 1, rel=1e-12)


def _set_scale(v):
    sys.modules[__name__].SCALE = v  # a helper rebinding a module attribute (as another module would)


@sg.stochastic
def rebinding(t):
    _set_scale(3.0)
    try:
        return SCALE * sg.bernoulli(_sigmoid(t)) * t
    finally:
        _set_scale(1.0)


def test_a_module_attribute_rebound_during_the_run_is_read_fresh():
    ex = _agrees_with_exact(rebinding, 0.5, ESTIMATORS + [sg.FiniteDifference(0.01)])
    assert ex.value == pytest.approx(3.0 * 0.5 / (1 + np.exp(-0.5)), rel=1e-12)
    for est in ESTIMATORS:
        e = sg.value_and_grad(rebinding, est, n=50, seed=0)(0.5)
        assert set(e.values.tolist()) <= {0.0, 1.5}
    assert SCALE == 1.0


@sg.stochastic
def guarded(t):
    k = sg.bernoulli(_sigmoid(t))
    if t == 0.25:
        return 10.0 * k + t
    return k + t


@pytest.mark.parametrize("theta", [0.25, 0.3])
def test_an_equality_guard_on_theta_takes_the_branch_plain_python_takes(theta):
    ex = _agrees_with_exact(guarded, theta)
    s = 1 / (1 + np.exp(-theta))
    assert ex.value == pytest.approx((10.0 if theta == 0.25 else 1.0) * s + theta, rel=1e-12)


def test_stochastic_derivative_with_theta_of_shape_one():
    @sg.stochastic
    def f(t):
        return sg.bernoulli(_sigmoid(t[0])) * snp.cos(t[0]) + t[0] ** 2

    theta = np.array([0.3])
    ex = _agrees_with_exact(f, theta)
    for est in ESTIMATORS:
        assert np.shape(sg.value_and_grad(f, est, n=20, seed=0)(theta).grad) == (1,)
    assert np.shape(ex.grad) == (1,)


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("est", ESTIMATORS, ids=repr)
def test_a_program_that_raises_propagates_after_one_run(est):
    calls = []

    def f(t):
        calls.append(t)
        if sg.bernoulli(_sigmoid(t)) or True:
            raise Boom("from the program")

    with pytest.raises(Boom, match="from the program"):
        sg.value_and_grad(f, est, n=10, seed=0)(0.2)
    assert len(calls) == 1


@sg.stochastic
def pool_walk(p, steps=12):
    x = 0
    for _ in range(steps):
        x += 1 if sg.bernoulli(snp.exp(-x / p)) else -1
    return x * x


def test_decorated_functions_pickle_by_reference_and_run_on_a_process_pool():
    assert pickle.loads(pickle.dumps(pool_walk)) is pool_walk
    assert pickle.loads(pickle.dumps(dispatch)) is dispatch
    local = sg.value_and_grad(pool_walk, sg.ScoreFunction(), n=64, seed=5)(3.0)
    with cf.ProcessPoolExecutor(2) as pool:
        far = sg.value_and_grad(pool_walk, sg.ScoreFunction(), n=64, seed=5, executor=pool, chunk_size=20)(3.0)
    assert (far.value, far.grad, far.grad_stderr) == (local.value, local.grad, local.grad_stderr)


class _FirstChunkOnly(cf.Executor):
    """A broken executor: every chunk task answers with the result of the first chunk."""

    def __init__(self):
        self.first = None

    def submit(self, fn, *args, **kwargs):
        fut = cf.Future()
        if self.first is None or fn.__name__ != "_chunk_task":
            out = fn(*args, **kwargs)
            if fn.__name__ == "_chunk_task":
                self.first = out
        else:
            out = self.first
        fut.set_result(out)
        return fut


def test_a_chunk_for_the_wrong_sample_range_is_refused():
    with pytest.raises(RuntimeError, match="samples"):
        sg.value_and_grad(pool_walk, sg.ScoreFunction(), n=40, seed=0, executor=_FirstChunkOnly(),
                          chunk_size=10)(3.0)


def test_dual_numbers_compare_hash_and_test_truth_like_their_floats():
    from stochgrad._dual import Dual

    d, z = Dual(0.25, 1.0), Dual(0.0, 2.0)
    assert d == 0.25 and 0.25 == d and d != 0.3 and not (d != 0.25) and d == Dual(0.25, -3.0)
    assert d < 0.3 and d <= 0.25 and 0.3 > d and d >= 0.25 and not d > 0.25 and max(d, 0.1) is d
    assert hash(d) == hash(0.25) and {0.25: "a"}[d] == "a" and d in {0.25} and len({d, 0.25}) == 1
    assert bool(d) and not z and (1 if z else 2) == 2
    assert np.float64(0.25) == d and [0.25].index(d) == 0
    for op in (float, int, round, lambda x: x // 2, lambda x: [1, 2][x]):
        with pytest.raises(sg.DualUnsupported, match="θ-dependent"):
            op(d)


def test_numpy_functions_of_dual_numbers_follow_numpy_outside_the_math_domain():
    """sqrt'(0) = inf, exp(1000) = inf, sin(inf) = nan, as autograd.numpy gives (no math-module exception)."""
    from stochgrad._dual import Dual

    with np.errstate(all="ignore"):
        assert snp.sqrt(Dual(0.0, 1.0)).t == np.inf and anp.exp(Dual(1000.0, 1.0)).v == np.inf
        assert np.isnan(snp.sin(Dual(np.inf, 1.0)).v) and np.isnan(anp.log(Dual(-1.0, 1.0)).v)
        with pytest.raises(ValueError, match="not finite"):
            sg.value_and_grad(lambda t: anp.sqrt(t - 0.3) + sg.bernoulli(0.5), "score", n=4, seed=0)(0.3)


def test_reductions_of_a_scalar_theta_are_the_number_itself():
    """``anp.sum(θ)`` / ``anp.max(θ)`` / ``anp.prod(θ)`` of a scalar θ (ordinary NumPy code) work on the dual path
    and give what Exact gives (they raised DualUnsupported for numpy.add.reduce)."""
    import autograd.numpy as anp

    f = sg.stochastic(lambda t: 3 * sg.bernoulli(anp.sum(t)) + anp.max(t) * anp.prod(t) + anp.min(t))
    exact = sg.value_and_grad(f, sg.Exact())(0.3)
    sd = sg.value_and_grad(f, sg.StochasticDerivative(), n=200, seed=0)(0.3)
    assert float(sd.grad) == pytest.approx(float(exact.grad), rel=1e-12)
    sc = sg.value_and_grad(f, sg.ScoreFunction(), n=4000, seed=0)(0.3)
    assert abs(float(sc.grad) - float(exact.grad)) < 4 * float(sc.grad_stderr)


def test_an_array_built_from_a_scalar_theta_with_stochgrad_numpy():
    """``snp.array([θ, θ/2, −θ])`` then a softmax (the usual way to build logits) works on the dual path and
    matches Exact; ``autograd.numpy.array`` of dual numbers cannot feed ``np.exp`` (documented)."""
    def softmax3(t):
        z = snp.array([t, 0.5 * t, -t])
        return snp.exp(z) / snp.sum(snp.exp(z))

    f = sg.stochastic(lambda t: (sg.categorical(probs=softmax3(t)) + 1.0) ** 2)
    exact = sg.value_and_grad(f, sg.Exact())(0.3)
    sd = sg.value_and_grad(f, sg.StochasticDerivative(), n=4000, seed=0)(0.3)
    assert abs(float(sd.grad) - float(exact.grad)) < 4 * float(sd.grad_stderr)
    assert snp.array(["a", "b"]).dtype.kind == "U" and snp.array([1.0, 2.0]).dtype == np.float64
