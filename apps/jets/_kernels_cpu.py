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

__all__ = ["cluster_one", "run_batch", "replay"]
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



@nb.njit(**_opts)
def cluster_one(p4, n, R, alpha, det, state, ptmin2, hist, hdist, top):
    """Cluster one event; returns (score, n_top, state).

    ``hist[t] = (a, b)`` merges jets a < b into jet ``n + #merges so far`` (b = −1: a
    becomes a final jet); ``hdist[t]`` is the chosen distance ``d`` (physics units).
    ``top[0:2]`` receives the two hardest final jets with ``pt² ≥ ptmin2``.
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
            for c in range(npair):
                if pw[c] > 0.0:
                    lastp = c
                acc += pw[c]
                if target < acc and pw[c] > 0.0:
                    ci = slot_of[pa[c]]
                    cj = slot_of[pb[c]]
                    dchosen = pd[c]
                    cch = 1.0
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
            if weighted:
                score += (2.0 * alpha / R) * ((dchosen / dmin) * (cch - cmin) - WG / W)
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
    return score, ntop, state


@nb.njit(inline="always", **_opts)
def _pair_mass(top):
    E = top[0, 3] + top[1, 3]
    x = top[0, 0] + top[1, 0]
    y = top[0, 1] + top[1, 1]
    z = top[0, 2] + top[1, 2]
    m2 = E * E - x * x - y * y - z * z
    return math.sqrt(m2) if m2 > 0.0 else 0.0


@nb.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def run_batch(p4, counts, R, alpha, det, n_samples, seed, ptmin, want_hist, hist_out, dist_out, mjj_out, score_out):
    """Cluster every (event, sample); fills mjj_out/score_out (n_ev·n_samples) and,
    when ``want_hist``, hist_out (n_items, n_max, 2) / dist_out (n_items, n_max)."""
    n_ev = counts.shape[0]
    n_items = n_ev * n_samples
    ptmin2 = ptmin * ptmin
    for it in nb.prange(n_items):
        e = it // n_samples
        smp = it - e * n_samples
        n = counts[e]
        hist = np.empty((n, 2), np.int64)
        hd = np.empty(n)
        top = np.zeros((2, 4))
        state = stream_key(seed, e, smp)
        sc, ntop, state = cluster_one(p4[e], n, R[e], alpha, det, state, ptmin2, hist, hd, top)
        score_out[it] = sc
        mjj_out[it] = _pair_mass(top) if ntop >= 2 else np.nan
        if want_hist:
            for t in range(n):
                hist_out[it, t, 0] = hist[t, 0]
                hist_out[it, t, 1] = hist[t, 1]
                dist_out[it, t] = hd[t]


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
