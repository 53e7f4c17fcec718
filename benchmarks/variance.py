"""Variance table: per-sample variance, time per sample and work-normalised variance
(variance × time) of every estimator on Sin&Cos, the three-option cut, the random walk
and a Gillespie immigration-death process, measured in one run; and the distribution
families (binomial, geometric, Poisson) written natively beside the Bernoulli /
categorical detours they needed before.

Run: ``python -m benchmarks.variance [--n N] [--walk-steps 100] [--only PROBLEM]``.
Prints Markdown tables (results recorded in docs/estimators.md).
"""

from __future__ import annotations

import argparse
import time
import warnings

import stochgrad.numpy as anp  # autograd.numpy, fast on the floats and dual numbers of a run
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
        err = np.abs(g - exact)
        slack = 1e-12 * np.maximum(1.0, np.abs(exact))  # an estimate exact to rounding has stderr 0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.max(np.where(err <= slack, 0.0, err / se))
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

def _binomial_pmf(n, p):
    import math
    return anp.array([math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)])


def _poisson_pmf(lam, K):
    """The Poisson pmf on 0..K, renormalised (the detour's truncation)."""
    import math
    q = anp.array([anp.exp(-lam) * lam ** k / math.factorial(k) for k in range(K + 1)])
    return q / anp.sum(q)


def family_programs():
    """A family written natively beside the detours it needed before (Bernoulli loops, one categorical)."""
    def sig(t):
        return 1.0 / (1.0 + anp.exp(-t))

    def geometric_loop(p):
        k = 0
        while not sg.bernoulli(p):
            k += 1
        return k

    return [
        ("Binomial(20, σ(θ)), f = (X + 1)², θ = 0.3", 0.3, [
            ("native sg.binomial(20, p)", lambda t: (sg.binomial(20, sig(t)) + 1) ** 2),
            ("20 × sg.bernoulli(p)", lambda t: (sum(sg.bernoulli(sig(t)) for _ in range(20)) + 1) ** 2),
            ("one sg.categorical over 0..20", lambda t: (sg.categorical(probs=_binomial_pmf(20, sig(t))) + 1) ** 2),
        ]),
        ("Geometric(σ(θ)) (failures), f = (X + 1)², θ = 0.3", 0.3, [
            ("native sg.geometric(p)", lambda t: (sg.geometric(sig(t)) + 1) ** 2),
            ("Bernoulli loop until success", lambda t: (geometric_loop(sig(t)) + 1) ** 2),
        ]),
        ("Poisson(exp θ), f = (X + 1)², θ = 1.0", 1.0, [
            ("native sg.poisson(λ)", lambda t: (sg.poisson(anp.exp(t)) + 1) ** 2),
            ("one sg.categorical over 0..30 (truncated, renormalised)",
             lambda t: (sg.categorical(probs=_poisson_pmf(anp.exp(t), 30)) + 1) ** 2),
        ]),
    ]


def families_table(n, seed=0):
    """Per-sample sd and cost of the native families against their detours (stochastic derivative and score)."""
    ests = [("SD (1 alt.), no control variates", sg.StochasticDerivative(1, control_variates=False)),
            ("SD (1 alt.) + control variates", sg.StochasticDerivative(1)),
            ("score, no baseline", sg.ScoreFunction("none"))]
    for title, theta, progs in family_programs():
        exact = sg.value_and_grad(progs[0][1], sg.Exact())(theta).grad
        print(f"\n### {title}  (exact dE/dθ = {exact:.5g}, by Exact on the native form)\n")
        print("| program | estimator | estimate ± stderr | sd of one sample | µs/sample |")
        print("|---|---|---|---:|---:|")
        for pname, prog in progs:
            for ename, est in ests:
                t0 = time.perf_counter()
                e = sg.value_and_grad(prog, est, n=n, seed=seed)(theta)
                dt = (time.perf_counter() - t0) / n
                print(f"| {pname} | {ename} | {e.grad:.4g} ± {e.grad_stderr:.2g} | {np.std(e.samples, ddof=1):.3g} "
                      f"| {dt * 1e6:.0f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="samples per estimator and problem")
    ap.add_argument("--walk-steps", type=int, default=100)
    ap.add_argument("--only", choices=["sincos", "cut", "walk", "gillespie", "families"], action="append")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    print("Work-normalised variance = (sum over θ components of the per-sample variance) × seconds per sample;")
    print("lower is better. 'bias/stderr' = |estimate − exact| / stderr (max over components).")
    if a.n < 2:
        ap.error("--n must be at least 2")
    for key, pb in _problems(a.walk_steps).items():
        if a.only and key not in a.only:
            continue
        print_table(pb, run_problem(pb, a.n, a.seed))
    if not a.only or "families" in a.only:
        families_table(a.n, a.seed)


if __name__ == "__main__":
    main()
