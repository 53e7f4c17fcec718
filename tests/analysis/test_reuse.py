"""Reused Qanti-kT histories in the analysis program: unbiased at a fixed θ against enumeration; refresh rules."""

import numpy as np
import pytest

import stochgrad as sg

pytest.importorskip("numba")

from tests.analysis.test_batch import exact_linear_gradient  # noqa: E402
from tests.analysis.test_gradient import ALPHA, B_MIN, SCALE, _sample  # noqa: E402


def test_histories_from_another_radius_give_the_exact_gradient_and_without_the_ratio_they_do_not():
    from apps.analysis.program import default_estimator, joint_program, to_units
    from apps.analysis.reuse import ReusedHistories

    theta = to_units([0.6, 80.0, 115.0, 45.0])
    center, exact = exact_linear_gradient((0.6, 80.0, 115.0, 45.0))
    K = 4000
    sample = _sample()
    reused = ReusedHistories(sample.events, ALPHA, K, seed=5, ess_min=1e-6, r_factor=1.5)
    reused(0.45)  # histories sampled at R_k = 0.45, served at R = 0.6 by p_R(h) / p_Rk(h)
    prog = joint_program(sample, alpha=ALPHA, samples=K, scale=SCALE, rel_syst=0.2, b_min=B_MIN,
                         linearize=lambda S, B: center, histories=reused)
    est = sg.value_and_grad(prog, default_estimator(), n=K, seed=21)(theta)
    assert reused.clusterings == 3 * K and reused.refreshes == [3, 0]  # nothing re-clustered at 0.6
    assert 0.2 < reused.ess[-1] < 0.99
    pull = (np.asarray(est.grad) - exact) / np.asarray(est.grad_stderr)
    assert np.all(np.abs(pull) < 4.5), (est.grad, exact, est.grad_stderr)

    def no_ratio(R):  # the same histories taken as if sampled at R
        mjj, pt1, score, r = reused(R)
        return mjj, pt1, score, np.ones_like(r)

    bad = joint_program(sample, alpha=ALPHA, samples=K, scale=SCALE, rel_syst=0.2, b_min=B_MIN,
                        linearize=lambda S, B: center, histories=no_ratio)
    wrong = sg.value_and_grad(bad, default_estimator(), n=K, seed=21)(theta)
    pull = (np.asarray(wrong.grad) - exact) / np.asarray(wrong.grad_stderr)
    assert np.max(np.abs(pull)) > 4.5, (wrong.grad, exact, wrong.grad_stderr)


def test_events_are_reclustered_when_the_ess_falls_or_r_leaves_the_range():
    from apps.analysis.reuse import ReusedHistories

    sample = _sample()
    reused = ReusedHistories(sample.events, ALPHA, 200, seed=1, ess_min=0.9, r_factor=1.2)
    reused(0.6)
    assert reused.refreshes == [3] and reused.clusterings == 600
    mjj, pt1, score, r = reused(0.6)  # same R: ratios exactly 1, nothing sampled
    assert reused.refreshes[-1] == 0 and np.all(r == 1.0)
    reused(0.8)  # outside [0.5, 0.72]: every event re-clustered, ratios 1 at the new R
    assert reused.refreshes[-1] == 3 and reused.clusterings == 1200
    reused.ess_min = 0.975  # the events' ESS fractions at 0.84 are 0.970, 0.978, 0.971 (seeded)
    _, _, _, r = reused(0.84)  # inside the new range: only the events whose ESS fell below 0.975 K are re-clustered
    fresh = reused.group == max(reused.groups)
    assert 0 < reused.refreshes[-1] == fresh.sum() < 3 and np.all(r[fresh] == 1.0) and np.all(r[~fresh] != 1.0)
    _, _, _, r2 = reused(0.84)  # the older group is cut down to its live events: same ratios
    np.testing.assert_array_equal(r2, r)
    with pytest.raises(ValueError, match="ess_min"):
        ReusedHistories(sample.events, ALPHA, 4, ess_min=0.0)
    from apps.analysis.program import joint_program

    with pytest.raises(ValueError, match="linearize"):
        joint_program(sample, alpha=ALPHA, samples=4, scale=SCALE, b_min=B_MIN, histories=reused)
