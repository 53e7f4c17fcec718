"""Gradient estimators for d E[window loss]/d log R on real events, side by side in one run.

Run: ``python -m benchmarks.jets_gradients [--events FILE] [--samples 16] [--R 0.8]``.

For each estimator the global program (one R for all events, ``apps.jets.study.optimize``)
is evaluated on every event with ``--samples`` sampled Qanti-kT histories per
event. Printed per estimator: the estimate ± stderr, the standard deviation of one
history's gradient, the wall time per history (all threads; numba compilation is
done before timing) and the work-normalised variance (variance × time) with its
ratio to the score function with leave-one-out baselines per event (the
optimiser's default). Results are recorded in docs/jets.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import stochgrad as sg


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", default="default", help="events file or 'default' (embedded 300 events)")
    ap.add_argument("--R", type=float, default=0.8)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--samples", type=int, default=16, help="histories per event")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import apps.jets as J
    from apps.jets.study import optimize as opt

    ev = J.load_default_events() if args.events == "default" else J.load_events(args.events)
    prog = opt.global_program(ev, "window", args.alpha, args.samples)
    theta = float(np.log(args.R))
    rows = [
        ("score, leave-one-out per event", sg.ScoreFunction("leave_one_out")),
        ("score, no baseline", sg.ScoreFunction("none")),
        ("FD-CRN (h = 0.05 in log R)", sg.FiniteDifference(0.05)),
        ("stochastic derivative (4 alt.), no control variates", sg.StochasticDerivative(4, control_variates=False)),
        ("stochastic derivative + control variates (1 alt.)", sg.StochasticDerivative(1)),
        ("stochastic derivative + control variates (4 alt.)", sg.StochasticDerivative(4)),
    ]
    for _, est in rows:  # compile every kernel before timing
        sg.value_and_grad(opt.global_program(ev.subset(slice(0, 2)), "window", args.alpha, 2), est, n=4,
                          seed=0)(theta)
    n = prog.n_per_call
    print(f"{len(ev)} events, {args.samples} histories each, R = {args.R}, α = {args.alpha}, window loss; "
          "gradient wrt log R\n")
    print("| estimator | d E[L]/d log R ± stderr | sd of one history | µs per history | var × time (µs) | vs score LOO |")
    print("|---|---|---:|---:|---:|---:|")
    ref = None
    from apps.cliutil import heartbeat  # a line on stderr at least every 10 s when it is not a terminal

    for name, est in rows:
        t0 = time.perf_counter()
        with heartbeat(f"jets_gradients: {name}"):
            e = sg.value_and_grad(prog, est, n=n, seed=args.seed)(theta)
        dt = (time.perf_counter() - t0) / n
        var = float(np.var(np.asarray(e.samples).ravel(), ddof=1))
        wnv = var * dt * 1e6
        ref = wnv if ref is None else ref
        print(f"| {name} | {float(e.grad):.4f} ± {float(e.grad_stderr):.4f} | {np.sqrt(var):.3g} | "
              f"{dt * 1e6:.0f} | {wnv:.4g} | {ref / wnv:.2f}× |")


if __name__ == "__main__":
    main()
