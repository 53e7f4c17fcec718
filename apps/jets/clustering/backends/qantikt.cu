// Generalised-kt clustering and its sampled (Q-) version, one (event, sample) per thread.
//
// The CUDA twin of the numba CPU backend (apps/jets/clustering/backends/_numba_steps.py, cpu.py):
// one device function per numba step function, same names, same operation order, so
// that both compute the same doubles. Compile without FMA contraction (NVRTC
// --fmad=false; host: -ffp-contract=off): contracted a*b+c rounds differently.
//
// Work items: item it = e * n_samples + smp. A launch covers items [item0, item0 +
// n_work); work index w = it - item0 runs a grid-stride loop, so the host emulation
// (cuda_shim.h: one block of one thread) runs every item in turn from this very source.
// Per-item scratch lives in two global buffers, column-major over the launch's work
// items (element k of an array of item w at [(col0 + k) * n_work + w]): neighbouring
// threads touch neighbouring addresses.
//
// Random numbers: counter-based. Step t of item (e, smp) draws
// uniform_at(stream_key(seed, e0 + e, smp), t) (e0: global index of the batch's event 0,
// so a partition draws its rows of the whole batch's numbers); the reservoirs run a
// sequential splitmix64 stream keyed by (seed ^ RES_SALT, e0 + e, smp).

#ifndef QK_HOST
#define QK_DEV __device__ __forceinline__
#else
#define QK_DEV static inline
#endif

typedef long long i64;
typedef unsigned long long u64;

#define LOGW_CUT 37.0
#define CAP_GROWTH 1.25
#define MAXRAP 1e5
#define TWOPI (2.0 * 3.141592653589793)
#define INV53 (1.0 / 9007199254740992.0)
#define GOLD 0x9E3779B97F4A7C15ULL
#define MIX1 0xBF58476D1CE4E5B9ULL
#define MIX2 0x94D049BB133111EBULL
#define RES_SALT 0x632BE59BD9B4E019ULL
#define LOG2E 1.4426950408889634
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10

QK_DEV double qk_inf(void) { return __longlong_as_double(0x7ff0000000000000LL); }
QK_DEV double qk_nan(void) { return __longlong_as_double(0x7ff8000000000000LL); }

// ---- random stream (twin of _numba_util) --------------------------------------------

QK_DEV u64 mix64(u64 z) {
    z = (z ^ (z >> 30)) * MIX1;
    z = (z ^ (z >> 27)) * MIX2;
    return z ^ (z >> 31);
}

QK_DEV u64 stream_key(u64 seed, i64 event, i64 sample) {
    u64 k = mix64(seed ^ GOLD);
    k = mix64(k + (u64)event * GOLD);
    return mix64(k ^ ((u64)sample * MIX1 + GOLD));
}

QK_DEV double uniform_at(u64 key, i64 step) {
    return (double)(mix64(key + ((u64)step + 1ULL) * GOLD) >> 11) * INV53;
}

QK_DEV double uniform_next(u64* state) {
    *state = *state + GOLD;
    return (double)(mix64(*state) >> 11) * INV53;
}

// e^x for x in [-700, 0]: the same polynomial and reduction as _numba_util.exp_neg.
QK_DEV double exp_neg(double x) {
    double k = floor(x * LOG2E + 0.5);
    double r = (x - k * LN2_HI) - k * LN2_LO;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * __longlong_as_double((i64)(1023 + (int)k) << 52);  // 2^k, k >= -1010
}

QK_DEV double jet_scale(double kt2, int p) {
    if (p < 0) return kt2 > 1e-300 ? 1.0 / kt2 : 1e300;
    if (p == 0) return 1.0;
    return kt2;
}

// ---- one work item's state -----------------------------------------------------------

typedef struct {
    i64 st;  // stride between consecutive elements of an array (= work items in the launch)
    double *px, *py, *pz, *E, *rap, *phi, *s, *nnd, *dij, *pd, *pw, *pc, *bw;  // pc: running sums of pw
    i64 *nni, *jid, *slot_of, *pa, *pb, *flag;
    double top[8];    // the two hardest final jets (px, py, pz, E) x 2
    double topst[3];  // their pt^2, and how many final jets passed ptmin
} Item;

