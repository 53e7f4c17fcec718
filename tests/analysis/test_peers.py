"""The peers of the benchmark: scan + relaxed cuts, Optuna TPE, and the paired bootstrap that scores them."""

import numpy as np
import pytest

pytest.importorskip("numba")
pytest.importorskip("fastjet")


@pytest.fixture(scope="module")
def small():
    from apps.analysis import background_floor, load_samples
    from apps.analysis.samples import DEFAULT_FILES
    from apps.jets import load_events

    files = {k: load_events(v).subset(slice(0, 60)) for k, v in DEFAULT_FILES.items()}
    for ev in files.values():
        ev.meta["n_events"] = 60
    s = load_samples(files)
    return s, background_floor(s)


def test_relaxed_scan_scores_its_points_hard_and_counts_passes(small):
    from apps.analysis import evaluate_hard
    from apps.analysis.peers import ObservableCache, relaxed_scan

    sample, b_min = small
    cache = ObservableCache(sample)
    r = relaxed_scan(sample, b_min, (90.0, 150.0, 30.0), radii=[0.4, 0.8], cache=cache, steps=30)
    assert r["passes"] == 2 and cache.passes == 2 and len(r["per_R"]) == 2
    b = r["best"]
    assert 80 <= b["lo"] < b["hi"] <= 160 and 20 <= b["pt"] <= 100
    assert b["Z"] == max(p["Z"] for p in r["per_R"])
    assert b["Z"] == pytest.approx(evaluate_hard(sample, (b["R"], b["lo"], b["hi"], b["pt"]), 0.0, b_min)["Z"])
    again = relaxed_scan(sample, b_min, (90.0, 150.0, 30.0), radii=[0.4, 0.8], cache=cache, steps=30)
    assert again["passes"] == 0 and again["best"] == b  # cached clusterings, deterministic


def test_paired_bootstrap_pairs_points(small):
    from apps.analysis import evaluate_hard
    from apps.analysis.peers import paired_bootstrap

    sample, b_min = small
    pts = [{"R": 0.4, "lo": 90.0, "hi": 150.0, "pt": 30.0}, {"R": 0.4, "lo": 90.0, "hi": 150.0, "pt": 30.0},
           {"R": 0.8, "lo": 100.0, "hi": 140.0, "pt": 40.0}]
    Z, Zb = paired_bootstrap(sample, pts, b_min, n_boot=50, seed=1)
    assert Zb.shape == (50, 3)
    assert Z[0] == pytest.approx(evaluate_hard(sample, (0.4, 90, 150, 30), 0.0, b_min)["Z"])
    assert np.all(Zb[:, 0] == Zb[:, 1])  # the same point on the same resamples: difference exactly 0
    assert Zb[:, 0].std() > 0 and not np.all(Zb[:, 0] == Zb[:, 2])
    with pytest.raises(ValueError, match="n_boot"):
        paired_bootstrap(sample, pts, b_min, n_boot=5)


def test_tpe_search_starts_at_the_start(small):
    pytest.importorskip("optuna")
    from apps.analysis.peers import tpe_search

    sample, b_min = small
    r = tpe_search(sample, b_min, (0.4, 90.0, 150.0, 30.0), trials=4, seed=3)
    assert 1 <= r["passes"] <= 4 and r["trials"] == 4
    from apps.analysis import evaluate_hard

    assert r["best"]["Z"] >= evaluate_hard(sample, (0.4, 90.0, 150.0, 30.0), 0.0, b_min)["Z"] - 1e-12
