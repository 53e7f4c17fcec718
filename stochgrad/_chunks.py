"""Chunks of samples and their exact statistics; the estimator-agnostic half of the chunk protocol.

A chunk runs samples ``start..stop-1`` wherever its executor puts it and keeps its
per-sample features ``F (m, d, k)``: the per-sample gradient is ``F · c[fold]``
with coefficients ``c`` fixed later from the merged statistics
(:mod:`stochgrad._crossfit`). What the features are, how the coefficients
follow from the statistics and what the standard error adds is the
estimator's (:class:`stochgrad.Estimator`'s chunk protocol); this module knows
no estimator type.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ._batched import BatchSamples, _check
from ._exact import _BLOCK, ColumnSums
from ._streams import PCGStream, child_seeds, is_private
from ._trace import NoiseTape
from .backend import to_numpy


@dataclasses.dataclass
class _Chunk:
    """One chunk's per-sample features (kept where computed) and its exact statistics."""

    start: int
    value: Any  # (m,)
    F: Any  # (m, d, k) features, the per-sample gradient F · c(fold) (or the estimator's own form, see its chunk_gradients)
    fold: Any  # (m,) 0/1
    stats: dict
    meta: dict
    est: Any = None  # the estimator (its chunk_gradients makes the gradient pass)


def _gram(value, F, fold):
    """Exact sums per chunk, per fold: ``ΣF (d, k)`` and ``ΣF_a F_b (d, k, k)`` (the control-variate fit).

    The sums are exact; each per-sample product is the rounded float product (one rounding per
    sample, deterministic), so the statistics do not depend on the chunking. Only the
    stochastic derivative with control variates needs them (O(m·d·k²) exact work).
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
    st = {"n": int(m), "folds": []}
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


def _merge(stats, metas):
    """Merged chunk statistics: ``n``, exact ``v1 = Σv``, ``v2 = Σv²`` (block reduction), ``k`` and, with
    control variates, the exact per-fold Gram sums."""
    v1, v2 = _finish([st["values"] for st in stats], 2)
    out = {"n": sum(st["n"] for st in stats), "v1": v1, "v2": v2, "k": metas[0]["k"] if metas else 1}
    if stats and all("folds" in st for st in stats):
        folds = [None, None]
        for st in stats:
            for f in (0, 1):
                a, b = folds[f], st["folds"][f]
                folds[f] = dict(b) if a is None else {"n": a["n"] + b["n"], "F1": a["F1"] + b["F1"],
                                                      "F2": a["F2"] + b["F2"]}
        out["folds"] = folds
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
            hint = [False]  # see PCGStream
            for state, inc in child_seeds(self.seed_seq, self.base + start, stop - start):
                yield NoiseTape(PCGStream(state, inc, hint))
            return
        ss = self.seed_seq
        for i in range(start, stop):
            child = np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (self.base + i,),
                                           pool_size=ss.pool_size)
            yield NoiseTape(np.random.Generator(self.bitgen(child)))


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


def batch_arrays(spec, start, stop, want) -> dict:
    """A batched program's per-sample arrays of samples ``start..stop-1`` (NumPy): ``value (m,)``, ``pathwise`` and
    ``score`` ``(m, θ.size)``, ``discrete`` (``Σ_r w_r · Δ_r`` of its alternatives, ``(m, θ.size)``, when ``want``
    asks for them) and ``group``."""
    theta, m = spec["theta"], stop - start
    out = _call_range(spec["program"], theta, start, stop, spec["n"], spec["seed"], want)
    arr = {"value": np.asarray(to_numpy(out.value), dtype=float), "pathwise": _flat(out.pathwise, m),
           "score": _flat(out.score, m), "group": None if out.group is None else np.asarray(to_numpy(out.group))}
    if want.alternatives:
        w, delta = np.asarray(to_numpy(out.alt_weight), dtype=float), np.asarray(to_numpy(out.alt_delta), dtype=float)
        if delta.ndim == 1:
            w, delta = w[:, None], delta[:, None]
        arr["discrete"] = (w * delta.reshape(delta.shape + (1,) * np.ndim(theta))).sum(axis=1).reshape(m, -1)
    return arr


# ---------------------------------------------------------------------------------------------------------
# helpers for the estimators' features


def _meta(arr, m):
    """The chunk's metadata every estimator reports: comparisons, boundary sites, alternative runs, group range."""
    meta = {"comparisons": arr.get("comparisons", []), "edge": arr.get("edge", False),
            "alt_runs": arr.get("alt_runs", 0), "groups": None}
    group = arr.get("group")
    if group is not None:
        group = np.asarray(group).ravel()
        meta["groups"] = (int(group.min()), int(group.max())) if m else None
    return meta, group


def _loo_or_zero(value, group):
    """The value minus the mean of the *other* samples of its group (0 for a group of one)."""
    ids, inv = np.unique(group, return_inverse=True)
    inv = inv.ravel()
    sums = np.bincount(inv, weights=value)
    counts = np.bincount(inv).astype(float)
    others = counts[inv] - 1
    return value - np.where(others > 0, (sums[inv] - value) / np.maximum(others, 1), 0.0)


# ---------------------------------------------------------------------------------------------------------
# block reduction: fixed blocks of the global sample index, float within a block, exact across blocks