#define A(arr, k) (it->arr[(i64)(k) * it->st])

QK_DEV void set_jet(Item* it, i64 k, double px, double py, double pz, double E, int p) {
    A(px, k) = px;
    A(py, k) = py;
    A(pz, k) = pz;
    A(E, k) = E;
    double kt2 = px * px + py * py;
    double phi = kt2 == 0.0 ? 0.0 : atan2(py, px);
    if (phi < 0.0) phi += TWOPI;
    if (phi >= TWOPI) phi -= TWOPI;
    double rap;
    if (E == fabs(pz) && kt2 == 0.0) {
        double r = MAXRAP + fabs(pz);
        rap = pz >= 0.0 ? r : -r;
    } else {
        double m2 = (E + pz) * (E - pz) - kt2;
        if (m2 < 0.0) m2 = 0.0;
        double epz = E + fabs(pz);
        rap = 0.5 * log((kt2 + m2) / (epz * epz));
        if (pz > 0.0) rap = -rap;
    }
    A(rap, k) = rap;
    A(phi, k) = phi;
    A(s, k) = jet_scale(kt2, p);
}

QK_DEV double dist(Item* it, i64 a, i64 b) {
    double dphi = fabs(A(phi, a) - A(phi, b));
    double other = TWOPI - dphi;
    dphi = other < dphi ? other : dphi;
    double deta = A(rap, a) - A(rap, b);
    return dphi * dphi + deta * deta;
}

QK_DEV double diJ(Item* it, i64 k, double R2) {
    i64 j = A(nni, k);
    if (j >= 0 && A(nnd, k) < R2) return A(nnd, k) * (A(s, k) < A(s, j) ? A(s, k) : A(s, j));
    return A(s, k) * R2;
}

QK_DEV void nn_scan(Item* it, i64 k, i64 m) {
    double best = qk_inf();
    i64 bi = -1;
    for (i64 j = 0; j < m; ++j) {
        if (j != k) {
            double d = dist(it, k, j);
            if (d < best) {
                best = d;
                bi = j;
            }
        }
    }
    A(nnd, k) = best;
    A(nni, k) = bi;
}

// ---- the steps (twins of _numba_steps) -------------------------------------------------

QK_DEV void init_jets(Item* it, const double* p4, i64 n, int p, double R2, int det) {
    for (i64 i = 0; i < n; ++i) {
        set_jet(it, i, p4[4 * i], p4[4 * i + 1], p4[4 * i + 2], p4[4 * i + 3], p);
        A(jid, i) = i;
        A(slot_of, i) = i;
        A(nnd, i) = qk_inf();
        A(nni, i) = -1;
    }
    for (i64 i = 0; i < n; ++i) {
        for (i64 j = i + 1; j < n; ++j) {
            double d = dist(it, i, j);
            if (d < A(nnd, i)) {
                A(nnd, i) = d;
                A(nni, i) = j;
            }
            if (d < A(nnd, j)) {
                A(nnd, j) = d;
                A(nni, j) = i;
            }
        }
    }
    if (det)
        for (i64 i = 0; i < n; ++i) A(dij, i) = diJ(it, i, R2);
}

QK_DEV void det_choice(Item* it, i64 m, double R2, i64* ci, i64* cj, double* dch) {
    double best = qk_inf();
    i64 c = 0;
    for (i64 i = 0; i < m; ++i) {
        if (A(dij, i) < best) {
            best = A(dij, i);
            c = i;
        }
    }
    *ci = c;
    *cj = (A(nni, c) >= 0 && A(nnd, c) < R2) ? A(nni, c) : -1;
    *dch = best / R2;
}

