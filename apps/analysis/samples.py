"""The analysis's event samples: signal H → bb̄ and the Z/γ* → bb̄ and QCD bb̄ backgrounds, with physical weights.

Each process's events carry Pythia's cross section (``meta["sigma_pb"]``), so an
event stands for ``w = σ · L / n_generated`` expected events at an integrated
luminosity ``L``. The three processes are stacked into one padded event array
(the clustering engine's input) with a process label and a weight per event.

The embedded samples (``apps/analysis/data``) were made with
``stochgrad-jets generate --process {hbb,zbb} -n 400 --seed 11`` and
``stochgrad-jets generate --process qcdbb -n 2000 --seed 12``: the QCD background
needs five times more events, because each stands for ~10⁸ events at 140 fb⁻¹.

The QCD sample covers 70 < m̂ < 180 GeV only. :func:`generate_qcd_slices` makes the
rest that reaches the analysis (40 < m̂ < 70 and 180 < m̂ < 400 GeV; not embedded),
and :func:`default_inputs` with that folder stacks them into the QCD process: a
process may be given as several files (phase-space slices), each weighted by its own
``σ / n``.

Monte-Carlo statistics: the signal is 10⁻⁴ of the background, so a selection the
background sample cannot resolve (a handful of QCD events, or none) would look
background-free. :func:`background_floor` gives the floor used everywhere: the
background yield counts at least ``n_mc`` (default 25) background events' worth.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

__all__ = ["Sample", "load_samples", "background_floor", "DEFAULT_FLOOR_EVENTS", "DEFAULT_FILES", "PROCESS_NAMES", "DEFAULT_LUMI_FB",
           "QCD_SLICES", "default_inputs",
           "generate_qcd_slices"]

_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
PROCESS_NAMES = ("hbb", "zbb", "qcdbb")
DEFAULT_FILES = {p: os.path.join(_DATA, f"{p}_{n}.npz") for p, n in zip(PROCESS_NAMES, (400, 400, 2000))}
# QCD bb̄ beyond the main sample's 70 < m̂ < 180 GeV, as phase-space slices (each weighted by its own σ/n): events
# from m̂ < 70 GeV (with p̂T > 20 GeV, so m̂ > 40 GeV) and 180 < m̂ < 400 GeV do reach 80 < mjj < 160 GeV.
# name: (m̂ min, m̂ max, events, seed); the events make every slice event weigh at most a main-sample event
QCD_SLICES = {"qcdbb_lo": (30.0, 70.0, 3300, 13), "qcdbb_hi": (180.0, 400.0, 400, 14)}
DEFAULT_LUMI_FB = 140.0
DEFAULT_FLOOR_EVENTS = 25


@dataclasses.dataclass
class Sample:
    """Signal and background events stacked for one analysis.

    Attributes:
        events: :class:`apps.jets.Events` (all processes, padded to one ``n_max``).
        process: ``(N,)`` int, index into ``names``.
        weight: ``(N,)`` expected events per event at ``luminosity_fb``.
        is_signal: ``(N,)`` bool (process 0 is the signal).
        names: process names, signal first.
        sigma_pb: cross section per process (pb, Pythia's ``sigmaGen``).
        luminosity_fb: integrated luminosity (fb⁻¹).
    """

    events: object
    process: np.ndarray
    weight: np.ndarray
    is_signal: np.ndarray
    names: tuple
    sigma_pb: tuple
    luminosity_fb: float

    def __len__(self):
        return len(self.weight)

    @property
    def signal_weights(self):
        """``w`` for signal events, 0 otherwise."""
        return np.where(self.is_signal, self.weight, 0.0)

    @property
    def background_weights(self):
        """``w`` for background events, 0 otherwise."""
        return np.where(self.is_signal, 0.0, self.weight)

    def subset(self, index):
        """The events ``index`` (mask or indices), weights unchanged."""
        idx = np.arange(len(self))[index]
        return Sample(self.events.subset(idx), self.process[idx], self.weight[idx], self.is_signal[idx],
                      self.names, self.sigma_pb, self.luminosity_fb)


def default_inputs(slices=None):
    """``{process: path or [paths]}`` of the embedded samples, with the QCD slices in folder ``slices`` if given.

    ``slices``: a folder holding ``qcdbb_lo.npz`` and ``qcdbb_hi.npz`` (:func:`generate_qcd_slices`); the
    QCD process is then the embedded sample and the two slices, each weighted by its own σ/n.
    """
    files = dict(DEFAULT_FILES)
    if slices is not None:
        files["qcdbb"] = [DEFAULT_FILES["qcdbb"], *(os.path.join(slices, f"{k}.npz") for k in QCD_SLICES)]
    return files


def generate_qcd_slices(folder, slices=None, progress=False):
    """Generate the QCD bb̄ slices outside 70 < m̂ < 180 GeV into ``folder`` (``NAME.npz``, skipped if present).

    Pythia settings as ``stochgrad-jets generate --process qcdbb`` with ``PhaseSpace:mHatMin/Max``
    replaced; ≈ 100 events/s on one core. ``slices``: ``{name: (m̂ min, m̂ max, events, seed)}``
    (default :data:`QCD_SLICES`).

    Returns:
        the paths written or found.
    """
    from apps.jets import generate_events, save_events

    os.makedirs(folder, exist_ok=True)
    out = []
    for name, (lo, hi, n, seed) in (QCD_SLICES if slices is None else slices).items():
        path = os.path.join(folder, f"{name}.npz")
        if not os.path.exists(path):
            ev = generate_events(int(n), seed=int(seed), progress=progress, process="qcdbb",
                                 extra_settings=[f"PhaseSpace:mHatMin = {lo}", f"PhaseSpace:mHatMax = {hi}"])
            tmp = path + ".part.npz"
            save_events(ev, tmp)
            os.replace(tmp, path)
        out.append(path)
    return out


def load_samples(files=None, luminosity_fb=DEFAULT_LUMI_FB, max_events=None):
    """Load signal and backgrounds and weight them for ``luminosity_fb``.

    Args:
        files: ``{name: path}`` with the signal first (default: the embedded samples);
            each file must carry ``meta["sigma_pb"]`` (made by ``generate --process``).
            A value may also be an already loaded :class:`apps.jets.Events`.
        luminosity_fb: integrated luminosity in fb⁻¹ (> 0).
        max_events: keep at most this many events per process (the first ones); the
            weights are rescaled so that yields stay unbiased.

    Returns:
        :class:`Sample`.

    Raises:
        ValueError: missing files, files without a cross section or without events, non-finite
            momenta, bad luminosity.
    """
    from apps.jets import Events

    files = dict(default_inputs() if files is None else files)
    if not (np.isfinite(luminosity_fb) and luminosity_fb > 0):
        raise ValueError(f"luminosity must be a positive number of fb^-1, got {luminosity_fb!r}")
    if max_events is not None and (int(max_events) != max_events or max_events < 1):
        raise ValueError(f"max_events must be an integer >= 1, got {max_events!r}")
    evs, names, sig = [], [], []
    for name, path in files.items():
        parts = list(path) if isinstance(path, (list, tuple)) else [path]
        if not parts:
            raise ValueError(f"{name}: no events file given")
        sigma = 0.0
        for part in parts:
            ev, w = _read_part(name, part, luminosity_fb, max_events)
            evs.append((ev, w, len(names)))
            sigma += float(ev.meta["sigma_pb"])
        names.append(name)
        sig.append(sigma)
    n_max = max(ev.p4.shape[1] for ev, _, _ in evs)
    p4 = np.concatenate([np.pad(ev.p4, ((0, 0), (0, n_max - ev.p4.shape[1]), (0, 0))) for ev, _, _ in evs])
    counts = np.concatenate([ev.counts for ev, _, _ in evs])
    proc = np.concatenate([np.full(len(ev), k) for ev, _, k in evs])
    weight = np.concatenate([np.full(len(ev), w) for ev, w, _ in evs])
    meta = {"processes": names, "luminosity_fb": float(luminosity_fb)}
    return Sample(Events(p4, counts, None, meta), proc, weight, proc == 0, tuple(names), tuple(sig),
                  float(luminosity_fb))


def _read_part(name, path, luminosity_fb, max_events):
    """One events file (or loaded :class:`apps.jets.Events`) of process ``name`` and its per-event weight."""
    from apps.jets import Events, load_events
    from apps.jets.io.processes import event_weight

    if isinstance(path, Events):
        ev, path = path, "the events given"
    elif not os.path.exists(path):
        raise ValueError(f"{name}: events file {path} does not exist")
    else:
        ev = load_events(path)
    if len(ev) == 0:
        raise ValueError(f"{name}: {path} holds no events")
    if not np.all(np.isfinite(ev.p4)):
        raise ValueError(f"{name}: non-finite (NaN or inf) momenta in {path}")  # FastJet would crash on them
    w = event_weight(ev.meta, luminosity_fb * 1000.0)
    if max_events is not None and len(ev) > max_events:
        w *= len(ev) / max_events
        ev = ev.subset(slice(0, int(max_events)))
    return ev, w


def background_floor(sample, n_mc=DEFAULT_FLOOR_EVENTS):
    """The background floor ``b_min``: ``n_mc`` times the largest background event weight.

    A selection keeping fewer background Monte-Carlo events than that is scored as if
    it kept ``n_mc`` of them, so neither the grid nor the optimiser is rewarded for a
    fluctuation of the background sample.

    Raises:
        ValueError: ``n_mc`` not > 0, or no background events.
    """
    if not (np.isfinite(n_mc) and n_mc > 0):
        raise ValueError(f"the background floor needs n_mc > 0 events, got {n_mc!r}")
    wb = sample.background_weights
    if not np.any(wb > 0):
        raise ValueError("the sample has no background events")
    return float(n_mc * wb.max())
