"""Spread an estimator's samples over an executor, with a result bit-identical to the local one.

Design boundary 5: every sample's random stream depends only on ``(seed, sample
index)`` (traced programs: the ``index``-th child of the seed's
:class:`numpy.random.SeedSequence`; batched programs: whatever keyed stream the
program uses, asked for by sample range). The samples are cut into chunks that
run anywhere — in this process, on a :class:`concurrent.futures.Executor`, or on
a Dask cluster (:class:`dask.distributed.Client`) — and every chunk returns only
*sufficient statistics*: exact sums of per-sample features and of their
pairwise products.

Exact sums make the reduction independent of the chunking and of the order in
which chunks finish. Every finite double is an integer multiple of ``2^-1126``;
a chunk adds those integers exactly (Python ints, via per-exponent partial sums),
products of two per-sample features are the ordinary float product (one
rounding per sample, the same wherever the sample runs), and the final estimate
is the *exactly rounded* value of a rational formula of the merged sums. So
``.grad`` is the correctly rounded mean of the per-sample gradients ``F·c``
(features ``F``, coefficients ``c``), whichever way the work was cut: the local
path (``executor=None``) is the one-chunk case of the same code.

What the estimators need from all samples stays exact:

* score-function baselines ``"mean"`` / ``"leave_one_out"``: each per-sample
  gradient is ``p + v·s·a − b·s`` with global rational ``a, b`` (functions of
  ``Σv`` and ``n``), so ``Σ(p, v·s, s)`` and their products suffice;
* the stochastic derivative's cross-fitted control variates: per fold the
  Gram matrix of ``(g, s, v·s − discrete)`` gives the least-squares fit; its
  out-of-sample (PRESS) check is one more pass over the chunks, which stay
  where they were computed (Dask) or in the driver (other executors);
* per-group baselines of batched programs: a group never spans two chunks.

Per-sample gradients (``Estimate.samples``) come back only when asked
(``return_samples=True``; always on the local path).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from fractions import Fraction
from typing import Any

import numpy as np

from ._batched import BatchedProgram, BatchSamples, Want, _check
from ._estimate import Estimate
from ._run import warn_comparisons
from ._trace import NoiseTape
from .backend import to_numpy
from .estimators import FiniteDifference, ScoreFunction, StochasticDerivative
from .estimators._control import MIN_SAMPLES
from .estimators.stochastic_derivative import CV_BOUNDARY

__all__ = ["supports", "estimate", "exact_sum", "exact_value", "local_cluster_client"]

_SHIFT = 1126  # every finite double is an integer multiple of 2^-1126 (frexp exponent − 53 ≥ −1126)
_ONE = 1 << _SHIFT


# ---------------------------------------------------------------------------------------------------------
# exact arithmetic


def exact_sum(a) -> int:
    """Exact sum of a 1-D float64 array as an integer ``K`` (the sum is ``K · 2^-1126``).

    Order-independent and exact: adding two such integers is the exact sum of
    the union. Convert with :func:`exact_value`.

    Raises:
        ValueError: a non-finite entry.
    """
    a = np.ascontiguousarray(a, dtype=np.float64).ravel()
    sums = _ColumnSums(1)
    for i in range(0, a.size, _BLOCK):
        sums.add(a[i:i + _BLOCK, None])
    return sums.totals()[0]


def exact_value(K) -> Fraction:
    """The rational number represented by an :func:`exact_sum` integer."""
    return Fraction(K, _ONE)


_NEXP = 2100  # exponent slots per column (frexp exponent − 53 + 1126 lies in [0, 2098])
_BLOCK = 1 << 15  # rows per block of the column sums (bounds the temporaries)


class _ColumnSums:
    """Exact sums of many float columns at once, fed block by block (no sort, O(rows × columns)).

    Each double is ``mi · 2^(e − 53)`` with ``mi`` a 53-bit integer, cut as ``hi·2^27 + lo``
    (``|hi| < 2^26``, ``0 ≤ lo < 2^27``): per column and exponent, float sums of these parts stay
    exact (< 2^53) for up to 2^26 rows, after which they are flushed into Python integers.
    """

    _FLUSH = 1 << 26

    def __init__(self, n_cols):
        self.n_cols = n_cols
        self.out = [0] * n_cols
        self._reset()

    def _reset(self):
        self.acc = [np.zeros(self.n_cols * _NEXP) for _ in range(2)]
        self.rows = 0

    def add(self, M):
        M = np.ascontiguousarray(M, dtype=np.float64)
        if M.size == 0:
            return
        if not np.all(np.isfinite(M)):
            raise ValueError("a per-sample quantity is not finite (inf/NaN); the estimate would be meaningless")
        if self.rows + M.shape[0] > self._FLUSH:
            self._flush()
        self.rows += M.shape[0]
        m, e = np.frexp(M)
        mi = (m * 9007199254740992.0).astype(np.int64)
        idx = (e.astype(np.intp) + (_SHIFT - 53) + np.arange(self.n_cols, dtype=np.intp) * _NEXP).ravel()
        self.acc[0] += np.bincount(idx, weights=(mi >> 27).ravel().astype(np.float64), minlength=self.acc[0].size)
        self.acc[1] += np.bincount(idx, weights=(mi & 0x7FFFFFF).ravel().astype(np.float64),
                                   minlength=self.acc[1].size)

    def _flush(self):
        for acc, shift in zip(self.acc, (27, 0)):
            for k in np.flatnonzero(acc).tolist():
                c, ex = divmod(k, _NEXP)
                self.out[c] += int(acc[k]) << (ex + shift)
        self._reset()

    def totals(self) -> list:
        """The exact sums as integers (value ``K · 2^-1126``), one per column."""
        self._flush()
        return list(self.out)


def _frac(x) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(float(x))


# ---------------------------------------------------------------------------------------------------------
# per-chunk data


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
    sums = _ColumnSums(2 + len(present) * per_fold)
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
    """Enough to rebuild sample ``i``'s generator anywhere: child ``base + i`` of a SeedSequence."""

    entropy: Any
    spawn_key: tuple
    pool_size: int
    base: int
    bitgen: type

    @classmethod
    def take(cls, rng: np.random.Generator, n: int):
        ss = rng.bit_generator.seed_seq
        if not isinstance(ss, np.random.SeedSequence):
            raise TypeError("the seed generator must be seeded from a numpy SeedSequence (np.random.default_rng)")
        self = cls(ss.entropy, tuple(ss.spawn_key), ss.pool_size, ss.n_children_spawned, type(rng.bit_generator))
        ss.spawn(n)  # advance the parent as rng.spawn(n) does on the local path
        return self

    def tapes(self, start, stop):
        for i in range(start, stop):
            child = np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key + (self.base + i,),
                                           pool_size=self.pool_size)
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
    if isinstance(est, FiniteDifference):
        th = np.asarray(theta, dtype=float)
        sc = float(th) if th.ndim == 0 else th
        value = _call_range(program, sc, start, stop, n, seed, Want()).value
        cols = []
        for j, tp, tm in est._directions(th):
            from .estimators.finite_difference import _other_seed, _scalar

            s2 = seed if est.common_random_numbers else _other_seed(seed, j)
            fp = _call_range(program, _scalar(tp), start, stop, n, seed, Want()).value
            fm = _call_range(program, _scalar(tm), start, stop, n, s2, Want()).value
            cols.append((fp - fm) / (2 * est.step))
        grad = np.stack([np.asarray(to_numpy(c), dtype=float) for c in cols], axis=1)
        return {"value": np.asarray(to_numpy(value), dtype=float), "grad": grad}
    if isinstance(est, ScoreFunction):
        out = _call_range(program, theta, start, stop, n, seed, Want(score=True, pathwise=True))
        return {"value": np.asarray(to_numpy(out.value), dtype=float), "pathwise": _flat(out.pathwise, m),
                "score": _flat(out.score, m), "group": None if out.group is None else np.asarray(to_numpy(out.group))}
    want = Want(score=est.control_variates, pathwise=True, alternatives=True, n_alternatives=est.n_alternatives)
    out = _call_range(program, theta, start, stop, n, seed, want)
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


