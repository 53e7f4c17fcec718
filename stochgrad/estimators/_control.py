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

MIN_SAMPLES = 16  # below this (8 per fold) the fitted coefficients are too noisy to help


def _coefficients(g, X):
    """Least-squares ``c`` per component: ``g (n, d) ≈ a + X (n, d, k) · c (d, k)``.

    Solved on standardised features with a pseudo-inverse, so a constant feature
    gets ``c = 0`` and collinear features (e.g. both functions of one choice)
    do not produce huge, cancelling coefficients.
    """
    xp = array_module(g, X)
    Xc = X - xp.mean(X, axis=0)
    gc = g - xp.mean(g, axis=0)
    C = to_numpy(xp.einsum("ndk,ndl->dkl", Xc, Xc))
    b = to_numpy(xp.einsum("ndk,nd->dk", Xc, gc))
    sd = np.sqrt(np.diagonal(C, axis1=1, axis2=2))  # (d, k), up to the factor n
    live = sd > 0
    sd = np.where(live, sd, 1.0)
    R = C / (sd[:, :, None] * sd[:, None, :]) * (live[:, :, None] & live[:, None, :])
    vals, vecs = np.linalg.eigh(R)
    keep = vals > 1e-10 * np.maximum(vals.max(axis=1, keepdims=True), 1e-300)
    inv = np.where(keep, 1.0 / np.where(keep, vals, 1.0), 0.0)
    r = np.where(live, b / sd, 0.0)
    beta = np.einsum("dkj,dj,dlj,dl->dk", vecs, inv, vecs, r)
    return np.where(live, beta / sd, 0.0)


def cross_fitted(g, X):
    """Subtract the control variates ``X`` from ``g`` with coefficients fitted on the other fold.

    Estimates nothing by itself: returns ``g − X·c`` per sample, which has the
    mean of ``g`` (unbiased) when every feature of ``X`` has expectation zero,
    because each sample's ``c`` comes only from the samples of the other fold.

    Args:
        g: per-sample gradients, shape ``(n, d)`` (numpy or cupy).
        X: per-sample features, shape ``(n, d, k)``, each with expectation zero.

    Returns:
        ``(corrected g (n, d), info dict)``; ``g`` is returned unchanged (and
        the info says why) when ``n < MIN_SAMPLES``.
    """
    xp = array_module(g, X)
    n = g.shape[0]
    if n < MIN_SAMPLES:
        return g, {"control_variates": f"not applied (n = {n} < {MIN_SAMPLES})"}
    folds = (slice(0, None, 2), slice(1, None, 2))
    out = xp.array(g, dtype=float, copy=True)
    for this, other in (folds, folds[::-1]):
        c = xp.asarray(_coefficients(g[other], X[other]))
        out[this] = g[this] - xp.einsum("ndk,dk->nd", X[this], c)
    before = to_numpy(xp.var(g, axis=0))
    after = to_numpy(xp.var(out, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(before > 0, after / before, 1.0)
    return out, {"control_variates": "cross-fitted (2 folds)", "variance_ratio": ratio.tolist()}
