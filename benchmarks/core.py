"""Benchmark of the core estimators on Sin&Cos: cost per sample, traced and batched,
the batched score-function path against a hand-written vectorised NumPy REINFORCE,
and the traced estimators on StochasticAD.jl's 100-step random walk against a
hand-written plain-Python REINFORCE loop measured in the same process.

Run: ``python -m benchmarks.core [--n-traced N] [--n-batched N] [--n-walk N] [--repeat R]``.
Prints Markdown tables (results are recorded in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np

import stochgrad as sg
from stochgrad.examples import random_walk, random_walk_exact, sincos, sincos_arith, sincos_batched, sincos_exact

THETA = 0.7


def _best(fn, repeat, clock=time.perf_counter):
    """Best of ``repeat`` calls of ``fn`` on ``clock`` (wall time by default); returns (seconds, last output)."""
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = clock()
        out = fn()
        best = min(best, clock() - t0)
    return best, out


def _best_cpu(fn, repeat):
    """Best of ``repeat`` in CPU time of this process (robust to other work on a shared machine)."""
    return _best(fn, repeat, time.process_time)


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


def _loo_summary(f, score):
    """``(mean f, mean gradient, stderr)`` of REINFORCE with a leave-one-out baseline, from per-sample f and score."""
    n = len(f)
    g = (f - (f.sum() - f) / (n - 1)) * score
    return f.mean(), g.mean(), g.std(ddof=1) / np.sqrt(n)


def handwritten_walk_reinforce(p, steps, n, seed):
    """Plain-Python REINFORCE on the random walk (leave-one-out baseline): the reference a user would write.

    Per sample: the walk's uniforms in one NumPy call, then a Python loop that
    moves X and accumulates the score ``d log P / dp`` by hand
    (``q = exp(−X/p)``, ``dq/dp = q X / p²``). Returns ``(mean f, mean grad, stderr)``.
    """
    rng = np.random.default_rng(seed)
    f = np.empty(n)
    score = np.empty(n)
    pp = p * p
    for i in range(n):
        u = rng.random(steps).tolist()
        x, s = 0, 0.0
        for j in range(steps):
            q = math.exp(-x / p)
            dq = q * x / pp
            if u[j] < q:
                s += dq / q
                x += 1
            else:
                s -= dq / (1.0 - q)
                x -= 1
        f[i] = x * x
        score[i] = s
    return _loo_summary(f, score)


def handwritten_walk_reinforce_numpy(p, steps, n, seed):
    """The same REINFORCE loop written with NumPy scalars (``rng.random()`` and ``np.exp`` per step).

    This is how the issue's reference was written (0.12 ms per sample then);
    :func:`handwritten_walk_reinforce` is the tighter ``math``-module version.
    """
    rng = np.random.default_rng(seed)
    f = np.empty(n)
    score = np.empty(n)
    for i in range(n):
        x, s = 0, 0.0
        for _ in range(steps):
            q = np.exp(-x / p)
            dq = q * x / p**2
            if rng.random() < q:
                s += dq / q
                x += 1
            else:
                s -= dq / (1.0 - q)
                x -= 1
        f[i] = x * x
        score[i] = s
    return _loo_summary(f, score)


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
    ap.add_argument("--n-walk", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args(argv)
    for name in ("n_traced", "n_batched", "n_walk", "repeat"):
        if getattr(a, name) < 2:
            ap.error(f"--{name.replace('_', '-')} must be at least 2")
    exact = sincos_exact(THETA)[1]
    print(f"# Sin&Cos at θ = {THETA} (exact dE/dθ = {exact:.6f}); {platform.processor() or platform.machine()}, "
          f"numpy {np.__version__}\n")
    print("| estimator | traced µs/sample (CPU, best of --repeat) | batched ns/sample | batched grad ± stderr |")
    print("|---|---:|---:|---|")
    prog = sincos_batched()
    for name, est in ESTIMATORS:
        f = sincos_arith if isinstance(est, sg.GumbelSTE) else sincos
        t_tr, _ = _best_cpu(lambda: sg.value_and_grad(f, est, n=a.n_traced, seed=0)(THETA), a.repeat)
        t_b, e = _best(lambda: sg.value_and_grad(prog, est, n=a.n_batched, seed=0)(THETA), a.repeat)
        print(f"| {name} | {t_tr / a.n_traced * 1e6:.1f} | {t_b / a.n_batched * 1e9:.1f} | "
              f"{e.grad:.5f} ± {e.grad_stderr:.5f} |")
    t_ex, _ = _best_cpu(lambda: sg.value_and_grad(sincos, sg.Exact())(THETA), a.repeat)
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

    walk(a.n_walk, a.repeat)


def walk(n, repeat, p=200.0, steps=100):
    """The traced estimators on the 100-step walk against the hand-written plain-Python REINFORCE."""
    exact = random_walk_exact(p, steps)[1]
    rows = [("hand-written plain-Python REINFORCE, NumPy scalars (the issue's reference)",
             lambda: handwritten_walk_reinforce_numpy(p, steps, n, 0)),
            ("hand-written plain-Python REINFORCE, math module", lambda: handwritten_walk_reinforce(p, steps, n, 0))]
    for name, est in (("stochgrad ScoreFunction(leave_one_out)", sg.ScoreFunction()),
                      ("stochgrad StochasticDerivative(1)", sg.StochasticDerivative(1)),
                      ("stochgrad StochasticDerivative(1, control_variates=False)",
                       sg.StochasticDerivative(1, control_variates=False))):
        vg = sg.value_and_grad(random_walk, est, n=n, seed=0)
        rows.append((name, lambda vg=vg: vg(p, steps)))
    times = [[] for _ in rows]
    cpu = [[] for _ in rows]
    results = [None] * len(rows)
    for _ in range(repeat):  # interleaved, so every row sees the same machine state
        for j, (_, fn) in enumerate(rows):
            t0, c0 = time.perf_counter(), time.process_time()
            results[j] = fn()
            cpu[j].append(time.process_time() - c0)
            times[j].append(time.perf_counter() - t0)
    ref, ref_cpu = min(times[0]) / n, min(cpu[0]) / n
    print(f"\n# Random walk (StochasticAD.jl): 100 steps, p = {p:g}, f = X², exact dE/dp = {exact:.4f}; "
          f"n = {n}, best of {repeat}\n")
    print("| implementation | µs/sample CPU (wall) | × hand-written, CPU (wall) | grad ± stderr |")
    print("|---|---:|---:|---|")
    for (name, _), t, c, r in zip(rows, times, cpu, results):
        g, se = (r[1], r[2]) if isinstance(r, tuple) else (r.grad, r.grad_stderr)
        print(f"| {name} | {min(c) / n * 1e6:.0f} ({min(t) / n * 1e6:.0f}) | "
              f"{min(c) / n / ref_cpu:.2f}× ({min(t) / n / ref:.2f}×) | {g:.3f} ± {se:.3f} |")
    print("\nTargets: ≤ 3× the hand-written loop on the walk; ≤ 25 µs/sample fixed cost on Sin&Cos (score "
          "function and stochastic derivative, table above).")


if __name__ == "__main__":
    main()
