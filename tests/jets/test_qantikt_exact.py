"""Sampled Qanti-kT (and the sampled kt / Cambridge-Aachen) against exact enumeration of every
history (events of ≤ 6 particles)."""

import numpy as np
import pytest

pytest.importorskip("numba")
from scipy import stats  # noqa: E402

import apps.jets as J  # noqa: E402

from .conftest import make_event  # noqa: E402

N_SAMPLES = 100_000


def _event(n, seed):
    rng = np.random.default_rng(seed)
    return make_event(rng.uniform(5, 80, n), rng.uniform(-1.2, 1.2, n), rng.uniform(0, 2.0, n),
                      rng.uniform(0, 3, n))


# (particles, seed, R, alpha, p): p = -1 anti-kT, 0 Cambridge/Aachen, 1 kt
CASES = [(4, 1, 0.6, 1.0, -1), (5, 3, 0.8, 1.0, -1), (5, 7, 1.2, 0.5, -1), (6, 11, 0.8, 2.0, -1),
         (5, 3, 0.8, 1.0, 0), (5, 5, 1.0, 1.0, 1)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"n{c[0]}-R{c[2]}-a{c[3]}-p{c[4]}")
def case(request):
    n, seed, R, alpha, p = request.param
    p4 = _event(n, seed)
    probs, mjj, score, hists = J.exact_histories(p4, R, alpha, ptmin=0.0, return_all=True, p=p)
    res = J.cluster(p4[None], R, alpha=alpha, n_samples=N_SAMPLES, seed=seed, p=p)
    index = {h: i for i, h in enumerate(hists)}
    H = res.history[0, :, :n]
    ids = np.array([index[tuple(map(tuple, h.tolist()))] for h in H])
    return dict(p4=p4, R=R, alpha=alpha, p=p, probs=probs, mjj=mjj, score=score, res=res, ids=ids)


def test_exact_probabilities_normalised(case):
    assert case["probs"].sum() == pytest.approx(1.0, abs=1e-12)


def test_frequencies_chi_square(case):
    probs, ids = case["probs"], case["ids"]
    counts = np.bincount(ids, minlength=len(probs)).astype(float)
    expected = probs * len(ids)
    big = expected >= 5
    obs = np.append(counts[big], counts[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    keep = exp > 0
    p = stats.chisquare(obs[keep], exp[keep] * obs[keep].sum() / exp[keep].sum()).pvalue
    assert p > 1e-3, f"chi-square p-value {p:.2e}"


def test_score_and_mjj_per_history(case):
    res, ids = case["res"], case["ids"]
    np.testing.assert_allclose(res.score[0], case["score"][ids], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res.mjj(0.0)[0], case["mjj"][ids], rtol=1e-12, equal_nan=True)


def test_score_function_gradient_of_mean_mjj(case):
    p4, R, alpha, p = case["p4"], case["R"], case["alpha"], case["p"]
    f = np.nan_to_num(case["mjj"])
    analytic = np.sum(case["probs"] * case["score"] * f)
    h = 1e-5
    hi = J.exact_histories(p4, R + h, alpha, ptmin=0.0, p=p)
    lo = J.exact_histories(p4, R - h, alpha, ptmin=0.0, p=p)
    fd = (np.sum(hi[0] * np.nan_to_num(hi[1])) - np.sum(lo[0] * np.nan_to_num(lo[1]))) / (2 * h)
    assert analytic == pytest.approx(fd, rel=1e-5, abs=1e-6)
    mjj, score = J.sample_mjj_and_score(p4[None], np.array([len(p4)]), R, alpha, N_SAMPLES, 99, ptmin=0.0, p=p)
    fm = np.nan_to_num(mjj[0])
    g = (fm - fm.mean()) * score[0]  # score function with a mean baseline
    est, se = g.mean(), g.std(ddof=1) / np.sqrt(len(g))
    assert abs(est - fd) < 4 * se + 1e-9, f"estimate {est} ± {se} vs exact {fd}"


def test_deterministic_is_alpha_infinity_limit():
    p4 = _event(5, 3)
    (probs, mjj) = J.exact_histories(p4, 0.8, None, ptmin=0.0)
    res = J.cluster(p4[None], 0.8)
    assert len(probs) == 1
    np.testing.assert_allclose(res.mjj(0.0)[0, 0], mjj[0], equal_nan=True)
    probs, _, _, hists = J.exact_histories(p4, 0.8, 500.0, ptmin=0.0, return_all=True)
    det_history = tuple(map(tuple, res.history[0, 0].tolist()))
    assert hists[int(np.argmax(probs))] == det_history and probs.max() > 0.9
    assert np.all(J.cluster(p4[None], 0.8, alpha=np.inf, n_samples=3, seed=1).score == 0)


def test_seed_streams_do_not_depend_on_threads_or_batch():
    numba = pytest.importorskip("numba")
    p4 = _event(6, 11)
    a = J.sample_mjj_and_score(p4[None], np.array([6]), 0.8, 1.0, 64, 5)
    b = J.sample_mjj_and_score(np.repeat(p4[None], 3, 0), np.full(3, 6), 0.8, 1.0, 64, 5)
    np.testing.assert_array_equal(a[1][0], b[1][0])
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        c = J.sample_mjj_and_score(np.repeat(p4[None], 3, 0), np.full(3, 6), 0.8, 1.0, 64, 5)
    finally:
        numba.set_num_threads(old)
    np.testing.assert_array_equal(b[1], c[1])
    assert not np.array_equal(b[1][0], b[1][1])  # other events get other streams


@pytest.mark.parametrize("n_alt", [1, 3])
def test_stochastic_derivative_gradient_of_window_loss(case, n_alt):
    """Alternatives drawn ∝ |∂π/∂R| and re-clustered: unbiased for d/dR E[f(mjj)] (exact enumeration).

    f is the optimiser's window loss (bounded, NaN → 1), so histories that lose a
    jet count too.
    """
    from apps.jets.study.optimize import event_loss

    p4, R, alpha, p = case["p4"], case["R"], case["alpha"], case["p"]
    exact = np.sum(case["probs"] * case["score"] * event_loss(case["mjj"], width=40.0))
    n = 20_000
    mjj, score, amjj, aw = J.sample_mjj_and_alternatives(p4[None], np.array([len(p4)]), R, alpha, n, 3,
                                                         n_alternatives=n_alt, ptmin=0.0, p=p)
    f = event_loss(mjj[0], width=40.0)
    delta = np.where(aw[0] != 0, event_loss(amjj[0], width=40.0) - f[:, None], 0.0)
    g = (aw[0] * delta).sum(axis=1)
    est, se = g.mean(), g.std(ddof=1) / np.sqrt(n)
    assert abs(est - exact) < 4 * se + 1e-9, f"estimate {est} ± {se} vs exact {exact}"
    # the primal histories are those of sample_mjj_and_score with the same seed
    m2, s2 = J.sample_mjj_and_score(p4[None], np.array([len(p4)]), R, alpha, n, 3, ptmin=0.0, p=p)
    np.testing.assert_array_equal(np.nan_to_num(m2), np.nan_to_num(mjj))
    np.testing.assert_array_equal(s2, score)
