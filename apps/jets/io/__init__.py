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


def add_input_arguments(parser):
    """Add ``--tree``, ``--branches`` and ``--field`` (how to read ``--events`` files) to a CLI parser."""
    parser.add_argument("--tree", default=None, help="ROOT: the TTree (default: Events, Delphes or the only one)")
    parser.add_argument("--branches", default=None,
                        help="ROOT: a collection prefix (PFCands) or coordinate=branch pairs, e.g. "
                             "pt=PFCands_pt,eta=PFCands_eta,phi=PFCands_phi,mass=PFCands_mass "
                             "(default: found for NanoAOD / Delphes-like names)")
    parser.add_argument("--field", default=None, help="Parquet: the field holding the particle records")


def load_from_args(path, args):
    """:func:`load_events` with the ``--tree/--branches/--field`` options of :func:`add_input_arguments`."""
    kw = {k: getattr(args, k, None) for k in ("tree", "branches", "field")}
    return load_events(path, **{k: v for k, v in kw.items() if v is not None})


__all__ += ["add_input_arguments", "load_from_args"]
