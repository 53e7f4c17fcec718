"""The joint gradient (clustering score with per-event baselines + cut stochastic derivative) against enumeration.

Three small events (four particles each) whose every Qanti-kT history is
enumerated (:func:`apps.jets.exact_histories`, plain Python written apart from the
numba engine); with every pass decision summed out too, E[Z](θ) is exact and its
gradient comes from central differences of that exact function.
"""

import itertools
import math

import numpy as np
import pytest

import stochgrad as sg

pytest.importorskip("numba")


def _event(pt, y, phi):
    pt, y, phi = map(np.asarray, (pt, y, phi))
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(y), pt * np.cosh(y)], axis=1)


EVENTS = [
    _event([60.0, 48.0, 14.0, 9.0], [0.0, 0.7, 0.45, 0.9], [0.0, 2.9, 0.35, 3.4]),
    _event([55.0, 40.0, 18.0, 6.0], [0.2, -0.5, -0.1, 0.6], [0.5, 3.5, 0.9, 0.2]),
    _event([45.0, 42.0, 20.0, 11.0], [-0.3, 0.4, 0.1, -0.7], [1.0, 4.0, 1.6, 3.7]),
]
WEIGHTS = np.array([3.0, 40.0, 70.0])  # event 0 is the signal
ALPHA, SCALE, B_MIN = 2.0, (6.0, 6.0), 1.0


def _sample():
    from apps.analysis.samples import Sample
    from apps.jets import Events

    p4 = np.stack(EVENTS)
    return Sample(Events(p4, np.full(3, 4)), np.array([0, 1, 1]), WEIGHTS, np.array([True, False, False]),
                  ("hbb", "bkg"), (1.0, 1.0), 1.0)


def _outcomes(p4, R):
    """{(mjj, pt1): probability} over all Qanti-kT histories of one event."""
    from apps.jets import exact_histories

    probs, mjj, _, hists = exact_histories(p4, R, ALPHA, ptmin=20.0, return_all=True)
    out = {}
    n = len(p4)
    for pr, m, h in zip(probs, mjj, hists):
        mom = {i: p4[i] for i in range(n)}
        finals, k = [], n
        for a, b in h:
            if b < 0:
                finals.append(mom[a])
            else:
                mom[k] = mom[a] + mom[b]
                k += 1
        pts = [math.hypot(f[0], f[1]) for f in finals if math.hypot(f[0], f[1]) >= 20.0]
        key = (round(float(m), 9) if np.isfinite(m) else math.nan, round(max(pts), 9) if pts else 0.0)
        out[key] = out.get(key, 0.0) + pr
    return out


def outcomes_and_pass(theta, scale=SCALE):
    """Per event: (probability of each distinct (mjj, pt1) outcome, its pass probability) at θ (grid units)."""
    from apps.analysis.program import cut_probabilities, to_physical

    R, lo, hi, ptc = to_physical(theta)
    per_event = []
    for p4 in EVENTS:
        outs = _outcomes(p4, R)
        m = np.array([k[0] for k in outs])
        pt1 = np.array([k[1] for k in outs])
        p, _ = cut_probabilities(m, pt1, (lo, hi, ptc), scale)
        per_event.append((np.array(list(outs.values())), p))
    return per_event


def exact_expected_z(theta, scale=SCALE):
    from apps.analysis.significance import asimov_significance

    per_event = outcomes_and_pass(theta, scale)
    # every combination of the events' outcomes (outer product), then every pass pattern
    grids = np.meshgrid(*[np.arange(len(pr)) for pr, _ in per_event], indexing="ij")
    idx = [g.ravel() for g in grids]
    w = np.prod([per_event[e][0][i] for e, i in enumerate(idx)], axis=0)
    total = 0.0
    for c in itertools.product((0, 1), repeat=3):
        pc = np.prod([per_event[e][1][i] if c[e] else 1 - per_event[e][1][i] for e, i in enumerate(idx)], axis=0)
        s = c[0] * WEIGHTS[0]
        b = c[1] * WEIGHTS[1] + c[2] * WEIGHTS[2]
        total += float(np.sum(w * pc)) * float(asimov_significance(s, b, 0.2, B_MIN))
    return total


def test_engine_outcomes_match_enumeration():
    """The engine's sampled (mjj, pt1) frequencies agree with the enumeration (guards the test's own replay)."""
    from apps.analysis.program import observables

    R = 0.6
    mjj, pt1, _ = observables((np.stack(EVENTS), np.full(3, 4)), R, ALPHA, 4000, seed=3)
    for e, p4 in enumerate(EVENTS):
        outs = _outcomes(p4, R)
        for (m, pt), prob in outs.items():
            hit = np.isclose(pt1[e], pt, rtol=1e-6, atol=1e-6) & (
                np.isclose(mjj[e], m, rtol=1e-6) if np.isfinite(m) else np.isnan(mjj[e]))
            assert abs(hit.mean() - prob) < 5 * math.sqrt(prob * (1 - prob) / 4000) + 1e-3


