"""Events: padded (n_events, n_max, 4) arrays with counts, and the conversions every entry point uses.

Four-vectors are (px, py, pz, E) in GeV, float64. An :class:`Events` holds

* ``p4``: ``(n_events, n_max, 4)``, rows past ``counts[e]`` are padding (zeros);
* ``counts``: ``(n_events,)`` particles per event;
* ``bquarks``: ``(n_events, 2, 4)`` the b and b̄ from the Higgs decay, or ``None``;
* ``meta``: a dict (generator settings, seed, ...).

Readers and writers (awkward / ``vector`` records in any coordinates, ``.npz``, Parquet,
ROOT through uproot) are the other modules of :mod:`apps.jets.io`; :func:`as_padded` here
turns any accepted container into ``(p4, counts)``.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

__all__ = ["Events", "as_padded", "widen", "DEFAULT_EVENTS"]

DEFAULT_EVENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "hbb_300.npz")


@dataclasses.dataclass
class Events:
    """Padded events; see the module docs."""

    p4: np.ndarray
    counts: np.ndarray
    bquarks: np.ndarray | None = None
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.p4 = widen(self.p4)
        self.counts = integer_counts(self.counts)
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
        """Jagged ``events * var`` awkward array of {px, py, pz, E} records.

        With the default ``with_name="Momentum4D"`` the records carry ``vector``'s
        behaviour (``.pt``, ``.eta``, ``.mass``, ...); ``with_name=None`` gives plain records.
        The result feeds back into :func:`~apps.jets.cluster`.
        """
        import awkward as ak

        mask = np.arange(self.p4.shape[1])[None, :] < self.counts[:, None]
        flat = self.p4[mask]
        if with_name == "Momentum4D":
            from .records import momentum4d

            return momentum4d(flat, [self.counts])
        cols = {k: np.ascontiguousarray(flat[:, q]) for q, k in enumerate(("px", "py", "pz", "E"))}
        rec = ak.zip(cols, with_name=with_name)
        return ak.unflatten(rec, self.counts)


def integer_counts(counts):
    """``counts`` as int64, refusing what is not integral (2.5, "2", True, complex) rather than coercing it."""
    a = np.asarray(counts)
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    if a.dtype.kind == "f" and a.size and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
        return a.astype(np.int64)
    if a.dtype.kind == "f" and a.size == 0:
        return a.astype(np.int64)
    bad = a.ravel()[0] if a.size else a
    if a.dtype.kind == "f":
        bad = a.ravel()[int(np.argmax(~(np.isfinite(a.ravel()) & (a.ravel() == np.round(a.ravel())))))]
    raise ValueError(f"counts must be integers (particles per event), got {bad!r} ({a.dtype})")


def widen(p4):
    """``p4`` as contiguous float64; momenta stored in a less precise float keep E ≥ |p| to their own precision.

    See :func:`apps.jets.io.records.accept_rounding`: float32 four-momenta whose ``E``
    falls short of ``|p|`` by rounding (≤ 4 units of float32's precision) get ``E = |p|``.
    """
    dt = getattr(p4, "dtype", None)
    out = np.ascontiguousarray(p4, dtype=np.float64)
    if isinstance(p4, np.ndarray) and dt.kind == "f" and dt.itemsize < 8 and out.ndim >= 1 and out.shape[-1] == 4:
        from .records import accept_rounding

        out = accept_rounding(out.reshape(-1, 4), dt).reshape(out.shape)
    return out


def as_padded(events, field=None):
    """``(p4, counts)`` float64/int64 from any accepted event container.

    Accepts an :class:`Events` (or anything with ``.p4`` and ``.counts``), a
    ``(p4, counts)`` tuple, an awkward array of particle records in any coordinates
    ``vector`` understands (``events * var``, with or without ``vector`` behaviour,
    optionally nested under ``field``; see :mod:`apps.jets.io.records`), a padded
    ``(n_events, n_max, 4)`` array (all rows real) or a single event ``(n, 4)``.
    """
    from .records import is_awkward, to_padded

    if hasattr(events, "p4") and hasattr(events, "counts"):
        p4, counts = events.p4, events.counts
    elif isinstance(events, tuple) and len(events) == 2:
        p4, counts = events
    elif is_awkward(events):
        p4, counts = to_padded(events, field)
    else:
        p4 = widen(np.asarray(events)) if isinstance(events, np.ndarray) else np.asarray(events, dtype=np.float64)
        if p4.ndim == 2:
            p4 = p4[None]
        if p4.ndim != 3:
            raise ValueError(f"events array must have shape (n_events, n_max, 4) or (n, 4), got {p4.shape}")
        counts = np.full(p4.shape[0], p4.shape[1], dtype=np.int64)
    p4 = widen(p4)
    counts = np.ascontiguousarray(integer_counts(counts))
    if p4.ndim != 3 or p4.shape[-1] != 4:
        raise ValueError(f"p4 must have shape (n_events, n_max, 4), got {p4.shape}")
    if counts.shape != (p4.shape[0],):
        raise ValueError(f"counts must have shape ({p4.shape[0]},), got {counts.shape}")
    if counts.size and (counts.min() < 0 or counts.max() > p4.shape[1]):
        bad = int(np.argmax((counts < 0) | (counts > p4.shape[1])))
        raise ValueError(f"event {bad}: counts = {counts[bad]} outside [0, n_max = {p4.shape[1]}]")
    check_scale(p4, counts)
    return p4, counts


MIN_KT2 = 1e-290  # GeV²: below, 1/kT² (anti-kT's distance scale) leaves the range the engine computes exactly


def check_scale(p4, counts):
    """Refuse momenta so small that their squares leave float64's normal range (never a silent change).

    A particle with ``0 < px² + py² < MIN_KT2`` (pT below ≈ 1e-145 GeV) makes the
    clustering's scales ``1/kT²`` overflow or lose digits: scaled by 1e-300 every
    particle became its own jet, by 1e-150 the sampled histories changed. The
    clustering does not depend on the units, so the remedy is to give momenta in GeV.
    Particles with pT exactly 0 (along the beam) are not concerned.

    Raises:
        ValueError: naming the first such (event, particle).
    """
    if not p4.size:
        return
    with np.errstate(all="ignore"):
        kt2 = p4[..., 0] ** 2 + p4[..., 1] ** 2
        tiny = (kt2 > 0) & (kt2 < MIN_KT2) | ((np.abs(p4[..., 0]) + np.abs(p4[..., 1]) > 0) & (kt2 == 0))
    tiny &= np.arange(p4.shape[1])[None, :] < counts[:, None]
    if tiny.any():
        e, i = map(int, np.argwhere(tiny)[0])
        raise ValueError(f"event {e}, particle {i}: pT² = {float(kt2[e, i]):.3g} GeV² is below {MIN_KT2:g} GeV² "
                         f"(four-momentum {p4[e, i].tolist()}): squared momenta leave the normal float range and the "
                         "clustering would change silently; give the momenta in GeV (the jets do not depend on a "
                         "common scale)")
