"""Spread an estimator's samples over an executor, with a result bit-identical to the local one.

Design boundary 5: every sample's random stream depends only on ``(seed, sample
index)`` (traced programs: the ``index``-th child of the seed's
:class:`numpy.random.SeedSequence`; batched programs: whatever keyed stream the
program uses, asked for by sample range). The samples are cut into chunks that
run anywhere — in this process, on a :class:`concurrent.futures.Executor`, or on
a Dask cluster (:class:`dask.distributed.Client`) — and every chunk returns only
*sufficient statistics*: block sums of per-sample quantities (and, for control
variates, exact sums of features and their pairwise products).

The reduction does not depend on the chunking nor on the order in which
chunks finish: sums run over fixed blocks of the *global* sample index
(:data:`stochgrad._chunks.BLOCK` samples each), a pairwise float sum within a
block and an exact sum across blocks (every finite double is an integer
multiple of ``2^-1126``; block sums are added as Python integers). A chunk
sums the blocks it holds whole and returns the raw rows of the blocks it holds
in part; the driver sums each such block whole, its rows put together in index
order. So the estimate is bit-identical for any chunking and executor; the
local path (``executor=None``) is the one-chunk case of the same code.

Two passes: the first runs the samples, keeps their per-sample features
``F`` where they were computed and reduces the values (``Σv``, ``Σv²``); the
driver derives the coefficients ``c`` of the per-sample gradient ``F·c`` from
them (rounded once to doubles); the second computes every gradient with the
same float operations wherever the sample lives and reduces ``g``, ``g²``.

What the estimators need from all samples:

* score-function baselines ``"mean"`` / ``"leave_one_out"``: each per-sample
  gradient is ``p + s·(v·a − b)`` with global ``a, b`` (functions of ``Σv`` and
  ``n``);
* the stochastic derivative's cross-fitted control variates: per fold the
  Gram matrix of ``(g, s, v·s − discrete)`` (exact per-sample sums, only in this
  case) gives the least-squares fit; its out-of-sample (PRESS) check is one
  more pass over the chunks;
* per-group baselines of batched programs: a group never spans two chunks.

Per-sample gradients (``Estimate.samples``) come back only when asked
(``return_samples=True``; always on the local path).
"""

from __future__ import annotations

import numbers
from contextlib import nullcontext

import numpy as np

from ._batched import BatchedProgram
from ._chunks import _chunk_stats, _chunk_task, _finish, _grad_task, _merge, _Streams
from ._crossfit import _mean_se
from ._estimate import Estimate
from ._exact import exact_sum, exact_value
from ._run import warn_comparisons
from ._streams import private_rng

__all__ = ["supports", "estimate", "exact_sum", "exact_value", "local_cluster_client"]


# ---------------------------------------------------------------------------------------------------------
# executors


class _Inline:
    """Everything in this process; chunks are plain objects."""

    def run(self, task, spec, chunks, keep):
        return [task(spec, a, b, True) for a, b in chunks]

    def stats(self, handles):
        return [_chunk_stats(h) for h in handles]

    def apply(self, fn, handles, *args):
        return [fn(h, *args) for h in handles]


class _Futures(_Inline):
    """A :class:`concurrent.futures.Executor`: chunks come back to the driver (features only if needed later)."""

    def __init__(self, ex):
        self.ex = ex

    def run(self, task, spec, chunks, keep):
        futs = [self.ex.submit(task, spec, a, b, keep) for a, b in chunks]
        return [f.result() for f in futs]


class _Dask:
    """A :class:`dask.distributed.Client`: chunks stay on the workers when a later pass needs them; else only
    their statistics come back (one task per chunk)."""

    def __init__(self, client):
        self.client = client
        self.kept = False

    def run(self, task, spec, chunks, keep):
        c = self.client
        self.kept = keep
        return [c.submit(task, spec, a, b, keep, pure=False, retries=1) for a, b in chunks]

    def stats(self, handles):
        c = self.client
        if not self.kept:  # the results hold statistics only: fetch them directly
            return [_chunk_stats(h) for h in c.gather(handles)]
        return c.gather([c.submit(_chunk_stats, h, pure=False, retries=1) for h in handles])

    def apply(self, fn, handles, *args):
        c = self.client
        return c.gather([c.submit(fn, h, *args, pure=False, retries=1) for h in handles])


