"""The estimator interface: small configuration objects with a traced and a batched path."""

from __future__ import annotations

import numpy as np

from .. import distributed
from .._chunks import _meta, _Streams, linear_gradients
from .._estimate import summarise

__all__ = ["Estimator", "sample_tapes"]


class Estimator:
    """Base class of every gradient estimator.

    Subclasses implement :meth:`traced` (a :class:`~stochgrad.StochasticFunction`
    run sample by sample) and, where possible, :meth:`batched` (a
    :class:`~stochgrad.BatchedProgram`, combined with array operations).

    Attributes:
        unbiased: whether the gradient estimate is unbiased for ``∇θ E[f]``.
    """

    unbiased: bool = True

    def validate(self, theta) -> None:
        """Check the settings against θ at call time (before any sample); raise ``ValueError``.

        The base class accepts every θ; e.g. :class:`FiniteDifference` refuses steps
        that θ's magnitude would swallow.
        """

    def traced(self, fn, theta, args, kwargs, n, rng):  # pragma: no cover - interface
        raise TypeError(f"{self!r} cannot estimate gradients of traced programs")

    def batched(self, program, theta, n, seed):
        """Estimate from a :class:`~stochgrad.BatchedProgram`: the one-chunk reduction of the chunk protocol (what
        :func:`~stochgrad.value_and_grad` runs) where the estimator follows it, else :meth:`per_sample` summarised."""
        if distributed.supports(self, program):
            return distributed.estimate(program, self, theta, (), {}, n, seed)
        values, grads, info = self.per_sample(program, theta, n, seed)
        return summarise(values, grads, np.shape(theta), self, info)

    def want(self):
        """What a batched program must return for this estimator (a :class:`~stochgrad.Want`)."""
        raise TypeError(f"{self!r} does not support batched programs; use a traced @stochastic function")

    def combine_samples(self, out, theta_shape):
        """Per-sample gradients ``(n, *θ)`` and an info dict from one batched run's :class:`~stochgrad.BatchSamples`.

        For estimators outside the chunk protocol (those inside it combine in
        their chunk hooks). Uses ``out.group`` where the estimator has per-group
        parts, so per-event code needs no estimator-specific branches.
        """
        raise TypeError(f"{self!r} does not support batched programs; use a traced @stochastic function")

    def per_sample(self, program, theta, n, seed):
        """``(values (n,), per-sample gradients (n, *θ), info)`` of a batched program: what the estimate averages.

        An estimator following the chunk protocol runs the program as one chunk
        (the local path of :func:`~stochgrad.value_and_grad`: the same baselines,
        control variates and checks); any other makes one run asking for
        :meth:`want`, combined by :meth:`combine_samples`
        (:class:`~stochgrad.FiniteDifference` runs the program at θ ± h instead).
        For a *separable* program — sample ``i`` depends only on its own
        component, e.g. one jet radius per event — call it with a scalar shift
        ``t = 0`` added to every component: the per-sample derivative along that
        shift is each sample's derivative with respect to its own component.
        """
        if distributed.supports(self, program):
            e = self.batched(program, theta, n, seed)
            return e.values, e.samples, e.info
        out = program(theta, n, seed, self.want())
        grads, info = self.combine_samples(out, np.shape(theta))
        return out.value, grads, info

    # -- the chunk protocol -----------------------------------------------------------------------------
    # How samples ``start..stop-1`` become per-sample features and exact statistics, how the merged statistics
    # give the coefficients of the per-sample gradient and what the standard error adds. The reduction
    # (stochgrad.distributed: local, concurrent.futures, Dask; a local run is the one-chunk case) calls only
    # these methods. An estimator that is not ``distributable`` (GumbelSTE, Exact) refuses ``executor=``.

    @property
    def distributable(self) -> bool:
        """Whether the estimator follows the chunk protocol: it defines ``traced_arrays`` (or overrides the hooks)."""
        return callable(getattr(self, "traced_arrays", None))

    @property
    def handles_batched(self) -> bool:
        """Whether its chunk hooks take batched programs too (it overrides :meth:`chunk_arrays`)."""
        return type(self).chunk_arrays is not Estimator.chunk_arrays

    def chunk_setup(self, spec, rng) -> None:
        """Draw what every chunk of a traced estimate shares from ``rng`` into ``spec`` (before the sample streams)."""

    def chunk_arrays(self, spec, start, stop) -> dict:
        """Per-sample arrays of samples ``start..stop-1`` (a dict; ``value (m,)`` at least, plus ``comparisons``,
        ``edge``, ``alt_runs``, ``group`` where they apply). ``spec`` holds ``call`` (a traced program with its
        ``streams``) or ``program`` (a batched one), ``theta``, ``n``, ``seed``, ``size``.

        The default calls ``traced_arrays(fn, theta, args, kwargs, tapes, index)`` (``value (m,)`` and
        ``grad (m, θ.size)``, the per-sample gradients) of a traced program.
        """
        if "call" not in spec or not self.distributable:
            raise TypeError(f"{self!r} does not follow the chunk protocol for this program (executor= is not supported)")
        fn, theta, args, kwargs = spec["call"]
        return self.traced_arrays(fn, theta, args, kwargs, spec["streams"].tapes(start, stop), range(start, stop))

    def chunk_features(self, arr, start, size):
        """``(value (m,), F (m, size, k), fold (m,) of 0/1, meta)``: the per-sample gradient is ``F · c[fold]``.

        The default: ``F = grad`` (``k = 1``), the per-sample gradients averaged as they are.
        """
        v = arr["value"]
        m = v.shape[0]
        meta, _ = _meta(arr, m)
        return v, np.asarray(arr["grad"], dtype=float).reshape(m, size, 1), np.zeros(m, dtype=np.int8), meta

    def chunk_sums(self, value, F, fold, meta) -> dict:
        """Extra exact statistics of a chunk, merged by the reduction (``folds``: per-fold Gram sums)."""
        return {}

    def chunk_coefficients(self, tot, size):
        """Coefficients ``c (2, size, k)`` of the features from the merged statistics (default: ``g = F[..., 0]``)."""
        c = np.zeros((2, size, tot["k"]), dtype=object)
        c[:, :, 0] = 1
        return c

    def chunk_refine(self, ex, handles, tot, c, metas, n, size):
        """Refined coefficients (e.g. cross-fitted control variates, with more passes over the chunks) and info."""
        return c, {}

    def chunk_gradients(self, chunk, c):
        """``(g (m, size), extra columns)`` of a chunk for coefficients ``c``; the extra columns are reduced too."""
        return linear_gradients(chunk, c), []

    def chunk_stderr(self, tot, extra_sums, grad_se, n):
        """The standard errors with what the spread of the samples misses (exact sums of the extra columns)."""
        return grad_se

    def chunk_info(self, metas, n, size, batched) -> dict:
        """The estimate's ``info`` from the chunks' metadata; emits the estimator's warnings."""
        return {}

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(map(repr, vars(self).items())))))


def sample_tapes(rng: np.random.Generator, n: int):
    """``n`` independent noise tapes; tape ``i`` draws the stream of ``rng.spawn(n)[i]``.

    The streams are those of NumPy's spawned children (bit-identical), started
    without building ``n`` generators (:mod:`stochgrad._streams`). ``rng``'s
    spawn counter advances by ``n`` as with ``rng.spawn(n)``, except for a
    generator :func:`stochgrad.value_and_grad` made itself from an integer
    seed, which nothing else can see.
    """
    return _Streams.take(rng, n).tapes(0, n)
