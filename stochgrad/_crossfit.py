"""Control variates with cross-fitted coefficients, from exact sufficient statistics.

A control variate is a per-sample quantity ``X`` whose expectation is known to be
zero; subtracting ``c · X`` from an unbiased per-sample gradient keeps it unbiased
for any fixed ``c`` and lowers its variance when ``c`` is close to the regression
coefficient ``Cov(X)⁻¹ Cov(X, g)``. Estimating ``c`` from the same samples it is
applied to would bias the result by ``O(1/n)``; here the samples are split in two
folds and each fold is corrected with the coefficient fitted on the other, so the
correction of a sample is independent of it and the estimate stays unbiased.

Per fold, the Gram matrix of ``(g, X)`` (exact sums over the chunks,
:func:`stochgrad._chunks._gram`) gives the least-squares fit; its out-of-sample
(PRESS) check is one pass over the chunks (:func:`_press_task`). The chunk
protocol uses it through ``StochasticDerivative.chunk_refine``; :func:`cross_fitted`
is the same computation on arrays in memory (one chunk).
"""

from __future__ import annotations

import math
import types
from fractions import Fraction

import numpy as np

from ._chunks import _Chunk, _gram, linear_gradients
from ._exact import exact_sum, exact_value
from .backend import array_module, to_numpy

__all__ = ["MIN_SAMPLES", "cross_fitted"]

# Below this (128 per fold) a rare outcome is often missing from one fold, and a coefficient fitted
# without it can add a lot of variance where it does appear (a 1.5 % choice at 64 samples: 25x the
# standard deviation; from 256 samples on the same program gains).
MIN_SAMPLES = 256


def _centred_gram(fs):
    """Per component, the centred Gram matrix ``(d, k, k)`` (floats) and means ``(d, k)`` of one fold."""
    n = fs["n"]
    d, k = fs["F1"].shape
    G = np.empty((d, k, k))
    mean = np.empty((d, k))
    for j in range(d):
        s = [exact_value(fs["F1"][j, a]) for a in range(k)]
        for a in range(k):
            mean[j, a] = float(s[a] / n)
            for b in range(a, k):
                G[j, a, b] = G[j, b, a] = float(exact_value(fs["F2"][j, a, b]) - s[a] * s[b] / n)
    return G, mean


def _fit(fs):
    """The least-squares fit of one fold, per component, from its sufficient statistics.

    Feature 0 is the gradient ``g``, features 1.. the control variates ``X``. Solved on
    standardised features with a pseudo-inverse (a constant feature gets ``c = 0``;
    collinear features do not produce huge cancelling coefficients). A component keeps
    its fit only if it predicts its own samples better than their mean *out of sample*
    (leave-one-out PRESS, :func:`_press_task`): with few samples or sparse, heavy-tailed
    features a fit driven by one or two points would otherwise add variance instead of
    removing it. Everything here uses one fold only, so the other fold's correction
    stays unbiased whatever is decided. Returns a list (per component) of ``None``
    (nothing to fit) or a dict with what the PRESS pass needs, and the ``ok`` mask
    (features whose fold mean is within 5 standard errors of zero; the others get
    coefficient 0).
    """
    n = fs["n"]
    G, mean = _centred_gram(fs)
    d, k = mean.shape
    var0 = np.maximum(np.diagonal(G, axis1=1, axis2=2)[:, 1:] / n, 0.0)  # population variance of X
    se = np.sqrt(var0) / np.sqrt(max(n - 1, 1))
    ok = np.abs(mean[:, 1:]) <= 5.0 * se + 1e-300
    fits = []
    for j in range(d):
        sd = np.sqrt(np.maximum(np.diag(G[j])[1:], 0.0)) * ok[j]
        live = sd > 0
        if not live.any():
            fits.append(None)
            continue
        sdl = sd[live]
        idx = np.flatnonzero(live) + 1
        C = G[j][np.ix_(idx, idx)] / np.outer(sdl, sdl)
        lam, V = np.linalg.eigh(C)
        order = np.argsort(lam)[::-1]
        S = np.sqrt(np.maximum(lam[order], 0.0))
        V = V[:, order]
        if not S[0] > 0:
            fits.append(None)
            continue
        keep = S > 1e-6 * S[0]
        S, V = S[keep], V[:, keep]
        Uty = (V.T @ (G[j][idx, 0] / sdl)) / S
        beta = V @ (Uty / S)
        fits.append({"live": live, "sd": sdl, "mx": mean[j, idx], "my": mean[j, 0], "W": V / S, "beta": beta,
                     "yy": G[j, 0, 0]})
    return fits, ok


def _press_task(chunk, fits):
    """Per (fold, component): exact ``Σ (resid / (1 − leverage))²`` over the chunk's samples of that fold, max leverage."""
    out = []
    for f in (0, 1):
        sel = chunk.fold == f
        row = []
        for j, fit in enumerate(fits[f][0] if fits[f] is not None else []):
            if fit is None or not sel.any():
                row.append((0, 0.0))
                continue
            X = chunk.F[sel, j, 1:][:, fit["live"]]
            Zs = (X - fit["mx"]) / fit["sd"]
            y = chunk.F[sel, j, 0] - fit["my"]
            lev = ((Zs @ fit["W"]) ** 2).sum(axis=1) + 1.0 / fits[f][1]
            resid = y - Zs @ fit["beta"]
            with np.errstate(divide="ignore", invalid="ignore"):
                r = resid / (1.0 - lev)
            if np.all(np.isfinite(r)):
                row.append((exact_sum(r * r), float(lev.max())))
            else:
                row.append((0, math.inf))
        out.append(row)
    return out


