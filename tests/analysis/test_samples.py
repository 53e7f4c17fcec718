"""Process definitions, cross sections carried with the events, and the physical weights."""

import json

import numpy as np
import pytest

from apps.analysis.samples import DEFAULT_FILES, background_floor, load_samples
from apps.jets.io.processes import PROCESSES, event_weight, get_process


def test_embedded_samples_carry_cross_sections_and_weights():
    s = load_samples(luminosity_fb=10.0)
    assert s.names == ("hbb", "zbb", "qcdbb") and s.is_signal.sum() == 400
    for k, name in enumerate(s.names):
        with np.load(DEFAULT_FILES[name]) as f:
            meta = json.loads(str(f["meta"]))
        assert meta["process"] == name and meta["sigma_pb"] > 0 and meta["sigma_err_pb"] < 0.1 * meta["sigma_pb"]
        w = s.weight[s.process == k]
        np.testing.assert_allclose(w, meta["sigma_pb"] * 10.0e3 / meta["n_events"])
    # physics sanity: σ(gg→H→bb̄) ≈ 15 pb at LO+shower; QCD bb̄ with these cuts ≫ Z/γ* → bb̄ ≫ H
    assert 5 < s.sigma_pb[0] < 50 and s.sigma_pb[2] > 10 * s.sigma_pb[1] > 100 * s.sigma_pb[0]
    half = load_samples(max_events=200)
    assert len(half) == 600
    np.testing.assert_allclose(half.weight[half.process == 2].sum(), load_samples().weight[s.process == 2].sum())
    assert background_floor(s, 25) == pytest.approx(25 * s.background_weights.max())


def test_bad_inputs():
    with pytest.raises(ValueError, match="unknown process"):
        get_process("ttbar")
    with pytest.raises(ValueError, match="cross section"):
        event_weight({"n_events": 3}, 1.0)
    with pytest.raises(ValueError, match="luminosity"):
        event_weight({"n_events": 3, "sigma_pb": 1.0}, 0.0)
    with pytest.raises(ValueError, match="luminosity"):
        load_samples(luminosity_fb=-1)
    with pytest.raises(ValueError, match="does not exist"):
        load_samples({"hbb": "/nonexistent.npz"})


def test_empty_or_nan_events_refused_before_fastjet():
    """FastJet segfaults on NaN momenta (seen through the CLI), so the sample and the grid refuse them."""
    from apps.analysis.grid import fastjet_observables
    from apps.jets import Events, load_events

    ev = load_events(DEFAULT_FILES["hbb"]).subset(slice(0, 5))
    p4 = ev.p4.copy()
    p4[1, 0, 2] = np.nan
    bad = Events(p4, ev.counts, None, dict(ev.meta))
    with pytest.raises(ValueError, match="non-finite"):
        load_samples({"hbb": bad, "zbb": ev})
    with pytest.raises(ValueError, match="holds no events"):
        load_samples({"hbb": ev, "zbb": ev.subset(slice(0, 0))})
    with pytest.raises(ValueError, match="non-finite"):
        fastjet_observables(bad, 0.4)
    s = load_samples({"hbb": ev, "zbb": ev})  # loaded Events are accepted as well as paths
    assert len(s) == 10 and s.is_signal.sum() == 5
    # a process given as phase-space slices: each slice weighted by its own σ/n, the process's σ their sum
    half = Events(ev.p4, ev.counts, None, dict(ev.meta, sigma_pb=ev.meta["sigma_pb"] / 2))
    s = load_samples({"hbb": ev, "zbb": [ev, half]}, luminosity_fb=10.0)
    assert len(s) == 15 and s.sigma_pb[1] == pytest.approx(1.5 * ev.meta["sigma_pb"])
    w = ev.meta["sigma_pb"] * 10.0e3 / ev.meta["n_events"]
    np.testing.assert_allclose(s.weight[5:], np.r_[np.full(5, w), np.full(5, w / 2)])
    with pytest.raises(ValueError, match="no events file"):
        load_samples({"hbb": ev, "zbb": []})


def test_generate_process_stores_sigma_and_b_quarks():
    pytest.importorskip("pythia8mc")
    from apps.jets.io.generate import generate_events

    ev = generate_events(3, seed=5, progress=False, process="zbb")
    assert ev.meta["process"] == "zbb" and ev.meta["sigma_pb"] > 0
    assert all(s in ev.meta["settings"] for s in PROCESSES["zbb"].settings)
    b, bbar = ev.bquarks[:, 0], ev.bquarks[:, 1]
    m = np.sqrt(np.maximum((b[:, 3] + bbar[:, 3]) ** 2 - ((b[:, :3] + bbar[:, :3]) ** 2).sum(axis=1), 0))
    assert np.all((m > 55) & (m < 205))  # the Z/γ* mass window 60–200 GeV (b masses, recoil: a few GeV)
