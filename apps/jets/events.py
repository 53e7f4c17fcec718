"""Events in and out: padded (n_events, n_max, 4) arrays with counts, awkward arrays, files.

Four-vectors are (px, py, pz, E) in GeV, float64. An :class:`Events` holds

* ``p4``: ``(n_events, n_max, 4)``, rows past ``counts[e]`` are padding (zeros);
* ``counts``: ``(n_events,)`` particles per event;
* ``bquarks``: ``(n_events, 2, 4)`` the b and b̄ from the Higgs decay, or ``None``;
* ``meta``: a dict (generator settings, seed, ...).

Files: ``.npz`` with keys ``p4``, ``counts`` (optional ``bquarks``, ``meta`` as a
JSON string) and Parquet written by :func:`save_events` (fields ``particles`` — a list
of {px, py, pz, E} per event — and optionally ``bquarks``). A Parquet file whose rows
are plain lists of Momentum4D-like records also loads.
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

__all__ = ["Events", "as_padded", "load_events", "load_default_events", "save_events", "DEFAULT_EVENTS"]

DEFAULT_EVENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "hbb_300.npz")


@dataclasses.dataclass
class Events:
    """Padded events; see the module docs."""

    p4: np.ndarray
    counts: np.ndarray
    bquarks: np.ndarray | None = None
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.p4 = np.ascontiguousarray(self.p4, dtype=np.float64)
        self.counts = np.asarray(self.counts, dtype=np.int64)
        if self.p4.ndim != 3 or self.p4.shape[2] != 4:
            raise ValueError(f"p4 must have shape (n_events, n_max, 4), got {self.p4.shape}")
        if self.counts.shape != (self.p4.shape[0],):
            raise ValueError(f"counts must have shape ({self.p4.shape[0]},), got {self.counts.shape}")
        if self.counts.size and (self.counts.min() < 0 or self.counts.max() > self.p4.shape[1]):
            raise ValueError(f"counts must lie in [0, n_max={self.p4.shape[1]}]")
        if self.bquarks is not None:
            self.bquarks = np.asarray(self.bquarks, dtype=np.float64)

    def __len__(self):
        return len(self.counts)

    def subset(self, index):
        """Events ``index`` (a slice, integer array or boolean mask)."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1)
        c = self.counts[index]
        n_max = int(c.max()) if c.size else 0
        return Events(self.p4[index][:, :n_max], c, None if self.bquarks is None else self.bquarks[index],
                      dict(self.meta))

    def to_awkward(self, with_name="Momentum4D"):
        """Jagged awkward array of {px, py, pz, E} records (``vector``'s Momentum4D behaviour)."""
        import awkward as ak

        mask = np.arange(self.p4.shape[1])[None, :] < self.counts[:, None]
        flat = self.p4[mask]
        cols = {k: np.ascontiguousarray(flat[:, q]) for q, k in enumerate(("px", "py", "pz", "E"))}
        rec = ak.zip(cols, with_name=with_name)
        return ak.unflatten(rec, self.counts)


def _from_awkward(arr):
    import awkward as ak

    fields = ak.fields(arr)
    names = {f.lower(): f for f in fields}

    def pick(*cands):
        for c in cands:
            if c in fields:
                return arr[c]
            if c.lower() in names:
                return arr[names[c.lower()]]
        return None

    px, py, pz, E = pick("px", "x"), pick("py", "y"), pick("pz", "z"), pick("E", "e", "energy", "t")
    if any(v is None for v in (px, py, pz, E)):
        try:
            import vector

            vector.register_awkward()
            v = ak.Array(arr, with_name="Momentum4D")
            px, py, pz, E = v.px, v.py, v.pz, v.E
        except Exception as err:  # noqa: BLE001 - re-raised with a clearer message
            raise ValueError(
                f"cannot read four-momenta from awkward records with fields {fields}: give px, py, pz, E "
                f"(or a Momentum4D-like set such as pt, eta, phi, mass) ({err})"
            ) from None
    counts = np.asarray(ak.num(px, axis=1), dtype=np.int64)
    n_max = int(counts.max()) if counts.size else 0
    p4 = np.zeros((len(counts), n_max, 4))
    mask = np.arange(n_max)[None, :] < counts[:, None]
    for q, comp in enumerate((px, py, pz, E)):
        p4[..., q][mask] = np.asarray(ak.flatten(comp, axis=1), dtype=np.float64)
    return p4, counts


