"""Events files: ``.npz``, Parquet and ROOT (by extension), written atomically.

* ``.npz``: keys ``p4`` ``(n_events, n_max, 4)``, ``counts``, optional ``bquarks`` and
  ``meta`` (a JSON string);
* Parquet: a field ``particles`` (list of {px, py, pz, E} per event) and optionally
  ``bquarks``; a file whose rows are lists of particle records in any accepted
  coordinates also loads (see :mod:`apps.jets.io.records`);
* ROOT: a TTree read and written through uproot (see :mod:`apps.jets.io.root`).
"""

from __future__ import annotations

import json
import os

import numpy as np

__all__ = ["load_events", "save_events", "load_default_events", "select_events", "EXTENSIONS"]

EXTENSIONS = (".npz", ".parquet", ".pq", ".root")


def _ext(path):
    return os.path.splitext(str(path))[1].lower()


def load_events(path, *, tree=None, branches=None, field=None, select=None):
    """Load :class:`~apps.jets.Events` from ``.npz``, ``.parquet`` or ``.root`` (TTree or RNTuple).

    Args:
        path: the file.
        tree, branches: ROOT only (see :func:`apps.jets.io.read_root`).
        field: Parquet only: the field holding the particles (found when omitted).
        select: keep only the particles passing a :class:`~apps.jets.io.select.Selection`
            (or an expression string such as ``"status == 1 and abs(pdgId) not in (12, 14, 16)"``)
            over the file's particle columns and ``pt``, ``eta``, ``rapidity``, ``phi``, ``mass``, ``E``.

    Raises:
        ValueError: unknown extension, unreadable content (names what is missing), a bad
            selection, or particles that cannot be clustered (naming the event).
    """
    from .events import Events
    from .select import Selection

    select = Selection.of(select)

    ext = _ext(path)
    if (tree is not None or branches is not None) and ext != ".root":
        raise ValueError(f"{path}: --tree/--branches apply to ROOT files only")
    if field is not None and ext not in (".parquet", ".pq"):
        raise ValueError(f"{path}: --field applies to Parquet files only")
    if not os.path.exists(path):
        raise ValueError(f"{path}: no such events file")
    if ext == ".npz":
        import zipfile

        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path}: not an .npz archive (a zip of .npy arrays, as numpy.savez writes); "
                             f"{os.path.getsize(path)} bytes that are not one")
        with np.load(path, allow_pickle=False) as f:
            if "p4" not in f or "counts" not in f:
                raise ValueError(f"{path}: an events .npz needs keys 'p4' and 'counts', found {list(f.keys())}")
            meta = json.loads(str(f["meta"])) if "meta" in f else {}
            ev = Events(f["p4"], f["counts"], f["bquarks"] if "bquarks" in f else None, meta)
        return select_events(ev, select)
    if ext in (".parquet", ".pq"):
        import awkward as ak

        from .records import to_padded

        arr = ak.from_parquet(path)
        fields = ak.fields(arr)
        bq = None
        if field is None and "particles" in fields:
            field = "particles"
        if "bquarks" in fields and field is not None:
            bp, _ = to_padded(arr["bquarks"])
            bq = bp if bp.shape[1] == 2 else None
        p4, counts = to_padded(arr, field, select=select)
        return Events(p4, counts, bq, {"source": str(path), **({"selection": select.describe()} if select else {})})
    if ext == ".root":
        from .root import read_root

        return read_root(path, tree=tree, branches=branches, select=select)
    raise ValueError(f"{path}: unknown events file type {ext!r}; use one of {', '.join(EXTENSIONS)}")


def save_events(events, path):
    """Write :class:`~apps.jets.Events` to ``.npz`` (compressed), ``.parquet`` or ``.root`` (by extension).

    The file is written under a temporary name in the same folder and renamed, so an
    interrupted write never leaves a partial file at ``path``.

    Raises:
        ValueError: unknown extension.
    """
    ext = _ext(path)
    if ext not in EXTENSIONS:
        raise ValueError(f"{path}: unknown events file type {ext!r}; use one of {', '.join(EXTENSIONS)}")
    from apps.cliutil import atomic_path  # a temporary file with the mode open() would give, renamed on success

    with atomic_path(path) as tmp:
        if ext == ".npz":
            kw = {"p4": events.p4, "counts": events.counts, "meta": np.array(json.dumps(events.meta))}
            if events.bquarks is not None:
                kw["bquarks"] = events.bquarks
            np.savez_compressed(tmp, **kw)
        elif ext == ".root":
            from .root import write_root

            write_root(events, tmp)
        else:
            import awkward as ak

            cols = {"particles": events.to_awkward(with_name=None)}
            if events.bquarks is not None:
                b = events.bquarks
                cols["bquarks"] = ak.zip({k: np.ascontiguousarray(b[..., q]) for q, k in enumerate(("px", "py", "pz", "E"))})
            ak.to_parquet(ak.zip(cols, depth_limit=1), tmp)


def load_default_events():
    """The embedded sample: 300 Pythia 8 gg → H → bb̄ events at 13 TeV (see ``meta``)."""
    from .events import DEFAULT_EVENTS

    return load_events(DEFAULT_EVENTS)


def select_events(events, select):
    """The same events with only the particles passing ``select`` (kinematic columns only: the file's are gone).

    Args:
        events: :class:`~apps.jets.Events`.
        select: a :class:`~apps.jets.io.select.Selection`, an expression over ``pt``, ``eta``,
            ``rapidity``, ``phi``, ``mass``, ``E`` (and ``px``, ``py``, ``pz``), or None (returns ``events``).
    """
    from .events import Events
    from .records import to_padded
    from .select import Selection

    select = Selection.of(select)
    if not select:
        return events
    p4, counts = to_padded(events.to_awkward(with_name=None), select=select)
    return Events(p4, counts, events.bquarks, dict(events.meta, selection=select.describe()))
