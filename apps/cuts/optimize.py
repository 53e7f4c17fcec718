"""Maximise a cut objective with Adam while annealing the sharpness s toward the hard cut.

Both methods share the loop (:func:`stochgrad.optim.minimize` with
:class:`stochgrad.optim.Adam` on an exponentially decaying learning rate) and the
schedule ``s_t``:

* ``"stochastic"``: unbiased gradient estimates of ``E[f(hard randomised selection)]``
  from :func:`~apps.cuts.selection.stochastic_cut` and any stochgrad estimator;
* ``"sigmoid"``: the deterministic sigmoid-weight surrogate
  (:func:`~apps.cuts.selection.soft_objective`), the `relaxed` package's method.

The result always carries the *hard* cut at the final θ and its objective.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import stochgrad as sg

from .events import CutSpec, Events
from .selection import check_scale, hard_objective, soft_objective, stochastic_cut

__all__ = ["CutResult", "optimize_cuts", "geometric", "default_estimator"]


def geometric(start, stop, steps):
    """``steps`` values from ``start`` to ``stop``, evenly spaced in log (arrays allowed)."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    a, b = np.atleast_1d(np.asarray(start, float)), np.atleast_1d(np.asarray(stop, float))
    return np.exp(np.log(a) * (1 - t) + np.log(b) * t)


@dataclasses.dataclass
class CutResult:
    """Outcome of :func:`optimize_cuts`.

    Attributes:
        theta: final thresholds (flat array).
        hard_value: the objective of the hard cut at ``theta`` (what to report).
        method: ``"stochastic"`` or ``"sigmoid"``.
        history: per step: ``theta``, ``scale``, ``value`` (estimated E[f] or the
            surrogate), ``grad``, ``grad_stderr``, ``hard`` (hard objective).
        evaluations: objective evaluations used (MC samples × steps; 1 per step for sigmoid).
        seconds: wall time.
    """

    theta: np.ndarray
    hard_value: float
    method: str
    history: list
    evaluations: int
    seconds: float

    def column(self, key):
        """One history column as an array."""
        return np.array([h[key] for h in self.history])


def default_estimator():
    """The stochastic derivative the cuts use: ``StochasticDerivative(control_variates=False)``.

    Estimates ``∇θ E[Z]``, unbiased. The stochastic cut sums every event's flip in
    closed form, so its samples are already free of alternative-selection noise;
    the score control variates, fitted on the 32–64 samples of an optimisation
    step, would mostly add coefficient noise (problem B ended 1.2 % instead of
    0.8 % below differential evolution with them).
    """
    return sg.StochasticDerivative(control_variates=False)


def optimize_cuts(events: Events, spec: CutSpec, theta0, *, method="stochastic", steps=200,
                  scale=(0.5, 0.02), lr=(0.1, 0.005), estimator=None, n=64, objective="asimov",
                  b_min=1.0, seed=0) -> CutResult:
    """Maximise the cut objective from ``theta0`` with Adam, annealing ``s`` geometrically.

    Args:
        events, spec: data and cut layout.
        theta0: start thresholds.
        method: ``"stochastic"`` (unbiased estimates of ∇E[f]) or ``"sigmoid"``
            (gradient of the deterministic surrogate, biased for non-linear f).
        steps: Adam steps.
        scale: ``(s_start, s_end)``; each a number or one per threshold. Equal ends: fixed s.
        lr: ``(lr_start, lr_end)``, geometric decay.
        estimator: stochgrad estimator for ``"stochastic"`` (default :func:`default_estimator`).
        n: Monte-Carlo samples per step.
        objective, b_min: see :mod:`apps.cuts.objectives`.
        seed: integer seed; step ``t`` uses the seed ``(seed, t)``.

    Returns:
        :class:`CutResult` with the hard cut's objective at the end.

    Raises:
        ValueError: unknown method, ``s <= 0``, bad θ.
    """
    if method not in ("stochastic", "sigmoid"):
        raise ValueError(f"method must be 'stochastic' or 'sigmoid', got {method!r}")
    th0 = spec.check(events, theta0)
    scales = geometric(check_scale(scale[0], spec.n_params), check_scale(scale[1], spec.n_params), steps)
    estimator = estimator or default_estimator()
    history = []

    def estimate(theta, t):
        s = scales[t]
        if method == "sigmoid":
            v, g = soft_objective(events, spec, theta, s, objective, b_min)
            est = sg.Estimate(v, 0.0, g, np.zeros_like(g), g[None], np.array([v]), 1, "sigmoid")
        else:
            step_seed = int(np.random.SeedSequence([int(seed), t]).generate_state(1)[0])
            prog = stochastic_cut(events, spec, s, objective, b_min)
            est = sg.value_and_grad(prog, estimator, n=n, seed=step_seed)(theta)
        history.append({"step": t, "theta": np.array(theta, float).tolist(), "scale": s.tolist(),
                        "value": est.value, "grad": np.ravel(est.grad).tolist(),
                        "grad_stderr": np.ravel(est.grad_stderr).tolist(),
                        "hard": hard_objective(events, spec, theta, objective, b_min)})
        # minimize() descends: hand it −f
        return dataclasses.replace(est, value=-est.value, grad=-np.asarray(est.grad))

    adam = sg.optim.Adam(sg.optim.exponential_decay(lr[0], lr[1], steps))
    res = sg.optim.minimize(estimate, th0, adam, steps, label=method, pass_step=True)
    theta = np.asarray(res.theta, float)
    return CutResult(theta, hard_objective(events, spec, theta, objective, b_min), method, history,
                     steps * (n if method == "stochastic" else 1), res.seconds)
