"""Figures for the jets CLI: ``hist`` histograms in ``mplhep`` styling, uncertainties as bands.

* :func:`mjj_figure` — dijet-mass histograms (one per clustering), the Higgs mass
  line (labelled), the loss window shaded, statistical (Poisson) bands;
* :func:`optimize_figure` — the loss per step with its ±1 standard-error band and R
  per step with R* marked (global), or the distribution of R per event (per event);
* :func:`scan_figure` — the expected loss against R, ±1 standard-error band, R* marked.

Every figure is written atomically (a temporary file in the same folder, then renamed).
The style is applied in a context (``mplhep.style.ROOT``), so nothing global changes.
"""

from __future__ import annotations

import contextlib

import numpy as np

__all__ = ["mjj_figure", "mjj_at_radii", "optimize_figure", "scan_figure", "save_figure", "HIGGS_MASS",
           "DEFAULT_LABEL", "mass_name"]

HIGGS_MASS = 125.0
DEFAULT_LABEL = "Pythia 8 gg → H → bb̄, √s = 13 TeV"  # the embedded sample's


@contextlib.contextmanager
def style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        import mplhep

        ctx = plt.style.context(mplhep.style.ROOT)
    except ImportError:  # styling is optional: plain matplotlib
        ctx = contextlib.nullcontext()
    with ctx:
        yield plt


def save_figure(fig, path, dpi=110):
    """Save ``fig`` to ``path`` atomically (format from the extension) and close it."""
    import matplotlib.pyplot as plt

    from apps.cliutil import atomic_savefig  # temporary file with the mode open() would give, then a rename

    try:
        atomic_savefig(fig, str(path), dpi=dpi)
    finally:
        plt.close(fig)
    return path


def _band(ax, x, y, err, label=None, **kw):
    x, y, err = (np.asarray(v, dtype=float) for v in (x, y, err))
    (line,) = ax.plot(x, y, label=label, **kw)
    ax.fill_between(x, y - err, y + err, color=line.get_color(), alpha=0.25, lw=0)
    return line


def exp_label(ax, label=None):
    """The top-left title: ``label`` (what the events are; default the embedded H → bb̄ sample's)."""
    ax.set_title(r"$\bf{stochgrad}$ $\it{Simulation}$   " + (label or DEFAULT_LABEL), loc="left", fontsize="x-small")


def mass_name(target):
    """``$m_H$`` at 125 GeV, ``$m_Z$`` at 91.19 GeV, else ``target`` (for legends)."""
    return r"$m_H$" if target == HIGGS_MASS else r"$m_Z$" if abs(target - 91.19) < 0.01 else "target"


def mjj_figure(samples, path, width=15.0, bins=60, range_=(0.0, 300.0), title=None, label=None, target=HIGGS_MASS):
    """Dijet-mass histograms with the target-mass line, the ±width window and Poisson bands.

    Args:
        samples: list of ``(label, mjj)`` (NaN entries — events without two jets — are skipped
            and their fraction is given in the legend).
        path: output image.
        width: half-width of the mass window shaded around ``target`` (None: no window).
        bins, range_: the histogram's regular binning in GeV.
        title: optional x-axis annotation (clustering settings).
        label: what the events are (top-left title); target: the mass aimed at (GeV).
    """
    import hist

    with style() as plt:
        fig, ax = plt.subplots(figsize=(10, 7.5))
        for label, m in samples:
            m = np.asarray(m, dtype=float).ravel()
            ok = np.isfinite(m)
            h = hist.Hist.new.Reg(bins, *range_, name="mjj", label=r"$m_{jj}$ [GeV]").Double()
            h.fill(m[ok])
            edges, counts = h.axes[0].edges, h.values()
            err = np.sqrt(counts)
            st = ax.stairs(counts, edges, label=f"{label} ({ok.mean():.0%} with 2 jets)", lw=1.5)
            ax.stairs(counts + err, edges, baseline=np.maximum(counts - err, 0), fill=True, alpha=0.25,
                      color=st.get_edgecolor(), lw=0)
        if width:
            ax.axvspan(target - width, target + width, color="0.85", zorder=0,
                       label=f"window {mass_name(target)} ± {width:g} GeV")
        ax.axvline(target, color="k", ls="--", lw=1, label=f"{mass_name(target)} = {target:g} GeV")
        ax.set_xlabel(r"$m_{jj}$ [GeV]")
        ax.set_ylabel(f"events / {(range_[1] - range_[0]) / bins:g} GeV")
        ax.set_xlim(*range_)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize="x-small", loc="upper right", title=title, title_fontsize="x-small")
        exp_label(ax, label)
        fig.tight_layout()
        return save_figure(fig, path)