# ---------------------------------------------------------------------------------------------------------
# control variates from sufficient statistics (the cross-fit of estimators._control, exactly reduced)


def _centred_gram(fs):
    """Per component, the centred Gram matrix ``(d, k, k)`` (floats) and means ``(d, k)`` of one fold."""
    n = fs["n"]
    d, k = fs["F1"].shape
    G = np.empty((d, k, k))
    mean = np.empty((d, k))
    for j in range(d):
        s = [exact_value(fs["F1"][j, a]) for a in range(k)]
        for a in range(k):
            mean[j, a] = float(s[a] / n)
            for b in range(a, k):
                G[j, a, b] = G[j, b, a] = float(exact_value(fs["F2"][j, a, b]) - s[a] * s[b] / n)
    return G, mean


def _fit(fs):
    """The least-squares fit of one fold, per component, from its sufficient statistics.

    Feature 0 is the gradient ``g``, features 1.. the control variates ``X``.
    Returns a list (per component) of ``None`` (nothing to fit) or a dict with
    what the PRESS pass needs, and the ``ok`` mask (features whose fold mean is
    within 5 standard errors of zero; the others get coefficient 0).
    """
    n = fs["n"]
    G, mean = _centred_gram(fs)
    d, k = mean.shape
    var0 = np.maximum(np.diagonal(G, axis1=1, axis2=2)[:, 1:] / n, 0.0)  # population variance of X
    se = np.sqrt(var0) / np.sqrt(max(n - 1, 1))
    ok = np.abs(mean[:, 1:]) <= 5.0 * se + 1e-300
    fits = []
    for j in range(d):
        sd = np.sqrt(np.maximum(np.diag(G[j])[1:], 0.0)) * ok[j]
        live = sd > 0
        if not live.any():
            fits.append(None)
            continue
        sdl = sd[live]
        idx = np.flatnonzero(live) + 1
        C = G[j][np.ix_(idx, idx)] / np.outer(sdl, sdl)
        lam, V = np.linalg.eigh(C)
        order = np.argsort(lam)[::-1]
        S = np.sqrt(np.maximum(lam[order], 0.0))
        V = V[:, order]
        if not S[0] > 0:
            fits.append(None)
            continue
        keep = S > 1e-6 * S[0]
        S, V = S[keep], V[:, keep]
        Uty = (V.T @ (G[j][idx, 0] / sdl)) / S
        beta = V @ (Uty / S)
        fits.append({"live": live, "sd": sdl, "mx": mean[j, idx], "my": mean[j, 0], "W": V / S, "beta": beta,
                     "yy": G[j, 0, 0]})
    return fits, ok


