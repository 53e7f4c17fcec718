"""Benchmark of apps.analysis: brute-force grid vs gradient optimisation (two starts) vs sequential.

Run: ``python -m benchmarks.analysis [--json FILE] [--plots DIR] [--steps N] [--validation DIR]``. Prints
one table: best hard significance (FastJet anti-kT + hard cuts), where, clusterings
and seconds for the FastJet grid, the joint gradient optimisation from two starts,
and the sequential analysis (R for the Higgs-mass window loss, then the best cuts);
then the gradient's noise per estimator at the first start and a finite-difference
cross-check. With ``--validation DIR`` (``hbb.npz``, ``zbb.npz``, ``qcdbb.npz`` made by
``stochgrad-jets generate --process ...`` with other seeds) every method's chosen
point is also scored on those independent events: the grid's maximum over 134 640
points is biased upward by the training sample's fluctuations, the held-out score
is not. Nothing is written unless asked.

At scale (docs/analysis.md, "At scale"): ``--samples DIR`` trains on the events in
DIR instead of the embedded ones, ``--batch N --replicas 2 --refine`` runs the budget
mode (random event batches, then one FastJet clustering at R* and the cuts app's
optimiser), ``--seeds N`` repeats each start with N seeds. Each refined point is also
scored with its cuts rounded to the grid's lattice (2.5 GeV edges, 5 GeV pT steps).

Peers side by side (``--peers``; docs/analysis.md, "Peers"): the FastJet grid, a
FastJet scan over 15 radii with sigmoid-relaxed cuts optimised by Adam at each radius,
Optuna's TPE on hard FastJet evaluations (``--tpe-trials``, R continuous; skipped
without ``optuna``), and the app's gradient optimisation (its CLI defaults, or the
options given), each from the two starts and ``--seeds`` seeds. The training sample
(embedded, or ``--samples``) is the only one any method tunes on; every chosen point
is then scored on the training events and on the held-out events of ``--validation``
with paired bootstrap errors (the same resampled events for every point), with its
FastJet/Qanti-kT passes over the events and its CPU time (``time.process_time``).

Histories reused across steps (``--reuse [ESS_MIN]``; docs/analysis.md, "Histories reused"):
the CPU of one gradient step in FastJet passes over the same events — fresh, storing
the histories, and reused at R moved by 0–30 % with the effective sample size there —
then the default descent against the same descent with reused histories.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import stochgrad as sg
from apps.analysis import (background_floor, default_estimator, grid_search, joint_program, load_samples,
                           optimize_analysis, sequential, to_units)
from apps.cliutil import atomic_write_text, strict_json

STARTS = ([0.4, 90.0, 150.0, 30.0], [1.0, 100.0, 140.0, 60.0])


def estimator_noise(sample, b_min, theta_phys, samples=4, seed=3):
    """Per-replica sd of each gradient component: per-event baselines vs the core's replica-level score."""
    prog = joint_program(sample, 10.0, samples, (4.0, 4.0), 0.0, b_min)
    th = to_units(theta_phys)
    rows = []
    for name, est in (("per-event baselines + SD of the cuts", default_estimator()),
                      ("ScoreFunction (replica-level loo)", sg.ScoreFunction())):
        e = sg.value_and_grad(prog, est, n=samples, seed=seed)(th)
        rows.append({"estimator": name, "grad": np.asarray(e.grad).tolist(),
                     "sd": (np.asarray(e.grad_stderr) * np.sqrt(samples)).tolist()})
    return rows


def fd_check(sample, b_min, theta_phys, samples=16, seed=5):
    """The default estimator vs central finite differences (CRN, step 0.5 grid units) at one θ."""
    prog = joint_program(sample, 10.0, samples, (4.0, 4.0), 0.0, b_min)
    th = to_units(theta_phys)
    out = {}
    for name, est in (("gradient", default_estimator()), ("fd", sg.FiniteDifference(0.5))):
        e = sg.value_and_grad(prog, est, n=samples, seed=seed)(th)
        out[name] = {"grad": np.asarray(e.grad).tolist(), "stderr": np.asarray(e.grad_stderr).tolist()}
    return out


