"""Awkward / ``vector`` records in and out: any coordinates ``vector`` understands → (px, py, pz, E).

Accepted record fields (case-insensitive; with or without ``vector`` behaviour, from
``ak.zip``, ``vector.zip``, or arrays made after ``vector.register_awkward()``):

* Cartesian: ``px, py, pz, E`` (also ``x, y, z, t`` and ``energy``);
* ``pt, eta, phi, mass`` / ``pt, eta, phi, E`` (also ``rho``, ``m``, ``tau``, ``ET``
  for a massless ``pt``) and every other set ``vector`` accepts (``theta``, ``z``, ...);
* ``pt, rapidity, phi, mass`` (true rapidity; ``vector`` has no such coordinate, so it
  is converted here: ``mT = √(pT² + m²)``, ``pz = mT sinh y``, ``E = mT cosh y``).

Other fields (charge, pdgId, a vertex ``z`` ...) are ignored: the first complete set in
the order above is used, and a field named exactly like a coordinate beats an alias
(``px`` over ``x``).

The particles may sit under a field of the event records (``events["PFCands"]``):
give ``field=``, or leave it to :func:`find_particles`, which takes the only
list-of-records field (or ``particles`` / ``PFCands`` / ``Particle`` when several).
"""

from __future__ import annotations

import numpy as np

__all__ = ["cartesian", "find_particles", "to_padded", "momentum4d", "is_awkward"]

# lower-case field name -> the name vector understands
ALIASES = {
    "px": "px", "x": "px", "py": "py", "y": "py", "pz": "pz", "z": "pz",
    "e": "E", "energy": "E", "t": "E",
    "pt": "pt", "rho": "pt", "et": "pt",
    "eta": "eta", "phi": "phi", "theta": "theta",
    "mass": "mass", "m": "mass", "tau": "mass",
    "rapidity": "rapidity", "y_rap": "rapidity",
}
_PREFERRED = ("particles", "PFCands", "pfcands", "Particle", "particle", "constituents", "Constituents")


def is_awkward(obj):
    """True for an awkward Array (including ``vector``'s awkward subclasses)."""
    try:
        import awkward as ak
    except ImportError:  # pragma: no cover - awkward is a dependency of the hep extra
        return False
    return isinstance(obj, (ak.Array, ak.Record))


def _canonical(fields):
    """{canonical coordinate: field}; a field named exactly like a coordinate beats an alias (px over x)."""
    out = {}
    for f in fields:  # exact names first (case-insensitive)
        c = ALIASES.get(f.lower())
        if c is not None and f.lower() == c.lower() and c not in out:
            out[c] = f
    for f in fields:
        c = ALIASES.get(f.lower())
        if c is not None and c not in out:
            out[c] = f
    return out


_SETS = (("px", "py", "pz", "E"), ("pt", "eta", "phi", "mass"), ("pt", "eta", "phi", "E"),
         ("pt", "rapidity", "phi", "mass"), ("pt", "theta", "phi", "mass"), ("pt", "theta", "phi", "E"),
         ("pt", "phi", "pz", "E"), ("pt", "phi", "pz", "mass"))


def coordinate_fields(fields):
    """{coordinate: field} of the first complete coordinate set among ``fields``, or of all coordinates found.

    Sets whose fields are all named exactly (``pt``, ``Eta``, ``E``, ...) come first, so
    aliases never win over them: Delphes' tracks carry a vertex ``X, Y, Z, T`` beside
    ``PT, Eta, Phi, Mass``, and the vertex must not be read as (px, py, pz, E).
    """
    c = _canonical(fields)
    exact = {k for k, f in c.items() if f.lower() == k.lower()}
    for pool in (exact, set(c)):  # _SETS here are all four coordinates
        for want in _SETS:
            if set(want) <= pool:
                return {k: c[k] for k in want}
    return c


def _is_momentum(fields):
    c = _canonical(fields)
    return ({"px", "py", "pz", "E"} <= set(c) or {"pt", "phi"} <= set(c)) and len(c) >= 4


