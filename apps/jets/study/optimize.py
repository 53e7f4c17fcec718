"""Optimise the jet radius R by gradient descent through sampled Qanti-kT clustering.

The loss is an expectation over clustering histories (Qanti-kT at finite α) and
over the events; its R-derivative is estimated with the stochgrad core on a
*batched program* built from the engine's fast path, which returns per
(event, sample) the dijet mass and the score ∂/∂R log p(history).

R is kept positive by optimising θ = log R.

Losses (per event and sampled history; events without two jets above ``ptmin``
are part of the population, so the loss does not change its population with R):

* ``mse`` — the seed talk's ``(mjj − 125 GeV)²``; an event without two jets
  counts as ``mjj = 0`` (``125²``). Dominated by events whose two leading jets
  are not the b quarks (|mjj − 125| of hundreds of GeV).
* ``window`` — ``1 − exp(−(mjj − 125)² / (2 w²))`` with ``w = 15 GeV``; an event
  without two jets counts 1. Its expectation is one minus a smooth "fraction of
  events reconstructed near the Higgs mass", bounded per event, so badly
  reconstructed events cannot dominate it. This is the robust loss.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

import stochgrad as sg

__all__ = ["lr_schedule", "run_record", "warn_if_flat", "signal_reach",
           "LOSSES", "event_loss", "global_program", "per_event_estimate", "optimize_global",
           "optimize_per_event", "optimize_seeds", "tail_average", "step_seed", "run_seed", "noise_floor_update",
           "scan", "ESTIMATORS", "make_estimator"]

HIGGS_MASS = 125.0
LOSSES = ("window", "mse")


# --- the seed rule -----------------------------------------------------------------------------------------------

def _key(*words):
    """A 63-bit integer keyed on non-negative integers (numpy's SeedSequence hash; order matters)."""
    words = [int(w) % (1 << 64) for w in words]
    hi, lo = np.random.SeedSequence(words).generate_state(2, np.uint32)
    return int((int(hi) << 32 | int(lo)) >> 1)


def step_seed(seed, step):
    """The engine seed of step ``step`` of a run with seed ``seed``: a hash of the pair ``(seed, step)``.

    Unlike ``seed + step``, runs with nearby seeds share no stream (run ``s`` at
    step ``k + 1`` is not run ``s + 1`` at step ``k``). Within a step the engine
    keys every history on (this seed, event, sample).
    """
    return _key(seed, step)


def run_seed(seed, r0, run=0):
    """The seed of independent run ``run`` started at ``r0`` under the user's ``seed``.

    Keyed on ``(seed, round(10⁶·r0), run)``: the runs of one start are independent of each
    other, and two starts get different streams by default (same ``seed``, different ``r0``),
    so their agreement is an independent check. Same arguments, same seed.
    """
    if not (np.isfinite(r0) and r0 > 0):
        raise ValueError(f"r0 must be a positive radius, got {r0!r}")
    return _key(seed, int(round(1e6 * float(r0))), run)


def noise_floor_update(optimizer, lr, lr_tail, steps, tail=0.5, burn=0.125):
    """The update object of a run: a descent phase, then a momentum-free phase at a stated noise floor.

    The first ``steps − n_tail − n_burn`` steps use ``optimizer`` (``"adam"`` or
    ``"sgd"``) at ``lr`` (a number or a schedule). With ``lr_tail`` set, the last
    ``n_burn + n_tail`` steps (``n_tail = max(1, round(tail · steps))``,
    ``n_burn = round(burn · steps)``) restart the optimiser's state with constant rate
    ``lr_tail`` and, for Adam, no momentum (``b1 = 0``: each step is
    ``lr_tail · g / rms(g)``, the rms over this phase so far). Without momentum the
    iterates relax to the optimum within a few steps (the ``n_burn`` steps, not
    averaged, absorb the descent phase's overshoot) and then jitter about it, so the
    average of the last ``n_tail`` (:func:`tail_average`) has no memory of the side
    the run started from. The noise floor: steps of ``lr_tail`` in log R, scaled by
    ``g/rms(g)``. ``lr_tail = None`` keeps one optimiser at ``lr`` throughout
    (the previous behaviour; ``burn`` unused).

    Returns:
        ``(update object, n_tail)``.

    Raises:
        ValueError: ``tail`` not in (0, 1], or no room for the burn-in.
    """
    n_tail = _n_tail(steps, tail)
    first = sg.optim.Adam(lr) if optimizer == "adam" else sg.optim.SGD(lr)
    if lr_tail is None:
        return first, n_tail
    if not 0 <= burn < 1:
        raise ValueError(f"burn must be a fraction in [0, 1), got {burn!r}")
    n_burn = min(int(round(burn * steps)), steps - n_tail)
    second = sg.optim.Adam(lr_tail, b1=0.0) if optimizer == "adam" else sg.optim.SGD(lr_tail)
    return _Phased(first, second, steps - n_tail - n_burn), n_tail


class _Phased:
    """Update object: ``first`` for ``n_first`` steps, then ``second`` from a fresh state."""

    def __init__(self, first, second, n_first):
        self.first, self.second, self.n_first = first, second, int(n_first)

    def init(self, theta):
        return (0, self.first.init(theta), None)

    def update(self, grad, state):
        count, s1, s2 = state
        if count < self.n_first:
            delta, s1 = self.first.update(grad, s1)
        else:
            if s2 is None:
                s2 = self.second.init(np.zeros_like(np.asarray(grad, dtype=float)))
            delta, s2 = self.second.update(grad, s2)
        return delta, (count + 1, s1, s2)


def _n_tail(steps, tail):
    if not 0 < tail <= 1:
        raise ValueError(f"tail must be a fraction in (0, 1], got {tail!r}")
    return max(1, int(round(tail * steps)))


def tail_average(history, tail=0.5):
    """Polyak-Ruppert average of R over the last ``tail`` fraction of the iterates.

    Args:
        history: optimiser records with ``theta`` (= log R), in step order.
        tail: fraction of the records averaged (at least one).

    Returns:
        ``(R_tail, n_tail)``: the mean of ``R = exp θ`` over the last ``n_tail``
        records. Its noise is the run's, estimated by repeating the run with
        independent seeds (:func:`optimize_seeds`), not from the correlated iterates.
    """
    n = _n_tail(len(history), tail)
    R = np.exp([float(np.ravel(h["theta"])[0]) for h in history[-n:]])
    return float(R.mean()), n


def event_loss(mjj, kind="window", target=HIGGS_MASS, width=15.0):
    """Per-sample loss from dijet masses (NaN = fewer than two jets), see module docs.

    Args:
        mjj: array of dijet masses in GeV (NaN where an event has < 2 jets).
        kind: ``"window"`` (robust) or ``"mse"``.
        target: the mass to reconstruct (GeV).
        width: the window loss's Gaussian width (GeV).

    Returns:
        Array like ``mjj``.

    Raises:
        ValueError: unknown loss.
    """
    ok = np.isfinite(mjj)
    m = np.where(ok, mjj, 0.0)
    if kind == "mse":
        return (m - target) ** 2
    if kind == "window":
        return np.where(ok, 1.0 - np.exp(-0.5 * ((m - target) / width) ** 2), 1.0)
    raise ValueError(f"unknown loss {kind!r}; choose one of {LOSSES}")


def _sampler():
    from ..clustering.engine import sample_mjj_and_score  # the engine (numba) loads only when used

    return sample_mjj_and_score


def _alt_sampler():
    from ..clustering.engine import sample_mjj_and_alternatives

    return sample_mjj_and_alternatives


def _engine_kw(event_offset=0, backend=None):
    """Engine keywords, only those that differ from the defaults (samplers may be stand-ins in tests)."""
    kw = {"event_offset": event_offset} if event_offset else {}
    if backend is not None:
        kw["backend"] = backend
    return kw


def _alternative_terms(events, R, alpha, samples, seed, n_alt, loss, width, ptmin, event_offset=0, backend=None,
                       target=HIGGS_MASS):
    """Per (event, sample): loss, the alternatives' weights ∂/∂log R and loss differences, and the score ∂/∂log R."""
    mjj, score, amjj, aw = _alt_sampler()(events.p4, events.counts, R, alpha, samples, seed, n_alt, ptmin=ptmin,
                                          **_engine_kw(event_offset, backend))
    value = event_loss(mjj, loss, target=target, width=width)
    delta = np.where(aw != 0, event_loss(amjj, loss, target=target, width=width) - value[..., None], 0.0)
    R = np.asarray(R, dtype=float)
    w = aw * (R[:, None, None] if R.ndim else R)  # θ = log R: ∂/∂θ = R ∂/∂R
    score = score * (R[:, None] if R.ndim else R)
    return value.ravel(), w.reshape(-1, n_alt), delta.reshape(-1, n_alt), score.ravel()


def _check_common(events, alpha, samples):
    if alpha is None or not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"gradient-based optimisation needs a finite α > 0 (Qanti-kT), got {alpha!r}")
    if samples < 2:
        raise ValueError(f"need at least 2 samples per event for a baseline, got {samples}")
    if len(events.counts) < 1:
        raise ValueError("no events to optimise on")