def _cross_fit(ex, handles, tot, d):
    """Cross-fitted coefficients ``c (2, d, k)`` (per fold of the *corrected* samples) and the info dict."""
    folds = tot["folds"]
    sizes = (folds[0]["n"], folds[1]["n"])
    n, k = tot["n"], folds[0]["F1"].shape[1]
    none = np.zeros((2, d, k))
    none[:, :, 0] = 1.0
    if n < MIN_SAMPLES or min(sizes) < MIN_SAMPLES // 2:
        return none, {"control_variates": f"not applied ({n} samples in folds of {sizes[0]} and {sizes[1]}; "
                                          f"needs {MIN_SAMPLES}, at least {MIN_SAMPLES // 2} per fold)"}
    fits, oks = [], []
    for f in (0, 1):
        fit, ok = _fit(folds[f])
        fits.append((fit, sizes[f]))
        oks.append(ok)
    press = ex.apply(_press_task, handles, fits)
    coef = np.zeros((2, d, k - 1))
    for f in (0, 1):
        for j, fit in enumerate(fits[f][0]):
            if fit is None:
                continue
            nf = sizes[f]
            total = sum(exact_value(r[f][j][0]) for r in press)
            maxlev = max(r[f][j][1] for r in press)
            if maxlev > 1.0 - 1e-9:
                continue
            press_mean = Fraction(fit["yy"]) * Fraction(nf, nf - 1) ** 2
            if total < press_mean:
                coef[f, j, fit["live"]] = fit["beta"] / fit["sd"]
        coef[f] *= oks[f]
    c = np.empty((2, d, k))
    c[:, :, 0] = 1.0
    c[0, :, 1:] = -coef[1]  # fold 0 is corrected with the fit of fold 1, and vice versa
    c[1, :, 1:] = -coef[0]
    info = {"control_variates": "cross-fitted (2 folds)", "variance_ratio": []}
    s1b, s2b = _moments(tot, none)
    s1a, s2a = _moments(tot, c)
    for j in range(d):  # the variance of the per-sample gradients after over before (exact)
        before, after = s2b[j] - s1b[j] ** 2 / n, s2a[j] - s1a[j] ** 2 / n
        info["variance_ratio"].append(float(after / before) if before > 0 else 1.0)
    dropped = int((~oks[0]).sum() + (~oks[1]).sum())
    if dropped:
        info["dropped"] = (f"{dropped} (fold, component, feature) coefficient(s) set to 0: the feature's mean "
                           "is more than 5 standard errors from zero on the fitting fold (a score that is not "
                           "a score there, e.g. at a boundary of the parameter space?)")
    return c, info


# ---------------------------------------------------------------------------------------------------------
# the final combination


def _moments(tot, c):
    """Exact ``(Σg, Σg²)`` per component for per-sample gradients ``F · c[fold]``."""
    d = c.shape[1]
    s1, s2 = [Fraction(0)] * d, [Fraction(0)] * d
    for f in (0, 1):
        fs = tot["folds"][f]
        if fs["n"] == 0:
            continue
        k = fs["F1"].shape[1]
        for j in range(d):
            cj = [_frac(c[f, j, a]) for a in range(k)]
            s1[j] += sum(cj[a] * exact_value(fs["F1"][j, a]) for a in range(k) if cj[a])
            s2[j] += sum(cj[a] * cj[b] * exact_value(fs["F2"][j, a, b])
                         for a in range(k) for b in range(k) if cj[a] and cj[b])
    return s1, s2


def _mean_se(s1, s2, n):
    mean = float(s1 / n)
    if n < 2:
        return mean, math.nan
    var = (s2 - s1 * s1 / n) / (n - 1)
    return mean, math.sqrt(max(float(var / n), 0.0))


def _frac(x) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(float(x))


_HERE = types.SimpleNamespace(apply=lambda fn, handles, *args: [fn(h, *args) for h in handles])


def cross_fitted(g, X, fold=None):
    """Subtract the control variates ``X`` from ``g`` with coefficients fitted on the other fold.

    Estimates nothing by itself: returns ``g − X·c`` per sample, which has the
    mean of ``g`` (unbiased) when every feature of ``X`` has expectation zero,
    because each sample's ``c`` comes only from the samples of the other fold.
    A feature whose mean is more than 5 standard errors from zero on the fitting
    fold (e.g. a score at a boundary of the parameter space) gets coefficient 0,
    decided on that fold alone.

    Args:
        g: per-sample gradients, shape ``(n, d)`` (numpy or cupy).
        X: per-sample features, shape ``(n, d, k)``, each with expectation zero.
        fold: optional 0/1 per sample, shape ``(n,)``; default: alternating. Samples
            whose features share information (e.g. a baseline computed within a
            group) must be in the same fold.

    Returns:
        ``(corrected g (n, d), info dict)``, on ``g``'s array module; ``g`` is
        returned unchanged (and the info says why) when there are fewer than
        ``MIN_SAMPLES`` samples or either fold has fewer than half that.
    """
    xp = array_module(g, X)
    gn, Xn = np.asarray(to_numpy(g), dtype=float), np.asarray(to_numpy(X), dtype=float)
    n, d = gn.shape
    fold = (np.arange(n) % 2 if fold is None else np.asarray(to_numpy(fold))).astype(bool).astype(np.int8)
    F = np.concatenate([gn[:, :, None], Xn], axis=2)
    chunk = _Chunk(0, np.zeros(n), F, fold, {}, {})
    c, info = _cross_fit(_HERE, [chunk], {"n": n, "folds": _gram(chunk.value, F, fold)["folds"]}, d)
    if not info["control_variates"].startswith("cross"):
        return g, info
    return xp.asarray(linear_gradients(chunk, c)), info
