"""Reaction networks: species, reactions with stoichiometry, mass-action rate constants.

Convention (mass action, combinatorial form without the ``1/ν!`` factor): reaction
``j`` with reactant orders ``ν_js`` and rate constant ``c_j`` has propensity

    a_j(x) = c_j · h_j(x),    h_j(x) = Π_s x_s (x_s − 1) ··· (x_s − ν_js + 1)

so ``∅ → X`` has ``a = c``, ``X → ∅`` has ``a = c·x`` and ``2A → B`` has
``a = c·x_A(x_A − 1)``. θ is the vector of *distinct* rate names in order of first
appearance (reactions may share a rate name, and then one parameter).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Mapping, Sequence

import numpy as np

__all__ = ["Reaction", "ReactionNetwork"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TERM = re.compile(r"^\s*(\d*)\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_EMPTY = {"0", "∅", ""}


def _side(text: str, equation: str) -> dict:
    out: dict = {}
    if text.strip() in _EMPTY:
        return out
    for term in text.split("+"):
        m = _TERM.match(term)
        if not m:
            raise ValueError(f"reaction {equation!r}: cannot read the term {term.strip()!r} "
                             "(expected e.g. 'A', '2B' or '0' for nothing)")
        coef = int(m.group(1)) if m.group(1) else 1
        out[m.group(2)] = out.get(m.group(2), 0) + coef
    return out


@dataclasses.dataclass(frozen=True)
class Reaction:
    """One reaction: reactant and product counts plus the name of its rate constant.

    Attributes:
        reactants: species name -> number of copies consumed (sets the mass-action order).
        products: species name -> number of copies produced.
        rate: name of the rate constant (a parameter of θ).
    """

    reactants: Mapping[str, int]
    products: Mapping[str, int]
    rate: str

    @classmethod
    def parse(cls, equation: str, rate: str) -> "Reaction":
        """Read ``"A + 2B -> C"`` (``0`` or ``∅`` for nothing) with rate constant name ``rate``.

        Raises:
            ValueError: no ``->``, unreadable term, or a bad rate name.
        """
        if equation.count("->") != 1:
            raise ValueError(f"reaction {equation!r}: expected exactly one '->'")
        left, right = equation.split("->")
        return cls(_side(left, equation), _side(right, equation), rate)

    def __str__(self):
        def fmt(d):
            return " + ".join(f"{c if c > 1 else ''}{s}" for s, c in d.items()) or "0"
        return f"{fmt(self.reactants)} -> {fmt(self.products)}"


class ReactionNetwork:
    """A mass-action reaction network (species, reactions, rate-constant names).

    Args:
        species: species names (identifiers), in state-vector order.
        reactions: :class:`Reaction` objects or ``(equation, rate_name)`` pairs.

    Attributes:
        species, reactions: as given (reactions parsed).
        rates: distinct rate names: the components of θ, in order.
        order: ``(J, S)`` reactant orders ``ν``; change: ``(J, S)`` net stoichiometry.
        rate_index: ``(J,)`` index into θ of each reaction's rate constant.

    Raises:
        ValueError: unknown or duplicate species, bad names, negative counts, or a
            reaction whose net change removes more copies of a species than its
            propensity requires (it could drive that count negative).
    """

    def __init__(self, species: Sequence[str], reactions: Sequence):
        species = list(species)
        if not species:
            raise ValueError("a reaction network needs at least one species")
        for s in species:
            if not isinstance(s, str) or not _NAME.match(s):
                raise ValueError(f"species name {s!r} is not an identifier")
        if len(set(species)) != len(species):
            raise ValueError(f"duplicate species in {species}")
        parsed = []
        for r in reactions:
            if isinstance(r, Reaction):
                parsed.append(r)
            elif isinstance(r, (tuple, list)) and len(r) == 2:
                parsed.append(Reaction.parse(*r))
            else:
                raise TypeError(f"a reaction must be a Reaction or an (equation, rate_name) pair, got {r!r}")
        if not parsed:
            raise ValueError("a reaction network needs at least one reaction")
        index = {s: i for i, s in enumerate(species)}
        J, S = len(parsed), len(species)
        order = np.zeros((J, S), dtype=np.int64)
        prod = np.zeros((J, S), dtype=np.int64)
        for j, r in enumerate(parsed):
            for side, arr in ((r.reactants, order), (r.products, prod)):
                for s, c in side.items():
                    if s not in index:
                        raise ValueError(f"reaction '{r}': unknown species {s!r}; declared species: {species}")
                    if not (isinstance(c, (int, np.integer)) and c >= 0):
                        raise ValueError(f"reaction '{r}': count of {s!r} must be a non-negative int, got {c!r}")
                    arr[j, index[s]] = c
        self._init(species, [r.rate for r in parsed], order, prod - order, parsed)

    @classmethod
    def from_matrices(cls, species, rates, order, change) -> "ReactionNetwork":
        """Build from a reactant-order matrix ``(J, S)`` and a net-change matrix ``(J, S)``.

        Raises:
            ValueError: as for the constructor, in particular when ``change`` removes
                more copies of a species than ``order`` makes the propensity depend on.
        """
        self = cls.__new__(cls)
        order = np.asarray(order)
        change = np.asarray(change)
        if order.shape != change.shape or order.ndim != 2 or order.shape[1] != len(species):
            raise ValueError(f"order {order.shape} and change {change.shape} must both be (J, {len(species)})")
        if np.any(order < 0) or not np.array_equal(order, np.round(order)) or not np.array_equal(change, np.round(change)):
            raise ValueError("order must hold non-negative integers and change integers")
        if len(rates) != order.shape[0]:
            raise ValueError(f"need one rate name per reaction: {len(rates)} names for {order.shape[0]} reactions")
        reactions = [Reaction({s: int(order[j, i]) for i, s in enumerate(species) if order[j, i]},
                              {s: int(order[j, i] + change[j, i]) for i, s in enumerate(species)
                               if order[j, i] + change[j, i] > 0}, rates[j]) for j in range(len(rates))]
        self._init(list(species), list(rates), order.astype(np.int64), change.astype(np.int64), reactions)
        return self

    def _init(self, species, rate_names, order, change, reactions):
        for j, name in enumerate(rate_names):
            if not isinstance(name, str) or not _NAME.match(name):
                raise ValueError(f"reaction {j}: rate name {name!r} is not an identifier")
        bad = np.argwhere(-change > order)
        if bad.size:
            j, s = bad[0]
            raise ValueError(
                f"reaction {j} ('{reactions[j]}') removes {-change[j, s]} of {species[s]!r} but its "
                f"propensity requires only {order[j, s]} of them, so it could drive {species[s]!r} "
                "negative; list the consumed copies among the reactants")
        self.species = list(species)
        self.reactions = list(reactions)
        self.order = order
        self.change = change
        self.rates = list(dict.fromkeys(rate_names))
        self.rate_index = np.array([self.rates.index(n) for n in rate_names], dtype=np.int64)
        self._terms = [[(s, int(order[j, s])) for s in np.flatnonzero(order[j])] for j in range(len(reactions))]

    @property
    def n_species(self) -> int:
        return len(self.species)

    @property
    def n_reactions(self) -> int:
        return len(self.reactions)

    def species_index(self, name: str) -> int:
        """Position of ``name`` in the state vector.

        Raises:
            ValueError: unknown species.
        """
        if name not in self.species:
            raise ValueError(f"unknown species {name!r}; declared species: {self.species}")
        return self.species.index(name)

    def state(self, x0) -> np.ndarray:
        """A validated initial state: dict ``{species: count}`` (others 0) or a length-S sequence.

        Raises:
            ValueError: unknown species, wrong length, negative or non-integer counts.
        """
        if isinstance(x0, Mapping):
            x = np.zeros(self.n_species, dtype=np.int64)
            for s, c in x0.items():
                x[self.species_index(s)] = _count(c, s)
            return x
        arr = np.asarray(x0)
        if arr.shape != (self.n_species,):
            raise ValueError(f"initial state must have {self.n_species} counts ({self.species}), got shape {arr.shape}")
        return np.array([_count(c, s) for c, s in zip(arr.tolist(), self.species)], dtype=np.int64)

    def theta(self, theta) -> np.ndarray:
        """θ as a float array of shape ``(len(rates),)``, checked.

        Raises:
            ValueError: wrong shape, non-finite or negative rate constants.
        """
        from stochgrad.extend import value_of

        th = np.asarray(value_of(theta), dtype=float)
        if th.shape != (len(self.rates),):
            raise ValueError(f"θ must hold the rate constants {self.rates} (shape ({len(self.rates)},)), "
                             f"got shape {th.shape}")
        for name, v in zip(self.rates, th):
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"rate constant {name!r} must be finite and >= 0, got {v!r}")
        return th

    def factors(self, X, xp=np):
        """Mass-action factors ``h_j(x)`` for states ``X`` of shape ``(..., S)``: shape ``(..., J)``."""
        X = xp.asarray(X)
        out = xp.ones(X.shape[:-1] + (self.n_reactions,), dtype=float)
        for j, terms in enumerate(self._terms):
            for s, nu in terms:
                xs = X[..., s].astype(float)
                f = xs
                for i in range(1, nu):
                    f = f * (xs - i)
                out[..., j] = out[..., j] * f
        return out

    def propensities(self, x, theta, xp=np):
        """Propensities ``a_j(x) = θ_{rate(j)} h_j(x)``, shape ``(..., J)``."""
        return self.factors(x, xp) * xp.asarray(self.theta(theta)[self.rate_index])

    def __repr__(self):
        lines = ", ".join(f"{r} [{r.rate}]" for r in self.reactions)
        return f"ReactionNetwork(species={self.species}, reactions=[{lines}])"


def _count(c, name) -> int:
    if isinstance(c, bool) or not float(c).is_integer() or c < 0:
        raise ValueError(f"initial count of {name!r} must be a non-negative integer, got {c!r}")
    return int(c)
