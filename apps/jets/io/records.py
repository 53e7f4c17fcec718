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
    c = _canonical(fields)

    def col(name):
        return ak.values_astype(ak.without_parameters(arr[c[name]]), np.float64)

    for want in _SETS:  # a complete set, ignoring other fields (vertex x/y/z, charge, ...)
        if set(want) <= set(c):
            c = {k: c[k] for k in want}
            break
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


def to_padded(arr, field=None):
    """``(p4, counts)`` float64/int64 padded arrays from an awkward array of events.

    ``arr`` is ``events * var * record`` (one list of particles per event),
    ``events * 1 * var * record`` (one sample per event, as ``Jets.to_awkward()`` of a
    deterministic clustering) or ``var * record`` (one event).

    Raises:
        ValueError: unreadable coordinates, or a nesting other than those two.
    """
    import awkward as ak

    arr = find_particles(arr, field)
    depth = arr.ndim
    if depth == 1:
        arr = arr[np.newaxis]
    elif depth == 3 and len(arr) and ak.all(ak.num(arr, axis=1) == 1):
        arr = arr[:, 0]  # events * 1 sample * var (e.g. ClusterResult jets' to_awkward()): one list per event
    elif depth != 2:
        raise ValueError(f"awkward events must be events * var * particle records (or one event, var * record); "
                         f"got {ak.type(arr)} — select one axis first, e.g. arr[:, 0] for the first sample")
    px, py, pz, E = cartesian(arr)
    counts = np.asarray(ak.num(px, axis=1), dtype=np.int64)
    n_max = int(counts.max()) if counts.size else 0
    p4 = np.zeros((len(counts), n_max, 4))
    mask = np.arange(n_max)[None, :] < counts[:, None]
    for q, comp in enumerate((px, py, pz, E)):
        flat = ak.to_numpy(ak.flatten(comp, axis=1))
        if isinstance(flat, np.ma.MaskedArray):
            raise ValueError("missing (None) particle momenta in the awkward input: drop them first (ak.drop_none)")
        p4[..., q][mask] = np.asarray(flat, dtype=np.float64)
    return p4, counts


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
