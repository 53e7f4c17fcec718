"""The steps of one clustering (numba): what ``cpu.cluster_one`` is made of.

A clustering of n particles is n steps; each step either merges two jets or makes one a
final jet. The steps, in the order a reader meets them:

* :func:`init_jets` — jets from particles, and every jet's geometric nearest
  neighbour (NN) with the ΔR² to it (FastJet's N2Plain bookkeeping);
* deterministic choice — :func:`det_choice`: the smallest ``diJ``;
* sampled choice — :func:`min_candidate` (d_min and whether it is a pair),
  :func:`cut_distance`, :func:`rebuild_pairs` (the candidate-pair list),
  :func:`pair_weights` and :func:`beam_weights` (log-weights → weights, their sums),
  :func:`pick_candidate` (the uniform decides), :func:`forced_candidate` (an
  alternative path), :func:`score_term`;
* :func:`apply_step` — record the step, merge (E-scheme) or retire a jet, keep the top
  two final jets, repair the NN of the jets that lost theirs.

Distances are in FastJet's units ``d̃ = R²·d``: pairs ``min(s_i, s_j)·ΔR²``, beams
``s_i·R²`` with the generalised-kt scale ``s = kt^(2p)``. The CUDA backend
(``qantikt.cu``) has one C function per function here, same names, same operation order.

The per-clustering state is a structure of arrays with named fields, like the CUDA
``Item``: :class:`Jets` (by slot: ``jp`` four-momenta, ``rap``, ``phi``, ``s``, ``nnd``/``nni``
the NN, ``jid``, ``dij``, ``slot_of`` by jet id, ``flag``, ``row`` a scratch row) and
:class:`Pairs` (the candidate-pair list by jet id: ``pa``, ``pb``, ``pd`` distances, ``pw``
weights, ``pc`` their running sums, ``pk`` scratch for the exponent bits).
"""

from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np

from ._numba_util import CAP_GROWTH, LOGW_CUT, OPTS, TWOPI, dist, exp_neg, exp_split, set_jet

_opts = OPTS
PAD = 32  # the weight loops run to a multiple of PAD (no scalar remainder); the list has PAD spare entries
_INF_BITS = np.int64(0x7FF0000000000000)  # +inf as int64: above every non-negative finite double

Jets = namedtuple("Jets", "jp rap phi s nnd nni jid dij slot_of flag row")
Jets.__doc__ = """One clustering's jets by slot (structure of arrays; twin of the CUDA ``Item``)."""
Pairs = namedtuple("Pairs", "pa pb pd pw pc pk")
Pairs.__doc__ = """The candidate-pair list (jet ids ``pa``, ``pb``; ``pd`` d̃; ``pw`` weights; ``pc`` running sums)."""


@nb.njit(**_opts)
def new_state(n, det):
    """Scratch of one clustering of n particles: ``(Jets, Pairs, beam weights)``."""
    N = max(n, 1)
    ncap = 1 if det else n * (n + 1) // 2 + n + 1 + PAD
    J = Jets(np.empty((N, 4)), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n, np.int64),
             np.empty(n, np.int64), np.empty(N), np.full(max(2 * n, 1), -1, np.int64), np.zeros(n, np.bool_),
             np.empty(N))
    P = Pairs(np.empty(ncap, np.int64), np.empty(ncap, np.int64), np.empty(ncap), np.empty(ncap), np.empty(ncap),
              np.empty(ncap, np.int64))
    return J, P, np.empty(n)


@nb.njit(**_opts)
def copy_state(n, npair, J0, P0, J, P):
    """J, P ← the first ``n`` jets of J0 and the first ``npair`` pairs of P0 (a shared initial state)."""
    for i in range(n):
        for q in range(4):
            J.jp[i, q] = J0.jp[i, q]
        J.rap[i] = J0.rap[i]
        J.phi[i] = J0.phi[i]
        J.s[i] = J0.s[i]
        J.nnd[i] = J0.nnd[i]
        J.nni[i] = J0.nni[i]
        J.jid[i] = J0.jid[i]
        J.dij[i] = J0.dij[i]
        J.flag[i] = J0.flag[i]
    for i in range(J.slot_of.shape[0]):
        J.slot_of[i] = J0.slot_of[i]
    for c in range(npair):
        P.pa[c] = P0.pa[c]
        P.pb[c] = P0.pb[c]
        P.pd[c] = P0.pd[c]


@nb.njit(inline="always", **_opts)
def diJ(k, s, nnd, nni, R2):
    """FastJet's diJ (times R²) of slot k: pair with its NN if closer than R, else beam."""
    j = nni[k]
    if j >= 0 and nnd[k] < R2:
        return nnd[k] * (s[k] if s[k] < s[j] else s[j])
    return s[k] * R2


