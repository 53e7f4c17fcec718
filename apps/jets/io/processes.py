"""Pythia 8 process definitions for the H → bb̄ analysis: signal and its two bb̄ backgrounds.

Each :class:`Process` names the Pythia settings of one hard process at 13 TeV and
how to find its two truth b quarks in the event record. The generator
(:func:`apps.jets.io.generate.generate_events` with ``process=``) stores Pythia's
cross-section estimate ``sigmaGen`` (and its error, in pb) in the events' ``meta``,
so that an event carries the physical weight ``sigma_pb · L / n_events`` for an
integrated luminosity ``L`` (pb⁻¹): see :func:`event_weight`.

Processes (all with the visible final state |η| < 2.5, pT > 0.5 GeV):

* ``hbb``: gg → H → bb̄ (SM Higgs at 125 GeV, only H → bb̄ open: σ includes the
  branching ratio);
* ``zbb``: qq̄ → Z/γ* → bb̄ with 60 < m̂ < 200 GeV (the Z peak at 91 GeV);
* ``qcdbb``: QCD gg → bb̄ and qq̄ → bb̄ with 70 < m̂ < 180 GeV and p̂T > 20 GeV
  (the generator-level cuts make the sample land where the mass window can be;
  events outside them are absent from the background, a stated approximation).
"""

from __future__ import annotations

import dataclasses

__all__ = ["Process", "PROCESSES", "get_process", "event_weight", "MB_TO_PB"]

MB_TO_PB = 1e9  # Pythia's sigmaGen is in mb


def _resonance_daughters(res_id):
    def truth(event):
        ires = -1
        for i, p in enumerate(event):
            if p.id() == res_id:
                ires = i  # the last copy (after initial-state recoil)
        if ires < 0:
            raise RuntimeError(f"no particle with id {res_id} in the event record")
        r = event[ires]
        return [event[r.daughter1()], event[r.daughter2()]]

    return truth


def _hard_outgoing(event):
    # the 2 -> 2 hard process's outgoing partons sit at 5 and 6; follow each to its last copy
    return [event[event[i].iBotCopyId()] for i in (5, 6)]


@dataclasses.dataclass(frozen=True)
class Process:
    """One hard process: Pythia settings and its truth b quarks.

    Attributes:
        name: short name (``hbb``, ``zbb``, ``qcdbb``).
        label: LaTeX-free label for plots.
        settings: Pythia ``readString`` lines (beam energy included).
        truth: ``truth(event) -> [particle, particle]``, the b and b̄ of the hard process.
    """

    name: str
    label: str
    settings: tuple
    truth: object


PROCESSES = {
    "hbb": Process("hbb", "gg → H → bb̄", (
        "Beams:eCM = 13000.", "HiggsSM:gg2H = on", "25:onMode = off", "25:onIfMatch = 5 -5",
    ), _resonance_daughters(25)),
    "zbb": Process("zbb", "qq̄ → Z/γ* → bb̄", (
        "Beams:eCM = 13000.", "WeakSingleBoson:ffbar2gmZ = on", "23:onMode = off", "23:onIfMatch = 5 -5",
        "PhaseSpace:mHatMin = 60.", "PhaseSpace:mHatMax = 200.",
    ), _resonance_daughters(23)),
    "qcdbb": Process("qcdbb", "QCD pp → bb̄", (
        "Beams:eCM = 13000.", "HardQCD:gg2bbbar = on", "HardQCD:qqbar2bbbar = on",
        "PhaseSpace:mHatMin = 70.", "PhaseSpace:mHatMax = 180.", "PhaseSpace:pTHatMin = 20.",
    ), _hard_outgoing),
}


def get_process(name):
    """The :class:`Process` called ``name``.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if name not in PROCESSES:
        raise ValueError(f"unknown process {name!r}; choose one of {sorted(PROCESSES)}")
    return PROCESSES[name]


def event_weight(meta, luminosity_pb):
    """Expected events per generated event, ``sigma_pb · L / n_events``, from an events' ``meta``.

    Args:
        meta: the ``meta`` dict written by the generator (``sigma_pb``, ``n_events``).
        luminosity_pb: integrated luminosity in pb⁻¹ (> 0).

    Raises:
        ValueError: no cross section in ``meta`` (events generated without it) or a bad luminosity.
    """
    if not (luminosity_pb > 0 and luminosity_pb < float("inf")):
        raise ValueError(f"luminosity must be a positive number of pb^-1, got {luminosity_pb!r}")
    if "sigma_pb" not in meta or "n_events" not in meta:
        raise ValueError("these events carry no cross section (meta['sigma_pb']); regenerate them with "
                         "`stochgrad-jets generate --process NAME`")
    return float(meta["sigma_pb"]) * float(luminosity_pb) / float(meta["n_events"])
