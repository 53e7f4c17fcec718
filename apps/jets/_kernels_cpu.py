"""CPU (numba) kernels: exact anti-kT and sampled Qanti-kT with the R-score, one pass.

One clustering keeps FastJet's N2Plain bookkeeping: every jet knows its geometric
nearest neighbour (NN) and the ΔR² to it, and after a merge or a beam step only the
jets whose NN disappeared are rescanned (O(N) each). Distances are kept in FastJet's
units (d̃ = R²·d): pairs ``min(s_i, s_j)·ΔR²``, beams ``s_i·R²`` with
``s = 1/kt²`` (``1e300`` when ``kt² ≤ 1e-300``), so the comparisons are bit-for-bit
the ones FastJet makes.

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

Random numbers: a splitmix64 stream keyed by (seed, event, sample) — results do not
depend on the number of threads. The layout (flat work items, per-item scratch, no
Python objects) is what a CuPy/CUDA version of the same kernel would use.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ._cpu_util import CAP_GROWTH, LOGW_CUT, OPTS, dist, exp_neg, set_jet, stream_key, uniform

__all__ = ["cluster_one", "run_batch", "run_alternatives", "replay"]
_opts = OPTS


@nb.njit(inline="always", **OPTS)
def _dij(k, s, nnd, nni, R2):
    """FastJet's diJ (times R²) of slot k: pair with its NN if closer than R, else beam."""
    j = nni[k]
    if j >= 0 and nnd[k] < R2:
        return nnd[k] * (s[k] if s[k] < s[j] else s[j])
    return s[k] * R2


@nb.njit(cache=True, nogil=True, fastmath={"reassoc", "nsz", "contract"}, error_model="numpy")
def _weights(pw, pd, npair, D):
    """pw ← exp(pw) where pd ≤ D, else 0; return (Σ pw, Σ pw·pd). One vectorised loop."""
    W = 0.0
    WG = 0.0
    for c in range(npair):
        w = exp_neg(pw[c]) if pd[c] <= D else 0.0
        pw[c] = w
        W += w
        WG += w * pd[c]
    return W, WG