QK_DEV void min_candidate(Item* it, i64 m, double R2, double* dmin_out, double* cmin_out) {
    double dmin = qk_inf();
    double cmin = 0.0;
    for (i64 i = 0; i < m; ++i) {
        double b = A(s, i) * R2;
        if (b < dmin) {
            dmin = b;
            cmin = 0.0;
        }
        if (A(nni, i) >= 0) {
            double d = A(s, i) * A(nnd, i);
            if (d < dmin) {
                dmin = d;
                cmin = 1.0;
            }
        }
    }
    *dmin_out = dmin;
    *cmin_out = cmin;
}

QK_DEV double cut_distance(double dmin, double alpha) {
    if (alpha == 0.0) return qk_inf();
    if (dmin == 0.0) return 0.0;
    return dmin * (1.0 + LOGW_CUT / alpha);
}

QK_DEV double log_weight(double alpha, double d, double ia) {
    double x = -alpha * (d * ia - 1.0);
    x = x > -700.0 ? x : -700.0;
    return x < 0.0 ? x : 0.0;
}

QK_DEV i64 rebuild_pairs(Item* it, i64 m, double C) {
    i64 npair = 0;
    for (i64 h = 0; h < m; ++h) {
        double sh = A(s, h);
        if (A(nni, h) < 0 || sh * A(nnd, h) > C) continue;
        for (i64 j = 0; j < m; ++j) {
            if (j == h || A(s, j) < sh || (A(s, j) == sh && j < h)) continue;
            double d = sh * dist(it, h, j);
            if (d <= C) {
                A(pa, npair) = A(jid, h);
                A(pb, npair) = A(jid, j);
                A(pd, npair) = d;
                npair += 1;
            }
        }
    }
    return npair;
}

QK_DEV i64 pair_weights(Item* it, i64 npair, double alpha, double ia, double D, double* W_out, double* WG_out) {
    i64 q = 0;
    for (i64 c = 0; c < npair; ++c) {
        if (A(slot_of, A(pa, c)) < 0 || A(slot_of, A(pb, c)) < 0) continue;
        double d = A(pd, c);
        A(pa, q) = A(pa, c);
        A(pb, q) = A(pb, c);
        A(pd, q) = d;
        A(pw, q) = log_weight(alpha, d, ia);
        q += 1;
    }
    double W = 0.0, WG = 0.0;
    for (i64 c = 0; c < q; ++c) {
        double w = A(pd, c) <= D ? exp_neg(A(pw, c)) : 0.0;
        A(pw, c) = w;
        W += w;
        WG += w * A(pd, c);
        A(pc, c) = W;  // running sum after pair c: pick_candidate bisects it
    }
    *W_out = W;
    *WG_out = WG;
    return q;
}

QK_DEV void beam_weights(Item* it, i64 m, double R2, double alpha, double ia, double cmin, double D, double* W,
                         double* WG) {
    for (i64 i = 0; i < m; ++i) {
        double b = A(s, i) * R2;
        double w = 0.0;
        if (b <= D) {
            w = exp_neg(log_weight(alpha, b, ia));
            *WG -= w * b * ia * cmin;
            *W += w;
        }
        A(bw, i) = w;
    }
}

// Returns the margin: how far target lies from the chosen interval's edges (unnormalised).
// Among the pairs: the first c with pc[c] > target, by bisection of the running sums (non-decreasing;
// pc[c] > pc[c-1] implies pw[c] > 0) -- the same candidate and margin as a sequential scan.
QK_DEV double pick_candidate(Item* it, double target, i64 npair, i64 m, double R2, i64* ci, i64* cj, double* dch,
                             double* cch, i64* cpair) {
    if (npair > 0 && target < A(pc, npair - 1)) {
        i64 lo = 0, hi = npair - 1;
        while (lo < hi) {
            i64 mid = (lo + hi) >> 1;
            if (A(pc, mid) > target)
                hi = mid;
            else
                lo = mid + 1;
        }
        double prev = lo > 0 ? A(pc, lo - 1) : 0.0;
        *ci = A(slot_of, A(pa, lo));
        *cj = A(slot_of, A(pb, lo));
        *dch = A(pd, lo);
        *cch = 1.0;
        *cpair = lo;
        double a = target - prev, b = A(pc, lo) - target;
        return a < b ? a : b;
    }
    double acc = npair > 0 ? A(pc, npair - 1) : 0.0, prev = acc;
    i64 last_ok = -1;
    for (i64 i = 0; i < m; ++i) {
        if (A(bw, i) > 0.0) {
            last_ok = i;
            prev = acc;
            acc += A(bw, i);
            if (target < acc) break;
        }
    }
    if (last_ok >= 0) {
        *ci = last_ok;
        *cj = -1;
        *dch = A(s, last_ok) * R2;
        *cch = 0.0;
        *cpair = -1;
        double lo = target - prev, hi = acc - target;
        double g = lo < hi ? lo : hi;
        return g > 0.0 ? g : 0.0;
    }
    i64 lastp = npair - 1;
    while (lastp > 0 && !(A(pw, lastp) > 0.0)) lastp -= 1;
    *ci = A(slot_of, A(pa, lastp));
    *cj = A(slot_of, A(pb, lastp));
    *dch = A(pd, lastp);
    *cch = 1.0;
    *cpair = lastp;
    return 0.0;
}

