"""Jet definitions: the generalised-kt family (power p) and its probabilistic (Q-) version.

All three algorithms share one distance, FastJet's (E-scheme, true rapidity)::

    d_iB = kt_i^(2p),   d_ij = min(kt_i^(2p), kt_j^(2p)) ΔR²_ij / R²

with ``p = -1`` anti-kT, ``p = 0`` Cambridge/Aachen, ``p = 1`` kt. With ``alpha`` the
definition is the Q-version (Kahawala, Krohn, Schwartz 2013): every step samples a
candidate k among all pairs and beam distances with weight
``exp(−α (d_k − d_min)/d_min)``; ``alpha=None`` (or inf) is the deterministic algorithm.

The names follow FastJet's Python bindings, so ``fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)``
becomes ``apps.jets.JetDefinition(apps.jets.antikt_algorithm, 0.4)``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["JetDefinition", "antikt_algorithm", "kt_algorithm", "cambridge_algorithm", "ALGORITHMS"]

antikt_algorithm = "antikt"
kt_algorithm = "kt"
cambridge_algorithm = "cambridge"

#: algorithm name -> generalised-kt power p (aliases included)
ALGORITHMS = {"antikt": -1, "anti-kt": -1, "kt": 1, "cambridge": 0, "ca": 0, "c/a": 0, "cambridge_aachen": 0}
_FASTJET_ENUM = {0: "kt", 1: "cambridge", 2: "antikt"}
_NAMES = {-1: "anti-kt", 0: "Cambridge/Aachen", 1: "kt"}


class JetDefinition:
    """A jet algorithm (anti-kT, kt or Cambridge/Aachen), its radius and, optionally, the Q-version's α.

    Args:
        algorithm: ``antikt_algorithm`` / ``kt_algorithm`` / ``cambridge_algorithm``
            (the strings ``"antikt"``, ``"kt"``, ``"cambridge"``), fastjet's constants
            (``fastjet.antikt_algorithm``, ...), or a ``fastjet.JetDefinition`` (its
            algorithm and R are taken over).
        R: jet radius (> 0, finite).
        alpha: None for the deterministic algorithm; α ≥ 0 for its probabilistic
            version (α = 0: uniform over all candidates; α → ∞: deterministic).

    Raises:
        ValueError: unknown algorithm, R ≤ 0 or not finite, α < 0 or NaN.
    """

    def __init__(self, algorithm, R=None, alpha=None):
        if hasattr(algorithm, "jet_algorithm") and hasattr(algorithm, "R"):  # a fastjet.JetDefinition
            R = algorithm.R() if R is None else R
            algorithm = algorithm.jet_algorithm()
        if not isinstance(algorithm, str):  # fastjet's enum (kt 0, cambridge 1, antikt 2)
            try:
                algorithm = _FASTJET_ENUM.get(int(algorithm), algorithm)
            except (TypeError, ValueError):
                pass
        key = str(algorithm).lower()
        if key not in ALGORITHMS:
            raise ValueError(f"unknown jet algorithm {algorithm!r}; use antikt_algorithm, kt_algorithm or "
                             "cambridge_algorithm")
        if (R is None or isinstance(R, (bool, np.bool_)) or not isinstance(R, (int, float, np.integer, np.floating))
                or not math.isfinite(R) or R <= 0):
            raise ValueError(f"jet radius R = {R!r}: R must be a finite number > 0")
        R = float(R)  # np.float32 / np.float64 / NumPy integers accepted, kept as a Python float
        if alpha is not None:
            a = float(alpha)
            if math.isnan(a) or a < 0:
                raise ValueError(f"alpha = {alpha!r}: the Q-version needs alpha >= 0 (None for the deterministic algorithm)")
            alpha = None if math.isinf(a) else a
        self.p = ALGORITHMS[key]
        self.radius = float(R)
        self.alpha = alpha

    def R(self):
        """The jet radius (FastJet's ``JetDefinition.R()``)."""
        return self.radius

    def jet_algorithm(self):
        """``"antikt"``, ``"kt"`` or ``"cambridge"``."""
        return {-1: antikt_algorithm, 0: cambridge_algorithm, 1: kt_algorithm}[self.p]

    def description(self):
        """One line, as FastJet's ``description()``."""
        q = "" if self.alpha is None else f", probabilistic (Q-) version with alpha = {self.alpha:g}"
        return f"{_NAMES[self.p]} algorithm with R = {self.radius:g}, E-scheme recombination{q}"

    def __repr__(self):
        a = "" if self.alpha is None else f", alpha={self.alpha!r}"
        return f"JetDefinition({self.jet_algorithm()!r}, {self.radius!r}{a})"

    def __eq__(self, other):
        return isinstance(other, JetDefinition) and (self.p, self.radius, self.alpha) == (other.p, other.radius, other.alpha)

    def __hash__(self):
        return hash((self.p, self.radius, self.alpha))
