"""``stochgrad-jets radius-map``: a per-event R from the leading-jet pT, fitted on one half, scored on the other.

:func:`run_radius_map` does the work (also used by ``python -m benchmarks.jets_radius``):

1. split the events into a training and a disjoint test half (seeded);
2. on the training half, fit the map ``log R = Φ(pT_lead) · w`` and, the same way, one
   global R, by gradient descent through sampled Qanti-kT (:func:`apps.jets.study.radius_map.fit_map`);
3. on the test half, cluster with hard anti-kT at each event's predicted R and at the
   global R, and compare the median, IQR and the fraction within ±window of the target mass (125 GeV by default)
   (event-to-event bootstrap sd, and a paired bootstrap of the difference); also the
   best global R of a hard scan *on the test half itself* (optimistic for the global R);
4. on a background sample (Z→bb̄), the same two clusterings: does the map sculpt a
   peak near 125 GeV?
"""

from __future__ import annotations

import os

import numpy as np

from apps.cliutil import CliError, Outputs, at_least, nonneg_float, positive_float, positive_int, seed_int, sibling

from ..study import radius_map as rm
from ..study.robust import mass_stats, mass_summary, paired_difference
from .common import (add_input_arguments, backend_arg, events_from_args, events_label, fraction, samples,
                     selection_from_args, target_args, with_backend)

__all__ = ["run_radius_map", "register"]

SCAN_RADII = tuple(np.round(np.arange(0.2, 1.6001, 0.05), 3))