QK_DEV void forced_candidate(Item* it, i64 fa, i64 fb, double R2, i64* ci, i64* cj, double* dch, double* cch) {
    *ci = A(slot_of, fa);
    if (fb < 0) {
        *cj = -1;
        *dch = A(s, *ci) * R2;
        *cch = 0.0;
        return;
    }
    *cj = A(slot_of, fb);
    double sa = A(s, *ci), sb = A(s, *cj);
    *dch = (sa < sb ? sa : sb) * dist(it, *ci, *cj);
    *cch = 1.0;
}

QK_DEV double score_term(double alpha, double R, double dchosen, double dmin, double cch, double cmin, double W,
                         double WG) {
    return (2.0 * alpha / R) * ((dchosen / dmin) * (cch - cmin) - WG / W);
}

// Signed weight d(pi_k)/dR of candidate k (pairs first, then beams); 0 for the chosen one.
QK_DEV double alt_weight(Item* it, i64 k, i64 npair, i64 cpair, double R2, double K, double gbar, double ia,
                         double cmin, i64 ci) {
    if (k < npair) {
        if (k == cpair || A(pw, k) <= 0.0) return 0.0;
        return K * A(pw, k) * (A(pd, k) * ia * (1.0 - cmin) - gbar);
    }
    i64 i = k - npair;
    if ((cpair < 0 && i == ci) || A(bw, i) <= 0.0) return 0.0;
    return K * A(bw, i) * (-A(s, i) * R2 * ia * cmin - gbar);
}

QK_DEV double reservoir_step(Item* it, i64 t, u64* rstate, double total, i64* res, double* res_sign, int nres,
                             double K, double gbar, double ia, double cmin, i64 npair, i64 cpair, double R2, i64 m,
                             i64 ci) {
    double T = 0.0;
    for (i64 k = 0; k < npair + m; ++k) T += fabs(alt_weight(it, k, npair, cpair, R2, K, gbar, ia, cmin, ci));
    if (T <= 0.0) return total;
    total += T;
    for (int j = 0; j < nres; ++j) {
        double u = uniform_next(rstate);
        if (u * total >= T) continue;
        double v = uniform_next(rstate);
        double target = v * T;
        double acc = 0.0;
        i64 sel = -1;
        double wsel = 0.0;
        for (i64 k = 0; k < npair + m; ++k) {
            double w = alt_weight(it, k, npair, cpair, R2, K, gbar, ia, cmin, ci);
            if (w != 0.0) {
                sel = k;
                wsel = w;
                acc += fabs(w);
                if (target < acc) break;
            }
        }
        res[3 * j] = t;
        if (sel < npair) {
            res[3 * j + 1] = A(pa, sel);
            res[3 * j + 2] = A(pb, sel);
        } else {
            res[3 * j + 1] = A(jid, sel - npair);
            res[3 * j + 2] = -1;
        }
        res_sign[j] = wsel > 0.0 ? 1.0 : -1.0;
    }
    return total;
}