def r_noise(sample, b_min, batch=(54, 2, 80), steps=30, seed=5,
            points=((0.45, 82.0, 134.0, 53.0), (0.85, 92.0, 159.0, 56.0))):
    """∂Z/∂R noise per step at equal cost: score (4 replicas) vs central difference (2 replicas × R ± 0.05).

    Each of ``steps`` draws a batch (:func:`~apps.analysis.optimize.batch_sampler`), sharpness
    1 GeV, Z linearised around the running yields as in the budget mode. Returns rows of
    ``point, estimator, mean, se, sd``.
    """
    from apps.analysis.optimize import batch_sampler, running_center

    draw = batch_sampler(sample, list(batch))
    rows = []
    for phys in points:
        th = to_units(phys)
        for name, replicas, r_step in (("score, 4 replicas", 4, None), ("central difference, 2 replicas", 2, 0.5)):
            g, center = [], running_center(b_min)
            for t in range(steps):
                prog = joint_program(draw(seed, t), 10.0, replicas, (1.0, 1.0), 0.0, b_min, linearize=center,
                                     r_step=r_step)
                g.append(np.asarray(sg.value_and_grad(prog, default_estimator(), n=replicas,
                                                      seed=1000 + t)(th).grad)[0])
            g = np.array(g)
            rows.append({"point": list(phys), "estimator": name, "mean": float(g.mean()),
                         "se": float(g.std(ddof=1) / np.sqrt(steps)), "sd": float(g.std(ddof=1))})
    return rows


def reuse_cost(sample, b_min, theta=(0.4, 90.0, 150.0, 30.0), samples=4, seed=3, moves=(0.0, 0.01, 0.03, 0.1, 0.3)):
    """The cost of one gradient step, fresh vs reused histories, in FastJet passes over the same events.

    Rows: one FastJet anti-kT pass (``fastjet_observables``); a fresh step (every event
    clustered ``samples`` times, the linearised program's gradient); storing the histories
    (clustering + one replay keeping the candidates); and a reused step at R moved by each
    relative amount in ``moves`` (ratios and scores at the new R, then the same gradient),
    with the mean ESS fraction there. CPU seconds (``time.process_time``), one process.
    """
    from apps.analysis.grid import fastjet_observables
    from apps.analysis.optimize import running_center
    from apps.analysis.reuse import ReusedHistories

    def cpu(fn):
        t0 = time.process_time()
        out = fn()
        return time.process_time() - t0, out

    fastjet_observables(sample.events.subset(slice(0, 10)), theta[0])  # warm-up (imports, JIT caches)
    t_fj, _ = cpu(lambda: fastjet_observables(sample.events, theta[0]))
    rows = [{"what": "FastJet anti-kT, one pass", "cpu": t_fj, "passes": 1.0}]
    th = to_units(theta)
    est = default_estimator()
    prog = joint_program(sample, 10.0, samples, (2.0, 2.0), 0.0, b_min, linearize=running_center(b_min))
    sg.value_and_grad(prog, est, n=samples, seed=seed)(th)  # warm-up
    t_fresh, _ = cpu(lambda: sg.value_and_grad(prog, est, n=samples, seed=seed + 1)(th))
    rows.append({"what": f"fresh step: {samples} Qanti-kT histories per event + gradient", "cpu": t_fresh,
                 "passes": t_fresh / t_fj})
    reused = ReusedHistories(sample.events, 10.0, samples, seed=seed, ess_min=1e-9, r_factor=1.5)
    t_store, _ = cpu(lambda: reused(theta[0]))
    sec = reused.seconds[-1]
    rows.append({"what": f"store: {samples} histories per event (cluster {sec['cluster']:.2f} s) + replay "
                 f"({sec['replay']:.2f} s)", "cpu": t_store, "passes": t_store / t_fj})
    progr = joint_program(sample, 10.0, samples, (2.0, 2.0), 0.0, b_min, linearize=running_center(b_min),
                          histories=reused)
    for m in moves:
        thm = np.array(th)
        thm[0] *= 1.0 + m
        t_re, _ = cpu(lambda: sg.value_and_grad(progr, est, n=samples, seed=seed + 2)(thm))
        rows.append({"what": f"reused step at R × {1 + m:g} (ESS fraction {reused.ess[-1]:.2f})", "cpu": t_re,
                     "passes": t_re / t_fj, "ess": reused.ess[-1]})
    return rows


def reuse_descents(sample, b_min, start, seed, ess_min=0.5, steps=40):
    """The default descent (fresh histories every step) vs the same with reused histories (linearised Z)."""
    rows = []
    for reuse in (None, ess_min):
        t0 = time.process_time()
        r = optimize_analysis(sample, start, seed=seed, b_min=b_min, reuse=reuse, steps=steps)
        rows.append({"reuse": reuse, "cpu": time.process_time() - t0, "clusterings": r.clusterings,
                     "optimum": r.optimum, "Z": r.hard["Z"],
                     "refreshes": r.settings["reuse_refreshes"], "ess": r.settings["reuse_ess"]})
    return rows


