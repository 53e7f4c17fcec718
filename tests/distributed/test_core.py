"""Core estimates on executors are bit-identical to the local ones (any chunking), and survive a killed worker."""

import concurrent.futures as cf
import os
import signal

import autograd.numpy as anp
import numpy as np
import pytest

import stochgrad as sg
from stochgrad.distributed import exact_sum, exact_value

from .conftest import in_worker


@sg.stochastic
def walk(theta):
    """A 6-step walk with θ-dependent steps and a pathwise term: f = X² + θ X."""
    x = 0.0
    for _ in range(6):
        if sg.bernoulli(1.0 / (1.0 + np.exp(-theta))):
            x = x + 1.0
    return x * x + theta * x


@sg.stochastic
def two_param(theta):
    """A program with a 2-component θ (a categorical and a Bernoulli)."""
    k = sg.categorical(anp.stack([theta[0], 0.0 * theta[0], theta[1]]))
    b = sg.bernoulli(1.0 / (1.0 + np.exp(-theta[1])))
    return (k + 1.0) ** 2 * (1.0 + b) + theta[0]


def same(a, b):
    """Bit-identical value, gradient and standard errors."""
    return (a.value == b.value and a.value_stderr == b.value_stderr
            and np.array_equal(np.asarray(a.grad), np.asarray(b.grad))
            and np.array_equal(np.asarray(a.grad_stderr), np.asarray(b.grad_stderr)))


ESTIMATORS = [sg.ScoreFunction("leave_one_out"), sg.StochasticDerivative(), sg.FiniteDifference(0.05)]


def test_exact_sum_is_exact_and_order_free():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=500) * 10.0 ** rng.integers(-300, 300, 500), [1e308, -1e308, 5e-324]])
    total = exact_value(exact_sum(x))
    from fractions import Fraction

    assert total == sum(Fraction(v) for v in x)  # Python's exact rational arithmetic as the reference
    assert exact_sum(rng.permutation(x)) == exact_sum(x)
    assert exact_sum(x[:100]) + exact_sum(x[100:]) == exact_sum(x)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_chunked_and_dask_match_local_bit_for_bit(est, client):
    """n = 300 (the control variates apply from 256): local, chunks of 7 in-process, Dask in chunks of 41."""
    local = sg.value_and_grad(walk, est, n=300, seed=11)(0.3)
    chunked = sg.value_and_grad(walk, est, n=300, seed=11, chunk_size=7)(0.3)
    dask = sg.value_and_grad(walk, est, n=300, seed=11, executor=client, chunk_size=41)(0.3)
    assert same(local, chunked) and same(local, dask)
    assert dask.samples is None  # only statistics came back
    if isinstance(est, sg.StochasticDerivative):
        assert local.info["control_variates"].startswith("cross-fitted")
        assert dask.info == local.info


def _per_sample_formula(est, f, theta, n, seed):
    """The textbook estimate from the per-sample arrays: combine, then mean and stderr with the baseline's part."""
    from stochgrad.extend import sample_tapes, summarise

    a = est.traced_arrays(f, theta, (), {}, sample_tapes(np.random.default_rng(seed), n), range(n))
    d = np.shape(theta)
    path, score = a["pathwise"].reshape((n,) + d), a["score"].reshape((n,) + d)
    return summarise(a["value"], est.combine(a["value"], path, score), d, est,
                     extra_variance=est.baseline_variance(a["value"], score))


def test_leave_one_out_is_the_per_sample_formula():
    """The exact reduction equals the textbook leave-one-out estimate (to rounding) and its samples."""
    e = sg.value_and_grad(walk, sg.ScoreFunction("leave_one_out"), n=200, seed=5)(0.2)
    a = _per_sample_formula(sg.ScoreFunction(), walk, 0.2, 200, 5)
    assert e.grad == pytest.approx(a.grad, rel=1e-13) and e.grad_stderr == pytest.approx(a.grad_stderr, rel=1e-9)
    assert np.allclose(e.samples, a.samples, rtol=1e-12, atol=1e-12)


def test_vector_theta_with_returned_samples(client):
    est = sg.ScoreFunction("mean")
    local = sg.value_and_grad(two_param, est, n=120, seed=2)(np.array([0.2, -0.4]))
    dask = sg.value_and_grad(two_param, est, n=120, seed=2, executor=client, chunk_size=50,
                             return_samples=True)(np.array([0.2, -0.4]))
    assert same(local, dask)
    assert np.array_equal(local.samples, dask.samples) and np.array_equal(local.values, dask.values)


