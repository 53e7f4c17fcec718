"""The R optimisation's claims, made checkable: seed rule, tail-averaged R* ± spread, fair per-event map, bootstrap.

The optimisation tests run on a toy "engine" whose dijet mass is Gaussian with a mean
linear in R, so the optimum of the expected window loss is known exactly and every
run takes milliseconds; the map's split is checked on real (embedded) events.
"""

import json
import types

import numpy as np
import pytest

from apps.jets.study import optimize as opt
from apps.jets.study import radius_map as rm
from apps.jets.study.robust import bootstrap, mass_stats, mass_summary, paired_difference

SLOPE, SIGMA = 150.0, 25.0  # toy: mjj ~ Normal(125 + SLOPE·(R − R_opt), SIGMA²)


def _toy_sampler(r_opt):
    """A stand-in for the engine's (mjj, ∂/∂R log p) sampler; ``r_opt`` per event or shared."""

    def sample(p4, counts, R, alpha, samples, seed, ptmin=20.0, **kw):
        n = len(counts)
        R = np.broadcast_to(np.asarray(R, dtype=float), (n,))[:, None]
        mu = 125.0 + SLOPE * (R - np.broadcast_to(r_opt, (n,))[:, None])
        z = np.random.default_rng(seed).normal(size=(n, samples))
        mjj = mu + SIGMA * z
        return mjj, z / SIGMA * SLOPE  # d/dR log N(mjj; mu(R), SIGMA²)

    return sample


def _toy_events(n):
    return types.SimpleNamespace(p4=np.zeros((n, 1, 4)), counts=np.ones(n, dtype=np.int64))


@pytest.fixture
def toy(monkeypatch):
    def install(r_opt):
        monkeypatch.setattr(opt, "_sampler", lambda: _toy_sampler(r_opt))

    return install


# --- the seed rule ---------------------------------------------------------------------------------------------

def test_seed_rule_keys_streams_on_seed_and_step():
    assert opt.step_seed(3, 5) == opt.step_seed(3, 5)
    # seed + step would make these equal: run 3 at step 6 vs run 4 at step 5
    assert opt.step_seed(3, 6) != opt.step_seed(4, 5)
    seeds = {opt.step_seed(s, k) for s in range(20) for k in range(50)}
    assert len(seeds) == 1000 and all(0 <= s < 2**63 for s in seeds)
    # independent runs, and two starts with the same user seed, get different streams
    runs = [opt.run_seed(0, r0, j) for r0 in (0.4, 1.5) for j in range(4)]
    assert len(set(runs)) == 8 and opt.run_seed(0, 0.4, 1) == opt.run_seed(0, 0.4, 1)
    with pytest.raises(ValueError, match="positive radius"):
        opt.run_seed(0, -0.4)


def test_same_seed_same_run_other_seed_other_streams(toy):
    toy(0.7)
    ev = _toy_events(30)
    kw = dict(r0=0.5, steps=6, samples=4, lr=0.1, lr_tail=0.04)
    a, b = opt.optimize_global(ev, seed=11, **kw), opt.optimize_global(ev, seed=11, **kw)
    c = opt.optimize_global(ev, seed=12, **kw)
    assert [h["grad"] for h in a.history] == [h["grad"] for h in b.history] and a.R_tail == b.R_tail
    assert a.history[0]["grad"] != c.history[0]["grad"]  # same θ at step 0, other streams
    s = opt.optimize_seeds(ev, n_seeds=3, seed=11, **kw)
    assert len(set(s["seeds"])) == 3 and len({r.history[0]["grad"] for r in s["results"]}) == 3
    later = opt.optimize_seeds(ev, n_seeds=2, seed=11, first_run=1, **kw)  # runs can be added afterwards
    assert later["seeds"] == s["seeds"][1:] and later["R_runs"] == s["R_runs"][1:]


# --- tail average and its uncertainty ----------------------------------------------------------------------------

def test_tail_average_is_the_mean_R_of_the_last_iterates():
    hist = [{"theta": float(np.log(r))} for r in (0.4, 0.6, 0.8, 0.9, 0.7, 0.8)]
    assert opt.tail_average(hist, 0.5) == (pytest.approx((0.9 + 0.7 + 0.8) / 3), 3)
    assert opt.tail_average(hist, 0.01) == (pytest.approx(0.8), 1)
    with pytest.raises(ValueError, match="fraction"):
        opt.tail_average(hist, 0.0)