@nb.njit(inline="always", **_opts)
def fill_row(k, m, rap, phi, row):
    """``row[j]`` ← ΔR² of slots k and j for j < m (``dist``'s operations, the same doubles), ``row[k]`` ← inf.

    One loop without branches: it vectorises.
    """
    yk = rap[k]
    fk = phi[k]
    for j in range(m):
        dphi = abs(fk - phi[j])
        other = TWOPI - dphi
        dphi = other if other < dphi else dphi
        deta = yk - rap[j]
        row[j] = dphi * dphi + deta * deta
    row[k] = np.inf


@nb.njit(**_opts)
def keep_top(ci, jp, ptmin2, top, topst):
    """Final jet ci into the two hardest with pt² ≥ ptmin2 (``top``; ``topst = [pt²_1, pt²_2, n_top]``)."""
    px = jp[ci, 0]
    py = jp[ci, 1]
    pt2 = px * px + py * py
    if pt2 >= ptmin2:
        if pt2 > topst[0]:
            for q in range(4):
                top[1, q] = top[0, q]
                top[0, q] = jp[ci, q]
            topst[1] = topst[0]
            topst[0] = pt2
        elif pt2 > topst[1]:
            for q in range(4):
                top[1, q] = jp[ci, q]
            topst[1] = pt2
        topst[2] += 1.0


@nb.njit(inline="always", **_opts)
def first_min_bits(row, bits, m):
    """``(value, index)`` of the first smallest of ``row[0..m)`` (``(inf, −1)`` if all are inf).

    ``row`` holds ΔR² (non-negative, never NaN) or +inf, whose bit patterns as int64
    (``bits``: the same memory, ``row.view(np.int64)``, made once by a caller with many
    rows) are ordered as the doubles are: the minimum is an integer reduction (it
    vectorises without reassociating anything), then the first index holding it is
    searched. The same result as the strict ``<`` scan from inf in slot order.
    """
    mn = _INF_BITS
    for j in range(m):
        v = bits[j]
        mn = v if v < mn else mn
    if mn == _INF_BITS:
        return np.inf, -1
    j = 0
    while bits[j] != mn:
        j += 1
    return row[j], j


@nb.njit(inline="always", **_opts)
def first_min(row, m):
    """:func:`first_min_bits` of ``row``."""
    return first_min_bits(row, row.view(np.int64), m)


@nb.njit(inline="always", **_opts)
def nn_scan(k, m, rap, phi, nnd, nni, row, rows):
    """NN of slot k among slots 0..m−1 (first index wins ties).

    ``rows``: the ΔR² go first into the scratch ``row`` in one loop without branches (it
    vectorises), then the first smallest is taken; otherwise one fused loop. Same
    result; which is faster depends on the mode (measured: rows for the sampled
    clustering, fused for the deterministic one).
    """
    best = np.inf
    bi = -1
    if rows:
        fill_row(k, m, rap, phi, row)
        best, bi = first_min(row, m)
    else:
        for j in range(m):
            if j != k:
                d = dist(rap, phi, k, j)
                if d < best:
                    best = d
                    bi = j
    nnd[k] = best
    nni[k] = bi


@nb.njit(inline="always", **_opts)
def init_jets(p4, n, p, R2, det, J):
    """Slots 0..n−1 ← particles; every jet's NN (and diJ when deterministic)."""
    jp, rap, phi, s, nnd, nni, jid = J.jp, J.rap, J.phi, J.s, J.nnd, J.nni, J.jid
    dij, slot_of, flag = J.dij, J.slot_of, J.flag
    for i in range(n):
        set_jet(i, p4[i, 0], p4[i, 1], p4[i, 2], p4[i, 3], p, jp, rap, phi, s)
        jid[i] = i
        slot_of[i] = i
        nnd[i] = np.inf
        nni[i] = -1
    for i in range(n):
        for j in range(i + 1, n):
            d = dist(rap, phi, i, j)
            if d < nnd[i]:
                nnd[i] = d
                nni[i] = j
            if d < nnd[j]:
                nnd[j] = d
                nni[j] = i
    if det:
        for i in range(n):
            dij[i] = diJ(i, s, nnd, nni, R2)


