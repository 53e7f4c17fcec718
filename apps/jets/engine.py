"""Clustering entry points: input checks, backend dispatch and the merge-history result.

``cluster`` returns a :class:`ClusterResult` — the merge history per (event, sample);
jets, constituents and the dijet mass are selectors on it. ``sample_mjj_and_score`` is
the optimisation fast path: dijet mass and score per (event, sample), no history kept;
``sample_mjj_and_alternatives`` adds the stochastic derivative's alternative paths.

Documented behaviours (not errors):

* an empty event (``counts[e] == 0``) has no jets: ``mjj`` is NaN, score 0;
* a particle with zero pT but non-zero energy is clustered as FastJet does (rapidity
  ``±(1e5 + |pz|)`` if it is massless along the beam, ``s = 1/kt² = 1e300``);
* ``alpha = 0`` samples uniformly among all pairs and beams (score 0); ``alpha = inf``
  is deterministic anti-kT;
* exactly collinear jets (``d_min = 0``): Qanti-kT picks uniformly among the ``d = 0``
  candidates (their probability does not depend on R);
* ``mjj`` uses ``sqrt(max(m², 0))``; NaN when fewer than two jets pass ``ptmin``.
"""

from __future__ import annotations

import numpy as np

from .events import as_padded

__all__ = ["cluster", "ClusterResult", "Jets", "sample_mjj_and_score", "sample_mjj_and_alternatives",
           "check_events"]

_E_TOL = 1e-7  # allowed relative E < |p| (rounding of massless particles)


def _backend(p4):
    if type(p4).__module__.startswith("cupy"):
        raise TypeError("cupy arrays are not supported yet by the jets engine: pass numpy arrays (.get())")
    from . import _kernels_cpu

    return _kernels_cpu


def check_events(p4, counts):
    """Raise ``ValueError`` naming the first bad event/particle and what to change."""
    n_max = p4.shape[1]
    mask = np.arange(n_max)[None, :] < counts[:, None]
    bad = mask & ~np.all(np.isfinite(p4), axis=2)
    if bad.any():
        e, i = map(int, np.argwhere(bad)[0])
        raise ValueError(f"event {e}, particle {i}: non-finite four-momentum {p4[e, i].tolist()}; "
                         "remove the particle or fix its momentum")
    p = np.sqrt(np.sum(p4[..., :3] ** 2, axis=2))
    E = p4[..., 3]
    bad = mask & (E < p - _E_TOL * np.maximum(np.abs(E), p))
    if bad.any():
        e, i = map(int, np.argwhere(bad)[0])
        raise ValueError(f"event {e}, particle {i}: E = {E[e, i]:.9g} < |p| = {p[e, i]:.9g} (tachyonic); "
                         "set E >= |p| (e.g. E = |p| for massless particles)")
    bad = mask & (E == 0) & (p == 0)
    if bad.any():
        e, i = map(int, np.argwhere(bad)[0])
        raise ValueError(f"event {e}, particle {i}: all-zero four-momentum inside counts[{e}] = {counts[e]}; "
                         "check counts (padding rows must lie past counts) or drop the particle")


def _check_R(R, n_ev):
    R = np.asarray(R, dtype=np.float64)
    if R.ndim == 0:
        R = np.full(n_ev, float(R))
    if R.shape != (n_ev,):
        raise ValueError(f"R must be a scalar or have shape (n_events,) = ({n_ev},), got {R.shape}")
    bad = ~(np.isfinite(R) & (R > 0))
    if bad.any():
        e = int(np.argmax(bad))
        raise ValueError(f"event {e}: jet radius R = {R[e]!r}; R must be a finite number > 0")
    return np.ascontiguousarray(R)


def _check_alpha(alpha):
    if alpha is None:
        return None
    a = float(alpha)
    if np.isnan(a) or a < 0:
        raise ValueError(f"alpha = {alpha!r}: Qanti-kT needs alpha >= 0 (alpha=None or inf for anti-kT)")
    return None if np.isinf(a) else a


def _seed64(seed):
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (1 << 64))
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer or None, got {seed!r}")
    return int(seed) % (1 << 64)


