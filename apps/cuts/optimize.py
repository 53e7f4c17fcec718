"""Maximise a cut objective with Adam while annealing the sharpness s toward the hard cut; restarts; hard polish.

The two gradient methods share the loop (:func:`stochgrad.optim.minimize` with
:class:`stochgrad.optim.Adam` on an exponentially decaying learning rate) and the
schedule ``s_t``:

* ``"stochastic"``: unbiased gradient estimates of ``E[f(hard randomised selection)]``
  from :func:`~apps.cuts.selection.stochastic_cut` and any stochgrad estimator;
* ``"sigmoid"``: the deterministic sigmoid-weight surrogate
  (:func:`~apps.cuts.selection.soft_objective`), the `relaxed` package's method.

Each run ends with a hard-cut polish (:func:`polish_cuts`: exact line searches along
one threshold at a time). ``"coordinate"`` runs that polish alone from the same
starts, without gradient steps: on a fixed sample it is hundreds of times faster,
and on the generated family as good; the gradient runs are what carry over to
programs whose hard objective cannot be searched exactly (a cut inside a larger
stochastic program, such as the analysis's jet radius) and rescue the starts from
which a coordinate search stalls (docs/cuts.md).

The result always carries the *hard* cut at the final θ and its objective.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

import stochgrad as sg

from .events import CutSpec, Events
from .objectives import resolve_objective
from .selection import check_scale, hard_objective, soft_objective, stochastic_cut

__all__ = ["CutResult", "optimize_cuts", "geometric", "default_estimator", "polish_cuts", "spread", "restart_starts",
           "DEFAULT_SCALE", "DEFAULT_LR", "DEFAULT_RESTARTS", "DEFAULT_POLISH"]


def geometric(start, stop, steps):
    """``steps`` values from ``start`` to ``stop``, evenly spaced in log (arrays allowed)."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    a, b = np.atleast_1d(np.asarray(start, float)), np.atleast_1d(np.asarray(stop, float))
    return np.exp(np.log(a) * (1 - t) + np.log(b) * t)


@dataclasses.dataclass
class CutResult:
    """Outcome of :func:`optimize_cuts`.

    Attributes:
        theta: final thresholds (flat array).
        hard_value: the objective of the hard cut at ``theta`` (what to report).
        method: ``"stochastic"``, ``"sigmoid"`` or ``"coordinate"``.
        history: per gradient step (empty for ``"coordinate"``): ``theta``, ``scale``,
            ``value`` (estimated E[f] or the surrogate), ``grad``, ``grad_stderr``, ``hard``
            (hard objective).
        evaluations: objective evaluations used (MC samples × steps × restarts, 1 per step for
            sigmoid, none for coordinate; plus the polish's hard evaluations).
        seconds: wall time.
        restart_values: the hard objective each restart ended with.
        best_restart: the index of the restart returned (its ``history`` is the one kept).
    """

    theta: np.ndarray
    hard_value: float
    method: str
    history: list
    evaluations: int
    seconds: float
    restart_values: list = dataclasses.field(default_factory=list)
    best_restart: int = 0

    def column(self, key):
        """One history column as an array."""
        return np.array([h[key] for h in self.history])


def default_estimator():
    """The stochastic derivative the cuts use: ``StochasticDerivative(control_variates=False)``.

    Estimates ``∇θ E[Z]``, unbiased. The stochastic cut sums every event's flip in
    closed form, so its samples are already free of alternative-selection noise;
    the score control variates, fitted on the 32–64 samples of an optimisation
    step, would mostly add coefficient noise (problem B ended 1.2 % instead of
    0.8 % below differential evolution with them).
    """
    return sg.StochasticDerivative(control_variates=False)


DEFAULT_SCALE = (0.3, 0.003)  # sharpness s, start and end, in units of each threshold's variable spread
DEFAULT_RESTARTS = 8  # annealed runs: from theta0, then from restart_starts
DEFAULT_POLISH = np.inf  # final hard-cut coordinate refinement: exact line searches, unbounded (in spreads)
FIRST_SCALE_MIN = 0.03  # with restarts, the starting sharpness runs from DEFAULT_SCALE[0] down to this
DEFAULT_LR = (0.1, 0.002)  # Adam learning rate, start and end, in units of each threshold's variable spread