@nb.njit(inline="always", **_opts)
def det_choice(m, R2, J):
    """Deterministic step: ``(ci, cj or −1, d)`` of the smallest diJ (first index wins)."""
    jp, rap, phi, s, nnd, nni, jid = J.jp, J.rap, J.phi, J.s, J.nnd, J.nni, J.jid
    dij, slot_of, flag = J.dij, J.slot_of, J.flag
    best = np.inf
    ci = 0
    for i in range(m):
        if dij[i] < best:
            best = dij[i]
            ci = i
    cj = nni[ci] if (nni[ci] >= 0 and nnd[ci] < R2) else -1
    return ci, cj, best / R2


@nb.njit(inline="always", **_opts)
def min_candidate(m, R2, J):
    """``(d̃_min, c_min)`` over all beams and NN pairs; ``c_min`` = 1 for a pair, 0 for a beam."""
    jp, rap, phi, s, nnd, nni, jid = J.jp, J.rap, J.phi, J.s, J.nnd, J.nni, J.jid
    dij, slot_of, flag = J.dij, J.slot_of, J.flag
    dmin = np.inf
    cmin = 0.0
    for i in range(m):
        b = s[i] * R2
        if b < dmin:
            dmin = b
            cmin = 0.0
        if nni[i] >= 0:
            d = s[i] * nnd[i]
            if d < dmin:
                dmin = d
                cmin = 1.0
    return dmin, cmin


@nb.njit(inline="always", **_opts)
def cut_distance(dmin, alpha):
    """D: candidates with d̃ > D have weight < e^−LOGW_CUT of the largest (skipped)."""
    if alpha == 0.0:
        return np.inf
    if dmin == 0.0:
        return 0.0  # exactly collinear pairs: uniform among the d = 0 candidates
    return dmin * (1.0 + LOGW_CUT / alpha)


@nb.njit(inline="always", **_opts)
def log_weight(alpha, d, ia):
    """``−α (d̃·ia − 1)`` clipped to [−700, 0] (ia = 1/d̃_min, or 0 when unweighted: log w = 0).

    The upper clip also catches d̃ = d̃_min with d̃_min·(1/d̃_min) rounded below 1, and
    ia = 0 (x = α ≥ 0). Selects, no branches: the loops over it vectorise.
    """
    x = -alpha * (d * ia - 1.0)
    x = x if x > -700.0 else -700.0
    return x if x < 0.0 else 0.0


@nb.njit(inline="always", **_opts)
def rebuild_pairs(m, C, J, P):
    """Every live pair with d̃ ≤ C, scanning only rows of jets h with s_h·ΔR²_NN(h) ≤ C.

    Each pair is listed once, from its harder member (smaller s; lower slot on ties), rows
    in slot order. A row's ΔR² are computed first in one loop without branches (it
    vectorises), then filtered. Returns the list length.
    """
    rap, phi, s, nnd, nni, jid, row = J.rap, J.phi, J.s, J.nnd, J.nni, J.jid, J.row
    pa, pb, pd = P.pa, P.pb, P.pd
    npair = 0
    for h in range(m):
        sh = s[h]
        if nni[h] < 0 or sh * nnd[h] > C:
            continue
        for j in range(m):
            row[j] = sh * dist(rap, phi, h, j)  # one loop without branches: it vectorises
        for j in range(m):
            d = row[j]
            if d <= C and j != h and (s[j] > sh or (s[j] == sh and j > h)):
                pa[npair] = jid[h]
                pb[npair] = jid[j]
                pd[npair] = d
                npair += 1
    return npair


@nb.njit(**_opts)
def _exp_weights(pw, pk, pd, npair, alpha, ia, D):
    """pw ← exp(log_weight) where pd ≤ D, else 0: exp_neg split into two loops that vectorise.

    The same doubles as ``exp_neg(log_weight(alpha, d, ia))``: the polynomial into ``pw``
    and the exponent's bits ``(1023 + k) << 52`` (2^k, exact) into ``pk``, then the product.
    """
    nv = (npair + PAD - 1) // PAD * PAD  # whole vectors only: the entries past npair are scratch (pd = 0)
    for c in range(npair, nv):
        pd[c] = 0.0
    for c in range(nv):
        k, p = exp_split(log_weight(alpha, pd[c], ia))
        pw[c] = p
        pk[c] = (np.int64(k) + 1023) << 52
    two_k = pk.view(np.float64)
    for c in range(nv):
        pw[c] = pw[c] * two_k[c] if pd[c] <= D else 0.0


