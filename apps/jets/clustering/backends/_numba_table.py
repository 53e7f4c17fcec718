"""FastJet's history table from merge histories, in one numba pass per history.

Used by :mod:`apps.jets.clustering.interface` (``_HistoryTable``): entries ``0..N−1`` are the
particles, ``N + t`` step t; a merge's four-momentum is the E-scheme sum of its
parents' (the same doubles as the NumPy formulation it replaces).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["fill_history_table"]


@nb.njit(cache=True, nogil=True)
def fill_history_table(hist, dist, N, mom, parent1, parent2, child, dij, beam):
    """Fill parent1/parent2/child/dij/mom of every history (rows of ``hist``: (n_items, n_max, 2)).

    ``mom[:, :n_max]`` must hold the particles, the other arrays their "none" values;
    ``beam`` is the parent2 code of a beam step. Returns False when a step names a
    negative jet (a corrupt history), True otherwise.
    """
    n_it, n_max = hist.shape[0], hist.shape[1]
    H = parent1.shape[1]
    jet_hist = np.empty(H, np.int64)
    for it in range(n_it):
        n = N[it]
        for k in range(H):
            jet_hist[k] = k if k < n_max else -1
        merges = 0
        for t in range(n):
            a = hist[it, t, 0]
            b = hist[it, t, 1]
            if a < 0 or b < -1:
                return False
            h = n + t
            ha = jet_hist[a]
            parent1[it, h] = ha
            child[it, ha] = h
            dij[it, h] = dist[it, t]
            if b >= 0:
                hb = jet_hist[b]
                parent2[it, h] = hb
                child[it, hb] = h
                jet_hist[n + merges] = h
                for q in range(4):
                    mom[it, h, q] = mom[it, ha, q] + mom[it, hb, q]
                merges += 1
            else:
                parent2[it, h] = beam
    return True