def test_thread_pool_executor_matches_local():
    est = sg.FiniteDifference(0.1)
    local = sg.value_and_grad(walk, est, n=60, seed=1)(0.1)
    with cf.ThreadPoolExecutor(2) as ex:
        threads = sg.value_and_grad(walk, est, n=60, seed=1, executor=ex, chunk_size=9)(0.1)
    assert same(local, threads)


def test_a_killed_worker_does_not_change_the_estimate(client, tmp_path):
    """The worker running sample 150 kills its own process the first time; Dask reruns the chunk elsewhere."""
    marker = str(tmp_path / "killed")

    est = sg.StochasticDerivative()

    def program(theta):
        x = 0.0
        for _ in range(6):
            if sg.bernoulli(1.0 / (1.0 + np.exp(-theta))):
                x = x + 1.0
        if in_worker() and x == 6.0 and not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies in the middle of the step
        return x * x + theta * x

    prog = sg.stochastic(program)
    local = sg.value_and_grad(prog, est, n=300, seed=4)(0.5)
    dask = sg.value_and_grad(prog, est, n=300, seed=4, executor=client, chunk_size=60)(0.5)
    assert os.path.exists(marker)  # a worker really died
    assert same(local, dask)


def test_bad_arguments():
    with pytest.raises(ValueError, match="chunk_size"):
        sg.value_and_grad(walk, "score", n=10, seed=0, chunk_size=0)(0.1)
    with pytest.raises(TypeError, match="executor"):
        sg.value_and_grad(walk, "score", n=10, seed=0, executor=object())(0.1)
    with pytest.raises(TypeError, match="executor"):
        sg.value_and_grad(walk, sg.Exact(), executor=cf.ThreadPoolExecutor(1))
    prog = sg.examples.sincos_batched()
    with pytest.raises(TypeError, match="sample_range"):
        sg.value_and_grad(prog, "score", n=10, seed=0, chunk_size=5)(0.1)


def coin(grouped):
    """f = (1 + k)² + θ k, k ~ Bernoulli(σ(θ)); sample i draws the i-th uniform of ``seed``'s stream.

    ``grouped``: per-group baselines over pairs of samples (every chunk size below is even).
    """

    def sample_range(theta, start, stop, seed, want):
        u = np.random.default_rng(seed).random(stop)[start:]
        p = 1.0 / (1.0 + np.exp(-theta))
        k = (u < p).astype(float)
        group = np.arange(start, stop) // 2 if grouped else None
        return sg.BatchSamples(value=(1.0 + k) ** 2 + theta * k, pathwise=k, score=k - p, group=group)

    prog = sg.batched(lambda theta, n, seed, want: sample_range(theta, 0, n, seed, want))
    prog.sample_range = sample_range
    return prog


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("est", [sg.ScoreFunction("leave_one_out"), sg.ScoreFunction("none"),
                                 sg.FiniteDifference(0.05)], ids=repr)
def test_chunks_across_reduction_blocks_match_local(est, grouped):
    """Chunk boundaries inside the fixed reduction blocks (stochgrad._chunks.BLOCK) give the local bits."""
    from stochgrad._chunks import BLOCK

    n = 2 * BLOCK + 520
    local = sg.value_and_grad(coin(grouped), est, n=n, seed=3)(0.4)
    with cf.ThreadPoolExecutor(2) as ex:
        for size in (1000, BLOCK + 10, n):
            other = sg.value_and_grad(coin(grouped), est, n=n, seed=3, executor=ex, chunk_size=size,
                                      return_samples=True)(0.4)
            assert same(local, other) and np.array_equal(local.samples, other.samples)


def test_traced_stochastic_derivative_with_control_variates_across_blocks():
    from stochgrad._chunks import BLOCK

    est = sg.StochasticDerivative()
    n = BLOCK + 300
    local = sg.value_and_grad(walk, est, n=n, seed=8)(0.3)
    assert local.info["control_variates"].startswith("cross")
    with cf.ThreadPoolExecutor(2) as ex:
        other = sg.value_and_grad(walk, est, n=n, seed=8, executor=ex, chunk_size=1500)(0.3)
    assert same(local, other)
