"""Benchmark of the core estimators on Sin&Cos: cost per sample, traced and batched,
and the batched score-function path against a hand-written vectorised NumPy REINFORCE.

Run: ``python -m benchmarks.core [--n-traced N] [--n-batched N] [--repeat R]``.
Prints Markdown tables (results are recorded in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import stochgrad as sg
from stochgrad.examples import sincos, sincos_arith, sincos_batched, sincos_exact

THETA = 0.7


def _best(fn, repeat):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def handwritten_reinforce(theta, n, seed):
    """Vectorised NumPy REINFORCE with leave-one-out baseline, written by hand (the reference)."""
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    p = 1.0 / (1.0 + np.exp(-theta))
    k = u < p
    s, c = np.sin(theta), np.cos(theta)
    f = np.where(k, s, c)
    score = np.where(k, 1.0 - p, -p)
    pathwise = np.where(k, c, -s)
    loo = (f.sum() - f) / (n - 1)
    g = pathwise + (f - loo) * score
    return f.mean(), g.mean(), g.std(ddof=1) / np.sqrt(n)


ESTIMATORS = [
    ("ScoreFunction(none)", sg.ScoreFunction("none")),
    ("ScoreFunction(leave_one_out)", sg.ScoreFunction("leave_one_out")),
    ("FiniteDifference(0.01, CRN)", sg.FiniteDifference(0.01)),
    ("GumbelSTE(0.5)", sg.GumbelSTE(0.5)),
    ("StochasticDerivative(1)", sg.StochasticDerivative(1)),
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-traced", type=int, default=5000)
    ap.add_argument("--n-batched", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args(argv)
    exact = sincos_exact(THETA)[1]
    print(f"# Sin&Cos at θ = {THETA} (exact dE/dθ = {exact:.6f}); {platform.processor() or platform.machine()}, "
          f"numpy {np.__version__}\n")
    print("| estimator | traced µs/sample | batched ns/sample | batched grad ± stderr |")
    print("|---|---:|---:|---|")
    prog = sincos_batched()
    for name, est in ESTIMATORS:
        f = sincos_arith if isinstance(est, sg.GumbelSTE) else sincos
        t_tr, _ = _best(lambda: sg.value_and_grad(f, est, n=a.n_traced, seed=0)(THETA), 1)
        t_b, e = _best(lambda: sg.value_and_grad(prog, est, n=a.n_batched, seed=0)(THETA), a.repeat)
        print(f"| {name} | {t_tr / a.n_traced * 1e6:.1f} | {t_b / a.n_batched * 1e9:.1f} | "
              f"{e.grad:.5f} ± {e.grad_stderr:.5f} |")
    t_ex, _ = _best(lambda: sg.value_and_grad(sincos, sg.Exact())(THETA), a.repeat)
    print(f"| Exact (2 traces, whole estimate) | {t_ex * 1e6:.1f} | – | {exact:.5f} |")

    n = a.n_batched
    vg = sg.value_and_grad(prog, sg.ScoreFunction("leave_one_out"), n=n, seed=0)
    times_ours, times_ref = [], []
    for _ in range(a.repeat):  # interleaved, so both see the same machine state
        t0 = time.perf_counter()
        ours = vg(THETA)
        times_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = handwritten_reinforce(THETA, n, 0)
        times_ref.append(time.perf_counter() - t0)
    assert np.isclose(ours.grad, ref[1]) and np.isclose(ours.grad_stderr, ref[2])
    to, tr = min(times_ours), min(times_ref)
    print(f"\n# Batched score function vs hand-written NumPy REINFORCE, n = {n:,} (best of {a.repeat})\n")
    print("| implementation | ms | grad ± stderr |")
    print("|---|---:|---|")
    print(f"| stochgrad ScoreFunction(leave_one_out) on a BatchedProgram | {to * 1e3:.1f} | "
          f"{ours.grad:.5f} ± {ours.grad_stderr:.5f} |")
    print(f"| hand-written vectorised NumPy | {tr * 1e3:.1f} | {ref[1]:.5f} ± {ref[2]:.5f} |")
    print(f"| **ratio ours / hand-written** | **{to / tr:.2f}×** | target ≤ 1.5× |")


if __name__ == "__main__":
    main()
