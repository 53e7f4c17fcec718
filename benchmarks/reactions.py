"""Benchmark of the reaction simulators: reactions simulated per second.

Vectorised uniformised SSA (numpy, value only and with score / stochastic-derivative
statistics) against the traced simulator (run plainly and under the estimators)
and a plain-Python direct-method loop, all in one run, as ratios to the Python loop.

Run: ``python -m benchmarks.reactions [--n N] [--n-loop N] [--n-traced N]``.
Prints a Markdown table (recorded in docs/reactions.md).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import stochgrad as sg
from apps.reactions import immigration_death, immigration_death_network, telegraph, telegraph_network, TELEGRAPH_TRUE
from apps.reactions.direct import direct_ssa
from apps.reactions.vectorised import simulate


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_model(name, net, x0, theta, T, traced_fn, n, n_loop, n_traced, seed=0):
    """Rows ``(model, simulator, trajectories, reactions, seconds)`` for one model."""
    rows = []
    dt, (_, fired) = _timed(lambda: direct_ssa(net, theta, x0, T, n_loop, seed))
    rows.append((name, "plain-Python direct SSA loop", n_loop, fired, dt))
    per_traj = fired / n_loop
    dt, out = _timed(lambda: simulate(net, theta, x0, T, n, seed))
    rows.append((name, "vectorised (numpy), value only", n, out["reactions"], dt))
    dt, out = _timed(lambda: simulate(net, theta, x0, T, n, seed, score=True))
    rows.append((name, "vectorised, value + score", n, out["reactions"], dt))
    obs = net.species[-1]
    dt, out = _timed(lambda: simulate(net, theta, x0, T, n, seed, observable=obs, alternatives=True))
    rows.append((name, "vectorised, value + SD alternatives", n, out["reactions"], dt))
    rng = np.random.default_rng(seed)
    sg.seed(seed)
    dt, _ = _timed(lambda: [traced_fn(theta) for _ in range(n_traced)])
    rows.append((name, "traced SSA, plain call (≈ count)", n_traced, per_traj * n_traced, dt))
    dt, _ = _timed(lambda: sg.value_and_grad(traced_fn, sg.ScoreFunction(), n=n_traced, seed=rng.integers(2**32))(theta))
    rows.append((name, "traced SSA under ScoreFunction (≈ count)", n_traced, per_traj * n_traced, dt))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000, help="trajectories, vectorised")
    ap.add_argument("--n-loop", type=int, default=2000, help="trajectories, plain-Python loop")
    ap.add_argument("--n-traced", type=int, default=300, help="runs, traced simulator")
    args = ap.parse_args(argv)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}\n")
    rows = bench_model("immigration-death (k=10, g=0.5, T=2)", immigration_death_network(), {"X": 0},
                       np.array([10.0, 0.5]), 2.0, immigration_death(2.0), args.n, args.n_loop, args.n_traced)
    rows += bench_model("telegraph (0.5, 1, 20, 1; T=10)", telegraph_network(), {"G_off": 1},
                        np.array(TELEGRAPH_TRUE), 10.0, telegraph(10.0), args.n // 4, args.n_loop // 4,
                        args.n_traced // 4)
    print("| model | simulator | trajectories | reactions | seconds | reactions/s | vs Python loop |")
    print("|---|---|---:|---:|---:|---:|---:|")
    base = {}
    for model, sim, n, fired, dt in rows:
        rate = fired / dt
        base.setdefault(model, rate)
        print(f"| {model} | {sim} | {n} | {fired:.4g} | {dt:.3f} | {rate:.3g} | {rate / base[model]:.2f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
