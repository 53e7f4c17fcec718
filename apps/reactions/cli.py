"""``stochgrad-reactions``: derivative checks, the telegraph fit, simulation summaries and plots."""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from apps.cliutil import (ArgumentParser, CliError, Outputs, heartbeat, nonneg_int, output_dir, positive_float,
                          positive_int, run, seed_int)

__all__ = ["main"]


MAX_Z = 4.0  # a check fails when its estimate is further than this many standard errors from the exact value


def _check(args):
    """The derivative checks' table; exit status 1 when one fails (|z| > --max-z, or not finite)."""
    from .checks import derivative_checks, format_table

    t0 = time.perf_counter()
    with heartbeat("derivative checks", enabled=not getattr(args, "quiet", False)):
        rows = derivative_checks(n_vec=args.n, n_traced=args.n_traced, n_telegraph=args.n_telegraph, seed=args.seed,
                                 traced=args.n_traced > 0)
    print(format_table(rows))
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    max_z = getattr(args, "max_z", MAX_Z)
    failed = [r for r in rows if not (np.isfinite(r.z) and abs(r.z) <= max_z)]
    for r in failed:
        print(f"stochgrad-reactions check: FAILED {r.model} / {r.simulator} / {r.estimator} / {r.param}: "
              f"z = {r.z:+.2f} (estimate {r.estimate:.5g}, exact {r.exact:.5g}, stderr {r.stderr:.3g}; "
              f"|z| must be <= {max_z:g})", file=sys.stderr)
    return 1 if failed else 0