def _executor(executor):
    if executor is None:
        return _Inline()
    import concurrent.futures as cf

    if isinstance(executor, cf.Executor):
        return _Futures(executor)
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is an optional extra
        Client = None
    if Client is not None and isinstance(executor, Client):
        return _Dask(executor)
    raise TypeError(
        f"executor must be None, a concurrent.futures.Executor or a dask.distributed.Client, "
        f"got {type(executor).__name__}"
    )


# ---------------------------------------------------------------------------------------------------------
# entry point


def supports(estimator, program=None) -> bool:
    """Whether ``estimator`` follows the chunk protocol (:class:`~stochgrad.Estimator`) for ``program``, so runs
    through this module (a batched program needs an estimator whose ``chunk_arrays`` handles one)."""
    if not getattr(estimator, "distributable", False):
        return False
    return not isinstance(program, BatchedProgram) or bool(getattr(estimator, "handles_batched", False))


def _chunks(n, chunk_size, program=None):
    parts = getattr(program, "partitions", None)
    if parts is not None:
        b = [int(x) for x in parts]
        if b[0] != 0 or b[-1] != n or any(x >= y for x, y in zip(b, b[1:])):
            raise ValueError(f"{program!r}: partitions must rise strictly from 0 to n = {n}, got {b[:5]}...")
        return list(zip(b[:-1], b[1:]))
    if chunk_size is None:
        return [(0, n)]
    return [(a, min(a + chunk_size, n)) for a in range(0, n, chunk_size)]


def bind_batched(program, args, kwargs, seed):
    """``(program bound to args/kwargs, integer seed)``: the one seed every call of a batched program shares.

    Raises:
        TypeError: arguments besides θ for a program that cannot bind them.
    """
    if args or kwargs:
        if not hasattr(program, "bind"):  # a VectorizedProgram binds them (stochgrad/_vectorized)
            raise TypeError("batched programs take θ only; bind other arguments in the program")
        program = program.bind(*args, **kwargs)
    s = seed.integers(2**63) if isinstance(seed, np.random.Generator) else seed
    return program, int(np.random.SeedSequence().entropy % (1 << 63)) if s is None else s


