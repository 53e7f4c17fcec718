"""FastJet's ``inclusive_jets`` straight from merge histories, in one numba pass per history.

Used by :meth:`apps.jets.ClusterSequence.inclusive_jets` when it needs nothing else of
FastJet's history table: the jets that went to the beam, latest step first (FastJet's
order), with ``pT² ≥ ptmin²``. A merged jet's four-momentum is the E-scheme sum of its
parents' in the history's order (``a`` then ``b``), the same doubles as the history table
(``_numba_table.fill_history_table``) and as the engine's replay.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["inclusive_from_history"]


@nb.njit(cache=True, nogil=True)
def inclusive_from_history(p4, counts, n_samples, hist, ptmin2, out, n_out):
    """Fill ``out`` (flat jets, item by item) and ``n_out`` (jets per item); returns the total, −1 if corrupt.

    Args:
        p4, counts: the padded events ``(n_events, n_max, 4)`` and ``(n_events,)``.
        n_samples: histories per event (item ``it`` is event ``it // n_samples``).
        hist: ``(n_items, n_max, 2)`` merge histories (``b = −1``: ``a`` goes to the beam).
        ptmin2: the pT² threshold (``min_pt * min_pt``).
        out: ``(≥ Σ counts over items, 4)`` receives the jets; n_out: ``(n_items,)``.

    Returns:
        The number of jets written, or −1 when a step names a negative jet (a corrupt history).
    """
    n_items = hist.shape[0]
    n_max = hist.shape[1]
    mom = np.empty((max(2 * n_max, 1), 4))
    tot = 0
    for it in range(n_items):
        e = it // n_samples
        n = counts[e]
        for i in range(n):
            for q in range(4):
                mom[i, q] = p4[e, i, q]
        nxt = n
        for t in range(n):
            a = hist[it, t, 0]
            b = hist[it, t, 1]
            if a < 0 or a >= nxt or b < -1 or b >= nxt:
                return -1
            if b >= 0:
                for q in range(4):
                    mom[nxt, q] = mom[a, q] + mom[b, q]
                nxt += 1
        c = 0
        for t in range(n - 1, -1, -1):  # latest beam step first, as FastJet
            if hist[it, t, 1] == -1:
                a = hist[it, t, 0]
                if mom[a, 0] * mom[a, 0] + mom[a, 1] * mom[a, 1] >= ptmin2:
                    for q in range(4):
                        out[tot, q] = mom[a, q]
                    tot += 1
                    c += 1
        n_out[it] = c
    return tot