def test_joint_gradient_unbiased_against_exact_enumeration():
    from apps.analysis.program import default_estimator, joint_program, to_units

    theta = to_units([0.6, 80.0, 115.0, 45.0])
    h = 1e-3
    exact = np.array([(exact_expected_z(theta + h * e) - exact_expected_z(theta - h * e)) / (2 * h)
                      for e in np.eye(4)])
    assert np.all(np.abs(exact) > 1e-3), exact  # every component is exercised
    K = 4000
    prog = joint_program(_sample(), alpha=ALPHA, samples=K, scale=SCALE, rel_syst=0.2, b_min=B_MIN)
    est = sg.value_and_grad(prog, default_estimator(), n=K, seed=11)(theta)
    assert est.value == pytest.approx(exact_expected_z(theta), abs=5 * est.value_stderr)
    pull = (np.asarray(est.grad) - exact) / np.asarray(est.grad_stderr)
    assert np.all(np.abs(pull) < 4.5), (est.grad, exact, est.grad_stderr)
    # the core's score function (replica-level baseline) estimates the same gradient, with more noise
    sf = sg.value_and_grad(prog, sg.ScoreFunction(), n=K, seed=12)(theta)
    assert np.all(np.abs((np.asarray(sf.grad) - exact) / np.asarray(sf.grad_stderr)) < 4.5)
    assert np.all(np.asarray(est.grad_stderr) <= np.asarray(sf.grad_stderr))


def test_per_cut_widths_stay_unbiased_against_exact_enumeration():
    """One sigmoid width per cut (what the density-scaled widths produce) keeps the estimate exact in expectation."""
    from apps.analysis.program import default_estimator, joint_program, to_units

    widths = (3.0, 9.0, 5.0)
    theta = to_units([0.6, 80.0, 115.0, 45.0])
    h = 1e-3
    exact = np.array([(exact_expected_z(theta + h * e, widths) - exact_expected_z(theta - h * e, widths)) / (2 * h)
                      for e in np.eye(4)])
    exact_same = np.array([(exact_expected_z(theta + h * e) - exact_expected_z(theta - h * e)) / (2 * h)
                           for e in np.eye(4)])
    assert np.max(np.abs(exact - exact_same)) > 1e-3  # the widths matter, so the test can fail
    K = 4000
    prog = joint_program(_sample(), alpha=ALPHA, samples=K, scale=widths, rel_syst=0.2, b_min=B_MIN)
    est = sg.value_and_grad(prog, default_estimator(), n=K, seed=13)(theta)
    pull = (np.asarray(est.grad) - exact) / np.asarray(est.grad_stderr)
    assert np.all(np.abs(pull) < 4.5), (est.grad, exact, est.grad_stderr)
    with pytest.raises(ValueError, match="sharpness"):
        joint_program(_sample(), alpha=ALPHA, samples=2, scale=(1.0, 2.0, 3.0, 4.0), b_min=B_MIN)


def test_finite_differences_agree_on_the_embedded_sample():
    """Cross-check at scale: FD with common random numbers vs the program's estimator (R and the window's edges)."""
    # small subset of the embedded samples keeps this fast
    from apps.analysis import background_floor, default_estimator, joint_program, load_samples, to_units

    full = load_samples()
    idx = np.r_[0:40, 400:430, 800:900]
    sample = full.subset(idx)
    K = 16  # sized to catch a wrong term (a sign flip of a cut term is ≈ 7 standard errors), ≈ 3.5 s
    prog = joint_program(sample, alpha=10.0, samples=K, scale=(4.0, 4.0), b_min=background_floor(full))
    theta = to_units([0.5, 95.0, 145.0, 40.0])
    est = sg.value_and_grad(prog, default_estimator(), n=K, seed=5)(theta)
    fd = sg.value_and_grad(prog, sg.FiniteDifference(0.5), n=K, seed=5)(theta)
    diff = np.asarray(est.grad) - np.asarray(fd.grad)
    se = np.hypot(est.grad_stderr, fd.grad_stderr)
    assert np.all(np.abs(diff) < 4.5 * se + 0.05 * np.abs(fd.grad)), (est.grad, fd.grad, se)


def test_mass_box_removes_events_outside_and_keeps_those_inside():
    """``box``: an event outside (m_min, m_max) never passes; a box holding every outcome changes nothing."""
    from apps.analysis.program import default_estimator, joint_program, observables, to_units

    theta = to_units([0.6, 80.0, 115.0, 45.0])
    mjj = observables((np.stack(EVENTS), np.full(3, 4)), 0.6, ALPHA, 64, seed=3)[0]
    lo_m, hi_m = np.nanmin(mjj), np.nanmax(mjj)
    args = dict(alpha=ALPHA, samples=8, scale=SCALE, rel_syst=0.2, b_min=B_MIN)
    plain = sg.value_and_grad(joint_program(_sample(), **args), default_estimator(), n=8, seed=4)(theta)
    wide = sg.value_and_grad(joint_program(_sample(), box=(lo_m - 50, hi_m + 50), **args), default_estimator(),
                             n=8, seed=4)(theta)
    np.testing.assert_allclose(wide.grad, plain.grad)
    none = sg.value_and_grad(joint_program(_sample(), box=(hi_m + 1, hi_m + 50), **args), default_estimator(),
                             n=8, seed=4)(theta)
    assert none.value == 0.0 and np.all(np.asarray(none.grad) == 0.0)
    with pytest.raises(ValueError, match="box"):
        joint_program(_sample(), box=(120.0, 80.0), **args)
