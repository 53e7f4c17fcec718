"""FastJet's interface on top of :func:`apps.jets.cluster`: ``ClusterSequence`` with fastjet's names.

A physicist's fastjet code needs only the import changed::

    import apps.jets as fastjet          # was: import fastjet
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)
    cs = fastjet.ClusterSequence(events, jetdef)
    jets = cs.inclusive_jets(min_pt=20)  # events * var * Momentum4D

Every method is a selector on the merge history of :class:`~apps.jets.ClusterResult`,
decoded here into FastJet's history table (``2N`` entries per event: the ``N``
particles, then one entry per step, a merge or a beam step), and follows FastJet's
rules and output order:

* ``inclusive_jets`` — beam-step jets, latest step first (FastJet's order, not pT);
* ``exclusive_jets(n_jets)`` — the jets alive after the first ``N − n_jets`` steps,
  in FastJet's order (parents of later history entries, ascending);
  ``exclusive_jets(dcut=)`` — as many as ``dcut`` leaves (FastJet's ``n_exclusive_jets``);
* ``exclusive_dmerge(njets)`` / ``exclusive_dmerge_max(njets)`` — the distance (its running
  maximum) of the step that goes from ``n + 1`` to ``n`` jets (0 when ``n ≥ N``);
* ``constituents`` / ``constituent_index`` — per jet, in ascending particle index (as
  fastjet's Python bindings return them).

Output: awkward arrays of ``Momentum4D`` {px, py, pz, E} records with ``vector``'s
behaviour attached, ``events * var`` for one history per event and
``events * samples * var`` when ``n_samples > 1`` (the Q-version samples histories).
FastJet's ``constituents`` returns unnamed records; ours are ``Momentum4D`` too.
"""

from __future__ import annotations

import warnings

import numpy as np

from .algorithms import JetDefinition

__all__ = ["ClusterSequence"]

_BEAM = -1
_NONE = -2  # particles have no parents
_INVALID = -3  # no child


