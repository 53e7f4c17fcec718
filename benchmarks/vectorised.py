"""Vectorised mode on the random walk: one program, every estimator, against hand-written code.

The walk (n = 100 steps, p = 200, f = X², exact dE/dp = 15.1349 from the
transition matrix) is written once with ``sg.select`` and run

* vectorised (``@sg.vectorized``): score function and stochastic derivative
  (4 alternatives, derived automatically), finite differences, GS-STE;
* per-sample traced (``@sg.stochastic``), the same function;
* hand-written vectorised NumPy REINFORCE (leave-one-out baseline): the reference;
* a hand-written batched program (``sg.batched``) with its own score and its
  own replayed alternatives.

Every implementation is timed ``--repeat`` times, interleaved (round-robin, so
all see the same machine state), and the best time is kept, both wall-clock and
the process's CPU time (``time.process_time``: less sensitive to other jobs on a
shared machine; the targets are read on it). Variance is the
per-sample variance of the gradient; "var × time" is variance × seconds per
sample (lower is better); ratios are against the hand-written NumPy REINFORCE.

Run: ``python -m benchmarks.vectorised [--n N] [--n-traced N] [--repeat R] [--against REV]``
(``--against``: the library of git revision ``REV`` timed beside this one, see
:func:`benchmarks.core.side_by_side`).
Prints a Markdown table (recorded in docs/benchmarks.md and docs/vectorised.md).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings

import numpy as np

import stochgrad as sg
from benchmarks.core import side_by_side, snp

if snp is None:  # a revision before stochgrad.numpy (--against): autograd.numpy
    import autograd.numpy as anp
else:
    anp = snp
from stochgrad.examples import random_walk_exact

THETA, STEPS = 200.0, 100


def walk(p, steps=STEPS):
    """The random walk, written once: +1 with probability exp(−x/p), else −1; f = x²."""
    x = 0
    for _ in range(steps):
        k = sg.bernoulli(anp.exp(-x / p))
        x = x + sg.select(k, [-1, 1])
    return x * x


def smeared_walk(p, steps=STEPS):
    """The walk with its end point smeared, X + Z, Z ~ N(0, 1) (a continuous choice): E[f] = E[X²] + 1, same dE/dp."""
    x = 0
    for _ in range(steps):
        k = sg.bernoulli(anp.exp(-x / p))
        x = x + sg.select(k, [-1, 1])
    x = x + sg.normal(0.0, 1.0)
    return x * x


walk_vectorized = sg.vectorized(walk)
walk_traced = sg.stochastic(walk)


def numpy_reinforce(theta, n, seed, steps=STEPS):
    """Hand-written vectorised NumPy REINFORCE with leave-one-out baseline; per-sample gradients."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    score = np.zeros(n)
    for _ in range(steps):
        p = np.exp(-x / theta)
        k = rng.random(n) < p
        dlogp = x / theta**2  # d log p / dθ
        score += np.where(k, dlogp, -dlogp * p / (1.0 - p))
        x += np.where(k, 1.0, -1.0)
    f = x * x
    return (f - (f.sum() - f) / (n - 1)) * score


def _walk_handwritten(theta, n, seed, want, steps=STEPS):
    """The walk as a hand-written batched program: score and replayed alternatives written by hand."""
    rng = np.random.default_rng(seed)
    u = rng.random((steps, n))
    x = np.zeros(n)
    score, P, K, DP = np.zeros(n), np.empty((steps, n)), np.empty((steps, n), bool), np.empty((steps, n))
    for t in range(steps):
        p = np.exp(-x / theta)
        k = u[t] < p
        dp = p * x / theta**2
        score += dp / (p + k - 1.0)
        P[t], K[t], DP[t] = p, k, dp
        x += np.where(k, 1.0, -1.0)
    f = x * x
    out = sg.BatchSamples(f, np.zeros(n), score)
    if want.alternatives:  # flip one step per replay, chosen ∝ |dp| (systematic), weight ±dp / P(pick)
        m = want.n_alternatives
        mass = np.abs(DP)
        cum = np.cumsum(mass, axis=0)
        total = cum[-1]
        pos = (rng.random(n) + np.arange(m)[:, None]) / m * total  # (m, n)
        w, d = np.zeros((n, m)), np.zeros((n, m))
        for r in range(m):
            s = np.minimum((cum < pos[r]).sum(axis=0), steps - 1)  # the flipped step of each sample
            idx = np.arange(n)
            y = np.zeros(n)
            for t in range(steps):
                k = np.where(s == t, ~K[t, idx], u[t] < np.exp(-y / theta))
                y += np.where(k, 1.0, -1.0)
            ok = total > 0
            dps = DP[s, idx]
            w[:, r] = np.where(ok, np.where(K[s, idx], -dps, dps) * total / np.where(ok, mass[s, idx] * m, 1), 0)
            d[:, r] = y * y - f
        out.alt_weight, out.alt_delta = w, d
    return out


walk_handwritten = sg.batched(_walk_handwritten)


