"""The brute-force reference: FastJet anti-kT and hard cuts on a grid of (R, window edges, leading-jet pT).

Each event is clustered once per R with FastJet (the PyPI ``fastjet`` package,
written by others), giving the dijet mass of the two leading jets with
``pT ≥ 20 GeV`` and the leading jet's pT. For every R and pT threshold the
weighted signal and background yields of *all* windows come from two sorted
cumulative sums, so the whole grid costs ``len(R) × N`` clusterings plus array work.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .significance import asimov_significance

__all__ = ["fastjet_observables", "GridResult", "grid_search", "hard_significance", "default_grid", "JET_PTMIN"]

JET_PTMIN = 20.0  # GeV: jets entering mjj


def default_grid():
    """The reference grid: R 0.2–1.6 by 0.1; window edges 80–160 GeV by 2.5 GeV; leading-jet pT 20–100 by 5 GeV.

    The window stays inside 80–160 GeV because the QCD sample is generated with
    70 < m̂ < 180 GeV: outside that range its background is missing, and a window
    reaching there would look cleaner than it is.
    """
    return {"R": np.round(np.arange(0.2, 1.6001, 0.1), 10),
            "lo": np.arange(80.0, 157.51, 2.5),
            "hi": np.arange(82.5, 160.01, 2.5),
            "pt": np.arange(20.0, 100.01, 5.0)}


def fastjet_observables(events, R, ptmin=JET_PTMIN):
    """``(mjj, pt1)`` per event with FastJet anti-kT at radius ``R``.

    ``mjj``: mass of the two leading jets with ``pT ≥ ptmin`` (NaN with fewer than two);
    ``pt1``: the leading jet's pT (0 without jets above ``ptmin``).

    Raises:
        ValueError: non-finite momenta (FastJet itself crashes with a segmentation fault on NaN).
    """
    import awkward as ak
    import fastjet

    if not np.all(np.isfinite(events.p4)):
        raise ValueError("non-finite (NaN or inf) momenta: FastJet cannot cluster them")

    arr = events.to_awkward(with_name=None)
    cs = fastjet.ClusterSequence(arr, fastjet.JetDefinition(fastjet.antikt_algorithm, float(R)))
    jets = cs.inclusive_jets(min_pt=ptmin)
    px, py, pz, E = (jets[k] for k in ("px", "py", "pz", "E"))
    pt = np.sqrt(px**2 + py**2)
    order = ak.argsort(pt, axis=1, ascending=False)
    px, py, pz, E, pt = (x[order] for x in (px, py, pz, E, pt))
    n = ak.to_numpy(ak.num(pt))
    pad = [ak.to_numpy(ak.fill_none(ak.pad_none(x, 2, clip=True), 0.0)) for x in (px, py, pz, E, pt)]
    s = [c[:, 0] + c[:, 1] for c in pad[:4]]
    m2 = s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2
    mjj = np.where(n >= 2, np.sqrt(np.maximum(m2, 0.0)), np.nan)
    return mjj, pad[4][:, 0]


def _yields(m, w, lo, hi):
    """Σ w over ``lo < m < hi`` for every (lo, hi): ``(len(lo), len(hi))``."""
    order = np.argsort(m)
    ms, cw = m[order], np.r_[0.0, np.cumsum(w[order])]
    below_hi = cw[np.searchsorted(ms, hi, side="left")]
    upto_lo = cw[np.searchsorted(ms, lo, side="right")]
    return np.maximum(below_hi[None, :] - upto_lo[:, None], 0.0)


def hard_significance(sample, mjj, pt1, lo, hi, ptcut, rel_syst=0.0, b_min=1e-9):
    """``(Z, s, b)`` of the hard selection ``lo < mjj < hi``, ``pt1 > ptcut`` (NaN mjj fails)."""
    keep = np.isfinite(mjj) & (np.nan_to_num(mjj, nan=-1.0) > lo) & (mjj < hi) & (pt1 > ptcut)
    s = float(sample.signal_weights[keep].sum())
    b = float(sample.background_weights[keep].sum())
    return float(asimov_significance(s, b, rel_syst, b_min)), s, b


@dataclasses.dataclass
class GridResult:
    """The grid's best point and its cost.

    Attributes:
        best: ``{"R", "lo", "hi", "pt", "Z", "s", "b"}`` at the maximum.
        best_per_R: the best ``Z`` (and where) at each R.
        grid: the axes used.
        n_points: number of grid points (valid windows only).
        clusterings: FastJet clusterings done (``len(R) × N``).
        clusterings_naive: clusterings if every grid point re-ran the analysis (``n_points × N``).
        seconds: wall time (clustering + scan).
        seconds_clustering: the FastJet part of it.
    """

    best: dict
    best_per_R: list
    grid: dict
    n_points: int
    clusterings: int
    clusterings_naive: int
    seconds: float
    seconds_clustering: float


def grid_search(sample, grid=None, rel_syst=0.0, b_min=1e-9, observables=None):
    """Exhaustive search of the hard analysis over ``grid`` (default :func:`default_grid`).

    Args:
        sample: :class:`~apps.analysis.samples.Sample`.
        grid: dict of 1-D arrays ``R``, ``lo``, ``hi``, ``pt``.
        rel_syst: relative background systematic of the significance.
        b_min: background floor (see :func:`~apps.analysis.samples.background_floor`).
        observables: optional cache ``{R: (mjj, pt1)}`` filled in place.

    Returns:
        :class:`GridResult`.
    """
    grid = {k: np.asarray(v, float) for k, v in (grid or default_grid()).items()}
    t0 = time.perf_counter()
    tc = 0.0
    ws, wb = sample.signal_weights, sample.background_weights
    best, per_R, n_points = None, [], 0
    valid = grid["lo"][:, None] < grid["hi"][None, :]
    for R in grid["R"]:
        t1 = time.perf_counter()
        key = round(float(R), 10)
        if observables is not None and key in observables:
            mjj, pt1 = observables[key]
        else:
            mjj, pt1 = fastjet_observables(sample.events, R)
            if observables is not None:
                observables[key] = (mjj, pt1)
        tc += time.perf_counter() - t1
        ok = np.isfinite(mjj)
        bR = None
        for t in grid["pt"]:
            sel = ok & (pt1 > t)
            S = _yields(mjj[sel], ws[sel], grid["lo"], grid["hi"])
            B = _yields(mjj[sel], wb[sel], grid["lo"], grid["hi"])
            Z = np.where(valid, asimov_significance(S, B, rel_syst, b_min), -np.inf)
            n_points += int(valid.sum())
            i, j = np.unravel_index(np.argmax(Z), Z.shape)
            if bR is None or Z[i, j] > bR["Z"]:
                bR = {"R": float(R), "lo": float(grid["lo"][i]), "hi": float(grid["hi"][j]), "pt": float(t),
                      "Z": float(Z[i, j]), "s": float(S[i, j]), "b": float(B[i, j])}
        per_R.append(bR)
        if best is None or bR["Z"] > best["Z"]:
            best = bR
    n = len(sample)
    return GridResult(best, per_R, {k: v.tolist() for k, v in grid.items()}, n_points, len(grid["R"]) * n,
                      n_points * n, time.perf_counter() - t0, tc)
