"""The R-optimisation subcommands of ``stochgrad-jets``: optimize, scan, compare-estimators, widths."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from apps.cliutil import (CliError, Outputs, at_least, in_interval, nonneg_float, nonneg_int, positive_float,
                          positive_int, seed_int, sibling)

from ..plots import mjj as plots
from ..study import optimize as opt
from .common import (add_input_arguments, backend_arg, events_from_args, events_label, fraction, lr_schedule_from_args,
                     read_json, samples, target_args, with_backend)
from .progress import OptimizeProgress, bar

__all__ = ["register"]


def _events(p):
    """The event-input options: --events, --n-events and the file options (branches, selection, ...)."""
    p.add_argument("--events", default="default",
                   help="events file (.npz/.parquet/.root) or 'default' (embedded sample)")
    p.add_argument("--n-events", type=positive_int, default=None, help="use the first N events")
    add_input_arguments(p)


def _common(p):
    _events(p)
    p.add_argument("--alpha", type=positive_float, default=1.0, help="Qanti-kT α (> 0)")
    p.add_argument("--samples", type=samples, default=16, help="sampled histories per event and step (>= 2)")
    p.add_argument("--loss", choices=opt.LOSSES, default="window",
                   help="window: 1 − exp(−(mjj − target)²/2w²), robust; mse: (mjj − target)²")
    target_args(p)
    p.add_argument("--width", type=positive_float, default=15.0, help="window loss width in GeV")
    p.add_argument("--ptmin", type=nonneg_float, default=20.0, help="jet pT threshold in GeV")
    p.add_argument("--seed", type=seed_int, default=0, help="random seed of the sampled histories")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--quiet", action="store_true",
                   help="no progress (default: a bar on a terminal, else a line at least every 10 s on stderr)")
    backend_arg(p)


def _what(args, ev):
    """The JSON record of what was run: the events, their label and selection, the target."""
    return {"events": args.events, "label": events_label(ev, args), "target_mass": args.target_mass,
            "selection": ev.meta.get("selection"), "n_events": int(len(ev.counts))}


def _require_signal(ev, args):
    """Refuse a window loss no event can feel (flat: no gradient), warn when few events can."""
    if args.loss != "window":
        return
    frac = opt.signal_reach(ev, args.target_mass, args.width, args.ptmin)
    where = (f"no event's two leading anti-kT jets (pT > {args.ptmin:g} GeV) come within 3 × --width = "
             f"{3 * args.width:g} GeV of --target-mass {args.target_mass:g} GeV at any R in 0.2-1.6")
    if frac == 0.0:
        raise CliError(f"{where}: the window loss is flat there (no gradient signal). Check --target-mass "
                       "(e.g. 91.19 for Z→bb̄, 125 for H→bb̄), --width, --ptmin and the particle selection")
    if frac < 0.05:
        print(f"warning: only {frac:.1%} of the events come within 3 × --width of --target-mass "
              f"{args.target_mass:g} GeV at any R in 0.2-1.6: the gradient signal is weak", file=sys.stderr)


def _outputs(args, json_path, plot=True):
    """Plan (and check) the JSON result and the plot beside it; returns ``(outputs, json, png)``.

    ``--resume`` (a distributed run continuing the one recorded in ``--json``) implies replacing it.
    """
    out = Outputs(force=args.force or getattr(args, "resume", False))
    js = out.add(json_path, "--json", kind="json") if json_path is not None else None
    png = out.add(sibling(js, ".png"), "plot (beside --json)", kind="image") if js is not None and plot else None
    return out.check(), js, png


def cmd_optimize(args):
    distributed = getattr(args, "scheduler", None) or getattr(args, "resume", False)
    if args.seeds is None:
        args.seeds = 1 if (distributed or args.per_event) else 4
    if args.seeds > 1 and (distributed or args.per_event):
        raise CliError("--seeds > 1 runs independent local optimisations of one global R; it is not available "
                       "with --per-event, --scheduler or --resume")
    if args.lr is None:  # the tail schedule starts higher; per-event runs keep their constant rate
        args.lr = 0.05 if args.per_event else 0.1
    outputs, js, png = _outputs(args, args.json)
    mjj_png = None if args.per_event else outputs.add(sibling(js, "_mjj.png"), "mjj plot (beside --json)", kind="image")
    outputs.check()
    if distributed:
        from .distributed import cmd_optimize as distributed_optimize  # partitions on Dask, checkpoints, --resume

        return distributed_optimize(args)
    ev = events_from_args(args)
    _require_signal(ev, args)
    est = opt.make_estimator(args.estimator, args.fd_step, args.n_alternatives)
    settings = {k: v for k, v in vars(args).items() if k not in ("func",)}
    what = _what(args, ev)
    lr = lr_schedule_from_args(args)
    if args.per_event:
        with OptimizeProgress(args.steps, enabled=not args.quiet) as pbar:
            res, secs = opt.timed(opt.optimize_per_event, ev, r0=args.r0, steps=args.steps, lr=lr, estimator=est,
                                  loss=args.loss, alpha=args.alpha, samples=args.samples, seed=args.seed,
                                  optimizer=args.optimizer, callback=pbar, ptmin=args.ptmin, width=args.width,
                                  target=args.target_mass)
        R = np.exp(np.asarray(res.theta))
        out = {"run": what, "R": R.tolist(), "upper_bound": True,
               "note": "each event's R is fitted on the loss it is scored on: an upper bound, not a result",
               "loss_history": res.column("value").tolist(), "loss_stderr_history": res.column("value_stderr").tolist(),
               "seconds": secs, "n_events": int(len(ev.counts)), "settings": settings}
        outputs.write_json(js, out)
        png = plots.optimize_figure(res.history, png, loss=args.loss, per_event=True, R_final=R, label=what["label"],
                                    target=args.target_mass)
        q16, q50, q84 = np.percentile(R, [16, 50, 84])
        print(f"R per event ({len(R)} events; upper bound: fitted on its own scoring loss): median {q50:.3f}, "
              f"16-84% [{q16:.3f}, {q84:.3f}]  final loss {out['loss_history'][-1]:.5g}  ({secs:.1f} s)  -> {args.json}, {png}")
        return 0
    from ..plots import radius as radius_plots

    with OptimizeProgress(args.steps * args.seeds, enabled=not args.quiet) as pbar:
        summ, secs = opt.timed(opt.optimize_seeds, ev, r0=args.r0, n_seeds=args.seeds, seed=args.seed,
                               callback=lambda run, rec: pbar(rec), steps=args.steps, lr=lr,
                               lr_tail=None if args.lr_decay != 1.0 else args.lr_tail, tail=args.tail,
                               burn=args.burn,
                               estimator=est, loss=args.loss, alpha=args.alpha, samples=args.samples,
                               optimizer=args.optimizer, ptmin=args.ptmin, width=args.width, target=args.target_mass)
    runs = [opt.run_record(r) for r in summ["results"]]
    tail = summ["results"][0].n_tail
    out = {"run": what, "R": summ["R"], "R_stderr": summ["R_stderr"], "R_sd": summ["R_sd"], "n_seeds": args.seeds,
           "R_runs": summ["R_runs"], "seeds": summ["seeds"], "tail_steps": tail,
           "error": "R_stderr = sd/sqrt(n_seeds), R_sd = sd of the runs' tail averages: Monte-Carlo spread over "
                    "independent seeds on the same events (not event-to-event)",
           "R_tail_mean": summ["R"], "runs": runs,
           # the first run's histories, under the names earlier results used
           "loss_history": runs[0]["loss_history"], "loss_stderr_history": runs[0]["loss_stderr_history"],
           "grad_history": runs[0]["grad_history"], "grad_stderr_history": runs[0]["grad_stderr_history"],
           "R_history": runs[0]["R_history"],
           "seconds": secs, "n_events": int(len(ev.counts)), "settings": settings}
    outputs.write_json(js, out)
    radius_plots.runs_figure([(f"R0 = {args.r0:g}", out)], png, loss=args.loss, label=what["label"],
                             target=args.target_mass)
    _mjj_summary_plot(ev, [(f"start R = {args.r0:g}", args.r0), (f"R* = {out['R']:.3f}", out["R"])], mjj_png, args)
    if args.seeds > 1:
        unc = f" ± {out['R_stderr']:.4f} (sd {out['R_sd']:.4f} over {args.seeds} independent runs)"
    else:
        unc = " (one run: no uncertainty; use --seeds 4)"
    print(f"{what['label']}, target {args.target_mass:g} GeV: R* = {out['R']:.4f}{unc}, each run's mean R over its last {tail} steps; "
          f"final loss {runs[0]['loss_history'][-1]:.5g}  ({secs:.1f} s)  -> {args.json}, {png}")
    return 0


def _mjj_summary_plot(ev, radii, path, args):
    """Hard anti-kT mjj at each ``(label, R)`` with median, IQR and window fraction ± bootstrap sd in the legend."""
    from ..plots import radius as radius_plots
    from ..study.radius_map import hard_mjj
    from ..study.robust import mass_summary

    series = []
    for label, R in radii:
        m = hard_mjj(ev, R, args.ptmin)
        series.append((label, m, mass_summary(m, args.width, target=args.target_mass, seed=args.seed)))
    return radius_plots.mjj_summary_figure(series, path, width=args.width, target=args.target_mass,
                                           label=events_label(ev, args),
                                           title=f"anti-kT, two leading jets, pT > {args.ptmin:g} GeV")


def cmd_scan(args):
    if args.r_max < args.r_min:
        raise CliError(f"--r-max ({args.r_max:g}) must be >= --r-min ({args.r_min:g})")
    n_grid = int(np.floor((args.r_max - args.r_min) / args.r_step + 1e-9)) + 1
    if n_grid > 10_000:
        raise CliError(f"the grid has {n_grid} radii (more than 10000); raise --r-step")
    outputs, js, png = _outputs(args, args.json)
    ev = events_from_args(args)
    _require_signal(ev, args)
    radii = np.round(args.r_min + args.r_step * np.arange(n_grid), 6)
    rows, secs = opt.timed(_scan_with_progress, ev, radii, args)
    finite = [r for r in rows if np.isfinite(r["loss"])]
    if not finite:
        raise CliError("the expected loss is not finite at any R of the grid (no usable events?)")
    best = min(finite, key=lambda r: r["loss"])
    what = _what(args, ev)
    print(f"{what['label']}, target {args.target_mass:g} GeV")
    print(f"| R | expected {args.loss} loss ± MC stderr | two-jet fraction | "
          f"fraction within ±{args.width:g} GeV of {args.target_mass:g} |")
    print("|---:|---|---:|---:|")
    for r in rows:
        mark = " ←" if r is best else ""
        print(f"| {r['R']:.2f} | {r['loss']:.5g} ± {r['stderr']:.2g}{mark} | {r['frac_two_jets']:.3f} | {r['frac_window']:.3f} |")
    print(f"minimum at R = {best['R']:.2f} (grid step {args.r_step:g}); {secs:.1f} s")
    if js:
        outputs.write_json(js, {"run": what, "rows": rows, "R_min": best["R"], "grid_step": args.r_step, "seconds": secs,
                                "settings": {k: v for k, v in vars(args).items() if k != "func"}})
        plots.scan_figure(rows, png, loss=args.loss, alpha=args.alpha, label=what["label"], target=args.target_mass)
    return 0


def _scan_with_progress(ev, radii, args):
    rows = []
    b = bar(len(radii), "scan R", enabled=not getattr(args, "quiet", False))
    for R in radii:
        rows += opt.scan(ev, [R], args.loss, args.alpha, args.samples, args.seed, args.ptmin, args.width,
                         target=args.target_mass)
        b.update(1)
    b.close()
    return rows


_decay = in_interval(0.0, 1.0, (False, True))  # (0, 1]
_burn = in_interval(0.0, 1.0, (True, False))  # [0, 1)


def cmd_compare(args):
    """Gradient mean ± stderr against the number of samples, per estimator, on one event."""
    names = [s.strip() for s in args.estimators.split(",")]
    bad = [s for s in names if s not in opt.ESTIMATORS]
    if bad:
        raise CliError(f"--estimators: unknown {bad}; choose from {', '.join(opt.ESTIMATORS)}")
    outputs, js, _ = _outputs(args, args.json, plot=False)
    ev = events_from_args(args)
    e = args.event
    if not 0 <= e < len(ev.counts):
        raise CliError(f"--event must be in [0, {len(ev.counts)}), got {e}")
    one = ev.subset(e)
    rows = []
    b = bar(len(names) * len(args.n), "estimators × n", enabled=not args.quiet)
    for name in names:
        est = opt.make_estimator(name, args.fd_step, args.n_alternatives)
        for n in args.n:
            try:
                v, g, se = opt.per_event_estimate(one, [np.log(args.R)], est, args.loss, args.alpha, n, args.seed,
                                                  args.ptmin, args.width, target=args.target_mass)
            except ValueError as err:
                raise CliError(f"{name} with n = {n}: {err}") from None
            rows.append({"estimator": name, "n": n, "dL_dlogR": float(g[0]), "stderr": float(se[0])})
            b.update(1)
    b.close()
    exact = None
    if int(one.counts[0]) <= args.exact_max_particles:
        exact = _exact_gradient(one, args)
    print(f"event {e} ({int(one.counts[0])} particles), R = {args.R}, α = {args.alpha}, {args.loss} loss"
          + (f"; exact d/dlogR = {exact:.6g}" if exact is not None else ""))
    print("| estimator | n | dL/dlogR ± stderr |" + (" (est − exact)/stderr |" if exact is not None else ""))
    print("|---|---:|---|" + ("---:|" if exact is not None else ""))
    for r in rows:
        z = f" {(r['dL_dlogR'] - exact) / r['stderr']:+.1f} |" if exact is not None and r["stderr"] > 0 else ""
        print(f"| {r['estimator']} | {r['n']} | {r['dL_dlogR']:.5g} ± {r['stderr']:.2g} |{z}")
    if js:
        outputs.write_json(js, {"rows": rows, "exact": exact, "event": e,
                                "settings": {k: v for k, v in vars(args).items() if k != "func"}})
    return 0


def _exact_gradient(one, args):
    """d E[loss]/d log R by exact enumeration of the histories (central difference of exact sums)."""
    from ..clustering.exact import exact_histories

    def expected(R):
        probs, mjj = exact_histories(one.p4[0, : int(one.counts[0])], R, args.alpha, ptmin=args.ptmin)
        return float(np.sum(probs * opt.event_loss(mjj, args.loss, target=args.target_mass, width=args.width)))

    h = 1e-5
    return (expected(args.R * np.exp(h)) - expected(args.R * np.exp(-h))) / (2 * h)


def _map_radii(path, ev, ptmin):
    """Each event's radius from a ``radius-map`` result (the map applied to these events' leading-jet pT)."""
    from ..study.radius_map import RadiusMap, leading_pt

    d = read_json(path, "--map-json")
    try:
        m = d["map"]
        rmap = RadiusMap(m["kind"], tuple(m.get("pt_edges", ())), float(m.get("center", 0.0)),
                         float(m.get("scale", 1.0)), np.asarray(m["w"], dtype=float))
        radii = rmap.radii(leading_pt(ev, d["settings"]["r_ref"], ptmin))
    except (KeyError, TypeError, ValueError) as err:
        raise CliError(f"--map-json {path!r} is not a `radius-map` result ({type(err).__name__}: {err})") from None
    return f"R(pT_lead) map ({m['kind']}, fitted on other events)", radii


def cmd_widths(args):
    """mjj histograms and robust resonance summaries (bootstrap sd) for fixed, global, mapped and per-event R."""
    from ..plots import radius as radius_plots
    from ..study.radius_map import hard_mjj
    from ..study.robust import mass_summary

    outputs = Outputs(force=args.force)
    png = outputs.add(args.png, "--png", kind="image")
    js = outputs.add(args.json, "--json", kind="json") if args.json is not None else None
    outputs.check()
    glob = read_json(args.global_json, "--global-json") if args.global_json else None
    per = read_json(args.per_event_json, "--per-event-json") if args.per_event_json else None
    ev = events_from_args(args)
    configs = [(f"R = {args.r_fixed:g}", np.full(len(ev.counts), args.r_fixed))]
    if glob is not None:
        r = glob.get("R") if isinstance(glob, dict) else None
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not np.isfinite(r) or r <= 0:
            raise CliError(f"--global-json {args.global_json!r} needs a positive number 'R' "
                           "(an `optimize` result without --per-event)")
        se = glob.get("R_stderr")
        configs.append((f"global R* = {r:.3f}" + (f" ± {se:.3f}" if isinstance(se, (int, float)) else ""),
                        np.full(len(ev.counts), float(r))))
    if args.map_json:
        configs.append(_map_radii(args.map_json, ev, args.ptmin))
    if per is not None:
        try:
            rs = np.asarray(per["R"], dtype=float).reshape(-1)
        except (KeyError, TypeError, ValueError):
            raise CliError(f"--per-event-json {args.per_event_json!r} needs a list 'R' of positive radii "
                           "(an `optimize --per-event` result)") from None
        if len(rs) != len(ev.counts):
            raise CliError(f"{args.per_event_json} has {len(rs)} radii for {len(ev.counts)} events")
        if not np.all(np.isfinite(rs) & (rs > 0)):
            raise CliError(f"{args.per_event_json}: every radius must be a positive number")
        configs.append(("per-event R fitted on its own loss (upper bound, not a result)", rs))
    rows, hists = [], []
    for label, radii in configs:
        mjj = hard_mjj(ev, radii, args.ptmin)
        w = mass_summary(mjj, args.window, target=args.target_mass, n_resamples=args.bootstrap, seed=args.seed)
        w["label"] = label
        rows.append(w)
        hists.append((label, mjj, w))
    what = _what(args, ev)
    radius_plots.mjj_summary_figure(hists, png, width=args.window, target=args.target_mass, label=what["label"],
                                    title=f"anti-kT, two leading jets, pT > {args.ptmin:g} GeV")
    print(f"{what['label']}; ± = event-to-event bootstrap sd ({args.bootstrap} resamples of the {len(ev.counts)} "
          "events)")
    print(f"| clustering | median mjj (GeV) | IQR (GeV) | fraction within ±{args.window:g} GeV of "
          f"{args.target_mass:g} | two-jet fraction |")
    print("|---|---:|---:|---:|---:|")
    for w in rows:
        print(f"| {w['label']} | {w['median']:.1f} ± {w['median_sd']:.1f} | {w['iqr']:.1f} ± {w['iqr_sd']:.1f} | "
              f"{w['frac_window']:.3f} ± {w['frac_window_sd']:.3f} | {w['frac_two_jets']:.3f} ± {w['frac_two_jets_sd']:.3f} |")
    if js:
        outputs.write_json(js, {"run": what, "rows": rows})
    return 0


def _distributed_args(p):
    g = p.add_argument_group("distributed (docs/distributed.md)")
    g.add_argument("--scheduler", default=None,
                   help="run the event partitions on Dask: local:N (a LocalCluster of N processes) or tcp://host:port")
    g.add_argument("--partition-events", type=positive_int, default=None,
                   help="events per partition (default: the Parquet row groups, else 4 partitions)")
    g.add_argument("--resume", action="store_true",
                   help="continue the run recorded in --json from its last completed step (same final R)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add optimize, scan, compare-estimators and widths to ``stochgrad-jets``."""
    p = sub.add_parser("optimize", help="optimise the jet radius R by gradient descent")
    _common(p)
    p.add_argument("--r0", type=positive_float, default=0.4, help="starting R")
    p.add_argument("--steps", type=positive_int, default=48, help="steps per run")
    p.add_argument("--seeds", type=positive_int, default=None,
                   help="independent runs (own random streams each); R* = mean of their tail averages ± sd/sqrt(n) "
                        "(default 4; 1 with --per-event/--scheduler/--resume)")
    p.add_argument("--lr", type=positive_float, default=None,
                   help="learning rate on log R at the start, decaying exponentially to --lr-tail over the descent "
                        "phase (default 0.1; 0.05, constant, with --per-event/--scheduler/--resume)")
    p.add_argument("--lr-tail", type=positive_float, default=0.04,
                   help="the tail's constant rate (Adam without momentum: the noise floor, in log R per step)")
    p.add_argument("--tail", type=fraction, default=0.5, help="fraction of the steps in the averaged tail")
    p.add_argument("--burn", type=_burn, default=0.125,
                   help="fraction of the steps run at --lr-tail without momentum before the averaged tail")
    p.add_argument("--lr-decay", type=_decay, default=1.0,
                   help="legacy: multiply the learning rate by this each step (floor lr/20), no tail phase")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help="the optimiser on log R (default adam)")
    p.add_argument("--estimator", choices=opt.ESTIMATORS, default="score",
                   help="gradient estimator: score (leave-one-out baseline, default), score-mean, score-none, fd "
                        "(finite differences, CRN), gs-ste (refused: no relaxation), sd (stochastic derivative)")
    p.add_argument("--fd-step", type=positive_float, default=0.05, help="finite-difference step in log R")
    p.add_argument("--n-alternatives", type=positive_int, default=1,
                   help="re-clustered alternatives per history for --estimator sd")
    p.add_argument("--per-event", action="store_true", help="one R per event")
    p.add_argument("--json", default="out/optimize.json",
                   help="results file, ending in .json (a PNG is written beside it)")
    _distributed_args(p)
    p.set_defaults(func=with_backend(cmd_optimize))

    p = sub.add_parser("scan", help="Monte-Carlo expected loss on a grid of R")
    _common(p)
    p.add_argument("--r-min", type=positive_float, default=0.2, help="smallest R of the grid")
    p.add_argument("--r-max", type=positive_float, default=1.6, help="largest R of the grid")
    p.add_argument("--r-step", type=positive_float, default=0.1, help="grid step in R")
    p.add_argument("--json", default=None, help="results file, ending in .json (a PNG is written beside it)")
    p.set_defaults(func=with_backend(cmd_scan))

    p = sub.add_parser("compare-estimators", help="gradient estimators on one event against the sample size")
    _common(p)
    p.add_argument("--event", type=nonneg_int, default=0, help="index of the event")
    p.add_argument("--R", type=positive_float, default=0.8, help="jet radius at which the gradient is estimated")
    p.add_argument("--estimators", default="score,score-none,sd,fd", help="comma-separated estimators to compare")
    p.add_argument("--fd-step", type=positive_float, default=0.05, help="finite-difference step in log R")
    p.add_argument("--n-alternatives", type=positive_int, default=1, help="alternatives per history for sd")
    p.add_argument("--n", type=samples, nargs="+", default=[10, 100, 1000, 10000],
                   help="sample sizes (histories) to compare at")
    p.add_argument("--exact-max-particles", type=nonneg_int, default=6,
                   help="enumerate the exact gradient when the event has at most this many particles")
    p.add_argument("--json", default=None, help="results file, ending in .json")
    p.set_defaults(func=with_backend(cmd_compare))

    p = sub.add_parser("widths", help="mjj histograms and robust resonance summaries (median, IQR, window fraction "
                                      "± bootstrap) for fixed, global, mapped and per-event R")
    _events(p)
    p.add_argument("--ptmin", type=nonneg_float, default=20.0, help="jet pT threshold in GeV")
    p.add_argument("--r-fixed", type=positive_float, default=0.4, help="the fixed radius shown for reference")
    p.add_argument("--global-json", default=None, help="an `optimize` result (without --per-event): its R*")
    p.add_argument("--map-json", default=None, help="a `radius-map` result: R per event from its leading-jet pT")
    p.add_argument("--per-event-json", default=None,
                   help="an `optimize --per-event` result (shown as an upper bound: fitted on its own scoring loss)")
    p.add_argument("--window", type=positive_float, default=15.0, help="half-width of the mass window (GeV)")
    target_args(p)
    p.add_argument("--bootstrap", type=at_least(2), default=1000, help="bootstrap resamples of the events")
    p.add_argument("--seed", type=seed_int, default=0, help="the bootstrap's seed")
    p.add_argument("--png", default="out/widths.png", help="the figure (default out/widths.png)")
    p.add_argument("--json", default=None, help="results file, ending in .json (default: none)")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    backend_arg(p)
    p.set_defaults(func=with_backend(cmd_widths))
