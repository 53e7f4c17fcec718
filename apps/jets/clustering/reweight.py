"""Replay stored Qanti-kT histories at another radius: ``log p_R(h)`` and ``∂/∂R log p_R(h)``.

A Qanti-kT history ``h`` sampled at ``R_k`` can serve an estimate at ``R`` through the
likelihood ratio ``p_R(h) / p_{R_k}(h)`` (importance sampling, unbiased for any ``R``
where ``p_{R_k}`` covers ``p_R``: Qanti-kT gives every history positive probability at
every R, so any R is covered). The jets a history makes do not depend on R; only its
probability does. ``log p_R(h)`` is a sum over the history's steps of
``log w_c − log Σ_k w_k`` with ``log w_k = −α (d_k − d_min)/d_min`` over *every*
candidate k (pairs and beam distances) at that step, so computing it needs every
candidate again, and R enters only through the pair distances:
``d_ij = min(s_i, s_j) ΔR²_ij / R²``, ``d_iB = s_i``.

:func:`replay_candidates` replays each history once (E-scheme merges, FastJet's
rapidity, φ and jet scale ``s = kt^(2p)``, as :mod:`apps.jets.clustering.exact`) and keeps,
per step, the R-free distance of every candidate that can carry weight anywhere in a
radius range ``[R_lo, R_hi]``: a candidate is dropped only when its log-weight is below
``−cut`` for *every* R of the range (bounded with the smallest pair distance at
``R_lo`` and the largest at ``R_hi``). With ``cut = 37`` (the engine's own cut-off,
``e^−37 ≈ 8.5·10⁻¹⁷`` of the largest weight per candidate) what is dropped is below
double-precision rounding of the normaliser. :meth:`StoredCandidates.log_prob` then
gives ``log p_R(h)`` and its R-derivative (the score) for any R in the range from the
kept candidates only, a few per step instead of every pair.

This module only reads :class:`apps.jets.ClusterResult` arrays (history, momenta); it
does not sample.
"""

from __future__ import annotations

import dataclasses
import math

import numba as nb
import numpy as np

from .backends._numba_util import dist, jet_scale, rap_phi_kt2

__all__ = ["StoredCandidates", "replay_candidates", "history_log_prob", "DEFAULT_CUT"]

DEFAULT_CUT = 37.0


@nb.njit(cache=True, inline="always")
def _rap_phi_s(px, py, pz, E, power):
    rap, phi, kt2 = rap_phi_kt2(px, py, pz, E)
    return rap, phi, jet_scale(kt2, power)


@nb.njit(cache=True, inline="always")
def _pair_base(rap, phi, s, a, b):
    return min(s[a], s[b]) * dist(rap, phi, a, b)