@nb.njit(inline="always", **OPTS)
def _nn_scan(k, m, rap, phi, nnd, nni):
    best = np.inf
    bi = -1
    for j in range(m):
        if j != k:
            d = dist(rap, phi, k, j)
            if d < best:
                best = d
                bi = j
    nnd[k] = best
    nni[k] = bi



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
def _reservoir_step(t, rstate, total, res, res_sign, K, gbar, ia, cmin, pw, pd, pa, pb, npair, cpair, bw,
                    s, R2, m, ci, jid):
    """Add step t's alternatives to every reservoir; returns (rstate, new total |w|).

    ``K = (2α/R)/W`` turns the unnormalised weights w_k into π_k·(2α/R); the score
    terms are g_k = r_k (c_k − c_min) with r_k = d̃_k/d̃_min (``ia = 1/d̃_min``).
    """
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
def cluster_one(p4, n, R, alpha, det, state, ptmin2, hist, hdist, top, rstate, res, res_sign, force):
    """Cluster one event; returns (score, n_top, state, alt_total).

    ``hist[t] = (a, b)`` merges jets a < b into jet ``n + #merges so far`` (b = −1: a
    becomes a final jet); ``hdist[t]`` is the chosen distance ``d`` (physics units).
    ``top[0:2]`` receives the two hardest final jets with ``pt² ≥ ptmin2``.

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
    R2 = R * R
    N = max(n, 1)
    jp = np.empty((N, 4))
    dij = np.empty(N)
    rap = np.empty(n)
    phi = np.empty(n)
    s = np.empty(n)
    nnd = np.empty(n)
    nni = np.empty(n, np.int64)
    jid = np.empty(n, np.int64)
    flag = np.zeros(n, np.bool_)
    ncap = 1 if det else n * (n + 1) // 2 + n + 1
    pa = np.empty(ncap, np.int64)  # candidate pairs (jet ids), d̃ and weight
    pb = np.empty(ncap, np.int64)
    pd = np.empty(ncap)
    pw = np.empty(ncap)
    bw = np.empty(n)
    slot_of = np.full(max(2 * n, 1), -1, np.int64)
    npair = 0
    C = -1.0  # every live pair with d̃ ≤ C is in the list
    for i in range(n):
        set_jet(i, p4[i, 0], p4[i, 1], p4[i, 2], p4[i, 3], jp, rap, phi, s)
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
            dij[i] = _dij(i, s, nnd, nni, R2)
    pt2a = -1.0
    pt2b = -1.0
    ntop = 0
    score = 0.0
    alt_total = 0.0
    nres = res.shape[0]
    m = n
    nmerge = 0
    for t in range(n):
        ci = -1
        cj = -1
        dch = 0.0
        if m == 1:
            ci = 0
            dch = s[0]
        elif det:
            best = np.inf
            for i in range(m):
                if dij[i] < best:
                    best = dij[i]
                    ci = i
            if nni[ci] >= 0 and nnd[ci] < R2:
                cj = nni[ci]
            dch = best / R2
        else:
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
            weighted = dmin > 0.0 and alpha > 0.0
            if alpha == 0.0:
                D = np.inf
            elif dmin == 0.0:
                D = 0.0  # exactly collinear pairs: uniform among the d = 0 candidates
            else:
                D = dmin * (1.0 + LOGW_CUT / alpha)
            if D > C:
                # rebuild the list of every live pair with d̃ ≤ C (rows of jets h whose
                # NN bound s_h·ΔR²_NN(h) allows one; each pair counted from its harder member)
                C = D * CAP_GROWTH
                npair = 0
                for h in range(m):
                    sh = s[h]
                    if nni[h] < 0 or sh * nnd[h] > C:
                        continue
                    for j in range(m):
                        if j == h or s[j] < sh or (s[j] == sh and j < h):
                            continue
                        d = sh * dist(rap, phi, h, j)
                        if d <= C:
                            pa[npair] = jid[h]
                            pb[npair] = jid[j]
                            pd[npair] = d
                            npair += 1
            # weights w = exp(−α(r − 1)) (r = d/d_min), their sum, and Σ w g with
            # g = r (c − c_min): compact the list, then one vectorisable exp loop
            q = 0
            ia = 1.0 / dmin if weighted else 0.0
            for c in range(npair):
                if slot_of[pa[c]] < 0 or slot_of[pb[c]] < 0:
                    continue  # a jet of this pair is gone: drop it
                d = pd[c]
                pa[q] = pa[c]
                pb[q] = pb[c]
                pd[q] = d
                pw[q] = max(-alpha * (d * ia - 1.0), -700.0)
                q += 1
            npair = q
            W, WG = _weights(pw, pd, npair, D)
            WG *= ia * (1.0 - cmin)
            for i in range(m):
                b = s[i] * R2
                w = 0.0
                if b <= D:
                    w = exp_neg(max(-alpha * (b * ia - 1.0), -700.0))
                    WG -= w * b * ia * cmin
                    W += w
                bw[i] = w
            state, u = uniform(state)
            target = u * W
            acc = 0.0
            found = False
            lastp = -1
            cpair = -1  # the chosen candidate's index in the pair list (−1: a beam)
            for c in range(npair):
                if pw[c] > 0.0:
                    lastp = c
                acc += pw[c]
                if target < acc and pw[c] > 0.0:
                    ci = slot_of[pa[c]]
                    cj = slot_of[pb[c]]
                    dchosen = pd[c]
                    cch = 1.0
                    cpair = c
                    found = True
                    break
            if not found:
                last_ok = -1
                for i in range(m):
                    if bw[i] > 0.0:
                        last_ok = i
                        acc += bw[i]
                        if target < acc:
                            break
                if last_ok >= 0:
                    ci = last_ok
                    cj = -1
                    dchosen = s[ci] * R2
                    cch = 0.0
                else:  # rounding at the very end of the pair weights
                    ci = slot_of[pa[lastp]]
                    cj = slot_of[pb[lastp]]
                    dchosen = pd[lastp]
                    cch = 1.0
                    cpair = lastp
            if t == force[0]:  # alternative path: the uniform is used up, the choice is forced
                ci = slot_of[force[1]]
                cj = slot_of[force[2]] if force[2] >= 0 else -1
                if cj >= 0:
                    dchosen = (s[ci] if s[ci] < s[cj] else s[cj]) * dist(rap, phi, ci, cj)
                    cch = 1.0
                else:
                    dchosen = s[ci] * R2
                    cch = 0.0
            if weighted:
                score += (2.0 * alpha / R) * ((dchosen / dmin) * (cch - cmin) - WG / W)
                if nres > 0:
                    rstate, alt_total = _reservoir_step(
                        t, rstate, alt_total, res, res_sign, (2.0 * alpha / R) / W, WG / W, ia, cmin,
                        pw, pd, pa, pb, npair, cpair, bw, s, R2, m, ci, jid)
            dch = dchosen / R2
        # ---- apply step (ci, cj) ----
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
            set_jet(a, jp[a, 0] + jp[b, 0], jp[a, 1] + jp[b, 1], jp[a, 2] + jp[b, 2],
                     jp[a, 3] + jp[b, 3], jp, rap, phi, s)
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
            px = jp[ci, 0]
            py = jp[ci, 1]
            pt2 = px * px + py * py
            if pt2 >= ptmin2:
                if pt2 > pt2a:
                    for q in range(4):
                        top[1, q] = top[0, q]
                        top[0, q] = jp[ci, q]
                    pt2b = pt2a
                    pt2a = pt2
                elif pt2 > pt2b:
                    for q in range(4):
                        top[1, q] = jp[ci, q]
                    pt2b = pt2
                ntop += 1
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
            break
        if a >= 0:
            nnd[a] = np.inf
            nni[a] = -1
            for k in range(m):
                if nni[k] == last and rem != last:
                    nni[k] = rem
                if k == a:
                    continue
                d = dist(rap, phi, a, k)
                if d < nnd[a]:
                    nnd[a] = d
                    nni[a] = k
                if not det:
                    dp = (s[a] if s[a] < s[k] else s[k]) * d
                    if dp <= C:
                        pa[npair] = jid[a]
                        pb[npair] = jid[k]
                        pd[npair] = dp
                        npair += 1
                if not flag[k] and d < nnd[k]:
                    nnd[k] = d
                    nni[k] = a
                    if det:
                        dij[k] = _dij(k, s, nnd, nni, R2)
        for k in range(m):
            if flag[k] and k != a:
                _nn_scan(k, m, rap, phi, nnd, nni)
                if det:
                    dij[k] = _dij(k, s, nnd, nni, R2)
        if det and a >= 0:
            dij[a] = _dij(a, s, nnd, nni, R2)
    return score, ntop, state, alt_total


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


@nb.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def run_batch(p4, counts, R, alpha, det, n_samples, seed, ptmin, want_hist, hist_out, dist_out, mjj_out, score_out,
              res_out, res_sign_out, alt_total_out, e0=0):
    """Cluster every (event, sample); fills mjj_out/score_out (n_ev·n_samples) and,
    when ``want_hist``, hist_out (n_items, n_max, 2) / dist_out (n_items, n_max).
    With ``res_out`` of shape (n_items, m, 3) (m > 0) also draws m alternatives per
    item (``res_sign_out`` (n_items, m), ``alt_total_out`` (n_items,); see cluster_one).
    ``e0``: global index of event 0 (streams are keyed by the global event index)."""
    n_ev = counts.shape[0]
    n_items = n_ev * n_samples
    ptmin2 = ptmin * ptmin
    nres = res_out.shape[1]
    for it in nb.prange(n_items):
        e, smp, n, hist, hd, top = _item_scratch(it, counts, n_samples)
        state = stream_key(seed, e0 + e, smp)
        res = np.full((nres, 3), -1, np.int64)
        res_sign = np.zeros(nres)
        force = np.full(3, -1, np.int64)
        rstate = stream_key(seed ^ _RES_SALT, e0 + e, smp)
        sc, ntop, state, tot = cluster_one(p4[e], n, R[e], alpha, det, state, ptmin2, hist, hd, top,
                                           rstate, res, res_sign, force)
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


@nb.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def run_alternatives(p4, counts, R, alpha, n_samples, seed, ptmin, res, mjj_out, e0=0):
    """Dijet mass along each drawn alternative: item ``it``'s history replayed with its
    own stream, candidate ``res[it, j, 1:]`` forced at step ``res[it, j, 0]``
    (``res[it, j, 0] < 0``: no alternative, NaN). Fills mjj_out (n_items, m)."""
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
        state = stream_key(seed, e0 + e, smp)
        _, ntop, _, _ = cluster_one(p4[e], n, R[e], alpha, False, state, ptmin2, hist, hd, top,
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
        parent = np.full(N, -1, np.int64)
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
                parent[a] = nxt
                parent[b] = nxt
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
        for i in range(n):
            k = i
            while final[k] < 0:
                k = parent[k]
            label_out[it, i] = final[k]