def _press_task(chunk, fits):
    """Per (fold, component): exact ``Σ (resid / (1 − leverage))²`` over the chunk's samples of that fold, max leverage."""
    out = []
    for f in (0, 1):
        sel = chunk.fold == f
        row = []
        for j, fit in enumerate(fits[f][0] if fits[f] is not None else []):
            if fit is None or not sel.any():
                row.append((0, 0.0))
                continue
            X = chunk.F[sel, j, 1:][:, fit["live"]]
            Zs = (X - fit["mx"]) / fit["sd"]
            y = chunk.F[sel, j, 0] - fit["my"]
            lev = ((Zs @ fit["W"]) ** 2).sum(axis=1) + 1.0 / fits[f][1]
            resid = y - Zs @ fit["beta"]
            with np.errstate(divide="ignore", invalid="ignore"):
                r = resid / (1.0 - lev)
            if np.all(np.isfinite(r)):
                row.append((exact_sum(r * r), float(lev.max())))
            else:
                row.append((0, math.inf))
        out.append(row)
    return out


def _cross_fit(ex, handles, tot, d):
    """Cross-fitted coefficients ``c (2, d, 3)`` (per fold of the *corrected* samples) and the info dict."""
    folds = tot["folds"]
    sizes = (folds[0]["n"], folds[1]["n"])
    n = tot["n"]
    none = np.zeros((2, d, 3))
    none[:, :, 0] = 1.0
    if n < MIN_SAMPLES or min(sizes) < MIN_SAMPLES // 2:
        return none, {"control_variates": f"not applied ({n} samples in folds of {sizes[0]} and {sizes[1]}; "
                                          f"needs {MIN_SAMPLES}, at least {MIN_SAMPLES // 2} per fold)"}
    fits, oks = [], []
    for f in (0, 1):
        fit, ok = _fit(folds[f])
        fits.append((fit, sizes[f]))
        oks.append(ok)
    press = ex.apply(_press_task, handles, fits)
    coef = np.zeros((2, d, 2))
    for f in (0, 1):
        for j, fit in enumerate(fits[f][0]):
            if fit is None:
                continue
            nf = sizes[f]
            total = sum(exact_value(r[f][j][0]) for r in press)
            maxlev = max(r[f][j][1] for r in press)
            if maxlev > 1.0 - 1e-9:
                continue
            press_mean = Fraction(fit["yy"]) * Fraction(nf, nf - 1) ** 2
            if total < press_mean:
                coef[f, j, fit["live"]] = fit["beta"] / fit["sd"]
        coef[f] *= oks[f]
    c = np.empty((2, d, 3))
    c[:, :, 0] = 1.0
    c[0, :, 1:] = -coef[1]  # fold 0 is corrected with the fit of fold 1, and vice versa
    c[1, :, 1:] = -coef[0]
    info = {"control_variates": "cross-fitted (2 folds)"}
    dropped = int((~oks[0]).sum() + (~oks[1]).sum())
    if dropped:
        info["dropped"] = (f"{dropped} (fold, component, feature) coefficient(s) set to 0: the feature's mean "
                           "is more than 5 standard errors from zero on the fitting fold (a score that is not "
                           "a score there, e.g. at a boundary of the parameter space?)")
    return c, info