def spread(events: Events, spec: CutSpec) -> np.ndarray:
    """Each threshold's unit: the robust spread IQR/1.349 of its variable over all events (σ for a Gaussian).

    Falls back to the standard deviation, then to 1, where the IQR is 0.
    """
    x = events.features[:, spec.variables]
    q = np.subtract(*np.percentile(x, [75, 25], axis=0)) / 1.349
    sd = x.std(axis=0)
    return np.where(q > 0, q, np.where(sd > 0, sd, 1.0))


def polish_cuts(events: Events, spec: CutSpec, theta, radius, objective="asimov", b_min=1.0, max_sweeps=20):
    """Coordinate ascent on the hard cut: each threshold moves to the best event gap within ``radius``.

    For each threshold in turn (the others fixed), every distinct selection reachable by
    moving it by at most ``radius_d`` is scored exactly (sorted values, cumulative
    yields) and the best taken if it improves the hard objective; sweeps repeat until
    none moves. With ``radius = inf`` each move is an exact line search, and the end
    (unless ``max_sweeps`` ran out) is a coordinate-wise optimum: no single threshold can
    improve it, though several moved together still may. Deterministic; it never
    lowers the hard objective.

    Args:
        events, spec: data and cut layout.
        theta: the start thresholds.
        radius: the largest move per threshold (a number or one per threshold; ``inf``:
            unbounded); 0 returns ``theta``.
        objective, b_min: see :mod:`apps.cuts.objectives`.
        max_sweeps: at most this many passes over the thresholds.

    Returns:
        ``(theta, hard value, hard evaluations)``.

    Raises:
        ValueError: a negative or NaN radius, bad θ.
    """
    f = resolve_objective(objective, b_min)
    th = spec.check(events, theta).copy()
    r = np.broadcast_to(np.asarray(radius, float), th.shape)
    if np.any(np.isnan(r) | (r < 0)):
        raise ValueError(f"radius must be >= 0 (inf: unbounded), got {radius!r}")
    x = events.features[:, spec.variables]
    ws, wb = events.signal_weights, events.background_weights
    best = hard_objective(events, spec, th, f)
    evals = 1
    for _ in range(max_sweeps):
        moved = False
        for d in range(spec.n_params):
            if r[d] <= 0:
                continue
            z = spec.direction * (x - th) > 0
            others = np.delete(z, d, axis=1).all(axis=1)
            xo = np.unique(x[others, d])
            inside = xo[(xo >= th[d] - r[d]) & (xo <= th[d] + r[d])]
            if inside.size < 2:
                continue
            cand = 0.5 * (inside[1:] + inside[:-1])
            xs = x[others, d]
            order = np.argsort(xs)
            xs = xs[order]
            S = np.r_[0.0, np.cumsum(ws[others][order])]
            B = np.r_[0.0, np.cumsum(wb[others][order])]
            j = np.searchsorted(xs, cand, side="right")  # events with x <= cand: [0, j)
            if spec.direction[d] > 0:
                s_, b_ = S[-1] - S[j], B[-1] - B[j]
            else:
                s_, b_ = S[j], B[j]
            vals = np.asarray(f(s_, b_), float)
            evals += cand.size
            k = int(np.argmax(vals))
            if vals[k] > best + 1e-12 * max(1.0, abs(best)):
                best, th[d], moved = float(vals[k]), cand[k], True
        if not moved:
            break
    return th, best, evals


