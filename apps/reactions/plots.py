"""Documentation figures (matplotlib, imported lazily): derivative checks and the telegraph fit."""

from __future__ import annotations

import os

import numpy as np

import stochgrad as sg

from . import exact
from .fit import fit_telegraph, snapshot_data
from .models import immigration_death_network, telegraph_network
from .vectorised import batched_ssa, simulate

__all__ = ["plot_immigration_death", "plot_fit", "make_all"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_immigration_death(path, n=100_000, seed=0):
    """∂E[X(T)]/∂g against g (exact line, score and stochastic-derivative estimates ± 2 se), and per-sample spreads."""
    plt = _plt()
    T, k = 2.0, 10.0
    gs = np.linspace(0.2, 1.2, 6)
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    fine = np.linspace(0.15, 1.25, 100)
    ax[0].plot(fine, [exact.immigration_death_mean_grad([k, g], T)[1] for g in fine], "k-", label="exact")
    per = {}
    for name, est, dx, c in (("score (path)", sg.ScoreFunction(), -0.012, "C0"),
                             ("stochastic derivative", sg.StochasticDerivative(), 0.012, "C3")):
        vals, ses = [], []
        for g in gs:
            prog = batched_ssa(immigration_death_network(), {"X": 0}, T, "X")
            e = sg.value_and_grad(prog, est, n=n, seed=seed)(np.array([k, g]))
            vals.append(e.grad[1])
            ses.append(e.grad_stderr[1])
            if g == gs[2]:
                per[name] = np.asarray(e.samples)[:, 1]
        ax[0].errorbar(gs + dx, vals, yerr=2 * np.array(ses), fmt="o", color=c, ms=4, label=name)
    ax[0].set_xlabel("g")
    ax[0].set_ylabel("∂E[X(T)]/∂g")
    ax[0].set_title(f"immigration–death, k = {k:g}, T = {T:g} (n = {n} per point)")
    ax[0].legend()
    bins = np.linspace(-150, 100, 120)
    for (name, s), c in zip(per.items(), ("C0", "C3")):
        ax[1].hist(np.clip(s, bins[0], bins[-1]), bins=bins, histtype="step", color=c,
                   label=f"{name}: sd {s.std():.1f}", density=True)
    ax[1].set_yscale("log")
    ax[1].set_xlabel(f"per-sample estimate of ∂E[X(T)]/∂g at g = {gs[2]:.2f}")
    ax[1].legend()
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def _save(fig, path):
    from apps.cliutil import atomic_savefig

    atomic_savefig(fig, path, dpi=110)


def plot_fit(path, steps=150, n=4000, seed=0):
    """Telegraph fit: rates over Adam steps (relative to truth) and mRNA histograms (data, start, fit)."""
    plt = _plt()
    res = fit_telegraph(steps=steps, n=n, seed=seed)
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, name in enumerate(["k_on", "k_off", "r"]):
        ax[0].plot(res.history[:, i] / res.true[i], label=name)
    ax[0].axhline(1.0, color="k", lw=0.8)
    ax[0].set_yscale("log")
    ax[0].set_xlabel("Adam step")
    ax[0].set_ylabel("rate / true rate")
    ax[0].set_title("telegraph fit from snapshots (gamma fixed)")
    ax[0].legend()
    data = snapshot_data()[:, 2]
    bins = np.arange(0, max(60, data.max() + 2)) - 0.5
    ax[1].hist(data, bins=bins, density=True, color="0.7", label="data (true rates)")
    for theta, lab, c in ((res.start, "start", "C1"), (res.recovered, "fitted", "C3")):
        m = simulate(telegraph_network(), theta, {"G_off": 1}, 10.0, 20000, seed + 1)["X"][:, 2]
        ax[1].hist(m, bins=bins, density=True, histtype="step", color=c, lw=1.5, label=lab)
    ax[1].set_xlabel("mRNA count at T = 10")
    ax[1].legend()
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path, res


def make_all(out="out/reactions", quick=False):
    """Write ``reactions_*.png`` into ``out`` (never ``docs/`` unless asked); returns the paths.

    Each figure is written to a temporary file and renamed into place.
    """
    os.makedirs(out, exist_ok=True)
    a = plot_immigration_death(os.path.join(out, "reactions_immigration_death.png"), n=5000 if quick else 100_000)
    b, _ = plot_fit(os.path.join(out, "reactions_fit.png"), steps=5 if quick else 150, n=500 if quick else 4000)
    return [a, b]
