"""Fit telegraph-model rates to synthetic snapshot data by gradient descent (Adam).

Data: ``n_cells`` snapshots at time ``T`` (gene state and mRNA count per cell),
simulated at the true rates. Loss: a moment-matching (likelihood-free) distance

    L(θ) = Σ_k ((E_θ[φ_k(X(T))] − φ̂_k) / s_k)²,   φ = (G_on, M, M², G_on·M),

with ``φ̂_k`` the data means and ``s_k`` the data standard deviations. Its
gradient ``2 Σ_k (E_θ φ_k − φ̂_k)/s_k² · ∇θ E_θ φ_k`` is estimated without bias by
splitting each batch in two halves: one half estimates ``E_θ φ_k``, the other
``∇θ E_θ φ_k`` (score function or stochastic derivative), and the two roles are
swapped and averaged.

Identifiability: snapshots carry no absolute time scale at stationarity, so the
degradation rate ``gamma`` is fixed (it sets the time unit) and ``k_on``,
``k_off``, ``r`` are fitted, in log space. Gene state and mean mRNA pin down
``k_on/(k_on+k_off)`` and ``r``; the mRNA variance and the gene–mRNA covariance
pin down the switching speed ``k_on + k_off``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import stochgrad as sg

from .models import TELEGRAPH_TRUE, telegraph_network
from .vectorised import simulate

__all__ = ["FitResult", "telegraph_moments", "snapshot_data", "fit_telegraph", "data_uncertainty"]

_X0 = {"G_off": 1}


def telegraph_moments(X):
    """Per-cell features ``(G_on, M, M², G_on·M)`` of telegraph states ``X`` ``(n, 3)``: shape ``(n, 4)``."""
    g = X[:, 1].astype(float)
    m = X[:, 2].astype(float)
    return np.stack([g, m, m * m, g * m], axis=1)


def snapshot_data(theta=TELEGRAPH_TRUE, n_cells: int = 20000, T: float = 10.0, seed: int = 12345) -> np.ndarray:
    """Synthetic snapshots: final states ``(n_cells, 3)`` (G_off, G_on, M) at ``T``, gene off at 0."""
    return simulate(telegraph_network(), np.asarray(theta, dtype=float), _X0, T, n_cells, seed)["X"]


@dataclasses.dataclass
class FitResult:
    """Outcome of :func:`fit_telegraph`.

    Attributes:
        true, start, recovered: rates ``[k_on, k_off, r, gamma]`` (``gamma`` fixed);
            ``recovered`` is the average of the iterates over the last quarter of steps.
        history: rates after each step, shape ``(steps, 4)``; loss: loss estimate per step.
        optim: the :class:`stochgrad.optim.OptimResult`.
    """

    true: np.ndarray
    start: np.ndarray
    recovered: np.ndarray
    history: np.ndarray
    loss: np.ndarray
    optim: object


def _loss_estimate(theta, phi_hat, scale, n, seed, T, estimator):
    net = telegraph_network()
    want_sd = estimator == "sd"
    out = simulate(net, theta, _X0, T, n, seed, observable=telegraph_moments, score=not want_sd,
                   alternatives=want_sd)
    phi = out["value"]  # (n, K)
    if want_sd:
        per = np.einsum("nmp,nmk->npk", out["alt_weight"], out["alt_delta"])  # (n, P, K)
    else:
        half = n // 2
        per = np.empty(phi.shape[:1] + (theta.size,) + phi.shape[1:])
        for sl in (slice(0, half), slice(half, n)):  # leave-one-out baseline within each half
            f = phi[sl]
            loo = (f.sum(axis=0) - f) / (f.shape[0] - 1)
            per[sl] = out["score"][sl][:, :, None] * (f - loo)[:, None, :]
    half = n // 2
    a, b = slice(0, half), slice(half, n)
    c_a = 2 * (phi[a].mean(axis=0) - phi_hat) / scale**2  # from half A, used on half B's gradients
    c_b = 2 * (phi[b].mean(axis=0) - phi_hat) / scale**2
    grads = np.concatenate([per[b] @ c_a, per[a] @ c_b])  # (n, P), θ-space
    loss = float(np.sum(((phi.mean(axis=0) - phi_hat) / scale) ** 2))
    return loss, grads


def fit_telegraph(true=TELEGRAPH_TRUE, start=(1.5, 0.3, 8.0, 1.0), *, n_cells: int = 20000, T: float = 10.0,
                  steps: int = 150, n: int = 4000, lr: float = 0.06, estimator: str = "score",
                  seed: int = 0, data_seed: int = 12345, progress: bool = False) -> FitResult:
    """Recover ``k_on, k_off, r`` of the telegraph model from snapshot data by Adam in log-rates.

    Each step estimates the moment loss and its gradient from ``n`` fresh
    trajectories (unbiased gradient: see the module docstring). ``gamma`` is fixed
    to its true value (not identifiable from snapshots: it sets the time unit).

    Args:
        true: rates generating the data ``[k_on, k_off, r, gamma]``.
        start: initial rates (``start[3]`` is ignored: gamma is fixed to ``true[3]``).
        n_cells: number of snapshot cells; T: snapshot time (gene off, no mRNA at 0).
        steps, n, lr: Adam steps, trajectories per step, learning rate (log space).
        estimator: ``"score"`` (path likelihood) or ``"sd"`` (stochastic derivative).
        seed, data_seed: seeds of the fit and of the data.
        progress: print a progress bar.

    Returns:
        :class:`FitResult`.

    Raises:
        ValueError: non-positive rates or an unknown estimator.
    """
    if estimator not in ("score", "sd"):
        raise ValueError(f"estimator must be 'score' or 'sd', got {estimator!r}")
    true = np.asarray(true, dtype=float)
    start = np.array(start, dtype=float)
    start[3] = true[3]
    if np.any(true <= 0) or np.any(start <= 0):
        raise ValueError("rates must be positive to be fitted in log space")
    feats = telegraph_moments(snapshot_data(true, n_cells, T, data_seed))
    phi_hat, scale = feats.mean(axis=0), feats.std(axis=0)
    seeds = np.random.SeedSequence(seed)
    free = slice(0, 3)

    def estimate(u):
        theta = np.concatenate([np.exp(u), true[3:]])
        s = int(seeds.spawn(1)[0].generate_state(1)[0])
        loss, g = _loss_estimate(theta, phi_hat, scale, n, s, T, estimator)
        g_u = g[:, free] * theta[free]  # chain rule to log-rates
        return sg.Estimate(loss, 0.0, g_u.mean(axis=0), g_u.std(axis=0, ddof=1) / np.sqrt(n), g_u,
                           np.full(n, loss), n, f"moment loss ({estimator})")

    res = sg.optim.adam(estimate, np.log(start[free]), steps=steps, lr=lr, progress=progress,
                        label="telegraph fit")
    hist_u = np.array([h["theta"] for h in res.history] + [np.asarray(res.theta).tolist()])[1:]
    history = np.column_stack([np.exp(hist_u), np.full(len(hist_u), true[3])])
    tail = history[-max(1, steps // 4):]
    recovered = np.exp(np.log(tail).mean(axis=0))
    return FitResult(true, start, recovered, history, res.column("value"), res)


def data_uncertainty(theta, true=TELEGRAPH_TRUE, n_cells: int = 20000, T: float = 10.0, n: int = 100_000,
                     seed: int = 7, data_seed: int = 12345) -> np.ndarray:
    """Standard deviations of the moment-fit rates ``k_on, k_off, r`` due to the finite data.

    Sandwich (delta-method) formula ``A⁻¹ B A⁻¹ / n_cells`` with ``A = JᵀWJ``,
    ``B = JᵀWΣWJ``, ``W = diag(1/s²)``, ``Σ`` the covariance of the per-cell features
    and ``J = ∂E[φ]/∂θ`` estimated by the score function from ``n`` trajectories at
    ``theta``. An approximation (first order in the data noise), not an estimator
    of an expectation.

    Returns:
        Array of 3 standard deviations.
    """
    feats = telegraph_moments(snapshot_data(true, n_cells, T, data_seed))
    scale = feats.std(axis=0)
    out = simulate(telegraph_network(), np.asarray(theta, dtype=float), _X0, T, n, seed,
                   observable=telegraph_moments, score=True)
    phi = out["value"]
    jac = ((phi - phi.mean(axis=0))[:, :, None] * out["score"][:, None, :3]).mean(axis=0)  # (K, 3)
    W = np.diag(1.0 / scale**2)
    A = jac.T @ W @ jac
    B = jac.T @ W @ np.cov(feats, rowvar=False) @ W @ jac
    Ai = np.linalg.inv(A)
    return np.sqrt(np.diag(Ai @ B @ Ai) / n_cells)
