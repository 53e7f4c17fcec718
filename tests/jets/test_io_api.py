"""Events I/O, the embedded sample, the CLI and the API's shapes and consistency."""

import numpy as np
import pytest

pytest.importorskip("numba")
import apps.jets as J  # noqa: E402


def test_default_events(default_events):
    ev = default_events
    assert len(ev) == 300 and ev.p4.shape[2] == 4 and ev.bquarks.shape == (300, 2, 4)
    assert 80 < ev.counts.mean() < 130
    assert ev.meta["generator"] == "pythia8mc" and "HiggsSM:gg2H = on" in ev.meta["settings"]
    mh = ev.bquarks.sum(axis=1)
    m = np.sqrt(mh[:, 3] ** 2 - (mh[:, :3] ** 2).sum(axis=1))
    np.testing.assert_allclose(m, 125.0, atol=1.0)  # the b b̄ pair is the Higgs


@pytest.mark.parametrize("ext", ["npz", "parquet"])
def test_roundtrip(tmp_path, default_events, ext):
    if ext == "parquet":
        pytest.importorskip("pyarrow")
        pytest.importorskip("awkward")
    sub = default_events.subset(slice(0, 5))
    path = tmp_path / f"ev.{ext}"
    J.save_events(sub, path)
    back = J.load_events(path)
    np.testing.assert_array_equal(back.counts, sub.counts)
    np.testing.assert_array_equal(back.p4, sub.p4)
    np.testing.assert_array_equal(back.bquarks, sub.bquarks)
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # what open() gives, not mkstemp's 0600


def test_awkward_input(default_events):
    pytest.importorskip("awkward")
    vector = pytest.importorskip("vector")
    sub = default_events.subset(slice(0, 10))
    a = J.cluster(sub, 0.8).mjj()
    b = J.cluster(sub.to_awkward(), 0.8).mjj()
    np.testing.assert_array_equal(a, b)
    # a Momentum4D in (pt, eta, phi, mass) coordinates
    v = vector.zip({"px": sub.to_awkward().px, "py": sub.to_awkward().py, "pz": sub.to_awkward().pz,
                    "E": sub.to_awkward().E})
    import awkward as ak

    ptetaphi = ak.zip({"pt": v.pt, "eta": v.eta, "phi": v.phi, "mass": v.mass})
    np.testing.assert_allclose(J.cluster(ptetaphi, 0.8).mjj(), a, rtol=1e-9)


def test_shapes_and_consistency(default_events):
    sub = default_events.subset(slice(0, 20))
    res = J.cluster(sub, 0.8, alpha=1.0, n_samples=8, seed=3)
    assert res.history.shape == (20, 8, sub.p4.shape[1], 2)
    assert res.score.shape == res.mjj().shape == (20, 8)
    mjj, score = J.sample_mjj_and_score(sub.p4, sub.counts, 0.8, 1.0, 8, 3)
    np.testing.assert_array_equal(score, res.score)
    np.testing.assert_allclose(mjj, res.mjj(20.0), rtol=1e-12, equal_nan=True)
    jets = res.inclusive_jets(5.0)
    lab = res.constituents(5.0)
    for e, s in [(0, 0), (3, 5), (19, 7)]:
        for j in range(jets.counts[e, s]):
            np.testing.assert_allclose(sub.p4[e, lab[e, s] == j].sum(axis=0), jets[e, s][j], rtol=1e-9, atol=1e-9)
    det = J.cluster(sub, 0.8, n_samples=3)
    assert np.all(det.score == 0)
    np.testing.assert_array_equal(det.mjj(), np.repeat(det.mjj()[:, :1], 3, axis=1))
    aw = jets.to_awkward()
    assert len(aw) == 20 and len(aw[0]) == 8


def test_per_event_radius(default_events):
    sub = default_events.subset(slice(0, 6))
    radii = np.array([0.4, 0.8, 1.2, 0.4, 0.8, 1.2])
    mjj, score = J.sample_mjj_and_score(sub.p4, sub.counts, radii, 1.0, 4, 11)
    for R in (0.4, 0.8, 1.2):
        sel = radii == R
        m2, s2 = J.sample_mjj_and_score(sub.p4, sub.counts, R, 1.0, 4, 11)
        np.testing.assert_array_equal(score[sel], s2[sel])
        np.testing.assert_array_equal(mjj[sel], m2[sel])


def test_same_seed_same_result(default_events):
    sub = default_events.subset(slice(0, 5))
    a = J.cluster(sub, 0.8, alpha=1.0, n_samples=4, seed=9)
    b = J.cluster(sub, 0.8, alpha=1.0, n_samples=4, seed=9)
    c = J.cluster(sub, 0.8, alpha=1.0, n_samples=4, seed=10)
    np.testing.assert_array_equal(a.history, b.history)
    assert not np.array_equal(a.history, c.history)


def test_cli_generate(tmp_path):
    pytest.importorskip("pythia8mc")
    from apps.jets.cli import build_parser, main

    out = tmp_path / "ev.npz"
    assert main(["generate", "--events", "3", "--seed", "5", "-o", str(out), "--quiet"]) == 0
    ev = J.load_events(out)
    assert len(ev) == 3 and ev.bquarks.shape == (3, 2, 4) and ev.meta["seed"] == 5
    assert "generate" in build_parser()._subparsers._group_actions[0].choices


def test_plots_write_figures(tmp_path):
    pytest.importorskip("hist")
    pytest.importorskip("matplotlib")
    from apps.jets.plots import mjj as plots

    rng = np.random.default_rng(0)
    m = np.where(rng.random(500) < 0.2, np.nan, rng.normal(120, 15, 500))
    hist = [{"step": i, "theta": [np.log(0.4 + 0.02 * i)], "value": 0.8 - 0.01 * i, "value_stderr": 0.01}
            for i in range(10)]
    rows = [{"R": r, "loss": (r - 0.8) ** 2, "stderr": 0.01} for r in (0.4, 0.6, 0.8, 1.0)]
    out = [plots.mjj_figure([("R = 0.4", m), ("R* = 0.8", m + 5)], tmp_path / "a" / "mjj.png", width=15),
           plots.optimize_figure(hist, tmp_path / "opt.png", R_final=0.6, R_star=0.59),
           plots.optimize_figure(hist, tmp_path / "pe.png", per_event=True, R_final=rng.uniform(0.3, 1.2, 300)),
           plots.scan_figure(rows, tmp_path / "scan.png", alpha=1.0)]
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    for p in out:
        with open(p, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
        assert os.stat(p).st_mode & 0o777 == 0o666 & ~mask
    assert sorted(x.name for x in tmp_path.rglob("*") if x.is_file()) == ["mjj.png", "opt.png", "pe.png", "scan.png"]


def test_progress_shows_R_and_a_per_event_summary(capsys, monkeypatch):
    import apps.cliutil
    from apps.jets.cli.progress import OptimizeProgress

    monkeypatch.setattr(apps.cliutil, "PROGRESS_INTERVAL", 0.0)  # stderr is not a terminal here: a line per step
    with OptimizeProgress(1) as cb:
        cb({"theta": np.log(0.7), "value": 0.5, "value_stderr": 0.01})
    with OptimizeProgress(1) as cb:
        cb({"theta": np.log(np.linspace(0.3, 1.3, 300)), "value": 0.4, "value_stderr": 0.01})
    err = capsys.readouterr().err
    assert "R=0.7000" in err and "-0.35" not in err  # R, not log R
    assert "R median 0.800 [0.460, 1.140] over 300 events" in err
    assert "0.3033" not in err  # not the 300 radii
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "apps.jets", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "optimize" in r.stdout
