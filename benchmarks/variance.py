"""Variance table: per-sample variance, time per sample and work-normalised variance
(variance × time) of every estimator on Sin&Cos, the three-option cut, the random walk
and a Gillespie immigration-death process, measured in one run.

Run: ``python -m benchmarks.variance [--n N] [--walk-steps 100] [--only PROBLEM]``.
Prints Markdown tables (results recorded in docs/estimators.md).
"""

from __future__ import annotations

import argparse
import time
import warnings

import autograd.numpy as anp
import numpy as np

import stochgrad as sg
from stochgrad.examples import (
    random_walk, random_walk_exact, sincos, sincos_arith, sincos_exact, three_cut, three_cut_exact,
)


@sg.stochastic
def random_walk_arith(p, n=100):
    """The random walk with the step written arithmetically (so GS-STE can use it)."""
    x = 0
    for _ in range(n):
        x = x + 2 * sg.bernoulli(anp.exp(-x / p)) - 1
    return x * x


def _estimators():
    return [
        ("FD-CRN", "fd"),
        ("score, no baseline", sg.ScoreFunction("none")),
        ("score, mean baseline", sg.ScoreFunction("mean")),
        ("score, leave-one-out", sg.ScoreFunction("leave_one_out")),
        ("GS-STE τ=1", sg.GumbelSTE(1.0)),
        ("GS-STE τ=0.1", sg.GumbelSTE(0.1)),
        ("stochastic derivative, inverse-CDF (1 alt.)", sg.StochasticDerivative(1, "inverse_cdf", False)),
        ("stochastic derivative, inverse-CDF (8 alt.)", sg.StochasticDerivative(8, "inverse_cdf", False)),
        ("stochastic derivative, Rao-Blackwellised (4 alt.), no control variates", sg.StochasticDerivative(4, control_variates=False)),
        ("stochastic derivative, Rao-Blackwellised + control variates (1 alt.)", sg.StochasticDerivative(1)),
        ("stochastic derivative, Rao-Blackwellised + control variates (2 alt.)", sg.StochasticDerivative(2)),
        ("stochastic derivative, Rao-Blackwellised + control variates (4 alt.)", sg.StochasticDerivative(4)),
        ("stochastic derivative, Rao-Blackwellised + control variates (8 alt.)", sg.StochasticDerivative(8)),
    ]


def _problems(walk_steps):
    probs = {
        "sincos": dict(title="Sin&Cos, θ = 0.7", f=sincos, f_gs=sincos_arith, theta=0.7, args=(),
                       exact=sincos_exact(0.7)[1], h=0.01),
        "cut": dict(title="three-option cut, θ = 1.3 (β = 2)", f=three_cut, f_gs=three_cut, theta=1.3, args=(),
                    exact=three_cut_exact(1.3)[1], h=0.01),
        "walk": dict(title=f"random walk, n = {walk_steps}, p = 200", f=random_walk, f_gs=random_walk_arith,
                     theta=200.0, args=(walk_steps,), exact=random_walk_exact(200.0, walk_steps)[1], h=2.0),
    }
    try:
        from apps.reactions import immigration_death

        f = immigration_death(T=2.0)
        k, g, T = 10.0, 0.5, 2.0
        exact = np.array([(1 - np.exp(-g * T)) / g,
                          -k / g**2 * (1 - np.exp(-g * T)) + k / g * T * np.exp(-g * T)])
        probs["gillespie"] = dict(title="Gillespie immigration-death, (k, g) = (10, 0.5), T = 2, f = X(T)",
                                  f=f, f_gs=None, theta=np.array([k, g]), args=(), exact=exact, h=0.05)
    except ImportError as e:  # pragma: no cover
        print(f"(skipping Gillespie: {e})")
    return probs


def run_problem(pb, n, seed=0):
    rows = []
    for name, est in _estimators():
        if est == "fd":
            est = sg.FiniteDifference(pb["h"])
            name = f"{name} (h = {pb['h']:g})"
        f = pb["f_gs"] if isinstance(est, sg.GumbelSTE) else pb["f"]
        if f is None:
            rows.append((name, None, "needs an arithmetic form of the program"))
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sg.BiasWarning)
                t0 = time.perf_counter()
                e = sg.value_and_grad(f, est, n=n, seed=seed)(pb["theta"], *pb["args"])
                dt = (time.perf_counter() - t0) / n
        except ValueError as err:
            rows.append((name, None, str(err).split(".")[0]))
            continue
        x = np.asarray(e.samples).reshape(n, -1)
        sq = ((x - x.mean(axis=0)) ** 2).sum(axis=1)  # per-sample squared deviation, summed over θ
        var = sq.sum() / (n - 1)
        var_se = sq.std(ddof=1) / np.sqrt(n)  # the variance estimate's own standard error
        rows.append((name, e, dt, var, var_se))
    return rows


def print_table(pb, rows):
    exact = np.atleast_1d(pb["exact"])
    print(f"\n### {pb['title']}  (exact ∇ = {np.array2string(exact, precision=5)})\n")
    print("| estimator | estimate ± stderr | bias/stderr | sd of one sample (± its stderr) | µs/sample "
          "| var × time (µs) |")
    print("|---|---|---:|---:|---:|---:|")
    sf = [r for r in rows if r[1] is not None and r[0].startswith("score")
          and r[1].estimator != repr(sg.ScoreFunction("mean"))]  # the unbiased score baselines
    best = min(sf, key=lambda r: r[3] * r[2]) if sf else None
    for r in rows:
        if r[1] is None:
            print(f"| {r[0]} | n/a: {r[2]} | | | | |")
            continue
        name, e, dt, var, var_se = r
        g, se = np.atleast_1d(e.grad), np.atleast_1d(e.grad_stderr)
        z = np.max(np.abs(g - exact) / se)
        est = ", ".join(f"{a:.4g} ± {b:.2g}" for a, b in zip(g, se))
        wnv = var * dt * 1e6
        ratio = ""
        if best is not None and name.startswith("stochastic"):
            x = best[3] * best[2] / (var * dt)
            # relative error of the ratio from both variance estimates (timings taken as exact)
            dx = x * np.hypot(best[4] / best[3], var_se / var)
            ratio = (f" ({x:.1f} ± {dx:.1f}× better than best unbiased score)" if x < 1e6 else
                     " (variance at rounding level: the control variates fit this choice exactly)")
        print(f"| {name} | {est} | {z:.1f} | {np.sqrt(var):.3g} ± {var_se / (2 * np.sqrt(var)):.2g} | {dt * 1e6:.0f} | {wnv:.4g}{ratio} |")

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="samples per estimator and problem")
    ap.add_argument("--walk-steps", type=int, default=100)
    ap.add_argument("--only", choices=["sincos", "cut", "walk", "gillespie"], action="append")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    print("Work-normalised variance = (sum over θ components of the per-sample variance) × seconds per sample;")
    print("lower is better. 'bias/stderr' = |estimate − exact| / stderr (max over components).")
    for key, pb in _problems(a.walk_steps).items():
        if a.only and key not in a.only:
            continue
        print_table(pb, run_problem(pb, a.n, a.seed))


if __name__ == "__main__":
    main()