def as_padded(events):
    """``(p4, counts)`` float64/int64 from any accepted event container.

    Accepts an :class:`Events` (or anything with ``.p4`` and ``.counts``), a
    ``(p4, counts)`` tuple, an awkward array of Momentum4D-like records
    (``(n_events, var)``), a padded ``(n_events, n_max, 4)`` array (all rows real) or a
    single event ``(n, 4)``.
    """
    if hasattr(events, "p4") and hasattr(events, "counts"):
        p4, counts = events.p4, events.counts
    elif isinstance(events, tuple) and len(events) == 2:
        p4, counts = events
    elif type(events).__module__.startswith("awkward"):
        p4, counts = _from_awkward(events)
    else:
        p4 = np.asarray(events, dtype=np.float64)
        if p4.ndim == 2:
            p4 = p4[None]
        if p4.ndim != 3:
            raise ValueError(f"events array must have shape (n_events, n_max, 4) or (n, 4), got {p4.shape}")
        counts = np.full(p4.shape[0], p4.shape[1], dtype=np.int64)
    p4 = np.ascontiguousarray(p4, dtype=np.float64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if p4.ndim != 3 or p4.shape[-1] != 4:
        raise ValueError(f"p4 must have shape (n_events, n_max, 4), got {p4.shape}")
    if counts.shape != (p4.shape[0],):
        raise ValueError(f"counts must have shape ({p4.shape[0]},), got {counts.shape}")
    if counts.size and (counts.min() < 0 or counts.max() > p4.shape[1]):
        bad = int(np.argmax((counts < 0) | (counts > p4.shape[1])))
        raise ValueError(f"event {bad}: counts = {counts[bad]} outside [0, n_max = {p4.shape[1]}]")
    return p4, counts


def load_events(path):
    """Load events from ``.npz`` (keys p4, counts[, bquarks, meta]) or Parquet."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext == ".npz":
        with np.load(path, allow_pickle=False) as f:
            if "p4" not in f or "counts" not in f:
                raise ValueError(f"{path}: an events .npz needs keys 'p4' and 'counts', found {list(f.keys())}")
            meta = json.loads(str(f["meta"])) if "meta" in f else {}
            return Events(f["p4"], f["counts"], f["bquarks"] if "bquarks" in f else None, meta)
    if ext in (".parquet", ".pq"):
        import awkward as ak

        arr = ak.from_parquet(path)
        fields = ak.fields(arr)
        bq = None
        if "particles" in fields:
            if "bquarks" in fields:
                bp, bc = _from_awkward(arr["bquarks"])
                bq = bp if bp.shape[1] == 2 else None
            arr = arr["particles"]
        p4, counts = _from_awkward(arr)
        return Events(p4, counts, bq, {"source": str(path)})
    raise ValueError(f"{path}: unknown events file type {ext!r}; use .npz or .parquet")


def save_events(events, path):
    """Write :class:`Events` to ``.npz`` (compressed) or ``.parquet`` (by extension)."""
    ext = os.path.splitext(str(path))[1].lower()
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    if ext == ".npz":
        kw = {"p4": events.p4, "counts": events.counts, "meta": np.array(json.dumps(events.meta))}
        if events.bquarks is not None:
            kw["bquarks"] = events.bquarks
        np.savez_compressed(path, **kw)
    elif ext in (".parquet", ".pq"):
        import awkward as ak

        cols = {"particles": events.to_awkward(with_name=None)}
        if events.bquarks is not None:
            b = events.bquarks
            cols["bquarks"] = ak.zip({k: np.ascontiguousarray(b[..., q]) for q, k in enumerate(("px", "py", "pz", "E"))})
        ak.to_parquet(ak.zip(cols, depth_limit=1), path)
    else:
        raise ValueError(f"{path}: unknown events file type {ext!r}; use .npz or .parquet")


def load_default_events():
    """The embedded sample: 300 Pythia 8 gg → H → bb̄ events at 13 TeV (see ``meta``)."""
    return load_events(DEFAULT_EVENTS)