// Record step t, merge (ci, cj) or retire ci, repair the NN bookkeeping; returns the new m.
QK_DEV i64 apply_step(Item* it, i64 t, i64 ci, i64 cj, double dch, i64 n, i64* nmerge, i64 m, i64* npair, int det,
                      int p, double C, double R2, double ptmin2, int* hist, double* hdist) {
    i64 last = m - 1;
    i64 a, rem;
    if (cj >= 0) {
        a = ci < cj ? ci : cj;
        i64 b = ci < cj ? cj : ci;
        i64 ia = A(jid, a), ib = A(jid, b);
        if (hist) {
            hist[2 * t] = (int)(ia < ib ? ia : ib);
            hist[2 * t + 1] = (int)(ia < ib ? ib : ia);
            hdist[t] = dch;
        }
        for (i64 k = 0; k < m; ++k) A(flag, k) = (A(nni, k) == a || A(nni, k) == b);
        set_jet(it, a, A(px, a) + A(px, b), A(py, a) + A(py, b), A(pz, a) + A(pz, b), A(E, a) + A(E, b), p);
        A(slot_of, ia) = -1;
        A(slot_of, ib) = -1;
        A(jid, a) = n + *nmerge;
        A(slot_of, n + *nmerge) = a;
        *nmerge += 1;
        rem = b;
    } else {
        if (hist) {
            hist[2 * t] = (int)A(jid, ci);
            hist[2 * t + 1] = -1;
            hdist[t] = dch;
        }
        double px = A(px, ci), py = A(py, ci);
        double pt2 = px * px + py * py;
        if (pt2 >= ptmin2) {
            if (pt2 > it->topst[0]) {
                it->top[4] = it->top[0];
                it->top[5] = it->top[1];
                it->top[6] = it->top[2];
                it->top[7] = it->top[3];
                it->top[0] = A(px, ci);
                it->top[1] = A(py, ci);
                it->top[2] = A(pz, ci);
                it->top[3] = A(E, ci);
                it->topst[1] = it->topst[0];
                it->topst[0] = pt2;
            } else if (pt2 > it->topst[1]) {
                it->top[4] = A(px, ci);
                it->top[5] = A(py, ci);
                it->top[6] = A(pz, ci);
                it->top[7] = A(E, ci);
                it->topst[1] = pt2;
            }
            it->topst[2] += 1.0;
        }
        for (i64 k = 0; k < m; ++k) A(flag, k) = (A(nni, k) == ci);
        A(slot_of, A(jid, ci)) = -1;
        a = -1;
        rem = ci;
    }
    if (rem != last) {  // move the tail jet into the freed slot
        A(px, rem) = A(px, last);
        A(py, rem) = A(py, last);
        A(pz, rem) = A(pz, last);
        A(E, rem) = A(E, last);
        A(rap, rem) = A(rap, last);
        A(phi, rem) = A(phi, last);
        A(s, rem) = A(s, last);
        A(nnd, rem) = A(nnd, last);
        A(nni, rem) = A(nni, last);
        A(jid, rem) = A(jid, last);
        A(dij, rem) = A(dij, last);
        A(slot_of, A(jid, rem)) = rem;
        A(flag, rem) = A(flag, last);
        if (a < 0)
            for (i64 k = 0; k < last; ++k)
                if (A(nni, k) == last) A(nni, k) = rem;
    }
    m = last;
    if (m == 0) return m;
    if (a >= 0) {
        A(nnd, a) = qk_inf();
        A(nni, a) = -1;
        for (i64 k = 0; k < m; ++k) {
            if (A(nni, k) == last && rem != last) A(nni, k) = rem;
            if (k == a) continue;
            double d = dist(it, a, k);
            if (d < A(nnd, a)) {
                A(nnd, a) = d;
                A(nni, a) = k;
            }
            if (!det) {
                double dp = (A(s, a) < A(s, k) ? A(s, a) : A(s, k)) * d;
                if (dp <= C) {
                    A(pa, *npair) = A(jid, a);
                    A(pb, *npair) = A(jid, k);
                    A(pd, *npair) = dp;
                    *npair += 1;
                }
            }
            if (!A(flag, k) && d < A(nnd, k)) {
                A(nnd, k) = d;
                A(nni, k) = a;
                if (det) A(dij, k) = diJ(it, k, R2);
            }
        }
    }
    for (i64 k = 0; k < m; ++k) {
        if (A(flag, k) && k != a) {
            nn_scan(it, k, m);
            if (det) A(dij, k) = diJ(it, k, R2);
        }
    }
    if (det && a >= 0) A(dij, a) = diJ(it, a, R2);
    return m;
}

