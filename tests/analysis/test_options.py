"""Options of optimize_analysis for the window: centre/half-width coordinates, density-scaled widths, mass box."""

import numpy as np
import pytest

pytest.importorskip("numba")
pytest.importorskip("fastjet")


def test_density_widths_follow_the_event_density():
    from apps.analysis.optimize import density_widths

    rng = np.random.default_rng(1)
    m = np.concatenate([rng.uniform(100, 110, 1000), rng.uniform(140, 200, 20)])[:, None]  # dense, then sparse
    pt = np.full_like(m, 60.0)
    s_lo, s_hi, s_pt = density_widths(m, pt, (105.0, 150.0, 30.0), k=50, floor=0.5)
    assert s_lo == 0.5  # 50 events lie within ±0.25 GeV of 105: the floor wins
    assert s_hi > 5.0  # 50 events around 150 GeV need a wide interval
    assert s_pt == 0.5 * np.sort(np.abs(pt[(m > 105) & (m < 150)] - 30.0))[49]
    two = np.c_[m, m]  # two replicas: k events per replica
    assert density_widths(two, np.c_[pt, pt], (105.0, 150.0, 30.0), k=50, floor=0.5)[1] == pytest.approx(s_hi)


def test_centre_coordinates_and_options_run(tmp_path):
    from apps.analysis import background_floor, load_samples, optimize_analysis
    from apps.analysis.optimize import _from_coords, _to_coords
    from apps.analysis.samples import DEFAULT_FILES
    from apps.jets import load_events

    th = np.array([4.0, 36.0, 60.0, 6.0])
    np.testing.assert_allclose(_from_coords(_to_coords(th, "centre"), "centre"), th)
    assert _to_coords(th, "centre")[1:3].tolist() == [48.0, 12.0]
    files = {k: load_events(v).subset(slice(0, 30)) for k, v in DEFAULT_FILES.items()}
    sample = load_samples(files)
    b = background_floor(sample)
    res = optimize_analysis(sample, (0.5, 90.0, 150.0, 30.0), steps=3, samples=2, b_min=b, window="centre",
                            density=(40, 10), box=True, alpha=(10.0, 40.0))
    assert res.settings["window"] == "centre" and res.settings["box"] is True and res.settings["density"] == [40, 10]
    assert res.settings["alpha"] == [10.0, 40.0]
    assert len(res.history) == 3 and 80 <= res.optimum[1] < res.optimum[2] <= 160
    # reused histories: the first step samples every event, later ones only those whose ESS fell
    res = optimize_analysis(sample, (0.5, 90.0, 150.0, 30.0), steps=3, samples=2, b_min=b, reuse=0.5)
    assert res.settings["reuse_refreshes"][0] == 90 and len(res.settings["reuse_ess"]) == 3
    assert res.clusterings == 2 * sum(res.settings["reuse_refreshes"])
    for bad in ({"window": "middle"}, {"density": (0, 5)}, {"density": (5,)}, {"alpha": (10.0, -1.0)},
                {"reuse": 0.5, "batch": 12}, {"reuse": 0.5, "alpha": (10.0, 20.0)}, {"reuse": 1.5}):
        with pytest.raises(ValueError):
            optimize_analysis(sample, (0.5, 90.0, 150.0, 30.0), steps=2, samples=2, b_min=b, **bad)
