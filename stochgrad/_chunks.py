"""Chunks of samples: per-sample arrays, features per estimator, and their exact statistics.

A chunk runs samples ``start..stop-1`` wherever its executor puts it and keeps its
per-sample features ``F (m, d, k)``: the per-sample gradient is ``F · c[fold]``
with coefficients ``c`` fixed later from the merged statistics
(:mod:`stochgrad._crossfit`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ._batched import _check
from ._exact import _BLOCK, ColumnSums
from ._streams import PCGStream, child_seeds, is_private
from .extend import BatchSamples, NoiseTape
from .backend import to_numpy
from .estimators import FiniteDifference, ScoreFunction, StochasticDerivative


@dataclasses.dataclass
class _Chunk:
    """One chunk's per-sample features (kept where computed) and its exact statistics."""

    start: int
    value: Any  # (m,)
    F: Any  # (m, d, k) features; the per-sample gradient is F · c(fold)
    fold: Any  # (m,) 0/1
    stats: dict
    meta: dict


def _stats(value, F, fold):
    """Exact sums per chunk: ``n``, ``Σv``, ``Σv²`` and, per fold, ``ΣF (d, k)`` and ``ΣF_a F_b (d, k, k)``.

    The sums are exact; each per-sample product is the rounded float product (one rounding per
    sample, deterministic), so the statistics do not depend on the chunking.
    """
    m, d, k = F.shape
    ia, ib = np.triu_indices(k)
    present = [f for f in (0, 1) if np.any(fold == f)]
    T = len(ia)
    per_fold = d * k + d * T
    sums = ColumnSums(2 + len(present) * per_fold)
    for a in range(0, m, _BLOCK):
        v, Fb, fb = value[a:a + _BLOCK], F[a:a + _BLOCK], fold[a:a + _BLOCK]
        cols = [v[:, None], (v * v)[:, None]]
        for f in present:
            Ff = Fb if len(present) == 1 else Fb * (fb == f)[:, None, None]
            cols += [Ff.reshape(-1, d * k), (Ff[:, :, ia] * Ff[:, :, ib]).reshape(-1, d * T)]
        sums.add(np.concatenate(cols, axis=1))
    tot = sums.totals()
    st = {"n": int(m), "v1": tot[0], "v2": tot[1], "folds": []}
    for f in (0, 1):
        F1 = np.zeros((d, k), dtype=object)
        F2 = np.zeros((d, k, k), dtype=object)
        if f in present:
            o = 2 + present.index(f) * per_fold
            F1[...] = np.array(tot[o:o + d * k], dtype=object).reshape(d, k)
            prod = np.array(tot[o + d * k:o + per_fold], dtype=object).reshape(d, T)
            F2[:, ia, ib] = prod
            F2[:, ib, ia] = prod
        st["folds"].append({"n": int(np.sum(fold == f)), "F1": F1, "F2": F2})
    return st


def _merge(stats):
    out = {"n": 0, "v1": 0, "v2": 0, "folds": [None, None]}
    for st in stats:
        out["n"] += st["n"]
        out["v1"] += st["v1"]
        out["v2"] += st["v2"]
        for f in (0, 1):
            a, b = out["folds"][f], st["folds"][f]
            out["folds"][f] = dict(b) if a is None else {"n": a["n"] + b["n"], "F1": a["F1"] + b["F1"],
                                                          "F2": a["F2"] + b["F2"]}
    return out


# ---------------------------------------------------------------------------------------------------------
# per-sample arrays: traced programs


@dataclasses.dataclass(frozen=True)
class _Streams:
    """Enough to rebuild sample ``i``'s stream anywhere: child ``base + i`` of a SeedSequence.

    The streams are those of :func:`stochgrad.extend.sample_tapes` (NumPy's
    spawned children, started cheaply by :mod:`stochgrad._streams`), so a chunk
    draws exactly what the local path draws for the same samples.
    """

    seed_seq: Any
    base: int
    bitgen: type

    @classmethod
    def take(cls, rng: np.random.Generator, n: int):
        ss = getattr(rng.bit_generator, "seed_seq", None)
        if not isinstance(ss, np.random.SeedSequence):
            raise TypeError("the seed generator must be seeded from a numpy SeedSequence (np.random.default_rng)")
        copy = np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key), pool_size=ss.pool_size)
        self = cls(copy, ss.n_children_spawned, type(rng.bit_generator))
        if not is_private(rng):
            ss.spawn(n)  # advance the parent as rng.spawn(n) does (a generator passed in by the user)
        return self

    def tapes(self, start, stop):
        if self.bitgen is np.random.PCG64:
            for state, inc in child_seeds(self.seed_seq, self.base + start, stop - start):
                yield NoiseTape(PCGStream(state, inc))
            return
        ss = self.seed_seq
        for i in range(start, stop):
            child = np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (self.base + i,),
                                           pool_size=ss.pool_size)
            yield NoiseTape(np.random.Generator(self.bitgen(child)))


def _traced_arrays(spec, start, stop):
    est, (fn, theta, args, kwargs) = spec["est"], spec["call"]
    tapes, index = spec["streams"].tapes(start, stop), range(start, stop)
    if isinstance(est, StochasticDerivative):
        return est.traced_arrays(fn, theta, args, kwargs, tapes, index, spec["pick_seed"])
    return est.traced_arrays(fn, theta, args, kwargs, tapes, index)


# ---------------------------------------------------------------------------------------------------------
# per-sample arrays: batched programs


def _call_range(program, theta, start, stop, n, seed, want) -> BatchSamples:
    if start == 0 and stop == n:
        return program(theta, n, seed, want)
    out = program.sample_range(theta, start, stop, seed, want)
    _check(out, stop - start, np.shape(theta), program.__name__, want)
    return out


