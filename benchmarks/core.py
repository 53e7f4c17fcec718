"""Benchmark of the core estimators on Sin&Cos: cost per sample, traced and batched,
the batched score-function path against a hand-written vectorised NumPy REINFORCE,
and the traced estimators on StochasticAD.jl's 100-step random walk against a
hand-written plain-Python REINFORCE loop measured in the same process.

The walk runs written with ``stochgrad.numpy`` (the fast namespace) and with
``autograd.numpy`` side by side.

Run: ``python -m benchmarks.core [--n-traced N] [--n-batched N] [--n-walk N] [--repeat R] [--against REV]``.
Prints Markdown tables (results are recorded in docs/benchmarks.md). With
``--against REV`` (e.g. ``main``) the library of git revision ``REV`` is
extracted to a temporary directory and both libraries are timed by this same
benchmark code, in subprocesses taking turns (one repeat each, ``--repeat``
rounds), and a before/after table is printed (CPU µs per sample, best of the
rounds).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

import autograd.numpy as anp
import numpy as np

import stochgrad as sg
from stochgrad.examples import random_walk_exact, sincos, sincos_arith, sincos_batched, sincos_exact

try:
    import stochgrad.numpy as snp
    if os.path.dirname(snp.__file__) != os.path.dirname(sg.__file__):  # found in another checkout: not this library's
        snp = None
except ImportError:  # a revision before the namespace existed (--against): its rows read n/a
    snp = None


from stochgrad.examples import random_walk  # noqa: E402  (written with stochgrad.numpy since it exists)


@sg.stochastic
def walk_anp(p, n=100):
    """The walk written with ``autograd.numpy`` (module-level names, as a user writes it)."""
    x = 0
    for _ in range(n):
        x += 1 if sg.bernoulli(anp.exp(-x / p)) else -1
    return x * x


@sg.stochastic
def walk_snp(p, n=100):
    """The same walk written with ``stochgrad.numpy``."""
    x = 0
    for _ in range(n):
        x += 1 if sg.bernoulli(snp.exp(-x / p)) else -1
    return x * x


if snp is None:
    walk_snp = None

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


def sincos_rows(n_traced, n_batched, repeat):
    """``{row: (traced CPU s/sample, batched wall s/sample, batched grad, stderr)}`` on Sin&Cos."""
    out = {}
    prog = sincos_batched()
    for name, est in ESTIMATORS:
        f = sincos_arith if isinstance(est, sg.GumbelSTE) else sincos
        t_tr, _ = _best_cpu(lambda: sg.value_and_grad(f, est, n=n_traced, seed=0)(THETA), repeat)
        t_b, e = _best(lambda: sg.value_and_grad(prog, est, n=n_batched, seed=0)(THETA), repeat)
        out[name] = (t_tr / n_traced, t_b / n_batched, float(e.grad), float(e.grad_stderr))
    t_ex, _ = _best_cpu(lambda: sg.value_and_grad(sincos, sg.Exact())(THETA), repeat)
    out["Exact (2 traces, whole estimate)"] = (t_ex, None, float(sincos_exact(THETA)[1]), 0.0)
    return out


def batched_rows(n, repeat):
    """Batched score function vs the hand-written vectorised REINFORCE, wall seconds (best of ``repeat``)."""
    vg = sg.value_and_grad(sincos_batched(), sg.ScoreFunction("leave_one_out"), n=n, seed=0)
    times_ours, times_ref = [], []
    for _ in range(repeat):  # interleaved, so both see the same machine state
        t0 = time.perf_counter()
        ours = vg(THETA)
        times_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = handwritten_reinforce(THETA, n, 0)
        times_ref.append(time.perf_counter() - t0)
    assert np.isclose(ours.grad, ref[1]) and np.isclose(ours.grad_stderr, ref[2])
    return {"stochgrad ScoreFunction(leave_one_out) on a BatchedProgram": (min(times_ours), ours.grad, ours.grad_stderr),
            "hand-written vectorised NumPy": (min(times_ref), ref[1], ref[2])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-traced", type=int, default=5000)
    ap.add_argument("--n-batched", type=int, default=1_000_000)
    ap.add_argument("--n-walk", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--against", metavar="REV", help="time the library of git revision REV beside this one")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # one side of --against
    a = ap.parse_args(argv)
    for name in ("n_traced", "n_batched", "n_walk"):
        if getattr(a, name) < 2:
            ap.error(f"--{name.replace('_', '-')} must be at least 2")
    if a.repeat < (1 if a.json else 2):
        ap.error("--repeat must be at least 2")
    if a.json:
        sc = sincos_rows(a.n_traced, a.n_batched, a.repeat)
        rows = {f"Sin&Cos traced, {k}": v[0] for k, v in sc.items()}
        rows.update({f"Sin&Cos batched, {k}": v[1] for k, v in sc.items() if v[1] is not None})
        rows.update({f"walk, {k}": v[0] for k, v in walk_rows(a.n_walk, a.repeat).items()})
        print(json.dumps(rows))
        return 0
    if a.against:
        side_by_side("benchmarks.core", a.against, a.repeat,
                     ["--n-traced", str(a.n_traced), "--n-batched", str(a.n_batched), "--n-walk", str(a.n_walk)])
        return 0
    exact = sincos_exact(THETA)[1]
    print(f"# Sin&Cos at θ = {THETA} (exact dE/dθ = {exact:.6f}); {platform.processor() or platform.machine()}, "
          f"numpy {np.__version__}\n")
    print("| estimator | traced µs/sample (CPU, best of --repeat) | batched ns/sample | batched grad ± stderr |")
    print("|---|---:|---:|---|")
    for name, (tr, tb, g, se) in sincos_rows(a.n_traced, a.n_batched, a.repeat).items():
        if tb is None:
            print(f"| {name} | {tr * 1e6:.1f} | – | {g:.5f} |")
        else:
            print(f"| {name} | {tr * 1e6:.1f} | {tb * 1e9:.1f} | {g:.5f} ± {se:.5f} |")
    rows = batched_rows(a.n_batched, a.repeat)
    (to, g, se), (tr, gr, ser) = rows.values()
    print(f"\n# Batched score function vs hand-written NumPy REINFORCE, n = {a.n_batched:,} (best of {a.repeat})\n")
    print("| implementation | ms | grad ± stderr |")
    print("|---|---:|---|")
    for name, (t, g, se) in rows.items():
        print(f"| {name} | {t * 1e3:.1f} | {g:.5f} ± {se:.5f} |")
    print(f"| **ratio ours / hand-written** | **{to / tr:.2f}×** | target ≤ 1.5× |")
    print_walk(a.n_walk, a.repeat)
    return 0


def walk_rows(n, repeat, p=200.0, steps=100):
    """``{row: (CPU s/sample, wall s/sample, grad, stderr)}`` on the 100-step walk, rows timed round-robin."""
    rows = [(NUMPY_LOOP, lambda: handwritten_walk_reinforce_numpy(p, steps, n, 0)),
            (MATH_LOOP, lambda: handwritten_walk_reinforce(p, steps, n, 0))]
    for name, est in (("ScoreFunction(leave_one_out)", sg.ScoreFunction()),
                      ("StochasticDerivative(1)", sg.StochasticDerivative(1)),
                      ("StochasticDerivative(1, control_variates=False)",
                       sg.StochasticDerivative(1, control_variates=False))):
        for prog, label in ((random_walk, "stochgrad.examples.random_walk"), (walk_snp, "stochgrad.numpy"),
                            (walk_anp, "autograd.numpy")):
            if prog is not None:
                vg = sg.value_and_grad(prog, est, n=n, seed=0)
                rows.append((f"stochgrad {name}, walk written with {label}", lambda vg=vg: vg(p, steps)))
    times = [[] for _ in rows]
    cpu = [[] for _ in rows]
    results = [None] * len(rows)
    for _ in range(repeat):  # interleaved, so every row sees the same machine state
        for j, (_, fn) in enumerate(rows):
            t0, c0 = time.perf_counter(), time.process_time()
            results[j] = fn()
            cpu[j].append(time.process_time() - c0)
            times[j].append(time.perf_counter() - t0)
    out = {}
    for (name, _), t, c, r in zip(rows, times, cpu, results):
        g, se = (r[1], r[2]) if isinstance(r, tuple) else (r.grad, r.grad_stderr)
        out[name] = (min(c) / n, min(t) / n, float(g), float(se))
    return out


NUMPY_LOOP = "hand-written plain-Python REINFORCE, NumPy scalars (the issue's reference)"
MATH_LOOP = "hand-written plain-Python REINFORCE, math module"


def print_walk(n, repeat, p=200.0, steps=100):
    """The traced estimators on the 100-step walk against the hand-written plain-Python REINFORCE."""
    exact = random_walk_exact(p, steps)[1]
    rows = walk_rows(n, repeat, p, steps)
    ref_cpu, ref = rows[NUMPY_LOOP][:2]
    math_cpu = rows[MATH_LOOP][0]
    print(f"\n# Random walk (StochasticAD.jl): 100 steps, p = {p:g}, f = X², exact dE/dp = {exact:.4f}; "
          f"n = {n}, best of {repeat}\n")
    print("| implementation | µs/sample CPU (wall) | × NumPy-scalar loop, CPU (wall) | × math-module loop, CPU "
          "| grad ± stderr |")
    print("|---|---:|---:|---:|---|")
    for name, (c, t, g, se) in rows.items():
        print(f"| {name} | {c * 1e6:.0f} ({t * 1e6:.0f}) | {c / ref_cpu:.2f}× ({t / ref:.2f}×) | {c / math_cpu:.2f}× "
              f"| {g:.3f} ± {se:.3f} |")
    print("\nTargets: score function with stochgrad.numpy ≤ 2× the NumPy-scalar loop on the walk; ≤ 25 µs/sample "
          "fixed cost on Sin&Cos (score function and stochastic derivative, table above).")


def side_by_side(module, rev, repeat, args):
    """Time ``module`` (a benchmark with a ``--json`` side) on the library of ``rev`` and on this one, taking turns.

    The library of ``rev`` is extracted (``git archive``) next to a copy of this
    checkout's ``benchmarks/``, so the same benchmark code times both; each
    round runs one subprocess per side (``--repeat 1``); the best of the rounds
    is kept. Prints a Markdown table of CPU µs per sample, before and after.
    """
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="bench-before-") as old:
        sha = subprocess.run(["git", "-C", here, "rev-parse", "--short", rev], check=True, capture_output=True,
                             text=True).stdout.strip()
        arch = subprocess.run(["git", "-C", here, "archive", rev, "stochgrad"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", old], input=arch, check=True)
        subprocess.run(["cp", "-r", os.path.join(here, "benchmarks"), old], check=True)
        best = {"before": {}, "after": {}}
        for _ in range(repeat):
            for side, cwd in (("before", old), ("after", here)):
                env = dict(os.environ, PYTHONPATH=cwd)
                out = subprocess.run([sys.executable, "-m", module, "--json", "--repeat", "1", *args], cwd=cwd, env=env,
                                     check=True, capture_output=True, text=True).stdout
                for k, v in json.loads(out.strip().splitlines()[-1]).items():
                    best[side][k] = min(best[side].get(k, np.inf), v)
    print(f"# {module}: library of {rev} ({sha}) and of this checkout, the same benchmark code, "
          f"best of {repeat} rounds taking turns; CPU µs per sample\n")
    print("| row | before | after | after / before |")
    print("|---|---:|---:|---:|")
    for k in list(best["after"]) + [k for k in best["before"] if k not in best["after"]]:
        b, a = best["before"].get(k), best["after"].get(k)
        fb = "n/a" if b is None else f"{b * 1e6:.2f}"
        fa = "n/a" if a is None else f"{a * 1e6:.2f}"
        r = "–" if a is None or b is None else f"{a / b:.2f}×"
        print(f"| {k} | {fb} | {fa} | {r} |")


if __name__ == "__main__":
    sys.exit(main())