def _counts(text):
    vals = [float(x) for x in text.split(",")]
    return vals[0] if len(vals) == 1 else vals


def _snapped(sample, h, b_min):
    """The hard Z at ``h``'s R with its cuts rounded to the grid's lattice (2.5 GeV edges, 5 GeV in pT)."""
    from apps.analysis import fastjet_observables, hard_significance

    lo, hi = 2.5 * round(h["lo"] / 2.5), 2.5 * round(h["hi"] / 2.5)
    pt = 5.0 * round(h["pt"] / 5.0)
    mjj, pt1 = fastjet_observables(sample.events, h["R"])
    return {**h, "lo": lo, "hi": hi, "pt": pt, "Z": hard_significance(sample, mjj, pt1, lo, hi, pt, 0.0, b_min)[0]}


def _our_kwargs(args):
    kw = {}
    for name, key in (("scale", "scale"), ("hold_r", "hold_r"), ("r_step", "r_step"), ("window", "window"),
                      ("density", "density")):
        v = getattr(args, name)
        if v is not None:
            kw[key] = tuple(v) if isinstance(v, list) else v
    return kw


def _peer_task(job):
    """One method from one start and seed (a process-pool task: loads the training sample itself)."""
    from apps.analysis.peers import relaxed_scan, tpe_search

    (kind, k, seed), args, b_min = job
    sample = load_samples(_folder(args.samples) if args.samples else None)
    start = STARTS[k - 1]
    if kind == "relaxed":
        r = relaxed_scan(sample, b_min, start[1:])
        return {"method": "FastJet scan + relaxed cuts (Adam)", "start": k, "seed": seed, "point": r["best"],
                "passes": r["passes"], "cpu": r["cpu"]}
    if kind == "tpe":
        r = tpe_search(sample, b_min, start, args.tpe_trials, seed)
        return {"method": f"Optuna TPE, {args.tpe_trials} trials", "start": k, "seed": seed, "point": r["best"],
                "passes": r["passes"], "cpu": r["cpu"]}
    t1 = time.process_time()
    res = optimize_analysis(sample, start, steps=args.steps, samples=args.replicas, seed=seed, b_min=b_min,
                            batch=args.batch, refine=args.refine, **_our_kwargs(args))
    return {"method": "ours (gradient, Qanti-kT)", "start": k, "seed": seed, "point": res.hard,
            "passes": res.clusterings / len(sample), "cpu": time.process_time() - t1, "history": res.history,
            "settings": res.settings, "descent": res.descent}


def _folder(d):
    return {p: os.path.join(d, f"{p}.npz") for p in ("hbb", "zbb", "qcdbb")}


