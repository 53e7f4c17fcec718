"""Qanti-kT histories reused across optimisation steps by likelihood ratios.

Every event's ``K`` histories are sampled once at some radius ``R_k`` and kept with
what they give (``mjj``, leading-jet pT: a history's jets do not depend on R) and,
per step, the candidates that can carry weight over a radius range around ``R_k``
(:func:`apps.jets.clustering.reweight.replay_candidates`). A later step at ``R``
uses them with the ratio ``r = p_R(h) / p_{R_k}(h)`` and the score at ``R``:
``E_R[f(h)] = E_{R_k}[r f(h)]`` and ``∂_R E_R[f] = E_{R_k}[r f ∂_R log p_R(h)]``,
both unbiased at any fixed R. The per-event effective sample size
``(Σ_k r)² / Σ_k r²`` is monitored at every step; an event is re-clustered at the
current R (fresh random streams) when it falls below ``ess_min · K`` or when R
leaves the stored range.

What this is unbiased for: at a fixed θ the reweighted terms are unbiased (checked
against enumeration in ``tests/analysis/test_reweight.py``). Along a descent θ_t
itself depends on the reused histories, and so does the decision to re-cluster, so
the steps are only approximately unbiased (as with the linearised significance's
running centre). The analysis's significance must be linearised (per-event additive
yields) for per-event ratios to apply: the replica's Z of the raw yields would need
the product of all events' ratios.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["ReusedHistories"]


class ReusedHistories:
    """Sampled histories of every event, re-served at later radii by likelihood ratios.

    Args:
        events: :class:`apps.jets.Events`.
        alpha: Qanti-kT α (finite, > 0).
        samples: histories per event (K ≥ 2).
        seed: base seed; refresh ``j`` clusters with the seed ``(seed, j)``.
        ess_min: re-cluster an event when its effective sample size falls below
            ``ess_min · K`` (0 < ess_min ≤ 1; 1 re-clusters at every new R).
        r_factor: the stored range is ``[R_k / r_factor, R_k · r_factor]`` (> 1).
        ptmin: jet pT threshold of ``mjj`` (GeV).

    Attributes:
        clusterings: Qanti-kT histories sampled so far; ``refreshes``: events re-clustered
        per call; ``ess``: the mean ESS fraction per call; ``seconds``: time per call split
        into ``cluster``, ``replay`` (building the stored candidates) and ``reweight``.
    """

    def __init__(self, events, alpha, samples, seed=0, ess_min=0.5, r_factor=1.5, ptmin=20.0):
        if alpha is None or not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"reuse needs a finite Qanti-kT α > 0, got {alpha!r}")
        if int(samples) != samples or samples < 2:
            raise ValueError(f"samples must be an integer >= 2, got {samples!r}")
        if not (0 < ess_min <= 1):
            raise ValueError(f"ess_min must be in (0, 1], got {ess_min!r}")
        if not (np.isfinite(r_factor) and r_factor > 1):
            raise ValueError(f"r_factor must be > 1, got {r_factor!r}")
        self.events, self.alpha, self.K, self.seed = events, float(alpha), int(samples), int(seed)
        self.ess_min, self.r_factor, self.ptmin = float(ess_min), float(r_factor), float(ptmin)
        n = len(events)
        self.mjj = np.full((n, self.K), np.nan)
        self.pt1 = np.zeros((n, self.K))
        self.logp0 = np.zeros((n, self.K))
        self.group = np.full(n, -1)
        self.groups = {}
        self.n_refresh = 0
        self.clusterings = 0
        self.refreshes, self.ess, self.seconds = [], [], []

    def _refresh(self, idx, R, times):
        from apps.jets import cluster
        from apps.jets.clustering.reweight import replay_candidates

        t0 = time.process_time()
        seed = int(np.random.SeedSequence([self.seed, self.n_refresh, 0x5E05E]).generate_state(1)[0])
        self.n_refresh += 1
        res = cluster(self.events.subset(idx), float(R), alpha=self.alpha, n_samples=self.K, seed=seed)
        mjj = res.mjj(self.ptmin)
        jets = res.inclusive_jets(self.ptmin)
        self.mjj[idx] = mjj
        self.pt1[idx] = jets.pt[..., 0] if jets.p4.shape[2] else 0.0
        t1 = time.process_time()
        stored = replay_candidates(res, (R / self.r_factor, R * self.r_factor))
        stored.at_start = stored.log_prob(R)
        self.logp0[idx] = stored.at_start[0]
        times["cluster"] += t1 - t0
        times["replay"] += time.process_time() - t1
        key = self.n_refresh
        self.groups[key] = (np.asarray(idx), stored)
        self.group[idx] = key
        self.clusterings += len(idx) * self.K
        return stored

    def __call__(self, R):
        """``(mjj, pt1, score, ratio)`` at ``R``, each ``(N, K)``: the stored histories' observables, the score
        ``∂_R log p_R(h)`` and the ratio ``p_R(h) / p_{R_k}(h)`` (1 for histories sampled at ``R``)."""
        R = float(R)
        times = {"cluster": 0.0, "replay": 0.0, "reweight": 0.0}
        n = len(self.events)
        stale = self.group < 0
        for key, (idx, stored) in list(self.groups.items()):
            lo, hi = stored.r_range
            if not lo <= R <= hi:
                stale[idx[self.group[idx] == key]] = True
        if stale.any():
            self._refresh(np.flatnonzero(stale), R, times)
        logp, score = np.zeros((n, self.K)), np.zeros((n, self.K))

        def evaluate():
            t0 = time.process_time()
            for key, (idx, stored) in list(self.groups.items()):
                live = self.group[idx] == key
                if not live.any():
                    del self.groups[key]
                    continue
                if not live.all():  # drop the histories already replaced by a later refresh
                    idx, stored = idx[live], stored.subset(live)
                    self.groups[key] = (idx, stored)
                lp, sc = stored.log_prob(R)
                logp[idx], score[idx] = lp, sc
            times["reweight"] += time.process_time() - t0
            r = np.exp(logp - self.logp0)
            return r, r.sum(axis=1) ** 2 / np.maximum((r * r).sum(axis=1), 1e-300) / self.K

        r, ess = evaluate()
        low = ess < self.ess_min
        refreshed = int(stale.sum())
        if low.any():
            stored = self._refresh(np.flatnonzero(low), R, times)
            refreshed += int(low.sum())
            score[low] = stored.at_start[1]
            r[low] = 1.0  # sampled at R: the ratio is exactly 1
            ess = np.where(low, 1.0, ess)
        self.refreshes.append(refreshed)
        self.ess.append(float(ess.mean()))
        self.seconds.append(times)
        return self.mjj.copy(), self.pt1.copy(), score, r