@nb.njit(inline="always", **_opts)
def pair_weights(npair, alpha, ia, D, J, P):
    """Drop dead pairs (order kept), then weights ``exp(log_weight)``: ``(npair, W, Σ w d̃)``.

    W and Σ w d̃ are summed sequentially in list order, on every backend (no
    reassociation: the CUDA backend computes the same doubles); ``pc[c]`` keeps the
    running sum W after pair c, which :func:`pick_candidate` searches.
    """
    slot_of = J.slot_of
    pa, pb, pd, pw, pc = P.pa, P.pb, P.pd, P.pw, P.pc
    q = 0
    for c in range(npair):  # a pair whose jet is gone is dropped (written always, kept when both live; q ≤ c)
        x = pa[c]
        y = pb[c]
        d = pd[c]
        pa[q] = x
        pb[q] = y
        pd[q] = d
        q += (slot_of[x] >= 0) & (slot_of[y] >= 0)
    _exp_weights(pw, P.pk, pd, q, alpha, ia, D)
    W = 0.0
    WG = 0.0
    for c in range(q):
        w = pw[c]
        W += w
        WG += w * pd[c]
        pc[c] = W
    return q, W, WG


@nb.njit(inline="always", **_opts)
def beam_weights(m, R2, alpha, ia, cmin, D, W, WG, J, bw):
    """Beam weights into ``bw``; W and WG (already × ia (1 − c_min)) updated in slot order."""
    s = J.s
    for i in range(m):
        b = s[i] * R2
        w = 0.0
        if b <= D:
            w = exp_neg(log_weight(alpha, b, ia))
            WG -= w * b * ia * cmin
            W += w
        bw[i] = w
    return W, WG


@nb.njit(inline="always", **_opts)
def pick_candidate(target, npair, m, R2, J, P, bw):
    """The candidate where the running weight sum (pairs, then beams) first exceeds ``target``.

    Returns ``(ci, cj or −1, d̃, c, index in the pair list or −1, margin)``; ``margin`` is
    how far ``target`` lies from the chosen candidate's interval edges (unnormalised).
    Rounding past the end takes the last candidate of non-zero weight (margin 0).

    Among the pairs, the first c with ``pc[c] > target`` is found by bisection of the
    running sums ``pc`` (non-decreasing; ``pc[c] > pc[c−1]`` implies ``w_c > 0``): the
    same candidate and margin as the sequential scan, in O(log npair).
    """
    s, slot_of = J.s, J.slot_of
    pa, pb, pd, pw, pc = P.pa, P.pb, P.pd, P.pw, P.pc
    if npair > 0 and target < pc[npair - 1]:
        lo = 0
        hi = npair - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if pc[mid] > target:
                hi = mid
            else:
                lo = mid + 1
        prev = pc[lo - 1] if lo > 0 else 0.0
        return slot_of[pa[lo]], slot_of[pb[lo]], pd[lo], 1.0, lo, min(target - prev, pc[lo] - target)
    acc = pc[npair - 1] if npair > 0 else 0.0
    last_ok = -1
    prev = acc
    for i in range(m):
        if bw[i] > 0.0:
            last_ok = i
            prev = acc
            acc += bw[i]
            if target < acc:
                break
    if last_ok >= 0:
        return last_ok, -1, s[last_ok] * R2, 0.0, -1, max(min(target - prev, acc - target), 0.0)
    lastp = npair - 1
    while lastp > 0 and not pw[lastp] > 0.0:
        lastp -= 1
    return slot_of[pa[lastp]], slot_of[pb[lastp]], pd[lastp], 1.0, lastp, 0.0


@nb.njit(inline="always", **_opts)
def forced_candidate(fa, fb, R2, J):
    """The alternative path's step: jets (fa, fb) (fb = −1: fa to the beam), ``(ci, cj, d̃, c)``."""
    jp, rap, phi, s, nnd, nni, jid = J.jp, J.rap, J.phi, J.s, J.nnd, J.nni, J.jid
    dij, slot_of, flag = J.dij, J.slot_of, J.flag
    ci = slot_of[fa]
    if fb < 0:
        return ci, -1, s[ci] * R2, 0.0
    cj = slot_of[fb]
    return ci, cj, (s[ci] if s[ci] < s[cj] else s[cj]) * dist(rap, phi, ci, cj), 1.0


@nb.njit(inline="always", **_opts)
def score_term(alpha, R, dchosen, dmin, cch, cmin, W, WG):
    """∂/∂R log p of the chosen candidate: (2α/R)(r_k (c_k − c_min) − Σ_j p_j r_j (c_j − c_min))."""
    return (2.0 * alpha / R) * ((dchosen / dmin) * (cch - cmin) - WG / W)