def run_radius_map(events, background=None, kind="quartiles", split_seed=0, r_ref=0.4, steps=48, lr=0.1,
                   lr_tail=0.04, tail=0.5, samples=4, seed=0, alpha=1.0, ptmin=20.0, width=15.0, window=15.0,
                   n_resamples=1000, scan_radii=SCAN_RADII, progress=None, target=125.0):
    """Fit a per-event R map and a global R on a training half; score both on the test half and a background.

    Args:
        events: signal events (split in halves by ``split_seed``).
        background: optional background events (e.g. Z→bb̄), never used for fitting.
        kind: the map (:data:`apps.jets.study.radius_map.KINDS`).
        r_ref: the reference anti-kT radius of the leading-jet pT observable.
        steps, lr, lr_tail, tail, samples, seed, alpha, width: the fits' (see
            :func:`apps.jets.study.radius_map.fit_map`; loss = window loss of width ``width``).
        ptmin: jet pT threshold (GeV) for mjj and the leading jet.
        window: the scoring window ``|mjj − target| < window`` (GeV).
        target: the resonance mass (GeV) the fits pull mjj to and the scores are taken around.
        n_resamples: bootstrap resamples (event-to-event uncertainties).
        scan_radii: grid of the hard scan for the test half's best global R.
        progress: optional ``callback(record)`` per fitting step.

    Returns:
        A JSON-ready dict: ``split`` (sizes; the halves are disjoint), ``map`` and
        ``global`` (fitted parameters), ``test`` (summaries per clustering and paired
        differences), ``train`` (the same on the training half, for the overfitting
        gap), ``test_best_global`` and, with a background, ``background``.

    Raises:
        ValueError: fewer than 4 events, or the split is not disjoint.
    """
    n = len(events.counts)
    if n < 4:
        raise ValueError(f"need at least 4 events to split into halves, got {n}")
    train, test = rm.split_halves(n, split_seed)
    if np.intersect1d(train, test).size or len(train) + len(test) != n:
        raise ValueError("training and test halves overlap")
    pt = rm.leading_pt(events, r_ref, ptmin)
    ev_tr, ev_te = events.subset(train), events.subset(test)
    fit_kw = dict(steps=steps, lr=lr, lr_tail=lr_tail, tail=tail, samples=samples, seed=seed, alpha=alpha,
                  ptmin=ptmin, width=width, callback=progress, target=target)
    rmap = rm.RadiusMap.from_training(kind, pt[train])
    res_map = rm.fit_map(rmap, ev_tr, pt[train], **fit_kw)
    gmap = rm.RadiusMap.from_training("global", pt[train])
    res_glob = rm.fit_map(gmap, ev_tr, pt[train], **fit_kw)
    R_glob = float(np.exp(gmap.w[0]))

    def score(ev, pts, bs_seed):
        m_map = rm.hard_mjj(ev, rmap.radii(pts), ptmin)
        m_glob = rm.hard_mjj(ev, R_glob, ptmin)
        kw = dict(window=window, target=target, n_resamples=n_resamples, seed=bs_seed)
        return {"map": mass_summary(m_map, **kw), "global": mass_summary(m_glob, **kw),
                "map_minus_global": paired_difference(m_map, m_glob, **kw)}, m_map, m_glob

    out = {"split": {"n_events": n, "n_train": int(len(train)), "n_test": int(len(test)), "split_seed": split_seed,
                     "disjoint": True},
           "map": rmap.describe(), "global": {"R": R_glob},
           "R_test_quantiles": None, "fit_seconds": float(res_map.seconds + res_glob.seconds),
           "settings": {"kind": kind, "r_ref": r_ref, "steps": steps, "lr": lr, "lr_tail": lr_tail, "tail": tail,
                        "samples": samples, "seed": seed, "alpha": alpha, "ptmin": ptmin, "width": width,
                        "window": window, "target_mass": target, "n_resamples": n_resamples}}
    out["test"], m_map, m_glob = score(ev_te, pt[test], 1)
    out["train"], _, _ = score(ev_tr, pt[train], 2)
    out["R_test_quantiles"] = np.percentile(rmap.radii(pt[test]), [10, 25, 50, 75, 90]).tolist()
    # the best global R chosen on the test half itself (hard scan): optimistic for the global radius
    fr = [float(mass_stats(rm.hard_mjj(ev_te, R, ptmin), window, target)[2]) for R in scan_radii]
    best = float(scan_radii[int(np.argmax(fr))])
    m_best = rm.hard_mjj(ev_te, best, ptmin)
    out["test_best_global"] = {"R": best, "grid": [float(r) for r in scan_radii], "frac_window_grid": fr,
                               **mass_summary(m_best, window, target, n_resamples=n_resamples, seed=1),
                               "map_minus_this": paired_difference(m_map, m_best, window, target, n_resamples=n_resamples,
                                                                   seed=1)}
    samples_out = {"test": {"map": m_map, "global": m_glob, "best_global": m_best}}
    ref = None
    if kind == "quartiles":  # the same map, each bin's R by a hard scan on the training half (no gradients)
        ref = _hard_scan_quartiles(rmap, ev_tr, pt[train], scan_radii, ptmin, window, target)
        m_ref = rm.hard_mjj(ev_te, ref.radii(pt[test]), ptmin)
        out["hard_scan_map"] = {"R_per_bin": np.exp(ref.w).tolist(),
                                **mass_summary(m_ref, window, target, n_resamples=n_resamples, seed=1),
                                "minus_global": paired_difference(m_ref, m_glob, window, target, n_resamples=n_resamples,
                                                                  seed=1)}
        samples_out["test"]["hard_scan_map"] = m_ref
    if background is not None:
        pb = rm.leading_pt(background, r_ref, ptmin)
        b_map = rm.hard_mjj(background, rmap.radii(pb), ptmin)
        b_glob = rm.hard_mjj(background, R_glob, ptmin)
        kw = dict(window=window, target=target, n_resamples=n_resamples, seed=3)
        out["background"] = {"n_events": int(len(background.counts)), "map": mass_summary(b_map, **kw),
                             "global": mass_summary(b_glob, **kw),
                             "map_minus_global": paired_difference(b_map, b_glob, **kw)}
        samples_out["background"] = {"map": b_map, "global": b_glob}
        if ref is not None:
            b_ref = rm.hard_mjj(background, ref.radii(pb), ptmin)
            out["background"]["hard_scan_map"] = mass_summary(b_ref, **kw)
            samples_out["background"]["hard_scan_map"] = b_ref
    return out, samples_out


def _hard_scan_quartiles(rmap, events, pt, radii, ptmin, window, target=125.0):
    """Reference map: per pT bin of ``rmap``, the R of ``radii`` with the largest hard-anti-kT window fraction."""
    bins = rmap.design(pt).argmax(axis=1)
    inside = np.array([np.abs(np.nan_to_num(rm.hard_mjj(events, R, ptmin), nan=np.inf) - target) < window
                       for R in radii])
    best = [float(radii[int(np.argmax(inside[:, bins == q].mean(axis=1)))]) if np.any(bins == q) else 0.8
            for q in range(rmap.n_params)]
    return rm.RadiusMap(rmap.kind, rmap.edges, w=np.log(best))