def find_particles(arr, field=None):
    """The particle records of ``arr`` (``arr[field]``, or found as described in the module docs).

    Raises:
        ValueError: ``field`` missing, or no / several candidate fields.
    """
    import awkward as ak

    fields = ak.fields(arr)
    if field is not None:
        if field not in fields:
            raise ValueError(f"field {field!r} not in the event records (fields: {fields})")
        return arr[field]
    if not fields or _is_momentum(fields):
        return arr
    cands = [f for f in fields if _is_momentum(ak.fields(arr[f]))]
    if not cands:
        return arr  # not nested: cartesian() names the fields it cannot read
    if len(cands) == 1:
        return arr[cands[0]]
    for p in _PREFERRED:
        if p in cands:
            return arr[p]
    raise ValueError(f"cannot tell which field holds the particles among {cands}; "
                     "pass field='...' (e.g. field='PFCands')")


def cartesian(arr):
    """``(px, py, pz, E)`` as awkward arrays of ``arr``'s shape from records in any accepted coordinates.

    Raises:
        ValueError: the fields do not make a four-momentum (names the fields found).
    """
    import awkward as ak

    fields = ak.fields(arr)
    c = coordinate_fields(fields)

    def col(name):
        return ak.values_astype(ak.without_parameters(arr[c[name]]), np.float64)
    if {"px", "py", "pz", "E"} <= set(c):
        return col("px"), col("py"), col("pz"), col("E")
    if {"pt", "rapidity", "phi", "mass"} <= set(c):
        pt, y, phi, m = col("pt"), col("rapidity"), col("phi"), col("mass")
        mt = np.sqrt(pt * pt + m * m)
        return pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(y), mt * np.cosh(y)
    try:
        import vector

        cols = {k: col(k) for k in c if k != "rapidity"}
        if "mass" not in cols and "E" not in cols and "pt" in cols:
            cols["mass"] = cols["pt"] * 0.0  # (pT, η, φ) alone: massless particles
        v = vector.zip(cols)
        return tuple(ak.without_parameters(ak.Array(getattr(v, q), behavior={})) for q in ("px", "py", "pz", "E"))
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise ValueError(
            f"cannot read four-momenta from records with fields {fields}: give px, py, pz, E or a set "
            "vector understands (pt, eta, phi, mass | E), or pt, rapidity, phi, mass "
            f"({str(err).splitlines()[0]})") from None