def test_two_starts_agree_on_the_known_optimum_within_their_uncertainty(toy):
    """Toy with R* = 0.7 exactly: each start's mean ± sd/√n covers it and the starts agree."""
    toy(0.7)
    ev = _toy_events(200)
    out = {r0: opt.optimize_seeds(ev, r0=r0, n_seeds=6, seed=1, steps=40, samples=4, lr=0.1, lr_tail=0.04)
           for r0 in (0.4, 1.5)}
    for r0, s in out.items():
        R = np.array([r.R_tail for r in s["results"]])
        assert s["R"] == pytest.approx(R.mean()) and s["R_sd"] == pytest.approx(R.std(ddof=1))
        assert s["R_stderr"] == pytest.approx(R.std(ddof=1) / np.sqrt(6))
        assert 0 < s["R_sd"] < 0.05
        assert abs(s["R"] - 0.7) < 4 * s["R_stderr"] + 0.005, (r0, s["R"], s["R_stderr"])
    a, b = out[0.4], out[1.5]
    assert abs(a["R"] - b["R"]) < 4 * np.hypot(a["R_stderr"], b["R_stderr"]) + 0.005


# --- the per-event map: fitted on a training half, scored on a disjoint test half ---------------------------------

def test_quartile_map_recovers_per_bin_optima(toy):
    """Each quartile of pT has its own optimal R; the fitted map finds them (chain rule Φᵀg/n is right)."""
    rng = np.random.default_rng(0)
    pt = rng.uniform(20, 200, 400)
    rmap = rm.RadiusMap.from_training("quartiles", pt)
    truth = np.array([1.2, 0.9, 0.7, 0.5])
    toy(truth[np.searchsorted(rmap.edges, pt, side="right")])
    rm.fit_map(rmap, _toy_events(400), pt, r0=0.8, steps=40, samples=4, seed=3)
    assert np.exp(rmap.w) == pytest.approx(truth, abs=0.05)
    assert rmap.design(pt).sum(axis=0).tolist() == [100, 100, 100, 100]


def test_radius_map_is_fitted_on_the_training_half_only(default_events, monkeypatch):
    ev = default_events.subset(slice(0, 24))
    train, test = rm.split_halves(24, seed=5)
    assert len(np.intersect1d(train, test)) == 0 and sorted(np.r_[train, test]) == list(range(24))
    seen = {}
    real_from_training, real_fit = rm.RadiusMap.from_training.__func__, rm.fit_map

    def from_training(cls, kind, pt_train):
        seen.setdefault("pt", []).append(np.asarray(pt_train))
        return real_from_training(cls, kind, pt_train)

    def fit_map(rmap, events, pt, **kw):
        seen.setdefault("counts", []).append(np.asarray(events.counts))
        return real_fit(rmap, events, pt, **kw)

    monkeypatch.setattr(rm.RadiusMap, "from_training", classmethod(from_training))
    monkeypatch.setattr(rm, "fit_map", fit_map)
    from apps.jets.cli.radius_map import run_radius_map

    out, mjj = run_radius_map(ev, kind="quartiles", split_seed=5, steps=2, samples=2, n_resamples=20,
                              scan_radii=(0.4, 0.8))
    pt_all = rm.leading_pt(ev)
    assert all(np.array_equal(p, pt_all[train]) for p in seen["pt"])  # quartile edges from the training half
    assert all(np.array_equal(c, ev.counts[train]) for c in seen["counts"])  # fits see training events only
    assert out["split"] == {"n_events": 24, "n_train": 12, "n_test": 12, "split_seed": 5, "disjoint": True}
    assert len(mjj["test"]["map"]) == len(test) == out["test"]["map"]["n"]
    np.testing.assert_array_equal(mjj["test"]["global"], rm.hard_mjj(ev.subset(test), out["global"]["R"]))


# --- bootstrap -------------------------------------------------------------------------------------------------