def global_program(events, loss="window", alpha=1.0, samples=16, ptmin=20.0, width=15.0, target=HIGGS_MASS):
    """A :class:`stochgrad.BatchedProgram` of θ = log R for one R shared by all events.

    One call clusters every event ``samples`` times; a Monte-Carlo sample is one
    (event, history) pair, so ``n`` must be ``n_events × samples``. Samples are
    grouped by event (per-event baselines). Supports the score function (any
    baseline), finite differences with common random numbers (the engine's
    streams depend only on (seed, event, sample)) and the stochastic derivative
    (``want.n_alternatives`` re-clustered alternatives per history, see
    :func:`apps.jets.sample_mjj_and_alternatives`). ``target``: the mass the loss
    pulls mjj to (GeV; 125 for H → bb̄, 91.19 for Z → bb̄).

    Returns:
        The batched program; its ``n_per_call`` attribute is the ``n`` to use.
    """
    _check_common(events, alpha, samples)
    n_ev = len(events.counts)

    def fn(theta, n, seed, want):
        if n != n_ev * samples:
            raise ValueError(f"n must be n_events × samples = {n_ev * samples}, got {n}")
        return program_samples(events, theta, seed, want, loss, alpha, samples, ptmin, width, target=target)

    prog = sg.batched(fn)
    prog.__name__ = f"jets_global[{loss}, α={alpha}, target={target:g}]"
    prog.n_per_call = n_ev * samples
    return prog


