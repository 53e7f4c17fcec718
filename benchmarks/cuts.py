"""Benchmark of apps.cuts: estimator variance on problem A, then problems A and B side by side.

Run: ``python -m benchmarks.cuts [--quick]`` (prints tables; no files written).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import stochgrad as sg
from apps.cuts import problem_a, stochastic_cut
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


def main(argv=None):
    """Print the tables."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="problem A only")
    args = ap.parse_args(argv)
    print(estimator_table())
    print()
    print(format_table(run_problem_a()))
    if not args.quick:
        print()
        print(format_table(run_problem_b()))


if __name__ == "__main__":
    main()