class ClusterSequence:
    """Cluster events with a :class:`~apps.jets.JetDefinition`; fastjet's ``ClusterSequence``.

    Args:
        events: an awkward array of particle records in any coordinates ``vector``
            understands (``events * var``; see :mod:`apps.jets.io`), an
            :class:`~apps.jets.Events`, ``(p4, counts)`` or a padded ``(n_events, n_max, 4)`` array.
        jetdef: :class:`~apps.jets.JetDefinition` (a ``fastjet.JetDefinition`` is converted).
        n_samples: sampled histories per event (Q-version; deterministic algorithms give
            copies). With ``n_samples > 1`` every output gains a ``samples`` axis.
        seed: integer seed for the Q-version (None draws one; see ``self.result.seed``).
        backend: the engine backend (``"auto"``, ``"cpu"``, ...), passed to :func:`~apps.jets.cluster`.

    Attributes:
        result: the :class:`~apps.jets.ClusterResult` (merge history, ``dij``, ``score``).

    Raises:
        ValueError: bad events, definition or n_samples (from the engine's checks).
    """

    def __init__(self, events, jetdef, n_samples=1, seed=None, backend="auto"):
        if not isinstance(jetdef, JetDefinition):
            jetdef = JetDefinition(jetdef)
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
        self.jet_def = jetdef
        self.n_samples = int(n_samples)
        self.result = _cluster(events, jetdef, self.n_samples, seed, backend)
        self._table = None

    # ----- history table -------------------------------------------------------------------------
    def _tab(self):
        if self._table is None:
            self._table = _HistoryTable(self.result)
        return self._table

    def _shape(self, layout_counts, flat_p4=None, flat_values=None):
        """Nest flat per-item output into events [* samples] * ... (counts innermost first)."""
        from ..io.records import momentum4d

        if flat_p4 is not None:
            out = momentum4d(flat_p4, layout_counts)
        else:
            import awkward as ak

            out = ak.Array(flat_values)
            for c in layout_counts:
                out = ak.unflatten(out, np.asarray(c, dtype=np.int64))
        res = self.result
        return _expand(out, res.history.shape[0], 1 if res.alpha is None else res.history.shape[1], self.n_samples)

    # ----- fastjet's methods -----------------------------------------------------------------------
    def n_particles(self):
        """Particles per event (``(n_events,)`` int array)."""
        return np.asarray(self.result.counts).copy()

    def inclusive_jets(self, min_pt=0.0):
        """Jets that reached the beam with ``pT ≥ min_pt``, in FastJet's order (``events [* samples] * var``)."""
        min_pt = _nonneg(min_pt, "min_pt")
        if self._table is not None:
            h, cnt = self._table.inclusive(min_pt)
            return self._shape([cnt], flat_p4=self._table.mom[h[0], h[1]])
        flat, cnt = _inclusive(self.result, min_pt)
        return self._shape([cnt], flat_p4=flat)

    def exclusive_jets(self, n_jets=-1, dcut=-1.0):
        """Jets after clustering down to ``n_jets`` jets, or until every distance exceeds ``dcut``.

        Raises:
            ValueError: neither or both of ``n_jets`` and ``dcut``; ``n_jets`` larger than
                an event's particle count (FastJet raises too), naming the event.
        """
        t = self._tab()
        nj = self._n_jets(n_jets, dcut)
        h, cnt = t.exclusive(nj)
        return self._shape([cnt], flat_p4=t.mom[h[0], h[1]])

    def n_exclusive_jets(self, dcut=0.0):
        """Jets that ``exclusive_jets(dcut=dcut)`` returns, per event (int32, ``events [* samples]``)."""
        t = self._tab()
        return self._shape([], flat_values=t.n_exclusive(_nonneg(dcut, "dcut")).astype(np.int32))

    def exclusive_dmerge(self, njets=10):
        """The distance ``d`` of the step that merges ``njets + 1`` jets into ``njets`` (0 when ``njets ≥ N``).

        Returns ``events [* samples]`` float64 (fastjet's keyword is ``njets`` here).
        """
        return self._dmerge(njets, maximum=False)

    def exclusive_dmerge_max(self, njets=10):
        """The largest step distance up to the ``njets + 1 → njets`` step (0 when ``njets ≥ N``)."""
        return self._dmerge(njets, maximum=True)

    def constituents(self, min_pt=0.0):
        """Per inclusive jet (``pT ≥ min_pt``, same order), its particles: ``events [* samples] * var * var``."""
        t = self._tab()
        item, part, jets_cnt, sizes = t.constituents(_nonneg(min_pt, "min_pt"))
        return self._shape([sizes, jets_cnt], flat_p4=t.mom[item, part])

    def constituent_index(self, min_pt=0.0):
        """As :meth:`constituents`, the particles' indices in the event (int32)."""
        t = self._tab()
        _, part, jets_cnt, sizes = t.constituents(_nonneg(min_pt, "min_pt"))
        return self._shape([sizes, jets_cnt], flat_values=part.astype(np.int32))

    def unclustered_particles(self):
        """Particles that never entered a step (FastJet: none for kt, C/A and anti-kT): ``events [* samples] * var``."""
        t = self._tab()
        h, cnt = t.unclustered()
        return self._shape([cnt], flat_p4=t.mom[h[0], h[1]])

    # ----- helpers ----------------------------------------------------------------------------------
    def _n_jets(self, n_jets, dcut):
        given_n, given_d = n_jets is not None and n_jets != -1, dcut is not None and dcut != -1
        if given_n == given_d:
            raise ValueError("give either n_jets or dcut to exclusive_jets (as fastjet)")
        if self.jet_def.p < 0:
            warnings.warn("dcut and exclusive jets for jet-finders other than kt, C/A or genkt with p>=0 "
                          "should be interpreted with care.", UserWarning, stacklevel=3)
        t = self._tab()
        if given_d:
            return t.n_exclusive(_nonneg(dcut, "dcut"))
        if isinstance(n_jets, bool) or not isinstance(n_jets, (int, np.integer)) or n_jets < 1:
            raise ValueError(f"n_jets must be an integer >= 1, got {n_jets!r}")
        few = t.N < n_jets
        if few.any():
            e = int(np.argmax(few)) // t.k_ns
            raise ValueError(f"event {e}: requested {n_jets} exclusive jets, but the event has only "
                             f"{int(t.N[np.argmax(few)])} particles")
        return np.full(t.N.shape, int(n_jets), np.int64)

    def _dmerge(self, n_jets, maximum):
        if isinstance(n_jets, bool) or not isinstance(n_jets, (int, np.integer)) or n_jets < 0:
            raise ValueError(f"n_jets must be an integer >= 0, got {n_jets!r}")
        t = self._tab()
        return self._shape([], flat_values=t.dmerge(int(n_jets), maximum))


