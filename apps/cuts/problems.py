"""The two benchmark problems and the references they are compared with (exhaustive scan, differential evolution).

* Problem A (the `relaxed` package's cuts example): one variable, background
  Exp(1) + N(0, 0.1) noise kept positive (1000 events), signal N(2, 0.5) (100
  events); one cut ``x > c`` starting from ``c = 6``.
* Problem B: five variables, seven thresholds (two windows, three one-sided
  cuts), 1000 signal and 20000 background events; a grid scan at 30 points per
  axis would need 2·10^10 hard evaluations.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import differential_evolution

from .events import CutSpec, Events
from .objectives import resolve_objective

__all__ = ["problem_a", "problem_b", "scan_one_cut", "differential_evolution_cuts"]


def problem_a(seed=0, n_background=1000, n_signal=100):
    """Problem A's events and cut spec (``x > c``) and the start ``c = 6``.

    Returns:
        ``(events, spec, theta0)``.
    """
    rng = np.random.default_rng(seed)
    bkg = np.empty(0)
    while bkg.size < n_background:  # redraw the negative ones: "positive values kept"
        x = rng.exponential(1.0, n_background) + rng.normal(0.0, 0.1, n_background)
        bkg = np.concatenate([bkg, x[x > 0]])
    sig = rng.normal(2.0, 0.5, n_signal)
    return Events.from_samples(sig, bkg[:n_background]), CutSpec([(0, ">")], names=["x"]), 6.0


_B_NAMES = ["m", "pt", "score", "eta", "iso"]


def problem_b(seed=0, n_signal=1000, n_background=20000):
    """Problem B's events (5 variables), cut spec (7 thresholds: 2 windows, 3 one-sided) and a loose start.

    Signal and background overlap in every variable (no background-free pocket: the
    likelihood-ratio-optimal selection keeps ~600 signal and ~590 background events),
    so the optimum is a bulk selection, not a fluctuation.

    Returns:
        ``(events, spec, theta0, bounds)``; ``bounds`` (7, 2) spans the 0.5–99.5 % range
        of each variable, ``theta0`` is its loose end (keeps ~all events).
    """
    rng = np.random.default_rng(seed)

    def draw(n, sig):
        m = rng.normal(0.0, 1.0, n) if sig else rng.uniform(-5.0, 5.0, n)
        pt = rng.gamma(2.5, 1.0, n) if sig else rng.exponential(1.5, n)
        score = rng.normal(0.5, 1.0, n) if sig else rng.normal(-0.5, 1.2, n)
        eta = rng.normal(0.0, 1.0, n) if sig else rng.normal(0.0, 2.0, n)
        iso = rng.exponential(0.7, n) if sig else rng.exponential(1.5, n)
        return np.stack([m, pt, score, eta, iso], axis=1)

    ev = Events.from_samples(draw(n_signal, True), draw(n_background, False))
    spec = CutSpec([(0, "window"), (1, ">"), (2, ">"), (3, "window"), (4, "<")], names=_B_NAMES)
    x = ev.features[:, spec.variables]
    lo, hi = np.percentile(x, 0.5, axis=0), np.percentile(x, 99.5, axis=0)
    theta0 = np.where(spec.direction > 0, lo, hi)
    return ev, spec, theta0, np.stack([lo, hi], axis=1)


def scan_one_cut(events: Events, objective="asimov", b_min=1.0, variable=0):
    """Exhaustive hard scan of a single cut ``x > c``: every distinct selection is tried.

    Returns:
        dict with ``best`` (objective), ``interval`` ``(lo, hi)`` of thresholds that
        reach it (any ``c`` in ``[lo, hi)`` keeps the same events), ``cut`` (its
        midpoint), and the curve ``cuts``, ``values`` (one point per distinct selection).
    """
    f = resolve_objective(objective, b_min)
    x = events.features[:, variable]
    order = np.argsort(x)[::-1]
    xs = x[order]
    S = np.r_[0.0, np.cumsum(events.signal_weights[order])]
    B = np.r_[0.0, np.cumsum(events.background_weights[order])]
    vals = np.asarray(f(S, B), float)  # vals[j]: the j largest values pass
    lower = np.r_[xs, -np.inf]  # c must be >= lower[j] ...
    upper = np.r_[np.inf, xs]  # ... and < upper[j]
    distinct = np.r_[True, xs[1:] < xs[:-1], True]  # ties: only cuts between distinct values
    vals = np.where(distinct, vals, -np.inf)
    j = int(np.argmax(vals))
    lo, hi = lower[j], upper[j]
    mid = lo + 1.0 if not np.isfinite(hi) else (hi - 1.0 if not np.isfinite(lo) else 0.5 * (lo + hi))
    ok = distinct & np.isfinite(lower) & np.isfinite(upper)
    return {"best": float(vals[j]), "interval": (float(lo), float(hi)), "cut": float(mid),
            "cuts": 0.5 * (lower + upper)[ok], "values": vals[ok]}


def differential_evolution_cuts(events: Events, spec: CutSpec, bounds, objective="asimov", b_min=1.0,
                                seed=0, maxiter=200, popsize=15, tol=1e-3):
    """scipy's ``differential_evolution`` on the (piecewise-constant) hard-cut objective.

    Returns:
        dict with ``theta``, ``hard_value``, ``evaluations`` (``nfev``), ``seconds`` and
        ``best_so_far`` (the best objective after each evaluation).
    """
    f = resolve_objective(objective, b_min)
    x = events.features[:, spec.variables]
    ws, wb = events.signal_weights, events.background_weights

    trace = []  # running best after each evaluation

    def loss(th):
        keep = np.all(spec.direction * (x - th) > 0, axis=1)
        v = float(f(ws[keep].sum(), wb[keep].sum()))
        trace.append(max(v, trace[-1]) if trace else v)
        return -v

    t0 = time.perf_counter()
    res = differential_evolution(loss, bounds, seed=seed, maxiter=maxiter, popsize=popsize, tol=tol,
                                 polish=False)
    return {"theta": np.asarray(res.x), "hard_value": -float(res.fun), "evaluations": int(res.nfev),
            "seconds": time.perf_counter() - t0, "best_so_far": np.array(trace)}