def _run(p4, counts, R, alpha, n_samples, seed, ptmin, want_hist, n_alt=0, event_offset=0):
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    if not np.isfinite(ptmin) or ptmin < 0:
        raise ValueError(f"ptmin must be a finite number >= 0, got {ptmin!r}")
    check_events(p4, counts)
    R = _check_R(R, len(counts))
    alpha = _check_alpha(alpha)
    det = alpha is None
    k = _backend(p4)
    ns = 1 if det else int(n_samples)
    n_items = len(counts) * ns
    n_max = p4.shape[1]
    hist = np.full((n_items, n_max, 2) if want_hist else (0, 0, 2), -2, np.int32)
    dist = np.full((n_items, n_max) if want_hist else (0, 0), np.nan)
    mjj = np.empty(n_items)
    score = np.empty(n_items)
    res = np.full((n_items, n_alt, 3), -1, np.int64)
    res_sign = np.zeros((n_items, n_alt))
    alt_total = np.zeros(n_items)
    if n_items:
        k.run_batch(p4, counts, R, 0.0 if det else alpha, det, ns, np.uint64(seed), float(ptmin), want_hist,
                    hist, dist, mjj, score, res, res_sign, alt_total, np.int64(event_offset))
    out = R, alpha, ns, hist, dist, mjj.reshape(-1, ns), score.reshape(-1, ns)
    if n_alt:
        alt_mjj = np.empty((n_items, n_alt))
        if n_items:
            k.run_alternatives(p4, counts, R, alpha, ns, np.uint64(seed), float(ptmin), res, alt_mjj,
                                np.int64(event_offset))
        # each drawn alternative carries Σ|w| · sign / m: their sum estimates Σ_k w_k Δ_k
        weight = alt_total[:, None] * res_sign / n_alt
        out += (alt_mjj.reshape(-1, ns, n_alt), weight.reshape(-1, ns, n_alt))
    return out


def sample_mjj_and_score(p4, counts, R, alpha, n_samples, seed, ptmin=20.0, event_offset=0):
    """Dijet mass and ∂/∂R log p(history) per (event, sample), in one pass, no Python per event.

    Args:
        p4, counts: padded events ``(n_events, n_max, 4)`` and ``(n_events,)``.
        R: scalar or ``(n_events,)``.
        alpha: Qanti-kT α ≥ 0, or None (anti-kT: every sample identical, score 0).
        n_samples, seed: samples per event; the stream of sample s of event e depends
            only on (seed, e, s).
        ptmin: jet pT threshold for the two leading jets.
        event_offset: global index of the first event (a partition of a larger
            sample): streams are keyed by (seed, event_offset + e, s).

    Returns:
        ``(mjj, score)``, float64 arrays of shape ``(n_events, n_samples)``; ``mjj`` is
        NaN where fewer than two jets pass ``ptmin``.
    """
    p4, counts = as_padded((p4, counts))
    _, alpha, ns, _, _, mjj, score = _run(p4, counts, R, alpha, n_samples, _seed64(seed), ptmin, False,
                                          event_offset=_offset(event_offset))
    if ns != n_samples:
        mjj, score = np.repeat(mjj, n_samples, axis=1), np.repeat(score, n_samples, axis=1)
    return mjj, score


def sample_mjj_and_alternatives(p4, counts, R, alpha, n_samples, seed, n_alternatives=1, ptmin=20.0,
                                event_offset=0):
    """Dijet mass, score and stochastic-derivative alternatives per (event, sample).

    For the stochastic derivative of ``E[f(mjj)]`` with respect to R (unbiased):
    every step of a sampled Qanti-kT history offers each candidate it did not take
    as an alternative, with the Rao-Blackwellised weight ``w = ∂π_k/∂R`` (π_k the
    step's candidate probability). ``n_alternatives`` of them are drawn per history
    with probability ``|w| / Σ|w|`` and re-clustered with the same random stream,
    that candidate forced at its step. Then

        ∂/∂R E[f(mjj)] = E[ Σ_j weight_j · (f(alt_mjj_j) − f(mjj)) ]

    with ``weight_j = Σ|w| · sign(w_j) / n_alternatives``. A history costs
    ``1 + n_alternatives`` clusterings.

    Args:
        p4, counts, R, alpha, n_samples, seed, ptmin, event_offset: as :func:`sample_mjj_and_score`
            (α must be a finite number > 0: anti-kT and α = 0 do not depend on R
            through their choices).
        n_alternatives: alternatives drawn per history (≥ 1).

    Returns:
        ``(mjj, score, alt_mjj, alt_weight)``: ``(n_events, n_samples)`` twice, then
        ``(n_events, n_samples, n_alternatives)`` twice. A history without any
        R-dependent choice has weight 0 (and NaN ``alt_mjj``).

    Raises:
        ValueError: bad events, R, α (None, 0 or inf), n_samples or n_alternatives.
    """
    if not (isinstance(n_alternatives, (int, np.integer)) and n_alternatives >= 1):
        raise ValueError(f"n_alternatives must be an integer >= 1, got {n_alternatives!r}")
    if alpha is None or not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"stochastic-derivative alternatives need a finite α > 0 (Qanti-kT), got {alpha!r}")
    p4, counts = as_padded((p4, counts))
    _, _, _, _, _, mjj, score, alt_mjj, alt_w = _run(p4, counts, R, alpha, n_samples, _seed64(seed), ptmin, False,
                                                     int(n_alternatives), _offset(event_offset))
    return mjj, score, alt_mjj, alt_w