def to_padded(arr, field=None, select=None, precision=None):
    """``(p4, counts)`` float64/int64 padded arrays from an awkward array of events.

    ``arr`` is ``events * var * record`` (one list of particles per event),
    ``events * 1 * var * record`` (one sample per event, as ``Jets.to_awkward()`` of a
    deterministic clustering) or ``var * record`` (one event).

    Args:
        arr: the events (particles possibly nested under ``field``, see :func:`find_particles`).
        field: the field holding the particles (found when omitted).
        select: a :class:`~apps.jets.io.select.Selection` or an expression over the
            particles' fields and ``pt``, ``eta``, ``rapidity``, ``phi``, ``mass``, ``E``.
        precision: the float dtype the momenta were stored in (default: the coordinate
            fields' own, e.g. float32 for NanoAOD); see :func:`accept_rounding`.

    Raises:
        ValueError: unreadable coordinates, a nesting other than those two, a bad
            selection, or particles that cannot be clustered (non-finite four-momenta, or
            zero pT along the beam such as NanoAOD's incoming partons at pt = 0,
            η = ±23360) — naming the event and hinting at a selection.
    """
    import awkward as ak

    from .select import Selection

    arr = find_particles(arr, field)
    depth = arr.ndim
    if depth == 1:
        arr = arr[np.newaxis]
    elif depth == 3 and len(arr) and ak.all(ak.num(arr, axis=1) == 1):
        arr = arr[:, 0]  # events * 1 sample * var (e.g. ClusterResult jets' to_awkward()): one list per event
    elif depth != 2:
        raise ValueError(f"awkward events must be events * var * particle records (or one event, var * record); "
                         f"got {ak.type(arr)} — select one axis first, e.g. arr[:, 0] for the first sample")
    fast = _cartesian_columns(arr)
    if fast is not None:  # plain (px, py, pz, E) columns: read the buffers, no awkward passes
        flat, counts, stored = fast
    else:
        comps = cartesian(arr)
        counts = np.asarray(ak.num(comps[0], axis=1), dtype=np.int64)
    pt_field = coordinate_fields(ak.fields(arr)).get("pt")
    if pt_field is not None:  # a negative transverse momentum is not a direction vector would silently flip
        pt = ak.to_numpy(ak.flatten(arr[pt_field], axis=1))
        if np.any(pt < 0):
            k = int(np.argmax(pt < 0))
            e = int(np.searchsorted(np.cumsum(counts), k, side="right"))
            raise ValueError(f"event {e}, particle {k - int(np.sum(counts[:e]))}: {pt_field} = {pt[k]:g} < 0; a "
                             "transverse momentum is >= 0 (flip φ by π instead)")
    if fast is None:
        cols = []
        for comp in comps:
            flat = ak.to_numpy(ak.flatten(comp, axis=1))
            if isinstance(flat, np.ma.MaskedArray):
                raise ValueError("missing (None) particle momenta in the awkward input: drop them first "
                                 "(ak.drop_none)")
            cols.append(np.asarray(flat, dtype=np.float64))
        flat = np.stack(cols, axis=1) if cols else np.zeros((0, 4))
    if precision is None:
        precision = stored if fast is not None else stored_precision(arr)
    sel = Selection.of(select)
    columns = _columns(arr, flat)
    pos = np.arange(len(flat))  # each kept particle's position among all the particles
    if sel:
        keep = np.broadcast_to(sel.mask(columns), (len(flat),))
        event = np.repeat(np.arange(len(counts)), counts)
        flat, pos = flat[keep], pos[keep]
        counts_in = counts
        counts = np.bincount(event[keep], minlength=len(counts)).astype(np.int64)
    else:
        counts_in = counts
    check_clusterable(flat, counts, pos, counts_in, sel, columns)
    flat = accept_rounding(flat, precision)
    return pad(flat, counts), counts


def _cartesian_columns(arr):
    """``(flat (n, 4) float64, counts, stored dtype)`` read from the buffers of plain (px, py, pz, E) records.

    For ``events * var * record`` whose layout is a list-offset array of records with
    px, py, pz, E (any accepted spelling) held as 1-d numeric NumPy buffers, the usual
    case; None for anything else (options, unions, other coordinates, indexed or
    sliced layouts), which :func:`cartesian` handles. The same values as
    :func:`cartesian` + flatten (a float64 cast of the same numbers).
    """
    import awkward as ak

    c = coordinate_fields(ak.fields(arr))
    if not {"px", "py", "pz", "E"} <= set(c):
        return None
    layout = arr.layout
    if not isinstance(layout, ak.contents.ListOffsetArray) or not isinstance(layout.content, ak.contents.RecordArray):
        return None
    offsets = np.asarray(layout.offsets)
    if offsets.ndim != 1 or not len(offsets) or offsets[0] < 0 or np.any(np.diff(offsets) < 0):
        return None
    lo, hi = int(offsets[0]), int(offsets[-1])
    flat = np.empty((hi - lo, 4))
    stored = np.dtype(np.float64)
    for q, name in enumerate(("px", "py", "pz", "E")):
        col = layout.content.content(c[name])
        if not isinstance(col, ak.contents.NumpyArray) or col.parameters or col.data.ndim != 1:
            return None
        data = np.asarray(col.data)
        if data.dtype.kind not in "iuf" or len(data) < hi:
            return None
        flat[:, q] = data[lo:hi]
        if data.dtype.kind == "f" and np.finfo(data.dtype).eps > np.finfo(stored).eps:
            stored = data.dtype
    return flat, np.diff(offsets).astype(np.int64), stored


