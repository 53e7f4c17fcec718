"""ROOT files through uproot: a TTree or an RNTuple with one jagged branch (field) per particle column.

Reading: :func:`read_root` takes the tree (``Events`` for NanoAOD, ``Delphes``, or the
only TTree / RNTuple in the file) and the particle branches, either given as
``{"pt": "PFCands_pt", "eta": "PFCands_eta", ...}`` (keys: any coordinate name
:mod:`apps.jets.io.records` accepts) or a collection prefix (``"PFCands"``,
``"GenPart"``), several joined by ``+`` (Delphes' ``"EFlowTrack+EFlowPhoton+EFlowNeutralHadron"``,
also spelled ``"EFlow"``: one list of particles per event, the collections in that order),
or found by default: a collection ``<prefix>_<column>`` or ``<prefix>.<column>`` forming
px/py/pz/E, pt/eta/phi/mass(/E) or pt/rapidity/phi/mass, preferring the common names
(NanoAOD ``PFCands``, ``Particle`` as written by :func:`write_root` and by Delphes, then
NanoAOD ``GenPart``). Columns named exactly (``PT``, ``Eta``, ``E``) beat aliases, so a
track's vertex ``X, Y, Z, T`` is never read as a momentum.

``select=`` keeps particles by an expression over the collection's other columns
(``status``, ``pdgId``, ``charge``, ... case-insensitive) and the kinematics — see
:mod:`apps.jets.io.select`. Without one, Delphes' generator ``Particle`` collection keeps
``Status == 1`` (as before; the metadata says so); NanoAOD's ``GenPart`` has no default, and its
incoming partons (pt = 0) are refused with a hint to select ``status == 1``.

Writing: :func:`write_root` writes a TTree ``Events`` with ``nParticle`` and
``Particle_px/py/pz/E`` (float64), ``BQuark_*`` for the b quarks, and the metadata as a
JSON string (TObjString ``meta``).
"""

from __future__ import annotations

import json
import re

import numpy as np

from .records import ALIASES

__all__ = ["read_root", "write_root", "find_branches", "collection_columns", "PREFERRED_PREFIXES", "COMBINED"]

PREFERRED_PREFIXES = ("PFCands", "Particle", "PFCand", "particles", "part", "EFlowTrack", "Constituent", "FatJetPFCands",
                      "GenPart")
COMBINED = {"EFlow": ("EFlowTrack", "EFlowPhoton", "EFlowNeutralHadron")}  # Delphes' particle-flow candidates
_SETS = (("px", "py", "pz", "E"), ("pt", "eta", "phi", "mass"), ("pt", "eta", "phi", "E"),
         ("pt", "rapidity", "phi", "mass"), ("pt", "eta", "phi"))


def collection_columns(keys):
    """{prefix: {column: branch}} for every ``prefix_column`` / ``prefix.column`` branch (parents ``a/b`` ignored)."""
    out = {}
    for k in keys:
        m = re.match(r"^(.+?)[_.]([A-Za-z][A-Za-z0-9]*)$", k.rsplit("/", 1)[-1])
        if m:
            out.setdefault(m.group(1), {}).setdefault(m.group(2), k)
    return out


def _groups(keys):
    """{prefix: ({canonical coordinate: branch}, {coordinates named exactly})} for every collection."""
    out = {}
    for prefix, cols in collection_columns(keys).items():
        coords, exact = {}, set()
        for name, k in cols.items():  # exact names first: a vertex X/Y/Z/T never beats PT/Eta/Phi/E
            c = ALIASES.get(name.lower())
            if c is not None and name.lower() == c.lower() and c not in coords:
                coords[c] = k
                exact.add(c)
        for name, k in cols.items():
            c = ALIASES.get(name.lower())
            if c is not None and c not in coords:
                coords[c] = k
        if coords:
            out[prefix] = (coords, exact)
    return out


def _complete(coords, exact=None):
    """The first complete coordinate set; a four-coordinate set of exact names comes before any with aliases."""
    for pool, n in (((exact, 4),) if exact is not None else ()) + ((set(coords), 0),):
        for s in _SETS:
            if len(s) >= n and set(s) <= pool:
                return {c: coords[c] for c in s}
    return None


