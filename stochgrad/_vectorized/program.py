"""The vectorised program: one run of the user's function for all samples, as a batched program.

:class:`VectorizedProgram` turns a function written once for all samples into
the core's batched-program protocol (:class:`~stochgrad.BatchSamples` for a
:class:`~stochgrad.Want`), so every estimator combines it with array
operations exactly as it combines a hand-written batched simulator:

* value only (finite differences): one plain run at each θ; the keyed noise
  makes the runs at θ ± h use common random numbers;
* score and pathwise (score function, the stochastic derivative's control
  variates): one forward-mode run per θ component; the score is read from the
  recorded choices' parameter tangents;
* GS-STE: the same forward runs with straight-through choices;
* alternatives (stochastic derivative): every sample draws ``m`` of its
  alternative choices (a Bernoulli's flip, a categorical's other outcomes, with
  the Rao-Blackwellised weights ``±∂π/∂θ``) by systematic sampling proportional
  to ``|weight|``, as the per-sample mode does; replay ``r`` is one plain run
  in which every sample has its own forced choice, so ``m`` alternatives cost
  ``m`` extra vectorised runs.

Samples are processed in chunks (default 65,536); every random number depends
only on (seed, stream, absolute sample index), so the result does not depend on
the chunk size, and a chunk ``[start, start + n)`` can be computed on its own.
"""

from __future__ import annotations

import numbers

import numpy as np
from autograd.tracer import getval

from .._batched import BatchedProgram, BatchSamples, Want, _check
from ..backend import array_module
from .noise import Noise, stream_id
from .run import FORWARD, Gumbel, VecRun
from .values import plain, register_array_module

__all__ = ["VectorizedProgram"]

DEFAULT_CHUNK = 1 << 16


