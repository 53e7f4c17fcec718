"""Maximise the expected significance over (R, window, leading-jet pT) by Adam, and the sequential baseline.

:func:`optimize_analysis` runs Adam (learning rate decaying geometrically, in grid
units) on unbiased gradient estimates of ``E[Z]`` from :func:`~apps.analysis.program.joint_program`
while the cut sharpness is annealed toward the hard cut; θ is kept inside a box
(the brute-force grid's box: R in [0.2, 1.6], 80 ≤ lo ≤ hi − 2.5 ≤ 157.5 GeV,
20 ≤ pT_cut ≤ 100 GeV; see :func:`~apps.analysis.grid.default_grid` for why the
window stays inside 80–160 GeV) by projection. The answer is θ averaged over the last ``average`` steps (the
iterates' noise floor), evaluated as a *hard* analysis with FastJet anti-kT.

The budget mode (``batch``, ``refine``; docs/analysis.md, "At scale"): each step sees a
stratified random batch of events (:func:`batch_sampler`, weights scaled up) with the
significance linearised around the running yields, so a step's cost does not grow with
the sample; at the end every event is clustered once with FastJet at R* and the cuts
are re-optimised there (:func:`refine_cuts`, the cuts app's optimiser).

:func:`sequential` is the two-step analysis it is compared with: R from
:func:`apps.jets.optimize.optimize_global` (the Higgs-mass window loss on the
signal events), then the best cuts at that R from the exhaustive cut grid.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

import stochgrad as sg

from .progress import make_progress
from .grid import default_grid, fastjet_observables, grid_search, hard_significance
from .samples import background_floor
from .program import PARAMS, UNITS, default_estimator, joint_program, to_physical, to_units

__all__ = ["AnalysisResult", "optimize_analysis", "sequential", "evaluate_hard", "refine_cuts", "batch_sampler",
           "running_center", "density_widths", "BOUNDS", "DEFAULTS", "CENTER_STEPS"]

BOUNDS = np.array([[0.2, 1.6], [80.0, 157.5], [82.5, 160.0], [20.0, 100.0]])
DEFAULTS = {"alpha": 10.0, "samples": 4, "steps": 40, "lr": (1.0, 0.1), "scale": (4.0, 1.0), "average": 8,
            "rel_syst": 0.0, "window": "edges", "density": None, "box": False}


def evaluate_hard(sample, phys, rel_syst=0.0, b_min=None):
    """The hard analysis at ``phys = (R, lo, hi, pT_cut)``: FastJet anti-kT and hard cuts.

    ``b_min`` defaults to :func:`~apps.analysis.samples.background_floor`.

    Returns:
        ``{"R", "lo", "hi", "pt", "Z", "s", "b"}``.
    """
    b_min = background_floor(sample) if b_min is None else b_min
    mjj, pt1 = fastjet_observables(sample.events, float(phys[0]))
    return _hard_at(sample, phys, mjj, pt1, rel_syst, b_min)


def _project(phys):
    p = np.clip(phys, BOUNDS[:, 0], BOUNDS[:, 1])
    p[1] = min(p[1], p[2] - 2.5)
    return p


def _to_coords(theta, window):
    """θ in grid units → the optimiser's coordinates (``window="centre"``: R, centre, half-width, pT)."""
    th = np.array(theta, float)
    if window == "centre":
        th[1], th[2] = 0.5 * (th[1] + th[2]), 0.5 * (th[2] - th[1])
    return th


def _from_coords(u, window):
    """The optimiser's coordinates → θ in grid units."""
    th = np.array(u, float)
    if window == "centre":
        th[1], th[2] = th[1] - th[2], th[1] + th[2]
    return th


