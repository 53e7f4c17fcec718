"""The jet-radius results of docs/jets.md, regenerated in one command: R* ± uncertainty from two starts, the
per-event R map on held-out events with a background check, and the robust widths.

Run: ``python -m benchmarks.jets_radius [--events hbb.npz --background zbb.npz] [--out out/jets_radius]``.

Without ``--events``/``--background`` the samples of the documented run are generated
first (Pythia 8: 2000 gg→H→bb̄ events with seed 7301 and 1000 qq̄→Z/γ*→bb̄ events with
seed 7302, about a minute; seeds no earlier result used). Parts:

* ``global``: on the first ``--n-global`` (1000) events, ``--seeds`` independent runs
  from R₀ = 0.4 and from R₀ = 1.5 (:func:`apps.jets.study.optimize.optimize_seeds`); per
  start R* = mean of the runs' tail averages ± sd/√n (Monte-Carlo spread over seeds),
  and the difference between the starts;
* ``scan`` (not in the default parts): the cross-check of R* by Monte-Carlo scans of
  the expected loss with a parabola through each (:func:`part_scan`);
* ``widths``: hard anti-kT on the same events at R = 0.4 and at each start's R*:
  median, IQR, fraction within ±15 GeV of 125 GeV, ± event-to-event bootstrap sd;
* ``map``: all events split in halves; a one-R-per-quartile-of-leading-jet-pT map and a
  global R fitted on the training half, scored on the test half, and the background's
  mjj under both (:func:`apps.jets.cli.radius_map.run_radius_map`).

Markdown tables on stdout; JSON and figures in ``--out`` (``--img-dir`` also copies the
figures there, e.g. ``docs/img``). Timings are wall times on the machine it runs on.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

import numpy as np


def _events(path, n, seed, process, out):
    from apps.jets import load_events

    if path:
        return load_events(path), path
    path = os.path.join(out, f"{process}_{seed}.npz")
    if not os.path.exists(path):
        from apps.jets.io.files import save_events
        from apps.jets.io.generate import generate_events

        save_events(generate_events(n, seed=seed, progress=False, process=process), path)
    return load_events(path), path


def part_global(ev, args, out):
    from apps.jets.study import optimize as opt
    from apps.jets.study.optimize import run_record

    import stochgrad as sg

    warm = args.steps - max(1, int(round(args.tail * args.steps))) - int(round(0.125 * args.steps))
    lr = sg.optim.exponential_decay(args.lr, args.lr_tail, warm)
    res = {}
    for r0 in (0.4, 1.5):
        t0 = time.perf_counter()
        s = opt.optimize_seeds(ev, r0=r0, n_seeds=args.seeds, seed=args.seed, steps=args.steps, lr=lr,
                               lr_tail=args.lr_tail, tail=args.tail, samples=args.samples)
        res[r0] = {"R": s["R"], "R_stderr": s["R_stderr"], "R_sd": s["R_sd"], "R_runs": s["R_runs"],
                   "seeds": s["seeds"], "tail_steps": s["results"][0].n_tail, "seconds": time.perf_counter() - t0,
                   "runs": [run_record(r) for r in s["results"]]}
        print(f"  start {r0}: R* = {s['R']:.4f} ± {s['R_stderr']:.4f}  ({res[r0]['seconds']:.0f} s)", flush=True)
    a, b = res[0.4], res[1.5]
    diff, dse = a["R"] - b["R"], float(np.hypot(a["R_stderr"], b["R_stderr"]))
    print(f"\n{len(ev.counts)} events, {args.seeds} independent runs per start, {args.steps} steps × {args.samples} "
          f"histories per event: Adam, lr {args.lr} → {args.lr_tail} over {warm} steps, then {args.steps - warm} "
          f"steps at {args.lr_tail} without momentum, the last {a['tail_steps']} averaged\n")
    print("| start | R* (mean of the runs' tail averages) ± sd/√n | sd over runs | runs' R* | wall time |")
    print("|---|---:|---:|---|---:|")
    for r0, s in res.items():
        print(f"| R₀ = {r0} | {s['R']:.4f} ± {s['R_stderr']:.4f} | {s['R_sd']:.4f} | "
              f"{', '.join(f'{r:.3f}' for r in s['R_runs'])} | {s['seconds']:.0f} s |")
    print(f"\ndifference of the starts: {diff:+.4f} ± {dse:.4f} (|Δ| < 0.01: {abs(diff) < 0.01}; "
          f"within 1 combined sd: {abs(diff) < dse}; within 2: {abs(diff) < 2 * dse})")
    both = np.r_[a["R_runs"], b["R_runs"]]
    pooled = {"R": float(both.mean()), "R_sd": float(both.std(ddof=1)),
              "R_stderr": float(both.std(ddof=1) / np.sqrt(len(both)))}
    print(f"all {len(both)} runs pooled: R* = {pooled['R']:.4f} ± {pooled['R_stderr']:.4f} (sd {pooled['R_sd']:.4f})")
    from apps.jets.plots import radius as radius_plots

    radius_plots.runs_figure([(f"R0 = {r0}", s) for r0, s in res.items()], os.path.join(out, "jets_radius_runs.png"))
    return {"starts": {str(k): v for k, v in res.items()}, "difference": diff, "difference_se": dse,
            "pooled": pooled}


def part_scan(ev, args, out, radii=tuple(np.round(np.arange(0.6, 1.0001, 0.05), 3)), n_scans=4, samples=8):
    """Independent cross-check of R*: Monte-Carlo scans of the expected loss, a parabola through each, its vertex.

    Each scan uses one seed for every R (common random numbers: a smooth curve);
    ``n_scans`` scans with independent seeds give the vertex's Monte-Carlo spread.
    """
    from apps.jets.study import optimize as opt

    t0 = time.perf_counter()
    vertices, rows = [], []
    for j in range(n_scans):
        r = opt.scan(ev, radii, samples=samples, seed=opt.run_seed(args.seed + 1000, 1.0, j))
        R = np.array([x["R"] for x in r])
        L = np.array([x["loss"] for x in r])
        a, b, c = np.polyfit(R, L, 2)
        vertices.append(float(-b / (2 * a)) if a > 0 else float("nan"))
        rows.append(r)
    v = np.array(vertices)
    # model error of the parabola: a narrower range, and a cubic through the mean curve
    narrow = []
    for r in rows:
        R = np.array([x["R"] for x in r])
        m = (R > 0.7 - 1e-9) & (R < 0.9 + 1e-9)
        a, b, _ = np.polyfit(R[m], np.array([x["loss"] for x in r])[m], 2)
        narrow.append(float(-b / (2 * a)) if a > 0 else float("nan"))
    mean_curve = np.mean([[x["loss"] for x in r] for r in rows], axis=0)
    fine = np.linspace(radii[0], radii[-1], 4001)
    cubic = float(fine[np.argmin(np.polyval(np.polyfit(np.array(radii), mean_curve, 3), fine))])
    res = {"narrow_vertices": narrow, "cubic_min": cubic, "radii": list(radii), "samples": samples, "vertices": vertices, "R": float(np.nanmean(v)),
           "R_sd": float(np.nanstd(v, ddof=1)), "R_stderr": float(np.nanstd(v, ddof=1) / np.sqrt(np.isfinite(v).sum())),
           "rows": rows, "seconds": time.perf_counter() - t0}
    print(f"\ncross-check, {n_scans} Monte-Carlo scans (R = {radii[0]}..{radii[-1]} by 0.05, {samples} histories per "
          f"event, one seed per scan), a parabola through each: vertex R* = {res['R']:.4f} ± {res['R_stderr']:.4f} "
          f"(sd {res['R_sd']:.4f}; vertices {', '.join(f'{x:.3f}' for x in vertices)}; {res['seconds']:.0f} s); "
          f"parabola over 0.70..0.90 only: {np.nanmean(narrow):.4f}; minimum of a cubic through the mean curve: "
          f"{cubic:.4f} (the spread of these is the model error)")
    return res


def part_widths(ev, radii, args, out):
    from apps.jets.plots import radius as radius_plots
    from apps.jets.study.radius_map import hard_mjj
    from apps.jets.study.robust import mass_summary

    rows, hists = [], []
    for label, R in radii:
        m = hard_mjj(ev, R)
        s = mass_summary(m, 15.0, n_resamples=args.bootstrap, seed=0)
        rows.append((label, s))
        hists.append((label, m, s))
    print(f"\nhard anti-kT, {len(ev.counts)} events; ± = event-to-event bootstrap sd ({args.bootstrap} resamples)\n")
    print("| clustering | median mjj (GeV) | IQR (GeV) | fraction within ±15 GeV of 125 | two-jet fraction |")
    print("|---|---:|---:|---:|---:|")
    for label, w in rows:
        print(f"| {label} | {w['median']:.1f} ± {w['median_sd']:.1f} | {w['iqr']:.1f} ± {w['iqr_sd']:.1f} | "
              f"{w['frac_window']:.3f} ± {w['frac_window_sd']:.3f} | {w['frac_two_jets']:.3f} ± {w['frac_two_jets_sd']:.3f} |")
    radius_plots.mjj_summary_figure(hists, os.path.join(out, "jets_radius_widths.png"),
                                    title="anti-kT, two leading jets, pT > 20 GeV")
    return [dict(s, label=label) for label, s in rows]


def part_map(ev, bkg, args, out):
    from apps.jets.plots import radius as radius_plots
    from apps.jets.cli.radius_map import print_report, run_radius_map

    fits = []
    for j in range(args.map_seeds):  # independent fits (own streams): the Monte-Carlo spread of the result
        t0 = time.perf_counter()
        res, mjj = run_radius_map(ev, bkg, "quartiles", split_seed=args.seed, steps=args.map_steps, lr=args.lr,
                                  lr_tail=args.lr_tail, tail=args.tail, samples=args.samples, seed=args.seed + j,
                                  n_resamples=args.bootstrap)
        res["seconds"] = time.perf_counter() - t0
        fits.append(res)
        if j == 0:
            first, first_mjj = res, mjj
            print()
            print_report(res)
            print(f"({res['seconds']:.0f} s; fits {res['fit_seconds']:.0f} s)", flush=True)
    res, mjj = first, first_mjj
    if len(fits) > 1:
        print(f"\n{len(fits)} independent fits (fit seeds {args.seed}..{args.seed + len(fits) - 1}; same split): "
              "test-half fraction within ±15 GeV")
        print("| fit seed | R per pT quartile | global R | map | global | map − global |")
        print("|---:|---|---:|---:|---:|---:|")
        for j, f in enumerate(fits):
            t = f["test"]
            print(f"| {args.seed + j} | {', '.join(f'{r:.3f}' for r in f['map']['R_per_bin'])} | {f['global']['R']:.3f} | "
                  f"{t['map']['frac_window']:.3f} | {t['global']['frac_window']:.3f} | "
                  f"{t['map_minus_global']['d_frac_window']:+.3f} |")
        d = np.array([f["test"]["map_minus_global"]["d_frac_window"] for f in fits])
        fm = np.array([f["test"]["map"]["frac_window"] for f in fits])
        print(f"map fraction {fm.mean():.3f}, Monte-Carlo sd over fits {fm.std(ddof=1):.3f}; map − global "
              f"{d.mean():+.3f}, sd over fits {d.std(ddof=1):.3f}")
    t, g = res["test"], res["global"]["R"]
    radius_plots.mjj_summary_figure(
        [("R(pT_lead) map, fitted on the training half", mjj["test"]["map"], t["map"]),
         (f"global R = {g:.3f}, fitted on the training half", mjj["test"]["global"], t["global"])],
        os.path.join(out, "jets_radius_map_test.png"), title=f"test half ({res['split']['n_test']} events), hard anti-kT")
    if bkg is not None:
        b = res["background"]
        series = [("R(pT_lead) map (gradient fit)", mjj["background"]["map"], b["map"]),
                  (f"global R = {g:.3f}", mjj["background"]["global"], b["global"])]
        if "hard_scan_map" in b:
            series.append(("quartile map by hard scan (reference)", mjj["background"]["hard_scan_map"],
                           b["hard_scan_map"]))
        radius_plots.mjj_summary_figure(series, os.path.join(out, "jets_radius_map_zbb.png"),
                                        title="Z→bb̄ background, hard anti-kT", label="Pythia 8 qq̄ → Z/γ* → bb̄, √s = 13 TeV")
    return {"fits": fits}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", default=None, help="H→bb̄ events (default: generate 2000 with seed 7301)")
    ap.add_argument("--background", default=None, help="Z→bb̄ events (default: generate 1000 with seed 7302)")
    ap.add_argument("--out", default="out/jets_radius")
    ap.add_argument("--img-dir", default=None, help="also copy the figures here (e.g. docs/img)")
    ap.add_argument("--parts", default="global,widths,map")
    ap.add_argument("--n-global", type=int, default=1000, help="events of the global-R part (the first N)")
    ap.add_argument("--seeds", type=int, default=12, help="independent runs per start")
    ap.add_argument("--steps", type=int, default=48)
    ap.add_argument("--map-steps", type=int, default=48)
    ap.add_argument("--map-seeds", type=int, default=3, help="independent fits of the map (Monte-Carlo spread)")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--lr-tail", type=float, default=0.04)
    ap.add_argument("--tail", type=float, default=0.5)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    os.makedirs(args.out, exist_ok=True)
    ev, ev_path = _events(args.events, 2000, 7301, "hbb", args.out)
    bkg, bkg_path = _events(args.background, 1000, 7302, "zbb", args.out) if "map" in parts else (None, None)
    print(f"signal {ev_path} ({len(ev.counts)} events), background {bkg_path}")
    glob_ev = ev.subset(slice(0, args.n_global))
    result = {"settings": vars(args), "events": ev_path, "background": bkg_path}
    from apps.cliutil import heartbeat  # a line on stderr at least every 10 s when it is not a terminal

    if "global" in parts:
        with heartbeat("jets_radius global"):
            result["global"] = part_global(glob_ev, args, args.out)
    if "scan" in parts:
        with heartbeat("jets_radius scan"):
            result["scan"] = part_scan(glob_ev, args, args.out)
    if "widths" in parts:
        radii = [("R = 0.4", 0.4)]
        if "global" in result:
            radii += [(f"R* = {s['R']:.3f} (start {k})", s["R"]) for k, s in result["global"]["starts"].items()]
        with heartbeat("jets_radius widths"):
            result["widths"] = part_widths(glob_ev, radii, args, args.out)
    if "map" in parts:
        with heartbeat("jets_radius map"):
            result["map"] = part_map(ev, bkg, args, args.out)
    from apps.cliutil import strict_json

    with open(os.path.join(args.out, "jets_radius.json"), "w") as fh:
        fh.write(strict_json(result) + "\n")
    if args.img_dir:
        for f in sorted(os.listdir(args.out)):
            if f.startswith("jets_radius") and f.endswith(".png"):
                shutil.copy(os.path.join(args.out, f), os.path.join(args.img_dir, f))
    print(f"\n-> {args.out}/jets_radius.json and figures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
