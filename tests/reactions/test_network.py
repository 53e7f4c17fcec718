import numpy as np
import pytest

from apps.reactions import Reaction, ReactionNetwork, immigration_death, immigration_death_network, telegraph_network
from apps.reactions.vectorised import batched_ssa, simulate


def test_parse_and_matrices():
    net = ReactionNetwork(["A", "B", "C"], [("2A + B -> C", "k1"), ("C -> 0", "k2"), ("0 -> A", "k1")])
    assert net.rates == ["k1", "k2"]
    assert net.rate_index.tolist() == [0, 1, 0]
    assert net.order.tolist() == [[2, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert net.change.tolist() == [[-2, -1, 1], [0, 0, -1], [1, 0, 0]]
    # mass action without 1/nu!: h = x_A (x_A - 1) x_B
    assert np.allclose(net.factors(np.array([3, 2, 5])), [3 * 2 * 2, 5, 1])
    assert np.allclose(net.propensities([3, 2, 5], [0.5, 2.0]), [6.0, 10.0, 0.5])
    assert str(Reaction.parse("G_on -> G_on + M", "r")) == "G_on -> G_on + M"


def test_unknown_species():
    with pytest.raises(ValueError, match="unknown species 'Y'"):
        ReactionNetwork(["X"], [("X -> Y", "k")])
    with pytest.raises(ValueError, match="unknown species"):
        immigration_death_network().state({"Z": 1})
    with pytest.raises(ValueError, match="unknown species"):
        batched_ssa(immigration_death_network(), {"X": 0}, 1.0, "Q")


def test_negative_rates():
    f = immigration_death(1.0)
    with pytest.raises(ValueError, match="rate constant 'g' must be finite and >= 0"):
        f(np.array([1.0, -0.5]))
    with pytest.raises(ValueError, match="rate constant 'k'"):
        simulate(immigration_death_network(), [-1.0, 1.0], {"X": 0}, 1.0, 10, 0)
    with pytest.raises(ValueError, match="shape"):
        simulate(immigration_death_network(), [1.0, 1.0, 1.0], {"X": 0}, 1.0, 10, 0)


def test_stoichiometry_driving_counts_negative():
    with pytest.raises(ValueError, match="could drive 'X' negative"):
        ReactionNetwork.from_matrices(["X"], ["k"], order=[[0]], change=[[-1]])
    with pytest.raises(ValueError, match="could drive 'A' negative"):
        ReactionNetwork.from_matrices(["A", "B"], ["k"], order=[[1, 0]], change=[[-2, 1]])
    ok = ReactionNetwork.from_matrices(["X"], ["k", "g"], order=[[0], [1]], change=[[1], [-1]])
    assert ok.change.tolist() == [[1], [-1]]


def test_bad_inputs():
    net = telegraph_network()
    with pytest.raises(ValueError, match="non-negative integer"):
        net.state({"M": -1})
    with pytest.raises(ValueError, match="non-negative integer"):
        net.state([1, 0.5, 0])
    with pytest.raises(ValueError, match="end time"):
        simulate(net, [1, 1, 1, 1], {"G_off": 1}, -1.0, 10, 0)
    with pytest.raises(ValueError, match="'->'"):
        Reaction.parse("A = B", "k")
    with pytest.raises(ValueError, match="cannot read"):
        Reaction.parse("A + -> B", "k")
    with pytest.raises(ValueError, match="duplicate"):
        ReactionNetwork(["A", "A"], [("A -> 0", "k")])
    with pytest.raises(ValueError, match="safety"):
        simulate(net, [1, 1, 1, 1], {"G_off": 1}, 1.0, 10, 0, safety=1.0)
    with pytest.raises(ValueError, match="exceed"):
        simulate(net, [1, 1, 1, 1], {"G_off": 1}, 1.0, 10, 0, dominating=[1, 2, 2, 2])


def test_counts_never_negative_and_conserved():
    net = ReactionNetwork(["A", "B"], [("2A -> B", "k"), ("B -> 2A", "u")])
    X = simulate(net, [1.0, 0.3], {"A": 7, "B": 1}, 5.0, 2000, 3)["X"]
    assert X.min() >= 0
    assert np.all(X[:, 0] + 2 * X[:, 1] == 9)