class VectorizedProgram(BatchedProgram):
    """A function written once for all samples, usable by every estimator (see module docs).

    Call it as a batched program, ``program(theta, n, seed, want) -> BatchSamples``,
    or pass it to :func:`stochgrad.value_and_grad`. Extra arguments of the
    function are bound with :meth:`bind` (``value_and_grad`` does that for you).

    Args:
        fn: ``fn(theta, *args, **kwargs)`` returning one value per sample, shape
            ``(n,)`` (or a scalar, broadcast to all samples).
        args, kwargs: bound extra arguments (shared by all samples).
        xp: array module (``numpy``, ``cupy``, or their names); default: the
            module of the array arguments, else NumPy.
        chunk: samples per vectorised run.
        noise: the uniforms' scheme, ``"pcg64"`` (NumPy) or ``"hash"`` (any module; default off NumPy).
    """

    def __init__(self, fn, args=(), kwargs=None, xp=None, chunk=DEFAULT_CHUNK, name=None, noise=None):
        if not callable(fn):
            raise TypeError(f"vectorized expects a function, got {type(fn).__name__}")
        if isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1:
            raise ValueError(f"vectorized: chunk must be a positive int, got {chunk!r}")
        if noise not in (None, "pcg64", "hash"):
            raise ValueError(f"vectorized: noise must be 'pcg64', 'hash' or None, got {noise!r}")
        super().__init__(self._batch, name or getattr(fn, "__name__", "vectorized"))
        self.__doc__ = getattr(fn, "__doc__", None)
        self.user_fn = fn
        self.args, self.kwargs = tuple(args), dict(kwargs or {})
        self.chunk = int(chunk)
        self._xp = _module(xp)
        self.noise = noise

    def bind(self, *args, **kwargs) -> "VectorizedProgram":
        """The same program with ``args``/``kwargs`` passed to the function after θ."""
        return VectorizedProgram(self.user_fn, self.args + args, {**self.kwargs, **kwargs}, self._xp, self.chunk,
                                 self.__name__, self.noise)

    def __repr__(self):
        return f"<vectorized program {self.__name__}>"

    @property
    def xp(self):
        """The array module the samples live on."""
        if self._xp is not None:
            return self._xp
        return array_module(*[a for a in list(self.args) + list(self.kwargs.values()) if hasattr(a, "shape")])

    def __call__(self, theta, n, seed, want: Want = Want(), *, start: int = 0) -> BatchSamples:
        """Samples ``start .. start + n − 1`` of the estimate with ``seed`` (see :class:`~stochgrad.BatchSamples`)."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be a positive integer number of samples, got {n!r}")
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**63))
        elif seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        out = self._batch(theta, int(n), int(seed), want, int(start))
        _check(out, int(n), np.shape(theta), self.__name__, want)
        return out

    def sample(self, theta, n, seed=None):
        """The values ``f`` of ``n`` samples at θ (no derivatives), shape ``(n,)``."""
        return self(theta, n, seed, Want()).value

    # -------------------------------------------------------------------------------------------------------
    def _batch(self, theta, n, seed, want, start=0):
        xp = self.xp
        register_array_module(xp)
        parts = [self._chunk(theta, s, min(self.chunk, n - s), seed, want, xp, start)
                 for s in range(0, n, self.chunk)]
        if len(parts) == 1:
            return parts[0]
        cat = {}
        for field in ("value", "pathwise", "score", "alt_weight", "alt_delta"):
            got = [getattr(p, field) for p in parts]
            cat[field] = None if any(g is None for g in got) else xp.concatenate(got, axis=0)
        return BatchSamples(**cat)

    def _run(self, run, theta, tangent=None):
        out = run.call(self.user_fn, theta, self.args, self.kwargs, tangent)
        return out, _values(getval(out), run.n, run.xp, self.__name__)

    def _chunk(self, theta, offset, n, seed, want, xp, start):
        shape = np.shape(theta)
        size = int(np.prod(shape))
        several = want.alternatives or (size > 1 and (want.score or want.pathwise or want.temperature is not None))
        noise = Noise(seed, start + offset, n, xp, self.noise, cache_bytes=(256 << 20) if several else 0)
        forward = want.score or want.pathwise or want.alternatives or want.temperature is not None
        if not forward:
            return BatchSamples(self._run(VecRun(n, noise, xp), theta)[1])
        mode = FORWARD if want.temperature is None else Gumbel(want.temperature)
        want_score = want.score and not mode.relaxed
        want_alt = want.alternatives and not mode.relaxed
        path = xp.zeros((n, size))
        score = xp.zeros((n, size)) if want_score else None
        cands = []  # per θ-dependent choice: [site, family, p, [tangent of p per θ component], value]
        value = None
        for j in range(size):
            if shape == ():
                tangent = np.float64(1.0)  # with a shape: some JVPs (np.where) ask for one
            else:
                tangent = np.zeros(size)
                tangent[j] = 1.0
                tangent = tangent.reshape(shape)
            run = VecRun(n, noise, xp, mode, score=want_score, alternatives=want_alt)
            out, v = self._run(run, theta, tangent)
            if value is None:
                value = v
            path[:, j] = _broadcast(run.tangent(out), n, xp, self.__name__)
            if want_score and run.score_edge:  # see VecRun._derivatives: no score on an edge
                want_score, score = False, None
            if want_score:
                score[:, j] = run.score
            if want_alt:
                for i, (site, fam, pv, dp, k) in enumerate(run.alternatives):
                    if j == 0:
                        cands.append([site, fam, pv, [dp], k])
                    else:
                        cands[i][3].append(dp)
        out = BatchSamples(value, path.reshape((n,) + shape),
                           None if score is None else score.reshape((n,) + shape))
        if want_alt:
            m = int(want.n_alternatives)
            u0 = noise.uniform(stream_id("pick", 0))
            sites, values, weights = _pick(cands, m, u0, n, size, xp)
            delta = xp.zeros((n, m))
            for r in range(m):
                rows = xp.flatnonzero(sites[:, r] >= 0)
                if not rows.size:
                    continue
                run = VecRun(n, noise, xp, forced=_forced(sites[rows, r], rows, values[rows, r], xp))
                f_alt = self._run(run, theta)[1]
                delta[rows, r] = f_alt[rows] - value[rows]
            out.alt_weight = weights.reshape((n, m) + shape)
            out.alt_delta = delta
        return out


def _pick(cands, m, u0, n, size, xp):
    """Systematic sampling of ``m`` alternatives per sample with probability ∝ ``|weight|``.

    The alternatives of a sample are laid end to end with lengths ``|weight|``
    (summed over θ's components); pick ``r`` is the one under
    ``(u0 + r) / m`` of the total (one uniform ``u0`` per sample). One streaming
    pass over the alternatives, for all samples at once: a sample's next pick
    lands on the first alternative whose cumulative mass exceeds its position.

    Returns ``sites (n, m)`` (−1: no alternative), ``values (n, m)`` and
    ``weights (n, m, size)``: the weight divided by the selection probability
    ``m |weight| / Σ|weight|``, so ``Σ_slots weight · Δ`` is unbiased for
    ``Σ_all weight · Δ``.
    """
    cols = []  # (site, family index, raw values (n,), raw weights (n, size), mass (n,))
    families = []
    for site, fam, pv, dps, k in cands:
        vals, ws, mass = fam.batch_candidates(pv, dps, k, n)  # (C, n), (C, n, size), (C, n), raw (see finish)
        if fam not in families:
            families.append(fam)
        cols += [(site, families.index(fam), vals[c], ws[c], mass[c]) for c in range(vals.shape[0])]
    sites = xp.full((n, m), -1, dtype=np.int64)
    values = xp.zeros((n, m), dtype=np.int64)
    weights = xp.zeros((n, m, size))
    picked = xp.zeros((n, m))
    fam_id = xp.zeros((n, m), dtype=np.int64)
    if not cols:
        return sites, values, weights
    total = xp.zeros(n)
    for col in cols:  # the same additions as `cum` below, so cum ends exactly at total
        total += col[4]
    step = total / m
    target = u0 * step  # where the next pick of each sample lies (its `count`-th systematic position)
    count = xp.zeros(n, dtype=np.int64)
    cum = xp.zeros(n)
    for site, fid, v, w, mass in cols:
        cum += mass
        idx = xp.flatnonzero(cum > target)  # picks landing on this alternative: cum_prev <= target < cum
        while idx.size:
            r = count[idx]
            sites[idx, r] = site
            values[idx, r] = v[idx]
            weights[idx, r] = w[idx]
            picked[idx, r] = mass[idx]
            fam_id[idx, r] = fid
            r = r + 1
            count[idx] = r
            target[idx] = xp.where(r < m, (u0[idx] + r) * step[idx], xp.inf)
            idx = idx[cum[idx] > target[idx]]  # several picks on one heavy alternative
    if len(families) == 1:
        values, weights = families[0].batch_finish(values, weights)
    else:
        raw_v, raw_w = values, weights
        for i, fam in enumerate(families):
            v, w = fam.batch_finish(raw_v, raw_w)
            values = xp.where(fam_id == i, v, values)
            weights = xp.where((fam_id == i)[..., None], w, weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = xp.where(picked > 0, total[:, None] / (picked * m), 0.0)
    sites = xp.where(picked > 0, sites, -1)
    weights = weights * factor[:, :, None]
    return sites, values, weights


def _forced(sites, rows, values, xp):
    """``{site: (sample indices, values)}`` for one replay."""
    order = xp.argsort(sites, kind="stable")
    s, rows, values = sites[order], rows[order], values[order]
    uniq, first = np.unique(np.asarray(s.get() if hasattr(s, "get") else s), return_index=True)
    bounds = list(first) + [len(s)]
    return {int(site): (rows[bounds[i]:bounds[i + 1]], values[bounds[i]:bounds[i + 1]])
            for i, site in enumerate(uniq)}


def _values(v, n, xp, name):
    v = plain(v)
    if np.ndim(v) == 0:
        return xp.full(n, float(v))
    if tuple(v.shape) != (n,):
        raise ValueError(f"{name}: a vectorised function must return one value per sample, shape ({n},) "
                         f"(or a scalar), got shape {tuple(v.shape)}; reduce any other axes inside the function")
    return xp.asarray(v, dtype=float)


def _broadcast(x, n, xp, name=None):
    x = plain(x)
    if np.ndim(x) == 0:
        return xp.full(n, float(x))
    if tuple(x.shape) != (n,):
        raise ValueError(f"{name}: a per-sample quantity has shape {tuple(x.shape)}, expected ({n},)")
    return x


def _module(xp):
    if xp is None or hasattr(xp, "asarray"):
        return xp
    if xp == "numpy":
        return np
    if xp == "cupy":
        import cupy  # lazy: only when asked for

        return cupy
    raise ValueError(f"vectorized: xp must be numpy, cupy or their names, got {xp!r}")
