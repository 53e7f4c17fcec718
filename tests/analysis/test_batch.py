"""The budget mode of the analysis: linearised significance, random event batches, cut refinement at fixed R.

* the linearised program's gradient equals ``Z_S ∇E[S] + Z_B ∇E[B]`` computed by exact
  enumeration (every Qanti-kT history and pass decision of three small events);
* a stratified batch with scaled weights keeps the yields unbiased;
* the cut refinement at a fixed R reaches the exhaustive cut grid's best there.
"""

import functools

import numpy as np
import pytest

import stochgrad as sg

pytest.importorskip("numba")

from tests.analysis.test_gradient import ALPHA, B_MIN, SCALE, WEIGHTS, _sample, outcomes_and_pass  # noqa: E402


def _exact_pass(theta):
    """Exact pass probability of each of the three events at θ (grid units)."""
    return np.array([float(np.dot(probs, p)) for probs, p in outcomes_and_pass(theta)])


def _yields(theta):
    p = _exact_pass(theta)
    return p[0] * WEIGHTS[0], p[1] * WEIGHTS[1] + p[2] * WEIGHTS[2]


@functools.lru_cache(maxsize=2)
def exact_linear_gradient(phys):
    """``((S0, B0), Z_S ∇E[S] + Z_B ∇E[B])`` at θ = ``to_units(phys)`` by enumeration (shared by the tests)."""
    from autograd import grad

    from apps.analysis.program import to_units
    from apps.analysis.significance import asimov_significance

    theta = to_units(phys)
    S0, B0 = _yields(theta)

    def z(s, b):
        return asimov_significance(s, b, 0.2, B_MIN)

    h = 1e-3
    dS, dB = np.array([np.subtract(_yields(theta + h * e), _yields(theta - h * e)) / (2 * h) for e in np.eye(4)]).T
    return (S0, B0), grad(z, 0)(S0, B0) * dS + grad(z, 1)(S0, B0) * dB


def test_linearised_gradient_is_the_gradient_of_z_at_the_expected_yields():
    from apps.analysis.program import default_estimator, joint_program, to_units
    from apps.analysis.significance import asimov_significance

    theta = to_units([0.6, 80.0, 115.0, 45.0])
    (S0, B0), exact = exact_linear_gradient((0.6, 80.0, 115.0, 45.0))

    def z(s, b):
        return asimov_significance(s, b, 0.2, B_MIN)

    assert np.all(np.abs(exact) > 1e-4), exact
    seen = []

    def center(S, B):
        seen.append((S.shape, B.shape))
        return S0, B0

    K = 4000
    prog = joint_program(_sample(), alpha=ALPHA, samples=K, scale=SCALE, rel_syst=0.2, b_min=B_MIN, linearize=center)
    est = sg.value_and_grad(prog, default_estimator(), n=K, seed=21)(theta)
    assert seen and seen[0] == ((K,), (K,))
    assert est.value == pytest.approx(float(z(S0, B0)), abs=5 * est.value_stderr)  # E[linear] = Z(S0, B0)
    pull = (np.asarray(est.grad) - exact) / np.asarray(est.grad_stderr)
    assert np.all(np.abs(pull) < 4.5), (est.grad, exact, est.grad_stderr)


def test_linearize_rejects_bad_points():
    from apps.analysis.program import joint_program, to_units

    theta = to_units([0.6, 80.0, 115.0, 45.0])
    with pytest.raises(ValueError, match="callable"):
        joint_program(_sample(), alpha=ALPHA, samples=2, scale=SCALE, b_min=B_MIN, linearize=(1.0, 2.0))
    prog = joint_program(_sample(), alpha=ALPHA, samples=2, scale=SCALE, b_min=B_MIN,
                         linearize=lambda S, B: (1.0, -1.0))
    with pytest.raises(ValueError, match="B0 > 0"):
        sg.value_and_grad(prog, sg.StochasticDerivative(control_variates=False), n=2, seed=0)(theta)


