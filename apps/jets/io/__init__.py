"""Events and their I/O: awkward/``vector`` records, padded NumPy arrays, ``.npz``, Parquet, ROOT.

* :class:`Events` / :func:`as_padded` — the padded container every entry point uses (``events``);
* :func:`generate_events` — Pythia 8 samples (``generate``, processes in ``processes``);
* :func:`to_padded` — ``(p4, counts)`` from awkward records in any coordinates ``vector``
  understands (or pt/rapidity/phi/mass), optionally nested under a field;
* :func:`from_awkward` — the same as an :class:`~apps.jets.Events`;
* :func:`momentum4d` — awkward ``Momentum4D`` records (``vector`` behaviour attached) out;
* :func:`load_events` / :func:`save_events` — ``.npz``, ``.parquet``, ``.root`` by extension;
* :func:`read_root` / :func:`write_root` — ROOT TTrees or RNTuples through uproot, branches
  given or found (NanoAOD ``PFCands_*`` / ``GenPart_*``, Delphes ``Particle.*``, several
  collections joined: ``EFlowTrack+EFlowPhoton+EFlowNeutralHadron``);
* :class:`Selection` — which particles to keep (``select=`` on every reader; :mod:`.select`).
"""

from .events import DEFAULT_EVENTS, Events, as_padded
from .files import EXTENSIONS, load_default_events, load_events, save_events
from .records import cartesian, find_particles, is_awkward, momentum4d, to_padded
from .root import find_branches, read_root, write_root
from .select import Selection


def from_awkward(arr, field=None):
    """:class:`~apps.jets.Events` from an awkward array of events (see :func:`to_padded`)."""
    p4, counts = to_padded(arr, field)
    return Events(p4, counts)


__all__ = ["Events", "as_padded", "DEFAULT_EVENTS", "load_default_events", "generate_events", "to_padded",
           "from_awkward", "cartesian", "find_particles", "is_awkward", "momentum4d", "load_events",
           "save_events", "read_root", "write_root", "find_branches", "EXTENSIONS", "Selection"]


def generate_events(*args, **kwargs):
    """Pythia 8 events (see :func:`apps.jets.io.generate.generate_events`; Pythia loads only when called)."""
    from .generate import generate_events as _gen

    return _gen(*args, **kwargs)