def density_widths(mjj, pt1, cuts, k, floor):
    """Per-cut sigmoid widths ``(s_lo, s_hi, s_pt)`` from the local event density (see ``density``).

    Each width is ``max(floor, h/2)`` with ``h`` the half-width of the smallest interval
    around the threshold that holds ``k`` events per replica (replicas are the columns of
    ``mjj``, ``pt1``; events count for an mjj edge when they pass the pT cut, for the pT
    cut when they are inside the window).
    """
    m, p = np.asarray(mjj, float), np.asarray(pt1, float)
    K = m.shape[1] if m.ndim == 2 else 1
    ok = np.isfinite(m)
    lo, hi, c = (float(x) for x in cuts)
    n = max(1, int(round(k * K)))

    def half(values, x):
        d = np.sort(np.abs(values - x))
        return d[min(n, len(d)) - 1] if len(d) else 0.0

    in_pt = ok & (p > c)
    in_win = ok & (np.where(ok, m, 0.0) > lo) & (np.where(ok, m, 0.0) < hi)
    h = [half(m[in_pt], lo), half(m[in_pt], hi), half(p[in_win], c)]
    return tuple(max(floor, 0.5 * x) for x in h)


def _project_units(theta):
    """θ in grid units, projected into :data:`BOUNDS` (minimize's ``project``)."""
    return to_units(_project(to_physical(np.asarray(theta, float))))


@dataclasses.dataclass
class AnalysisResult:
    """Outcome of :func:`optimize_analysis`.

    Attributes:
        start, optimum: ``(R, lo, hi, pT_cut)`` physical.
        hard_start, hard: the FastJet hard analysis at the start and at the optimum.
        history: per step ``theta`` (physical), ``scale``, ``value`` (estimated E[Z]),
            ``value_stderr``, ``grad`` and ``grad_stderr`` (per grid unit).
        clusterings: clusterings used: Qanti-kT (steps × samples × events per step, × 2 with
            ``r_step``),
            plus the ``N`` FastJet ones of ``refine``.
        descent: with ``refine``, the hard analysis at the descent's own end point (else ``None``).
        seconds: wall time of the optimisation, with ``refine``'s clustering and cut
            optimisation (the FastJet evaluations at the start and, without ``refine``,
            at the optimum are excluded).
        settings: α, samples, steps, learning rates, sharpness schedule, seed, estimator.
    """

    start: list
    optimum: list
    hard_start: dict
    hard: dict
    history: list
    clusterings: int
    seconds: float
    settings: dict
    descent: dict = None