def program_samples(events, theta, seed, want, loss="window", alpha=1.0, samples=16, ptmin=20.0, width=15.0,
                    event_offset=0, backend=None, target=HIGGS_MASS):
    """The :class:`stochgrad.BatchSamples` of :func:`global_program` for ``events``.

    ``event_offset`` is the global index of ``events``' first event when they are
    a partition of a larger sample (streams and groups use global indices), so a
    partition gives exactly the rows of the whole call (see
    :mod:`apps.jets.study.distributed`). ``backend``: the engine's ``backend=`` (None:
    the context default of :func:`apps.jets.clustering.engine.use_backend`, else cpu).
    """
    if want.temperature is not None:
        raise ValueError(
            "the jets engine has no relaxation of a clustering history: GS-STE is not available; use "
            "ScoreFunction, StochasticDerivative or FiniteDifference"
        )
    n_ev = len(events.counts)
    group = np.repeat(np.arange(event_offset, event_offset + n_ev), samples)
    R = float(np.exp(theta))
    if want.alternatives:
        value, w, delta, score = _alternative_terms(events, R, alpha, samples, seed, want.n_alternatives, loss,
                                                    width, ptmin, event_offset, backend, target)
        # the score lets StochasticDerivative add its control variates
        return sg.BatchSamples(value=value, score=score, alt_weight=w, alt_delta=delta, group=group)
    mjj, score = _sampler()(events.p4, events.counts, R, alpha, samples, seed, ptmin=ptmin,
                            **_engine_kw(event_offset, backend))
    value = event_loss(mjj, loss, target=target, width=width).ravel()
    return sg.BatchSamples(value=value, score=(score * R).ravel() if want.score else None, group=group)


ESTIMATORS = ("score", "score-mean", "score-none", "fd", "gs-ste", "sd")


def make_estimator(name, fd_step=0.05, n_alternatives=1):
    """Estimator object from a CLI name (see :data:`ESTIMATORS`).

    ``n_alternatives`` is the stochastic derivative's number of re-clustered
    alternatives per history (``"sd"``).
    """
    table = {
        "score": lambda: sg.ScoreFunction("leave_one_out"),
        "score-mean": lambda: sg.ScoreFunction("mean"),
        "score-none": lambda: sg.ScoreFunction("none"),
        "fd": lambda: sg.FiniteDifference(fd_step),
        "gs-ste": lambda: sg.GumbelSTE(0.5),
        "sd": lambda: sg.StochasticDerivative(n_alternatives),
    }
    if name not in table:
        raise ValueError(f"unknown estimator {name!r}; choose one of {ESTIMATORS}")
    return table[name]()