def _table(title, rows, window, target=125.0):
    print(f"\n{title}\n")
    print(f"| clustering | median mjj (GeV) | IQR (GeV) | fraction within ±{window:g} GeV of {target:g} | two-jet fraction |")
    print("|---|---:|---:|---:|---:|")
    for label, w in rows:
        print(f"| {label} | {w['median']:.1f} ± {w['median_sd']:.1f} | {w['iqr']:.1f} ± {w['iqr_sd']:.1f} | "
              f"{w['frac_window']:.3f} ± {w['frac_window_sd']:.3f} | {w['frac_two_jets']:.3f} ± {w['frac_two_jets_sd']:.3f} |")


def print_report(out):
    """The tables of a :func:`run_radius_map` result (markdown)."""
    s, w = out["settings"], out["settings"]["window"]
    tm = s.get("target_mass", 125.0)
    m = out["map"]
    if m["kind"] == "quartiles":
        edges = ", ".join(f"{e:.1f}" for e in m["pt_edges"])
        print(f"map: one R per quartile of the leading-jet pT (anti-kT R = {s['r_ref']}; edges {edges} GeV from the "
              f"training half): R = " + ", ".join(f"{r:.3f}" for r in m["R_per_bin"]))
    else:
        print(f"map: log R = w0 + w1·(log pT_lead − {m['center']:.3f})/{m['scale']:.3f}, w = "
              + ", ".join(f"{x:.3f}" for x in m["w"]))
    sp = out["split"]
    print(f"global R fitted the same way on the training half: {out['global']['R']:.3f}; "
          f"train {sp['n_train']} / test {sp['n_test']} events (disjoint, split seed {sp['split_seed']})")
    print(f"± = event-to-event bootstrap sd ({s['n_resamples']} resamples); Δ = paired bootstrap of the difference")
    t = out["test"]
    b = out["test_best_global"]
    _table("test half (hard anti-kT at the predicted radii):", [
        ("R(pT_lead) map (fitted on the training half)", t["map"]),
        (f"global R = {out['global']['R']:.3f} (fitted on the training half)", t["global"]),
        (f"global R = {b['R']:.2f} (best of a hard scan on the test half itself)", b)]
        + ([(f"quartile map by hard scan on the training half (R = "
             f"{', '.join(f'{r:.2f}' for r in out['hard_scan_map']['R_per_bin'])}), no gradients",
             out["hard_scan_map"])] if "hard_scan_map" in out else []), w, tm)
    d, d2 = t["map_minus_global"], b["map_minus_this"]
    print(f"Δ fraction in window, map − global(train fit) = {d['d_frac_window']:+.3f} ± {d['d_frac_window_sd']:.3f}; "
          f"map − best global on test = {d2['d_frac_window']:+.3f} ± {d2['d_frac_window_sd']:.3f}")
    if "hard_scan_map" in out:
        d3 = out["hard_scan_map"]["minus_global"]
        print(f"Δ fraction in window, hard-scan quartile map − global(train fit) = {d3['d_frac_window']:+.3f} ± "
              f"{d3['d_frac_window_sd']:.3f}")
    tr = out["train"]
    print(f"training half: map {tr['map']['frac_window']:.3f} ± {tr['map']['frac_window_sd']:.3f}, global "
          f"{tr['global']['frac_window']:.3f} ± {tr['global']['frac_window_sd']:.3f} in the window")
    if "background" in out:
        bg = out["background"]
        _table(f"background ({bg['n_events']} events, never fitted on):", [
            ("R(pT_lead) map", bg["map"]), (f"global R = {out['global']['R']:.3f}", bg["global"])]
            + ([("quartile map by hard scan (reference)", bg["hard_scan_map"])] if "hard_scan_map" in bg else []), w, tm)
        db = bg["map_minus_global"]
        print(f"background Δ fraction in the {tm:g} ± {w:g} GeV window, map − global = {db['d_frac_window']:+.3f} ± "
              f"{db['d_frac_window_sd']:.3f}; Δ median = {db['d_median']:+.1f} ± {db['d_median_sd']:.1f} GeV")


