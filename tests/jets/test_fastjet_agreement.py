"""Deterministic anti-kT identical to PyPI's fastjet (awkward interface)."""

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


def _compare(events, R):
    res = J.cluster(events, R)
    jets = res.inclusive_jets(0.0)
    arr = events.to_awkward(with_name=None)
    cs = fastjet.ClusterSequence(arr, fastjet.JetDefinition(fastjet.antikt_algorithm, R))
    fj = cs.inclusive_jets()
    fci = cs.constituent_index()
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
            cons_f = [sorted(np.asarray(fci[e][k]).tolist()) for k in order]
            cons_o = [c.tolist() for c in res.constituent_indices(e, 0, 0.0)]
            if rel <= 1e-9 and cons_f == cons_o:
                n_ok += 1
        n_jets += len(fp)
    return n_ok, n_jets, worst


@pytest.mark.parametrize("R", [0.4, 0.8, 1.2])
def test_identical_to_fastjet(events, R):
    n_ok, n_jets, worst = _compare(events, R)
    print(f"R = {R}: {n_ok}/{len(events)} events identical ({n_jets} jets), worst relative diff {worst:.2e}")
    assert n_ok == len(events)
    assert worst <= 1e-9


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