def per_event_estimate(events, log_r, estimator, loss="window", alpha=1.0, samples=16, seed=0,
                       ptmin=20.0, width=15.0, target=HIGGS_MASS):
    """Per-event loss and d loss_e / d log R_e, each event with its own R.

    Events are independent, so one vectorised call estimates every event's
    derivative: the batched program shifts every log R by a common ``t`` and the
    core's :meth:`~stochgrad.Estimator.per_sample` differentiates at ``t = 0``
    (score function with baselines grouped by event, the stochastic derivative —
    each history's alternatives touch its own event's R only — or finite
    differences with every R moved together, with the core's seed rule).

    Returns:
        ``(value, grad, grad_stderr)``, each of shape ``(n_events,)``.
    """
    _check_common(events, alpha, samples)
    sample = _sampler()
    n_ev = len(events.counts)
    R = np.exp(np.asarray(log_r, dtype=float))
    group = np.repeat(np.arange(n_ev), samples)

    def shifted(t, n, seed, want):
        """Every log R_e shifted by ``t``: each sample depends on its own event's R only (separable)."""
        if want.temperature is not None:
            raise ValueError(
                f"{estimator!r} is not available for the jets engine (no relaxation of a clustering history); "
                "use ScoreFunction, StochasticDerivative or FiniteDifference"
            )
        Rt = R * np.exp(t)
        if want.alternatives:
            value, w, delta, _ = _alternative_terms(events, Rt, alpha, samples, seed, want.n_alternatives, loss,
                                                    width, ptmin, target=target)
            # no score returned: per event too few samples to fit control variates
            return sg.BatchSamples(value=value, alt_weight=w, alt_delta=delta, group=group)
        mjj, score = sample(events.p4, events.counts, Rt, alpha, samples, seed, ptmin=ptmin)
        value = event_loss(mjj, loss, target=target, width=width).ravel()
        return sg.BatchSamples(value=value, score=(score * Rt[:, None]).ravel() if want.score else None, group=group)

    value, g, _ = estimator.per_sample(sg.batched(shifted), 0.0, n_ev * samples, seed)
    value, g = value.reshape(n_ev, samples), np.asarray(g).reshape(n_ev, samples)
    return value.mean(axis=1), g.mean(axis=1), g.std(axis=1, ddof=1) / np.sqrt(samples)


def optimize_global(events, r0=0.4, steps=60, lr=0.05, estimator=None, loss="window", alpha=1.0,
                    samples=16, seed=0, optimizer="adam", progress=False, ptmin=20.0, width=15.0,
                    program=None, executor=None, replay=(), callback=None, lr_tail=None, tail=0.5,
                    burn=0.125, target=HIGGS_MASS):
    """Find one jet radius for all events by Adam/SGD on θ = log R, and its tail average.

    Seed rule: step ``k`` draws its histories from the engine seed
    :func:`step_seed(seed, k) <step_seed>` (a hash of ``(seed, k)``), fresh at every
    step. For independent runs give each its own ``seed`` (:func:`run_seed`,
    :func:`optimize_seeds`). The last ``tail + burn`` fraction of the steps runs at
    ``lr_tail`` without momentum (:func:`noise_floor_update`; ``None``: ``lr``
    throughout) and the iterates of the last ``tail`` fraction are averaged into
    ``result.R_tail`` (:func:`tail_average`).

    ``program``/``executor``/``replay``/``callback`` serve :mod:`apps.jets.study.distributed`:
    a partitioned program run on an executor (same numbers), recorded steps
    (history records) fed to the optimiser instead of being recomputed (resume),
    and a per-step callback (checkpoints).

    Returns:
        :class:`stochgrad.optim.OptimResult` (``theta`` = log R) with ``R`` added to
        each history record, and attributes ``R_tail`` (the mean R over the last
        ``n_tail`` iterates), ``n_tail`` and ``seed``.
    """
    estimator = estimator or sg.ScoreFunction("leave_one_out")
    if not (np.isfinite(r0) and r0 > 0):
        raise ValueError(f"r0 must be a positive radius, got {r0!r}")
    update, n_tail = noise_floor_update(optimizer, lr, lr_tail, steps, tail, burn)
    prog = program if program is not None else global_program(events, loss, alpha, samples, ptmin, width, target)

    def estimate(theta, step):
        if step < len(replay):
            return _replayed(replay[step], theta)
        return sg.value_and_grad(prog, estimator, n=prog.n_per_call, seed=step_seed(seed, step),
                                 executor=executor)(theta)

    res = sg.optim.minimize(estimate, float(np.log(r0)), update, steps, progress=progress, label="optimise R",
                            pass_step=True, callback=callback)
    for h in res.history:
        h["R"] = float(np.exp(h["theta"]))
    res.R_tail, res.n_tail = tail_average(res.history, n_tail / len(res.history))
    res.seed = seed
    warn_if_flat(res.history, target, width, loss)
    return res