def mjj_at_radii(events, radii, path, ptmin=20.0, width=15.0, label=None, target=HIGGS_MASS):
    """:func:`mjj_figure` of anti-kT dijet masses at each ``(label, R)`` (R* marked in the legend).

    Args:
        events: anything :func:`apps.jets.cluster` accepts.
        radii: list of ``(label, R)``; the label is shown as ``label (R = ...)``.
        path, width: as :func:`mjj_figure`; ptmin: jet pT threshold in GeV.
    """
    from ..clustering.engine import cluster

    samples = [(f"{lab} (R = {R:.3f})", cluster(events, float(R)).mjj(ptmin=ptmin)[:, 0]) for lab, R in radii]
    return mjj_figure(samples, path, width=width, title=f"anti-kT, two leading jets, $p_T$ > {ptmin:g} GeV",
                      label=label, target=target)


def optimize_figure(history, path, loss="window", per_event=False, R_final=None, R_star=None, label=None,
                    target=None):
    """Loss per step (±1 standard-error band) and R per step with R* marked, or R per event.

    Args:
        history: the optimiser's records (``value``, ``value_stderr``, ``theta`` = log R).
        path: output image.
        loss: the loss's name (axis label).
        per_event: ``R_final`` holds one radius per event (a histogram is drawn).
        R_final: final R (scalar, or per event).
        R_star: the reported optimum (global mode; drawn as a line, default the last R).
        label: what the events are (title); target: the mass the loss aims at (axis label).
    """
    steps = np.arange(len(history))
    v = np.array([h["value"] for h in history], dtype=float)
    se = np.array([h["value_stderr"] for h in history], dtype=float)
    with style() as plt:
        fig, ax = plt.subplots(1, 2, figsize=(16, 6.5))
        _band(ax[0], steps, v, se, marker=".", label="loss ± 1 s.e.")
        ax[0].set(xlabel="step", ylabel=f"expected {loss} loss" + ("" if target is None else f" (target {target:g} GeV)"))
        ax[0].legend(fontsize="x-small")
        if per_event:
            import hist

            R = np.asarray(R_final, dtype=float)
            h = hist.Hist.new.Reg(30, float(R.min()) * 0.95, float(R.max()) * 1.05 + 1e-9, name="R").Double()
            h.fill(R)
            ax[1].stairs(h.values(), h.axes[0].edges, fill=True, alpha=0.5)
            med = float(np.median(R))
            ax[1].axvline(med, color="k", ls="--", label=f"median R = {med:.3f}")
            ax[1].set(xlabel="optimised R per event", ylabel="events")
        else:
            R = np.exp(np.array([np.ravel(h["theta"])[0] for h in history], dtype=float))
            if R_final is not None:
                R = np.append(R, float(R_final))
            ax[1].plot(np.arange(len(R)), R, ".-", label="R per step")
            rs = float(R[-1] if R_star is None else R_star)
            ax[1].axhline(rs, color="k", ls="--", label=f"R* = {rs:.3f}" + ("" if R_star is None else " (mean of the last 20 % of steps)"))
            ax[1].set(xlabel="step", ylabel="jet radius R")
        ax[1].legend(fontsize="x-small")
        for a in ax:
            exp_label(a, label)
        fig.tight_layout()
        return save_figure(fig, path)


def scan_figure(rows, path, loss="window", alpha=None, label=None, target=None):
    """Expected loss against R (±1 standard-error band) with the minimum R* marked.

    Args:
        rows: ``[{"R", "loss", "stderr"}, ...]`` (as :func:`apps.jets.study.optimize.scan` returns).
        path: output image.
        loss, alpha, target: axis labels; label: what the events are (title).
    """
    R = np.array([r["R"] for r in rows], dtype=float)
    L = np.array([r["loss"] for r in rows], dtype=float)
    S = np.array([r["stderr"] for r in rows], dtype=float)
    with style() as plt:
        fig, ax = plt.subplots(figsize=(10, 7.5))
        _band(ax, R, L, S, marker="o", label="expected loss ± 1 s.e.")
        best = int(np.argmin(L))
        ax.axvline(R[best], color="k", ls="--", label=f"R* = {R[best]:.2f}")
        a = "" if alpha is None else f" (α = {alpha:g})"
        t = "" if target is None else f", target {target:g} GeV"
        ax.set(xlabel="jet radius R", ylabel=f"expected {loss} loss{a}{t}")
        ax.legend(fontsize="x-small")
        exp_label(ax, label)
        fig.tight_layout()
        return save_figure(fig, path)