def find_branches(keys, branches=None):
    """``(prefix, {coordinate: branch})`` for the particles among the tree's branch names ``keys``.

    Args:
        keys: branch names.
        branches: None (find them), a prefix, a ``{coordinate: branch}`` dict, or the
            command-line form ``"pt=PFCands_pt,eta=PFCands_eta,phi=PFCands_phi,mass=PFCands_mass"``.

    Raises:
        ValueError: missing branches, or none / several candidate collections.
    """
    keys = list(keys)
    if isinstance(branches, str) and "=" in branches:
        try:
            branches = dict(kv.split("=", 1) for kv in branches.split(","))
        except ValueError:
            raise ValueError(f"--branches {branches!r}: use coordinate=branch pairs separated by commas") from None
    if isinstance(branches, dict):
        coords = {}
        for c, b in branches.items():
            cc = ALIASES.get(c.strip().lower())
            if cc is None:
                raise ValueError(f"unknown coordinate {c!r} in branches; use px/py/pz/E, pt/eta/phi/mass, rapidity")
            if b.strip() not in keys and b.strip() not in {k.rsplit("/", 1)[-1] for k in keys}:
                raise ValueError(f"branch {b.strip()!r} not in the tree (branches: {', '.join(keys[:20])}...)")
            coords[cc] = b.strip()
        sel = _complete(coords)
        if sel is None:
            raise ValueError(f"branches {sorted(coords)} do not make a four-momentum; give px/py/pz/E, "
                             "pt/eta/phi/mass (or E) or pt/rapidity/phi/mass")
        return None, sel
    groups = {p: _complete(c, ex) for p, (c, ex) in _groups(keys).items()}
    groups = {p: c for p, c in groups.items() if c is not None}
    if isinstance(branches, str):
        if branches not in groups:
            raise ValueError(f"no particle collection {branches!r} in the tree; found: {sorted(groups) or 'none'}")
        return branches, groups[branches]
    if branches is not None:
        raise ValueError(f"branches must be None, a prefix or a coordinate->branch mapping, got {branches!r}")
    if len(groups) == 1:
        (p, c), = groups.items()
        return p, c
    for p in PREFERRED_PREFIXES:
        if p in groups:
            return p, groups[p]
    raise ValueError("cannot tell which branches hold the particles "
                     f"({'collections: ' + ', '.join(sorted(groups)) if groups else 'no px/py/pz/E or pt/eta/phi branches'}); "
                     "give them, e.g. --branches pt=PFCands_pt,eta=PFCands_eta,phi=PFCands_phi,mass=PFCands_mass")


_KINDS = ("TTree", "ROOT::RNTuple")


def _tree(f, tree, path):
    trees = [k.split(";")[0] for k, cls in f.classnames().items() if cls in _KINDS]
    if tree is not None:
        if tree not in trees:
            raise ValueError(f"{path}: no TTree or RNTuple {tree!r} (found: {trees})")
        return f[tree]
    for t in ("Events", "Delphes"):
        if t in trees:
            return f[t]
    if len(set(trees)) == 1:
        return f[trees[0]]
    if not trees:
        raise ValueError(f"{path}: no TTree or RNTuple in the file")
    raise ValueError(f"{path}: several trees {trees}: pass tree= (--tree on the command line)")


def _specs(branches):
    """The collections asked for: ``[None]`` (find one), prefixes (``a+b``, ``EFlow``) or one mapping."""
    if isinstance(branches, str) and "=" not in branches:
        names = [b.strip() for b in branches.split("+")]
        if any(not b for b in names):
            raise ValueError(f"--branches {branches!r}: join collection prefixes with '+', e.g. "
                             "EFlowTrack+EFlowPhoton+EFlowNeutralHadron")
        out = []
        for b in names:
            out += list(COMBINED.get(b, (b,)))
        return out
    return [branches]