def _offset(event_offset):
    if not isinstance(event_offset, (int, np.integer)) or isinstance(event_offset, bool) or event_offset < 0:
        raise ValueError(f"event_offset must be an integer >= 0, got {event_offset!r}")
    return int(event_offset)


def cluster(events, R, alpha=None, n_samples=1, seed=None):
    """Cluster events with anti-kT (``alpha=None``) or sample Qanti-kT histories (``alpha ≥ 0``).

    Args:
        events: :class:`~apps.jets.Events`, ``(p4, counts)``, an awkward array of
            Momentum4D-like records, or a padded ``(n_events, n_max, 4)`` array.
        R: jet radius, scalar or one per event ``(n_events,)``.
        alpha: None for anti-kT; α ≥ 0 for Qanti-kT with weights
            ``exp(−α (d_k − d_min)/d_min)`` over all pairs and beam distances.
        n_samples: sampled histories per event (anti-kT: copies of the one history).
        seed: integer (None draws one, stored in ``result.seed``).

    Returns:
        :class:`ClusterResult`.

    Raises:
        ValueError: bad momenta (NaN/inf, E < |p|, zero vectors inside counts), R ≤ 0,
            α < 0, n_samples < 1 — naming the event and what to change.
    """
    p4, counts = as_padded(events)
    seed = _seed64(seed)
    R, alpha, ns, hist, dist, _, score = _run(p4, counts, R, alpha, n_samples, seed, 0.0, True)
    n_ev, n_max = len(counts), p4.shape[1]
    hist = hist.reshape(n_ev, ns, n_max, 2)
    dist = dist.reshape(n_ev, ns, n_max)
    if ns != n_samples:
        hist = np.broadcast_to(hist, (n_ev, n_samples, n_max, 2))
        dist = np.broadcast_to(dist, (n_ev, n_samples, n_max))
        score = np.broadcast_to(score, (n_ev, n_samples))
    return ClusterResult(p4, counts, R, alpha, int(n_samples), seed, hist, dist, score)


class Jets:
    """Jets of every (event, sample), sorted by decreasing pT and padded.

    Attributes:
        p4: ``(n_events, n_samples, n_jmax, 4)`` (px, py, pz, E); padding is zero.
        counts: ``(n_events, n_samples)`` jets per (event, sample).
    """

    def __init__(self, p4, counts):
        self.p4, self.counts = p4, counts

    @property
    def pt(self):
        return np.hypot(self.p4[..., 0], self.p4[..., 1])

    def __getitem__(self, es):
        """Jets of (event, sample) as an ``(n_jets, 4)`` array."""
        e, s = es
        return self.p4[e, s, : self.counts[e, s]]

    def to_awkward(self):
        """``(n_events, n_samples, var)`` awkward array of Momentum4D {px, py, pz, E} records."""
        import awkward as ak

        n_jmax = self.p4.shape[2]
        mask = np.arange(n_jmax) < self.counts[..., None]
        flat = self.p4[mask]
        rec = ak.zip({"px": flat[:, 0], "py": flat[:, 1], "pz": flat[:, 2], "E": flat[:, 3]}, with_name="Momentum4D")
        inner = ak.unflatten(rec, self.counts.ravel())
        return ak.unflatten(inner, np.full(self.counts.shape[0], self.counts.shape[1]))


