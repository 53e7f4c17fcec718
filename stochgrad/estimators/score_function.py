"""Score-function (REINFORCE) estimator with baselines."""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import numpy as np

from .._batched import Want
from .._chunks import _meta, batch_arrays
from .._exact import exact_value
from .._run import run_differentiated
from ..backend import array_module
from .base import Estimator

__all__ = ["ScoreFunction"]

_BASELINES = ("none", "mean", "leave_one_out")


class ScoreFunction(Estimator):
    """Score-function (REINFORCE / likelihood-ratio) gradient with a baseline.

    Estimates ``∇θ E[f] = E[∂f/∂θ + (f − b) ∇θ log p(trace)]``: the pathwise term
    (autograd through ``f`` at fixed choices) plus the score term (Glynn 1990;
    Williams 1992).

    Baselines:
        * ``"none"``: ``b = 0``. Unbiased, highest variance.
        * ``"leave_one_out"``: ``b_i`` = mean of the other samples' values.
          Unbiased (the baseline is independent of sample ``i``); needs ``n ≥ 2``.
          The samples share the baseline, so they are correlated: the standard
          error adds the part of the variance their spread misses (see
          :meth:`baseline_variance`), which matters when ``f`` takes few values.
        * ``"mean"``: ``b`` = mean over all samples including ``i``. Equals the
          leave-one-out estimate times ``(n − 1)/n``: biased by a factor ``1/n``.
        * a number: a constant baseline ``b``. Unbiased.

    Requires: choice probabilities differentiable in θ (autograd), no comparisons
    of θ-dependent continuous values (see :class:`~stochgrad.BiasWarning`).

    Args:
        baseline: one of ``"leave_one_out"`` (default), ``"mean"``, ``"none"``, or a
            finite number.

    Raises:
        ValueError: an unknown baseline name, or a number that is not finite (NaN or
            ±inf would turn every gradient into NaN).
    """

    def __init__(self, baseline="leave_one_out"):
        if isinstance(baseline, str):
            if baseline not in _BASELINES:
                raise ValueError(f"ScoreFunction: baseline must be one of {_BASELINES} or a number, got {baseline!r}")
        elif isinstance(baseline, bool) or not isinstance(baseline, numbers.Real):
            raise ValueError(f"ScoreFunction: baseline must be one of {_BASELINES} or a number, got {baseline!r}")
        elif not np.isfinite(float(baseline)):
            raise ValueError(f"ScoreFunction: a constant baseline must be finite, got {baseline!r} "
                             "(it would make every gradient sample NaN)")
        else:
            baseline = float(baseline)
        self.baseline = baseline

    @property
    def unbiased(self):
        return self.baseline != "mean"

    def _centred(self, xp, value, group):
        """``v − b``: the value minus its baseline (per group with ``group``)."""
        n = value.shape[0]
        b = self.baseline
        if b in ("mean", "leave_one_out"):
            if group is None:
                total, count = xp.sum(value), n
            else:
                sums = xp.bincount(group, weights=value)
                counts = xp.bincount(group)
                total, count = sums[group], counts[group]
            if b == "mean":
                return value - total / count
            if int(xp.min(xp.asarray(count))) < 2:
                raise ValueError("ScoreFunction(baseline='leave_one_out') needs >= 2 samples (per group)")
            return value - (total - value) / (count - 1)
        if b == "none":
            return value
        return value - float(b)

    def baseline_variance(self, value, score, group=None):
        """The variance of the mean gradient that the spread of the samples misses, per θ component.

        With a ``"leave_one_out"`` or ``"mean"`` baseline the samples are not
        independent: sample ``i``'s baseline holds ``v_j`` and sample ``j``'s holds
        ``v_i``, so ``Cov(g_i, g_j) ≠ 0``. Writing ``q_i = (v_i − b_i) s_i`` for
        the score part of sample ``i``, the sample variance over ``n`` falls short
        of the variance of the mean by exactly ``(E q)² / (m − 1)²`` in expectation
        for a baseline over ``m`` samples (per group, weighted by ``(m/n)²``).
        That is negligible when ``f`` has a continuous spread, but when ``f`` takes
        two or three values the first-order part of the variance can nearly
        vanish (``f ∈ {0, 1}``, ``k ~ Bernoulli(½)``: every sample gives nearly
        the same gradient) and the missing part is then half of the variance or
        more. ``(E q)²`` is estimated by ``q̄²`` without groups (its bias,
        ``Var(q)/n``, is of a lower order here) and by the unbiased
        ``Σ_{i≠j} q_i q_j / (m (m − 1))`` within each group (small groups); the
        total is clamped at 0.

        Args:
            value: per-sample values ``(n,)``.
            score: per-sample scores ``(n, *θ)``.
            group: optional integer group ids ``(n,)`` (baselines within groups).

        Returns:
            The extra variance, shaped like one sample's θ, or ``None`` for the
            ``"none"`` and constant baselines (independent samples).
        """
        if self.baseline not in ("mean", "leave_one_out"):
            return None
        xp = array_module(value, score)
        n = value.shape[0]
        q = self._centred(xp, value, group).reshape((n,) + (1,) * (score.ndim - 1)) * score
        if group is None and n < 2:
            return None
        sums = xp.stack([xp.sum(col) for col in _shared_baseline_columns(xp, q.reshape(n, -1), group)])
        extra = sums * sums / (float(n) ** 2 * float(n - 1) ** 2) if group is None else sums / float(n) ** 2
        return xp.maximum(extra, 0.0).reshape(score.shape[1:])

    def combine(self, value, pathwise, score, group=None):
        """Per-sample gradients from per-sample value ``(n,)``, pathwise and score ``(n, *θ)``.

        With ``group`` (integer ids, shape ``(n,)``) the ``"mean"`` and
        ``"leave_one_out"`` baselines are computed within each group.
        """
        xp = array_module(value, pathwise, score)
        n = value.shape[0]
        centred = self._centred(xp, value, group)
        shape = (n,) + (1,) * (score.ndim - 1)
        g = centred.reshape(shape) * score
        if pathwise is not None:
            g = g + pathwise
        return g

    def traced_arrays(self, fn, theta, args, kwargs, tapes, index):
        """Per-sample ``value (m,)``, ``pathwise``/``score`` ``(m, θ.size)`` of the samples ``index`` (their ``tapes``).
        Each sample depends only on its own tape: any subset can run anywhere (:mod:`stochgrad.distributed`).
        """
        values, path, score, cmp, edge = [], [], [], [], set()
        for i, tape in zip(index, tapes):
            run = run_differentiated(fn, theta, args, kwargs, tape, f"sample {i}")
            values.append(run.value)
            path.append(np.ravel(run.grad_of(run.out)))
            score.append(np.ravel(run.score()))
            cmp += run.comparisons
            edge.update(run.boundary_sites())
        size = int(np.prod(np.shape(theta)))
        return {"value": np.array(values, dtype=float), "pathwise": np.array(path, dtype=float).reshape(-1, size),
                "score": np.array(score, dtype=float).reshape(-1, size), "comparisons": cmp, "edge": edge}

    def refuse_edge(self, edge):
        """Refuse choices on an edge of the parameter space (an outcome of probability 0 whose probability moves).

        Such an outcome is never sampled, so no score-function sample can carry its
        contribution: the estimate would be wrong by it, however many samples.

        Raises:
            ValueError: naming the sites and the estimators that are right there.
        """
        if edge:
            raise ValueError(
                f"{self!r}: choice(s) at site(s) {sorted(edge)[:5]} have an outcome of probability 0 whose "
                "probability moves with θ (e.g. bernoulli(θ) at θ = 0). That outcome is never sampled, so the "
                "score function cannot estimate its part of the gradient. Use StochasticDerivative, Exact or "
                "FiniteDifference here, or keep θ inside the parameter space.")

    def want(self):
        return Want(score=True, pathwise=True)

    # the chunk protocol (see Estimator): features (p, x, s) kept unstacked, g = p + s·(x·c1 + c2)
    def chunk_arrays(self, spec, start, stop):
        if "program" in spec:
            return batch_arrays(spec, start, stop, self.want())
        return super().chunk_arrays(spec, start, stop)

    def chunk_features(self, arr, start, size):
        v = arr["value"]
        m = v.shape[0]
        meta, group = _meta(arr, m)
        p, s, b = arr.get("pathwise"), arr["score"], self.baseline
        meta["shared_baseline"] = b in ("mean", "leave_one_out")  # correlated samples: see chunk_gradients
        if group is not None and b in ("mean", "leave_one_out"):
            meta["k"] = 2  # per-group baselines already in x = v − b_group
            centred = self._centred(np, v, np.unique(group, return_inverse=True)[1].ravel())  # per-group baselines
            return v, ("sf", p, centred, s, group), np.zeros(m, dtype=np.int8), meta
        meta["k"] = 3
        return v, ("sf", p, v, s, None), np.zeros(m, dtype=np.int8), meta

    def chunk_coefficients(self, tot, size):
        """``(1, a, −b)`` per component, exact (fractions): ``g = p + s·(v·a − b)`` with the global baseline."""
        n, k = tot["n"], tot["k"]
        c = np.empty((2, size, k), dtype=object)
        if k == 2:  # per-group baselines already in the features
            c[...] = Fraction(1)
            return c
        b = self.baseline
        S = exact_value(tot["v1"])  # exact sum of the value's block sums (stochgrad._chunks)
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

    def chunk_gradients(self, chunk, c):
        """``g = s·(x·c1 + c2) + p`` and, with a shared baseline, the columns of :meth:`baseline_variance`'s sums."""
        _, p, x, s, group = chunk.F
        cc = np.asarray(c[0], dtype=float)
        if cc.shape[1] == 3:
            q = s * (x[:, None] * cc[:, 1] + cc[:, 2])
        else:
            q = s * (x[:, None] * cc[:, 1])
        extra = _shared_baseline_columns(np, q, group) if chunk.meta.get("shared_baseline") else []
        return (q if p is None else q + p), extra

    def chunk_stderr(self, tot, extra_sums, grad_se, n):
        """:meth:`baseline_variance` computed exactly from the sums of the extra columns of :meth:`chunk_gradients`."""
        if self.baseline not in ("mean", "leave_one_out") or not extra_sums or n < 2:
            return grad_se
        out = np.array(grad_se, dtype=float)
        for j in range(len(out)):
            if tot["k"] == 2:  # groups
                extra = exact_value(extra_sums[j]) / (n * n)
            else:
                Q = exact_value(extra_sums[j])
                extra = Q * Q / (n * n * (n - 1) ** 2)
            if extra > 0:
                out[j] = math.sqrt(float(Fraction(out[j]) ** 2 + extra))
        return out

    def chunk_info(self, metas, n, size, batched):
        edge = set().union(*[m["edge"] for m in metas if isinstance(m["edge"], set)]) if metas else set()
        self.refuse_edge(edge)
        return {}


def _shared_baseline_columns(xp, q, group):
    """Per θ component, the per-sample column whose sum gives :meth:`ScoreFunction.baseline_variance`.

    Without groups ``q`` itself (``Σq``); with groups ``q_i (Q_g − q_i) m_g / (m_g − 1)³``, whose sum over a
    group is its part ``(Q_g² − Σ q_i²) m_g / (m_g − 1)³`` (a group lies in one chunk).
    """
    if group is None:
        return [q[:, j] for j in range(q.shape[1])]
    inv = xp.unique(group, return_inverse=True)[1].ravel()
    mg = xp.bincount(inv).astype(float)[inv]
    w = xp.where(mg > 1, mg / xp.maximum(mg - 1, 1.0) ** 3, 0.0)
    return [q[:, j] * (xp.bincount(inv, weights=q[:, j])[inv] - q[:, j]) * w for j in range(q.shape[1])]