@nb.njit(cache=True, nogil=True)
def _replay(p4, counts, ns_per, hist, power, alpha, r_lo, r_hi, cut):
    """Kept candidates of every history: CSR over (history, step). Returns an error code first.

    The active jets sit at positions 0..na−1 (a removed jet's position takes the last one's), with a
    symmetric matrix of R-free pair distances over positions, so the scans run over contiguous rows;
    a row whose smallest distance is above the step's threshold is skipped whole.
    """
    n_h = hist.shape[0]
    n_max = p4.shape[1]
    slots = 2 * n_max + 1
    jp = np.zeros((n_max + 1, 4))
    rap = np.zeros(n_max + 1)
    phi = np.zeros(n_max + 1)
    s = np.zeros(n_max + 1)
    slot = np.zeros(n_max + 1, np.int64)  # position -> jet number
    pos = np.full(slots, -1, np.int64)  # jet number -> position
    M = np.zeros((n_max + 1, n_max + 1))
    rowmin = np.zeros(n_max + 1)
    cap = 1 << 16
    cand_base = np.empty(cap)
    cand_pair = np.empty(cap, np.int8)
    step_start = np.zeros(n_h * n_max + 1, np.int64)
    step_chosen = np.full(n_h * n_max, -1, np.int64)
    hist_steps = np.zeros(n_h + 1, np.int64)
    nc = 0
    ns = 0
    inv_lo2 = 1.0 / (r_lo * r_lo)
    inv_hi2 = 1.0 / (r_hi * r_hi)
    keep_ratio = 1.0 + cut / alpha
    for h in range(n_h):
        e = h // ns_per
        n = counts[e]
        na = n
        for i in range(n):
            jp[i, :] = p4[e, i, :]
            rap[i], phi[i], s[i] = _rap_phi_s(p4[e, i, 0], p4[e, i, 1], p4[e, i, 2], p4[e, i, 3], power)
            slot[i] = i
            pos[i] = i
        for i in range(n, slots):
            pos[i] = -1
        for i in range(n):
            M[i, i] = np.inf
            for j in range(i + 1, n):
                v = _pair_base(rap, phi, s, i, j)
                M[i, j] = v
                M[j, i] = v
        nxt = n
        for t in range(n):
            a = hist[h, t, 0]
            b = hist[h, t, 1]
            if a < 0 or a >= slots or b < -1 or b >= slots or (b >= 0 and b <= a):
                return 1 + h, cand_base[:0], cand_pair[:0], step_start[:1], step_chosen[:0], hist_steps[:1]
            pa = pos[a]
            pb = pos[b] if b >= 0 else -1
            if pa < 0 or (b >= 0 and pb < 0):
                return 1 + h, cand_base[:0], cand_pair[:0], step_start[:1], step_chosen[:0], hist_steps[:1]
            pmin = np.inf
            bmin = np.inf
            for q in range(na):
                if s[q] < bmin:
                    bmin = s[q]
                m = np.inf
                row = M[q]
                for q2 in range(q + 1, na):
                    m = min(m, row[q2])
                rowmin[q] = m
                if m < pmin:
                    pmin = m
            upper = min(pmin * inv_lo2, bmin)
            thr = upper * keep_ratio
            thr_pair = thr / inv_hi2
            need = nc + na * (na + 1) // 2 + 1
            if need > cap:
                while cap < need:
                    cap *= 2
                nb_ = np.empty(cap)
                nb_[:nc] = cand_base[:nc]
                np_ = np.empty(cap, np.int8)
                np_[:nc] = cand_pair[:nc]
                cand_base = nb_
                cand_pair = np_
            step_start[ns] = nc
            chosen = -1
            lo_c = min(pa, pb)
            hi_c = max(pa, pb)
            for q in range(na):
                if s[q] <= thr or (b < 0 and q == pa):
                    if b < 0 and q == pa:
                        chosen = nc
                    cand_base[nc] = s[q]
                    cand_pair[nc] = 0
                    nc += 1
                if rowmin[q] > thr_pair and not (b >= 0 and q == lo_c):
                    continue
                row = M[q]
                for q2 in range(q + 1, na):
                    v = row[q2]
                    is_c = b >= 0 and q == lo_c and q2 == hi_c
                    if v <= thr_pair or is_c:
                        if is_c:
                            chosen = nc
                        cand_base[nc] = v
                        cand_pair[nc] = 1
                        nc += 1
            step_chosen[ns] = chosen
            ns += 1
            # apply the step: the merged jet takes the lower position, the last position fills the higher one
            if b >= 0:
                q0 = jp[pa, 0] + jp[pb, 0]
                q1 = jp[pa, 1] + jp[pb, 1]
                q2_ = jp[pa, 2] + jp[pb, 2]
                q3 = jp[pa, 3] + jp[pb, 3]
                gone = hi_c
            else:
                gone = pa
            pos[a] = -1
            if b >= 0:
                pos[b] = -1
            last = na - 1
            if gone != last:
                for k in range(4):
                    jp[gone, k] = jp[last, k]
                rap[gone], phi[gone], s[gone] = rap[last], phi[last], s[last]
                slot[gone] = slot[last]
                pos[slot[gone]] = gone
                for q in range(na):
                    M[gone, q] = M[last, q]
                for q in range(na):
                    M[q, gone] = M[gone, q]
                M[gone, gone] = np.inf
            na -= 1
            if b >= 0:
                c = nxt
                nxt += 1
                k_ = lo_c
                jp[k_, 0] = q0
                jp[k_, 1] = q1
                jp[k_, 2] = q2_
                jp[k_, 3] = q3
                rap[k_], phi[k_], s[k_] = _rap_phi_s(q0, q1, q2_, q3, power)
                slot[k_] = c
                pos[c] = k_
                for q in range(na):
                    if q != k_:
                        v = _pair_base(rap, phi, s, q, k_)
                        M[q, k_] = v
                        M[k_, q] = v
                M[k_, k_] = np.inf
        hist_steps[h + 1] = ns
        step_start[ns] = nc
    return 0, cand_base[:nc].copy(), cand_pair[:nc].copy(), step_start[:ns + 1].copy(), step_chosen[:ns].copy(), \
        hist_steps