def _nonneg(x, name):
    x = float(x)
    if not np.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {x!r}")
    return x


def _expand(arr, n_ev, k_ns, ns_out):
    """Items → ``events * var`` (one sample) or ``events * samples * var`` (copies for deterministic)."""
    import awkward as ak

    if k_ns == 1 and ns_out > 1:
        arr = arr[np.repeat(np.arange(n_ev), ns_out)]
    if ns_out > 1:
        arr = ak.to_regular(ak.unflatten(arr, np.full(n_ev, ns_out, np.int64)), axis=1)
    return arr


def _inclusive(res, min_pt):
    """``(flat jets (n, 4), jets per item)`` of ``inclusive_jets(min_pt)``, straight from the merge history.

    The same jets, doubles and order as the history table's (FastJet's order: latest beam
    step first), without building the table.
    """
    from .backends._numba_inclusive import inclusive_from_history

    n_ev, ns, n_max = res.history.shape[:3]
    k_ns = 1 if res.alpha is None else ns
    hist = np.ascontiguousarray(np.asarray(res.history[:, :k_ns]).reshape(n_ev * k_ns, n_max, 2), dtype=np.int64)
    p4 = np.ascontiguousarray(np.asarray(res.p4), dtype=np.float64)
    counts = np.ascontiguousarray(np.asarray(res.counts), dtype=np.int64)
    out = np.empty((int(counts.sum()) * k_ns, 4))
    n_out = np.zeros(n_ev * k_ns, np.int64)
    tot = inclusive_from_history(p4, counts, k_ns, hist, min_pt * min_pt, out, n_out) if len(hist) else 0
    if tot < 0:
        raise RuntimeError("corrupt merge history from the engine (step with a negative jet index)")
    return out[:tot], n_out


def _cluster(events, jetdef, n_samples, seed, backend):
    from .engine import cluster

    return cluster(events, jetdef.radius, jetdef.alpha, n_samples, seed, p=jetdef.p, backend=backend)