BLOCK = 4096  # samples per reduction block: block ``q`` holds samples ``q·BLOCK .. (q+1)·BLOCK − 1``


def _block_sums(cols, size=BLOCK):
    """``(blocks, C)`` float sums of columns whose length is a multiple of ``size``, one row per block.

    Each block's sum is NumPy's pairwise sum of its contiguous doubles: the same
    operations on the same numbers wherever the block is summed (a whole block in
    the chunk holding it, or put together in the driver; the last block of ``n``,
    shorter, always in the driver).
    """
    return np.stack([np.ascontiguousarray(c, dtype=np.float64).reshape(-1, size).sum(axis=1) for c in cols], axis=1)


def _exact_rows(P):
    sums = ColumnSums(P.shape[1])
    for a in range(0, P.shape[0], _BLOCK):
        sums.add(P[a:a + _BLOCK])
    return sums.totals()


def _reduce(cols, start):
    """Block reduction of per-sample columns (samples ``start..``): exact sums over the chunk's whole blocks,
    raw rows of the blocks it holds only part of (finished by :func:`_finish`)."""
    m = len(cols[0]) if cols else 0
    stop = start + m
    lo = min(-(-start // BLOCK) * BLOCK, stop)
    hi = max(stop // BLOCK * BLOCK, lo)
    pieces = []
    if lo > start:
        pieces.append((start, np.stack([np.asarray(c[:lo - start], dtype=float) for c in cols], axis=1)))
    if stop > hi:
        pieces.append((hi, np.stack([np.asarray(c[hi - start:], dtype=float) for c in cols], axis=1)))
    if hi > lo:
        totals = _exact_rows(_block_sums([c[lo - start:hi - start] for c in cols]))
    else:
        totals = [0] * len(cols)
    return {"sums": totals, "pieces": pieces}


def _finish(reductions, n_cols):
    """Exact column sums (integers, value ``K · 2^-1126``) from every chunk's :func:`_reduce`.

    Pieces of one block are put together in index order and summed as a whole block,
    so the totals are the exact sums of the same block
    sums for any chunking, in any order of completion.
    """
    total = [0] * n_cols
    pieces = []
    for r in reductions:
        total = [a + b for a, b in zip(total, r["sums"])]
        pieces += r["pieces"]
    pieces.sort(key=lambda t: t[0])
    blocks: dict = {}
    for start, rows in pieces:
        blocks.setdefault(start // BLOCK, []).append(rows)
    if blocks:
        P = []
        for q in sorted(blocks):
            rows = np.concatenate(blocks[q], axis=0)  # the whole block, or the last (short) block of n
            P.append(_block_sums([rows[:, j] for j in range(n_cols)], rows.shape[0]))
        total = [a + b for a, b in zip(total, _exact_rows(np.concatenate(P, axis=0)))]
    return total


def _chunk_task(spec, start, stop, keep):
    """Run samples ``start..stop-1``; keep their per-sample features and reduce their values.

    The estimator makes the per-sample arrays and features (its
    ``chunk_arrays``/``chunk_features``) and any extra exact sums
    (``chunk_sums``); the features stay attached (the gradient pass
    :func:`_grad_task` needs them); ``keep`` is accepted for the executors'
    signature.
    """
    est = spec["est"]
    arr = est.chunk_arrays(spec, start, stop)
    value, F, fold, meta = est.chunk_features(arr, start, spec["size"])
    meta.setdefault("k", None if isinstance(F, tuple) else int(F.shape[2]))
    st = {"n": int(value.shape[0]), "range": (start, stop), "values": _reduce([value, value * value], start)}
    if value.shape[0] != stop - start:
        raise RuntimeError(f"{est!r}: the chunk of samples {start}..{stop - 1} produced {value.shape[0]} samples")
    st.update(est.chunk_sums(value, F, fold, meta))
    return _Chunk(start, value, F, fold, st, meta, est)


def _chunk_stats(chunk):
    return chunk.stats, chunk.meta


def _grad_task(chunk, c, with_samples):
    """The gradient pass: the estimator's per-sample gradients (floats, the same arithmetic wherever the sample
    runs), the block reduction of ``g_j``, ``g_j²`` per component and its extra columns and, if asked, values and
    gradients."""
    g, extra = chunk.est.chunk_gradients(chunk, c)
    d = g.shape[1]
    red = _reduce([g[:, j] for j in range(d)] + [g[:, j] * g[:, j] for j in range(d)] + list(extra), chunk.start)
    return red, (chunk.value, g) if with_samples else None


def linear_gradients(chunk, c):
    """Per-sample gradients ``F · c[fold]`` of a chunk with features ``F (m, d, k)``."""
    F = chunk.F
    m, d, k = F.shape
    c = np.asarray(c, dtype=float)[:, :, :k]
    if m and np.all(chunk.fold == chunk.fold[0]):
        coef = c[int(chunk.fold[0])][None]  # (1, d, k)
    else:
        coef = c[chunk.fold.astype(np.intp)]  # (m, d, k)
    g = F[:, :, 0] * coef[:, :, 0]
    for a in range(1, k):
        g = g + F[:, :, a] * coef[:, :, a]
    return g