class ClusterResult:
    """The merge history of every (event, sample); jets and constituents are selectors.

    Attributes:
        history: ``(n_events, n_samples, n_max, 2)`` int32. Step t of event e merges
            jets ``(a, b)``, a < b, into the jet numbered ``counts[e] + (merges so far)``
            (particles are 0..counts[e]−1, FastJet's numbering); ``b = −1`` makes ``a``
            a final (inclusive) jet. Rows past ``counts[e]`` hold −2 (dij: NaN).
        dij: ``(n_events, n_samples, n_max)`` the distance of each chosen step
            (``d_ij`` or ``d_iB``, in anti-kT units GeV⁻²).
        score: ``(n_events, n_samples)`` ∂/∂R log p(history) (zeros for anti-kT).
        R: ``(n_events,)``; alpha, n_samples, seed: as called.
    """

    def __init__(self, p4, counts, R, alpha, n_samples, seed, history, dij, score):
        self.p4, self.counts, self.R, self.alpha = p4, counts, R, alpha
        self.n_samples, self.seed = n_samples, seed
        self.history, self.dij, self.score = history, dij, score
        self._final = None

    def _replay(self):
        if self._final is None:
            n_ev, ns, n_max = self.history.shape[:3]
            det = self.alpha is None and ns > 1
            k_ns = 1 if det else ns
            h = np.ascontiguousarray(self.history[:, :1] if det else self.history).reshape(n_ev * k_ns, n_max, 2)
            jets = np.zeros((h.shape[0], n_max, 4))
            nj = np.zeros(h.shape[0], np.int64)
            lab = np.full((h.shape[0], n_max), -1, np.int64)
            if h.shape[0]:
                _backend(self.p4).replay(self.p4, self.counts, k_ns, h.astype(np.int64), jets, nj, lab)
            shape = (n_ev, k_ns)
            jets, nj, lab = jets.reshape(*shape, n_max, 4), nj.reshape(shape), lab.reshape(*shape, n_max)
            if det:
                jets = np.broadcast_to(jets, (n_ev, ns, n_max, 4))
                nj = np.broadcast_to(nj, (n_ev, ns))
                lab = np.broadcast_to(lab, (n_ev, ns, n_max))
            self._final = (jets, nj, lab)
        return self._final

    def _selected(self, ptmin):
        """Jets (pT-sorted), how many pass ptmin per (event, sample), particle labels."""
        jets, nj, lab = self._replay()
        pt2 = jets[..., 0] ** 2 + jets[..., 1] ** 2
        valid = (np.arange(jets.shape[2]) < nj[..., None]) & (pt2 >= ptmin * ptmin)
        return jets, valid.sum(axis=-1), lab  # sorted by pT, so the passing jets are a prefix

    def inclusive_jets(self, ptmin=0.0):
        """Final jets with ``pT ≥ ptmin``, sorted by decreasing pT (:class:`Jets`)."""
        jets, cnt, _ = self._selected(ptmin)
        n_j = int(cnt.max()) if cnt.size else 0
        out = jets[:, :, :n_j].copy()
        out[np.arange(n_j) >= cnt[..., None]] = 0.0
        return Jets(out, cnt)

    def constituents(self, ptmin=0.0):
        """Per particle, the index of its jet in ``inclusive_jets(ptmin)`` (−1: jet below ptmin or padding).

        Returns:
            int64 array ``(n_events, n_samples, n_max)``.
        """
        _, cnt, lab = self._selected(ptmin)
        return np.where(lab < cnt[..., None], lab, -1)

    def constituent_indices(self, event, sample=0, ptmin=0.0):
        """List (one per jet, pT-ordered) of particle-index arrays for one (event, sample)."""
        lab = self.constituents(ptmin)[event, sample, : self.counts[event]]
        n_j = int(lab.max()) + 1 if lab.size else 0
        return [np.flatnonzero(lab == j) for j in range(n_j)]

    def mjj(self, ptmin=20.0):
        """Invariant mass of the two leading jets with pT ≥ ptmin; NaN with fewer than two.

        Returns:
            ``(n_events, n_samples)`` float64.
        """
        jets, cnt, _ = self._selected(ptmin)
        if jets.shape[2] < 2:
            return np.full(jets.shape[:2], np.nan)
        s = jets[:, :, 0] + jets[:, :, 1]
        m2 = s[..., 3] ** 2 - s[..., 0] ** 2 - s[..., 1] ** 2 - s[..., 2] ** 2
        return np.where(cnt >= 2, np.sqrt(np.maximum(m2, 0.0)), np.nan)