@nb.njit(cache=True, parallel=True)
def _log_prob(cand_base, cand_pair, step_start, step_chosen, hist_steps, R, alpha):
    n_h = len(hist_steps) - 1
    logp = np.zeros(n_h)
    score = np.zeros(n_h)
    inv2 = 1.0 / (R * R)
    for h in nb.prange(n_h):
        lp = 0.0
        sc = 0.0
        for t in range(hist_steps[h], hist_steps[h + 1]):
            k0 = step_start[t]
            k1 = step_start[t + 1]
            dmin = np.inf
            kmin = k0
            for k in range(k0, k1):
                d = cand_base[k] * inv2 if cand_pair[k] else cand_base[k]
                if d < dmin:
                    dmin = d
                    kmin = k
            c = step_chosen[t]
            if dmin == 0.0:  # uniform over the zero distances (exact.py's convention), no R-dependence
                nz = 0
                for k in range(k0, k1):
                    d = cand_base[k] * inv2 if cand_pair[k] else cand_base[k]
                    if d == 0.0:
                        nz += 1
                dc = cand_base[c] * inv2 if cand_pair[c] else cand_base[c]
                lp += -math.log(nz) if dc == 0.0 else -np.inf
                continue
            pmin = cand_pair[kmin]
            tot = 0.0
            gsum = 0.0
            for k in range(k0, k1):
                d = cand_base[k] * inv2 if cand_pair[k] else cand_base[k]
                r = d / dmin
                w = math.exp(-alpha * (r - 1.0))
                tot += w
                gsum += w * (2.0 * alpha / R) * r * (cand_pair[k] - pmin)
            dc = cand_base[c] * inv2 if cand_pair[c] else cand_base[c]
            rc = dc / dmin
            lp += -alpha * (rc - 1.0) - math.log(tot)
            sc += (2.0 * alpha / R) * rc * (cand_pair[c] - pmin) - gsum / tot
        logp[h] = lp
        score[h] = sc
    return logp, score


@dataclasses.dataclass
class StoredCandidates:
    """Per step of every stored history, the candidates that can carry weight in ``[r_lo, r_hi]``.

    Attributes:
        shape: ``(n_events, n_samples)`` of the histories.
        alpha, p: the Qanti-kT α and generalised-kt power of the histories.
        r_range: ``(r_lo, r_hi)``, where :meth:`log_prob` is exact.
        cut: log-weight below which a candidate is dropped for the whole range.
        n_candidates: candidates kept in all (memory: 9 bytes each).
        n_steps: steps in all.
    """

    shape: tuple
    alpha: float
    p: int
    r_range: tuple
    cut: float
    _arrays: tuple = dataclasses.field(repr=False)

    @property
    def n_candidates(self):
        return len(self._arrays[0])

    @property
    def n_steps(self):
        return len(self._arrays[3])

    def subset(self, events):
        """The stored candidates of the events ``events`` (a mask or indices over ``shape[0]``), in that order."""
        live = np.zeros(self.shape[0], bool)
        live[np.arange(self.shape[0])[events]] = True
        base, pair, start, chosen, hsteps = self._arrays
        per_h = np.repeat(live, self.shape[1])
        keep_step = np.repeat(per_h, np.diff(hsteps))
        keep_cand = np.repeat(keep_step, np.diff(start))
        n_cand = np.diff(start)[keep_step]
        new_start = np.concatenate([[0], np.cumsum(n_cand)]).astype(np.int64)
        new_chosen = (chosen[keep_step] - start[:-1][keep_step] + new_start[:-1]).astype(np.int64)
        new_h = np.concatenate([[0], np.cumsum(np.diff(hsteps)[per_h])]).astype(np.int64)
        arrays = (base[keep_cand], pair[keep_cand], new_start, new_chosen, new_h)
        return dataclasses.replace(self, shape=(int(live.sum()), self.shape[1]), _arrays=arrays)

    def log_prob(self, R):
        """``(log p_R(h), ∂/∂R log p_R(h))`` of every stored history, each ``shape``.

        Exact (up to the dropped candidates' < e^−cut weights) for R in ``r_range``;
        ``log p`` is ``−inf`` for a history impossible at R.

        Raises:
            ValueError: R outside ``r_range``.
        """
        R = float(R)
        lo, hi = self.r_range
        if not (lo <= R <= hi):
            raise ValueError(f"R = {R!r} is outside the stored range [{lo:g}, {hi:g}]; replay the histories again")
        lp, sc = _log_prob(*self._arrays, R, float(self.alpha))
        return lp.reshape(self.shape), sc.reshape(self.shape)


