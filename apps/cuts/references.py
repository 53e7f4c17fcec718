"""References for the cut optimiser that share nothing with it: an exact exhaustive grid and multi-seed DE.

* :func:`grid_cuts`: the best hard cut over *every* distinct selection, for up to
  three thresholds. With non-negative weights and an objective that does not
  decrease with the signal yield nor increase with the background yield (the
  Asimov significance and ``s/√b`` both qualify), some optimal lower cut sits just
  below a signal event's value (raising it to there only drops background) or
  keeps everything, and likewise for upper cuts. So the candidates of threshold
  ``d`` are the distinct signal values of its variable plus "no cut", and the grid
  over them is exact: it finds the global optimum of the hard objective. The
  yields of all candidate combinations come from one weighted histogram and
  cumulative sums (three thresholds: a loop over the first one's candidates).
* :func:`differential_evolution_best`: scipy's ``differential_evolution`` on the
  hard-cut objective from several seeds, keeping the best (for 4+ thresholds,
  where the grid is out of reach). Not guaranteed to find the global optimum.
"""

from __future__ import annotations

import time

import numpy as np

from .events import CutSpec, Events
from .objectives import resolve_objective
from .problems import differential_evolution_cuts

__all__ = ["grid_cuts", "differential_evolution_best", "candidate_bins"]


def candidate_bins(events: Events, spec: CutSpec):
    """Per threshold: the candidate index of every event and the threshold each candidate stands for.

    Threshold ``d`` with ``K`` distinct positive-weight signal values ``v`` has ``K + 1``
    candidates ``c``. Lower cut: ``c`` keeps ``x ≥ v[c−1]`` (``c = 0``: everything), and
    an event passes iff its bin ``#{v ≤ x}`` is ``≥ c``. Upper cut: ``c`` keeps
    ``x ≤ v[c]`` (``c = K``: everything), and an event passes iff ``#{v < x} ≤ c``.
    Each candidate's threshold is the midpoint to the neighbouring event value (any
    class) on the cut side, or 1 beyond the sample for "no cut".

    Returns:
        ``(bins (N, D) int, thresholds: list of D arrays of length K_d + 1)``.
    """
    sig = events.is_signal & (events.weights > 0)
    bins, thresholds = [], []
    for v_d, dirn in zip(spec.variables, spec.direction):
        x = events.features[:, v_d]
        v = np.unique(x[sig])
        allx = np.unique(x)
        if dirn > 0:
            bins.append(np.searchsorted(v, x, side="right"))
            below = allx[np.maximum(np.searchsorted(allx, v, side="left") - 1, 0)]
            below = np.where(below < v, below, v - 1.0)  # v is the smallest value: any θ below it
            thresholds.append(np.r_[allx[0] - 1.0, 0.5 * (below + v)])
        else:
            bins.append(np.searchsorted(v, x, side="left"))
            i = np.minimum(np.searchsorted(allx, v, side="right"), allx.size - 1)
            above = np.where(allx[i] > v, allx[i], v + 1.0)
            thresholds.append(np.r_[0.5 * (v + above), allx[-1] + 1.0])
    return np.stack(bins, axis=1), thresholds


def _cumulate(h, dirs):
    """Yields of every candidate combination from a histogram over candidate bins."""
    for ax, d in enumerate(dirs):
        h = np.flip(np.cumsum(np.flip(h, ax), axis=ax), ax) if d > 0 else np.cumsum(h, axis=ax)
    return h


def grid_cuts(events: Events, spec: CutSpec, objective="asimov", b_min=1.0, max_params=3):
    """The exact best hard cut by exhaustive enumeration of every distinct selection (≤ 3 thresholds).

    Exact (the global maximum of the hard objective) for non-negative weights and an
    objective non-decreasing in ``s`` and non-increasing in ``b`` (see the module
    docstring); ``evaluations`` counts the candidate combinations scored.

    Args:
        events, spec: data and cut layout.
        objective, b_min: see :mod:`apps.cuts.objectives`.
        max_params: refuse more thresholds than this (the work grows as ``K^D``).

    Returns:
        dict with ``theta``, ``hard_value``, ``evaluations``, ``seconds``.

    Raises:
        ValueError: more than ``max_params`` (or 3) thresholds, negative weights, no signal.
    """
    t0 = time.perf_counter()
    D = spec.n_params
    if D > min(max_params, 3):
        raise ValueError(f"grid_cuts enumerates at most {min(max_params, 3)} thresholds, got {D}; "
                         "use differential_evolution_best")
    if np.any(events.weights < 0):
        raise ValueError("grid_cuts is exact only for non-negative weights")
    if not np.any(events.is_signal & (events.weights > 0)):
        raise ValueError("no signal event with a positive weight: nothing to select")
    f = resolve_objective(objective, b_min)
    bins, thr = candidate_bins(events, spec)
    shape = tuple(len(t) for t in thr)
    ws, wb = events.signal_weights, events.background_weights
    dirs = spec.direction

    def best_of(idx, b_sub, shp, d_sub):
        flat = np.ravel_multi_index(tuple(b_sub.T), shp)
        S = _cumulate(np.bincount(flat, ws[idx], int(np.prod(shp))).reshape(shp), d_sub)
        B = _cumulate(np.bincount(flat, wb[idx], int(np.prod(shp))).reshape(shp), d_sub)
        z = np.asarray(f(S, B), float)
        k = int(np.argmax(z))
        return float(z.flat[k]), np.unravel_index(k, shp)

    if D < 3:
        value, at = best_of(np.arange(events.n), bins, shape, dirs)
    else:  # loop over the first threshold's candidates, from the tightest to "no cut", adding events
        value, at = -np.inf, None
        order = range(shape[0] - 1, -1, -1) if dirs[0] > 0 else range(shape[0])
        kept = np.zeros(events.n, bool)
        for c in order:
            kept |= bins[:, 0] == c
            idx = np.flatnonzero(kept)
            v, a = best_of(idx, bins[idx, 1:], shape[1:], dirs[1:])
            if v > value:
                value, at = v, (c,) + tuple(a)
    theta = np.array([thr[d][at[d]] for d in range(D)])
    return {"theta": theta, "hard_value": value, "evaluations": int(np.prod(shape)),
            "seconds": time.perf_counter() - t0}


def differential_evolution_best(events: Events, spec: CutSpec, bounds, objective="asimov", b_min=1.0,
                                seeds=(0, 1, 2), maxiter=300, popsize=20, tol=1e-4):
    """The best of several :func:`differential_evolution_cuts` runs (different seeds) on the hard objective.

    Returns:
        dict with ``theta``, ``hard_value`` (best over seeds), ``values`` (per seed),
        ``evaluations`` and ``seconds`` (summed over seeds).
    """
    runs = [differential_evolution_cuts(events, spec, bounds, objective, b_min, seed=s, maxiter=maxiter,
                                        popsize=popsize, tol=tol) for s in seeds]
    best = max(runs, key=lambda r: r["hard_value"])
    return {"theta": best["theta"], "hard_value": best["hard_value"],
            "values": [r["hard_value"] for r in runs], "evaluations": sum(r["evaluations"] for r in runs),
            "seconds": sum(r["seconds"] for r in runs)}
