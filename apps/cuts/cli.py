"""``stochgrad-cuts``: run problem A (or B) and write a table, JSON and plots."""

from __future__ import annotations

import os
import sys

from apps.cliutil import ArgumentParser, Outputs, heartbeat, output_dir, positive_int, run, seed_int

__all__ = ["main"]


def _demo(args):
    from .demo import format_table, gradient_bias_a, run_problem_a, run_problem_b
    from .plots import plot_problem_a, plot_problem_b

    problems = ["A", "B"] if args.problem == "both" else [args.problem]
    out = Outputs(force=args.force)
    output_dir(args.out, "--out")
    for prob in problems:
        stem = os.path.join(args.out, f"cuts_problem_{prob.lower()}")
        out.add(stem + ".json", f"problem {prob} result", kind="json")
        out.add(stem + ".png", f"problem {prob} plot", kind="image")
    out.check()
    for prob in problems:
        stem = os.path.join(args.out, f"cuts_problem_{prob.lower()}")
        with heartbeat(f"cuts problem {prob}", enabled=not args.quiet):
            if prob == "A":
                res = run_problem_a(args.seed, steps=args.steps)
                res["gradient_bias"] = gradient_bias_a(args.seed)
                fig = plot_problem_a(res, stem + ".png")
            else:
                res = run_problem_b(args.seed, steps=args.steps)
                fig = plot_problem_b(res, stem + ".png")
        print(format_table(res))
        if prob == "A":
            print("dE[Z]/dc at s = 0.5: SD (unbiased) vs sigmoid surrogate")
            for g in res["gradient_bias"]:
                print(f"  c = {g['c']:.2f}: SD {g['sd']:+.4f} ± {g['sd_stderr']:.4f}   "
                      f"sigmoid {g['sigmoid']:+.4f}   pull {g['pull']:+.1f}")
        js = out.write_json(stem + ".json", res)
        print(f"wrote {js} and {fig}\n")
    return 0


def build_parser():
    """The ``stochgrad-cuts`` argument parser."""
    ap = ArgumentParser(prog="stochgrad-cuts", description="Differentiable event selection with stochastic cuts.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = sub.add_parser("demo", help="optimise problem A (and/or B); print a table, write JSON and plots")
    d.add_argument("--out", default="out/cuts", help="output folder (default out/cuts)")
    d.add_argument("--seed", type=seed_int, default=0, help="data and optimiser seed (default 0)")
    d.add_argument("--problem", choices=["A", "B", "both"], default="A", help="which problem (default A)")
    d.add_argument("--steps", type=positive_int, default=None, help="override the number of Adam steps")
    d.add_argument("--force", action="store_true", help="overwrite existing result files")
    d.add_argument("--quiet", action="store_true",
                   help="no progress (default: elapsed time on a terminal, else a line at least every 10 s on stderr)")
    d.set_defaults(func=_demo)
    return ap


def main(argv=None) -> int:
    """Entry point of ``stochgrad-cuts`` (and ``python -m apps.cuts``).

    Every error is one line on stderr and exit status 2.

    Args:
        argv: arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    return run("stochgrad-cuts", build_parser(), argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
