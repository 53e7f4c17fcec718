"""Deterministic anti-kT, kt and Cambridge/Aachen identical to PyPI's fastjet (awkward interface).

Convention checked here: the generalised-kt power p (−1, 0, 1) gives FastJet's
antikt_algorithm, cambridge_algorithm and kt_algorithm (jet scale 1/kt², 1, kt²).
"""

import numpy as np
import pytest

pytest.importorskip("numba")
fastjet = pytest.importorskip("fastjet")
pytest.importorskip("awkward")

import apps.jets as J  # noqa: E402


@pytest.fixture(scope="module")
def events(default_events):
    """The embedded 300 events plus 500 freshly generated ones (≈ 7 s of Pythia)."""
    pytest.importorskip("pythia8mc")
    gen = J.generate_events(500, seed=4242, progress=False)
    n_max = max(gen.p4.shape[1], default_events.p4.shape[1])
    p4 = np.zeros((800, n_max, 4))
    p4[:300, : default_events.p4.shape[1]] = default_events.p4
    p4[300:, : gen.p4.shape[1]] = gen.p4
    return J.Events(p4, np.concatenate([default_events.counts, gen.counts]))


ALGORITHMS = {-1: "antikt_algorithm", 0: "cambridge_algorithm", 1: "kt_algorithm"}


def _compare(events, R, p=-1):
    res = J.cluster(events, R, p=p)
    jets = res.inclusive_jets(0.0)
    arr = events.to_awkward(with_name=None)
    cs = fastjet.ClusterSequence(arr, fastjet.JetDefinition(getattr(fastjet, ALGORITHMS[p]), R))
    fj = cs.inclusive_jets()
    fci = cs.constituent_index().to_list()
    labels = res.constituents(0.0)[:, 0]
    px, py, pz, E = (np.asarray(__import__("awkward").flatten(fj[c])) for c in ("px", "py", "pz", "E"))
    nj_fj = np.asarray(__import__("awkward").num(fj))
    offs = np.concatenate([[0], np.cumsum(nj_fj)])
    n_ok, n_jets, worst = 0, 0, 0.0
    for e in range(len(events)):
        sl = slice(offs[e], offs[e + 1])
        fp = np.stack([px[sl], py[sl], pz[sl], E[sl]], axis=1)
        order = np.argsort(-(fp[:, 0] ** 2 + fp[:, 1] ** 2), kind="stable")
        fp = fp[order]
        ours = jets[e, 0]
        same_n = len(ours) == len(fp)
        if same_n:
            rel = np.max(np.abs(ours - fp) / np.maximum(np.abs(fp), 1e-300)[:, 3:4]) if len(fp) else 0.0
            worst = max(worst, rel)
            cons_f = [sorted(fci[e][k]) for k in order]
            lab = labels[e, : events.counts[e]]
            cons_o = [np.flatnonzero(lab == j).tolist() for j in range(len(fp))]
            if rel <= 1e-9 and cons_f == cons_o:
                n_ok += 1
        n_jets += len(fp)
    return n_ok, n_jets, worst


@pytest.mark.parametrize("p", [-1, 0, 1], ids=["antikt", "cambridge", "kt"])
@pytest.mark.parametrize("R", [0.4, 0.8, 1.2])
def test_identical_to_fastjet(events, R, p):
    n_ok, n_jets, worst = _compare(events, R, p)
    print(f"{ALGORITHMS[p]} R = {R}: {n_ok}/{len(events)} events identical ({n_jets} jets), "
          f"worst relative diff {worst:.2e}")
    assert n_ok == len(events)
    assert worst <= 1e-9


def test_constituent_indices_selector(default_events):
    res = J.cluster(default_events.subset(slice(0, 5)), 0.8)
    lab = res.constituents(0.0)
    for e in range(5):
        got = res.constituent_indices(e, 0, 0.0)
        assert sorted(np.concatenate(got).tolist()) == list(range(int(default_events.counts[e])))
        for j, idx in enumerate(got):
            assert np.all(lab[e, 0, idx] == j)


def test_mjj_matches_fastjet(default_events):
    ak = pytest.importorskip("awkward")
    R = 0.8
    arr = default_events.to_awkward(with_name=None)
    cs = fastjet.ClusterSequence(arr, fastjet.JetDefinition(fastjet.antikt_algorithm, R))
    fj = cs.inclusive_jets(20.0)
    ours = J.cluster(default_events, R).mjj(20.0)[:, 0]
    fast, _ = J.sample_mjj_and_score(default_events.p4, default_events.counts, R, None, 1, 0)
    for e in range(len(default_events)):
        p = np.stack([np.asarray(fj[e][c]) for c in ("px", "py", "pz", "E")], axis=1)
        if len(p) < 2:
            assert np.isnan(ours[e]) and np.isnan(fast[e, 0])
            continue
        p = p[np.argsort(-(p[:, 0] ** 2 + p[:, 1] ** 2))][:2].sum(axis=0)
        m = np.sqrt(max(p[3] ** 2 - p[0] ** 2 - p[1] ** 2 - p[2] ** 2, 0.0))
        assert ours[e] == pytest.approx(m, rel=1e-9)
        assert fast[e, 0] == pytest.approx(m, rel=1e-9)
    assert ak is not None


@pytest.mark.parametrize("p", [-1, 0, 1], ids=["antikt", "cambridge", "kt"])
def test_beam_particles_and_duplicates_like_fastjet(p):
    """Particles along the beam (kt² = 0: kt scale 0, anti-kT scale 1e300) and exact duplicates
    (ΔR² = 0, C/A ties): the same jets (as constituent sets) as FastJet."""
    ak = pytest.importorskip("awkward")
    from .conftest import make_event

    rng = np.random.default_rng(7)
    alg = getattr(fastjet, ALGORITHMS[p])
    for trial in range(40):
        n = int(rng.integers(2, 60))
        ev = make_event(rng.uniform(1, 50, n), rng.uniform(-2, 2, n), rng.uniform(0, 6.3, n))
        k = rng.integers(0, n, size=int(rng.integers(1, 3)))
        ev[k, :2] = 0.0
        ev[k, 3] = np.abs(ev[k, 2])
        if trial % 2:
            ev = np.concatenate([ev, ev[:3]])
        arr = ak.Array([[dict(px=a, py=b, pz=c, E=d) for a, b, c, d in ev]])
        cs = fastjet.ClusterSequence(arr, fastjet.JetDefinition(alg, 0.6))
        want = sorted(sorted(c) for c in cs.constituent_index().to_list()[0])
        got = sorted(c.tolist() for c in J.cluster(ev, 0.6, p=p).constituent_indices(0, 0, 0.0))
        assert got == want, f"trial {trial}"
