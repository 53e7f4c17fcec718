"""Bad input: clear ValueErrors naming the event, or documented behaviour (never a silent NaN)."""

import numpy as np
import pytest

pytest.importorskip("numba")
import apps.jets as J  # noqa: E402

from .conftest import make_event  # noqa: E402


def _two_events():
    p4 = np.zeros((2, 3, 4))
    p4[0] = make_event([30, 40, 5], [0.1, -0.3, 1.0], [0.2, 2.5, 4.0])
    p4[1] = make_event([50, 20, 10], [0.0, 0.5, -1.0], [1.0, 1.2, 3.0])
    return p4, np.array([3, 3])


@pytest.mark.parametrize("bad, match", [(np.nan, "non-finite"), (np.inf, "non-finite")])
def test_non_finite(bad, match):
    p4, c = _two_events()
    p4[1, 2, 0] = bad
    with pytest.raises(ValueError, match=rf"event 1, particle 2: {match}"):
        J.cluster((p4, c), 0.4)


def test_tachyon():
    p4, c = _two_events()
    p4[0, 1, 3] = 0.5 * np.linalg.norm(p4[0, 1, :3])
    with pytest.raises(ValueError, match=r"event 0, particle 1: E = .* < \|p\|"):
        J.sample_mjj_and_score(p4, c, 0.4, 1.0, 2, 0)


def test_zero_vector_inside_counts():
    p4, c = _two_events()
    with pytest.raises(ValueError, match=r"event 1, particle 3: all-zero.*check counts"):
        J.cluster((np.concatenate([p4, np.zeros((2, 1, 4))], axis=1), np.array([3, 4])), 0.4)


@pytest.mark.parametrize("R", [0.0, -0.4, np.nan, np.inf])
def test_bad_radius(R):
    p4, c = _two_events()
    with pytest.raises(ValueError, match=r"event 0: jet radius R"):
        J.cluster((p4, c), R)
    with pytest.raises(ValueError, match=r"event 1: jet radius R"):
        J.sample_mjj_and_score(p4, c, np.array([0.4, R]), 1.0, 2, 0)


@pytest.mark.parametrize("alpha", [-1.0, np.nan])
def test_bad_alpha(alpha):
    p4, c = _two_events()
    with pytest.raises(ValueError, match="alpha"):
        J.cluster((p4, c), 0.4, alpha=alpha)


def test_bad_samples_and_shapes():
    p4, c = _two_events()
    with pytest.raises(ValueError, match="n_samples"):
        J.cluster((p4, c), 0.4, alpha=1.0, n_samples=0)
    with pytest.raises(ValueError, match=r"shape \(n_events,\)"):
        J.cluster((p4, c), np.array([0.4, 0.5, 0.6]))
    with pytest.raises(ValueError, match="counts"):
        J.cluster((p4, np.array([3, 9])), 0.4)


def test_empty_events_have_no_jets():
    p4, c = _two_events()
    c = np.array([0, 3])
    res = J.cluster((p4, c), 0.4, alpha=1.0, n_samples=4, seed=1)
    assert np.all(res.inclusive_jets().counts[0] == 0)
    assert np.all(np.isnan(res.mjj(0.0)[0])) and np.all(res.score[0] == 0)
    mjj, score = J.sample_mjj_and_score(p4, c, 0.4, 1.0, 4, 1, ptmin=0.0)
    assert np.all(np.isnan(mjj[0])) and np.all(np.isfinite(mjj[1])) and np.all(np.isfinite(score))
    assert J.cluster((np.zeros((0, 0, 4)), np.zeros(0, int)), 0.4).mjj().shape == (0, 1)


def test_zero_pt_particles_are_clustered_like_fastjet():
    fastjet = pytest.importorskip("fastjet")
    ak = pytest.importorskip("awkward")
    p4, c = _two_events()
    p4[0, 2] = [0.0, 0.0, 7.0, 7.0]  # massless along the beam: rapidity 1e5 + 7, never merged
    res = J.cluster((p4, c), 0.4)
    jets = res.inclusive_jets(0.0)
    assert jets.counts[0, 0] == 3 and np.all(np.isfinite(jets.p4))
    arr = ak.Array([[dict(zip(("px", "py", "pz", "E"), map(float, row))) for row in p4[e, : c[e]]]
                    for e in range(len(c))])
    fj = fastjet.ClusterSequence(arr, fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)).inclusive_jets()
    for e in range(len(c)):
        ref = np.stack([np.asarray(fj[e][k], dtype=float) for k in ("px", "py", "pz", "E")], axis=1)
        ref = ref[np.argsort(-np.hypot(ref[:, 0], ref[:, 1]), kind="stable")]
        np.testing.assert_allclose(jets[e, 0], ref, rtol=1e-12, atol=1e-12)
    mjj, score = J.sample_mjj_and_score(p4, c, 0.4, 1.0, 8, 0, ptmin=0.0)
    assert np.all(np.isfinite(mjj)) and np.all(np.isfinite(score))


def test_exactly_collinear_particles_give_finite_scores():
    p = make_event([30, 40], [0.1, 0.5], [0.2, 0.4])
    p4 = np.vstack([p, p[:1]])  # two identical particles: d_min = 0
    mjj, score = J.sample_mjj_and_score(p4[None], np.array([3]), 0.4, 1.0, 16, 0, ptmin=0.0)
    assert np.all(np.isfinite(score))


def test_alpha_zero_is_uniform():
    p4 = make_event([30, 40, 20], [0.1, 0.5, -1.0], [0.2, 0.4, 3.0])
    probs, _ = J.exact_histories(p4, 0.4, 0.0, ptmin=0.0)
    res = J.cluster(p4[None], 0.4, alpha=0.0, n_samples=2000, seed=3)
    assert np.all(res.score == 0)
    first = [tuple(x) for x in res.history[0, :, 0].tolist()]
    kinds = sorted(set(first))
    assert len(kinds) == 6  # 3 pairs + 3 beams all reachable
    assert probs.min() > 0
    # uniform over the 6 first-step candidates: a chi-square test at the 1e-4 level (5 dof)
    from scipy.stats import chi2

    counts = np.array([first.count(k) for k in kinds])
    stat = float(np.sum((counts - 2000 / 6) ** 2 / (2000 / 6)))
    assert chi2.sf(stat, 5) > 1e-4, (counts, stat)
    assert chi2.sf(float(np.sum((np.array([500, 300, 300, 300, 300, 300]) - 2000 / 6) ** 2 / (2000 / 6))),
                   5) < 1e-4  # the test detects a 50 % excess of one candidate
