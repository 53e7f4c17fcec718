"""apps.jets.ClusterSequence against fastjet.ClusterSequence on the same events: shapes, types, values.

Both run in the test, on the shipped Pythia 8 events (plus an empty and a one-particle
event), for every method of the interface; the sampled (Q-) version is checked for
shapes, reproducibility, momentum conservation and consistency with ClusterResult.
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("numba")
ak = pytest.importorskip("awkward")
pytest.importorskip("vector")
import apps.jets as J  # noqa: E402

ALGS = [("antikt", "antikt_algorithm"), ("kt", "kt_algorithm"), ("cambridge", "cambridge_algorithm")]


@pytest.fixture(scope="module")
def events(default_events):
    """80 shipped events, then an empty event and a one-particle event (edge cases fastjet handles)."""
    sub = default_events.subset(slice(0, 80))
    p4 = np.zeros((82, sub.p4.shape[1], 4))
    p4[:80] = sub.p4
    p4[81, 0] = sub.p4[0, 0]
    return J.Events(p4, np.concatenate([sub.counts, [0, 1]]))


def _fastjet():
    return pytest.importorskip("fastjet")


def _same_type(ours, ref, rename=False):
    t_ours, t_ref = str(ak.type(ours)), str(ak.type(ref))
    if rename:  # fastjet's constituents are unnamed {px, py, pz, E} records; ours are Momentum4D
        t_ours = t_ours.replace("Momentum4D[", "{").replace("]", "}")
    assert t_ours == t_ref


def _canonical(x):
    """Per event, the jets (or index lists) sorted: for order-free comparisons."""
    return [sorted(ev, key=repr) for ev in ak.to_list(x)]


def _methods(alg):
    if alg == "cambridge":
        # C/A: every beam distance is 1, so the beam steps tie; FastJet orders them by its
        # internal (tiled) jet slots, the engine by index. The jets are the same sets: compare
        # those order-free, and exclusive jets only above the tie (dcut < 1, n_jets = all jets).
        return [
            ("inclusive_jets", {}, "sets"), ("inclusive_jets", {"min_pt": 20.0}, "sets"),
            ("exclusive_jets", {"dcut": 0.99}, "sets"), ("exclusive_jets", {"dcut": 0.25}, "sets"),
            ("exclusive_dmerge", {"njets": 2}, "rtol"), ("exclusive_dmerge_max", {"njets": 3}, "rtol"),
            ("constituents", {}, "sets-renamed"), ("constituent_index", {"min_pt": 10.0}, "sets"),
            ("unclustered_particles", {}, "exact"), ("n_exclusive_jets", {"dcut": 0.5}, "exact"),
        ]
    return [
        ("inclusive_jets", {}, "exact"), ("inclusive_jets", {"min_pt": 20.0}, "exact"),
        ("exclusive_jets", {"n_jets": 1}, "exact"), ("exclusive_jets", {"dcut": 1e-4}, "exact"),
        ("exclusive_dmerge", {"njets": 2}, "rtol"), ("exclusive_dmerge_max", {"njets": 3}, "rtol"),
        ("constituents", {}, "exact-renamed"), ("constituents", {"min_pt": 10.0}, "exact-renamed"),
        ("constituent_index", {}, "exact"), ("constituent_index", {"min_pt": 10.0}, "exact"),
        ("unclustered_particles", {}, "exact"), ("n_exclusive_jets", {"dcut": 1e-4}, "exact"),
    ]


@pytest.mark.parametrize("alg,fj_name", ALGS)
@pytest.mark.parametrize("R", [0.4, 1.2])
def test_every_method_matches_fastjet(events, alg, fj_name, R):
    fastjet = _fastjet()
    arr = events.to_awkward(with_name=None)
    ref = fastjet.ClusterSequence(arr, fastjet.JetDefinition(getattr(fastjet, fj_name), R))
    ours = J.ClusterSequence(events.to_awkward(), J.JetDefinition(getattr(J, fj_name), R))
    for name, kw, how in _methods(alg):
        if name.startswith("exclusive_jets") and "n_jets" in kw:
            sel = events.counts >= kw["n_jets"]  # fastjet raises on events with fewer particles
            ref_e = fastjet.ClusterSequence(arr[sel], fastjet.JetDefinition(getattr(fastjet, fj_name), R))
            ours_e = J.ClusterSequence(arr[sel], J.JetDefinition(alg, R))
        else:
            ref_e, ours_e = ref, ours
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            a, b = getattr(ours_e, name)(**kw), getattr(ref_e, name)(**kw)
        _same_type(a, b, rename=how.endswith("renamed"))
        if how == "rtol":  # distances: the same formula, rounding differs by a few ulp
            np.testing.assert_allclose(ak.to_numpy(a), ak.to_numpy(b), rtol=1e-10, atol=0)
        elif how.startswith("sets"):
            assert _canonical(a) == _canonical(b), (name, kw)
        else:
            assert ak.to_list(a) == ak.to_list(b), (name, kw)
    if alg == "antikt":
        assert isinstance(ours.inclusive_jets(), J.io.momentum4d(np.zeros((1, 4))).__class__)


def test_fastjet_jetdefinition_and_algorithm_constants():
    fastjet = _fastjet()
    jd = J.JetDefinition(fastjet.JetDefinition(fastjet.antikt_algorithm, 0.7))
    assert jd == J.JetDefinition(J.antikt_algorithm, 0.7) and jd.R() == 0.7 and jd.jet_algorithm() == "antikt"
    assert J.JetDefinition(fastjet.kt_algorithm, 0.5) == J.JetDefinition("kt", 0.5)
    assert J.JetDefinition(fastjet.cambridge_algorithm, 0.5).jet_algorithm() == J.cambridge_algorithm
    assert J.JetDefinition("cambridge", 1.0, alpha=2.0).p == 0 and J.JetDefinition("kt", 1.0).p == 1
    assert J.JetDefinition("antikt", 0.4, alpha=np.inf).alpha is None
    for bad in [("siscone", 0.4), ("antikt", 0.0), ("antikt", np.nan), ("antikt", 0.4, -1.0)]:
        with pytest.raises(ValueError):
            J.JetDefinition(*bad)


def test_exclusive_jets_arguments_and_errors(events):
    cs = J.ClusterSequence(events, J.JetDefinition("antikt", 0.4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match="either n_jets or dcut"):
            cs.exclusive_jets()
        with pytest.raises(ValueError, match="either n_jets or dcut"):
            cs.exclusive_jets(n_jets=2, dcut=1.0)
        with pytest.raises(ValueError, match="event 80: requested 2 exclusive jets"):
            cs.exclusive_jets(n_jets=2)
    with pytest.raises(ValueError, match="min_pt"):
        cs.inclusive_jets(min_pt=-1)
    with pytest.raises(ValueError, match="dcut"):
        cs.n_exclusive_jets(dcut=float("nan"))
    with pytest.raises(ValueError, match="n_samples"):
        J.ClusterSequence(events, J.JetDefinition("antikt", 0.4), n_samples=0)


@pytest.mark.parametrize("alg", ["antikt", "kt", "cambridge"])
def test_sampled_shapes_reproducible_and_consistent(default_events, alg):
    sub = default_events.subset(slice(0, 12))
    jd = J.JetDefinition(alg, 0.8, alpha=1.0)
    cs = J.ClusterSequence(sub.to_awkward(), jd, n_samples=5, seed=7)
    jets = cs.inclusive_jets(min_pt=5.0)
    assert str(ak.type(jets)).startswith("12 * 5 * var * Momentum4D")
    assert str(ak.type(cs.constituent_index(5.0))) == "12 * 5 * var * var * int32"
    assert str(ak.type(cs.exclusive_dmerge(2))) == "12 * 5 * float64"
    # same seed, same histories; another seed, other histories
    again = J.ClusterSequence(sub, jd, n_samples=5, seed=7).inclusive_jets(min_pt=5.0)
    assert ak.to_list(again) == ak.to_list(jets)
    other = J.ClusterSequence(sub, jd, n_samples=5, seed=8).inclusive_jets(min_pt=5.0)
    assert ak.to_list(other) != ak.to_list(jets)
    # the same jets as ClusterResult's pT-sorted selector, sample by sample
    ref = cs.result.inclusive_jets(5.0)
    lab = cs.result.constituents(5.0)
    idx = cs.constituent_index(5.0)
    for e in range(12):
        for s in range(5):
            j = np.array([[v.px, v.py, v.pz, v.E] for v in jets[e, s]]).reshape(-1, 4)
            order = np.argsort(-np.hypot(j[:, 0], j[:, 1]), kind="stable")
            np.testing.assert_allclose(j[order], ref[e, s], rtol=1e-12, atol=1e-9)
            got = sorted(tuple(c) for c in ak.to_list(idx[e, s]))
            want = sorted(tuple(np.flatnonzero(lab[e, s] == k)) for k in range(int(ref.counts[e, s])))
            assert got == want
    # exclusive jets: n_jets in every sample; dcut = 0 stops before the first step: the particles
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ex = cs.exclusive_jets(n_jets=3)
        n0 = cs.n_exclusive_jets(dcut=0.0)
        ex0 = cs.exclusive_jets(dcut=0.0)
    assert ak.all(ak.num(ex, axis=2) == 3)
    np.testing.assert_array_equal(ak.to_numpy(n0), np.repeat(sub.counts[:, None], 5, 1))
    parts = ak.sort(sub.to_awkward().px, axis=1)
    for s in (0, 4):  # the same particles, in the order the history first touches them
        assert ak.to_list(ak.sort(ex0[:, s].px, axis=1)) == ak.to_list(parts)


def test_deterministic_samples_are_copies_and_output_feeds_back(default_events):
    sub = default_events.subset(slice(0, 6))
    jd = J.JetDefinition("antikt", 0.4)
    one = J.ClusterSequence(sub, jd).inclusive_jets(min_pt=1.0)
    three = J.ClusterSequence(sub, jd, n_samples=3).inclusive_jets(min_pt=1.0)
    assert str(ak.type(three)).startswith("6 * 3 * var")
    for s in range(3):
        assert ak.to_list(three[:, s]) == ak.to_list(one)
    # jets out are a valid input: re-clustering the jets at a larger R merges them further
    re = J.ClusterSequence(one, J.JetDefinition("antikt", 1.5)).inclusive_jets()
    assert ak.all(ak.num(re) <= ak.num(one))
    np.testing.assert_allclose(ak.to_numpy(ak.sum(re.px, axis=1)), ak.to_numpy(ak.sum(one.px, axis=1)), atol=1e-9)
