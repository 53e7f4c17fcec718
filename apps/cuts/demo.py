"""Problems A and B end to end: every method's optimum, its hard-cut significance, and the tables.

Numbers from here feed the CLI (``stochgrad-cuts demo``), the benchmark and the docs page.
"""

from __future__ import annotations

import numpy as np

import stochgrad as sg

from .optimize import default_estimator, optimize_cuts
from .problems import differential_evolution_cuts, problem_a, problem_b, scan_one_cut
from .selection import soft_objective, stochastic_cut

__all__ = ["run_problem_a", "run_problem_b", "gradient_bias_a", "format_table"]

# The method comparisons of problems A and B: one annealed run each, no restarts, no hard-cut polish
A_SCHEDULE = dict(steps=200, scale=(0.5, 0.01), lr=(0.1, 0.002), n=64, restarts=1, polish=0.0)
B_SCHEDULE = dict(steps=300, scale=(0.3, 0.003), lr=(0.1, 0.002), n=32, restarts=1, polish=0.0)  # scale × bkg std


def _row(name, r, best=None, interval=None):
    row = {"method": name, "theta": np.round(r.theta, 4).tolist(), "hard_Z": r.hard_value,
           "evaluations": r.evaluations, "seconds": round(r.seconds, 2),
           "history": {"theta": r.column("theta").tolist(), "hard": r.column("hard").tolist(),
                       "value": r.column("value").tolist(), "scale": r.column("scale")[:, 0].tolist()}}
    if interval is not None:
        c = float(r.theta[0])
        row["distance_to_best_cut"] = max(interval[0] - c, c - interval[1], 0.0)
        row["Z_below_best"] = best - r.hard_value
    return row


def run_problem_a(seed=0, steps=None):
    """Problem A: exhaustive scan, SD / score-function / sigmoid-weight Adam from c = 6.

    Args:
        seed: data and optimiser seed.
        steps: override the number of Adam steps (tests use fewer).

    Returns:
        dict with ``scan`` (best Z, best-cut interval, curve) and ``rows`` (one per method).
    """
    ev, spec, c0 = problem_a(seed)
    scan = scan_one_cut(ev)
    sched = dict(A_SCHEDULE, **({"steps": steps} if steps else {}))
    fixed = dict(sched, scale=(0.5, 0.5))
    best, iv = scan["best"], scan["interval"]
    runs = [
        ("stochastic cut, SD (ours)", dict(sched, estimator=default_estimator())),
        ("stochastic cut, score fn", dict(sched, estimator=sg.ScoreFunction("leave_one_out"))),
        ("sigmoid weights (relaxed)", dict(sched, method="sigmoid")),
        ("SD, fixed s = 0.5", dict(fixed, estimator=default_estimator())),
        ("sigmoid, fixed s = 0.5", dict(fixed, method="sigmoid")),
    ]
    rows = [_row(name, optimize_cuts(ev, spec, c0, seed=seed, **kw), best, iv) for name, kw in runs]
    return {"problem": "A", "n_events": ev.n, "start": c0, "schedule": sched,
            "scan": {"best_Z": best, "best_interval": list(iv), "best_cut": scan["cut"],
                     "evaluations": len(scan["values"]),
                     "cuts": scan["cuts"].tolist(), "values": scan["values"].tolist()},
            "rows": rows}


def gradient_bias_a(seed=0, cuts=(1.0, 1.4, 2.0, 3.0), scale=0.5, n=4000):
    """dE[Z]/dc (SD estimate ± stderr, unbiased) vs the sigmoid surrogate's derivative on problem A.

    Returns:
        list of dicts ``c, sd, sd_stderr, sigmoid, pull`` (pull = (sigmoid − sd)/stderr).
    """
    ev, spec, _ = problem_a(seed)
    prog = stochastic_cut(ev, spec, scale)
    out = []
    for c in cuts:
        est = sg.value_and_grad(prog, default_estimator(), n=n, seed=seed)(c)
        _, g = soft_objective(ev, spec, c, scale)
        out.append({"c": c, "sd": est.grad, "sd_stderr": est.grad_stderr, "sigmoid": float(g),
                    "pull": (float(g) - est.grad) / est.grad_stderr})
    return out


def run_problem_b(seed=0, steps=None, de_maxiter=200):
    """Problem B: SD and sigmoid-weight Adam vs differential evolution on the hard objective.

    Returns:
        dict with ``rows`` (ours, sigmoid, DE) and DE's best-so-far curve.
    """
    ev, spec, th0, bounds = problem_b(seed)
    std = ev.features[~ev.is_signal][:, spec.variables].std(axis=0)
    sched = dict(B_SCHEDULE, **({"steps": steps} if steps else {}))
    sched["scale"] = (sched["scale"][0] * std, sched["scale"][1] * std)
    de = differential_evolution_cuts(ev, spec, bounds, seed=seed, maxiter=de_maxiter)
    rows = [_row("stochastic cut, SD (ours)", optimize_cuts(ev, spec, th0, seed=seed, **sched)),
            _row("sigmoid weights (relaxed)", optimize_cuts(ev, spec, th0, method="sigmoid", **sched))]
    rows.append({"method": "differential evolution", "theta": np.round(de["theta"], 4).tolist(),
                 "hard_Z": de["hard_value"], "evaluations": de["evaluations"],
                 "seconds": round(de["seconds"], 2)})
    for r in rows:
        r["ratio_to_DE"] = r["hard_Z"] / de["hard_value"]
    return {"problem": "B", "n_events": ev.n, "cuts": spec.labels, "start": th0.tolist(),
            "schedule": {k: (np.asarray(v).tolist() if k == "scale" else v) for k, v in sched.items()},
            "rows": rows, "de_best_so_far": de["best_so_far"][::10].tolist()}


def format_table(result) -> str:
    """A plain-text table of one problem's rows."""
    lines = []
    if result["problem"] == "A":
        sc = result["scan"]
        lines.append(f"Problem A ({result['n_events']} events, start c = {result['start']}): exhaustive scan "
                     f"best Z = {sc['best_Z']:.4f} for c in [{sc['best_interval'][0]:.4f}, "
                     f"{sc['best_interval'][1]:.4f}) ({sc['evaluations']} hard evaluations)")
        lines.append(f"{'method':28s} {'c*':>8s} {'hard Z':>8s} {'ΔZ':>7s} {'|c−best|':>9s} {'evals':>7s} {'s':>6s}")
        for r in result["rows"]:
            lines.append(f"{r['method']:28s} {r['theta'][0]:8.4f} {r['hard_Z']:8.4f} {r['Z_below_best']:7.4f} "
                         f"{r['distance_to_best_cut']:9.4f} {r['evaluations']:7d} {r['seconds']:6.2f}")
    else:
        lines.append(f"Problem B ({result['n_events']} events, {len(result['cuts'])} thresholds: "
                     f"{', '.join(result['cuts'])})")
        lines.append(f"{'method':28s} {'hard Z':>8s} {'/ DE':>7s} {'evals':>7s} {'s':>6s}  thresholds")
        for r in result["rows"]:
            th = " ".join(f"{v:.3f}" for v in r["theta"])
            lines.append(f"{r['method']:28s} {r['hard_Z']:8.4f} {r['ratio_to_DE']:7.4f} {r['evaluations']:7d} "
                         f"{r['seconds']:6.2f}  {th}")
    return "\n".join(lines)