def _fit(args):
    from .fit import data_uncertainty, fit_telegraph

    quiet = getattr(args, "quiet", False)
    tty = sys.stderr.isatty()
    with heartbeat("telegraph fit", enabled=not quiet and not tty):  # on a terminal: the optimiser's own bar
        res = fit_telegraph(steps=args.steps, n=args.n, n_cells=args.cells, estimator=args.estimator,
                            seed=args.seed, progress=tty and not quiet)
    sd = np.append(data_uncertainty(res.recovered, n_cells=args.cells, n=50_000), np.nan)
    print("| rate | true | start | recovered | rel. error | data-limited sd | (recovered − true)/sd |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for i, name in enumerate(["k_on", "k_off", "r", "gamma"]):
        note = " (fixed)" if i == 3 else ""
        rel = (res.recovered[i] - res.true[i]) / res.true[i]
        z = "" if i == 3 else f"{(res.recovered[i] - res.true[i]) / sd[i]:+.2f}"
        sds = "" if i == 3 else f"{sd[i]:.3g}"
        print(f"| {name}{note} | {res.true[i]:.4g} | {res.start[i]:.4g} | {res.recovered[i]:.4g} | {100 * rel:+.1f}% "
              f"| {sds} | {z} |")
    print(f"\nloss: {res.loss[0]:.4g} at the start, {np.mean(res.loss[-max(1, args.steps // 4):]):.4g} "
          f"over the last quarter ({args.steps} Adam steps, {args.n} trajectories each, {args.estimator})")
    return 0


def _simulate(args):
    from .models import TELEGRAPH_TRUE, immigration_death_network, telegraph_network
    from .vectorised import simulate

    if args.model == "immigration-death":
        net, x0, theta = immigration_death_network(), {"X": 0}, [10.0, 0.5]
    else:
        net, x0, theta = telegraph_network(), {"G_off": 1}, list(TELEGRAPH_TRUE)
    if args.theta:
        if len(args.theta) != len(net.rates):
            raise CliError(f"--theta needs {len(net.rates)} rate constants ({', '.join(net.rates)}), "
                           f"got {len(args.theta)}")
        theta = args.theta
    t0 = time.perf_counter()
    with heartbeat("simulate", enabled=not args.quiet):
        out = simulate(net, np.array(theta, dtype=float), x0, args.T, args.n, args.seed, max_steps=args.max_steps,
                       time_limit=args.time_limit)
    dt = time.perf_counter() - t0
    print(f"{net!r}\nθ = {dict(zip(net.rates, theta))}, T = {args.T}, {args.n} trajectories in {dt:.2f} s "
          f"({out['reactions'] / dt:.3g} reactions/s)")
    for s, name in enumerate(net.species):
        col = out["X"][:, s]
        print(f"  {name}: mean {col.mean():.4f} ± {col.std(ddof=1) / np.sqrt(args.n):.4f}, variance {col.var(ddof=1):.4f}")
    return 0


def _plots(args):
    from .plots import make_all

    outputs = Outputs(force=args.force)
    output_dir(args.out, "--out")
    for name in ("reactions_immigration_death.png", "reactions_fit.png"):
        outputs.add(os.path.join(args.out, name), "figure", kind="image")
    outputs.check()
    with heartbeat("figures", enabled=not args.quiet):
        paths = list(make_all(args.out, quick=args.quick))
    for path in paths:
        print(path)
    return 0


def _demo(args):
    print("Derivative checks (immigration–death, k = 10, g = 0.5, T = 2; telegraph, T = 10):\n")
    ns = argparse.Namespace(n=args.n, n_traced=200, n_telegraph=args.n // 4, seed=args.seed, quiet=args.quiet)
    status = _check(ns)
    print("\nTelegraph fit from a wrong start (gamma fixed):\n")
    return _fit(argparse.Namespace(steps=args.steps, n=2000, cells=10000, estimator="score", seed=args.seed,
                                   quiet=args.quiet)) or status


def main(argv=None) -> int:
    """Entry point of ``stochgrad-reactions`` / ``python -m apps.reactions``.

    Args:
        argv: argument list (default ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    return run("stochgrad-reactions", build_parser(), argv, func_attr="fn")


def _quiet(p):
    p.add_argument("--quiet", action="store_true",
                   help="no progress (default: a bar on a terminal, else a line at least every 10 s on stderr)")


def _at_least_two(text):
    v = positive_int(text)
    if v < 2:
        raise argparse.ArgumentTypeError(f"needs >= 2 (standard errors, baselines), got {v}")
    return v


def build_parser():
    """The ``stochgrad-reactions`` argument parser."""
    ap = ArgumentParser(prog="stochgrad-reactions",
                        description="Unbiased gradients of stochastic reaction networks (Gillespie).")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("demo", help="quick derivative checks and a short telegraph fit")
    p.add_argument("--n", type=_at_least_two, default=100_000, help="trajectories of the vectorised checks")
    p.add_argument("--steps", type=positive_int, default=80, help="Adam steps of the telegraph fit")
    p.add_argument("--seed", type=seed_int, default=0, help="random seed")
    _quiet(p)
    p.set_defaults(fn=_demo)
    p = sub.add_parser("check", help="derivative checks against exact answers (Markdown table)")
    p.add_argument("--n", type=_at_least_two, default=400_000, help="trajectories, vectorised immigration–death")
    p.add_argument("--n-traced", type=nonneg_int, default=2000, help="samples, traced simulator (0: skip)")
    p.add_argument("--n-telegraph", type=_at_least_two, default=100_000, help="trajectories, telegraph model")
    p.add_argument("--seed", type=seed_int, default=0, help="random seed")
    p.add_argument("--max-z", type=positive_float, default=MAX_Z,
                   help=f"a check fails (exit status 1) when |estimate − exact| > MAX_Z standard errors "
                        f"(default {MAX_Z:g})")
    _quiet(p)
    p.set_defaults(fn=_check)
    p = sub.add_parser("fit", help="recover telegraph rates from synthetic snapshots")
    p.add_argument("--steps", type=positive_int, default=150, help="Adam steps (default 150)")
    p.add_argument("--n", type=_at_least_two, default=4000, help="trajectories per step")
    p.add_argument("--cells", type=_at_least_two, default=20000, help="snapshot cells in the data")
    p.add_argument("--estimator", choices=["score", "sd"], default="score",
                   help="score function or stochastic derivative (default score)")
    p.add_argument("--seed", type=seed_int, default=0, help="random seed")
    p.add_argument("--progress", action="store_true", help="(progress is now on by default; kept for old scripts)")
    _quiet(p)
    p.set_defaults(fn=_fit)
    p = sub.add_parser("simulate", help="simulate a reference model and summarise X(T)")
    p.add_argument("--model", choices=["immigration-death", "telegraph"], default="immigration-death",
                   help="the reference network (default immigration-death)")
    p.add_argument("--theta", type=float, nargs="+", help="rate constants (default: the reference values)")
    p.add_argument("--T", type=positive_float, default=2.0, help="end time (> 0)")
    p.add_argument("--n", type=_at_least_two, default=100_000, help="trajectories")
    p.add_argument("--seed", type=seed_int, default=0, help="random seed")
    _quiet(p)
    p.add_argument("--max-steps", type=positive_int, default=10**6,
                   help="proposals per trajectory before giving up (default 10^6)")
    p.add_argument("--time-limit", type=positive_float, default=600.0,
                   help="wall-clock seconds before giving up (default 600)")
    p.set_defaults(fn=_simulate)
    p = sub.add_parser("plots", help="write the reactions figures (reactions_*.png) into --out")
    p.add_argument("--out", default="out/reactions",
                   help="output folder (default out/reactions; the docs figures: --out docs/img --force)")
    p.add_argument("--quick", action="store_true", help="fewer samples (for tests)")
    p.add_argument("--force", action="store_true", help="overwrite existing figures")
    _quiet(p)
    p.set_defaults(fn=_plots)
    return ap
