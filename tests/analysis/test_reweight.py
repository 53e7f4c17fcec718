"""Stored Qanti-kT histories replayed at another radius (``apps.jets.clustering.reweight``), against enumeration."""

import numpy as np
import pytest

from apps.jets.clustering import cluster, exact_histories
from apps.jets.clustering.reweight import history_log_prob, replay_candidates

ALPHA = 2.0


def _events(n_ev=3, n=5, seed=3):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_ev):
        pt, y, ph = rng.uniform(1, 40, n), rng.uniform(-1, 1, n), rng.uniform(0, 0.9, n)
        out.append(np.c_[pt * np.cos(ph), pt * np.sin(ph), pt * np.sinh(y), pt * np.cosh(y)])
    return np.stack(out)


def _key(row):
    return tuple((int(a), int(b)) for a, b in row)


def test_replayed_log_prob_and_score_equal_enumeration_at_any_radius_of_the_range():
    p4 = _events(n=4)
    res = cluster(p4, 0.6, alpha=ALPHA, n_samples=40, seed=7)
    lp, sc = history_log_prob(res)
    np.testing.assert_allclose(sc, res.score, atol=1e-10)  # the engine's own score of the history
    stored = replay_candidates(res, (0.3, 1.2))
    for R in (0.3, 0.6, 1.2):
        lpR, scR = stored.log_prob(R)
        for e in range(len(p4)):
            probs, _, score, hists = exact_histories(p4[e], R, ALPHA, return_all=True)
            table = {h: (p, s) for p, s, h in zip(probs, score, hists)}
            for k in range(res.n_samples):
                p, s = table[_key(res.history[e, k, :4])]
                assert lpR[e, k] == pytest.approx(np.log(p), abs=1e-12)
                assert scR[e, k] == pytest.approx(s, abs=1e-10)
    with pytest.raises(ValueError, match="outside the stored range"):
        stored.log_prob(1.3)
    part = stored.subset(np.array([False, True, True]))  # the candidates of events 1 and 2 only
    np.testing.assert_array_equal(part.log_prob(0.8)[0], stored.log_prob(0.8)[0][1:])
    np.testing.assert_array_equal(part.log_prob(0.8)[1], stored.log_prob(0.8)[1][1:])


def test_importance_weighted_mean_and_gradient_match_enumeration_and_a_wrong_ratio_is_caught():
    # histories sampled at R_k = 0.6 serve R = 0.85 through p_R(h) / p_Rk(h)
    p4 = _events(n_ev=2, seed=5)
    Rk, R, n = 0.6, 0.85, 4000
    res = cluster(p4, Rk, alpha=ALPHA, n_samples=n, seed=11)
    f = np.nan_to_num(res.mjj(5.0), nan=0.0)
    stored = replay_candidates(res, (Rk, R))
    lp_k, _ = stored.log_prob(Rk)
    lp, score = stored.log_prob(R)
    ratio = np.exp(lp - lp_k)
    for e in range(len(p4)):
        probs, mjj, sc, _ = exact_histories(p4[e], R, ALPHA, ptmin=5.0, return_all=True)
        fx = np.nan_to_num(mjj, nan=0.0)
        exact_value, exact_grad = np.sum(probs * fx), np.sum(probs * sc * fx)
        for est, exact in ((ratio[e] * f[e], exact_value), (ratio[e] * score[e] * f[e], exact_grad)):
            se = est.std(ddof=1) / np.sqrt(n)
            assert abs(est.mean() - exact) < 4 * se, (e, est.mean(), exact, se)
        # the same test rejects the estimate without the ratio (samples at R_k taken as if at R) and with it inverted
        for wrong in (np.ones(n), 1.0 / ratio[e]):
            est = wrong * f[e]
            se = est.std(ddof=1) / np.sqrt(n)
            assert abs(est.mean() - exact_value) > 4 * se, (e, est.mean(), exact_value, se)


def test_replay_refuses_what_it_cannot_replay():
    p4 = _events(n_ev=1)
    with pytest.raises(ValueError, match="finite"):
        replay_candidates(cluster(p4, 0.6, alpha=None))
    res = cluster(p4, 0.6, alpha=ALPHA, n_samples=2, seed=1)
    with pytest.raises(ValueError, match="r_range"):
        replay_candidates(res, (0.8, 0.5))
    bad = cluster(p4, 0.6, alpha=ALPHA, n_samples=2, seed=1)
    bad.history = bad.history.copy()
    bad.history[0, 1, 0] = bad.history[0, 1, 1] = 0  # merges a jet with itself
    with pytest.raises(ValueError, match="event 0, sample 1"):
        replay_candidates(bad)