// Cluster one event (twin of cpu.cluster_one); returns the status (0 ok, 1 weights not finite).
// *margin_out: the history's closest call (see cpu.cluster_one).
QK_DEV int cluster_one(Item* it, const double* p4, i64 n, double R, int p, double alpha, int det, u64 key,
                       double ptmin2, int* hist, double* hdist, u64 rstate, i64* res, double* res_sign, int nres,
                       i64 f0, i64 f1, i64 f2, double* score_out, double* alt_total_out, double* margin_out) {
    double R2 = R * R;
    for (int q = 0; q < 8; ++q) it->top[q] = 0.0;
    it->topst[0] = -1.0;
    it->topst[1] = -1.0;
    it->topst[2] = 0.0;
    for (i64 k = 0; k < 2 * n; ++k) A(slot_of, k) = -1;
    for (i64 k = 0; k < n; ++k) A(flag, k) = 0;
    init_jets(it, p4, n, p, R2, det);
    i64 npair = 0;
    double C = -1.0;
    double score = 0.0, alt_total = 0.0;
    int status = 0;
    double margin = qk_inf();
    i64 m = n, nmerge = 0;
    for (i64 t = 0; t < n; ++t) {
        i64 ci, cj;
        double dch;
        if (m == 1) {
            ci = 0;
            cj = -1;
            dch = A(s, 0);
        } else if (det) {
            det_choice(it, m, R2, &ci, &cj, &dch);
        } else {
            double dmin, cmin, W, WG, dchosen, cch;
            i64 cpair;
            min_candidate(it, m, R2, &dmin, &cmin);
            int weighted = dmin > 0.0 && alpha > 0.0;
            double D = cut_distance(dmin, alpha);
            if (D > C) {
                C = D * CAP_GROWTH;
                npair = rebuild_pairs(it, m, C);
            }
            double ia = weighted ? 1.0 / dmin : 0.0;
            npair = pair_weights(it, npair, alpha, ia, D, &W, &WG);
            WG *= ia * (1.0 - cmin);
            beam_weights(it, m, R2, alpha, ia, cmin, D, &W, &WG);
            double u = uniform_at(key, t);
            if (!(W > 0.0 && W < qk_inf() && ia < qk_inf())) {
                status = 1;
                ci = 0;
                cj = -1;
                dchosen = A(s, 0) * R2;
                cch = 0.0;
                cpair = -1;
                weighted = 0;
            } else {
                double gap = pick_candidate(it, u * W, npair, m, R2, &ci, &cj, &dchosen, &cch, &cpair);
                if (gap / W < margin) margin = gap / W;
            }
            if (t == f0) forced_candidate(it, f1, f2, R2, &ci, &cj, &dchosen, &cch);
            if (weighted) {
                score += score_term(alpha, R, dchosen, dmin, cch, cmin, W, WG);
                if (nres > 0)
                    alt_total = reservoir_step(it, t, &rstate, alt_total, res, res_sign, nres, (2.0 * alpha / R) / W,
                                               WG / W, ia, cmin, npair, cpair, R2, m, ci);
            }
            dch = dchosen / R2;
        }
        m = apply_step(it, t, ci, cj, dch, n, &nmerge, m, &npair, det, p, C, R2, ptmin2, hist, hdist);
        if (m == 0) break;
    }
    *score_out = score;
    *alt_total_out = alt_total;
    *margin_out = margin;
    return status;
}

