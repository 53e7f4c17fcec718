"""Benchmark of apps.cuts: estimator variance on problem A, problems A and B, and the generated family.

Run: ``python -m benchmarks.cuts [--quick]`` (prints tables; no files written), or
``python -m benchmarks.cuts --family [--n-problems N] [--seed S]``: ``optimize_cuts``
with its defaults on ``N`` generated problems (seeds ``S`` … ``S+N−1``) and three
cases of issue 19's layout (``issue_problem(S..S+2)``), against the exact grid
(≤ 3 thresholds) or the best of three differential-evolution runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import stochgrad as sg
from apps.cliutil import at_least
from apps.cuts import hard_objective, optimize_cuts, problem_a, stochastic_cut
from apps.cuts.optimize import DEFAULT_POLISH
from apps.cuts.problems import generate_problem, issue_problem
from apps.cuts.references import differential_evolution_best, grid_cuts
from apps.cuts.demo import format_table, run_problem_a, run_problem_b
from apps.cuts.optimize import default_estimator


def estimator_table(c=1.4, scale=0.1, n=2000, seed=0):
    """dE[Z]/dc on problem A by every estimator: mean ± stderr, per-sample sd, seconds."""
    ev, spec, _ = problem_a(seed)
    prog = stochastic_cut(ev, spec, scale)
    rows = []
    for name, est in [("StochasticDerivative", default_estimator()),
                      ("ScoreFunction(loo)", sg.ScoreFunction("leave_one_out")),
                      ("FiniteDifference(0.01)", sg.FiniteDifference(0.01)),
                      ("GumbelSTE(0.5) [biased]", sg.GumbelSTE(0.5))]:
        t0 = time.perf_counter()
        e = sg.value_and_grad(prog, est, n=n, seed=seed)(c)
        rows.append((name, e.grad, e.grad_stderr, e.grad_stderr * np.sqrt(n), time.perf_counter() - t0))
    lines = [f"Problem A, dE[Z]/dc at c = {c}, s = {scale}, n = {n}",
             f"{'estimator':26s} {'grad':>9s} {'stderr':>8s} {'sd/sample':>10s} {'s':>6s}"]
    lines += [f"{r[0]:26s} {r[1]:9.4f} {r[2]:8.4f} {r[3]:10.3f} {r[4]:6.2f}" for r in rows]
    return "\n".join(lines)


def family_row(problem, polish=None):
    """One generated problem: the reference (exact grid or best-of-3 DE), ours with defaults, a polish-only baseline.

    The polish-only baseline is ``optimize_cuts(method="coordinate")``: :func:`polish_cuts`
    with the radius ours uses (unbounded line searches by default) from the same starts
    as ours, without any gradient step; what the hard-cut coordinate search reaches on
    its own. ``polish`` overrides the defaults' polish radius (in spreads), for the ablation.
    """
    ev, spec = problem.events, problem.spec
    t0 = time.perf_counter()
    if spec.n_params <= 3:
        ref, kind = grid_cuts(ev, spec), "grid"
    else:
        ref, kind = differential_evolution_best(ev, spec, problem.bounds, seeds=(0, 1, 2)), "DE×3"
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    radius = DEFAULT_POLISH if polish is None else polish
    ours = optimize_cuts(ev, spec, problem.theta0, polish=radius)
    t_ours = time.perf_counter() - t0
    z_ours = hard_objective(ev, spec, ours.theta)  # the hard cut's Z, recomputed from the thresholds
    t0 = time.perf_counter()
    coord = optimize_cuts(ev, spec, problem.theta0, method="coordinate", polish=radius)
    t_coord = time.perf_counter() - t0
    z_polish = hard_objective(ev, spec, coord.theta)
    keep = spec.hard_pass(ev, ref["theta"])
    return {"problem": problem.name, "shape": problem.describe(), "cuts": len(spec.cuts), "thresholds": spec.n_params,
            "reference": kind, "ref_Z": ref["hard_value"], "ours_Z": z_ours, "ratio": z_ours / ref["hard_value"],
            "polish_only_ratio": z_polish / ref["hard_value"], "ours_s": t_ours, "ref_s": t_ref,
            "polish_only_s": t_coord,
            "ref_signal": float(ev.signal_weights[keep].sum()),
            "ref_background": float(ev.background_weights[keep].sum()),
            "start_Z": hard_objective(ev, spec, problem.theta0)}


def family_table(n_problems=24, seed=100, polish=None, issue_cases=3):
    """Rows of :func:`family_row` for ``generate_problem(seed … seed+n−1)`` and ``issue_problem(seed …)``."""
    problems = [generate_problem(s) for s in range(seed, seed + n_problems)]
    problems += [issue_problem(s) for s in range(seed, seed + issue_cases)]
    rows = []
    for p in problems:
        rows.append(family_row(p, polish))
        r = rows[-1]
        print(f"{r['problem']:6s} {r['shape']:64s} {r['cuts']:2d} {r['thresholds']:2d} {r['reference']:5s} "
              f"{r['start_Z']:7.2f} {r['ref_Z']:7.3f} {r['ours_Z']:7.3f} {r['ratio']:7.4f} "
              f"{r['polish_only_ratio']:7.4f} {r['ref_signal']:6.1f} {r['ref_background']:7.1f} "
              f"{r['ours_s']:6.1f} {r['polish_only_s']:6.2f} {r['ref_s']:6.1f}", flush=True)
    return rows


FAMILY_HEADER = (f"{'id':6s} {'shapes[cut kinds]':64s} {'nc':>2s} {'np':>2s} {'ref':5s} {'Z0':>7s} {'ref Z':>7s} "
                 f"{'ours Z':>7s} {'ratio':>7s} {'polish':>7s} {'s@ref':>6s} {'b@ref':>7s} {'ours s':>6s} "
                 f"{'pol s':>6s} {'ref s':>6s}")


def _radius(text):
    """argparse type: a polish radius in spreads, a number >= 0 or ``inf``."""
    if text.strip().lower() in ("inf", "infinity"):
        return float("inf")
    return at_least(0.0, float)(text)


def main(argv=None):
    """Print the tables."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cuts", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="problem A only")
    ap.add_argument("--family", action="store_true", help="the generated family instead of problems A and B")
    ap.add_argument("--n-problems", type=at_least(1), default=24, help="generated problems (default 24)")
    ap.add_argument("--seed", type=at_least(0), default=100,
                    help="first generator seed (default 100; tuned on seeds 0-11 and issue cases 1000-1002)")
    ap.add_argument("--polish", type=_radius, default=None,
                    help="ablation: run ours (and the polish-only baseline) with this polish radius in spreads "
                         "(default: the optimiser's, unbounded line searches; 'inf' allowed)")
    args = ap.parse_args(argv)
    if args.family:
        print(FAMILY_HEADER)
        rows = family_table(args.n_problems, args.seed, args.polish)
        ratios = np.array([r["ratio"] for r in rows])
        print(f"\n{len(rows)} problems: ratio min {ratios.min():.4f}, median {np.median(ratios):.4f}, "
              f"{int((ratios < 0.99).sum())} below 0.99; polish-only min "
              f"{min(r['polish_only_ratio'] for r in rows):.4f}, "
              f"{sum(r['polish_only_ratio'] < 0.99 for r in rows)} below 0.99; "
              f"ours {sum(r['ours_s'] for r in rows):.0f} s, "
              f"polish-only {sum(r['polish_only_s'] for r in rows):.1f} s, "
              f"references {sum(r['ref_s'] for r in rows):.0f} s in all")
        return
    print(estimator_table())
    print()
    print(format_table(run_problem_a()))
    if not args.quick:
        print()
        print(format_table(run_problem_b()))


if __name__ == "__main__":
    main()
