"""The generated family of cut problems, the exact grid reference, and the optimiser's defaults against it."""

import itertools

import numpy as np
import pytest

from apps.cuts import hard_objective, optimize_cuts
from apps.cuts.optimize import polish_cuts, restart_starts
from apps.cuts.problems import generate_problem, issue_problem
from apps.cuts.references import differential_evolution_best, grid_cuts


def test_generator_is_seeded_and_deterministic():
    a, b, c = generate_problem(7), generate_problem(7), generate_problem(8)
    np.testing.assert_array_equal(a.events.features, b.events.features)
    np.testing.assert_array_equal(a.events.weights, b.events.weights)
    np.testing.assert_array_equal(a.theta0, b.theta0)
    assert a.spec.labels == b.spec.labels and a.shapes == b.shapes
    assert a.events.features.shape != c.events.features.shape or not np.array_equal(a.events.features,
                                                                                     c.events.features)


def test_issue_layout_and_yields():
    p = issue_problem(3)
    assert p.kinds == ("lower", "lower", "upper") and p.spec.n_params == 3
    assert p.events.signal_weights.sum() == pytest.approx(300.0)
    assert p.events.background_weights.sum() == pytest.approx(6000.0)
    assert np.all(p.events.weights > 0)
    assert p.spec.hard_pass(p.events, p.theta0).mean() > 0.95  # the loose start keeps ~everything


def test_generator_covers_kinds_and_sizes():
    probs = [generate_problem(s, n_signal=20, n_background=40) for s in range(40)]
    assert {len(p.spec.cuts) for p in probs} == {1, 2, 3, 4, 5}
    assert {"lower", "upper", "window"} <= {k for p in probs for k in p.kinds}
    assert len({s for p in probs for s in p.shapes}) >= 7
    for kind in ("lower", "upper", "window"):
        assert generate_problem(1, n_cuts=2, kinds=[kind, kind]).kinds == (kind, kind)


@pytest.mark.parametrize("kw", [dict(n_cuts=0), dict(n_cuts=6), dict(n_cuts=2, kinds=["lower"]),
                                dict(n_cuts=1, kinds=["between"]), dict(n_signal=3), dict(irreducible=1.5)])
def test_generator_bad_input(kw):
    with pytest.raises(ValueError):
        generate_problem(0, **kw)
    with pytest.raises(ValueError, match="seed"):
        generate_problem(-1)


def _brute_force(events, spec):
    """Best hard objective over every threshold at a midpoint between any two events' values (or outside)."""
    mids = []
    for v in spec.variables:
        x = np.unique(events.features[:, v])
        mids.append(np.r_[x[0] - 1, 0.5 * (x[1:] + x[:-1]), x[-1] + 1])
    return max(hard_objective(events, spec, th) for th in itertools.product(*mids))


@pytest.mark.parametrize("seed,kinds", [(0, ["upper"]), (1, ["window"]), (2, ["lower", "upper"]),
                                        (3, ["window", "lower"]), (4, ["lower", "lower", "upper"])])
def test_grid_matches_brute_force(seed, kinds):
    p = generate_problem(seed, n_cuts=len(kinds), kinds=kinds, n_signal=8, n_background=12)
    g = grid_cuts(p.events, p.spec)
    assert g["hard_value"] == pytest.approx(_brute_force(p.events, p.spec), rel=1e-12)
    assert hard_objective(p.events, p.spec, g["theta"]) == pytest.approx(g["hard_value"], rel=1e-12)


def test_grid_refuses_what_it_cannot_do():
    p = generate_problem(2, n_cuts=2, kinds=["window", "window"], n_signal=20, n_background=40)
    with pytest.raises(ValueError, match="at most 3"):
        grid_cuts(p.events, p.spec)
    de = differential_evolution_best(p.events, p.spec, p.bounds, seeds=(0, 1), maxiter=5)
    assert de["hard_value"] == max(de["values"])
    assert de["hard_value"] == pytest.approx(hard_objective(p.events, p.spec, de["theta"]))


def test_polish_never_lowers_and_reaches_a_coordinate_optimum():
    p = generate_problem(5, n_cuts=2, kinds=["lower", "upper"], n_signal=40, n_background=200)
    start = p.theta0
    th, z, _ = polish_cuts(p.events, p.spec, start, radius=np.inf)
    assert z >= hard_objective(p.events, p.spec, start)
    assert z == pytest.approx(hard_objective(p.events, p.spec, th))
    again = polish_cuts(p.events, p.spec, th, radius=np.inf)[1]
    assert again == pytest.approx(z)  # a fixed point: no single threshold move improves it