def cmd_radius_map(args):
    from ..io.files import load_events
    from ..plots import radius as radius_plots
    from .progress import bar

    out_files = Outputs(force=args.force)
    js = out_files.add(args.json, "--json", kind="json")
    png = out_files.add(sibling(js, ".png"), "plot (beside --json)", kind="image")
    png_b = out_files.add(sibling(js, "_background.png"), "background plot (beside --json)", kind="image") \
        if args.background else None
    out_files.check()
    ev = events_from_args(args)
    bkg = None
    if args.background:
        from apps.cliutil import input_file

        path = input_file(args.background, "--background")
        try:
            bkg = load_events(path, select=selection_from_args(args))  # the signal's particle selection
        except (ValueError, OSError, KeyError, EOFError) as err:
            raise CliError(f"--background {path!r} could not be read as an events file: {err}") from None
    b = bar(2 * args.steps, "fit R map + global R", enabled=not args.quiet)
    out, mjj = run_radius_map(ev, bkg, args.map, args.split_seed, args.r_ref, args.steps, args.lr, args.lr_tail,
                              args.tail, args.samples, args.seed, args.alpha, args.ptmin, args.width, args.window,
                              args.bootstrap, progress=lambda rec: b.update(1), target=args.target_mass)
    out["run"] = {"label": events_label(ev, args), "target_mass": args.target_mass}
    b.close()
    out_files.write_json(js, out)
    print_report(out)
    t, bg = out["test"], out.get("background")
    radius_plots.mjj_summary_figure(
        [("R(pT_lead) map", mjj["test"]["map"], t["map"]),
         (f"global R = {out['global']['R']:.3f}", mjj["test"]["global"], t["global"])], png, width=args.window,
        title=f"test half ({out['split']['n_test']} events), hard anti-kT", label=out["run"]["label"],
        target=args.target_mass)
    if bkg is not None:
        radius_plots.mjj_summary_figure(
            [("R(pT_lead) map", mjj["background"]["map"], bg["map"]),
             (f"global R = {out['global']['R']:.3f}", mjj["background"]["global"], bg["global"])], png_b,
            width=args.window, title=f"background {os.path.basename(args.background)}, hard anti-kT", label="background",
            target=args.target_mass)
    print(f"-> {args.json}, {png}" + (f", {png_b}" if png_b else ""))
    return 0


def register(sub):
    """Add ``radius-map`` to ``stochgrad-jets``."""
    p = sub.add_parser("radius-map", help="per-event R from the leading-jet pT: fit on a training half, score on "
                                          "the test half (and a background)")
    p.add_argument("--events", default="default", help="signal events (split into training and test halves)")
    p.add_argument("--n-events", type=positive_int, default=None, help="use the first N events")
    add_input_arguments(p)
    p.add_argument("--background", default=None, help="background events (e.g. Z→bb̄) checked for sculpting")
    p.add_argument("--map", choices=rm.KINDS[:2], default="quartiles",
                   help="the map's form: one R per quartile of the leading-jet pT, or log-linear in it")
    p.add_argument("--split-seed", type=seed_int, default=0, help="seed of the training/test split")
    p.add_argument("--r-ref", type=positive_float, default=0.4, help="anti-kT radius of the leading-jet pT")
    p.add_argument("--steps", type=positive_int, default=48, help="optimisation steps")
    p.add_argument("--lr", type=positive_float, default=0.1, help="starting learning rate (log R)")
    p.add_argument("--lr-tail", type=positive_float, default=0.04, help="the tail's constant learning rate")
    p.add_argument("--tail", type=fraction, default=0.5, help="fraction of the steps averaged")
    p.add_argument("--samples", type=samples, default=4, help="sampled histories per event and step (>= 2)")
    p.add_argument("--alpha", type=positive_float, default=1.0, help="Qanti-kT α (> 0)")
    p.add_argument("--ptmin", type=nonneg_float, default=20.0, help="jet pT threshold in GeV")
    p.add_argument("--width", type=positive_float, default=15.0, help="window loss width (GeV)")
    p.add_argument("--window", type=positive_float, default=15.0, help="scoring window half-width (GeV)")
    target_args(p)
    p.add_argument("--bootstrap", type=at_least(2), default=1000, help="bootstrap resamples of the events")
    p.add_argument("--seed", type=seed_int, default=0, help="random seed of the sampled histories and the bootstrap")
    p.add_argument("--json", default="out/radius_map.json", help="results file, ending in .json (plots beside it)")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--quiet", action="store_true",
                   help="no progress (default: a bar on a terminal, else a line at least every 10 s)")
    backend_arg(p)
    p.set_defaults(func=with_backend(cmd_radius_map))
