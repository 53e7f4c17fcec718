"""ROOT files through uproot: a TTree with one jagged branch per particle coordinate.

Reading: :func:`read_root` takes the tree (``Events`` for NanoAOD, ``Delphes``, or the
only TTree in the file) and the particle branches, either given as
``{"pt": "PFCands_pt", "eta": "PFCands_eta", ...}`` (keys: any coordinate name
:mod:`apps.jets.io.records` accepts) or a collection prefix (``"PFCands"``), or
found by default: a collection ``<prefix>_<coordinate>`` or ``<prefix>.<coordinate>``
forming px/py/pz/E, pt/eta/phi/mass(/E) or pt/rapidity/phi/mass, preferring the common
names (NanoAOD ``PFCands``, ``Particle`` as written by :func:`write_root`, Delphes-like
``Particle.PT/Eta/Phi/M`` — where a ``Status`` branch exists only ``Status == 1`` is kept).

Writing: :func:`write_root` writes a TTree ``Events`` with ``nParticle`` and
``Particle_px/py/pz/E`` (float64), ``BQuark_*`` for the b quarks, and the metadata as a
JSON string (TObjString ``meta``).
"""

from __future__ import annotations

import json
import re

import numpy as np

from .records import ALIASES

__all__ = ["read_root", "write_root", "find_branches", "PREFERRED_PREFIXES"]

PREFERRED_PREFIXES = ("PFCands", "Particle", "PFCand", "particles", "part", "EFlowTrack", "Constituent", "FatJetPFCands")
_SETS = (("px", "py", "pz", "E"), ("pt", "eta", "phi", "mass"), ("pt", "eta", "phi", "E"),
         ("pt", "rapidity", "phi", "mass"), ("pt", "eta", "phi"))


def _groups(keys):
    """{prefix: {canonical coordinate: branch}} for every ``prefix[_.]coordinate`` branch."""
    out = {}
    for k in keys:
        m = re.match(r"^(.+?)[_.]([A-Za-z]+)$", k)
        if not m:
            continue
        c = ALIASES.get(m.group(2).lower())
        if c is not None:
            out.setdefault(m.group(1), {}).setdefault(c, k)
    return out


def _complete(coords):
    for s in _SETS:
        if set(s) <= set(coords):
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
            if b.strip() not in keys:
                raise ValueError(f"branch {b.strip()!r} not in the tree (branches: {', '.join(keys[:20])}...)")
            coords[cc] = b.strip()
        sel = _complete(coords)
        if sel is None:
            raise ValueError(f"branches {sorted(coords)} do not make a four-momentum; give px/py/pz/E, "
                             "pt/eta/phi/mass (or E) or pt/rapidity/phi/mass")
        return None, sel
    groups = {p: _complete(c) for p, c in _groups(keys).items()}
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


def _tree(f, tree, path):
    trees = [k.split(";")[0] for k, cls in f.classnames().items() if cls == "TTree"]
    if tree is not None:
        if tree not in trees:
            raise ValueError(f"{path}: no TTree {tree!r} (TTrees: {trees})")
        return f[tree]
    for t in ("Events", "Delphes"):
        if t in trees:
            return f[t]
    if len(set(trees)) == 1:
        return f[trees[0]]
    raise ValueError(f"{path}: {'several TTrees ' + str(trees) + ': pass tree=' if trees else 'no TTree in the file'}"
                     + (" (--tree on the command line)" if trees else ""))


def read_root(path, tree=None, branches=None, entry_stop=None):
    """Read events from a ROOT TTree (see the module docs for how branches are found).

    Args:
        path: the ROOT file.
        tree: TTree name (default: ``Events``, ``Delphes`` or the only TTree).
        branches: see :func:`find_branches`.
        entry_stop: read only the first entries.

    Returns:
        :class:`~apps.jets.Events` (``bquarks`` and ``meta`` when written by :func:`write_root`).

    Raises:
        ValueError: no such tree or branches (names what exists).
    """
    import awkward as ak
    import uproot

    from .events import Events
    from .records import to_padded

    with uproot.open(path) as f:
        t = _tree(f, tree, path)
        keys = list(t.keys())
        prefix, sel = find_branches(keys, branches)
        arrays = t.arrays(list(sel.values()), entry_stop=entry_stop, library="ak")
        rec = ak.zip({c: arrays[b] for c, b in sel.items()})
        status = None
        if prefix is not None:
            st = [k for k in keys if k in (f"{prefix}.Status", f"{prefix}_Status", f"{prefix}_status")]
            if st and prefix == "Particle" and "Particle_px" not in keys:
                status = t[st[0]].array(entry_stop=entry_stop, library="ak")
        if status is not None:
            rec = rec[status == 1]
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
    p4, counts = to_padded(rec)
    meta = dict(meta, source=str(path), branches=sel)
    return Events(p4, counts, bq, meta)


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