def optimize_analysis(sample, start=(0.4, 90.0, 150.0, 30.0), *, steps=DEFAULTS["steps"],
                      samples=DEFAULTS["samples"], alpha=DEFAULTS["alpha"], lr=DEFAULTS["lr"],
                      scale=DEFAULTS["scale"], average=None, rel_syst=DEFAULTS["rel_syst"],
                      b_min=None, estimator=None, seed=0, batch=None, refine=False, hold_r=0, r_step=None, progress=False,
                      window=DEFAULTS["window"], density=DEFAULTS["density"], box=DEFAULTS["box"], reuse=None):
    """Maximise ``E[Z]`` over θ from ``start`` (physical ``(R, lo, hi, pT_cut)``).

    Args:
        sample: :class:`~apps.analysis.samples.Sample`.
        start: starting point (R, GeV, GeV, GeV); projected into :data:`BOUNDS`
            (``R > 0`` and ``lo < hi`` are required).
        steps: Adam steps (≥ 1).
        samples: replicas (Qanti-kT clusterings of every event) per step (≥ 2).
        alpha: Qanti-kT α, or ``(first, last)``: α annealed geometrically over the steps
            (α → ∞ is anti-kT, so a rising α moves the smoothed objective towards the hard
            FastJet analysis the result is scored on; each step is unbiased at its own α).
        lr: ``(first, last)`` learning rate in grid units (geometric decay).
        scale: ``(first, last)`` cut sharpness in GeV (geometric), same for mjj and pT.
        average: θ is averaged over this many last steps (default: 8, or ``steps`` if fewer).
        rel_syst: relative background systematic.
        b_min: background floor (default :func:`~apps.analysis.samples.background_floor`).
        estimator: stochgrad estimator (default :func:`~apps.analysis.program.default_estimator`).
        seed: step ``t`` uses the seed ``(seed, t)``.
        batch: ``None``: every step clusters every event. An integer: every step
            clusters a fresh random subset of about this many events, stratified by
            process (proportional, at least 2 per process, drawn without replacement;
            weights scaled by ``N_p / n_p`` so the yields stay unbiased), and the
            objective is linearised around the running mean of the last
            :data:`CENTER_STEPS` steps' yields (see ``linearize`` in
            :func:`~apps.analysis.program.joint_program`): the steps then estimate
            ``∇ Z(E[S], E[B])``, a step costs ``samples × batch`` clusterings whatever the
            sample size, and the events drawn in step ``t`` depend on ``(seed, t)`` only.
            A sequence: events per process.
        hold_r: for this many first steps R stays at its start and only the cuts move
            (the R gradient at cuts far from their optimum can point the wrong way, and
            Adam's first steps are a full learning rate whatever the gradient's size).
        r_step: ``None``: the R gradient is the score function with per-event baselines.
            A step in grid units: the central difference with common random numbers
            (two clusterings per event and replica, ``O(h²)`` bias; see ``r_step`` in
            :func:`~apps.analysis.program.joint_program`).
        refine: after the descent, cluster every event once with FastJet anti-kT at
            the final R and re-optimise the three cuts there with the cuts app's
            :func:`apps.cuts.optimize_cuts` (its defaults, from the descent's cuts) on
            the hard observables. These ``N`` clusterings are counted.
        window: ``"edges"``: Adam moves ``lo`` and ``hi``; ``"centre"``: Adam moves the
            window's centre ``(lo + hi)/2`` and half-width ``(hi − lo)/2`` (same gradient,
            another basis: Adam's per-coordinate step sizes then follow the window's
            position and size instead of its two edges).
        density: ``None``: every cut's width is the annealed ``scale``. ``(k_first, k_last)``:
            each cut's width is at least the one whose ±2-width interval around the threshold holds
            ``k`` events per replica (``k`` annealed geometrically), counted on the previous
            step's sampled observables (events passing the other cuts): where events are sparse
            the smoothing widens so that an edge still sees events, where they are dense it
            stays at ``scale``. Chosen from an earlier step's draws, the widths are fixed for
            the step's own estimate, which stays unbiased for the smoothed objective.
        box: only events inside the window's box (80 < mjj < 160 GeV) can pass the soft
            cuts (``box`` in :func:`~apps.analysis.program.joint_program`): the sigmoid tails of an
            edge near the box then do not reach masses where the QCD sample (generated with
            70 < m̂ < 180 GeV) is missing, which otherwise pulls the edges onto the box.
        reuse: ``None``: every step clusters every event anew. A number ``ess_min`` in (0, 1]:
            the histories are kept and served to later steps by likelihood ratios
            (:class:`~apps.analysis.reuse.ReusedHistories`; an event is re-clustered when its
            effective sample size falls below ``ess_min × samples`` or R leaves the stored
            range), and the significance is linearised around the running yields as with
            ``batch`` (per-event ratios need per-event additive yields). ``clusterings``
            then counts the histories actually sampled. Not with ``batch`` or ``r_step``.
        progress: ``True``: progress on stderr (:class:`~apps.analysis.progress.Progress`: a bar
            on a terminal, a line at least every 10 s otherwise); or a ``Progress`` object.

    Returns:
        :class:`AnalysisResult`.

    Raises:
        ValueError: bad arguments (see :func:`~apps.analysis.program.joint_program`).
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if int(hold_r) != hold_r or not 0 <= hold_r < steps:
        raise ValueError(f"hold_r must be an integer in [0, steps), got {hold_r!r}")
    if average is None:
        average = min(DEFAULTS["average"], int(steps))
    if int(average) != average or not 1 <= average <= steps:
        raise ValueError(f"average must be an integer in [1, steps], got {average!r}")
    start = np.asarray(start, float)
    if start.shape != (4,) or not np.all(np.isfinite(start)) or start[0] <= 0 or not start[1] < start[2]:
        raise ValueError(f"start must be (R > 0, lo < hi, pT cut) as 4 finite numbers, got {start.tolist()}")
    outside = (start < BOUNDS[:, 0]) | (start > BOUNDS[:, 1])
    if np.any(outside) or start[1] > start[2] - 2.5:
        raise ValueError(f"start {start.tolist()} is outside the box: R in [{BOUNDS[0, 0]:g}, {BOUNDS[0, 1]:g}], "
                         f"{BOUNDS[1, 0]:g} <= lo <= hi - 2.5, hi <= {BOUNDS[2, 1]:g} GeV, "
                         f"pT cut in [{BOUNDS[3, 0]:g}, {BOUNDS[3, 1]:g}] GeV")
    if window not in ("edges", "centre"):
        raise ValueError(f"window must be 'edges' or 'centre', got {window!r}")
    if density is not None:
        density = tuple(float(k) for k in density)
        if len(density) != 2 or not all(np.isfinite(k) and k >= 1 for k in density):
            raise ValueError(f"density must be None or (k_first, k_last) events >= 1, got {density!r}")
    b_min = background_floor(sample) if b_min is None else float(b_min)
    a_ends = np.atleast_1d(np.asarray(alpha, float)) if alpha is not None else np.array([np.nan])
    if a_ends.shape not in ((1,), (2,)) or not np.all(np.isfinite(a_ends) & (a_ends > 0)):
        raise ValueError(f"alpha must be a finite α > 0 or (first, last), got {alpha!r}")
    alphas = np.geomspace(a_ends[0], a_ends[-1], int(steps))
    scales = np.geomspace(scale[0], scale[1], steps)
    ks = None if density is None else np.geomspace(density[0], density[1], steps)
    mass_box = (BOUNDS[1, 0], BOUNDS[2, 1]) if box else None
    seen = {}

    def observe(mjj, pt1):
        seen["obs"] = (mjj, pt1)
    estimator = estimator or default_estimator()
    progs = {}
    draw = None if batch is None else batch_sampler(sample, batch)
    center = running_center(b_min)
    reused = None
    if reuse is not None:
        from .reuse import ReusedHistories

        if batch is not None or r_step is not None or np.ndim(alpha):
            raise ValueError("reuse works on the full sample with the score's R term and one α: not with batch, "
                             "r_step or an α schedule")
        reused = ReusedHistories(sample.events, float(alpha), samples, seed=seed, ess_min=float(reuse))

    def estimate(u, t):
        theta = _from_coords(u, window)
        s = float(scales[t])
        widths = (s, s) if ks is None or "obs" not in seen else \
            density_widths(*seen["obs"], to_physical(theta)[1:], float(ks[t]), s)
        step_seed = int(np.random.SeedSequence([int(seed), t]).generate_state(1)[0])
        obs = None if ks is None else observe
        if draw is not None:
            prog = joint_program(draw(seed, t), float(alphas[t]), samples, widths, rel_syst, b_min, linearize=center,
                                 r_step=r_step, observe=obs, box=mass_box)
        else:
            key = tuple(np.atleast_1d(widths)) + (float(alphas[t]),)
            if key not in progs:
                progs.clear()
                progs[key] = joint_program(sample, float(alphas[t]), samples, widths, rel_syst, b_min, r_step=r_step,
                                           observe=obs, box=mass_box, histories=reused,
                                           linearize=None if reused is None else center)
            prog = progs[key]
        est = sg.value_and_grad(prog, estimator, n=samples, seed=step_seed)(theta)
        grad = -np.asarray(est.grad, float)
        se = np.asarray(est.grad_stderr, float)
        if window == "centre":  # lo = c - w, hi = c + w
            grad = np.array([grad[0], grad[1] + grad[2], grad[2] - grad[1], grad[3]])
            se = np.array([se[0], np.hypot(se[1], se[2]), np.hypot(se[1], se[2]), se[3]])
        if t < hold_r:
            grad[0] = 0.0  # Adam with a zero gradient leaves R where it is
        return dataclasses.replace(est, value=-est.value, grad=grad, grad_stderr=se)

    def project(u):
        return _to_coords(_project_units(_from_coords(u, window)), window)

    theta0 = _to_coords(to_units(start), window)
    upd = sg.optim.Adam(lr=sg.optim.exponential_decay(lr[0], lr[1], int(steps)))
    with make_progress(progress, "optimise analysis") as bar:
        out = _run(sample, start, opt_args=(estimate, theta0, upd, int(steps)), project=project, window=window,
                   bar=bar, steps=steps,
                   scales=scales, average=average, draw=draw, samples=samples, r_step=r_step, refine=refine,
                   rel_syst=rel_syst, b_min=b_min, seed=seed)
    res, hist, opt, seconds, descent, hard, hard_start = out
    per_step = len(sample) if draw is None else draw.size
    clusterings = int(steps * samples * per_step * (1 if r_step is None else 2)) if reused is None else \
        reused.clusterings
    clusterings += len(sample) if refine else 0
    settings = {"alpha": list(alpha) if np.ndim(alpha) else alpha, "samples": samples, "steps": steps,
                "lr": list(lr), "scale": list(scale),
                "average": average, "rel_syst": rel_syst, "b_min": b_min, "seed": seed, "estimator": repr(estimator),
                "events": len(sample), "batch": None if draw is None else draw.counts.tolist(), "refine": bool(refine),
                "hold_r": int(hold_r), "r_step": r_step, "window": window, "box": bool(box),
                "density": None if density is None else list(density), "reuse": reuse,
                "reuse_refreshes": None if reused is None else reused.refreshes,
                "reuse_ess": None if reused is None else reused.ess,
                "reuse_seconds": None if reused is None else reused.seconds,
                "luminosity_fb": sample.luminosity_fb, "params": list(PARAMS), "units": UNITS.tolist()}
    return AnalysisResult(start.tolist(), np.asarray(opt).tolist(), hard_start, hard, hist, clusterings, seconds,
                          settings, descent)


def _run(sample, start, opt_args, project, window, bar, steps, scales, average, draw, samples, r_step, refine, rel_syst, b_min, seed):
    """The descent, the optional refinement and the hard evaluations, reporting to ``bar``."""

    def report(rec):
        R, lo, hi, pt = to_physical(_from_coords(rec["theta"], window))
        bar.step(rec["step"] + 1, int(steps), f"R={R:.3f} window=({lo:.1f}, {hi:.1f}) pT1>{pt:.1f} "
                 f"E[Z]~{-rec['value']:.3g}")

    bar.phase(f"descent: {int(steps)} steps x {samples} Qanti-kT clusterings of "
              f"{len(sample) if draw is None else draw.size} events")
    t0 = time.perf_counter()
    res = sg.optim.minimize(*opt_args, label="optimise analysis", pass_step=True, project=project,
                            callback=report)
    seconds = time.perf_counter() - t0
    hist = []
    for h, s in zip(res.history, scales):
        hist.append({"step": h["step"], "theta": to_physical(_from_coords(h["theta"], window)).tolist(),
                     "scale": float(s),
                     "value": -h["value"], "value_stderr": h["value_stderr"],
                     "grad": [-g for g in h["grad"]], "grad_stderr": h["grad_stderr"]})
    thetas = np.array([_from_coords(h["theta"], window) for h in res.history[1:]]
                      + [_from_coords(res.theta, window)])
    opt = _project(to_physical(thetas[-int(average):].mean(axis=0)))
    descent = None
    if refine:
        bar.phase(f"cut refinement: FastJet anti-kT at R = {opt[0]:.3f} on {len(sample)} events, then the cuts "
                  "optimiser")
        t1 = time.perf_counter()
        mjj, pt1 = fastjet_observables(sample.events, opt[0])
        descent = _hard_at(sample, opt, mjj, pt1, rel_syst, b_min)
        opt = refine_cuts(sample, mjj, pt1, opt, rel_syst, b_min, seed)
        hard = _hard_at(sample, opt, mjj, pt1, rel_syst, b_min)
        seconds += time.perf_counter() - t1
    else:
        bar.phase(f"hard evaluation: FastJet anti-kT at R = {opt[0]:.3f} on {len(sample)} events")
        hard = evaluate_hard(sample, opt, rel_syst, b_min)
    bar.phase(f"hard evaluation of the start: FastJet anti-kT at R = {start[0]:.3f}")
    hard_start = evaluate_hard(sample, start, rel_syst, b_min)
    bar.phase(f"done: Z = {hard['Z']:.4g} at R = {opt[0]:.3f}")
    return res, hist, opt, seconds, descent, hard, hard_start


def _hard_at(sample, phys, mjj, pt1, rel_syst, b_min):
    R, lo, hi, pt = (float(x) for x in phys)
    Z, s, b = hard_significance(sample, mjj, pt1, lo, hi, pt, rel_syst, b_min)
    return {"R": R, "lo": lo, "hi": hi, "pt": pt, "Z": Z, "s": s, "b": b}


def refine_cuts(sample, mjj, pt1, phys, rel_syst=0.0, b_min=None, seed=0):
    """The best cuts at fixed R by the cuts app's optimiser, on given hard observables.

    Runs :func:`apps.cuts.optimize_cuts` (its defaults: annealed stochastic-cut runs
    from ``phys``'s cuts and from signal quantiles, each ended by exact hard line
    searches along one threshold at a time) on the
    window and leading-jet pT cut, maximising the same significance. Only events
    inside the box (80 < mjj < 160 GeV, pT1 > 20 GeV) enter: a window inside the box
    cannot select any other, so the result, clipped to :data:`BOUNDS`, selects the
    same events as the optimiser's thresholds.

    Args:
        sample: :class:`~apps.analysis.samples.Sample`.
        mjj, pt1: per-event observables at ``phys[0]`` (e.g. :func:`fastjet_observables`).
        phys: ``(R, lo, hi, pT_cut)``; the cuts are the start.
        rel_syst, b_min: as for the significance.
        seed: the cut optimiser's seed.

    Returns:
        ``[R, lo, hi, pT_cut]`` with the refined cuts.
    """
    from apps.cuts import Events as CutEvents
    from apps.cuts import optimize_cuts

    from .program import cut_spec
    from .significance import significance_objective

    b_min = background_floor(sample) if b_min is None else float(b_min)
    m = np.nan_to_num(np.asarray(mjj, float), nan=-1.0)
    box = (m > BOUNDS[1, 0]) & (m < BOUNDS[2, 1]) & (np.asarray(pt1) > BOUNDS[3, 0])
    if box.sum() < 2 or not np.any(sample.is_signal[box]):
        return list(_project(np.asarray(phys, float)))
    ev = CutEvents(np.c_[m[box], np.asarray(pt1, float)[box]], sample.is_signal[box], sample.weight[box])
    res = optimize_cuts(ev, cut_spec(), np.asarray(phys[1:], float), objective=significance_objective(rel_syst, b_min),
                        seed=seed)
    return list(_project(np.r_[phys[0], res.theta]))


CENTER_STEPS = 5  # the linearised objective's expansion point: mean yields of the last this many steps


def running_center(b_min, steps=None):
    """``center(S, B)``: the linearised program's expansion point, the mean yields of the last ``steps`` calls.

    Each call records the mean of its replicas' yields ``S``, ``B`` and returns the mean
    of the last ``steps`` records (default :data:`CENTER_STEPS`), the background floored
    at ``b_min``; pass it as ``linearize`` to :func:`~apps.analysis.program.joint_program`.
    """
    steps = CENTER_STEPS if steps is None else int(steps)
    seen = []

    def center(S, B):
        seen.append((float(np.mean(S)), float(np.mean(B))))
        s0, b0 = np.mean(seen[-steps:], axis=0)
        return s0, max(b0, b_min)

    return center


def batch_sampler(sample, batch):
    """``draw(seed, t)``: a stratified random subset of ``sample`` with weights scaled to stay unbiased.

    Args:
        sample: :class:`~apps.analysis.samples.Sample`.
        batch: total events (allocated to the processes in proportion to their sizes,
            at least 2 each) or one count per process.

    Returns:
        a callable ``draw(seed, t) -> Sample`` with attributes ``counts`` (events per
        process) and ``size`` (their sum).

    Raises:
        ValueError: a count below 2 or above the process's events.
    """
    procs = [np.flatnonzero(sample.process == k) for k in range(len(sample.names))]
    sizes = np.array([len(p) for p in procs])
    if np.ndim(batch) == 0:
        if int(batch) != batch or batch < 2 * len(procs):
            raise ValueError(f"batch must be an integer >= {2 * len(procs)} (2 events per process), got {batch!r}")
        counts = np.maximum(2, np.round(batch * sizes / sizes.sum())).astype(int)
    else:
        counts = np.asarray(batch)
        if counts.shape != sizes.shape or np.any(counts != np.round(counts)):
            raise ValueError(f"batch must give one integer count per process ({', '.join(sample.names)}), got {batch!r}")
        counts = counts.astype(int)
    if np.any(counts < 2) or np.any(counts > sizes):
        raise ValueError(f"events per process must be in [2, process size {sizes.tolist()}], got {counts.tolist()}")

    def draw(seed, t):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(t), 0xBA7C4]))
        idx = np.concatenate([np.sort(rng.choice(p, c, replace=False)) for p, c in zip(procs, counts)])
        scale = np.concatenate([np.full(c, n / c) for n, c in zip(sizes, counts)])
        sub = sample.subset(idx)
        return dataclasses.replace(sub, weight=sub.weight * scale)

    draw.counts, draw.size = counts, int(counts.sum())
    return draw


def sequential(sample, r0=0.4, steps=30, samples=4, alpha=DEFAULTS["alpha"], seed=0, rel_syst=0.0,
               b_min=None, grid=None, observables=None):
    """The two-step analysis: optimise R for the Higgs-mass window loss, then the cuts at that R.

    R comes from :func:`apps.jets.optimize.optimize_global` (loss ``window``: the
    fraction of signal events reconstructed within ±15 GeV of 125 GeV, smoothly) on
    the signal events; the cuts are then the best of the exhaustive cut grid at that R
    (FastJet anti-kT, hard cuts) — the best any cut optimiser could do there.

    Returns:
        dict: ``R`` (from the jets optimiser), ``best`` (hard analysis at the best cuts),
        ``clusterings`` (Qanti-kT clusterings of the R step), ``seconds``.
    """
    from apps.jets.study.optimize import optimize_global

    t0 = time.perf_counter()
    sig = sample.subset(sample.is_signal)
    res = optimize_global(sig.events, r0=r0, steps=steps, lr=0.05, loss="window", alpha=alpha,
                          samples=samples, seed=seed)
    R = float(np.exp(np.mean([h["theta"] for h in res.history[-8:]])))
    g = grid or default_grid()
    cut_grid = dict(g, R=np.array([R]))
    b_min = background_floor(sample) if b_min is None else b_min
    best = grid_search(sample, cut_grid, rel_syst, b_min, observables).best
    return {"R": R, "best": best, "clusterings": int(steps * samples * len(sig)),
            "seconds": time.perf_counter() - t0}
