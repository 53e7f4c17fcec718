"""Control variates with cross-fitted coefficients (shared by estimators that have them).

A control variate is a per-sample quantity ``X`` whose expectation is known to be
zero; subtracting ``c · X`` from an unbiased per-sample gradient keeps it unbiased
for any fixed ``c`` and lowers its variance when ``c`` is close to the regression
coefficient ``Cov(X)⁻¹ Cov(X, g)``. Estimating ``c`` from the same samples it is
applied to would bias the result by ``O(1/n)``; here the samples are split in two
folds and each fold is corrected with the coefficient fitted on the other, so the
correction of a sample is independent of it and the estimate stays unbiased.
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module, to_numpy

__all__ = ["MIN_SAMPLES", "cross_fitted"]

# Below this (128 per fold) a rare outcome is often missing from one fold, and a coefficient fitted
# without it can add a lot of variance where it does appear (a 1.5 % choice at 64 samples: 25x the
# standard deviation; from 256 samples on the same program gains).
MIN_SAMPLES = 256


def _coefficients(g, X):
    """Least-squares ``c`` per component, ``g (n, d) ≈ a + X (n, d, k) · c (d, k)``, or 0 where it would not help.

    Solved on standardised features with a pseudo-inverse (a constant feature gets
    ``c = 0``; collinear features do not produce huge cancelling coefficients).
    A component keeps its fit only if it predicts its own samples better than
    their mean *out of sample* (leave-one-out PRESS): with few samples or sparse,
    heavy-tailed features a fit driven by one or two points would otherwise add
    variance instead of removing it. Everything here uses one fold only, so the
    other fold's correction stays unbiased whatever is decided.
    """
    g, X = np.asarray(to_numpy(g), dtype=float), np.asarray(to_numpy(X), dtype=float)
    n, d, k = X.shape
    c = np.zeros((d, k))
    for j in range(d):
        Z = X[:, j, :] - X[:, j, :].mean(axis=0)
        y = g[:, j] - g[:, j].mean()
        sd = np.sqrt((Z * Z).sum(axis=0))
        live = sd > 0
        if not live.any():
            continue
        U, S, Vt = np.linalg.svd(Z[:, live] / sd[live], full_matrices=False)
        keep = S > 1e-6 * S[0]
        U, S, Vt = U[:, keep], S[keep], Vt[keep]
        beta = Vt.T @ ((U.T @ y) / S)
        leverage = (U * U).sum(axis=1) + 1.0 / n  # with the intercept
        if np.any(leverage > 1.0 - 1e-9):
            continue  # a sample fits itself exactly: no out-of-sample evidence
        resid = y - U @ (U.T @ y)
        press = np.sum((resid / (1.0 - leverage)) ** 2)
        press_mean = np.sum((y * n / (n - 1.0)) ** 2)  # leave-one-out error of the mean alone
        if press < press_mean:
            c[j, live] = beta / sd[live]
    return c


def _mean_zero(X):
    """Per component and feature ``(d, k)``, whether the sample mean is within 5 standard errors of 0."""
    xp = array_module(X)
    n = X.shape[0]
    m = to_numpy(xp.mean(X, axis=0))
    se = to_numpy(xp.std(X, axis=0)) / np.sqrt(max(n - 1, 1))
    return np.abs(m) <= 5.0 * se + 1e-300


def cross_fitted(g, X, fold=None):
    """Subtract the control variates ``X`` from ``g`` with coefficients fitted on the other fold.

    Estimates nothing by itself: returns ``g − X·c`` per sample, which has the
    mean of ``g`` (unbiased) when every feature of ``X`` has expectation zero,
    because each sample's ``c`` comes only from the samples of the other fold.

    Args:
        g: per-sample gradients, shape ``(n, d)`` (numpy or cupy).
        X: per-sample features, shape ``(n, d, k)``, each with expectation zero.
        fold: optional 0/1 per sample, shape ``(n,)``; default: alternating. Samples
            whose features share information (e.g. a baseline computed within a
            group) must be in the same fold.

    Returns:
        ``(corrected g (n, d), info dict)``; ``g`` is returned unchanged (and
        the info says why) when there are fewer than ``MIN_SAMPLES`` samples or
        either fold has fewer than half that.
    """
    xp = array_module(g, X)
    n = g.shape[0]
    if fold is None:
        fold = np.arange(n) % 2
    fold = np.asarray(to_numpy(fold)).astype(bool)
    sizes = (int((~fold).sum()), int(fold.sum()))
    if n < MIN_SAMPLES or min(sizes) < MIN_SAMPLES // 2:
        return g, {"control_variates": f"not applied ({n} samples in folds of {sizes[0]} and {sizes[1]}; "
                                       f"needs {MIN_SAMPLES}, at least {MIN_SAMPLES // 2} per fold)"}
    info = {"control_variates": "cross-fitted (2 folds)"}
    idx = (np.flatnonzero(~fold), np.flatnonzero(fold))
    out = xp.array(g, dtype=float, copy=True)
    dropped = 0
    for this, other in (idx, idx[::-1]):
        this, other = xp.asarray(this), xp.asarray(other)
        Xo = X[other]
        # A feature whose mean is far from zero on the fitting fold is not a control variate (e.g. a
        # score at a boundary of the parameter space): its coefficient is 0. Deciding on the fitting
        # fold alone keeps the decision independent of the samples it is applied to.
        ok = _mean_zero(Xo)
        dropped += int((~ok).sum())
        c = _coefficients(g[other], xp.where(xp.asarray(ok), Xo, 0.0)) * ok
        out[this] = g[this] - xp.einsum("ndk,dk->nd", xp.where(xp.asarray(ok), X[this], 0.0), xp.asarray(c))
    if dropped:
        info["dropped"] = (f"{dropped} (fold, component, feature) coefficient(s) set to 0: the feature's mean "
                           "is more than 5 standard errors from zero on the fitting fold (a score that is not "
                           "a score there, e.g. at a boundary of the parameter space?)")
    before = to_numpy(xp.var(g, axis=0))
    after = to_numpy(xp.var(out, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(before > 0, after / before, 1.0)
    info["variance_ratio"] = ratio.tolist()
    return out, info