def replay_candidates(result, r_range=None, cut=DEFAULT_CUT):
    """Replay the histories of a :class:`apps.jets.ClusterResult` once, keeping what ``log p_R`` needs.

    Args:
        result: a sampled clustering (``alpha`` finite > 0, NumPy arrays, one radius for all events).
        r_range: ``(r_lo, r_hi)`` with ``0 < r_lo <= r_hi`` (default: the result's R only).
        cut: drop a candidate whose log-weight is below ``−cut`` over the whole range (≥ 30).

    Returns:
        :class:`StoredCandidates`.

    Raises:
        ValueError: deterministic or GPU result, bad range or cut, a history that is not a
            valid merge sequence of its event (naming it).
    """
    alpha = result.alpha
    if alpha is None or not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"replaying needs sampled histories with a finite α > 0, got alpha = {alpha!r}")
    if type(result.history).__module__.split(".")[0] != "numpy":
        raise ValueError("replay_candidates works on NumPy arrays: copy the result to the host first")
    R = np.asarray(result.R, float)
    if r_range is None:
        if R.size and not np.all(R == R.flat[0]):
            raise ValueError("the events were clustered at different radii: give r_range")
        r_range = (float(R.flat[0]), float(R.flat[0]))
    r_lo, r_hi = (float(x) for x in r_range)
    if not (np.isfinite(r_lo) and np.isfinite(r_hi) and 0 < r_lo <= r_hi):
        raise ValueError(f"r_range must be (r_lo, r_hi) with 0 < r_lo <= r_hi, got {r_range!r}")
    if not (np.isfinite(cut) and cut >= 30):
        raise ValueError(f"cut must be a log-weight >= 30 (dropped weights below e^-cut), got {cut!r}")
    n_ev, ns, n_max = result.history.shape[:3]
    p4 = np.ascontiguousarray(result.p4, dtype=np.float64)
    counts = np.asarray(result.counts, np.int64)
    hist = np.ascontiguousarray(np.asarray(result.history, np.int64).reshape(n_ev * ns, n_max, 2))
    # chunks of whole events, replayed on threads (the kernel releases the GIL), joined in order
    n_chunks = max(1, min(nb.get_num_threads(), n_ev))
    bounds = np.linspace(0, n_ev, n_chunks + 1).astype(int)

    def run(c):
        a, b = bounds[c], bounds[c + 1]
        return _replay(p4[a:b], counts[a:b], ns, hist[a * ns:b * ns], int(result.p), float(alpha), r_lo, r_hi,
                       float(cut))

    if n_chunks == 1:
        parts = [run(0)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_chunks) as ex:
            parts = list(ex.map(run, range(n_chunks)))
    for c, (code, *_) in enumerate(parts):
        if code:
            e, k = divmod(code - 1 + bounds[c] * ns, ns)
            raise ValueError(f"event {e}, sample {k}: the history is not a valid merge sequence of the event")
    return StoredCandidates((n_ev, ns), float(alpha), int(result.p), (r_lo, r_hi), float(cut), _join(parts))


def _join(parts):
    """One CSR from per-chunk CSRs (candidate and step offsets shifted)."""
    if len(parts) == 1:
        return tuple(parts[0][1:])
    base, pair, starts, chosen, hsteps = [], [], [], [], [np.zeros(1, np.int64)]
    nc = ns = 0
    for _, cb, cp, ss, ch, hs in parts:
        base.append(cb)
        pair.append(cp)
        starts.append(ss[:-1] + nc)
        chosen.append(np.where(ch >= 0, ch + nc, -1))
        hsteps.append(hs[1:] + ns)
        nc += len(cb)
        ns += len(ch)
    starts.append(np.array([nc], np.int64))
    return (np.concatenate(base), np.concatenate(pair), np.concatenate(starts), np.concatenate(chosen),
            np.concatenate(hsteps))


def history_log_prob(result, R=None):
    """``(log p_R(h), ∂/∂R log p_R(h))`` of every history of ``result`` at ``R`` (default: its own R)."""
    R0 = float(np.asarray(result.R, float).flat[0]) if R is None else float(R)
    return replay_candidates(result, (R0, R0)).log_prob(R0)