# ---------------------------------------------------------------------------------------------------------
# the final combination


def _moments(tot, c):
    """Exact ``(Σg, Σg²)`` per component for per-sample gradients ``F · c[fold]``."""
    d = c.shape[1]
    s1, s2 = [Fraction(0)] * d, [Fraction(0)] * d
    for f in (0, 1):
        fs = tot["folds"][f]
        if fs["n"] == 0:
            continue
        k = fs["F1"].shape[1]
        for j in range(d):
            cj = [_frac(c[f, j, a]) for a in range(k)]
            s1[j] += sum(cj[a] * exact_value(fs["F1"][j, a]) for a in range(k) if cj[a])
            s2[j] += sum(cj[a] * cj[b] * exact_value(fs["F2"][j, a, b])
                         for a in range(k) for b in range(k) if cj[a] and cj[b])
    return s1, s2


def _mean_se(s1, s2, n):
    mean = float(s1 / n)
    if n < 2:
        return mean, math.nan
    var = (s2 - s1 * s1 / n) / (n - 1)
    return mean, math.sqrt(max(float(var / n), 0.0))


def _coefficients(est, tot, d):
    """Per-fold coefficients ``c (2, d, k)`` of the features, exact where they are rational (score function)."""
    n = tot["n"]
    if isinstance(est, ScoreFunction):
        k = tot["folds"][0]["F1"].shape[1]
        c = np.empty((2, d, k), dtype=object)
        if k == 2:  # per-group baselines already in the features
            c[...] = Fraction(1)
            return c
        b = est.baseline
        S = exact_value(tot["v1"])
        if b == "leave_one_out":
            if n < 2:
                raise ValueError("ScoreFunction(baseline='leave_one_out') needs >= 2 samples (per group)")
            row = (Fraction(1), Fraction(n, n - 1), -S / (n - 1))
        elif b == "mean":
            row = (Fraction(1), Fraction(1), -S / n)
        elif b == "none":
            row = (Fraction(1), Fraction(1), Fraction(0))
        else:
            row = (Fraction(1), Fraction(1), -Fraction(float(b)))
        c[...] = row
        return c
    k = tot["folds"][0]["F1"].shape[1]
    c = np.zeros((2, d, k), dtype=object)
    c[:, :, 0] = 1  # the gradient itself; control variates (if any) get their coefficients from the cross-fit
    return c


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
        return [c.submit(task, spec, a, b, keep, pure=False, retries=3) for a, b in chunks]

    def stats(self, handles):
        c = self.client
        if not self.kept:  # the results hold statistics only: fetch them directly
            return [_chunk_stats(h) for h in c.gather(handles)]
        return c.gather([c.submit(_chunk_stats, h, pure=False, retries=3) for h in handles])

    def apply(self, fn, handles, *args):
        c = self.client
        return c.gather([c.submit(fn, h, *args, pure=False, retries=3) for h in handles])


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


def supports(estimator) -> bool:
    """Whether ``estimator`` runs through this module (score function, stochastic derivative, finite differences)."""
    return isinstance(estimator, (ScoreFunction, StochasticDerivative, FiniteDifference))


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