def warn_if_flat(history, target=HIGGS_MASS, width=15.0, loss="window"):
    """Warn (``RuntimeWarning``) when every step's gradient estimate was exactly 0: R never moved.

    With the window loss this happens when no sampled event came within reach of the
    target (every event's loss is 1 whatever R), e.g. a 125 GeV target on Z → bb̄ events.
    Returns True when it warned.
    """
    if history and all(np.all(np.asarray(h["grad"]) == 0) for h in history):
        warnings.warn(f"no gradient signal: every gradient estimate was 0, so R stayed where it started — no "
                      f"sampled history within reach of the target mass {target:g} GeV ({loss} loss, width "
                      f"{width:g} GeV) depended on R (no event near the target, or α so large that the clustering "
                      "is deterministic); check the target, the width, α and the particle selection",
                      RuntimeWarning, stacklevel=3)
        return True
    return False


def signal_reach(events, target=HIGGS_MASS, width=15.0, ptmin=20.0, radii=(0.2, 0.4, 0.8, 1.2, 1.6), reach=3.0):
    """Fraction of events whose hard anti-kT mjj lies within ``reach × width`` of ``target`` at some R of ``radii``.

    A cheap check before an optimisation (one deterministic clustering per radius): 0
    means the window loss is flat over these radii — no gradient signal.
    """
    from ..clustering.engine import cluster

    near = np.zeros(len(events.counts), dtype=bool)
    for R in radii:
        m = cluster(events, float(R)).mjj(ptmin)[:, 0]
        with np.errstate(invalid="ignore"):
            near |= np.abs(m - target) < reach * width
    return float(near.mean()) if near.size else 0.0


def optimize_seeds(events, r0=0.4, n_seeds=4, seed=0, callback=None, first_run=0, **kw):
    """``n_seeds`` independent runs of :func:`optimize_global` from ``r0``; R* with its uncertainty.

    Run ``j`` uses the seed :func:`run_seed(seed, r0, j) <run_seed>`, so its streams
    are its own and differ from those of another start.

    Args:
        events: the events (all runs see the same events: the spread is Monte-Carlo
            noise of the optimisation, not event-to-event).
        r0: the start.
        n_seeds: independent runs (≥ 1; the uncertainty needs ≥ 2).
        seed: the user's seed.
        callback: ``callback(run, record)`` after every step of every run.
        first_run: index of the first run (runs ``first_run … first_run + n_seeds − 1``;
            run ``j``'s result depends on ``j`` only, so runs can be added later).
        **kw: forwarded to :func:`optimize_global` (``steps``, ``lr``, ``lr_tail``, ``tail``, ...).

    Returns:
        dict: ``R`` (the mean of the runs' tail averages), ``R_sd`` (their sample
        standard deviation, ``None`` for one run), ``R_stderr`` (``R_sd/√n``),
        ``R_runs``, ``seeds`` and ``results`` (the runs' :class:`~stochgrad.optim.OptimResult`).
    """
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, (int, np.integer)) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a positive integer, got {n_seeds!r}")
    results, seeds = [], [run_seed(seed, r0, j) for j in range(int(first_run), int(first_run) + int(n_seeds))]
    for j, s in enumerate(seeds):
        cb = None if callback is None else (lambda rec, j=j: callback(j, rec))
        results.append(optimize_global(events, r0=r0, seed=s, callback=cb, **kw))
    R = np.array([r.R_tail for r in results])
    sd = float(R.std(ddof=1)) if len(R) > 1 else None
    return {"R": float(R.mean()), "R_sd": sd, "R_stderr": None if sd is None else sd / np.sqrt(len(R)),
            "R_runs": R.tolist(), "seeds": seeds, "results": results}


def _replayed(rec, theta):
    if rec["theta"] != theta:
        raise ValueError(f"resume: step {rec['step']} was recorded at θ = {rec['theta']!r}, the replay reached "
                         f"{theta!r} (different settings?)")
    g = np.asarray(rec["grad"], dtype=float)
    return sg.Estimate(rec["value"], rec["value_stderr"], g, np.asarray(rec["grad_stderr"], dtype=float),
                       g[None], np.asarray([rec["value"]]), int(rec.get("n", 0)), "replayed", {"replayed": True})


