"""The engine's fast paths give what the plain ones give.

* the per-event shared initial state of the CPU backend (``shared=True``) against every
  history building its own, output by output, bit for bit;
* the candidate pick by bisection of running sums against the sequential scan it
  replaced, on weight lists with zeros and ties;
* the one-pass numba screen of ``check_events`` never lets through what the array
  checks refuse (and lets valid events through, or it would save nothing).
"""

from __future__ import annotations

import numpy as np
import pytest

import apps.jets as J
from apps.jets.clustering.backends import cpu
from apps.jets.clustering.backends._numba_check import maybe_bad
from apps.jets.clustering.backends._numba_steps import new_state, pick_candidate
from apps.jets.clustering.backends.protocol import Job, empty_batch
from apps.jets.clustering.engine import _E_TOL, MAX_MOMENTUM, _check_events_array


@pytest.fixture(scope="module")
def small():
    ev = J.load_default_events().subset(slice(0, 12))
    return np.ascontiguousarray(ev.p4), ev.counts.astype(np.int64)


def _run(p4, counts, alpha, p, ns, n_alt, shared):
    job = Job(p4, counts, np.full(len(counts), 0.7), p, alpha, ns, 5, 10.0, 3)
    out = empty_batch(np, len(counts) * ns, p4.shape[1], True, n_alt)
    cpu.run_batch(job.p4, job.counts, job.R, job.p, job.alpha, False, ns, np.uint64(job.seed), np.int64(3),
                  job.ptmin, True, out.history, out.dij, out.mjj, out.score, out.reservoir, out.reservoir_sign,
                  out.alt_total, out.status, out.margin, shared)
    return out


@pytest.mark.parametrize("alpha, p", [(1.0, -1), (0.0, -1), (4.0, 0), (0.5, 1)])
def test_shared_initial_state_is_bit_identical(small, alpha, p):
    p4, counts = small
    a = _run(p4, counts, alpha, p, 3, 2, True)
    b = _run(p4, counts, alpha, p, 3, 2, False)
    for name, x, y in zip(a._fields, a, b):
        assert np.array_equal(x, y, equal_nan=True), name
    assert (a.history[:, :, 1] >= 0).any()  # merges happened: the comparison is not vacuous


def test_engine_shares_when_it_pays(small):
    p4, counts = small
    be = cpu.CpuBackend()
    assert be.shared(Job(p4, counts, np.full(12, 0.7), -1, 1.0, 4, 1, 0.0))
    assert not be.shared(Job(p4, counts, np.full(12, 0.7), -1, 1.0, 1, 1, 0.0))
    assert not be.shared(Job(p4, counts, np.full(12, 0.7), -1, None, 1, 1, 0.0))


def _scan(target, pw, bw):
    """The sequential pick (pairs, then beams) that bisection replaced: (pair index or −1, beam or −1)."""
    acc = 0.0
    lastp = -1
    for c, w in enumerate(pw):
        if w > 0.0:
            lastp = c
        prev = acc
        acc += w
        if target < acc and w > 0.0:
            return c, -1, min(target - prev, acc - target)
    last_ok, prev = -1, acc
    for i, w in enumerate(bw):
        if w > 0.0:
            last_ok, prev = i, acc
            acc += w
            if target < acc:
                break
    if last_ok >= 0:
        return -1, last_ok, max(min(target - prev, acc - target), 0.0)
    return lastp, -1, 0.0


def test_pick_by_bisection_equals_the_sequential_scan():
    rng = np.random.default_rng(3)
    n = 12
    for trial in range(300):
        Js, P, bw = new_state(n, False)
        npair = int(rng.integers(0, 40))
        w = rng.choice([0.0, 0.0, 1.0, 0.25, 1e-300], npair) * (rng.random(npair) < 0.8)
        w = np.where(w == 1.0, rng.random(npair), w)
        beams = np.where(rng.random(n) < 0.3, rng.random(n), 0.0)
        if w.sum() + beams.sum() == 0:
            beams[0] = 1.0
        for c in range(npair):
            P.pa[c], P.pb[c], P.pd[c], P.pw[c] = c % n, (c + 1) % n, 1.0 + c, w[c]
        acc = 0.0
        for c in range(npair):  # running sums strictly in list order, as pair_weights stores them
            acc += w[c]
            P.pc[c] = acc
        Js.slot_of[:n] = np.arange(n)
        Js.s[:n] = 1.0
        bw[:] = beams
        W = acc + sum(beams[beams > 0])
        for u in list(rng.random(20)) + [0.0, 0.999999999999]:
            target = u * W
            ci, cj, d, c, cpair, gap = pick_candidate(target, npair, n, 1.0, Js, P, bw)
            ref_pair, ref_beam, ref_gap = _scan(target, w, beams)
            if ref_pair >= 0:
                assert (cpair, c, ci, cj) == (ref_pair, 1.0, ref_pair % n, (ref_pair + 1) % n), (trial, u)
            else:
                assert (cpair, cj, ci) == (-1, -1, ref_beam), (trial, u)
            assert gap == ref_gap


def test_screen_lets_valid_events_through():
    ev = J.load_default_events()
    assert not maybe_bad(np.ascontiguousarray(ev.p4), ev.counts.astype(np.int64), MAX_MOMENTUM, _E_TOL)


def test_screen_never_passes_what_the_array_checks_refuse():
    rng = np.random.default_rng(11)
    base = np.ascontiguousarray(J.load_default_events().subset(slice(0, 3)).p4)
    counts = np.array([40, 0, 55], np.int64)
    refused = 0
    for trial in range(400):
        p4 = base.copy()
        e = int(rng.choice([0, 2]))
        i = int(rng.integers(0, counts[e]))
        kind = trial % 7
        px, py, pz = p4[e, i, :3]
        pn = np.sqrt(px * px + py * py + pz * pz)
        if kind == 0:  # E just below or above the tachyonic tolerance
            p4[e, i, 3] = pn * (1 - _E_TOL * rng.uniform(0.5, 1.5))
        elif kind == 1:
            p4[e, i, rng.integers(0, 4)] = rng.choice([np.nan, np.inf, -np.inf])
        elif kind == 2:
            p4[e, i, rng.integers(0, 4)] = MAX_MOMENTUM * rng.uniform(0.9, 1.1)
        elif kind == 3:
            p4[e, i] = 0.0
        elif kind == 4:
            p4[e, i, 3] = 0.0
        elif kind == 5:  # Σ|E| near the limit
            p4[e, : counts[e], 3] = MAX_MOMENTUM / counts[e] * rng.uniform(0.9, 1.2)
            p4[e, : counts[e], :3] = 0.0
            p4[e, : counts[e], 2] = p4[e, : counts[e], 3]
        else:
            p4[e, i, :3] *= 1e-200  # squared momenta underflow
        p4[1, 0] = np.nan  # padding of the empty event: never looked at
        try:
            _check_events_array(p4, counts)
        except ValueError:
            refused += 1
            assert maybe_bad(p4, counts, MAX_MOMENTUM, _E_TOL), trial
    assert refused > 100  # the perturbations reach the refusals
