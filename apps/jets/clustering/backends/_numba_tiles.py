"""Deterministic clustering with tiles (numba): the N2Plain merges, NN searches over 3×3 tiles.

FastJet's N2Tiled idea. The (rapidity, φ) plane is cut into tiles at least R (times
1 + 1e-6) wide, each holding its jets in a doubly linked list; a jet's nearest-neighbour
(NN) search and the merged jet's updates visit only its own and the 8 surrounding tiles.
Two jets in tiles further apart are more than R apart, so a pair the step functions can
choose (ΔR² < R², see ``diJ``) is never missed.

**Same merges, same doubles as** ``cpu.cluster_state`` **(N2Plain).** There, ``nnd[k]``
is the exact distance to k's geometric NN; here it is the distance to the nearest jet
*found* (≥ the exact one, ``inf`` when no jet is in reach). Invariant, kept by every
step: whenever the exact NN distance is < R², both hold the same NN (same slot) and the
same distance, hence the same ``diJ``; otherwise both are ≥ R² and ``diJ`` is the beam
distance in both. Ties resolve as in N2Plain: scans take the smallest slot among equal
distances (N2Plain scans slots in order), and the merged jet replaces a jet's NN only
when strictly closer. Tested bit for bit against the plain kernel
(``tests/jets/test_engine_tiles.py``), FastJet agreement unchanged.

The initial NNs (before the first step) are exact, so they satisfy the invariant: up to
``ROWS_UP_TO`` particles (or with few tiles) they come from :func:`rows_nn` (each jet's row
of ΔR² in one vectorised loop, then a vectorised minimum over the doubles' bits), beyond
from the 3×3 tile scans. Where the tiles hold few jets each (particles × tiles ≤
``ROWS_STEPS``) the steps search by rows too: the merged jet's row updates every jet it is
strictly closer to (as N2Plain), and a jet that lost its NN gets its exact NN back —
exact NNs, so the invariant holds either way.

The sampled clustering keeps the plain kernel: its candidates include pairs beyond R.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ._numba_steps import det_choice, diJ, fill_row, first_min_bits, keep_top
from ._numba_util import OPTS, TWOPI, dist, set_jet

_opts = OPTS
TILE_MARGIN = 1.0 + 1e-6  # tiles are at least R·TILE_MARGIN wide (rounding of the tile index)
MAX_TILES_1D = 64  # at most 64 × 64 tiles (tiny R: tiles wider than R, still correct)
ROWS_UP_TO = 600  # initial NNs from vectorised rows up to this many particles, or with ≤ ROWS_TILES tiles
ROWS_TILES = 64  # (measured: rows faster at ≈ 100–420 particles for R = 0.4–1.2 and up to ≈ 1600 at R = 0.8)
ROWS_STEPS = 4000  # the steps' searches by rows too when particles × tiles ≤ this (≈ 100 particles at R ≳ 0.8)
YSPAN = 10.0  # tiles cover rapidities in [−10, 10] at most; the edge tiles take everything beyond


@nb.njit(inline="always", **_opts)
def use_tiles(n, R):
    """Whether the deterministic clustering uses this kernel rather than the plain one: always (measured).

    With the initial NNs from vectorised rows, the tiled kernel was faster than the plain
    one at every radius measured (embedded events, one thread: 0.67× at R = 0.8, 0.80× at
    1.2, 0.95× at 2.0, 0.87× at 4.0). Speed only: both kernels give the same results.
    """
    return True


@nb.njit(inline="always", **_opts)
def tile_of(y, f, ylo, wy, ny, wf, nf):
    """Tile index of rapidity y and φ f (edge tiles extend to ±∞ in rapidity)."""
    iy = 0
    if ny > 1:
        q = np.floor((y - ylo) / wy)
        iy = 0 if q < 0.0 else (ny - 1 if q > ny - 1 else int(q))
    ip = 0
    if nf > 1:
        q = np.floor(f / wf)
        ip = 0 if q < 0.0 else (nf - 1 if q > nf - 1 else int(q))
    return iy * nf + ip


@nb.njit(inline="always", **_opts)
def _wrap(tp, q, nf):
    """φ tile q steps from tp (q = −1, 0, 1, cyclic); with nf < 3 tiles, q itself (0..nf−1).

    Selects, not ``%``: an integer division per neighbouring tile cost ≈ 5 % per event (measured).
    """
    if nf < 3:
        return q
    c = tp + q
    c = c + nf if c < 0 else c
    return c - nf if c >= nf else c


@nb.njit(inline="always", **_opts)
def _unlink(k, head, nxt, prv, tile):
    if prv[k] >= 0:
        nxt[prv[k]] = nxt[k]
    else:
        head[tile[k]] = nxt[k]
    if nxt[k] >= 0:
        prv[nxt[k]] = prv[k]


@nb.njit(inline="always", **_opts)
def _link(k, t, head, nxt, prv, tile):
    tile[k] = t
    prv[k] = -1
    nxt[k] = head[t]
    if head[t] >= 0:
        prv[head[t]] = k
    head[t] = k


@nb.njit(inline="always", **_opts)
def _rename(src, dst, head, nxt, prv, tile):
    """The list node of slot ``src`` becomes slot ``dst`` (the tail jet moves to a freed slot)."""
    tile[dst] = tile[src]
    nxt[dst] = nxt[src]
    prv[dst] = prv[src]
    if prv[dst] >= 0:
        nxt[prv[dst]] = dst
    else:
        head[tile[dst]] = dst
    if nxt[dst] >= 0:
        prv[nxt[dst]] = dst


@nb.njit(inline="always", **_opts)
def tiled_scan(k, rap, phi, nnd, nni, head, nxt, tile, ny, nf):
    """NN of slot k among the jets of its 3×3 tiles (smallest slot wins ties, like ``nn_scan``)."""
    best = np.inf
    bi = -1
    t = tile[k]
    ty = t // nf
    tp = t - ty * nf
    qlo = 0 if nf < 3 else -1
    qhi = nf if nf < 3 else 2
    for iy in range(max(ty - 1, 0), min(ty + 2, ny)):
        for q in range(qlo, qhi):
            tt = iy * nf + _wrap(tp, q, nf)
            j = head[tt]
            while j >= 0:
                if j != k:
                    d = dist(rap, phi, k, j)
                    if d < best or (d == best and j < bi):
                        best = d
                        bi = j
                j = nxt[j]
    nnd[k] = best
    nni[k] = bi


@nb.njit(inline="always", **_opts)
def rows_nn(n, rap, phi, nnd, nni, row):
    """Every jet's exact NN (ΔR², slot; smallest slot wins ties, ``(inf, −1)`` alone), row by row.

    Each row of ΔR² is one vectorised loop (:func:`fill_row`), its first minimum a
    vectorised integer reduction (:func:`first_min_bits`). The same NNs and doubles as
    ``init_jets``' pair loop and ``nn_scan`` (exact NNs satisfy the tiles' invariant).
    """
    bits = row.view(np.int64)
    for i in range(n):
        fill_row(i, n, rap, phi, row)
        nnd[i], nni[i] = first_min_bits(row, bits, n)


@nb.njit(**_opts)
def cluster_det_tiled(p4, n, p, R, ptmin2, J, hist, hdist, top):
    """Deterministic generalised-kt clustering of one event with tiles; returns ``n_top``.

    The same history, distances and top-two jets as ``cpu.cluster_state`` with ``det``
    (see the module docstring); ``J`` is the scratch of ``new_state(n, True)``.
    """
    R2 = R * R
    jp, rap, phi, s, nnd, nni, jid = J.jp, J.rap, J.phi, J.s, J.nnd, J.nni, J.jid
    dij, slot_of, flag = J.dij, J.slot_of, J.flag
    topst = np.array([-1.0, -1.0, 0.0])
    if n == 0:
        return 0
    ylo = np.inf
    yhi = -np.inf
    for i in range(n):
        set_jet(i, p4[i, 0], p4[i, 1], p4[i, 2], p4[i, 3], p, jp, rap, phi, s)
        jid[i] = i
        slot_of[i] = i
        ylo = min(ylo, rap[i])
        yhi = max(yhi, rap[i])
    ylo = max(ylo, -YSPAN)
    yhi = min(yhi, YSPAN)
    w = R * TILE_MARGIN
    ny = 1
    wy = 1.0
    if yhi - ylo >= 2.0 * w:
        ny = min(int((yhi - ylo) / w), MAX_TILES_1D)
        wy = (yhi - ylo) / ny
        if wy < w:  # rounding: never narrower than w
            ny -= 1
            wy = (yhi - ylo) / ny
    nf = min(int(TWOPI / w), MAX_TILES_1D)
    if nf < 1:
        nf = 1
    wf = TWOPI / nf
    if nf > 1 and wf < w:
        nf -= 1
        wf = TWOPI / nf
    head = np.full(ny * nf, -1, np.int64)
    nxt = np.empty(n, np.int64)
    prv = np.empty(n, np.int64)
    tile = np.empty(n, np.int64)
    for i in range(n):
        _link(i, tile_of(rap[i], phi[i], ylo, wy, ny, wf, nf), head, nxt, prv, tile)
    rows = n * ny * nf <= ROWS_STEPS  # the steps' NN searches by rows too (few tiles for the jets: measured faster)
    row = J.row
    bits = row.view(np.int64)
    if rows or n <= ROWS_UP_TO or ny * nf <= ROWS_TILES:
        rows_nn(n, rap, phi, nnd, nni, row)
    else:
        for i in range(n):
            tiled_scan(i, rap, phi, nnd, nni, head, nxt, tile, ny, nf)
    for i in range(n):
        dij[i] = diJ(i, s, nnd, nni, R2)
    m = n
    nmerge = 0
    for t in range(n):
        if m == 1:
            ci, cj, dch = 0, -1, s[0]
        else:
            ci, cj, dch = det_choice(m, R2, J)
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
            _unlink(b, head, nxt, prv, tile)
            ta = tile_of(rap[a], phi[a], ylo, wy, ny, wf, nf)
            if ta != tile[a]:
                _unlink(a, head, nxt, prv, tile)
                _link(a, ta, head, nxt, prv, tile)
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
            _unlink(ci, head, nxt, prv, tile)
        if rem != last:  # the tail jet moves into the freed slot
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
            _rename(last, rem, head, nxt, prv, tile)
            for k in range(last):
                if nni[k] == last:
                    nni[k] = rem
        m = last
        if m == 0:
            break
        if a >= 0 and rows:  # the merged jet's row: its NN, and it replaces the NN of the jets it is closer to
            fill_row(a, m, rap, phi, row)
            for k in range(m):
                d = row[k]
                if d < nnd[k] and not flag[k] and k != a:
                    nnd[k] = d
                    nni[k] = a
                    dij[k] = diJ(k, s, nnd, nni, R2)
            nnd[a], nni[a] = first_min_bits(row, bits, m)
        elif a >= 0:
            nnd[a] = np.inf
            nni[a] = -1
            ta = tile[a]
            ty = ta // nf
            tp = ta - ty * nf
            qlo = 0 if nf < 3 else -1
            qhi = nf if nf < 3 else 2
            for iy in range(max(ty - 1, 0), min(ty + 2, ny)):
                for q in range(qlo, qhi):
                    k = head[iy * nf + _wrap(tp, q, nf)]
                    while k >= 0:
                        if k != a:
                            d = dist(rap, phi, a, k)
                            if d < nnd[a] or (d == nnd[a] and k < nni[a]):
                                nnd[a] = d
                                nni[a] = k
                            if not flag[k] and d < nnd[k]:
                                nnd[k] = d
                                nni[k] = a
                                dij[k] = diJ(k, s, nnd, nni, R2)
                        k = nxt[k]
        for k in range(m):
            if flag[k] and k != a:
                if rows:
                    fill_row(k, m, rap, phi, row)
                    nnd[k], nni[k] = first_min_bits(row, bits, m)
                else:
                    tiled_scan(k, rap, phi, nnd, nni, head, nxt, tile, ny, nf)
                dij[k] = diJ(k, s, nnd, nni, R2)
        if a >= 0:
            dij[a] = diJ(a, s, nnd, nni, R2)
    return int(topst[2])


__all__ = ["cluster_det_tiled", "use_tiles", "tiled_scan", "tile_of", "rows_nn", "TILE_MARGIN", "MAX_TILES_1D", "YSPAN",
           "ROWS_UP_TO", "ROWS_TILES", "ROWS_STEPS"]
