"""A one-pass numba screen of padded events before the engine's NumPy checks.

:func:`maybe_bad` reads every particle once and answers whether the engine's checks
(:func:`apps.jets.clustering.engine.check_events`) *might* refuse something. It is conservative:
whenever it says False, every one of those checks passes; when it says True, the NumPy
checks run and decide (and name the event). It saves the NumPy passes (≈ 12 µs per
event of ≈ 100 particles) on valid input, the usual case.
"""

from __future__ import annotations

import math

import numba as nb

__all__ = ["maybe_bad"]


@nb.njit(cache=True, nogil=True, error_model="numpy")
def maybe_bad(p4, counts, max_momentum, e_tol):
    """True when some particle inside ``counts`` may be non-finite, above ``max_momentum``,
    tachyonic beyond (a little less than) ``e_tol``, has E = 0, or an event's Σ|E| is
    near or above ``max_momentum``; also for counts outside [0, n_max]."""
    n_ev, n_max = p4.shape[0], p4.shape[1]
    for e in range(n_ev):
        n = counts[e]
        if n < 0 or n > n_max:
            return True
        esum = 0.0
        for i in range(n):
            px = p4[e, i, 0]
            py = p4[e, i, 1]
            pz = p4[e, i, 2]
            E = p4[e, i, 3]
            if not (abs(px) <= max_momentum and abs(py) <= max_momentum and abs(pz) <= max_momentum
                    and abs(E) <= max_momentum):
                return True  # also NaN (comparisons false) and inf
            if E == 0.0:
                return True  # all-zero, or tachyonic
            p = math.sqrt(px * px + py * py + pz * pz)
            if E < p - 0.99 * e_tol * max(abs(E), p):
                return True
            esum += abs(E)
        if esum > 0.5 * max_momentum:
            return True
    return False