def pad(flat, counts):
    """``(n_events, n_max, 4)`` zero-padded array from the particles ``flat`` ``(n, 4)`` of events with ``counts``."""
    n_max = int(counts.max()) if counts.size else 0
    p4 = np.zeros((len(counts), n_max, 4))
    if len(flat):
        first = np.cumsum(counts) - counts  # each event's first particle in flat
        row = np.arange(len(flat)) + np.repeat(np.arange(len(counts)) * n_max - first, counts)
        p4.reshape(-1, 4)[row] = flat
    return p4


def stored_precision(arr):
    """The least precise float dtype among the record fields that hold the four-momentum (float64 if none)."""
    import awkward as ak

    c = coordinate_fields(ak.fields(arr))
    eps, out = 0.0, np.dtype(np.float64)
    for f in c.values():
        try:
            dt = np.dtype(ak.to_numpy(ak.flatten(arr[f][:1], axis=None)).dtype)
        except (TypeError, ValueError):
            continue
        if dt.kind == "f" and np.finfo(dt).eps > eps:
            eps, out = float(np.finfo(dt).eps), dt
    return out


ROUNDING_ULPS = 4  # E may fall short of |p| by this many units of the stored precision


def accept_rounding(flat, precision):
    """Four-momenta ``(n, 4)`` with ``E`` raised to ``|p|`` where it falls short by rounding of the stored dtype.

    Momenta stored in float32 (NanoAOD) or computed in float32 (``vector`` on float32
    arrays) can have ``E < |p|`` by up to ≈ 2·10⁻⁷ relative; FastJet clusters them (it
    takes such a particle's mass as 0). Where ``|p| − E ≤ ROUNDING_ULPS · ε(dtype) · |p|``
    for a dtype less precise than float64, ``E`` is set to ``|p|`` (a change below the
    input's own precision); larger shortfalls are left for the engine to refuse as
    tachyonic. float64 input is returned unchanged.
    """
    precision = np.dtype(precision)
    if precision.kind != "f" or np.finfo(precision).eps <= np.finfo(np.float64).eps or not len(flat):
        return flat
    with np.errstate(all="ignore"):
        p = np.sqrt(np.sum(flat[:, :3] ** 2, axis=1))
        short = (flat[:, 3] < p) & (p - flat[:, 3] <= ROUNDING_ULPS * np.finfo(precision).eps * p)
    if short.any():
        flat = flat.copy()
        flat[short, 3] = p[short]
    return flat


_HINT = ("select the final-state particles, e.g. --select \"status == 1\" on the command line or "
         "select=\"status == 1\" in Python")


def check_clusterable(flat, counts, pos=None, counts_in=None, selection=None, columns=None):
    """Refuse particles no clustering can use, naming the first (event, particle) and hinting at a selection.

    Unclusterable: a non-finite component, or zero pT with ``E <= |pz|`` (infinite
    rapidity: an incoming parton or beam particle, such as NanoAOD's ``GenPart`` at
    pt = 0, η = ±23360, whose px/py/pz/E come out NaN).

    Args:
        flat, counts: the particles ``(n, 4)`` and their events' counts.
        pos, counts_in: each particle's position among the particles before a selection,
            and the counts before it (to name the particle by its index in the file's event).
        selection, columns: the selection in force and the column getter (for the message).

    Raises:
        ValueError: naming the event, the particle's index in its collection and the selection in force.
    """
    if not len(flat):
        return
    with np.errstate(all="ignore"):
        if np.isfinite(np.sum(flat)) and not np.any(flat[:, 0] == 0):
            return  # a quick screen: every component finite, and no particle with px = 0 (so pT > 0)
        finite = np.all(np.isfinite(flat), axis=1)
        beam = (flat[:, 0] == 0) & (flat[:, 1] == 0) & (flat[:, 3] <= np.abs(flat[:, 2]))
    bad = ~finite | beam
    if not bad.any():
        return
    k = int(np.argmax(bad))
    e = int(np.searchsorted(np.cumsum(counts), k, side="right"))
    if pos is None:
        pos, counts_in = np.arange(len(flat)), counts
    j = int(pos[k])
    i = j - int(np.sum(counts_in[:e]))
    what = []
    if columns is not None:
        for name in ("pt", "eta", "status", "pdgId"):
            try:
                what.append(f"{name} = {columns(name, derive=False)[j]:g}")
            except (KeyError, IndexError, TypeError, ValueError):
                pass
    desc = f" ({', '.join(what)})" if what else f" (px, py, pz, E = {flat[k].tolist()})"
    stored_pt = None
    if columns is not None:
        try:
            stored_pt = float(columns("pt", derive=False)[j])
        except (KeyError, IndexError, TypeError, ValueError):
            pass
    beam_like = bool(beam[k]) or stored_pt == 0.0
    why = "zero pT along the beam (infinite rapidity)" if beam_like else "a non-finite four-momentum"
    sel = f"; the selection in force is {selection.describe()!r}" if selection else ""
    raise ValueError(f"event {e}, particle {i}{desc}: cannot be clustered — {why}; incoming partons and "
                     f"beam particles (pt = 0) must be left out: {_HINT}{sel}")