def read_root(path, tree=None, branches=None, entry_stop=None, select=None):
    """Read events from a ROOT TTree or RNTuple (see the module docs for how branches are found).

    Args:
        path: the ROOT file.
        tree: TTree / RNTuple name (default: ``Events``, ``Delphes`` or the only one).
        branches: see :func:`find_branches`; prefixes joined by ``+`` (or ``"EFlow"``) combine collections.
        entry_stop: read only the first entries.
        select: keep particles by an expression over the collection's columns and the
            kinematics (:class:`~apps.jets.io.select.Selection` or a string).

    Returns:
        :class:`~apps.jets.Events` (``bquarks`` and ``meta`` when written by :func:`write_root`;
        ``meta["branches"]`` and ``meta["selection"]`` say what was read).

    Raises:
        ValueError: no such tree or branches (names what exists), a bad selection, or
            particles that cannot be clustered (naming the event; see
            :func:`apps.jets.io.records.check_clusterable`).
    """
    import awkward as ak
    import uproot

    from .events import Events
    from .records import cartesian, stored_precision, to_padded
    from .select import Selection

    sel = Selection.of(select)
    with uproot.open(path) as f:
        t = _tree(f, tree, path)
        keys = list(t.keys())
        short = {k.rsplit("/", 1)[-1]: k for k in keys}
        colls = collection_columns(keys)
        parts, used, default = [], {}, None
        specs = _specs(branches)
        for spec in specs:
            prefix, coords = find_branches(keys, spec)
            coords = {c: short.get(b, b) for c, b in coords.items()}
            extra = {}
            own = colls.get(prefix, {}) if prefix is not None else {}
            for name in sorted(sel.names()) if sel else ():
                if name in coords:
                    continue
                hit = own.get(name) or next((k for n, k in own.items() if n.lower() == name.lower()), None)
                if hit is None and prefix is None:
                    hit = short.get(name)
                if hit is not None:
                    extra[name] = hit
                elif len(specs) > 1 and name.lower() not in ("pt", "eta", "rapidity", "phi", "mass", "e"):
                    raise ValueError(f"selection: collection {prefix!r} has no column {name!r} "
                                     f"(its columns: {', '.join(sorted(own))}); with several collections a "
                                     "selection may use only the columns they all have and the kinematics")
            if not sel and prefix == "Particle" and "Particle_px" not in keys:
                st = own.get("Status") or own.get("status")
                if st is not None:  # Delphes' generator particles: the stable ones, as before
                    extra["Status"], default = st, "Status == 1"
            arrays = t.arrays(list(dict.fromkeys(list(coords.values()) + list(extra.values()))),
                              entry_stop=entry_stop, library="ak")
            rec = ak.zip({**{c: arrays[b] for c, b in coords.items()}, **{n: arrays[b] for n, b in extra.items()}})
            parts.append(rec)
            used[prefix or "branches"] = coords
        if default is not None:
            sel = Selection(default)
        bq = None
        if {"BQuark_px", "BQuark_py", "BQuark_pz", "BQuark_E"} <= set(keys):
            b = t.arrays(["BQuark_px", "BQuark_py", "BQuark_pz", "BQuark_E"], entry_stop=entry_stop)
            bp, bc = to_padded(ak.zip({q: b[f"BQuark_{q}"] for q in ("px", "py", "pz", "E")}))
            bq = bp if bp.shape[1] == 2 and np.all(bc == 2) else None
        meta = {}
        if "meta" in f:
            try:
                meta = json.loads(str(f["meta"]))
            except (ValueError, TypeError):
                meta = {}
    if len(parts) == 1:
        rec, precision = parts[0], None
    else:  # one list per event: the collections' four-momenta (and common columns), in the order given
        eps = [stored_precision(r) for r in parts]
        precision = max(eps, key=lambda d: np.finfo(d).eps)
        common = set.intersection(*[set(ak.fields(r)) for r in parts]) - set(coordinate_names())
        fours = []
        for r in parts:
            px, py, pz, E = cartesian(r)
            fours.append(ak.zip({"px": px, "py": py, "pz": pz, "E": E, **{n: r[n] for n in sorted(common)}}))
        rec = ak.concatenate(fours, axis=1)
    p4, counts = to_padded(rec, select=sel, precision=precision)
    meta = dict(meta, source=str(path), branches=used if len(used) > 1 else next(iter(used.values())))
    if sel:
        meta["selection"] = sel.describe()
    if default is not None:
        meta["selection_note"] = "Delphes generator particles: Status == 1 kept by default (give select= to choose)"
    return Events(p4, counts, bq, meta)


def coordinate_names():
    """Every coordinate a collection may carry (canonical names, lower and upper case)."""
    return set(ALIASES.values()) | set(ALIASES)


def write_root(events, path):
    """Write :class:`~apps.jets.Events` as a TTree ``Events`` (see the module docs)."""
    import awkward as ak
    import uproot

    parts = events.to_awkward(with_name=None)
    cols = {"Particle": parts}
    if events.bquarks is not None:
        b = events.bquarks
        cols["BQuark"] = ak.from_regular(
            ak.zip({k: np.ascontiguousarray(b[..., q]) for q, k in enumerate(("px", "py", "pz", "E"))}), axis=1)
    with uproot.recreate(path) as f:
        t = f.mktree("Events", {k: v.type.content for k, v in cols.items()},
                     field_name=lambda outer, inner: f"{outer}_{inner}", counter_name=lambda c: f"n{c}")
        if len(events):
            t.extend(cols)
        f["meta"] = json.dumps(events.meta)
