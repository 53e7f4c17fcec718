"""Figures of the honest R optimisation: independent runs with R* ± its uncertainty, and mjj with robust summaries.

* :func:`runs_figure` — R per step for every independent run of every start, the
  tail (averaging window) shaded, each start's R* with its Monte-Carlo band (± sd/√n
  over the runs), and the loss per step;
* :func:`mjj_summary_figure` — dijet-mass histograms whose legend carries the
  median, IQR and the fraction within the window, each ± its event-to-event
  bootstrap sd (the number of resamples is in the title).
"""

from __future__ import annotations

import numpy as np

from .mjj import HIGGS_MASS, exp_label, mass_name, save_figure, style

__all__ = ["runs_figure", "mjj_summary_figure"]


def runs_figure(starts, path, loss="window", label=None, target=None):
    """R per step of independent runs, grouped by start, with each start's R* ± Monte-Carlo sd/√n.

    Args:
        starts: list of ``(label, summary)``; ``summary`` as written by ``stochgrad-jets
            optimize`` (``R``, ``R_stderr``, ``tail_steps`` and ``runs`` with
            ``R_history`` and ``loss_history``).
        path: output image.
        loss: the loss's name (axis label); target: its mass (GeV, axis label).
        label: what the events are (title).
    """
    with style() as plt:
        fig, ax = plt.subplots(1, 2, figsize=(16, 6.5))
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for i, (name, s) in enumerate(starts):  # (not `label`: that is the title, what the events are)
            c = colors[i % len(colors)]
            for j, run in enumerate(s["runs"]):
                steps = np.arange(len(run["R_history"]))
                ax[0].plot(steps, run["R_history"], color=c, lw=1, alpha=0.6,
                           label=f"{name}: {len(s['runs'])} independent runs" if j == 0 else None)
                ax[1].plot(steps, run["loss_history"], color=c, lw=1, alpha=0.6,
                           label=name if j == 0 else None)
            n = len(s["runs"][0]["R_history"])
            se = s.get("R_stderr") or 0.0
            ax[0].axhspan(s["R"] - se, s["R"] + se, color=c, alpha=0.3, lw=0)
            ax[0].axhline(s["R"], color=c, ls="--", lw=1.5,
                          label=f"{name}: R* = {s['R']:.3f} ± {se:.3f} (MC, sd/√n)")
            ax[0].axvspan(n - s["tail_steps"] - 0.5, n - 0.5, color="0.9", zorder=0,
                          label="tail (averaged)" if i == 0 else None)
        ax[0].set(xlabel="step", ylabel="jet radius R")
        ax[1].set(xlabel="step", ylabel=f"{loss} loss per step")
        ax[0].legend(fontsize="x-small")
        ax[1].legend(fontsize="x-small", title=None if target is None else f"target {target:g} GeV",
                     title_fontsize="x-small")
        exp_label(ax[0], label)  # once: the panels share the events
        fig.tight_layout()
        return save_figure(fig, path)


def mjj_summary_figure(samples, path, width=15.0, bins=60, range_=(0.0, 300.0), title=None, label=None,
                       density=False, target=HIGGS_MASS):
    """Dijet-mass histograms with robust summaries in the legend.

    Args:
        samples: list of ``(label, mjj, summary)``; ``summary`` from
            :func:`apps.jets.study.robust.mass_summary`.
        path: output image.
        width: the window's half-width (GeV) around ``target`` (the mass aimed at, GeV).
        bins, range_: regular binning in GeV.
        title: legend title (clustering settings); the error convention is appended.
        label: top-left process label (default the H→bb̄ sample's).
        density: normalise each histogram to unit area (to compare shapes).
    """
    import hist

    with style() as plt:
        fig, ax = plt.subplots(figsize=(10, 7.5))
        n_res, top = None, 0.0
        for lab, m, s in samples:
            m = np.asarray(m, dtype=float).ravel()
            ok = np.isfinite(m)
            h = hist.Hist.new.Reg(bins, *range_, name="mjj").Double()
            h.fill(m[ok])
            edges, counts = h.axes[0].edges, h.values()
            err = np.sqrt(counts)
            if density:
                norm = max(counts.sum(), 1) * (edges[1] - edges[0])
                counts, err = counts / norm, err / norm
            text = (f"{lab}\n median {s['median']:.1f}±{s['median_sd']:.1f}, IQR {s['iqr']:.1f}±{s['iqr_sd']:.1f} GeV,"
                    f" in window {s['frac_window']:.3f}±{s['frac_window_sd']:.3f}")
            st = ax.stairs(counts, edges, label=text, lw=1.5)
            top = max(top, float(np.max(counts + err)) if len(counts) else 0.0)
            ax.stairs(counts + err, edges, baseline=np.maximum(counts - err, 0), fill=True, alpha=0.25,
                      color=st.get_edgecolor(), lw=0)
            n_res = s["n_resamples"]
        if width:
            ax.axvspan(target - width, target + width, color="0.85", zorder=0,
                       label=f"window {mass_name(target)} = {target:g} ± {width:g} GeV")
        ax.axvline(target, color="k", ls="--", lw=1)
        ax.set_xlabel(r"$m_{jj}$ [GeV]")
        unit = f"{(range_[1] - range_[0]) / bins:g} GeV"
        ax.set_ylabel(f"fraction / {unit}" if density else f"events / {unit}")
        ax.set_xlim(*range_)
        ax.set_ylim(0, top * (1.35 + 0.22 * len(samples)) or 1.0)  # room for the legend above the histograms
        note = f"± : event-to-event bootstrap sd ({n_res} resamples); bands: Poisson"
        ax.legend(fontsize="xx-small", loc="upper right", title=f"{title}\n{note}" if title else note,
                  title_fontsize="xx-small")
        exp_label(ax, label)
        fig.tight_layout()
        return save_figure(fig, path)
