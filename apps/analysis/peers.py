"""The tools a physicist would pick instead of gradients through clustering, for side-by-side benchmarks.

* :func:`relaxed_scan`: FastJet anti-kT at every radius of a scan (each event
  clustered once per radius and cached), then at each radius sigmoid-relaxed cuts
  optimised by Adam on the relaxed significance (what the ``relaxed`` package does on
  JAX, here in NumPy with autograd); the radius whose relaxed optimum has the best
  *hard* significance wins.
* :func:`tpe_search`: Optuna's TPE sampler on hard FastJet evaluations of
  ``(R, lo, hi, pT_cut)`` (R continuous: every new radius is one FastJet pass over
  the events; a radius seen before reuses its clustering). Needs ``optuna``
  (the ``bench`` extra).
* :func:`paired_bootstrap`: the hard significance of several analysis points on one
  sample, with bootstrap errors that are *paired* (every point scored on the same
  resampled events), so differences between methods carry their own, smaller, errors.

Every function reports its FastJet passes (clusterings of every event) and its CPU time
(``time.process_time``: all threads of this process).
"""

from __future__ import annotations

import time

import numpy as np

from .grid import fastjet_observables, hard_significance
from .significance import asimov_significance

__all__ = ["relaxed_scan", "tpe_search", "paired_bootstrap", "SCAN_RADII", "ObservableCache"]

SCAN_RADII = np.round(np.arange(0.2, 1.6001, 0.1), 10)
_BOX = np.array([[80.0, 157.5], [82.5, 160.0], [20.0, 100.0]])  # lo, hi, pT cut (the grid's box)


class ObservableCache:
    """``(mjj, pt1)`` per radius from FastJet, computed once per radius; ``passes`` counts the clusterings."""

    def __init__(self, sample):
        self.sample, self.store, self.passes = sample, {}, 0

    def __call__(self, R):
        key = round(float(R), 10)
        if key not in self.store:
            self.store[key] = fastjet_observables(self.sample.events, key)
            self.passes += 1
        return self.store[key]


def _relaxed_cuts(mjj, pt1, ws, wb, cuts0, b_min, steps, lr, tau):
    """Adam on the sigmoid-relaxed significance over ``(lo, hi, pT_cut)`` at fixed observables."""
    import autograd.numpy as anp
    from autograd import grad

    ok = np.isfinite(mjj)
    m, p, s_w, b_w = np.where(ok, mjj, 0.0)[ok], pt1[ok], ws[ok], wb[ok]
    units = np.array([2.5, 2.5, 5.0])

    def neg_z(u, t):
        lo, hi, c = u[0] * units[0], u[1] * units[1], u[2] * units[2]
        sel = _sig((m - lo) / t) * _sig((hi - m) / t) * _sig((p - c) / t)
        return -asimov_significance(anp.sum(sel * s_w), anp.sum(sel * b_w), 0.0, b_min)

    def _sig(z):
        return 0.5 * (1.0 + anp.tanh(0.5 * z))  # the logistic function, without overflow

    g = grad(neg_z)
    u = np.asarray(cuts0, float) / units
    mom, vel = np.zeros(3), np.zeros(3)
    lrs = np.geomspace(lr[0], lr[1], steps)
    taus = np.geomspace(tau[0], tau[1], steps)
    for k in range(steps):
        with np.errstate(over="ignore"):  # cosh overflows far from a threshold: its gradient is then 0
            d = g(u, taus[k])
        if not np.all(np.isfinite(d)):
            raise ValueError(f"relaxed cuts: non-finite gradient at cuts {u * units}")
        mom = 0.9 * mom + 0.1 * d
        vel = 0.999 * vel + 0.001 * d * d
        mh, vh = mom / (1 - 0.9 ** (k + 1)), vel / (1 - 0.999 ** (k + 1))
        u = u - lrs[k] * mh / (np.sqrt(vh) + 1e-12)
        phys = np.clip(u * units, _BOX[:, 0], _BOX[:, 1])
        phys[0] = min(phys[0], phys[1] - 2.5)
        u = phys / units
    return (u * units).tolist()