def estimate(f, est, theta, args, kwargs, n, seed, executor=None, chunk_size=None, return_samples=None) -> Estimate:
    """Estimate ``E[f]`` and ``∇θ E[f]`` with ``est`` from ``n`` samples cut into chunks (see module docs).

    The result is bit-identical for any ``chunk_size`` and any executor: each
    sample's randomness is keyed by ``(seed, sample index)`` and every reduction
    is exact (correctly rounded once at the end).

    Args:
        f: a :class:`~stochgrad.StochasticFunction` or a :class:`~stochgrad.BatchedProgram`.
            A batched program cut into several chunks must provide
            ``sample_range(theta, start, stop, seed, want)`` (samples ``start..stop-1``
            with the numbers of the whole call); its ``partitions`` attribute, if
            any, fixes the chunk boundaries.
        est: :class:`~stochgrad.ScoreFunction`, :class:`~stochgrad.StochasticDerivative`
            or :class:`~stochgrad.FiniteDifference`.
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
    if not supports(est):
        raise TypeError(f"{est!r} does not run on an executor; use ScoreFunction, StochasticDerivative or "
                        "FiniteDifference, or executor=None")
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
        if args or kwargs:
            raise TypeError("batched programs take θ only; bind other arguments in the program")
        s = seed.integers(2**63) if isinstance(seed, np.random.Generator) else seed
        if s is None:
            s = int(np.random.SeedSequence().entropy % (1 << 63))  # one seed for every chunk
        chunks = _chunks(n, chunk_size, f)
        if len(chunks) > 1 and not callable(getattr(f, "sample_range", None)):
            raise TypeError(f"{f!r} cannot be cut into chunks: give it a sample_range(theta, start, stop, seed, want) "
                            "method (samples start..stop-1 with the numbers of the whole call)")
        spec = {"est": est, "program": f, "theta": theta, "n": n, "seed": s, "size": size}
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        spec = {"est": est, "call": (f, theta, args, kwargs), "size": size}
        if isinstance(est, StochasticDerivative):
            spec["pick_seed"] = int(rng.integers(2**63))
        spec["streams"] = _Streams.take(rng, n)
        chunks = _chunks(n, chunk_size)
    cv = isinstance(est, StochasticDerivative) and est.control_variates
    keep = return_samples or cv
    handles = ex.run(_chunk_task, spec, chunks, keep)
    parts = ex.stats(handles)
    tot = _merge([p[0] for p in parts])
    metas = [p[1] for p in parts]
    groups = [m["groups"] for m in metas if m["groups"] is not None]
    if len(groups) > 1 and any(a[1] >= b[0] for a, b in zip(groups, groups[1:])):
        raise ValueError("a group of the batched program spans two chunks (or groups are not ascending): "
                         "choose chunk boundaries at group boundaries")
    comparisons = [c for m in metas for c in m["comparisons"]]
    edge = set().union(*[m["edge"] for m in metas if isinstance(m["edge"], set)]) if metas else set()
    on_boundary = any(m["edge"] is True for m in metas)
    info: dict = {}
    if isinstance(est, FiniteDifference):
        info["runs_per_sample"] = 2 * size + 1
    if isinstance(est, StochasticDerivative) and not batched:
        info["alternative_runs_per_sample"] = sum(m["alt_runs"] for m in metas) / n
    c = _coefficients(est, tot, size)
    if cv and all(m.get("has_score", False) for m in metas):
        if on_boundary:
            info["control_variates"] = CV_BOUNDARY
        else:
            base = c
            c, cv_info = _cross_fit(ex, handles, tot, size)
            info.update(cv_info)
            if cv_info["control_variates"].startswith("cross"):
                s1b, s2b = _moments(tot, base)
                s1a, s2a = _moments(tot, c)
                ratio = []
                for j in range(size):
                    before = (s2b[j] - s1b[j] ** 2 / n) / n
                    after = (s2a[j] - s1a[j] ** 2 / n) / n
                    ratio.append(float(after / before) if before > 0 else 1.0)
                info["variance_ratio"] = ratio
    warn_comparisons(comparisons, repr(est))
    if isinstance(est, ScoreFunction):
        est.warn_edge(edge)
    s1, s2 = _moments(tot, c)
    grad = np.empty(size)
    grad_se = np.empty(size)
    for j in range(size):
        grad[j], grad_se[j] = _mean_se(s1[j], s2[j], n)
    value, value_se = _mean_se(exact_value(tot["v1"]), exact_value(tot["v2"]), n)
    samples = values = None
    if return_samples:
        cf = np.array([[[float(x) for x in row] for row in fold] for fold in c])
        got = ex.apply(_samples_task, handles, cf)
        values = np.concatenate([g[0] for g in got])
        samples = np.concatenate([g[1] for g in got]).reshape((n,) + d)
    if d == ():
        grad, grad_se = float(grad[0]), float(grad_se[0])
    else:
        grad, grad_se = grad.reshape(d), grad_se.reshape(d)
    return Estimate(value, value_se, grad, grad_se, samples, values, n, repr(est), info)


def _samples_task(chunk, c):
    """Per-sample values and gradients ``F · c[fold]`` (floats) of one chunk."""
    coef = c[chunk.fold.astype(np.intp)]  # (m, d, k)
    return chunk.value, np.einsum("mdk,mdk->md", chunk.F, coef[:, :, : chunk.F.shape[2]])


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
