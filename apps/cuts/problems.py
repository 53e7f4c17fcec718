"""Benchmark problems (A, B and a seeded family of generated ones) and the references they are compared with.

* Problem A (the `relaxed` package's cuts example): one variable, background
  Exp(1) + N(0, 0.1) noise kept positive (1000 events), signal N(2, 0.5) (100
  events); one cut ``x > c`` starting from ``c = 6``.
* Problem B: five variables, seven thresholds (two windows, three one-sided
  cuts), 1000 signal and 20000 background events; a grid scan at 30 points per
  axis would need 2·10^10 hard evaluations.
* The family (:func:`generate_problem`): seeded problems with 1–5 cuts (lower,
  upper, window) on variables of varied shapes and units (resonances over falling
  backgrounds, hard vs soft spectra, isolation-like, skewed classifier scores,
  multimodal backgrounds, |η|-like), correlated through a Gaussian copula, with
  weighted events (a few hundred signal, a few thousand background).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy import stats
from scipy.optimize import differential_evolution

from .events import CutSpec, Events
from .objectives import resolve_objective

__all__ = ["problem_a", "problem_b", "scan_one_cut", "differential_evolution_cuts", "CutProblem",
           "generate_problem", "issue_problem", "SHAPES"]


def problem_a(seed=0, n_background=1000, n_signal=100):
    """Problem A's events and cut spec (``x > c``) and the start ``c = 6``.

    Returns:
        ``(events, spec, theta0)``.
    """
    rng = np.random.default_rng(seed)
    bkg = np.empty(0)
    while bkg.size < n_background:  # redraw the negative ones: "positive values kept"
        x = rng.exponential(1.0, n_background) + rng.normal(0.0, 0.1, n_background)
        bkg = np.concatenate([bkg, x[x > 0]])
    sig = rng.normal(2.0, 0.5, n_signal)
    return Events.from_samples(sig, bkg[:n_background]), CutSpec([(0, ">")], names=["x"]), 6.0


_B_NAMES = ["m", "pt", "score", "eta", "iso"]


def problem_b(seed=0, n_signal=1000, n_background=20000):
    """Problem B's events (5 variables), cut spec (7 thresholds: 2 windows, 3 one-sided) and a loose start.

    Signal and background overlap in every variable (no background-free pocket: the
    likelihood-ratio-optimal selection keeps ~600 signal and ~590 background events),
    so the optimum is a bulk selection, not a fluctuation.

    Returns:
        ``(events, spec, theta0, bounds)``; ``bounds`` (7, 2) spans the 0.5–99.5 % range
        of each variable, ``theta0`` is its loose end (keeps ~all events).
    """
    rng = np.random.default_rng(seed)

    def draw(n, sig):
        m = rng.normal(0.0, 1.0, n) if sig else rng.uniform(-5.0, 5.0, n)
        pt = rng.gamma(2.5, 1.0, n) if sig else rng.exponential(1.5, n)
        score = rng.normal(0.5, 1.0, n) if sig else rng.normal(-0.5, 1.2, n)
        eta = rng.normal(0.0, 1.0, n) if sig else rng.normal(0.0, 2.0, n)
        iso = rng.exponential(0.7, n) if sig else rng.exponential(1.5, n)
        return np.stack([m, pt, score, eta, iso], axis=1)

    ev = Events.from_samples(draw(n_signal, True), draw(n_background, False))
    spec = CutSpec([(0, "window"), (1, ">"), (2, ">"), (3, "window"), (4, "<")], names=_B_NAMES)
    x = ev.features[:, spec.variables]
    lo, hi = np.percentile(x, 0.5, axis=0), np.percentile(x, 99.5, axis=0)
    theta0 = np.where(spec.direction > 0, lo, hi)
    return ev, spec, theta0, np.stack([lo, hi], axis=1)


def scan_one_cut(events: Events, objective="asimov", b_min=1.0, variable=0):
    """Exhaustive hard scan of a single cut ``x > c``: every distinct selection is tried.

    Returns:
        dict with ``best`` (objective), ``interval`` ``(lo, hi)`` of thresholds that
        reach it (any ``c`` in ``[lo, hi)`` keeps the same events), ``cut`` (its
        midpoint), and the curve ``cuts``, ``values`` (one point per distinct selection).
    """
    f = resolve_objective(objective, b_min)
    x = events.features[:, variable]
    order = np.argsort(x)[::-1]
    xs = x[order]
    S = np.r_[0.0, np.cumsum(events.signal_weights[order])]
    B = np.r_[0.0, np.cumsum(events.background_weights[order])]
    vals = np.asarray(f(S, B), float)  # vals[j]: the j largest values pass
    lower = np.r_[xs, -np.inf]  # c must be >= lower[j] ...
    upper = np.r_[np.inf, xs]  # ... and < upper[j]
    distinct = np.r_[True, xs[1:] < xs[:-1], True]  # ties: only cuts between distinct values
    vals = np.where(distinct, vals, -np.inf)
    j = int(np.argmax(vals))
    lo, hi = lower[j], upper[j]
    mid = lo + 1.0 if not np.isfinite(hi) else (hi - 1.0 if not np.isfinite(lo) else 0.5 * (lo + hi))
    ok = distinct & np.isfinite(lower) & np.isfinite(upper)
    return {"best": float(vals[j]), "interval": (float(lo), float(hi)), "cut": float(mid),
            "cuts": 0.5 * (lower + upper)[ok], "values": vals[ok]}


def differential_evolution_cuts(events: Events, spec: CutSpec, bounds, objective="asimov", b_min=1.0,
                                seed=0, maxiter=200, popsize=15, tol=1e-3):
    """scipy's ``differential_evolution`` on the (piecewise-constant) hard-cut objective.

    Returns:
        dict with ``theta``, ``hard_value``, ``evaluations`` (``nfev``), ``seconds`` and
        ``best_so_far`` (the best objective after each evaluation).
    """
    f = resolve_objective(objective, b_min)
    x = events.features[:, spec.variables]
    ws, wb = events.signal_weights, events.background_weights

    trace = []  # running best after each evaluation

    def loss(th):
        keep = np.all(spec.direction * (x - th) > 0, axis=1)
        v = float(f(ws[keep].sum(), wb[keep].sum()))
        trace.append(max(v, trace[-1]) if trace else v)
        return -v

    t0 = time.perf_counter()
    res = differential_evolution(loss, bounds, seed=seed, maxiter=maxiter, popsize=popsize, tol=tol,
                                 polish=False)
    return {"theta": np.asarray(res.x), "hard_value": -float(res.fun), "evaluations": int(res.nfev),
            "seconds": time.perf_counter() - t0, "best_so_far": np.array(trace)}


# --- the generated family ---------------------------------------------------------------------------------------
#
# A shape draws its own parameters from the problem's generator and returns (kind, unit, signal(u), background(u)):
# inverse CDFs of the signal and background marginals, applied to copula uniforms u (so the variables of a problem
# are correlated); mixtures pick their component from a second, independent uniform.

def _resonance(rng):
    """Mass-like: a Gaussian peak over a falling exponential that starts below it (window cut)."""
    m0 = rng.uniform(80.0, 160.0)
    width, start, slope = m0 * rng.uniform(0.08, 0.15), m0 * rng.uniform(0.3, 0.6), m0 * rng.uniform(0.5, 1.2)
    return ("window", "GeV", lambda u, v: stats.norm.ppf(u, m0, width),
            lambda u, v: start + stats.expon.ppf(u, scale=slope))


def _hard_spectrum(rng):
    """pT-like: signal Γ(k) harder than a steeply falling background above a trigger threshold (lower cut)."""
    thr, k, slope_b = rng.uniform(20.0, 30.0), rng.uniform(2.0, 4.0), rng.uniform(8.0, 25.0)
    mean_s = slope_b * rng.uniform(1.2, 2.0)
    return ("lower", "GeV", lambda u, v: thr + stats.gamma.ppf(u, k, scale=mean_s / k),
            lambda u, v: thr + stats.expon.ppf(u, scale=slope_b))


def _isolation(rng):
    """Isolation-like: signal Exp(a), background Γ(k ≥ 1) several times wider (upper cut)."""
    a, k, ratio = rng.uniform(0.02, 0.1), rng.uniform(1.0, 2.0), rng.uniform(1.3, 2.5)
    return ("upper", "", lambda u, v: stats.expon.ppf(u, scale=a),
            lambda u, v: stats.gamma.ppf(u, k, scale=ratio * a / k))


def _met_veto(rng):
    """Missing-ET-like veto: soft exponential signal, harder Γ background (upper cut)."""
    a, k = rng.uniform(10.0, 25.0), rng.uniform(1.5, 3.0)
    sb = a * rng.uniform(1.0, 2.0) / k * 1.5
    return ("upper", "GeV", lambda u, v: stats.expon.ppf(u, scale=a), lambda u, v: stats.gamma.ppf(u, k, scale=sb))


def _skewed_score(rng):
    """Classifier-score-like: two skew-normals leaning toward each other (lower cut, or upper if mirrored)."""
    sep, a_s, a_b = rng.uniform(0.4, 1.2), rng.uniform(2.0, 8.0), rng.uniform(2.0, 8.0)
    ws, wb = rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.4)
    sign = 1.0 if rng.random() < 0.7 else -1.0
    return ("lower" if sign > 0 else "upper", "",
            lambda u, v: sign * stats.skewnorm.ppf(u, -a_s, loc=sep / 2 + ws, scale=ws * 1.5),
            lambda u, v: sign * stats.skewnorm.ppf(u, a_b, loc=-sep / 2 - wb, scale=wb * 1.5))


def _displacement(rng):
    """Decay-length-like: log-normal signal displaced from a prompt log-normal background (lower cut)."""
    mb = rng.uniform(0.05, 0.3)
    ms = mb * rng.uniform(1.5, 3.5)
    ss, sb = rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.3)
    return ("lower", "mm", lambda u, v: stats.lognorm.ppf(u, ss, scale=ms),
            lambda u, v: stats.lognorm.ppf(u, sb, scale=mb))


def _multimodal(rng):
    """Signal peak between two background bumps plus a flat floor (window cut)."""
    w = rng.uniform(0.3, 0.6)
    d1, d2, wb = rng.uniform(1.0, 2.5), rng.uniform(1.0, 2.5), rng.uniform(0.4, 0.9)
    frac = np.cumsum(rng.dirichlet([3.0, 3.0, 1.5]))
    half = max(d1, d2) + 3 * wb

    def bkg(u, v):
        return np.where(v < frac[0], stats.norm.ppf(u, -d1, wb),
                        np.where(v < frac[1], stats.norm.ppf(u, d2, wb), stats.uniform.ppf(u, -half, 2 * half)))

    return "window", "", lambda u, v: stats.norm.ppf(u, 0.0, w), bkg


def _abs_eta(rng):
    """|η|-like: central signal, forward-spread background, both within the acceptance 2.5 (upper cut)."""
    ss, sb = rng.uniform(0.7, 1.1), rng.uniform(1.6, 3.0)

    def trunc(sd):
        top = stats.halfnorm.cdf(2.5, scale=sd)
        return lambda u, v: stats.halfnorm.ppf(u * top, scale=sd)

    return "upper", "", trunc(ss), trunc(sb)


SHAPES = {"resonance": _resonance, "hard_spectrum": _hard_spectrum, "isolation": _isolation,
          "met_veto": _met_veto, "skewed_score": _skewed_score, "displacement": _displacement,
          "multimodal": _multimodal, "abs_eta": _abs_eta}
_KIND_OF = {"resonance": ("window",), "multimodal": ("window",), "hard_spectrum": ("lower",),
            "displacement": ("lower",), "skewed_score": ("lower", "upper"), "isolation": ("upper",),
            "met_veto": ("upper",), "abs_eta": ("upper",)}


@dataclasses.dataclass(frozen=True)
class CutProblem:
    """One generated cut problem.

    Attributes:
        name: ``"G<seed>"`` (``"I<seed>"``: :func:`issue_problem`).
        seed: the generator seed.
        events: weighted signal and background events, one variable per cut.
        spec: the cuts (cut ``j`` acts on variable ``j``).
        theta0: the loose start (0.5 % / 99.5 % quantile of all events at each threshold's loose end).
        bounds: ``(n_params, 2)`` 0.5–99.5 % range of each threshold's variable (for population searches).
        shapes: the shape of each variable (keys of :data:`SHAPES`).
        units: each variable's unit ("" for dimensionless).
        correlation: the largest |correlation| of the background's latent Gaussian copula.
        irreducible: the fraction of background events drawn from the signal's shapes.
    """

    name: str
    seed: int
    events: Events
    spec: CutSpec
    theta0: np.ndarray
    bounds: np.ndarray
    shapes: tuple
    units: tuple
    correlation: float
    irreducible: float = 0.0

    @property
    def kinds(self) -> tuple:
        """The kind of each cut (``"lower"``, ``"upper"``, ``"window"``)."""
        return tuple(k for _, k in self.spec.cuts)

    def describe(self) -> str:
        """``shape[kind]`` per cut, e.g. ``"resonance[<>] met_veto[<]"``."""
        sym = {"lower": ">", "upper": "<", "window": "<>"}
        return " ".join(f"{s}[{sym[k]}]" for s, k in zip(self.shapes, self.kinds))


def _copula_uniforms(rng, n, dim, strength):
    """``(n, dim)`` uniforms of a Gaussian copula with a random correlation (off-diagonal scale ``strength``)."""
    b = rng.normal(size=(dim, dim)) * strength
    cov = np.eye(dim) + b @ b.T
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    z = rng.normal(size=(n, dim)) @ np.linalg.cholesky(corr).T
    return np.clip(stats.norm.cdf(z), 1e-12, 1 - 1e-12), corr


def _weights(rng, n, total):
    """``n`` positive Monte-Carlo weights (Γ(6)-spread, ~40 %) summing to ``total``."""
    w = rng.gamma(6.0, 1.0, n)
    return w * (total / w.sum())


def generate_problem(seed, n_cuts=None, kinds=None, n_signal=None, n_background=None,
                     irreducible=None) -> CutProblem:
    """A seeded, physically flavoured cut problem: one variable per cut, weighted events, a loose start.

    Each cut ``j`` acts on its own variable ``j`` whose signal and background shapes
    come from :data:`SHAPES` (drawn at random among those whose natural cut is the
    kind asked for). The variables of each class are correlated through a Gaussian
    copula with a random correlation matrix (from nearly independent to |ρ| ≈ 0.7).
    Events carry positive weights (about 40 % spread); the signal weights sum to
    ``n_signal`` and the background ones to ``n_background`` (one Monte-Carlo event
    per unit of yield on average). A fraction ``irreducible`` of the background
    events is irreducible: drawn from the signal's shapes (as ZZ → 4ℓ under a
    Higgs peak), so that no corner of the space is background-free and the best
    selection is a bulk one, not a pocket carved around the last few background
    Monte-Carlo events. Same arguments, same problem.

    Args:
        seed: non-negative integer.
        n_cuts: number of cuts, 1–5 (a window is one cut with two thresholds); default
            drawn uniformly from 1–5.
        kinds: optional list of ``n_cuts`` kinds (``"lower"``, ``"upper"``, ``"window"``);
            default drawn (a window with probability 1/4, otherwise lower or upper).
        n_signal, n_background: weighted yields (default drawn in 200–500 and 2000–8000).
        irreducible: the irreducible fraction of the background (default drawn in 3–10 %;
            0: none, which leaves background-free pockets in the tails of many-cut problems).

    Returns:
        :class:`CutProblem`.

    Raises:
        ValueError: a negative seed, ``n_cuts`` outside 1–5, kinds of the wrong length or
            unknown, yields below 5, ``irreducible`` outside [0, 1].
    """
    if not (isinstance(seed, (int, np.integer)) and seed >= 0):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 19]))
    n_cuts = int(rng.integers(1, 6)) if n_cuts is None else n_cuts
    if not (isinstance(n_cuts, (int, np.integer)) and 1 <= n_cuts <= 5):
        raise ValueError(f"n_cuts must be an integer in 1–5, got {n_cuts!r}")
    if kinds is None:
        kinds = [rng.choice(["window", "lower", "upper"], p=[0.25, 0.375, 0.375]) for _ in range(n_cuts)]
    kinds = [str(k) for k in kinds]
    if len(kinds) != n_cuts or any(k not in ("lower", "upper", "window") for k in kinds):
        raise ValueError(f"kinds must be {n_cuts} of 'lower', 'upper', 'window', got {kinds!r}")
    n_signal = int(rng.integers(200, 501)) if n_signal is None else int(n_signal)
    n_background = int(rng.integers(2000, 8001)) if n_background is None else int(n_background)
    if min(n_signal, n_background) < 5:
        raise ValueError(f"n_signal and n_background must be at least 5, got {n_signal}, {n_background}")
    irreducible = rng.uniform(0.03, 0.10) if irreducible is None else float(irreducible)
    if not 0.0 <= irreducible <= 1.0:
        raise ValueError(f"irreducible must be a fraction in [0, 1], got {irreducible!r}")
    shapes, draws = [], []
    for kind in kinds:
        names = sorted(s for s, ks in _KIND_OF.items() if kind in ks)
        while True:  # a mirrored skewed score serves "upper", the unmirrored one "lower"
            name = str(rng.choice(names))
            drawn = SHAPES[name](rng)
            if drawn[0] == kind:
                break
        shapes.append(name)
        draws.append(drawn)
    us, _ = _copula_uniforms(rng, n_signal, n_cuts, rng.uniform(0.0, 0.5))
    ub, corr = _copula_uniforms(rng, n_background, n_cuts, rng.uniform(0.0, 0.8))
    vs, vb = rng.random((n_signal, n_cuts)), rng.random((n_background, n_cuts))
    sig = np.stack([d[2](us[:, j], vs[:, j]) for j, d in enumerate(draws)], axis=1)
    irr = rng.random(n_background) < irreducible
    bkg = np.stack([np.where(irr, d[2](ub[:, j], vb[:, j]), d[3](ub[:, j], vb[:, j]))
                    for j, d in enumerate(draws)], axis=1)
    w = np.r_[_weights(rng, n_signal, n_signal), _weights(rng, n_background, n_background)]
    events = Events(np.concatenate([sig, bkg]), np.r_[np.ones(n_signal, bool), np.zeros(n_background, bool)], w)
    spec = CutSpec(list(enumerate(kinds)), names=[f"{s}{j}" for j, s in enumerate(shapes)])
    x = events.features[:, spec.variables]
    lo, hi = np.percentile(x, 0.5, axis=0), np.percentile(x, 99.5, axis=0)
    off = corr - np.eye(n_cuts)
    return CutProblem(f"G{seed}", int(seed), events, spec, np.where(spec.direction > 0, lo, hi),
                      np.stack([lo, hi], axis=1), tuple(shapes), tuple(d[1] for d in draws),
                      float(np.abs(off).max()) if n_cuts > 1 else 0.0, irreducible)


def issue_problem(seed=0) -> CutProblem:
    """The case of issue 19: two lower cuts and one upper cut, 300 weighted signal and 6000 background events."""
    p = generate_problem(seed, n_cuts=3, kinds=["lower", "lower", "upper"], n_signal=300, n_background=6000)
    return dataclasses.replace(p, name=f"I{seed}")