def optimize_per_event(events, r0=0.4, steps=60, lr=0.05, estimator=None, loss="window", alpha=1.0,
                       samples=16, seed=0, optimizer="adam", progress=False, ptmin=20.0, width=15.0, callback=None,
                       target=HIGGS_MASS):
    """One jet radius per event: Adam/SGD on the vector θ_e = log R_e (updates are per component).

    Not a result: each event's R is fitted on the very loss it is scored on (it pulls
    its own mjj to the target), so a width measured at these radii is an upper bound
    on any per-event radius, by construction. A fair per-event radius is a function
    of observables fitted on other events: :mod:`apps.jets.study.radius_map`.

    Returns:
        :class:`stochgrad.optim.OptimResult`; ``theta`` holds log R per event.
    """
    estimator = estimator or sg.ScoreFunction("leave_one_out")
    n_ev = len(events.counts)

    def estimate(theta, step):
        v, g, se = per_event_estimate(events, theta, estimator, loss, alpha, samples, step_seed(seed, step), ptmin,
                                      width, target)
        return sg.Estimate(float(v.mean()), float(v.std(ddof=1) / np.sqrt(n_ev)) if n_ev > 1 else 0.0, g, se,
                           g[None], v, n_ev, repr(estimator), {"per_event": True})

    opt = sg.optim.Adam(lr) if optimizer == "adam" else sg.optim.SGD(lr)
    theta0 = np.full(n_ev, float(np.log(r0)))
    return sg.optim.minimize(estimate, theta0, opt, steps, progress=progress, label="optimise R per event",
                             pass_step=True, callback=callback)


def scan(events, radii, loss="window", alpha=1.0, samples=16, seed=0, ptmin=20.0, width=15.0, target=HIGGS_MASS):
    """Monte-Carlo estimate of the expected loss on a grid of R, with its MC standard error.

    Returns:
        A list of dicts ``{R, loss, stderr, frac_two_jets, frac_window}`` (the last
        two: fraction of sampled histories with two jets, and with |mjj − target| < w).
    """
    sample = _sampler()
    out = []
    n_ev = len(events.counts)
    for R in radii:
        mjj, _ = sample(events.p4, events.counts, float(R), alpha, samples, seed, ptmin=ptmin)
        ell = event_loss(mjj, loss, target=target, width=width)
        var_e = ell.var(axis=1, ddof=1) / samples
        out.append({
            "R": float(R), "loss": float(ell.mean()), "stderr": float(np.sqrt(var_e.sum()) / n_ev),
            "frac_two_jets": float(np.isfinite(mjj).mean()),
            "frac_window": float((np.abs(np.nan_to_num(mjj) - target) < width).mean()),
        })
    return out


def timed(fn, *a, **kw):
    """``(result, seconds)``."""
    t0 = time.perf_counter()
    r = fn(*a, **kw)
    return r, time.perf_counter() - t0


def lr_schedule(lr, steps, lr_tail=0.04, tail=0.5, burn=0.125, lr_decay=1.0, per_event=False):
    """The descent phase's learning rate of an R optimisation (a number or a function of the step).

    ``lr_decay != 1`` (legacy): ``lr * lr_decay**t`` with a floor of ``lr / 20``; else, for one
    global R with ``lr_tail`` set, ``lr`` decaying exponentially to ``lr_tail`` over the descent
    phase (the steps before the burn-in and the averaged tail); else the constant ``lr``.
    """
    if lr_decay != 1.0:
        return lambda t: lr * max(lr_decay**t, 0.05)
    if per_event or lr_tail is None:
        return lr
    warm = steps - max(1, int(round(tail * steps))) - int(round(burn * steps))
    return sg.optim.exponential_decay(lr, lr_tail, warm) if warm >= 1 else lr


def run_record(res):
    """The JSON record of one optimisation run (its tail-averaged R, final R and per-step histories)."""
    return {"seed": res.seed, "R_tail": res.R_tail, "R_final": float(np.exp(res.theta)),
            "R_history": [h["R"] for h in res.history],
            "loss_history": [h["value"] for h in res.history],
            "loss_stderr_history": [h["value_stderr"] for h in res.history],
            "grad_history": [h["grad"] for h in res.history],
            "grad_stderr_history": [h["grad_stderr"] for h in res.history]}
