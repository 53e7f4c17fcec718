"""A per-event jet radius predicted from observables, fitted on one half and scored on the other.

Choosing each event's R on the loss it is then scored on
(:func:`apps.jets.study.optimize.optimize_per_event`) narrows the resonance by construction:
each event pulls its own mjj to the target. The fair version is a *map*

    log R_e = Φ(x_e) · w

from observables ``x_e`` available on data — here the leading jet's pT (from anti-kT at
a fixed reference radius) — to a radius, with a few parameters ``w`` fitted on a
training sample and judged on events it never saw:

* ``"quartiles"``: one log R per quartile of the leading-jet pT (edges from the
  training events; Φ is one-hot);
* ``"linear"``: ``log R = w₀ + w₁ · (log pT_lead − c)/s`` (c, s from the training events);
* ``"global"``: one R for all events (Φ = 1), the same fit for the baseline.

The fit is gradient descent on the expected window loss of sampled Qanti-kT clustering
(α finite): every event's derivative ``∂ loss_e/∂ log R_e`` comes from one vectorised
call (:func:`apps.jets.study.optimize.per_event_estimate`, score function with per-event
baselines, unbiased), and the chain rule gives ``∇_w = Φᵀ g / n`` (unbiased too). The
parameters reported are their average over the tail of the run (Polyak averaging), as
for the global radius. Scoring uses hard anti-kT at each event's predicted R.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import stochgrad as sg

from . import optimize as opt

__all__ = ["KINDS", "RadiusMap", "leading_pt", "split_halves", "fit_map", "hard_mjj"]

KINDS = ("quartiles", "linear", "global")


def leading_pt(events, r_ref=0.4, ptmin=20.0):
    """The leading jet's pT per event (GeV; 0 when no jet passes ``ptmin``), anti-kT at ``r_ref``.

    An observable available on data: it does not use the target mass.
    """
    from ..clustering.engine import cluster

    jets = cluster(events, float(r_ref)).inclusive_jets(ptmin)
    pt = np.asarray(jets.pt)
    return pt[:, 0, 0] if pt.shape[2] else np.zeros(len(events.counts))


def split_halves(n, seed=0):
    """A seeded random split of ``range(n)`` into a training and a disjoint test half (sorted indices)."""
    if n < 2:
        raise ValueError(f"need at least 2 events to split, got {n}")
    perm = np.random.default_rng(seed).permutation(n)
    train, test = np.sort(perm[: n // 2]), np.sort(perm[n // 2:])
    return train, test


@dataclasses.dataclass
class RadiusMap:
    """``log R = Φ(x) · w`` with the feature transform frozen from training data.

    Attributes:
        kind: one of :data:`KINDS`.
        edges: inner quartile edges of the training pT (``"quartiles"``).
        center, scale: of log pT on the training events (``"linear"``).
        w: the parameters (``None`` before fitting).
    """

    kind: str
    edges: tuple = ()
    center: float = 0.0
    scale: float = 1.0
    w: object = None

    @classmethod
    def from_training(cls, kind, pt_train):
        """Freeze the feature transform on the training events' leading-jet pT.

        Raises:
            ValueError: unknown kind, or no positive pT to build it from.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown radius map {kind!r}; choose one of {KINDS}")
        pt = np.asarray(pt_train, dtype=float)
        if kind == "quartiles":
            return cls(kind, tuple(float(q) for q in np.percentile(pt, [25, 50, 75])))
        if kind == "linear":
            lp = np.log(pt[pt > 0])
            if len(lp) < 2:
                raise ValueError("a linear map needs training events with a jet")
            return cls(kind, center=float(lp.mean()), scale=float(lp.std()) or 1.0)
        return cls(kind)

    @property
    def n_params(self):
        return {"quartiles": 4, "linear": 2, "global": 1}[self.kind]

    def design(self, pt):
        """Φ: the ``(n_events, n_params)`` design matrix of leading-jet pT values."""
        pt = np.asarray(pt, dtype=float)
        if self.kind == "quartiles":
            return np.eye(4)[np.searchsorted(self.edges, pt, side="right")]
        if self.kind == "linear":
            x = (np.log(np.maximum(pt, 1.0)) - self.center) / self.scale
            return np.stack([np.ones_like(x), x], axis=1)
        return np.ones((len(pt), 1))

    def radii(self, pt, w=None):
        """Each event's R = exp(Φ w) (``w`` defaults to the fitted parameters)."""
        w = self.w if w is None else w
        if w is None:
            raise ValueError("the map is not fitted")
        return np.exp(self.design(pt) @ np.asarray(w, dtype=float))

    def describe(self):
        """A JSON-ready description (kind, transform, parameters, and for quartiles R per bin)."""
        d = {"kind": self.kind, "w": None if self.w is None else np.asarray(self.w).tolist()}
        if self.kind == "quartiles":
            d["pt_edges"] = list(self.edges)
            d["R_per_bin"] = None if self.w is None else np.exp(self.w).tolist()
        if self.kind == "linear":
            d.update(center=self.center, scale=self.scale)
        return d