QK_DEV double pair_mass(const Item* it) {
    double E = it->top[3] + it->top[7];
    double x = it->top[0] + it->top[4];
    double y = it->top[1] + it->top[5];
    double z = it->top[2] + it->top[6];
    double m2 = E * E - x * x - y * y - z * z;
    return m2 > 0.0 ? sqrt(m2) : 0.0;
}

// Scratch columns per item: doubles 10 n_max + 3 ncap, integers 5 n_max + 2 ncap (qk_scratch_size).
QK_DEV void item_setup(Item* it, double* dbuf, i64* ibuf, i64 w, i64 n_work, i64 n_max, i64 ncap) {
    i64 N = n_max > 0 ? n_max : 1;
    it->st = n_work;
    double* d = dbuf + w;
    it->px = d; d += N * n_work;
    it->py = d; d += N * n_work;
    it->pz = d; d += N * n_work;
    it->E = d; d += N * n_work;
    it->rap = d; d += N * n_work;
    it->phi = d; d += N * n_work;
    it->s = d; d += N * n_work;
    it->nnd = d; d += N * n_work;
    it->dij = d; d += N * n_work;
    it->bw = d; d += N * n_work;
    it->pd = d; d += ncap * n_work;
    it->pw = d; d += ncap * n_work;
    it->pc = d;
    i64* q = ibuf + w;
    it->nni = q; q += N * n_work;
    it->jid = q; q += N * n_work;
    it->flag = q; q += N * n_work;
    it->slot_of = q; q += 2 * N * n_work;
    it->pa = q; q += ncap * n_work;
    it->pb = q;
}

#define FOR_EACH_WORK_ITEM(w, n_work) \
    for (i64 w = (i64)blockIdx.x * blockDim.x + threadIdx.x; w < (n_work); w += (i64)gridDim.x * blockDim.x)

// Cluster items [item0, item0 + n_work): mjj, score, status (+ histories, reservoirs).
extern "C" __global__ void qk_batch(const double* p4, const i64* counts, const double* R, i64 n_max, int p,
                                    double alpha, int det, i64 n_samples, u64 seed, i64 e0, double ptmin,
                                    int want_hist, int nres, i64 item0, i64 n_work, i64 ncap, double* dbuf, i64* ibuf,
                                    int* hist_out, double* dist_out, double* mjj_out, double* score_out,
                                    i64* res_out, double* res_sign_out, double* alt_total_out, int* status_out,
                                    double* margin_out) {
    FOR_EACH_WORK_ITEM(w, n_work) {
        i64 item = item0 + w;
        i64 e = item / n_samples;
        i64 smp = item - e * n_samples;
        Item itm;
        item_setup(&itm, dbuf, ibuf, w, n_work, n_max, ncap);
        i64* res = res_out + item * 3 * nres;
        double* res_sign = res_sign_out + item * nres;
        for (int j = 0; j < nres; ++j) {
            res[3 * j] = -1;
            res[3 * j + 1] = -1;
            res[3 * j + 2] = -1;
            res_sign[j] = 0.0;
        }
        double score, alt_total, margin;
        int st = cluster_one(&itm, p4 + e * n_max * 4, counts[e], R[e], p, alpha, det,
                             stream_key(seed, e0 + e, smp), ptmin * ptmin,
                             want_hist ? hist_out + item * n_max * 2 : 0, want_hist ? dist_out + item * n_max : 0,
                             stream_key(seed ^ RES_SALT, e0 + e, smp), res, res_sign, nres, -1, -1, -1, &score,
                             &alt_total, &margin);
        status_out[item] = st;
        margin_out[item] = margin;
        score_out[item] = score;
        if (nres > 0) alt_total_out[item] = alt_total;
        mjj_out[item] = itm.topst[2] >= 2.0 ? pair_mass(&itm) : qk_nan();
    }
}

