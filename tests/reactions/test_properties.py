import numpy as np
from hypothesis import given, strategies as st

from apps.reactions import ReactionNetwork
from apps.reactions.direct import direct_ssa
from apps.reactions.vectorised import simulate

side = st.tuples(st.integers(0, 2), st.integers(0, 2))


@given(st.lists(st.tuples(side, side, st.one_of(st.just(0.0), st.floats(1e-3, 3.0))), min_size=1, max_size=4),
       st.tuples(st.integers(0, 5), st.integers(0, 5)), st.integers(0, 2**31))
def test_random_networks_stay_non_negative_and_replay(reactions, x0, seed):
    def eq(c):
        terms = [f"{n}{s}" for n, s in zip(c, "AB") if n]
        return " + ".join(terms) or "0"

    # no superlinear growth (order >= 2 never adds molecules), so nothing explodes before T
    reactions = [(r, p if sum(p) <= sum(r) + (sum(r) < 2) else r, k) for r, p, k in reactions]
    net = ReactionNetwork(["A", "B"], [(f"{eq(r)} -> {eq(p)}", f"k{i}") for i, (r, p, _) in enumerate(reactions)])
    theta = np.array([k for *_, k in reactions])
    a = simulate(net, theta, list(x0), 0.5, 64, seed, observable="A", score=True, alternatives=True)
    b = simulate(net, theta, list(x0), 0.5, 64, seed, observable="A", score=True, alternatives=True)
    assert a["X"].min() >= 0
    assert np.array_equal(a["X"], b["X"]) and np.array_equal(a["alt_delta"], b["alt_delta"])
    assert np.all(np.isfinite(a["score"]))
    X, _ = direct_ssa(net, theta, list(x0), 0.5, 8, seed)
    assert X.min() >= 0


def test_explosive_network_fails_clearly():
    import pytest

    net = ReactionNetwork(["A"], [("2A -> 3A", "k")])
    with pytest.raises(RuntimeError, match="explode"):
        simulate(net, [1.0], {"A": 5}, 10.0, 4, 0, max_steps=2000)