def _columns(arr, flat):
    """``name -> flat NumPy array`` over ``arr``'s particles: its numeric fields (case-insensitive), then derived."""
    import awkward as ak

    fields = ak.fields(arr)
    cache = {}

    def derived(name, p4):
        px, py, pz, E = p4.T
        with np.errstate(all="ignore"):
            pt = np.hypot(px, py)
            if name == "pt":
                return pt
            if name == "eta":
                return np.arcsinh(pz / pt)
            if name == "rapidity":
                return 0.5 * np.log((E + pz) / (E - pz))
            if name == "phi":
                return np.arctan2(py, px)
            if name == "mass":
                return np.sqrt(np.maximum(E * E - px * px - py * py - pz * pz, 0.0))
            return E

    def get(name, derive=True):
        if (name, derive) in cache:
            return cache[name, derive]
        f = name if name in fields else next((g for g in fields if g.lower() == name.lower()), None)
        if f is None and name.lower() in ("pt", "eta", "rapidity", "phi", "mass", "e") and derive:
            v = derived(name.lower() if name.lower() != "e" else "E", flat)
        elif f is None:
            if not derive:
                raise KeyError(name)
            avail = sorted(set(fields) | {"pt", "eta", "rapidity", "phi", "mass", "E"}, key=str.lower)
            raise ValueError(f"selection: no particle column {name!r}; available: {', '.join(avail)}")
        else:
            try:
                v = ak.to_numpy(ak.flatten(arr[f], axis=1))
            except (TypeError, ValueError):
                raise ValueError(f"selection: column {f!r} is not one number per particle") from None
            if v.dtype.kind not in "biuf":
                raise ValueError(f"selection: column {f!r} is not numeric ({v.dtype})")
        cache[name, derive] = v
        return v

    return get


def momentum4d(flat, counts=None):
    """Awkward ``Momentum4D`` {px, py, pz, E} records with ``vector``'s behaviour attached.

    Args:
        flat: ``(n, 4)`` float array of four-vectors.
        counts: None, or a list of count arrays applied innermost first
            (``ak.unflatten`` repeatedly) to build the jagged structure.

    The behaviour is attached to the array (no global ``vector.register_awkward()``).
    """
    import awkward as ak

    try:
        from vector.backends.awkward import behavior
    except ImportError:  # pragma: no cover - vector is part of the hep extra
        behavior = None
    flat = np.asarray(flat, dtype=np.float64).reshape(-1, 4)
    out = ak.zip({k: np.ascontiguousarray(flat[:, q]) for q, k in enumerate(("px", "py", "pz", "E"))},
                 with_name="Momentum4D", behavior=behavior)
    for c in counts or ():
        out = ak.unflatten(out, np.asarray(c, dtype=np.int64))
    return out