def _flat(a, m):
    return None if a is None else np.asarray(to_numpy(a), dtype=float).reshape(m, -1)


def _batched_arrays(spec, start, stop):
    est, program, theta, n, seed = spec["est"], spec["program"], spec["theta"], spec["n"], spec["seed"]
    m = stop - start
    if isinstance(est, FiniteDifference):  # the estimator's own per_sample (θ ± h, its seed rule) on this range

        def part(th, m_, seed_, want):
            return _call_range(program, th, start, stop, n, seed_, want)

        value, grad, _ = est.per_sample(part, theta, m, seed)
        return {"value": np.asarray(to_numpy(value), dtype=float), "grad": _flat(grad, m)}
    if isinstance(est, ScoreFunction):
        out = _call_range(program, theta, start, stop, n, seed, est.want())
        return {"value": np.asarray(to_numpy(out.value), dtype=float), "pathwise": _flat(out.pathwise, m),
                "score": _flat(out.score, m), "group": None if out.group is None else np.asarray(to_numpy(out.group))}
    out = _call_range(program, theta, start, stop, n, seed, est.want())
    w, delta = np.asarray(to_numpy(out.alt_weight), dtype=float), np.asarray(to_numpy(out.alt_delta), dtype=float)
    d = np.shape(theta)
    if delta.ndim == 1:
        w, delta = w[:, None], delta[:, None]
    discrete = (w * delta.reshape(delta.shape + (1,) * len(d))).sum(axis=1).reshape(m, -1)
    return {"value": np.asarray(to_numpy(out.value), dtype=float), "pathwise": _flat(out.pathwise, m),
            "discrete": discrete, "score": _flat(out.score, m),
            "group": None if out.group is None else np.asarray(to_numpy(out.group))}


# ---------------------------------------------------------------------------------------------------------
# features per estimator


def _group_centred(value, group, baseline):
    """``v − b`` with ``b`` the mean of the sample's group (``"mean"``) or of the others in it (``"leave_one_out"``)."""
    ids, inv = np.unique(group, return_inverse=True)
    inv = inv.ravel()
    sums = np.bincount(inv, weights=value)
    counts = np.bincount(inv)
    total, count = sums[inv], counts[inv]
    if baseline == "mean":
        return value - total / count
    if int(count.min()) < 2:
        raise ValueError("ScoreFunction(baseline='leave_one_out') needs >= 2 samples (per group)")
    return value - (total - value) / (count - 1)


def _features(est, arr, start, size):
    """``(value (m,), F (m, d, k), fold (m,), meta)`` from a chunk's per-sample arrays."""
    v = arr["value"]
    m = v.shape[0]
    index = np.arange(start, start + m)
    meta = {"comparisons": arr.get("comparisons", []), "edge": arr.get("edge", False),
            "alt_runs": arr.get("alt_runs", 0), "groups": None}
    group = arr.get("group")
    if group is not None:
        group = np.asarray(group).ravel()
        meta["groups"] = (int(group.min()), int(group.max())) if m else None
    zeros = np.zeros((m, size))
    if isinstance(est, FiniteDifference):
        return v, arr["grad"].reshape(m, size, 1), np.zeros(m, dtype=np.int8), meta
    if isinstance(est, ScoreFunction):
        p = zeros if arr.get("pathwise") is None else arr["pathwise"]
        s = arr["score"]
        b = est.baseline
        if group is not None and b in ("mean", "leave_one_out"):
            c = _group_centred(v, group, b)
            F = np.stack([p, c[:, None] * s], axis=-1)
        else:
            F = np.stack([p, v[:, None] * s, s], axis=-1)
        return v, F, np.zeros(m, dtype=np.int8), meta
    # stochastic derivative
    p = zeros if arr.get("pathwise") is None else arr["pathwise"]
    disc = arr["discrete"]
    g = p + disc
    s = arr.get("score")
    meta["has_score"] = s is not None
    if not est.control_variates or s is None:
        return v, g.reshape(m, size, 1), np.zeros(m, dtype=np.int8), meta
    if group is not None:
        vc = _loo_or_zero(v, group)
        fold = (group % 2).astype(np.int8)
    else:
        vc = v
        fold = (index % 2).astype(np.int8)
    F = np.stack([g, s, vc[:, None] * s - disc], axis=-1)
    return v, F, fold, meta


def _loo_or_zero(value, group):
    """The value minus the mean of the *other* samples of its group (0 for a group of one)."""
    ids, inv = np.unique(group, return_inverse=True)
    inv = inv.ravel()
    sums = np.bincount(inv, weights=value)
    counts = np.bincount(inv).astype(float)
    others = counts[inv] - 1
    return value - np.where(others > 0, (sums[inv] - value) / np.maximum(others, 1), 0.0)


def _chunk_task(spec, start, stop, keep):
    """Run samples ``start..stop-1`` and reduce them; with ``keep`` the per-sample features stay attached."""
    arr = _traced_arrays(spec, start, stop) if "call" in spec else _batched_arrays(spec, start, stop)
    value, F, fold, meta = _features(spec["est"], arr, start, spec["size"])
    st = _stats(value, F, fold)
    if not keep:
        value = F = fold = None
    return _Chunk(start, value, F, fold, st, meta)


def _chunk_stats(chunk):
    return chunk.stats, chunk.meta


def _samples_task(chunk, c):
    """Per-sample values and gradients ``F · c[fold]`` (floats) of one chunk."""
    coef = c[chunk.fold.astype(np.intp)]  # (m, d, k)
    return chunk.value, np.einsum("mdk,mdk->md", chunk.F, coef[:, :, : chunk.F.shape[2]])