def relaxed_scan(sample, b_min, start_cuts=(90.0, 150.0, 30.0), radii=SCAN_RADII, cache=None, steps=150,
                 lr=(0.5, 0.05), tau=(4.0, 1.0)):
    """FastJet per radius (cached) + sigmoid-relaxed cuts by Adam at each radius; the best hard point wins.

    Estimates nothing stochastic: the relaxed significance is a deterministic,
    biased (smoothed) stand-in for the hard one, and the reported point is scored hard.

    Args:
        sample: :class:`~apps.analysis.samples.Sample`.
        b_min: background floor of the significance.
        start_cuts: ``(lo, hi, pT_cut)`` in GeV where Adam starts at every radius.
        radii: the scan.
        cache: an :class:`ObservableCache` of ``sample`` to reuse (its new passes are counted here).
        steps, lr, tau: Adam steps, learning rate ``(first, last)`` in grid units (2.5 GeV
            for the edges, 5 GeV for pT; geometric) and sigmoid width ``(first, last)`` in GeV.

    Returns:
        dict: ``best`` (``R, lo, hi, pt, Z, s, b``, hard), ``per_R`` (hard Z at each radius's
        relaxed optimum), ``passes`` (FastJet passes over the events this call added),
        ``cpu`` (seconds).
    """
    t0 = time.process_time()
    cache = cache or ObservableCache(sample)
    p0 = cache.passes
    ws, wb = sample.signal_weights, sample.background_weights
    best, per_R = None, []
    for R in radii:
        mjj, pt1 = cache(R)
        lo, hi, c = _relaxed_cuts(mjj, pt1, ws, wb, start_cuts, b_min, steps, lr, tau)
        Z, s, b = hard_significance(sample, mjj, pt1, lo, hi, c, 0.0, b_min)
        pt = {"R": float(R), "lo": lo, "hi": hi, "pt": c, "Z": Z, "s": s, "b": b}
        per_R.append(pt)
        if best is None or Z > best["Z"]:
            best = pt
    return {"best": best, "per_R": per_R, "passes": cache.passes - p0, "cpu": time.process_time() - t0}


def tpe_search(sample, b_min, start=(0.4, 90.0, 150.0, 30.0), trials=60, seed=0, cache=None):
    """Optuna TPE over ``(R, lo, hi, pT_cut)`` on hard FastJet evaluations (the start is the first trial).

    A trial with ``hi ≤ lo + 2.5`` GeV scores 0. Needs ``optuna``.

    Returns:
        dict: ``best`` (hard point), ``trials``, ``passes`` (new FastJet passes: one per
        new radius), ``cpu`` (seconds).

    Raises:
        ImportError: optuna is not installed (``pip install stochgrad[bench]``).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.process_time()
    cache = cache or ObservableCache(sample)
    p0 = cache.passes
    found = {}

    def objective(trial):
        R = trial.suggest_float("R", 0.2, 1.6)
        lo = trial.suggest_float("lo", 80.0, 157.5)
        hi = trial.suggest_float("hi", 82.5, 160.0)
        c = trial.suggest_float("pt", 20.0, 100.0)
        if hi <= lo + 2.5:
            return 0.0
        mjj, pt1 = cache(R)
        Z, s, b = hard_significance(sample, mjj, pt1, lo, hi, c, 0.0, b_min)
        if "best" not in found or Z > found["best"]["Z"]:
            found["best"] = {"R": R, "lo": lo, "hi": hi, "pt": c, "Z": Z, "s": s, "b": b}
        return Z

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=int(seed)))
    study.enqueue_trial(dict(zip(("R", "lo", "hi", "pt"), (float(x) for x in start))))
    study.optimize(objective, n_trials=int(trials))
    return {"best": found["best"], "trials": int(trials), "passes": cache.passes - p0,
            "cpu": time.process_time() - t0}


def paired_bootstrap(sample, points, b_min, n_boot=400, seed=0, observables=None):
    """Hard Z of each point on ``sample`` with paired bootstrap errors.

    Events are resampled with replacement within each process (the process sizes fixed);
    every point is scored on the same resamples, the background floor kept at ``b_min``.

    Args:
        sample: :class:`~apps.analysis.samples.Sample`.
        points: list of ``{"R", "lo", "hi", "pt"}``.
        b_min: background floor.
        n_boot: resamples (≥ 20).
        seed: seed of the resampling.
        observables: an :class:`ObservableCache` of ``sample`` (FastJet per distinct R).

    Returns:
        ``(Z, Zb)``: ``Z`` the ``(len(points),)`` scores on ``sample`` itself and ``Zb`` the
        ``(n_boot, len(points))`` scores on the resamples (differences of columns are paired).

    Raises:
        ValueError: ``n_boot < 20``.
    """
    if int(n_boot) != n_boot or n_boot < 20:
        raise ValueError(f"n_boot must be an integer >= 20, got {n_boot!r}")
    obs = observables or ObservableCache(sample)
    keep = []
    for p in points:
        mjj, pt1 = obs(p["R"])
        m = np.nan_to_num(mjj, nan=-1.0)
        keep.append(np.isfinite(mjj) & (m > p["lo"]) & (m < p["hi"]) & (pt1 > p["pt"]))
    keep = np.array(keep, float)  # (P, N)
    ws, wb = sample.signal_weights, sample.background_weights
    Z = asimov_significance(keep @ ws, keep @ wb, 0.0, b_min)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xB007]))
    procs = [np.flatnonzero(sample.process == k) for k in range(len(sample.names))]
    counts = np.zeros((int(n_boot), len(sample)))
    for b in range(int(n_boot)):
        for idx in procs:
            counts[b] += np.bincount(rng.choice(idx, len(idx)), minlength=len(sample))
    S, B = (counts * ws) @ keep.T, (counts * wb) @ keep.T
    return np.asarray(Z, float), np.asarray(asimov_significance(S, B, 0.0, b_min), float)
