"""``stochgrad-cuts``: run problem A (or B) and write a table, JSON and plots."""

from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["main"]


def _demo(args):
    from .demo import format_table, gradient_bias_a, run_problem_a, run_problem_b
    from .plots import plot_problem_a, plot_problem_b

    os.makedirs(args.out, exist_ok=True)
    problems = ["A", "B"] if args.problem == "both" else [args.problem]
    for prob in problems:
        if prob == "A":
            res = run_problem_a(args.seed, steps=args.steps)
            res["gradient_bias"] = gradient_bias_a(args.seed)
            fig = plot_problem_a(res, os.path.join(args.out, "cuts_problem_a.png"))
        else:
            res = run_problem_b(args.seed, steps=args.steps)
            fig = plot_problem_b(res, os.path.join(args.out, "cuts_problem_b.png"))
        print(format_table(res))
        if prob == "A":
            print("dE[Z]/dc at s = 0.5: SD (unbiased) vs sigmoid surrogate")
            for g in res["gradient_bias"]:
                print(f"  c = {g['c']:.2f}: SD {g['sd']:+.4f} ± {g['sd_stderr']:.4f}   "
                      f"sigmoid {g['sigmoid']:+.4f}   pull {g['pull']:+.1f}")
        js = os.path.join(args.out, f"cuts_problem_{prob.lower()}.json")
        with open(js, "w") as fh:
            json.dump(res, fh, indent=1)
        print(f"wrote {js} and {fig}\n")
    return 0


def main(argv=None) -> int:
    """Entry point of ``stochgrad-cuts`` (and ``python -m apps.cuts``).

    Args:
        argv: arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    ap = argparse.ArgumentParser(prog="stochgrad-cuts",
                                 description="Differentiable event selection with stochastic cuts.")
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="optimise problem A (and/or B); print a table, write JSON and plots")
    d.add_argument("--out", default="out/cuts", help="output folder (default out/cuts)")
    d.add_argument("--seed", type=int, default=0, help="data and optimiser seed (default 0)")
    d.add_argument("--problem", choices=["A", "B", "both"], default="A", help="which problem (default A)")
    d.add_argument("--steps", type=int, default=None, help="override the number of Adam steps")
    args = ap.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        ap.error(f"--steps must be >= 1, got {args.steps}")
    return _demo(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