def restart_starts(events: Events, spec: CutSpec, count, seed=0) -> np.ndarray:
    """``count`` stratified random starts, each threshold at a quantile of its variable's weighted signal.

    Lower edges take quantiles in [0, 0.9], upper edges in [0.1, 1], stratified: the
    range is cut into ``count`` equal strata, each start draws in a different one (a
    random permutation per threshold, as in a Latin hypercube), so a few starts cover
    both loose and tight cuts. A window whose drawn edges cross gets them swapped.
    Seeded by ``seed``.

    Returns:
        ``(count, n_params)``.
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED]))
    sig = events.is_signal & (events.weights > 0)
    out = np.empty((count, spec.n_params))
    for d, (v, dirn) in enumerate(zip(spec.variables, spec.direction)):
        x = events.features[sig, v]
        order = np.argsort(x)
        cdf = np.cumsum(events.weights[sig][order])
        q = (rng.permutation(count) + rng.random(count)) / max(count, 1) * 0.9 + (0.0 if dirn > 0 else 0.1)
        out[:, d] = x[order][np.minimum(np.searchsorted(cdf, q * cdf[-1]), x.size - 1)]
    for d in range(spec.n_params - 1):  # a window: (lo, hi) on one variable, lower then upper
        if spec.variables[d] == spec.variables[d + 1] and spec.direction[d] > 0 > spec.direction[d + 1]:
            out[:, d:d + 2] = np.sort(out[:, d:d + 2], axis=1)
    return out


def optimize_cuts(events: Events, spec: CutSpec, theta0, *, method="stochastic", steps=200,
                  scale=None, lr=None, estimator=None, n=16, objective="asimov",
                  b_min=1.0, seed=0, polish=DEFAULT_POLISH, restarts=DEFAULT_RESTARTS) -> CutResult:
    """Maximise the cut objective from ``theta0`` with Adam, annealing ``s`` geometrically; restarts; hard polish.

    The defaults are unit-free: with ``scale=None`` the sharpness runs from a start
    value down to ``DEFAULT_SCALE[1]`` times each threshold's :func:`spread` (restart
    ``r`` starts at the ``r``-th of ``restarts`` values from ``DEFAULT_SCALE[0]`` down to
    :data:`FIRST_SCALE_MIN`: smooth runs see the bulk, sharp ones keep narrow optima),
    and with ``lr=None`` Adam works on ``θ_d / spread_d`` with the rates
    :data:`DEFAULT_LR`, so a variable in GeV and one in units of 0.01 get the same
    treatment. The hard objective of a cut problem has several local maxima (a
    loose and a tight cut on the same variable, for instance), so the defaults run
    :data:`DEFAULT_RESTARTS` annealed runs (the first from ``theta0``, the others from
    stratified signal quantiles, :func:`restart_starts`) of 200 steps × 16 samples
    and polish each end point on the hard objective (:func:`polish_cuts` with
    unbounded exact line searches, until no single threshold can improve it). These
    defaults were tuned on ``generate_problem(0..11)`` and
    ``issue_problem(1000..1002)``; docs/cuts.md reports them on other seeds, with the
    polish alone from the same starts (``method="coordinate"``) side by side: on a
    fixed sample that is as good on most problems and hundreds of times faster, but it
    stalls on some starts that the gradient runs get past.

    Args:
        events, spec: data and cut layout.
        theta0: start thresholds.
        method: ``"stochastic"`` (unbiased estimates of ∇E[f]), ``"sigmoid"``
            (gradient of the deterministic surrogate, biased for non-linear f) or
            ``"coordinate"`` (no gradient runs: the hard polish alone from the same
            starts; ``steps``, ``scale``, ``lr``, ``estimator``, ``n`` unused).
        steps: Adam steps.
        scale: ``(s_start, s_end)`` in the variables' own units; each a number or one per
            threshold; equal ends: fixed s. ``None``: :data:`DEFAULT_SCALE` × spread.
        lr: ``(lr_start, lr_end)`` in θ's units, geometric decay. ``None``:
            :data:`DEFAULT_LR` in units of each threshold's spread.
        estimator: stochgrad estimator for ``"stochastic"`` (default :func:`default_estimator`).
        n: Monte-Carlo samples per step.
        objective, b_min: see :mod:`apps.cuts.objectives`.
        seed: integer seed; step ``t`` of the first run uses the seed ``(seed, t)``, of
            restart ``r ≥ 1`` ``(seed, 1000003, r, t)``; the restart starts use ``seed`` too.
        polish: after each run, :func:`polish_cuts` the hard cut within ``polish ×`` :func:`spread`
            of each threshold (default ``inf``: exact line searches, unbounded; 0: none,
            which ``"coordinate"`` refuses).
        restarts: independent runs, the first from ``theta0``, the others from
            :func:`restart_starts`; the one with the best hard objective is returned.

    Returns:
        :class:`CutResult` with the hard cut's objective at the end.

    Raises:
        ValueError: unknown method, ``s <= 0``, bad θ, ``restarts < 1``, ``polish`` negative or
            NaN (or 0 with ``"coordinate"``).
    """
    if method not in ("stochastic", "sigmoid", "coordinate"):
        raise ValueError(f"method must be 'stochastic', 'sigmoid' or 'coordinate', got {method!r}")
    if not (isinstance(restarts, (int, np.integer)) and restarts >= 1):
        raise ValueError(f"restarts must be a positive integer, got {restarts!r}")
    th0 = spec.check(events, theta0)
    unit = spread(events, spec)
    if scale is None:  # restart r starts at the r-th of `restarts` sharpnesses DEFAULT_SCALE[0] .. FIRST_SCALE_MIN
        firsts = geometric(DEFAULT_SCALE[0], FIRST_SCALE_MIN, max(restarts, 2))[:restarts, 0]
        schedules = [geometric(f * unit, DEFAULT_SCALE[1] * unit, steps) for f in firsts]
    else:
        schedules = [geometric(check_scale(scale[0], spec.n_params), check_scale(scale[1], spec.n_params),
                               steps)] * restarts
    if lr is None:
        lr = DEFAULT_LR
    else:
        unit = np.ones(spec.n_params)
    if not (isinstance(polish, (int, float, np.integer, np.floating)) and polish >= 0):
        raise ValueError(f"polish must be a number >= 0 (inf: unbounded line searches), got {polish!r}")
    if method == "coordinate" and polish == 0:
        raise ValueError("method='coordinate' is the polish alone: polish must be > 0")
    estimator = estimator or default_estimator()
    radius = polish * spread(events, spec)  # the polish's reach per threshold, in the variables' units

    def anneal(start, key, scales):
        history = []

        def estimate(u, t):
            theta = np.asarray(u) * unit
            s = scales[t]
            if method == "sigmoid":
                v, g = soft_objective(events, spec, theta, s, objective, b_min)
                est = sg.Estimate(v, 0.0, g, np.zeros_like(g), g[None], np.array([v]), 1, "sigmoid")
            else:
                step_seed = int(np.random.SeedSequence(key + [t]).generate_state(1)[0])
                prog = stochastic_cut(events, spec, s, objective, b_min)
                est = sg.value_and_grad(prog, estimator, n=n, seed=step_seed)(theta)
            history.append({"step": t, "theta": np.array(theta, float).tolist(), "scale": s.tolist(),
                            "value": est.value, "grad": np.ravel(est.grad).tolist(),
                            "grad_stderr": np.ravel(est.grad_stderr).tolist(),
                            "hard": hard_objective(events, spec, theta, objective, b_min)})
            # minimize() descends in u = θ/unit: hand it −f and −∂f/∂u = −unit·∂f/∂θ
            return dataclasses.replace(est, value=-est.value, grad=-np.asarray(est.grad) * unit,
                                       grad_stderr=np.asarray(est.grad_stderr) * unit)

        if method == "coordinate":
            theta, extra = np.asarray(start, float), 0
        else:
            adam = sg.optim.Adam(sg.optim.exponential_decay(lr[0], lr[1], steps))
            res = sg.optim.minimize(estimate, start / unit, adam, steps, label=method, pass_step=True)
            theta, extra = np.asarray(res.theta, float) * unit, 0
        if polish > 0:
            theta, _, extra = polish_cuts(events, spec, theta, radius, objective, b_min)
        return theta, hard_objective(events, spec, theta, objective, b_min), history, extra

    t0 = time.perf_counter()
    starts = [th0] + list(restart_starts(events, spec, restarts - 1, seed))
    runs = [anneal(st, [int(seed)] if r == 0 else [int(seed), 1_000_003, r], schedules[r])
            for r, st in enumerate(starts)]
    best = max(range(len(runs)), key=lambda r: runs[r][1])
    theta, _, history, _ = runs[best]
    per_step = {"stochastic": n, "sigmoid": 1, "coordinate": 0}[method]
    evaluations = restarts * steps * per_step + sum(r[3] for r in runs)
    return CutResult(theta, hard_objective(events, spec, theta, objective, b_min), method, history,
                     evaluations, time.perf_counter() - t0, [float(r[1]) for r in runs], best)
