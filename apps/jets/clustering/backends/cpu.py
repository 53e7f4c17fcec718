"""CPU backend (numba): exact generalised-kt clustering and sampled Q-versions with the R-score.

One clustering keeps FastJet's N2Plain bookkeeping: every jet knows its geometric
nearest neighbour (NN) and the ΔR² to it, and after a merge or a beam step only the
jets whose NN disappeared are rescanned (O(N) each). The deterministic clustering
searches NNs over 3×3 tiles of the (y, φ) plane instead (``_numba_tiles``: FastJet's
N2Tiled idea, initial NNs from vectorised rows; the same merges and doubles). Distances are kept in FastJet's
units (d̃ = R²·d): pairs ``min(s_i, s_j)·ΔR²``, beams ``s_i·R²`` with
``s = kt^(2p)`` (anti-kT p = −1: ``1/kt²``, ``1e300`` when ``kt² ≤ 1e-300``; C/A p = 0:
1; kt p = 1: ``kt²``), so the comparisons are bit-for-bit the ones FastJet makes.

Qanti-kT (``det == False``) samples one candidate among all pairs and beams with
``log w_k = −α (d_k − d_min)/d_min``. Candidates with ``log w_k < −LOGW_CUT``
(``D = d_min (1 + LOGW_CUT/α)``: weights below ``e^-37 ≈ 8.5e-17`` of the largest) are
skipped. The candidate pairs live in a list holding every live pair with ``d̃ ≤ C``;
``C = 1.25·D`` when the list is rebuilt, which happens only when ``D`` outgrows ``C``
(the new jet's pairs are appended after each merge, dead pairs dropped on the next
pass). A rebuild scans only the rows of jets h with ``s_h·ΔR²_NN(h) ≤ C`` — a lower
bound of every pair whose harder member is h — instead of all O(N²) pairs.

Score: with ``r_k = d_k/d_min`` and ``c_k = 1`` for pairs (``d ∝ R^-2``), ``0`` for
beams, ``∂ log w_k/∂R = (2α/R) r_k (c_k − c_min)``, and per step
``∂ log p_k/∂R = g_k − Σ_j p_j g_j``. Summed over the steps of the sampled history.

Random numbers: counter-based, keyed by (seed, event, sample, step): step t of a
sampled history uses ``uniform_at(stream_key(seed, e0 + e, s), t)`` (``e0``: the global
index of the batch's first event, so a partition draws its rows of the whole batch's
numbers); the reservoirs use a sequential splitmix64 stream under a salted key. Results do not depend on the number
of threads, and the CUDA backend (``qantikt.cu``) draws the very same numbers. The steps
of ``cluster_one`` live in ``_numba_steps`` (one C twin each in the CUDA source).

``cluster_one`` is :func:`first_state` (jets, NNs, step 0's candidate list) followed by
:func:`cluster_state` (the steps). With several histories per event ``run_batch`` builds
the first state once per event and copies it into each history (``shared``); the
doubles are the same either way.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._numba_steps import (CAP_GROWTH, apply_step, beam_weights, copy_state, cut_distance, det_choice,
                           forced_candidate, init_jets, min_candidate, new_state, pair_weights, pick_candidate,
                           rebuild_pairs, score_term)
from ._numba_tiles import cluster_det_tiled, use_tiles
from ._numba_util import OPTS, stream_key, uniform, uniform_at
from .protocol import ReplayResult, empty_batch

__all__ = ["cluster_one", "first_state", "cluster_state", "run_batch", "run_alternatives", "replay", "CpuBackend"]
_opts = OPTS


@nb.njit(inline="always", **_opts)
def _alt_weight(k, npair, cpair, pw, pd, bw, s, R2, K, gbar, ia, cmin, ci):
    """Signed weight ∂π_k/∂R of candidate k (pairs first, then beams); 0 for the chosen one."""
    if k < npair:
        if k == cpair or pw[k] <= 0.0:
            return 0.0
        return K * pw[k] * (pd[k] * ia * (1.0 - cmin) - gbar)
    i = k - npair
    if (cpair < 0 and i == ci) or bw[i] <= 0.0:
        return 0.0
    return K * bw[i] * (-s[i] * R2 * ia * cmin - gbar)


@nb.njit(**_opts)
def _reservoir_step(t, rstate, total, res, res_sign, K, gbar, ia, cmin, P, npair, cpair, bw,
                    s, R2, m, ci, jid):
    """Add step t's alternatives to every reservoir; returns (rstate, new total |w|).

    ``K = (2α/R)/W`` turns the unnormalised weights w_k into π_k·(2α/R); the score
    terms are g_k = r_k (c_k − c_min) with r_k = d̃_k/d̃_min (``ia = 1/d̃_min``).
    """
    pa, pb, pd, pw = P.pa, P.pb, P.pd, P.pw
    T = 0.0
    for k in range(npair + m):
        T += abs(_alt_weight(k, npair, cpair, pw, pd, bw, s, R2, K, gbar, ia, cmin, ci))
    if T <= 0.0:
        return rstate, total
    total += T
    for j in range(res.shape[0]):
        rstate, u = uniform(rstate)
        if u * total >= T:
            continue  # reservoir j keeps its earlier alternative
        rstate, v = uniform(rstate)
        target = v * T
        acc = 0.0
        sel = -1
        wsel = 0.0
        for k in range(npair + m):
            w = _alt_weight(k, npair, cpair, pw, pd, bw, s, R2, K, gbar, ia, cmin, ci)
            if w != 0.0:
                sel = k  # the last non-zero candidate if rounding overshoots
                wsel = w
                acc += abs(w)
                if target < acc:
                    break
        res[j, 0] = t
        if sel < npair:
            res[j, 1] = pa[sel]
            res[j, 2] = pb[sel]
        else:
            res[j, 1] = jid[sel - npair]
            res[j, 2] = -1
        res_sign[j] = 1.0 if wsel > 0.0 else -1.0
    return rstate, total


@nb.njit(**_opts)
def first_state(p4, n, p, R, alpha, det, J, P):
    """The state every history of an event starts from: jets, NNs and the first pair list.

    Returns ``(npair, C)``: the candidate-pair list of step 0 (sampled mode, n ≥ 2) and
    its bound C, exactly what step 0 of :func:`cluster_state` would build; ``(0, −1)``
    otherwise. Computed once per event and copied into each history (``copy_state``).
    """
    R2 = R * R
    init_jets(p4, n, p, R2, det, J)
    if det or n < 2:
        return 0, -1.0
    dmin, cmin = min_candidate(n, R2, J)
    C = cut_distance(dmin, alpha) * CAP_GROWTH
    return rebuild_pairs(n, C, J, P), C


@nb.njit(**_opts)
def cluster_one(p4, n, R, p, alpha, det, key, ptmin2, hist, hdist, top, rstate, res, res_sign, force):
    """Cluster one event; returns (score, n_top, alt_total, status, margin).

    ``margin``: the history's closest call — the smallest distance, over its sampled
    steps, of the step's uniform from an edge of the chosen candidate's probability
    interval (inf when nothing was sampled). Two backends whose doubles differ in the
    last bits can only disagree on a history with a tiny margin.

    ``status`` 1: a sampled step met weights that are not finite and positive
    (distances that under- or overflow); the history was finished safely (beam
    steps) and the engine refuses the event.

    ``hist[t] = (a, b)`` merges jets a < b into jet ``n + #merges so far`` (b = −1: a
    becomes a final jet); ``hdist[t]`` is the chosen distance ``d`` (physics units).
    ``top[0:2]`` receives the two hardest final jets with ``pt² ≥ ptmin2``. Step t of
    a sampled history draws ``uniform_at(key, t)``.

    Stochastic-derivative alternatives (``len(res) > 0``, sampled mode): at each
    step every candidate k other than the chosen one is an alternative with the
    Rao-Blackwellised weight ``∂π_k/∂R = π_k (g_k − Σ_j π_j g_j)``. Each row of
    ``res`` is a weighted reservoir (stream ``rstate``, separate from the
    clustering's) that ends holding one alternative ``(step, jet a, jet b or −1)``
    drawn with probability ``|w| / Σ|w|``; ``res_sign`` gets its sign and
    ``alt_total = Σ|w|`` over the whole history. ``force = (t, a, b)`` with
    ``t ≥ 0`` replays the history (same stream) but takes candidate (a, b) at step
    ``t`` — the alternative path.
    """
    J, P, bw = new_state(n, det)
    if det and use_tiles(n, R):  # tiles: the same merges and doubles as cluster_state (``_numba_tiles``)
        return 0.0, cluster_det_tiled(p4, n, p, R, ptmin2, J, hist, hdist, top), 0.0, 0, np.inf
    npair, C = first_state(p4, n, p, R, alpha, det, J, P)
    return cluster_state(J, P, bw, n, npair, C, R, p, alpha, det, key, ptmin2, hist, hdist, top, rstate, res,
                         res_sign, force)


@nb.njit(**_opts)
def cluster_state(J, P, bw, n, npair, C, R, p, alpha, det, key, ptmin2, hist, hdist, top, rstate, res, res_sign,
                  force):
    """:func:`cluster_one` from the state of :func:`first_state` (``npair`` pairs with d̃ ≤ ``C``)."""
    R2 = R * R
    topst = np.array([-1.0, -1.0, 0.0])
    s = J.s
    score = 0.0
    alt_total = 0.0
    status = 0
    margin = np.inf
    nres = res.shape[0]
    m = n
    nmerge = 0
    for t in range(n):
        if m == 1:
            ci, cj, dch = 0, -1, s[0]
        elif det:
            ci, cj, dch = det_choice(m, R2, J)
        else:
            dmin, cmin = min_candidate(m, R2, J)
            weighted = dmin > 0.0 and alpha > 0.0
            D = cut_distance(dmin, alpha)
            if D > C:
                C = D * CAP_GROWTH
                npair = rebuild_pairs(m, C, J, P)
            ia = 1.0 / dmin if weighted else 0.0
            npair, W, WG = pair_weights(npair, alpha, ia, D, J, P)
            WG *= ia * (1.0 - cmin)
            W, WG = beam_weights(m, R2, alpha, ia, cmin, D, W, WG, J, bw)
            u = uniform_at(key, t)
            if not (W > 0.0 and W < np.inf and ia < np.inf):
                # distances under/overflow (the engine refuses the event): finish safely
                status = 1
                ci, cj, dchosen, cch, cpair = 0, -1, s[0] * R2, 0.0, -1
                weighted = False
            else:
                ci, cj, dchosen, cch, cpair, gap = pick_candidate(u * W, npair, m, R2, J, P, bw)
                if gap / W < margin:
                    margin = gap / W
            if t == force[0]:  # alternative path: the uniform is used up, the choice is forced
                ci, cj, dchosen, cch = forced_candidate(force[1], force[2], R2, J)
            if weighted:
                score += score_term(alpha, R, dchosen, dmin, cch, cmin, W, WG)
                if nres > 0:
                    rstate, alt_total = _reservoir_step(
                        t, rstate, alt_total, res, res_sign, (2.0 * alpha / R) / W, WG / W, ia, cmin,
                        P, npair, cpair, bw, s, R2, m, ci, J.jid)
            dch = dchosen / R2
        m, nmerge, npair = apply_step(t, ci, cj, dch, n, nmerge, m, npair, det, p, C, R2, ptmin2, J, P, hist,
                                      hdist, top, topst)
        if m == 0:
            break
    return score, int(topst[2]), alt_total, status, margin


@nb.njit(inline="always", **_opts)
def _pair_mass(top):
    E = top[0, 3] + top[1, 3]
    x = top[0, 0] + top[1, 0]
    y = top[0, 1] + top[1, 1]
    z = top[0, 2] + top[1, 2]
    m2 = E * E - x * x - y * y - z * z
    return math.sqrt(m2) if m2 > 0.0 else 0.0


@nb.njit(inline="always", **_opts)
def _item_scratch(it, counts, n_samples):
    """(event, sample, n particles, history, distances, top-2 jets) scratch of work item ``it``."""
    e = it // n_samples
    n = counts[e]
    return e, it - e * n_samples, n, np.empty((n, 2), np.int64), np.empty(n), np.zeros((2, 4))


_RES_SALT = np.uint64(0x632BE59BD9B4E019)  # the reservoirs' stream differs from the clustering's


@nb.njit(inline="always", **_opts)
def _store(it, n, sc, ntop, tot, st, mg, res, res_sign, hist, hd, top, want_hist, hist_out, dist_out, mjj_out,
           score_out, res_out, res_sign_out, alt_total_out, status_out, margin_out):
    """Write work item ``it``'s results into the batch's output arrays."""
    status_out[it] = st
    margin_out[it] = mg
    nres = res.shape[0]
    if nres > 0:
        alt_total_out[it] = tot
        for j in range(nres):
            res_sign_out[it, j] = res_sign[j]
            for q in range(3):
                res_out[it, j, q] = res[j, q]
    score_out[it] = sc
    mjj_out[it] = _pair_mass(top) if ntop >= 2 else np.nan
    if want_hist:
        for t in range(n):
            hist_out[it, t, 0] = hist[t, 0]
            hist_out[it, t, 1] = hist[t, 1]
            dist_out[it, t] = hd[t]


@nb.njit(**_opts)
def _reset(top, res, res_sign):
    for q in range(4):
        top[0, q] = 0.0
        top[1, q] = 0.0
    for j in range(res.shape[0]):
        res_sign[j] = 0.0
        for q in range(3):
            res[j, q] = -1


@nb.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def run_batch(p4, counts, R, p, alpha, det, n_samples, seed, e0, ptmin, want_hist, hist_out, dist_out, mjj_out,
              score_out, res_out, res_sign_out, alt_total_out, status_out, margin_out, shared=False):
    """Cluster every (event, sample); fills mjj_out/score_out (n_ev·n_samples) and,
    when ``want_hist``, hist_out (n_items, n_max, 2) / dist_out (n_items, n_max).
    With ``res_out`` of shape (n_items, m, 3) (m > 0) also draws m alternatives per
    item (``res_sign_out`` (n_items, m), ``alt_total_out`` (n_items,); see cluster_one).
    ``e0``: global index of event 0 (streams are keyed by the global event index).

    ``shared`` (sampled mode): the histories of one event share the event's initial state
    (:func:`first_state`: jets, NNs, step 0's pair list), computed once per event and
    copied into each history; the events (not the items) are spread over the threads.
    Otherwise every item builds its own. The results are the same either way (same
    doubles, same streams).
    """
    n_ev = counts.shape[0]
    n_items = n_ev * n_samples
    ptmin2 = ptmin * ptmin
    nres = res_out.shape[1]
    if shared and not det:
        for e in nb.prange(n_ev):
            n = counts[e]
            J0, P0, _ = new_state(n, det)
            npair0, C0 = first_state(p4[e], n, p, R[e], alpha, det, J0, P0)
            J, P, bw = new_state(n, det)
            hist = np.empty((n, 2), np.int64)
            hd = np.empty(n)
            top = np.zeros((2, 4))
            res = np.full((nres, 3), -1, np.int64)
            res_sign = np.zeros(nres)
            force = np.full(3, -1, np.int64)
            for smp in range(n_samples):
                it = e * n_samples + smp
                copy_state(n, npair0, J0, P0, J, P)
                _reset(top, res, res_sign)
                key = stream_key(seed, e0 + e, smp)
                rstate = stream_key(seed ^ _RES_SALT, e0 + e, smp)
                sc, ntop, tot, st, mg = cluster_state(J, P, bw, n, npair0, C0, R[e], p, alpha, det, key, ptmin2,
                                                      hist, hd, top, rstate, res, res_sign, force)
                _store(it, n, sc, ntop, tot, st, mg, res, res_sign, hist, hd, top, want_hist, hist_out, dist_out,
                       mjj_out, score_out, res_out, res_sign_out, alt_total_out, status_out, margin_out)
        return
    for it in nb.prange(n_items):
        e, smp, n, hist, hd, top = _item_scratch(it, counts, n_samples)
        key = stream_key(seed, e0 + e, smp)
        res = np.full((nres, 3), -1, np.int64)
        res_sign = np.zeros(nres)
        force = np.full(3, -1, np.int64)
        rstate = stream_key(seed ^ _RES_SALT, e0 + e, smp)
        sc, ntop, tot, st, mg = cluster_one(p4[e], n, R[e], p, alpha, det, key, ptmin2, hist, hd, top,
                                            rstate, res, res_sign, force)
        _store(it, n, sc, ntop, tot, st, mg, res, res_sign, hist, hd, top, want_hist, hist_out, dist_out,
               mjj_out, score_out, res_out, res_sign_out, alt_total_out, status_out, margin_out)


@nb.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def run_alternatives(p4, counts, R, p, alpha, n_samples, seed, e0, ptmin, res, mjj_out):
    """Dijet mass along each drawn alternative: item ``it``'s history replayed with its
    own stream (global event ``e0 + e``), candidate ``res[it, j, 1:]`` forced at step
    ``res[it, j, 0]`` (``res[it, j, 0] < 0``: no alternative, NaN). Fills mjj_out (n_items, m)."""
    n_ev = counts.shape[0]
    m_alt = res.shape[1]
    n_work = n_ev * n_samples * m_alt
    ptmin2 = ptmin * ptmin
    for w in nb.prange(n_work):
        it = w // m_alt
        j = w - it * m_alt
        if res[it, j, 0] < 0:
            mjj_out[it, j] = np.nan
            continue
        e, smp, n, hist, hd, top = _item_scratch(it, counts, n_samples)
        no_res = np.empty((0, 3), np.int64)
        no_sign = np.empty(0)
        force = np.empty(3, np.int64)
        for q in range(3):
            force[q] = res[it, j, q]
        key = stream_key(seed, e0 + e, smp)
        _, ntop, _, _, _ = cluster_one(p4[e], n, R[e], p, alpha, False, key, ptmin2, hist, hd, top,
                                       np.uint64(0), no_res, no_sign, force)
        mjj_out[it, j] = _pair_mass(top) if ntop >= 2 else np.nan


@nb.njit(parallel=True, cache=True, nogil=True)
def replay(p4, counts, n_samples, hist, jets_out, njets_out, label_out):
    """Final jets sorted by decreasing pT (stable) and particle → jet rank, from histories."""
    n_items = hist.shape[0]
    for it in nb.prange(n_items):
        e = it // n_samples
        n = counts[e]
        N = max(2 * n, 1)
        mom = np.empty((N, 4))
        final = np.full(N, -1, np.int64)
        ma = np.empty(max(n, 1), np.int64)  # the parents of merge j (jet n + j)
        mb = np.empty(max(n, 1), np.int64)
        fid = np.empty(max(n, 1), np.int64)
        pt2 = np.empty(max(n, 1))
        for i in range(n):
            for q in range(4):
                mom[i, q] = p4[e, i, q]
        nxt = n
        nj = 0
        for t in range(n):
            a = hist[it, t, 0]
            b = hist[it, t, 1]
            if b >= 0:
                for q in range(4):
                    mom[nxt, q] = mom[a, q] + mom[b, q]
                ma[nxt - n] = a
                mb[nxt - n] = b
                nxt += 1
            else:
                fid[nj] = a
                pt2[nj] = mom[a, 0] * mom[a, 0] + mom[a, 1] * mom[a, 1]
                nj += 1
        # stable insertion sort of the final jets by decreasing pT²
        for k in range(1, nj):
            f = fid[k]
            v = pt2[k]
            j = k - 1
            while j >= 0 and pt2[j] < v:
                fid[j + 1] = fid[j]
                pt2[j + 1] = pt2[j]
                j -= 1
            fid[j + 1] = f
            pt2[j + 1] = v
        for k in range(nj):
            final[fid[k]] = k
            for q in range(4):
                jets_out[it, k, q] = mom[fid[k], q]
        njets_out[it] = nj
        for h in range(nxt - 1, n - 1, -1):  # top-down: a merge's parents end in the jet it ends in (O(n))
            final[ma[h - n]] = final[h]
            final[mb[h - n]] = final[h]
        for i in range(n):
            label_out[it, i] = final[i]


class CpuBackend:
    """The numba CPU implementation of :class:`~apps.jets.clustering.backends.protocol.Backend` (NumPy arrays)."""

    name = "cpu"
    xp = np

    def run_batch(self, job, want_hist, n_alt):
        n_items = len(job.counts) * job.n_samples
        n_max = job.p4.shape[1]
        out = empty_batch(np, n_items, n_max, want_hist, n_alt)
        if n_items:
            run_batch(job.p4, job.counts, job.R, job.p, 0.0 if job.alpha is None else job.alpha,
                      job.alpha is None, job.n_samples, np.uint64(job.seed), np.int64(job.event_offset), job.ptmin,
                      want_hist, out.history,
                      out.dij, out.mjj, out.score, out.reservoir, out.reservoir_sign, out.alt_total, out.status,
                      out.margin, self.shared(job))
        return out

    @staticmethod
    def shared(job):
        """Share each event's initial state among its histories: sampled, several
        histories per event, and at least two events per thread to spread."""
        return (job.alpha is not None and job.n_samples > 1
                and len(job.counts) >= 2 * nb.get_num_threads())

    def run_alternatives(self, job, reservoir):
        alt = np.empty(reservoir.shape[:2])
        if alt.size:
            run_alternatives(job.p4, job.counts, job.R, job.p, job.alpha, job.n_samples, np.uint64(job.seed),
                             np.int64(job.event_offset), job.ptmin, reservoir, alt)
        return alt

    def replay(self, p4, counts, n_samples, history):
        n_items, n_max = history.shape[:2]
        jets = np.zeros((n_items, n_max, 4))
        nj = np.zeros(n_items, np.int64)
        lab = np.full((n_items, n_max), -1, np.int64)
        if n_items:
            replay(p4, counts, n_samples, np.ascontiguousarray(history, dtype=np.int64), jets, nj, lab)
        return ReplayResult(jets, nj, lab)
