"""The two reference networks: immigration–death and the telegraph gene-expression model."""

from __future__ import annotations

from .network import ReactionNetwork

__all__ = ["immigration_death_network", "telegraph_network", "TELEGRAPH_TRUE"]

#: Rates used for the telegraph fit: k_on, k_off, r, gamma (gamma sets the time unit).
TELEGRAPH_TRUE = (0.5, 1.0, 20.0, 1.0)


def immigration_death_network() -> ReactionNetwork:
    """``∅ → X`` at rate ``k``, ``X → ∅`` at rate ``g·x``; θ = ``[k, g]``."""
    return ReactionNetwork(["X"], [("0 -> X", "k"), ("X -> 0", "g")])


def telegraph_network() -> ReactionNetwork:
    """Telegraph model: gene ``G_off ⇄ G_on`` (``k_on``, ``k_off``), ``G_on → G_on + M`` (``r``), ``M → ∅`` (``gamma``).

    θ = ``[k_on, k_off, r, gamma]``; species ``[G_off, G_on, M]``.
    """
    return ReactionNetwork(
        ["G_off", "G_on", "M"],
        [("G_off -> G_on", "k_on"), ("G_on -> G_off", "k_off"), ("G_on -> G_on + M", "r"), ("M -> 0", "gamma")],
    )