@nb.njit(inline="always", **_opts)
def apply_step(t, ci, cj, dch, n, nmerge, m, npair, det, p, C, R2, ptmin2, J, P, hist, hdist, top, topst):
    """Record step t, then merge (ci, cj) or make ci a final jet; repair the NN bookkeeping.

    The tail slot m−1 moves into the freed slot. In sampled mode the merged jet's pairs
    with d̃ ≤ C are appended to the pair list. ``topst = [pt²_1, pt²_2, n_top]`` tracks
    the two hardest final jets with pt² ≥ ptmin2 (into ``top``).
    Returns ``(m, nmerge, npair)``.
    """
    jp, rap, phi, s, nnd, nni, jid = J.jp, J.rap, J.phi, J.s, J.nnd, J.nni, J.jid
    dij, slot_of, flag = J.dij, J.slot_of, J.flag
    pa, pb, pd, pw = P.pa, P.pb, P.pd, P.pw
    last = m - 1
    if cj >= 0:
        a = ci if ci < cj else cj
        b = cj if ci < cj else ci
        ia = jid[a]
        ib = jid[b]
        hist[t, 0] = ia if ia < ib else ib
        hist[t, 1] = ib if ia < ib else ia
        hdist[t] = dch
        for k in range(m):
            flag[k] = nni[k] == a or nni[k] == b
        set_jet(a, jp[a, 0] + jp[b, 0], jp[a, 1] + jp[b, 1], jp[a, 2] + jp[b, 2], jp[a, 3] + jp[b, 3],
                p, jp, rap, phi, s)
        slot_of[ia] = -1
        slot_of[ib] = -1
        jid[a] = n + nmerge
        slot_of[n + nmerge] = a
        nmerge += 1
        rem = b
    else:
        hist[t, 0] = jid[ci]
        hist[t, 1] = -1
        hdist[t] = dch
        keep_top(ci, jp, ptmin2, top, topst)
        for k in range(m):
            flag[k] = nni[k] == ci
        slot_of[jid[ci]] = -1
        a = -1
        rem = ci
    # move the tail jet into the freed slot
    if rem != last:
        for q in range(4):
            jp[rem, q] = jp[last, q]
        rap[rem] = rap[last]
        phi[rem] = phi[last]
        s[rem] = s[last]
        nnd[rem] = nnd[last]
        nni[rem] = nni[last]
        jid[rem] = jid[last]
        dij[rem] = dij[last]
        slot_of[jid[rem]] = rem
        flag[rem] = flag[last]
        if a < 0:
            for k in range(last):
                if nni[k] == last:
                    nni[k] = rem
    m = last
    if m == 0:
        return m, nmerge, npair
    if a >= 0:
        nnd[a] = np.inf
        nni[a] = -1
        if det:
            for k in range(m):
                if nni[k] == last and rem != last:
                    nni[k] = rem
                if k == a:
                    continue
                d = dist(rap, phi, a, k)
                if d < nnd[a]:
                    nnd[a] = d
                    nni[a] = k
                if not flag[k] and d < nnd[k]:
                    nnd[k] = d
                    nni[k] = a
                    dij[k] = diJ(k, s, nnd, nni, R2)
        else:
            # sampled: loops without branches (ΔR² row; renames and NN updates by selects;
            # appends written always, kept when d̃ ≤ C), then the merged jet's NN
            row = J.row
            fill_row(a, m, rap, phi, row)
            moved = rem != last
            for k in range(m):
                x = nni[k]
                x = rem if (x == last) & moved else x
                d = row[k]
                upd = (not flag[k]) & (d < nnd[k])
                nnd[k] = d if upd else nnd[k]
                nni[k] = a if upd else x
            ja = jid[a]
            sa = s[a]
            for k in range(m):
                dp = (sa if sa < s[k] else s[k]) * row[k]
                pa[npair] = ja
                pb[npair] = jid[k]
                pd[npair] = dp
                npair += (dp <= C) & (k != a)
            nnd[a], nni[a] = first_min(row, m)
    if det:
        for k in range(m):
            if flag[k] and k != a:
                nn_scan(k, m, rap, phi, nnd, nni, J.row, False)
                dij[k] = diJ(k, s, nnd, nni, R2)
    else:
        for k in range(m):
            if flag[k] and k != a:
                nn_scan(k, m, rap, phi, nnd, nni, J.row, True)
    if det and a >= 0:
        dij[a] = diJ(a, s, nnd, nni, R2)
    return m, nmerge, npair


__all__ = ["Jets", "Pairs", "new_state", "copy_state", "CAP_GROWTH", "init_jets", "det_choice", "min_candidate",
           "cut_distance", "rebuild_pairs", "pair_weights", "beam_weights", "log_weight", "pick_candidate",
           "forced_candidate", "score_term", "apply_step", "diJ", "nn_scan", "first_min", "first_min_bits", "fill_row", "keep_top"]