// Dijet mass of alternative j of item it: its history replayed, res[it, j, 1:] forced at step res[it, j, 0].
extern "C" __global__ void qk_alternatives(const double* p4, const i64* counts, const double* R, i64 n_max, int p,
                                           double alpha, i64 n_samples, u64 seed, i64 e0, double ptmin, int m_alt,
                                           const i64* res, i64 work0, i64 n_work, i64 ncap, double* dbuf,
                                           i64* ibuf, double* mjj_out) {
    FOR_EACH_WORK_ITEM(w, n_work) {
        i64 wk = work0 + w;
        i64 item = wk / m_alt;
        i64 e = item / n_samples;
        i64 smp = item - e * n_samples;
        const i64* r = res + wk * 3;
        if (r[0] < 0) {
            mjj_out[wk] = qk_nan();
            continue;
        }
        Item itm;
        item_setup(&itm, dbuf, ibuf, w, n_work, n_max, ncap);
        double score, alt_total, margin;
        cluster_one(&itm, p4 + e * n_max * 4, counts[e], R[e], p, alpha, 0, stream_key(seed, e0 + e, smp),
                    ptmin * ptmin, 0, 0, 0ULL, 0, 0, 0, r[0], r[1], r[2], &score, &alt_total, &margin);
        mjj_out[wk] = itm.topst[2] >= 2.0 ? pair_mass(&itm) : qk_nan();
    }
}

// Final jets (sorted by decreasing pt^2, stable) and particle -> jet rank from merge histories.
// Scratch per item (column-major as above): doubles 9 N, integers 5 N (N = max(n_max, 1)).
extern "C" __global__ void qk_replay(const double* p4, const i64* counts, i64 n_max, i64 n_samples,
                                     const i64* hist, i64 item0, i64 n_work, double* dbuf, i64* ibuf,
                                     double* jets_out, i64* njets_out, i64* label_out) {
    FOR_EACH_WORK_ITEM(w, n_work) {
        i64 item = item0 + w;
        i64 e = item / n_samples;
        i64 n = counts[e];
        i64 N = n_max > 0 ? n_max : 1;
        i64 st = n_work;
        double* mom = dbuf + w;           // 4 * 2N
        double* pt2 = mom + 8 * N * st;   // N
        i64* fin = ibuf + w;              // 2N
        i64* parent = fin + 2 * N * st;   // 2N
        i64* fid = parent + 2 * N * st;   // N
#define S(arr, k) arr[(i64)(k) * st]
        for (i64 k = 0; k < 2 * n; ++k) {
            S(fin, k) = -1;
            S(parent, k) = -1;
        }
        for (i64 i = 0; i < n; ++i)
            for (int q = 0; q < 4; ++q) S(mom, 4 * i + q) = p4[(e * n_max + i) * 4 + q];
        i64 nxt = n, nj = 0;
        const i64* h = hist + item * n_max * 2;
        for (i64 t = 0; t < n; ++t) {
            i64 a = h[2 * t], b = h[2 * t + 1];
            if (b >= 0) {
                for (int q = 0; q < 4; ++q) S(mom, 4 * nxt + q) = S(mom, 4 * a + q) + S(mom, 4 * b + q);
                S(parent, a) = nxt;
                S(parent, b) = nxt;
                nxt += 1;
            } else {
                S(fid, nj) = a;
                S(pt2, nj) = S(mom, 4 * a) * S(mom, 4 * a) + S(mom, 4 * a + 1) * S(mom, 4 * a + 1);
                nj += 1;
            }
        }
        for (i64 k = 1; k < nj; ++k) {
            i64 f = S(fid, k);
            double v = S(pt2, k);
            i64 j = k - 1;
            while (j >= 0 && S(pt2, j) < v) {
                S(fid, j + 1) = S(fid, j);
                S(pt2, j + 1) = S(pt2, j);
                j -= 1;
            }
            S(fid, j + 1) = f;
            S(pt2, j + 1) = v;
        }
        for (i64 k = 0; k < nj; ++k) {
            S(fin, S(fid, k)) = k;
            for (int q = 0; q < 4; ++q) jets_out[(item * n_max + k) * 4 + q] = S(mom, 4 * S(fid, k) + q);
        }
        njets_out[item] = nj;
        for (i64 i = 0; i < n; ++i) {
            i64 k = i;
            while (S(fin, k) < 0) k = S(parent, k);
            label_out[item * n_max + i] = S(fin, k);
        }
#undef S
    }
}