def test_stratified_batches_keep_the_yields_unbiased():
    from apps.analysis import load_samples
    from apps.analysis.optimize import batch_sampler

    full = load_samples()
    draw = batch_sampler(full, 140)
    assert draw.counts.tolist() == [20, 20, 100] and draw.size == 140
    totals = np.array([[s.signal_weights.sum(), s.background_weights.sum()] for s in (draw(3, t) for t in range(50))])
    assert np.allclose(totals.mean(axis=0), [full.signal_weights.sum(), full.background_weights.sum()])  # exact per draw
    # a selection's yield (here: events with many particles) is unbiased over draws, and draws differ
    many = full.events.counts > np.median(full.events.counts)
    target = full.background_weights[many].sum()
    vals = []
    for t in range(400):
        s = draw(3, t)
        vals.append(s.background_weights[s.events.counts > np.median(full.events.counts)].sum())
    vals = np.array(vals)
    assert abs(vals.mean() - target) < 4 * vals.std() / np.sqrt(len(vals))
    assert vals.std() > 0
    assert np.array_equal(draw(3, 7).weight, draw(3, 7).weight)  # same (seed, step), same events
    with pytest.raises(ValueError, match="per process"):
        batch_sampler(full, [10, 10])
    with pytest.raises(ValueError, match=">= 6"):
        batch_sampler(full, 4)
    with pytest.raises(ValueError, match=r"\[2, process size"):
        batch_sampler(full, [1000, 10, 10])


def test_refined_cuts_reach_the_exhaustive_cut_grid_at_that_radius():
    from apps.analysis import background_floor, fastjet_observables, grid_search, load_samples
    from apps.analysis.grid import default_grid, hard_significance
    from apps.analysis.optimize import refine_cuts

    full = load_samples()
    b_min = background_floor(full)
    R = 0.5
    mjj, pt1 = fastjet_observables(full.events, R)
    best = grid_search(full, dict(default_grid(), R=np.array([R])), 0.0, b_min, {R: (mjj, pt1)}).best
    phys = refine_cuts(full, mjj, pt1, (R, 90.0, 150.0, 30.0), 0.0, b_min, seed=0)
    assert phys[0] == R and 80.0 <= phys[1] < phys[2] <= 160.0 and 20.0 <= phys[3] <= 100.0
    Z = hard_significance(full, mjj, pt1, *phys[1:], 0.0, b_min)[0]
    assert Z >= 0.99 * best["Z"], (Z, best)


def test_finite_difference_r_term_matches_enumeration():
    """r_step: R term = central difference of the pass probabilities (CRN), cut terms = their mean at R ± h."""
    from autograd import grad

    from apps.analysis.program import default_estimator, joint_program, to_units
    from apps.analysis.significance import asimov_significance

    theta = to_units([0.6, 80.0, 115.0, 45.0])
    S0, B0 = _yields(theta)

    def z(s, b):
        return asimov_significance(s, b, 0.2, B_MIN)

    zs, zb = grad(z, 0)(S0, B0), grad(z, 1)(S0, B0)
    r, h = 1.0, 1e-3  # r_step in grid units (R ± 0.1); h: the exact derivative's own step in the cuts
    eR = np.eye(4)[0]
    dS_R, dB_R = np.subtract(_yields(theta + r * eR), _yields(theta - r * eR)) / (2 * r)
    cuts = []
    for e in np.eye(4)[1:]:
        d = [np.subtract(_yields(theta + s * r * eR + h * e), _yields(theta + s * r * eR - h * e)) / (2 * h)
             for s in (-1, 1)]
        cuts.append(np.mean(d, axis=0))
    exact = np.r_[zs * dS_R + zb * dB_R, [zs * dS + zb * dB for dS, dB in cuts]]
    K = 4000
    prog = joint_program(_sample(), alpha=ALPHA, samples=K, scale=SCALE, rel_syst=0.2, b_min=B_MIN,
                         linearize=lambda S, B: (S0, B0), r_step=r)
    est = sg.value_and_grad(prog, default_estimator(), n=K, seed=23)(theta)
    pull = (np.asarray(est.grad) - exact) / np.asarray(est.grad_stderr)
    assert np.all(np.abs(pull) < 4.5), (est.grad, exact, est.grad_stderr)
    # the same events clustered at R ± h share their random streams: the difference is far less noisy
    score = joint_program(_sample(), alpha=ALPHA, samples=K, scale=SCALE, rel_syst=0.2, b_min=B_MIN,
                          linearize=lambda S, B: (S0, B0))
    est_score = sg.value_and_grad(score, default_estimator(), n=K, seed=23)(theta)
    assert est.grad_stderr[0] < est_score.grad_stderr[0]
    with pytest.raises(ValueError, match="no score"):
        sg.value_and_grad(prog, sg.ScoreFunction(), n=K, seed=1)(theta)
    with pytest.raises(ValueError, match="exceed the finite-difference step"):
        sg.value_and_grad(prog, default_estimator(), n=K, seed=1)(to_units([0.1, 80.0, 115.0, 45.0]))
    with pytest.raises(ValueError, match="r_step"):
        joint_program(_sample(), alpha=ALPHA, samples=2, scale=SCALE, b_min=B_MIN, r_step=0.0)
