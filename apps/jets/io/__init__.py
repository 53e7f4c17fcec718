"""Events in and out: awkward/``vector`` records, padded NumPy arrays, ``.npz``, Parquet, ROOT.

* :func:`to_padded` — ``(p4, counts)`` from awkward records in any coordinates ``vector``
  understands (or pt/rapidity/phi/mass), optionally nested under a field;
* :func:`from_awkward` — the same as an :class:`~apps.jets.Events`;
* :func:`momentum4d` — awkward ``Momentum4D`` records (``vector`` behaviour attached) out;
* :func:`load_events` / :func:`save_events` — ``.npz``, ``.parquet``, ``.root`` by extension;
* :func:`read_root` / :func:`write_root` — ROOT TTrees through uproot, branches given
  or found (NanoAOD ``PFCands_*``, Delphes-like ``Particle.*``).
"""

from .files import EXTENSIONS, load_events, save_events
from .records import cartesian, find_particles, is_awkward, momentum4d, to_padded
from .root import find_branches, read_root, write_root


def from_awkward(arr, field=None):
    """:class:`~apps.jets.Events` from an awkward array of events (see :func:`to_padded`)."""
    from ..events import Events

    p4, counts = to_padded(arr, field)
    return Events(p4, counts)


__all__ = ["to_padded", "from_awkward", "cartesian", "find_particles", "is_awkward", "momentum4d",
           "load_events", "save_events", "read_root", "write_root", "find_branches", "EXTENSIONS"]