def _rows():
    return [
        ("hand-written NumPy REINFORCE (leave-one-out)", "numpy", None),
        ("hand-written batched program, score (leave-one-out)", walk_handwritten, sg.ScoreFunction()),
        ("hand-written batched program, stochastic derivative (4 alt., hand-written replays)", walk_handwritten,
         sg.StochasticDerivative(4)),
        ("**vectorised**, score (leave-one-out)", walk_vectorized, sg.ScoreFunction()),
        ("**vectorised**, stochastic derivative (4 alt., automatic) + control variates", walk_vectorized,
         sg.StochasticDerivative(4)),
        ("**vectorised**, stochastic derivative (4 alt., automatic), no control variates", walk_vectorized,
         sg.StochasticDerivative(4, control_variates=False)),
        ("**vectorised**, stochastic derivative (1 alt., automatic) + control variates", walk_vectorized,
         sg.StochasticDerivative(1)),
        ("**vectorised**, finite differences (h = 2, CRN)", walk_vectorized, sg.FiniteDifference(2.0)),
        ("**vectorised**, GS-STE τ = 0.1 (biased)", walk_vectorized, sg.GumbelSTE(0.1)),
        ("**vectorised**, end point smeared by sg.normal, score (leave-one-out)", sg.vectorized(smeared_walk),
         sg.ScoreFunction()),
        ("**vectorised**, end point smeared by sg.normal, stochastic derivative (4 alt.) + control variates",
         sg.vectorized(smeared_walk), sg.StochasticDerivative(4)),
        ("per-sample traced, score (leave-one-out)", walk_traced, sg.ScoreFunction()),
        ("per-sample traced, stochastic derivative (4 alt.) + control variates", walk_traced,
         sg.StochasticDerivative(4)),
    ]


def measure(n, n_traced, repeat, seed=0):
    """Best wall and CPU seconds per sample, and the gradient samples, for every row, timed round-robin."""
    rows = _rows()
    best = {name: np.inf for name, _, _ in rows}
    best_cpu = dict(best)
    samples = {}
    for rep in range(repeat):
        for name, prog, est in rows:
            traced = prog is walk_traced
            if traced and rep > 0:
                continue  # the traced rows are 1000x slower: one timing, fewer samples
            nn = n_traced if traced else n
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0, c0 = time.perf_counter(), time.process_time()
                if prog == "numpy":
                    g = numpy_reinforce(THETA, nn, seed + rep)
                else:
                    try:
                        g = np.asarray(sg.value_and_grad(prog, est, n=nn, seed=seed + rep)(THETA).samples)
                    except TypeError as e:  # a revision (--against) whose vectorised mode refuses sg.normal
                        if "normal" not in str(e):
                            raise
                        continue
                dt = (time.perf_counter() - t0) / nn
                dc = (time.process_time() - c0) / nn
            best[name] = min(best[name], dt)
            best_cpu[name] = min(best_cpu[name], dc)
            samples.setdefault(name, g)
    return rows, best, best_cpu, samples


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="samples per vectorised / hand-written estimate")
    ap.add_argument("--n-traced", type=int, default=300, help="samples for the per-sample traced rows")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--against", metavar="REV", help="time the library of git revision REV beside this one")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one side of --against
    a = ap.parse_args(argv)
    if a.n < 1000 or a.n_traced < 10 or a.repeat < 1:
        print("benchmarks.vectorised: need --n >= 1000, --n-traced >= 10, --repeat >= 1", file=sys.stderr)
        return 2
    if a.json:
        import json

        print(json.dumps({k: v for k, v in measure(a.n, a.n_traced, a.repeat, a.seed)[2].items() if v < np.inf}))
        return 0
    if a.against:
        side_by_side("benchmarks.vectorised", a.against, a.repeat,
                     ["--n", str(a.n), "--n-traced", str(a.n_traced), "--seed", str(a.seed)])
        return 0
    exact = random_walk_exact(THETA, STEPS)[1]
    rows, best, cpu, samples = measure(a.n, a.n_traced, a.repeat, a.seed)
    ref = "hand-written NumPy REINFORCE (leave-one-out)"
    ref_v = float(np.var(samples[ref], ddof=1))
    print(f"# Random walk, {STEPS} steps, p = {THETA:g}, f = X² (exact dE/dp = {exact:.4f}); n = {a.n:,} "
          f"(traced: {a.n_traced}); best of {a.repeat}, interleaved; {platform.machine()}, numpy {np.__version__}\n")
    print("| implementation, estimator | grad ± stderr | (grad − exact)/stderr | sd of one sample "
          "| µs/sample wall (CPU) | time / NumPy, CPU (wall) | var × time / NumPy, CPU (wall) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, _, _ in rows:
        if name not in samples:
            continue
        g = samples[name].reshape(len(samples[name]))
        m, se, var = g.mean(), g.std(ddof=1) / np.sqrt(len(g)), g.var(ddof=1)
        rc, rw = cpu[name] / cpu[ref], best[name] / best[ref]
        print(f"| {name} | {m:.3f} ± {se:.3f} | {(m - exact) / se:+.1f} | {np.sqrt(var):.2f} "
              f"| {best[name] * 1e6:.2f} ({cpu[name] * 1e6:.2f}) | {rc:.2f}× ({rw:.2f}×) "
              f"| {var / ref_v * rc:.3f}× ({var / ref_v * rw:.3f}×) |")
    sf = "**vectorised**, score (leave-one-out)"
    sd = "**vectorised**, stochastic derivative (4 alt., automatic) + control variates"
    v = float(np.var(samples[sd], ddof=1)) / ref_v
    print(f"\nTargets (CPU time; wall in parentheses): vectorised score function ≤ 1.5× hand-written NumPy per sample: "
          f"**{cpu[sf] / cpu[ref]:.2f}×** ({best[sf] / best[ref]:.2f}×); vectorised stochastic derivative "
          f"(4 alt.) var × time ≤ 0.35× NumPy REINFORCE: **{v * cpu[sd] / cpu[ref]:.3f}×** "
          f"({v * best[sd] / best[ref]:.3f}×).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