class _HistoryTable:
    """FastJet's history table for every distinct (event, sample) history, built from ``ClusterResult``.

    Items are the distinct histories: ``n_events`` for a deterministic algorithm (the
    samples are copies), ``n_events * n_samples`` for the Q-version. Entries
    ``0..N−1`` are the particles, ``N + t`` step t. ``mom`` holds the four-momentum of
    every entry that is a jet (particles and merges; E-scheme sums).
    """

    def __init__(self, res):
        n_ev, ns, n_max = res.history.shape[:3]
        det = res.alpha is None
        self.k_ns = 1 if det else ns
        hist = np.asarray(res.history[:, : self.k_ns]).reshape(n_ev * self.k_ns, n_max, 2).astype(np.int64)
        dist = np.asarray(res.dij[:, : self.k_ns], dtype=np.float64).reshape(n_ev * self.k_ns, n_max)
        n_it = hist.shape[0]
        H = 2 * n_max
        self.n_ev, self.ns_out = n_ev, ns
        self.N = N = np.repeat(np.asarray(res.counts, np.int64), self.k_ns)
        self.mom = np.zeros((n_it, H, 4))
        self.mom[:, :n_max] = np.repeat(np.asarray(res.p4, np.float64), self.k_ns, axis=0)
        self.parent1 = np.full((n_it, H), _NONE, np.int64)
        self.parent2 = np.full((n_it, H), _NONE, np.int64)
        self.child = np.full((n_it, H), _INVALID, np.int64)
        self.dij = np.full((n_it, H), np.nan)
        self.dij[:, :n_max] = np.where(np.arange(n_max) < N[:, None], 0.0, np.nan)
        from .backends._numba_table import fill_history_table

        if not fill_history_table(hist, dist, N, self.mom, self.parent1, self.parent2, self.child, self.dij, _BEAM):
            raise RuntimeError("corrupt merge history from the engine (step with a negative jet index)")
        self.hidx = np.arange(H)
        self.used = self.hidx < 2 * N[:, None]
        self.max_dij = np.fmax.accumulate(np.where(self.used, self.dij, -np.inf), axis=1)
        self._cons = {}

    def _flat(self, mask_rows, values):
        """(item, value) pairs of ``values`` where ``mask_rows`` holds, item-major; and counts per item."""
        it, col = np.nonzero(mask_rows)
        return (it, values[it, col]), mask_rows.sum(axis=1)

    def inclusive(self, min_pt):
        key = ("incl", min_pt)
        if key not in self._cons:
            beam = self.used & (self.hidx >= self.N[:, None]) & (self.parent2 == _BEAM)
            it, h = np.nonzero(beam)
            p1 = self.parent1[it, h]
            m = self.mom[it, p1]
            keep = m[:, 0] ** 2 + m[:, 1] ** 2 >= min_pt * min_pt
            it, h, p1 = it[keep], h[keep], p1[keep]
            order = np.lexsort((-h, it))  # per item, the latest beam step first (FastJet's order)
            self._cons[key] = ((it[order], p1[order]), np.bincount(it, minlength=len(self.N)))
        return self._cons[key]

    def n_exclusive(self, dcut):
        stop = np.sum(self.used & (self.max_dij <= dcut), axis=1)
        return 2 * self.N - stop

    def exclusive(self, n_jets):
        stop = 2 * self.N - n_jets
        live = self.used & (self.hidx >= stop[:, None])
        cand = np.stack([self.parent1, self.parent2], axis=2)
        ok = live[..., None] & (cand >= 0) & (cand < stop[:, None, None])
        ok = ok.reshape(len(stop), -1)
        (it, h), cnt = self._flat(ok, cand.reshape(len(stop), -1))
        return (it, h), cnt

    def dmerge(self, n_jets, maximum):
        i = 2 * self.N - n_jets - 1
        src = self.max_dij if maximum else self.dij
        if src.shape[1] == 0:  # only empty events: no step at all
            return np.zeros(len(i))
        val = src[np.arange(len(i)), np.clip(i, 0, src.shape[1] - 1)]
        return np.where(n_jets >= self.N, 0.0, val)

    def unclustered(self):
        part = (self.hidx < self.N[:, None]) & (self.child == _INVALID)
        return self._flat(part, np.broadcast_to(self.hidx, part.shape))

    def constituents(self, min_pt):
        """Particles of the inclusive jets (pT ≥ min_pt), by jet then index: (item, particle, jets per item, sizes)."""
        if min_pt in self._cons:
            return self._cons[min_pt]
        n_it, H = self.parent1.shape
        rows = np.arange(n_it)
        size = np.where(self.hidx < self.N[:, None], 1, 0).astype(np.int64)
        n_max = H // 2
        for t in range(n_max):  # bottom-up leaf counts
            idx = np.flatnonzero((t < self.N) & (self.parent2[rows, np.minimum(self.N + t, H - 1)] >= 0))
            h = self.N[idx] + t
            size[idx, h] = size[idx, self.parent1[idx, h]] + size[idx, self.parent2[idx, h]]
        root = np.full((n_it, H), -1, np.int64)
        for t in range(n_max - 1, -1, -1):  # top-down: the inclusive jet each entry ends in
            idx = np.flatnonzero(t < self.N)
            h = self.N[idx] + t
            p1, p2 = self.parent1[idx, h], self.parent2[idx, h]
            b = p2 == _BEAM
            root[idx[b], p1[b]] = p1[b]
            m = ~b
            im, hm = idx[m], h[m]
            root[im, p1[m]] = root[im, hm]
            root[im, p2[m]] = root[im, hm]
        (it, jet_h), jets_cnt = self.inclusive(min_pt)
        rank = np.full((n_it, H), -1, np.int64)
        starts = np.concatenate([[0], np.cumsum(jets_cnt)[:-1]])
        rank[it, jet_h] = np.arange(len(it)) - np.repeat(starts, jets_cnt)
        pi, pp = np.nonzero(self.hidx[:n_max] < self.N[:, None])
        rt = root[pi, pp]
        r = np.where(rt >= 0, rank[pi, np.maximum(rt, 0)], -1)
        keep = r >= 0
        pi, pp, r = pi[keep], pp[keep], r[keep]
        order = np.lexsort((pp, r, pi))
        pi, pp = pi[order], pp[order]
        sizes = size[it, jet_h]
        out = (pi, pp, jets_cnt, sizes)
        self._cons[min_pt] = out
        return out