def test_restart_starts_are_seeded_and_ordered():
    p = generate_problem(9, n_cuts=2, kinds=["window", "upper"])
    a, b = restart_starts(p.events, p.spec, 6, seed=3), restart_starts(p.events, p.spec, 6, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (6, 3) and np.all(a[:, 0] <= a[:, 1])  # window edges in order


@pytest.mark.parametrize("seed,kinds", [(12, ["window", "lower"]), (13, ["lower", "lower", "upper"]),
                                        (15, ["upper", "window"])])
def test_defaults_reach_the_exact_grid(seed, kinds):
    """optimize_cuts with its defaults (only the start given) within 1 % of the exact optimum.

    150 signal and 1500 background events, a little below the family's sizes.
    """
    p = generate_problem(seed, n_cuts=len(kinds), kinds=kinds, n_signal=150, n_background=1500)
    g = grid_cuts(p.events, p.spec)
    res = optimize_cuts(p.events, p.spec, p.theta0)
    assert res.hard_value == pytest.approx(hard_objective(p.events, p.spec, res.theta))
    assert res.hard_value >= 0.99 * g["hard_value"]


@pytest.mark.parametrize("kw,match", [(dict(restarts=0), "restarts"), (dict(polish=-1.0), "polish"),
                                      (dict(polish=float("nan")), "polish"), (dict(polish="wide"), "polish"),
                                      (dict(method="coordinate", polish=0.0), "coordinate")])
def test_optimiser_rejects_bad_restarts_and_polish(kw, match):
    p = generate_problem(1, n_cuts=1, kinds=["lower"], n_signal=10, n_background=20)
    with pytest.raises(ValueError, match=match):
        optimize_cuts(p.events, p.spec, p.theta0, steps=2, **kw)


@pytest.mark.parametrize("radius", [-0.5, float("nan"), [0.1, -1.0]])
def test_polish_rejects_a_bad_radius(radius):
    p = generate_problem(5, n_cuts=2, kinds=["lower", "upper"], n_signal=20, n_background=40)
    with pytest.raises(ValueError, match="radius"):
        polish_cuts(p.events, p.spec, p.theta0, radius)


def test_coordinate_method_is_the_polish_alone_from_the_same_starts():
    p = generate_problem(21, n_cuts=2, kinds=["window", "upper"], n_signal=60, n_background=400)
    res = optimize_cuts(p.events, p.spec, p.theta0, method="coordinate", restarts=5, seed=4)
    starts = np.vstack([p.theta0, restart_starts(p.events, p.spec, 4, seed=4)])
    ends = [polish_cuts(p.events, p.spec, st, np.inf) for st in starts]
    assert res.restart_values == pytest.approx([e[1] for e in ends])
    assert any(np.array_equal(res.theta, e[0]) for e in ends)
    assert res.hard_value == pytest.approx(max(e[1] for e in ends))
    assert res.history == [] and res.evaluations == sum(e[2] for e in ends)
    assert res.hard_value == pytest.approx(hard_objective(p.events, p.spec, res.theta))


def test_defaults_reach_a_pocket_optimum_the_local_polish_missed():
    """Family problem G102: its exact optimum keeps 24.8 signal and 1.1 background (two MC events).

    With the former local polish (0.1 spread) the defaults ended at 0.874 of it; the
    unbounded line searches after the same gradient runs reach it.
    """
    p = generate_problem(102)
    g = grid_cuts(p.events, p.spec)
    res = optimize_cuts(p.events, p.spec, p.theta0)
    assert res.hard_value >= 0.99 * g["hard_value"]


def test_gradient_runs_get_past_where_the_coordinate_search_stalls():
    """issue_problem(2): the polish alone from the defaults' 8 starts stalls at 0.948 of the exact optimum."""
    p = issue_problem(2)
    g = grid_cuts(p.events, p.spec)
    coord = optimize_cuts(p.events, p.spec, p.theta0, method="coordinate")
    ours = optimize_cuts(p.events, p.spec, p.theta0)
    assert coord.hard_value < 0.96 * g["hard_value"]
    assert ours.hard_value >= 0.99 * g["hard_value"]
