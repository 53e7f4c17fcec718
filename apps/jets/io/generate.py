"""Pythia 8 (``pythia8mc``) gg → H → bb̄ events at 13 TeV, visible final state.

Selection (design.md): final-state visible particles with |η| < 2.5 and pT > 0.5 GeV.
With every event the four-momenta of the b and b̄ from the Higgs decay (its last copy
in the event record, i.e. after initial-state recoil) are stored for truth matching.
"""

from __future__ import annotations

import numpy as np

from .events import Events

__all__ = ["generate_events", "PYTHIA_SETTINGS", "ETA_MAX", "PT_MIN"]

PYTHIA_SETTINGS = (
    "Beams:eCM = 13000.",
    "HiggsSM:gg2H = on",
    "25:onMode = off",
    "25:onIfMatch = 5 -5",
)
ETA_MAX = 2.5
PT_MIN = 0.5
_MAX_SEED = 900_000_000  # Pythia's Random:seed range


def _progress(n, show, label="gg→H→bb̄"):
    from apps.cliutil import Progress  # a bar on a terminal, a line at least every 10 s otherwise

    return Progress(n, f"pythia {label}", unit="ev", enabled=show)


def generate_events(n_events, seed=1, progress=True, extra_settings=(), process="hbb"):
    """Generate ``n_events`` events.

    Args:
        n_events: number of events (≥ 1).
        seed: Pythia seed in [0, 900000000].
        progress: show a tqdm progress bar on stderr.
        extra_settings: more ``readString`` lines.
        process: a name in :data:`apps.jets.io.processes.PROCESSES` (default gg → H → bb̄);
            ``meta`` then also holds Pythia's ``sigma_pb`` (sigmaGen) and ``sigma_err_pb``.

    Returns:
        :class:`~apps.jets.Events` with ``bquarks`` and ``meta``.
    """
    import pythia8mc

    from .processes import MB_TO_PB, get_process

    proc = get_process(process)
    if int(n_events) != n_events or n_events < 1:
        raise ValueError(f"n_events must be an integer >= 1, got {n_events!r}")
    if not 0 <= int(seed) <= _MAX_SEED:
        raise ValueError(f"Pythia's seed must lie in [0, {_MAX_SEED}], got {seed}")
    py8 = pythia8mc.Pythia("", False)
    settings = list(proc.settings) + ["Random:setSeed = on", f"Random:seed = {int(seed)}",
                                        "Next:numberCount = 0", "Print:quiet = on"] + list(extra_settings)
    for s in settings:
        if not py8.readString(s):
            raise ValueError(f"Pythia rejected the setting {s!r}")
    if not py8.init():
        raise RuntimeError("Pythia initialisation failed")
    events, bq = [], []
    bar = _progress(n_events, progress, proc.label)
    failures = 0
    while len(events) < n_events:
        if not py8.next():
            failures += 1
            if failures > 100:
                raise RuntimeError("Pythia failed to generate 100 events in a row")
            continue
        rows = []
        for p in py8.event:
            if p.isFinal() and p.isVisible() and p.pT() > PT_MIN and abs(p.eta()) < ETA_MAX:
                rows.append((p.px(), p.py(), p.pz(), p.e()))
        daughters = proc.truth(py8.event)
        daughters.sort(key=lambda q: -q.id())  # b (5) first, then b̄ (−5)
        if sorted(q.id() for q in daughters) != [-5, 5]:
            raise RuntimeError(f"event {len(events)}: {process} truth partons are {[q.id() for q in daughters]}, not b b̄")
        bq.append([(q.px(), q.py(), q.pz(), q.e()) for q in daughters])
        events.append(np.array(rows, dtype=np.float64).reshape(-1, 4))
        bar.update(1)
    bar.close()
    counts = np.array([len(e) for e in events], dtype=np.int64)
    p4 = np.zeros((n_events, int(counts.max()), 4))
    for k, e in enumerate(events):
        p4[k, : len(e)] = e
    meta = {"generator": "pythia8mc", "pythia_version": getattr(pythia8mc, "__version__", "8.317"),
            "settings": settings, "seed": int(seed), "n_events": int(n_events),
            "selection": f"final-state visible, |eta| < {ETA_MAX}, pT > {PT_MIN} GeV",
            "process": proc.name, "sigma_pb": py8.infoPython().sigmaGen() * MB_TO_PB,
            "sigma_err_pb": py8.infoPython().sigmaErr() * MB_TO_PB,
            "bquarks": f"b and b-bar of the hard process ({proc.name}; index 0: b, 1: b-bar)",
            "units": "GeV; (px, py, pz, E)"}
    return Events(p4, counts, np.array(bq, dtype=np.float64), meta)
