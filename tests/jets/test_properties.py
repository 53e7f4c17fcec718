"""hypothesis: anti-kT conserves momentum, is permutation invariant, IR and collinear safe."""

import numpy as np
import pytest

pytest.importorskip("numba")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import apps.jets as J  # noqa: E402

from .conftest import make_event  # noqa: E402

particle = st.tuples(st.floats(1.0, 200.0), st.floats(-2.5, 2.5), st.floats(0.0, 6.28), st.floats(0.0, 2.0))
events = st.lists(particle, min_size=1, max_size=25).map(lambda ps: make_event(*np.array(ps).T))
radii = st.sampled_from([0.4, 0.8, 1.2])


def _jets(p4, R):
    res = J.cluster(p4[None], R)
    return res.inclusive_jets(0.0)[0, 0], res.constituent_indices(0, 0, 0.0)


@given(events, radii)
def test_momentum_conservation(p4, R):
    jets, _ = _jets(p4, R)
    np.testing.assert_allclose(jets.sum(axis=0), p4.sum(axis=0), rtol=0, atol=1e-9 * p4[:, 3].sum())


@given(events, radii, st.randoms(use_true_random=False))
def test_permutation_invariance(p4, R, rnd):
    perm = np.array(rnd.sample(range(len(p4)), len(p4)))
    jets, cons = _jets(p4, R)
    jets2, cons2 = _jets(p4[perm], R)
    # jets of exactly equal pT may come in either order (the order follows the input's), so
    # compare the jets as a set: each keyed by its sorted constituents in the original numbering
    one = sorted((sorted(c.tolist()), j.tolist()) for j, c in zip(jets, cons))
    two = sorted((sorted(perm[c].tolist()), j.tolist()) for j, c in zip(jets2, cons2))
    assert [c for c, _ in two] == [c for c, _ in one]
    np.testing.assert_allclose([j for _, j in two], [j for _, j in one], rtol=1e-12, atol=1e-9)


@given(events, radii, st.floats(-2.5, 2.5), st.floats(0.0, 6.28))
def test_infrared_safety(p4, R, y, phi):
    soft = make_event([1e-8], [y], [phi])
    jets, cons = _jets(p4, R)
    jets2, cons2 = _jets(np.vstack([p4, soft]), R)
    hard2 = [(j, c) for j, c in zip(jets2, cons2) if np.hypot(j[0], j[1]) > 1e-6]
    assert len(hard2) == len(jets)
    for (j2, c2), j, c in zip(hard2, jets, cons):
        np.testing.assert_allclose(j2, j, rtol=0, atol=1e-7)
        assert [k for k in c2.tolist() if k != len(p4)] == c.tolist()


@given(events, radii, st.data())
def test_collinear_safety(p4, R, data):
    k = data.draw(st.integers(0, len(p4) - 1))
    split = np.vstack([p4, p4[k] * 0.5])
    split[k] = p4[k] * 0.5
    jets, cons = _jets(p4, R)
    jets2, cons2 = _jets(split, R)
    np.testing.assert_allclose(jets2, jets, rtol=1e-12, atol=1e-9)
    assert [sorted(k_ for k_ in c.tolist() if k_ != len(p4)) for c in cons2] == [c.tolist() for c in cons]
