"""Exact enumeration of every Qanti-kT history of a small event (reference for tests).

Plain Python, independent of the numba kernel: same distances (FastJet's rapidity,
φ and ``s = 1/kt²``), all candidates kept (no weight cut-off), probabilities from
log-weights normalised with log-sum-exp. Histories use the engine's numbering (see
:class:`~apps.jets.ClusterResult`): a tuple of ``(a, b)`` steps.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["exact_histories", "MAX_EXACT_PARTICLES"]

MAX_EXACT_PARTICLES = 7


def _scale(kt2, power):
    """FastJet's jet scale kt^(2p) (anti-kT: 1/kt², 1e300 when kt² ≤ 1e-300)."""
    if power < 0:
        return 1.0 / kt2 if kt2 > 1e-300 else 1e300
    return 1.0 if power == 0 else kt2


def _rap_phi_s(p, power=-1):
    px, py, pz, E = map(float, p)
    kt2 = px * px + py * py
    phi = 0.0 if kt2 == 0.0 else math.atan2(py, px)
    if phi < 0.0:
        phi += 2 * math.pi
    if phi >= 2 * math.pi:
        phi -= 2 * math.pi
    if E == abs(pz) and kt2 == 0.0:
        rap = math.copysign(1e5 + abs(pz), pz if pz != 0 else 1.0)
    else:
        m2 = max(0.0, (E + pz) * (E - pz) - kt2)
        epz = E + abs(pz)
        rap = 0.5 * math.log((kt2 + m2) / (epz * epz))
        if pz > 0:
            rap = -rap
    return rap, phi, _scale(kt2, power)


def _dr2(a, b):
    dphi = abs(a[1] - b[1])
    if dphi > math.pi:
        dphi = 2 * math.pi - dphi
    return dphi * dphi + (a[0] - b[0]) ** 2


def _mjj(finals, ptmin):
    hard = [p for p in finals if p[0] ** 2 + p[1] ** 2 >= ptmin * ptmin]
    if len(hard) < 2:
        return math.nan
    hard.sort(key=lambda p: -(p[0] ** 2 + p[1] ** 2))
    s = hard[0] + hard[1]
    return math.sqrt(max(s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2, 0.0))


def exact_histories(p4, R, alpha, ptmin=20.0, return_all=False, p=-1):
    """Every history of one event with its probability (and dijet mass, score).

    Args:
        p4: ``(n, 4)`` particles (n ≤ 7; the number of histories grows like (n!)²).
        R: jet radius; alpha: Qanti-kT α > 0 (None: the one anti-kT history).
        ptmin: jet pT threshold for ``mjj``.
        return_all: also return the histories and their scores.
        p: generalised-kt power of the distance (−1 anti-kT, 0 Cambridge/Aachen, 1 kt).

    Returns:
        ``(probs, mjj)`` arrays over histories; with ``return_all``,
        ``(probs, mjj, score, histories)`` where ``score`` is ∂/∂R log p(history).
    """
    p4 = np.asarray(p4, dtype=float)
    n = len(p4)
    if n > MAX_EXACT_PARTICLES:
        raise ValueError(f"exact enumeration is limited to {MAX_EXACT_PARTICLES} particles, got {n}")
    R2 = R * R
    if p not in (-1, 0, 1):
        raise ValueError(f"p = {p!r}: the generalised-kt power must be -1, 0 or 1")
    power = p
    jets0 = [(i, p4[i].copy(), _rap_phi_s(p4[i], power)) for i in range(n)]
    out_p, out_m, out_s, out_h = [], [], [], []

    def candidates(jets):
        cands = []  # (d̃, a_pos, b_pos or -1, is_pair)
        for i, (_, _, gi) in enumerate(jets):
            cands.append((gi[2] * R2, i, -1))
            for j in range(i + 1, len(jets)):
                gj = jets[j][2]
                cands.append((min(gi[2], gj[2]) * _dr2(gi, gj), i, j))
        return cands

    def step_probs(cands):
        d = np.array([c[0] for c in cands])
        pair = np.array([c[2] >= 0 for c in cands], dtype=float)
        if alpha is None:
            k = int(np.argmin(d))
            pr = np.zeros(len(d))
            pr[k] = 1.0
            return pr, np.zeros(len(d))
        kmin = int(np.argmin(d))
        dmin = d[kmin]
        if dmin == 0.0 or alpha == 0.0:
            ok = d == 0.0 if alpha > 0 else np.ones(len(d), bool)
            return ok / ok.sum(), np.zeros(len(d))
        r = d / dmin
        logw = -alpha * (r - 1.0)
        w = np.exp(logw - logw.max())
        pr = w / w.sum()
        g = (2 * alpha / R) * r * (pair - pair[kmin])
        return pr, g - np.dot(pr, g)

    def rec(jets, hist, logp, score, finals, nmerge):
        if not jets:
            out_p.append(math.exp(logp))
            out_m.append(_mjj(finals, ptmin))
            out_s.append(score)
            out_h.append(tuple(hist))
            return
        cands = candidates(jets)
        pr, dlog = step_probs(cands)
        for k, (_, a, b) in enumerate(cands):
            if pr[k] <= 0.0:
                continue
            if b < 0:
                rest = jets[:a] + jets[a + 1:]
                rec(rest, hist + [(jets[a][0], -1)], logp + math.log(pr[k]), score + dlog[k],
                    finals + [jets[a][1]], nmerge)
            else:
                ia, ib = jets[a][0], jets[b][0]
                q = jets[a][1] + jets[b][1]
                new = (n + nmerge, q, _rap_phi_s(q, power))
                rest = [j for k2, j in enumerate(jets) if k2 not in (a, b)] + [new]
                rec(rest, hist + [(min(ia, ib), max(ia, ib))], logp + math.log(pr[k]), score + dlog[k],
                    finals, nmerge + 1)

    rec(jets0, [], 0.0, 0.0, [], 0)
    probs, mjj = np.array(out_p), np.array(out_m)
    if return_all:
        return probs, mjj, np.array(out_s), out_h
    return probs, mjj