def fit_map(rmap, events, pt, r0=0.8, steps=48, lr=0.1, lr_tail=0.04, tail=0.5, burn=0.125, estimator=None,
            loss="window",
            alpha=1.0, samples=4, seed=0, ptmin=20.0, width=15.0, callback=None, target=opt.HIGGS_MASS):
    """Fit ``rmap``'s parameters on ``events`` by Adam on the expected loss, then average the tail.

    Args:
        rmap: a :class:`RadiusMap` (its transform frozen from these training events).
        events, pt: the training events and their leading-jet pT.
        r0: starting radius of every bin / the intercept.
        steps, lr, lr_tail, tail, burn: as :func:`apps.jets.study.optimize.optimize_global` (``lr``
            a number decays exponentially to ``lr_tail`` over the descent phase).
        estimator: a per-event-capable estimator (default score function, leave-one-out per event).
        seed: step ``k`` uses the engine seed ``step_seed(seed, k)``.
        others: the loss's, as :func:`~apps.jets.study.optimize.per_event_estimate` (``target``: the mass
            the loss pulls mjj to, GeV).

    Returns:
        :class:`stochgrad.optim.OptimResult`; ``rmap.w`` is set to the mean of ``w``
        over the last ``tail`` fraction of the iterates (also ``result.w_tail``).
    """
    estimator = estimator or sg.ScoreFunction("leave_one_out")
    if not (np.isfinite(r0) and r0 > 0):
        raise ValueError(f"r0 must be a positive radius, got {r0!r}")
    phi = rmap.design(pt)
    n = len(events.counts)
    if phi.shape[0] != n:
        raise ValueError(f"{phi.shape[0]} pT values for {n} events")
    w0 = np.zeros(rmap.n_params)
    w0[0] = np.log(r0)
    if rmap.kind == "quartiles":
        w0[:] = np.log(r0)
    if not callable(lr) and lr_tail is not None:
        warm = steps - opt._n_tail(steps, tail) - int(round(burn * steps))
        lr = sg.optim.exponential_decay(lr, lr_tail, warm) if warm >= 1 else lr
    update, n_tail = opt.noise_floor_update("adam", lr, lr_tail, steps, tail, burn)

    def estimate(w, step):
        v, g, se = opt.per_event_estimate(events, phi @ w, estimator, loss, alpha, samples, opt.step_seed(seed, step),
                                          ptmin, width, target=target)
        grad = phi.T @ g / n
        grad_se = np.sqrt((phi**2).T @ (se**2)) / n
        return sg.Estimate(float(v.mean()), float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0, grad, grad_se,
                           grad[None], v, n, repr(estimator), {"radius_map": rmap.kind})

    res = sg.optim.minimize(estimate, w0, update, steps, pass_step=True, callback=callback,
                            label=f"fit R map ({rmap.kind})")
    res.w_tail = np.mean([np.asarray(h["theta"]) for h in res.history[-n_tail:]], axis=0)
    rmap.w = res.w_tail
    return res


def hard_mjj(events, radii, ptmin=20.0):
    """Dijet mass per event from hard anti-kT at each event's radius (NaN: fewer than two jets)."""
    from ..clustering.engine import cluster

    return np.asarray(cluster(events, np.broadcast_to(np.asarray(radii, dtype=float), (len(events.counts),)).copy(),
                              alpha=None).mjj(ptmin=ptmin)[:, 0])
