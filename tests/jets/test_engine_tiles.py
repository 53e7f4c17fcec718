"""The tiled deterministic clustering gives the plain N2 kernel's merges, bit for bit.

``_numba_tiles.cluster_det_tiled`` (what ``cpu.cluster_one`` runs for anti-kT, kt and C/A)
against ``cpu.first_state`` + ``cpu.cluster_state`` (FastJet's N2Plain bookkeeping, the
kernel the CUDA source mirrors): history, distances, the two hardest jets and their count,
on real events at several radii (tiny to larger than the φ range) and on crafted events
whose pairs tie in ΔR² (lattices, exact duplicates, particles along the beam), where only
the same tie rule ("first index wins") gives the same history.
"""

from __future__ import annotations

import numpy as np
import pytest

import apps.jets as J
from apps.jets.clustering.backends import cpu
from apps.jets.clustering.backends._numba_steps import new_state
from apps.jets.clustering.backends._numba_tiles import cluster_det_tiled

from .conftest import make_event


def _plain(p4, n, p, R, ptmin2):
    Js, P, bw = new_state(n, True)
    hist = np.full((n, 2), -2, np.int64)
    hd = np.zeros(n)
    top = np.zeros((2, 4))
    npair, C = cpu.first_state(p4, n, p, R, 0.0, True, Js, P)
    r = cpu.cluster_state(Js, P, bw, n, npair, C, R, p, 0.0, True, np.uint64(0), ptmin2, hist, hd, top,
                          np.uint64(0), np.empty((0, 3), np.int64), np.empty(0), np.full(3, -1, np.int64))
    return hist, hd, top, r[1]


def _tiled(p4, n, p, R, ptmin2):
    Js, _, _ = new_state(n, True)
    hist = np.full((n, 2), -2, np.int64)
    hd = np.zeros(n)
    top = np.zeros((2, 4))
    ntop = cluster_det_tiled(p4, n, p, R, ptmin2, Js, hist, hd, top)
    return hist, hd, top, ntop


def _same(p4, p, R, ptmin2=100.0):
    p4 = np.ascontiguousarray(p4, dtype=np.float64)
    a = _plain(p4, len(p4), p, R, ptmin2)
    b = _tiled(p4, len(p4), p, R, ptmin2)
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(x, y)
    assert a[3] == b[3]
    return a[0]


@pytest.mark.parametrize("p", [-1, 0, 1])
@pytest.mark.parametrize("R", [0.05, 0.4, 0.8, 1.2, 2.5, 10.0])
def test_tiled_equals_plain_on_real_events(p, R):
    ev = J.load_default_events()
    merges = 0
    for e in range(0, 300, 25):
        hist = _same(ev.p4[e, :ev.counts[e]], p, R)
        merges += int((hist[:, 1] >= 0).sum())
    assert merges > 0


def _lattice(rng, n, step):
    """Particles on a (y, φ) lattice with few distinct pTs: many equal ΔR² and diJ."""
    pt = rng.choice([1.0, 2.0, 5.0, 40.0], n)
    y = rng.integers(-10, 11, n) * step
    phi = rng.integers(0, int(2 * np.pi / step), n) * step
    return make_event(pt, y, phi)


@pytest.mark.parametrize("p", [-1, 0, 1])
def test_tiled_equals_plain_on_ties(p):
    rng = np.random.default_rng(11)
    for trial in range(40):
        n = int(rng.integers(2, 90))
        if trial % 2:
            p4 = _lattice(rng, n, 0.2 if trial % 4 == 1 else 0.4)
        else:
            p4 = make_event(rng.exponential(5.0, n), rng.uniform(-3, 3, n), rng.uniform(0, 2 * np.pi, n))
            k = rng.integers(0, n, n // 2)
            p4[k[: len(k) // 2]] = p4[k[len(k) // 2: 2 * (len(k) // 2)]]  # exact duplicates
            p4[0] = [0.0, 0.0, 30.0, 30.0]  # along the beam: rapidity 1e5 + |pz|
            p4[-1] = [0.0, 0.0, -3.0, 3.0]
        for R in (0.2, 0.4, 0.8, 1.2):
            _same(p4, p, R, 25.0)


def test_tiled_tie_rule_is_exercised():
    """On a square lattice a jet has up to four NNs at the same ΔR²; the tie rule decides."""
    y, phi = np.meshgrid(np.arange(6) * 0.3, 1.0 + np.arange(6) * 0.3)
    p4 = make_event(np.full(36, 3.0), y.ravel(), phi.ravel())
    for R in (0.31, 0.5, 0.8):
        hist = _same(p4, -1, R)
        assert (hist[:, 1] >= 0).any()


def _overlay(ev, first, k):
    return np.concatenate([ev.p4[e, :ev.counts[e]] for e in range(first, first + k)])


@pytest.mark.parametrize("R", [0.3, 0.4, 0.8])
def test_both_initial_nn_searches_equal_plain(R):
    """Above ``ROWS_UP_TO`` particles (and with many tiles) the initial NNs come from the tile
    scans, below from vectorised rows; both paths give the plain kernel's history."""
    from apps.jets.clustering.backends import _numba_tiles as T

    ev = J.load_default_events()
    big = _overlay(ev, 10, 7)  # ≈ 730 particles
    assert len(big) > T.ROWS_UP_TO
    _same(big, -1, R, 400.0)
    _same(big[: T.ROWS_UP_TO], -1, R, 400.0)
