"""Clear errors for bad input; objectives; the exhaustive scan; problems A and B; the CLI."""

import json
import os

import numpy as np
import pytest

import stochgrad as sg
from apps.cuts import (CutSpec, Events, asimov, asimov_z, differential_evolution_cuts, hard_objective,
                       optimize_cuts, problem_a, problem_b, resolve_objective, s_over_sqrt_b, scan_one_cut,
                       stochastic_cut, traced_cut)
from apps.cuts.cli import main


def test_empty_samples():
    with pytest.raises(ValueError, match="empty"):
        Events(np.zeros((0, 2)), np.zeros(0, bool))
    with pytest.raises(ValueError, match="empty"):
        Events.from_samples([], [])


def test_nan_features():
    x = np.ones((4, 2))
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match="feature 1 of event 2"):
        Events(x, np.array([1, 0, 1, 0]))


@pytest.mark.parametrize("s", [0.0, -1.0, np.nan, [0.1, 0.0]])
def test_nonpositive_scale(s):
    ev = Events(np.ones((3, 2)), np.array([1, 0, 0]))
    spec = CutSpec([(0, ">"), (1, "<")])
    with pytest.raises(ValueError, match="scale"):
        stochastic_cut(ev, spec, s)
    with pytest.raises(ValueError, match="scale"):
        traced_cut(ev, spec, s)
    with pytest.raises(ValueError, match="scale"):
        optimize_cuts(ev, spec, [0.0, 1.0], scale=(s, 0.1), steps=2, restarts=1)


def test_other_bad_input():
    ev = Events(np.ones((3, 2)), np.array([1, 0, 0]))
    with pytest.raises(ValueError, match="labels|0/1"):
        Events(np.ones((2, 1)), np.array([2, 0]))
    with pytest.raises(ValueError, match="kind"):
        CutSpec([(0, "between")])
    with pytest.raises(ValueError, match="thresholds"):
        hard_objective(ev, CutSpec([(0, "window")]), [0.5])
    with pytest.raises(ValueError, match="variable"):
        hard_objective(ev, CutSpec([(5, ">")]), [0.5])
    with pytest.raises(ValueError, match="unknown objective"):
        resolve_objective("significance!")
    with pytest.raises(ValueError, match="small samples"):
        traced_cut(Events(np.ones(20), np.ones(20)), CutSpec([">"]), 0.1)
    with pytest.raises(ValueError, match="method"):
        optimize_cuts(ev, CutSpec([">"]), 0.0, method="newton")


def test_asimov_values_and_gradients():
    s, b = np.array([5.0, 20.0, 0.0]), np.array([100.0, 30.0, 10.0])
    z = asimov_z(s, b)
    np.testing.assert_allclose(z, np.sqrt(2 * ((s + b) * np.log1p(s / b) - s)), atol=1e-12)
    assert asimov_z(5.0, 0.0) == pytest.approx(asimov_z(5.0, 1.0))  # floor b_min = 1
    for obj in (asimov(), s_over_sqrt_b()):
        gs, gb = obj.grad(s[:2], b[:2])
        h = 1e-6
        np.testing.assert_allclose(gs, (obj(s[:2] + h, b[:2]) - obj(s[:2] - h, b[:2])) / (2 * h), rtol=1e-5)
        np.testing.assert_allclose(gb, (obj(s[:2], b[:2] + h) - obj(s[:2], b[:2] - h)) / (2 * h), rtol=1e-5)


def test_user_objective_through_autograd():
    import autograd.numpy as anp

    obj = resolve_objective(lambda s, b: s / anp.sqrt(b + 3.0))
    gs, gb = obj.grad(np.array([4.0]), np.array([1.0]))
    assert gs[0] == pytest.approx(0.5) and gb[0] == pytest.approx(-0.5 * 4 / 8)
    ev = Events(np.linspace(0, 1, 8), np.arange(8) % 2 == 0)
    est = sg.value_and_grad(stochastic_cut(ev, CutSpec([">"]), 0.2, objective=obj), "sd", n=100, seed=0)(0.5)
    assert np.isfinite(est.grad)


def test_scan_matches_brute_force():
    ev, spec, _ = problem_a(seed=3, n_background=60, n_signal=10)
    scan = scan_one_cut(ev)
    x = np.sort(ev.features[:, 0])
    mids = np.r_[x[0] - 1, 0.5 * (x[1:] + x[:-1])]
    brute = max(hard_objective(ev, spec, c) for c in mids)
    assert scan["best"] == pytest.approx(brute)
    assert hard_objective(ev, spec, scan["cut"]) == pytest.approx(brute)


def test_problem_a_optimum_close_to_scan():
    ev, spec, c0 = problem_a(0)
    scan = scan_one_cut(ev)
    res = optimize_cuts(ev, spec, c0, steps=200, scale=(0.5, 0.01), lr=(0.1, 0.002), n=32, seed=0, restarts=1,
                        polish=0.0)
    lo, hi = scan["interval"]
    assert max(lo - res.theta[0], res.theta[0] - hi, 0.0) < 0.01
    assert scan["best"] - res.hard_value < 0.01
    assert res.hard_value == pytest.approx(hard_objective(ev, spec, res.theta))


def test_problem_b_shapes_and_de_runs():
    ev, spec, th0, bounds = problem_b(seed=1, n_signal=100, n_background=1000)
    assert spec.n_params == 7 and ev.features.shape == (1100, 5) and bounds.shape == (7, 2)
    assert spec.hard_pass(ev, th0).mean() > 0.9
    de = differential_evolution_cuts(ev, spec, bounds, seed=0, maxiter=3)
    assert de["hard_value"] >= hard_objective(ev, spec, th0) - 1e-9
    assert de["evaluations"] == len(de["best_so_far"])


def test_cli_demo(tmp_path):
    assert main(["demo", "--problem", "A", "--steps", "30", "--out", str(tmp_path)]) == 0
    res = json.load(open(tmp_path / "cuts_problem_a.json"))
    assert res["problem"] == "A" and len(res["rows"]) == 5
    assert os.path.getsize(tmp_path / "cuts_problem_a.png") > 1000
    assert main(["demo", "--steps", "0"]) == 2