def peers(args, sample, b_min, val):
    """The peers table (``--peers``): every method's point, training and held-out Z with paired bootstrap sd."""
    from apps.analysis.peers import ObservableCache, paired_bootstrap

    rows = []
    t0 = time.process_time()
    g = grid_search(sample, b_min=b_min)
    rows.append({"method": "FastJet grid (15 R x cut lattice)", "start": "-", "seed": "-", "point": g.best,
                 "passes": len(g.grid["R"]), "cpu": time.process_time() - t0})
    try:
        import optuna  # noqa: F401
        have_optuna = True
    except ImportError:
        have_optuna = False
        print("optuna is not installed (pip install stochgrad[bench]): no TPE rows")
    tasks = [("relaxed", k + 1, "-") for k in range(len(STARTS))]
    for j in range(args.seeds):
        for k in range(len(STARTS)):
            if have_optuna and args.tpe_trials > 0:
                tasks.append(("tpe", k + 1, args.seed + 2 * j + k))
            tasks.append(("ours", k + 1, args.seed + 2 * j + k))
    jobs = [(t, args, b_min) for t in tasks]
    if args.jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as ex:
            rows += list(ex.map(_peer_task, jobs))
    else:
        rows += [_peer_task(j) for j in jobs]
    points = [r["point"] for r in rows]
    Zt, Zbt = paired_bootstrap(sample, points, b_min, args.boot, seed=args.seed)
    for r, z, sd in zip(rows, Zt, Zbt.std(axis=0, ddof=1)):
        r["train"] = {"Z": float(z), "sd": float(sd)}
    ref = 0  # differences against the grid's point, paired
    if val is not None:
        vb = background_floor(val)
        Zv, Zbv = paired_bootstrap(val, points, vb, args.boot, seed=args.seed + 1, observables=ObservableCache(val))
        for i, r in enumerate(rows):
            d = Zbv[:, i] - Zbv[:, ref]
            r["heldout"] = {"Z": float(Zv[i]), "sd": float(Zbv[:, i].std(ddof=1)),
                            "diff_vs_grid": float(Zv[i] - Zv[ref]), "diff_sd": float(d.std(ddof=1))}
    best = g.best["Z"]
    print(f"training: {len(sample)} events ({args.samples or 'embedded'}); held out: "
          f"{'none' if val is None else f'{len(val)} events ({args.validation})'}; bootstrap {args.boot} resamples "
          "(paired: every point on the same resampled events)")
    print(f"{'method':<36} {'st':>2} {'seed':>4}  {'R':>5} {'window [GeV]':>13} {'pT1>':>5}  {'Z train':>13} "
          f"{'/grid':>5}  {'Z held out':>13} {'- grid pt':>13}  {'passes':>6} {'CPU s':>7}")
    for r in rows:
        p, t = r["point"], r["train"]
        h = r.get("heldout")
        held = "" if h is None else f"{h['Z']:6.2f} ± {h['sd']:4.2f} {h['diff_vs_grid']:+6.2f} ± {h['diff_sd']:4.2f}"
        print(f"{r['method']:<36} {r['start']!s:>2} {r['seed']!s:>4}  {p['R']:5.3f} {p['lo']:6.1f}-{p['hi']:<6.1f} "
              f"{p['pt']:5.1f}  {t['Z']:6.2f} ± {t['sd']:4.2f} {t['Z'] / best:5.3f}  {held:>28}  "
              f"{r['passes']:6.0f} {r['cpu']:7.1f}")
        if r.get("descent"):
            d = r["descent"]
            print(f"{'  (its descent, before the cut refinement)':<44}  {d['R']:5.3f} {d['lo']:6.1f}-{d['hi']:<6.1f} "
                  f"{d['pt']:5.1f}  {d['Z']:6.2f}")
    ours = [r for r in rows if r["method"].startswith("ours")]
    relaxed = [r for r in rows if "relaxed" in r["method"]]
    print(f"CPU ours / scan + relaxed: {np.median([r['cpu'] for r in ours]) / np.median([r['cpu'] for r in relaxed]):.1f}"
          " (medians per run)")
    if args.json:
        atomic_write_text(args.json, strict_json({"rows": rows, "grid_best": g.best, "events": len(sample),
                                                  "heldout_events": None if val is None else len(val)}) + "\n")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.analysis", description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write every figure as JSON here")
    ap.add_argument("--plots", help="write the mjj plots into this folder")
    ap.add_argument("--steps", type=int, default=40, help="descent steps (default 40); with --r-noise, steps per "
                    "point, at most 30")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=1, help="runs per start (seeds seed+2j+k for start k)")
    ap.add_argument("--samples", help="folder with the training hbb.npz, zbb.npz, qcdbb.npz (default: embedded)")
    ap.add_argument("--batch", type=_counts, help="events per step, N or one count per process hbb,zbb,qcdbb "
                    "(budget mode; default: all)")
    ap.add_argument("--r-step", type=float, help="finite-difference R gradient with this step in grid units "
                    "(default: the score function)")
    ap.add_argument("--hold-r", type=int, help="steps with R held at its start (default: the app's)")
    ap.add_argument("--scale", type=_counts, help="cut sharpness schedule first,last in GeV (default: the app's)")
    ap.add_argument("--replicas", type=int, default=4, help="Qanti-kT replicas per event and step (default 4)")
    ap.add_argument("--refine", action="store_true", help="refine the cuts at R* (one FastJet clustering, counted)")
    ap.add_argument("--validation", help="folder with independent hbb.npz, zbb.npz, qcdbb.npz")
    ap.add_argument("--peers", action="store_true",
                    help="only the peers table: grid, scan + relaxed cuts, Optuna TPE and ours, side by side")
    ap.add_argument("--tpe-trials", type=int, default=160, help="Optuna TPE trials per run (default 160)")
    ap.add_argument("--window", choices=("edges", "centre"), help="our window coordinates (default: the app's)")
    ap.add_argument("--density", type=_counts, help="our density-scaled cut widths k_first,k_last (default: the app's)")
    ap.add_argument("--jobs", type=int, default=1, help="peers: runs in this many worker processes (default 1); "
                    "each run's CPU time is its own process's")
    ap.add_argument("--boot", type=int, default=300, help="bootstrap resamples of the peers table (default 300)")
    ap.add_argument("--reuse", type=float, nargs="?", const=0.5,
                    help="only print the cost of a step with reused histories (ESS threshold, default 0.5) in "
                         "FastJet passes, and the default descent linearised, fresh vs reused")
    ap.add_argument("--r-noise", action="store_true",
                    help="only print the per-step ∂Z/∂R noise of the score vs the central difference at equal cost")
    args = ap.parse_args(argv)

    def folder(d):
        return {p: os.path.join(d, f"{p}.npz") for p in ("hbb", "zbb", "qcdbb")}

    sample = load_samples(folder(args.samples) if args.samples else None)
    b_min = background_floor(sample)
    if args.r_noise:
        batch = args.batch if isinstance(args.batch, list) else (54, 2, 80)
        print(f"dZ/dR per grid unit (R/0.1), {len(sample)} events, batches {list(batch)}, 544 clusterings a step:")
        for r in r_noise(sample, b_min, batch, steps=min(args.steps, 30)):
            print(f"  {str(r['point']):<28} {r['estimator']:<32} mean {r['mean']:+.3f} ± {r['se']:.3f}, "
                  f"per-step sd {r['sd']:.3f}")
        return 0
    if args.reuse is not None:
        print(f"one gradient step on {len(sample)} events, CPU (one process), in FastJet passes over the same events:")
        for r in reuse_cost(sample, b_min, samples=args.replicas):
            print(f"  {r['what']:<72} {r['cpu']:7.2f} s  {r['passes']:7.2f} passes")
        print(f"the descent ({args.steps} steps x 4 replicas, start 1, seed {args.seed}); reused: significance "
              f"linearised around the running yields:")
        for r in reuse_descents(sample, b_min, STARTS[0], args.seed, args.reuse, args.steps):
            R, lo, hi, pt = r["optimum"]
            extra = "" if r["reuse"] is None else (f", {sum(r['refreshes'])} events re-clustered, "
                                                   f"mean ESS fraction {np.mean(r['ess']):.2f}")
            label = "fresh every step (default)" if r["reuse"] is None else \
                f"reused (ESS < {r['reuse']:g} K: re-cluster)"
            print(f"  {label:<36}"
                  f" CPU {r['cpu']:6.1f} s, {r['clusterings']} Qanti-kT histories, R = {R:.3f}, {lo:.1f}-{hi:.1f} GeV, "
                  f"pT1 > {pt:.1f}, Z = {r['Z']:.3f}{extra}")
        return 0
    if args.peers:
        return peers(args, sample, b_min, load_samples(folder(args.validation)) if args.validation else None)
    out = {"events": len(sample), "b_min": b_min, "luminosity_fb": sample.luminosity_fb,
           "samples": args.samples or "embedded", "batch": args.batch, "replicas": args.replicas,
           "refine": args.refine, "steps": args.steps, "scale": args.scale,
           "hold_r": args.hold_r, "r_step": args.r_step}
    cache = {}
    g = grid_search(sample, b_min=b_min, observables=cache)
    out["grid"] = {"best": g.best, "best_per_R": g.best_per_R, "n_points": g.n_points,
                   "clusterings": g.clusterings, "clusterings_naive": g.clusterings_naive, "seconds": g.seconds}
    runs = []
    for j in range(args.seeds):
        for k, start in enumerate(STARTS):
            seed = args.seed + 2 * j + k
            kw = _our_kwargs(args)
            r = optimize_analysis(sample, start, steps=args.steps, samples=args.replicas, seed=seed, b_min=b_min,
                                  batch=args.batch, refine=args.refine, **kw)
            run = {"start": start, "start_index": k + 1, "seed": seed, "hard_start": r.hard_start, "hard": r.hard,
                   "descent": r.descent, "clusterings": r.clusterings, "seconds": r.seconds, "history": r.history,
                   "settings": r.settings}
            if args.refine:
                run["lattice"] = _snapped(sample, r.hard, b_min)
            runs.append(run)
            if args.plots and j == 0:
                from apps.analysis.plots import plot_mjj

                os.makedirs(args.plots, exist_ok=True)
                plot_mjj(sample, [r.hard_start, r.hard], os.path.join(args.plots, f"analysis_mjj_start{k + 1}.png"),
                         titles=[f"start {k + 1}", "optimum (gradient)"])
    out["gradient"] = runs
    t0 = time.perf_counter()
    seq = sequential(sample, seed=args.seed, b_min=b_min, observables=cache)
    seq["seconds_total"] = time.perf_counter() - t0
    out["sequential"] = seq
    if not args.samples:  # the estimator checks use the embedded sample's layout
        out["noise"] = estimator_noise(sample, b_min, STARTS[0])
        sub = sample.subset(np.r_[0:100, 400:500, 800:1200])
        out["fd_check"] = fd_check(sub, b_min, STARTS[0])

    best = g.best["Z"]

    def row(name, h, clus, sec):
        print(f"{name:<34} {h['Z']:8.3f} {h['Z'] / best:7.3f}  R={h['R']:.3f} window=({h['lo']:.1f}, {h['hi']:.1f}) "
              f"pT1>{h['pt']:.1f}  {clus:>10,d} {sec:8.1f}")

    print(f"{len(sample)} training events ({out['samples']}); gradient: {args.steps} steps x {args.replicas} replicas x "
          f"{'all events' if args.batch is None else f'{args.batch} events'}{' + cut refinement' if args.refine else ''}")
    print(f"{'method':<34} {'Z':>8} {'Z/grid':>7}  {'where':<48} {'clusterings':>10} {'s':>8}")
    row("FastJet grid (cached per R)", g.best, g.clusterings, g.seconds)
    print(f"{'  same grid, re-run per point':<34} {'':>8} {'':>7}  {'':<48} {g.clusterings_naive:>10,d}")
    for r in runs:
        row(f"gradient, start {r['start_index']} (seed {r['seed']})", r["hard"], r["clusterings"], r["seconds"])
        if r["descent"] is not None:
            row("  (descent's end, before refining)", r["descent"], 0, 0.0)
        if "lattice" in r:
            row("  (cuts rounded to the grid lattice)", r["lattice"], 0, 0.0)
        row("  (its start)", r["hard_start"], 0, 0.0)
    row(f"sequential (R={seq['R']:.3f} from window loss)", seq["best"], seq["clusterings"], seq["seconds"])
    ratios = np.array([r["hard"]["Z"] / best for r in runs])
    print(f"gradient runs: Z/grid min {ratios.min():.3f} median {np.median(ratios):.3f} max {ratios.max():.3f}; "
          f"within 2 %: {int(np.sum(ratios >= 0.98))} of {len(ratios)}; grid/gradient clusterings "
          f"{g.clusterings / runs[0]['clusterings']:.2f}")
    print("grid best per R: " + " ".join(f"{p['R']:.1f}:{p['Z']:.2f}" for p in g.best_per_R))
    if "noise" in out:
        print("\ngradient noise at start 1 (per replica sd of dE[Z]/dθ, grid units R/0.1, lo/2.5, hi/2.5, pT/5):")
        for n in out["noise"]:
            print(f"  {n['estimator']:<40} sd = {np.array2string(np.array(n['sd']), precision=4)}")
        fd = out["fd_check"]
        print("finite-difference cross-check (subset of 600 events, 16 replicas):")
        for k in ("gradient", "fd"):
            print(f"  {k:<9} {np.array2string(np.array(fd[k]['grad']), precision=4)} ± "
                  f"{np.array2string(np.array(fd[k]['stderr']), precision=4)}")
    if args.validation:
        from apps.analysis import evaluate_hard

        val = load_samples(folder(args.validation))
        vb = background_floor(val)
        points = [("grid best", g.best)]
        for r in runs:
            points.append((f"gradient, start {r['start_index']} (seed {r['seed']})", r["hard"]))
            if "lattice" in r:
                points.append(("  cuts on the lattice", r["lattice"]))
        points.append(("sequential", seq["best"]))
        out["validation"] = []
        print(f"\nheld-out samples ({len(val)} events, floor {vb:.3g}): hard Z at each method's point")
        for name, pt in points:
            h = evaluate_hard(val, (pt["R"], pt["lo"], pt["hi"], pt["pt"]), 0.0, vb)
            out["validation"].append({"method": name, **h})
            print(f"  {name:<34} Z = {h['Z']:.3f} (training {pt['Z']:.3f})")
    if args.json:
        atomic_write_text(args.json, strict_json(out) + "\n")  # one JSON object (it was once a JSON string)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
