"""Figures for problems A and B (matplotlib, Agg backend, written to files)."""

from __future__ import annotations


import numpy as np

__all__ = ["plot_problem_a", "plot_problem_b"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_problem_a(result, path):
    """Hard-cut Z(c) from the exhaustive scan with every method's optimum, and c per Adam step.

    Returns:
        ``path``.
    """
    plt = _plt()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    sc = result["scan"]
    ax.plot(sc["cuts"], sc["values"], color="0.3", lw=0.8, label="hard cut Z(c) (exhaustive scan)")
    ax.axvspan(*sc["best_interval"], color="gold", alpha=0.6, label="best cut")
    for r, m in zip(result["rows"], "o^sDv"):
        ax.plot(r["theta"][0], r["hard_Z"], m, ms=7, mfc="none", label=f"{r['method']}: Z = {r['hard_Z']:.3f}")
    ax.set(xlim=(0.5, 3.0), ylim=(0, None), xlabel="cut c (keep x > c)", ylabel="Asimov Z of the hard cut",
           title="Problem A: hard significance at each optimum")
    ax.legend(fontsize=7)
    for r in result["rows"]:
        bx.plot(np.array(r["history"]["theta"]).reshape(-1), label=r["method"], lw=1)
    bx.axhspan(*sc["best_interval"], color="gold", alpha=0.6)
    bx.set(xlabel="Adam step", ylabel="c", title="Problem A: Adam from c = 6 (s annealed 0.5 → 0.01)")
    bx.legend(fontsize=7)
    return _save(plt, fig, path)


def _save(plt, fig, path):
    """Lay out, write ``fig`` to ``path`` (creating its folder), close it; return ``path``."""
    from apps.cliutil import atomic_savefig

    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)  # creates the folder; temporary file, then rename
    plt.close(fig)
    return path


def plot_problem_b(result, path):
    """Best hard Z against objective evaluations: ours, sigmoid weights, differential evolution.

    Returns:
        ``path``.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    rows = {r["method"]: r for r in result["rows"]}
    for name, r in rows.items():
        if "history" not in r:
            continue
        hard = np.array(r["history"]["hard"])
        per = r["evaluations"] / len(hard)
        ax.plot(per * np.arange(1, len(hard) + 1), hard, lw=1, label=f"{name}: {r['hard_Z']:.3f}")
    de = np.array(result["de_best_so_far"])
    ax.plot(10 * np.arange(1, len(de) + 1), de, lw=1, label=f"differential evolution: {rows['differential evolution']['hard_Z']:.3f}")
    ax.set(xscale="log", xlabel="objective evaluations (MC samples for ours)", ylabel="hard-cut Asimov Z",
           title=f"Problem B: {len(result['cuts'])} thresholds on 5 variables", ylim=(0, None))
    ax.legend(fontsize=8)
    return _save(plt, fig, path)
