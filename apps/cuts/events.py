"""Event samples and cut specifications (which variables are cut, one-sided or window), with input checks."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Events", "CutSpec"]

_KINDS = {">": "lower", "lower": "lower", "min": "lower",
          "<": "upper", "upper": "upper", "max": "upper",
          "window": "window", "<>": "window"}


@dataclasses.dataclass(frozen=True)
class Events:
    """A labelled event sample: features ``(N, V)``, signal flags ``(N,)``, weights ``(N,)``.

    Args:
        features: array ``(N, V)`` (or ``(N,)`` for one variable); finite values.
        is_signal: booleans (or 0/1) ``(N,)``.
        weights: per-event weights ``(N,)`` (expected yield per event), default 1.

    Raises:
        ValueError: empty sample, NaN/inf features or weights, mismatched lengths,
            labels that are not 0/1.
    """

    features: np.ndarray
    is_signal: np.ndarray
    weights: np.ndarray = None

    def __post_init__(self):
        x = np.asarray(self.features, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise ValueError(f"features must have shape (N, V), got {x.shape}")
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"the event sample is empty (features of shape {x.shape}); need at least one event")
        bad = ~np.isfinite(x)
        if bad.any():
            i, v = np.argwhere(bad)[0]
            raise ValueError(f"feature {v} of event {i} is {x[i, v]} ({int(bad.sum())} non-finite values); "
                             "drop or impute those events first")
        lab = np.asarray(self.is_signal)
        if lab.shape != (x.shape[0],):
            raise ValueError(f"is_signal must have shape ({x.shape[0]},), got {lab.shape}")
        if not np.all((lab == 0) | (lab == 1)):
            raise ValueError("is_signal must hold booleans or 0/1")
        w = np.ones(x.shape[0]) if self.weights is None else np.asarray(self.weights, dtype=float)
        if w.shape != (x.shape[0],):
            raise ValueError(f"weights must have shape ({x.shape[0]},), got {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError("weights must be finite")
        object.__setattr__(self, "features", x)
        object.__setattr__(self, "is_signal", lab.astype(bool))
        object.__setattr__(self, "weights", w)

    @property
    def n(self) -> int:
        """Number of events."""
        return self.features.shape[0]

    @property
    def signal_weights(self) -> np.ndarray:
        """``w_i`` for signal events, 0 for background."""
        return np.where(self.is_signal, self.weights, 0.0)

    @property
    def background_weights(self) -> np.ndarray:
        """``w_i`` for background events, 0 for signal."""
        return np.where(self.is_signal, 0.0, self.weights)

    @classmethod
    def from_samples(cls, signal, background, signal_weight=1.0, background_weight=1.0):
        """Concatenate a signal and a background feature array (per-class constant weights)."""
        s = np.asarray(signal, dtype=float)
        b = np.asarray(background, dtype=float)
        s = s[:, None] if s.ndim == 1 else s
        b = b[:, None] if b.ndim == 1 else b
        if s.shape[0] == 0 and b.shape[0] == 0:
            raise ValueError("both the signal and the background samples are empty")
        x = np.concatenate([s.reshape(len(s), -1), b.reshape(len(b), -1)])
        lab = np.r_[np.ones(len(s), bool), np.zeros(len(b), bool)]
        w = np.r_[np.full(len(s), float(signal_weight)), np.full(len(b), float(background_weight))]
        return cls(x, lab, w)


class CutSpec:
    """Which variables are cut and how; fixes the layout of the threshold vector θ.

    Each entry is ``(variable, kind)`` with kind ``">"``/``"lower"`` (keep ``x > c``),
    ``"<"``/``"upper"`` (keep ``x < c``) or ``"window"`` (keep ``lo < x < hi``, two
    parameters ``lo, hi``). θ is the concatenation of the thresholds in order.

    Args:
        cuts: list of ``(variable index, kind)``, or of kinds (variable = position).
        names: optional variable names for tables.

    Raises:
        ValueError: unknown kind, negative variable index, no cuts.
    """

    def __init__(self, cuts, names=None):
        cuts = list(cuts)
        if not cuts:
            raise ValueError("CutSpec needs at least one cut")
        var, direction, labels = [], [], []
        for j, c in enumerate(cuts):
            v, kind = (j, c) if isinstance(c, str) else c
            if kind not in _KINDS:
                raise ValueError(f"unknown cut kind {kind!r}; use one of {sorted(_KINDS)}")
            if int(v) < 0:
                raise ValueError(f"variable index must be >= 0, got {v}")
            nm = names[int(v)] if names is not None else f"x{int(v)}"
            kind = _KINDS[kind]
            if kind in ("lower", "window"):
                var.append(int(v)), direction.append(1.0), labels.append(f"{nm} >")
            if kind in ("upper", "window"):
                var.append(int(v)), direction.append(-1.0), labels.append(f"{nm} <")
        self.variables = np.array(var)
        self.direction = np.array(direction)  # +1: keep x > θ_d, -1: keep x < θ_d
        self.labels = labels
        self.cuts = cuts

    @property
    def n_params(self) -> int:
        """Length of θ."""
        return len(self.variables)

    def check(self, events: Events, theta) -> np.ndarray:
        """θ as a flat float array, validated against this spec and ``events``.

        Raises:
            ValueError: wrong length, non-finite θ, variable index beyond the features.
        """
        th = np.asarray(theta, dtype=float).reshape(-1)
        if th.size != self.n_params:
            raise ValueError(f"θ must have {self.n_params} thresholds ({', '.join(self.labels)}), got {th.size}")
        if not np.all(np.isfinite(th)):
            raise ValueError(f"θ must be finite, got {theta!r}")
        if self.variables.max() >= events.features.shape[1]:
            raise ValueError(f"cut on variable {self.variables.max()} but events have "
                             f"{events.features.shape[1]} feature(s)")
        return th

    def hard_pass(self, events: Events, theta) -> np.ndarray:
        """Boolean ``(N,)``: the events kept by the hard cut at θ (strict inequalities)."""
        th = self.check(events, theta)
        z = self.direction * (events.features[:, self.variables] - th)
        return np.all(z > 0, axis=1)

    def __repr__(self):
        return f"CutSpec({self.labels})"