def estimate(f, est, theta, args, kwargs, n, seed, executor=None, chunk_size=None, return_samples=None) -> Estimate:
    """Estimate ``E[f]`` and ``∇θ E[f]`` with ``est`` from ``n`` samples cut into chunks, bit-identical for any
    ``chunk_size`` and executor (keyed streams, block reductions exact across blocks: see the module docs).

    Args:
        f: a :class:`~stochgrad.StochasticFunction` or a :class:`~stochgrad.BatchedProgram`.
            A batched program cut into several chunks must provide
            ``sample_range(theta, start, stop, seed, want)`` (samples ``start..stop-1``
            with the numbers of the whole call); its ``partitions`` attribute, if
            any, fixes the chunk boundaries.
        est: an estimator following the chunk protocol (``distributable``: score function,
            stochastic derivative, finite differences).
        theta, args, kwargs: the point and the program's other arguments.
        n: number of samples.
        seed: integer, ``None`` or a ``numpy.random.Generator`` (as for :func:`~stochgrad.value_and_grad`).
        executor: ``None`` (this process), a :class:`concurrent.futures.Executor`
            (the function must be picklable) or a :class:`dask.distributed.Client`.
        chunk_size: samples per chunk (default: one chunk; ignored when the program has ``partitions``).
        return_samples: attach per-sample gradients and values (default: only on the local path).

    Returns:
        An :class:`~stochgrad.Estimate`; ``samples``/``values`` are ``None`` unless returned.

    Raises:
        ValueError: bad ``chunk_size``; a leave-one-out baseline with < 2 samples; a
            non-finite per-sample quantity; groups of a batched program split across chunks.
        TypeError: an unsupported estimator or executor; a batched program without
            ``sample_range`` cut into chunks.
    """
    if not supports(est, f):
        raise TypeError(f"{est!r} does not follow the chunk protocol, so it does not run on an executor; use "
                        "ScoreFunction, StochasticDerivative or FiniteDifference, or executor=None")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral)
                                   or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    ex = _executor(executor)
    if return_samples is None:
        return_samples = executor is None
    d = np.shape(theta)
    size = int(np.prod(d))
    batched = isinstance(f, BatchedProgram)
    if batched:
        f, s = bind_batched(f, args, kwargs, seed)
        chunks = _chunks(n, chunk_size, f)
        if len(chunks) > 1 and not callable(getattr(f, "sample_range", None)):
            raise TypeError(f"{f!r} cannot be cut into chunks: give it a sample_range(theta, start, stop, seed, want) "
                            "method (samples start..stop-1 with the numbers of the whole call)")
        spec = {"est": est, "program": f, "theta": theta, "n": n, "seed": s, "size": size}
    else:
        spec = {"est": est, "call": (f, theta, args, kwargs), "size": size}
        with (nullcontext(seed) if isinstance(seed, np.random.Generator) else private_rng(seed)) as rng:
            est.chunk_setup(spec, rng)
            spec["streams"] = _Streams.take(rng, n)
        chunks = _chunks(n, chunk_size)
    handles = ex.run(_chunk_task, spec, chunks, True)  # features stay where computed: the gradient pass needs them
    parts = ex.stats(handles)
    got = [tuple(p[0]["range"]) for p in parts]
    if got != [tuple(c) for c in chunks]:
        bad = next((c, g) for c, g in zip(chunks, got) if tuple(c) != g)
        raise RuntimeError(f"the executor returned a chunk for samples {bad[1][0]}..{bad[1][1] - 1} where samples "
                           f"{bad[0][0]}..{bad[0][1] - 1} were asked for; refusing to combine them")
    metas = [p[1] for p in parts]
    tot = _merge([p[0] for p in parts], metas)
    groups = [m["groups"] for m in metas if m["groups"] is not None]
    if len(groups) > 1 and any(a[1] >= b[0] for a, b in zip(groups, groups[1:])):
        raise ValueError("a group of the batched program spans two chunks (or groups are not ascending): "
                         "choose chunk boundaries at group boundaries")
    info = est.chunk_info(metas, n, size, batched)
    c, more = est.chunk_refine(ex, handles, tot, est.chunk_coefficients(tot, size), metas, n, size)
    info.update(more)
    warn_comparisons([w for m in metas for w in m["comparisons"]], repr(est))
    cf = np.array([[[float(x) for x in row] for row in fold] for fold in c])  # rounded once, the same everywhere
    got = ex.apply(_grad_task, handles, cf, bool(return_samples))
    sums = _finish([g[0] for g in got], len(got[0][0]["sums"]))  # 2·size columns, more for a shared baseline
    grad = np.empty(size)
    grad_se = np.empty(size)
    for j in range(size):
        grad[j], grad_se[j] = _mean_se(exact_value(sums[j]), exact_value(sums[size + j]), n)
    grad_se = est.chunk_stderr(tot, sums[2 * size:], grad_se, n)  # e.g. samples that share a baseline
    value, value_se = _mean_se(exact_value(tot["v1"]), exact_value(tot["v2"]), n)
    samples = values = None
    if return_samples:
        values = np.concatenate([g[1][0] for g in got])
        samples = np.concatenate([g[1][1] for g in got]).reshape((n,) + d)
    if d == ():
        grad, grad_se = float(grad[0]), float(grad_se[0])
    else:
        grad, grad_se = grad.reshape(d), grad_se.reshape(d)
    return Estimate(value, value_se, grad, grad_se, samples, values, n, repr(est), info)


# ---------------------------------------------------------------------------------------------------------
# start-up


def local_cluster_client(n_workers: int, threads_per_worker: int = 1, **kwargs):
    """A :class:`dask.distributed.Client` on a new ``LocalCluster`` of ``n_workers`` processes.

    Raises:
        ImportError: dask[distributed] is not installed (``pip install stochgrad[dask]``).
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:  # pragma: no cover - optional extra
        raise ImportError("the Dask executor needs dask[distributed]: pip install 'stochgrad[dask]'") from e
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                           dashboard_address=None, **kwargs)
    return Client(cluster)