def test_bootstrap_matches_analytic_standard_errors():
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, 400)
    value, sd, reps = bootstrap(lambda a: a.mean(axis=-1), x, n_resamples=4000, seed=1)
    assert value == pytest.approx(x.mean()) and reps.shape == (4000,)
    assert sd == pytest.approx(x.std() / np.sqrt(400), rel=0.06)  # plug-in sd of the mean (1/√(2B) ≈ 1 %)
    m = np.where(rng.uniform(size=400) < 0.3, 125.0, 300.0)  # fraction in window p̂: sd √(p̂(1−p̂)/n)
    s = mass_summary(m, n_resamples=4000, seed=1)
    p = s["frac_window"]
    assert s["frac_window_sd"] == pytest.approx(np.sqrt(p * (1 - p) / 400), rel=0.06)
    assert "event-to-event" in s["error"] and s["n_resamples"] == 4000
    d = paired_difference(x + 125, x + 125, n_resamples=50)
    assert d["d_frac_window"] == 0 and d["d_frac_window_sd"] == 0
    with pytest.raises(ValueError, match="one length"):
        bootstrap(lambda a, b: a.mean(-1), x, x[:3])


def test_mass_stats_counts_events_without_two_jets_as_outside():
    m = np.array([125.0, 130.0, 200.0, np.nan])
    med, iqr, frac, two = mass_stats(m)
    assert med == 130.0 and frac == 0.5 and two == 0.75
    assert iqr == pytest.approx(np.subtract(*np.percentile([125, 130, 200], [75, 25])))


# --- CLI -------------------------------------------------------------------------------------------------------

def test_cli_seeds_widths_and_radius_map(tmp_path, capsys):
    pytest.importorskip("numba")
    from apps.jets.cli import main

    js = tmp_path / "o.json"
    assert main(["optimize", "--n-events", "12", "--seeds", "2", "--steps", "2", "--samples", "2",
                 "--json", str(js), "--quiet"]) == 0
    d = json.loads(js.read_text())
    assert len(d["runs"]) == 2 and d["seeds"][0] != d["seeds"][1] and d["R_stderr"] > 0
    assert d["R"] == pytest.approx(np.mean([r["R_tail"] for r in d["runs"]]))
    assert "R* = " in capsys.readouterr().out
    assert main(["widths", "--n-events", "12", "--global-json", str(js), "--bootstrap", "20",
                 "--png", str(tmp_path / "w.png")]) == 0
    out = capsys.readouterr().out
    assert "bootstrap sd (20 resamples" in out and "σ" not in out
    assert main(["radius-map", "--n-events", "16", "--steps", "2", "--samples", "2", "--bootstrap", "20",
                 "--json", str(tmp_path / "m.json"), "--quiet"]) == 0
    assert "test half" in capsys.readouterr().out
    assert main(["widths", "--n-events", "12", "--map-json", str(tmp_path / "m.json"), "--bootstrap", "20",
                 "--png", str(tmp_path / "w2.png")]) == 0
    assert "R(pT_lead) map" in capsys.readouterr().out
    assert main(["optimize", "--per-event", "--seeds", "2", "--json", str(tmp_path / "p.json")]) == 2


def test_radius_map_takes_the_target_mass(default_events, monkeypatch):
    """radius-map scored against 125 GeV only; the target now reaches the fits and every score (issue 27)."""
    ev = default_events.subset(slice(0, 24))
    targets = []
    real_fit = rm.fit_map

    def fit_map(rmap, events, pt, **kw):
        targets.append(kw["target"])
        return real_fit(rmap, events, pt, **kw)

    monkeypatch.setattr(rm, "fit_map", fit_map)
    from apps.jets.cli.radius_map import run_radius_map

    kw = dict(kind="quartiles", split_seed=5, steps=2, samples=2, n_resamples=20, scan_radii=(0.4, 0.8))
    out, mjj = run_radius_map(ev, target=91.19, **kw)
    assert targets == [91.19, 91.19] and out["settings"]["target_mass"] == 91.19
    m = mjj["test"]["global"]
    inside = np.abs(np.nan_to_num(m, nan=np.inf) - 91.19) < 15.0
    assert out["test"]["global"]["frac_window"] == pytest.approx(inside.mean())
    out125, _ = run_radius_map(ev, **kw)
    assert out125["settings"]["target_mass"] == 125.0
