"""The sampled clustering's branch-free step pieces give what the scans they replaced give.

* ``first_min`` (an int64 minimum over the bit patterns of non-negative doubles, then a
  search for the first index holding it) against the strict ``<`` scan from inf in slot
  order, on rows with exact ties, zeros and infinities;
* ``nn_scan`` in its row mode (the sampled clustering's) against its fused mode (the
  deterministic clustering's) on a lattice of jets with exact ΔR² ties.

The whole sampled kernel was also compared bit for bit with the code before this change
(histories, distances, scores, margins, reservoirs and alternatives on the embedded
events and on crafted tie events): see docs/jets_engine.md.
"""

from __future__ import annotations

import numpy as np

from apps.jets.clustering.backends._numba_steps import first_min, nn_scan


def _strict_scan(row, m):
    best, bi = np.inf, -1
    for j in range(m):
        if row[j] < best:
            best, bi = row[j], j
    return best, bi


def test_first_min_is_the_strict_scan():
    rng = np.random.default_rng(7)
    for trial in range(400):
        m = int(rng.integers(1, 40))
        row = rng.choice([0.0, 0.25, 0.5, 1.0, 3.0, np.inf, 5e-324, 1e300], m)
        row = np.where(rng.random(m) < 0.3, rng.random(m), row)
        got = first_min(row, m)
        ref = _strict_scan(row, m)
        assert got[1] == ref[1] and np.array_equal(np.float64(got[0]), np.float64(ref[0])), (trial, row)
    assert first_min(np.full(5, np.inf), 5) == (np.inf, -1)
    row = np.array([2.0, 1.0, 1.0, 0.5, 0.5, 0.0])
    assert first_min(row, 3) == (1.0, 1)  # only the first m entries count; the first of a tie wins


def test_nn_scan_row_mode_equals_fused_mode_on_ties():
    # a lattice with exactly representable coordinates: many exactly equal ΔR²
    y, f = np.meshgrid(np.arange(6) * 0.25, 1.0 + np.arange(5) * 0.5)
    rap, phi = y.ravel().copy(), f.ravel().copy()
    rap[7] = rap[8]
    phi[7] = phi[8]  # an exact duplicate (ΔR² = 0)
    m = rap.size
    for k in range(m):
        a = (np.empty(m), np.empty(m, np.int64))
        b = (np.empty(m), np.empty(m, np.int64))
        nn_scan(k, m, rap, phi, a[0], a[1], np.empty(m), True)
        nn_scan(k, m, rap, phi, b[0], b[1], np.empty(m), False)
        assert a[1][k] == b[1][k] and a[0][k] == b[0][k], k
        assert a[1][k] != k
