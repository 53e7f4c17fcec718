"""The three mjj distributions (signal, Z/γ*, QCD) at the start and at the optimum (matplotlib, Agg)."""

from __future__ import annotations

import numpy as np

from .grid import fastjet_observables

__all__ = ["plot_mjj"]

_COLOURS = {"hbb": "tab:red", "zbb": "tab:blue", "qcdbb": "0.35"}
_LABELS = {"hbb": "gg → H → bb̄", "zbb": "qq̄ → Z/γ* → bb̄", "qcdbb": "QCD bb̄"}


def plot_mjj(sample, points, path, titles=None, bins=np.arange(40.0, 250.1, 5.0)):
    """One panel per analysis point: the processes' mjj shapes after the pT cut, and the window.

    Each process is drawn normalised to unit area (the yields differ by 10⁴) with its
    expected yield in the window (FastJet anti-kT at the point's R) in the legend.

    Args:
        sample: :class:`~apps.analysis.samples.Sample`.
        points: list of dicts with ``R``, ``lo``, ``hi``, ``pt`` (and optionally ``Z``).
        path: output image file (written via a temporary file beside it, then renamed; its folder is
            created if missing).
        titles: one title per panel.

    Returns:
        ``path``.
    """
    import os

    import matplotlib

    from apps.cliutil import atomic_path

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(points), figsize=(5.2 * len(points), 4.0), squeeze=False)
    try:
        for k, (ax, pt) in enumerate(zip(axes[0], points)):
            mjj, pt1 = fastjet_observables(sample.events, pt["R"])
            base = np.isfinite(mjj) & (pt1 > pt["pt"])
            for p, name in enumerate(sample.names):
                sel = base & (sample.process == p)
                m = mjj[sel]
                win = (m > pt["lo"]) & (m < pt["hi"])
                y = float(sample.weight[sel][win].sum())
                ax.hist(m, bins=bins, density=True, histtype="step", lw=1.5, color=_COLOURS.get(name),
                        label=f"{_LABELS.get(name, name)}: {y:.3g} in window")
            ax.axvspan(pt["lo"], pt["hi"], color="gold", alpha=0.3, label=f"window {pt['lo']:.1f}–{pt['hi']:.1f} GeV")
            z = f", Z = {pt['Z']:.2f}" if pt.get("Z") is not None else ""
            title = titles[k] if titles else ""
            ax.set(xlabel="m_jj of the two leading jets [GeV]", ylabel="normalised events / 5 GeV",
                   title=f"{title}\nanti-kT R = {pt['R']:.2f}, leading-jet pT > {pt['pt']:.0f} GeV{z}")
            ax.legend(fontsize=7)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format=os.path.splitext(path)[1].lstrip(".").lower() or "png")
    finally:
        plt.close(fig)
    return path
