"""The joint analysis as one stochastic program: Qanti-kT clustering at R, then stochastic cuts.

Parameters θ (in *grid units*, so one finite-difference step and one learning rate
fit every component): ``θ = (R / 0.1, lo / 2.5 GeV, hi / 2.5 GeV, pT_cut / 5 GeV)``;
:data:`UNITS` converts. Per event ``e`` and replica ``k`` (one replica is the whole
sample, every event clustered once):

1. a Qanti-kT history ``h_ek`` at radius R (α fixed) gives ``mjj_ek`` (two leading
   jets with pT ≥ 20 GeV) and the leading-jet ``pT_ek``, and the score
   ``∂/∂R log p(h_ek)`` (:func:`apps.jets.cluster`);
2. the event passes with probability ``p_ek = σ((m − lo)/s_m) σ((hi − m)/s_m)
   σ((pT − c)/s_pt)`` (the cuts app's stochastic cut: a window and a lower cut on
   :class:`apps.cuts.CutSpec`), drawn as ``c_ek = [u_ek < p_ek]``; no two jets: ``p = 0``;
3. the replica's value is the Asimov significance ``Z_k = Z(S_k, B_k)`` of the
   weighted selected yields.

Gradient of ``E[Z]`` per replica, one term per event (exact identities: ``Z`` is
multilinear in the events' pass indicators, so averaging event e's own choices
while the others stay as drawn is unbiased):

* cuts: ``Σ_e ∂p_ek/∂θ · ΔZ_ek`` with ``ΔZ_ek = Z(S_k^{−e} + w_e) − Z(S_k^{−e})``, the
  change of Z when event e enters the other events' selection — the stochastic
  derivative of the pass decision, Rao-Blackwellised over its two outcomes;
* R: ``Σ_e (p_ek − p̄_e^{(−k)}) ΔZ_ek · ∂/∂R log p(h_ek)``, the score function with a
  *per-event* baseline: ``p̄_e^{(−k)}`` is the mean pass probability of event e's
  *other* replicas, independent of ``h_ek``, so the baseline adds no bias; the event's
  pass decision is averaged out too.

The program hands these to stochgrad as alternative terms (``alt_weight`` = the
weights above, ``alt_delta`` = ``ΔZ``), so :class:`stochgrad.StochasticDerivative`
(without control variates) averages them, and :class:`stochgrad.FiniteDifference`
(common random numbers: the engine's streams depend on (seed, event, replica), the
cut uniforms on (seed, replica)) and :class:`stochgrad.ScoreFunction` (its usual
replica-level baseline; ``score`` is the full ∇θ log p of a replica) run on the same
program as cross-checks.
"""

from __future__ import annotations

import functools

import numpy as np

import stochgrad as sg

from .significance import asimov_significance

__all__ = ["UNITS", "PARAMS", "to_physical", "to_units", "joint_program", "observables", "cut_probabilities",
           "default_estimator", "cut_spec"]

UNITS = np.array([0.1, 2.5, 2.5, 5.0])
PARAMS = ("R", "mjj_lo", "mjj_hi", "pt1_min")
JET_PTMIN = 20.0


@functools.lru_cache(maxsize=1)
def cut_spec():
    """The cuts as an :class:`apps.cuts.CutSpec`: a window on mjj (feature 0) and a lower cut on pt1 (feature 1)."""
    from apps.cuts import CutSpec

    return CutSpec([(0, "window"), (1, ">")], names=["mjj", "pt1"])


def to_physical(theta):
    """θ in grid units → ``(R, lo, hi, pT_cut)`` in (1, GeV, GeV, GeV)."""
    return np.asarray(theta, float) * UNITS


def to_units(phys):
    """``(R, lo, hi, pT_cut)`` → θ in grid units."""
    return np.asarray(phys, float) / UNITS


def _check_theta(theta):
    th = np.asarray(theta, float)
    if th.shape != (4,) or not np.all(np.isfinite(th)):
        raise ValueError(f"θ must be 4 finite numbers ({', '.join(PARAMS)}), got {theta!r}")
    R, lo, hi, _ = th * UNITS
    if R <= 0:
        raise ValueError(f"jet radius R = {R:g} must be > 0")
    if not lo < hi:
        raise ValueError(f"the mjj window needs lo < hi, got lo = {lo:g}, hi = {hi:g} GeV")
    return th


def observables(events, R, alpha, n_samples, seed, ptmin=JET_PTMIN):
    """Sampled ``(mjj, pt1, score)`` per (event, sample), each ``(N, n_samples)``.

    ``alpha=None`` is anti-kT (our engine; every sample identical, score 0).
    ``mjj`` is NaN without two jets above ``ptmin``; ``pt1`` is 0 without any.
    """
    from apps.jets import cluster

    res = cluster(events, float(R), alpha=alpha, n_samples=int(n_samples), seed=int(seed))
    mjj = res.mjj(ptmin)
    jets = res.inclusive_jets(ptmin)
    pt1 = jets.pt[..., 0] if jets.p4.shape[2] else np.zeros(mjj.shape)
    return mjj, pt1, np.asarray(res.score, float)


def cut_probabilities(mjj, pt1, cuts, scale):
    """Pass probability ``p`` and ``∂p/∂(lo, hi, pT_cut)`` (physical units) of the stochastic cut.

    Args:
        mjj, pt1: arrays of the same shape (NaN mjj: the event fails, ``p = 0``).
        cuts: ``(lo, hi, pT_cut)`` in GeV.
        scale: ``(s_m, s_pt)`` sharpness in GeV (→ 0: the hard cut), or one width per
            cut ``(s_lo, s_hi, s_pt)``.

    Returns:
        ``(p, dp)`` with shapes ``x.shape`` and ``x.shape + (3,)``.
    """
    spec = cut_spec()
    s = np.asarray(scale, float)
    s = np.array([s[0], s[0], s[1]]) if s.shape == (2,) else s
    ok = np.isfinite(mjj)
    x = np.stack([np.where(ok, mjj, 0.0), pt1], axis=-1)[..., spec.variables]
    z = np.clip(spec.direction * (x - np.asarray(cuts, float)) / s, -50.0, 50.0)
    log_sig = -np.logaddexp(0.0, -z)
    p = np.where(ok, np.exp(log_sig.sum(axis=-1)), 0.0)
    dlogp = np.exp(-np.logaddexp(0.0, z)) * (-spec.direction / s)  # σ(−z) ∂z/∂θ
    return p, p[..., None] * dlogp


def default_estimator():
    """``StochasticDerivative(control_variates=False)``: averages the program's per-event terms (unbiased)."""
    return sg.StochasticDerivative(control_variates=False)


def _expansion(f, point):
    """``(S0, B0, Z0, ∂Z/∂S, ∂Z/∂B)`` of ``f`` at ``point = (S0, B0)`` (autograd partials)."""
    from autograd import grad

    try:
        s0, b0 = (float(x) for x in point)
    except (TypeError, ValueError):
        raise ValueError(f"linearize must return two numbers (S0, B0), got {point!r}") from None
    if not (np.isfinite(s0) and np.isfinite(b0) and s0 >= 0 and b0 > 0):
        raise ValueError(f"the expansion point needs S0 >= 0 and B0 > 0, finite; got ({s0!r}, {b0!r})")
    # Z = sqrt(z2) has no derivative at s = 0 (z2 ~ s²/b there; autograd gives 0/0 = nan): the yields never go
    # below 0, so the one-sided slope (the limit s -> 0+) is the right one, taken a hair above 0.
    s_at = max(s0, 1e-9 * b0)
    zs, zb = float(grad(f, 0)(s_at, b0)), float(grad(f, 1)(s_at, b0))
    if not (np.isfinite(zs) and np.isfinite(zb)):
        raise ValueError(f"the significance has no finite derivative at the expansion point ({s0!r}, {b0!r})")
    return s0, b0, float(f(s0, b0)), zs, zb


def joint_program(sample, alpha=10.0, samples=4, scale=(2.0, 2.0), rel_syst=0.0, b_min=None, linearize=None,
                  r_step=None, observe=None, box=None, histories=None):
    """The joint program of θ (grid units) as a :class:`stochgrad.BatchedProgram`.

    One call clusters every event ``samples`` times (``n`` must equal ``samples``: a
    Monte-Carlo sample is a replica of the whole analysis). See the module docs for
    what each estimator receives; every term is unbiased for ``∇θ E[Z]`` at the given
    α and cut sharpness.

    With ``linearize`` the replica's value is instead Z's first-order expansion
    around a point ``(S0, B0)``: ``Z0 + Z_S (S − S0) + Z_B (B − B0)``. The estimators
    are then unbiased for ``Z_S ∇E[S] + Z_B ∇E[B]``, which is ``∇ Z(E[S], E[B])`` (the
    significance of the expected yields) when ``(S0, B0) = (E[S], E[B])``. Each
    event's term no longer depends on the other events, so ``sample`` may be a random
    subset of the events with its weights scaled up (what
    :func:`~apps.analysis.optimize.optimize_analysis` does with ``batch``): the
    yields and their gradients stay unbiased.

    Args:
        sample: :class:`~apps.analysis.samples.Sample`.
        alpha: Qanti-kT α (finite, > 0).
        samples: replicas per call (≥ 2, for the per-event baseline).
        scale: cut sharpness ``(s_m, s_pt)`` in GeV, or one width per cut ``(s_lo, s_hi, s_pt)``.
        rel_syst: relative background systematic of the significance.
        b_min: background floor (default
            :func:`~apps.analysis.samples.background_floor`).
        r_step: ``None``: the R term is the score function with per-event baselines
            (unbiased). A step ``h`` in grid units: every event and replica is clustered
            at ``R − h`` and ``R + h`` with the same random streams (common random
            numbers), the R term is the central difference of its pass probability,
            ``(p(R+h) − p(R−h)) / 2h``, and the cut terms and the value use the mean of the
            two. That costs two clusterings per event and replica and is biased by
            ``O(h²)`` (the central difference of the smoothed objective), but its variance
            per clustering is several times lower than the score's. Not available to
            :class:`stochgrad.ScoreFunction` (no score).
        linearize: ``None`` (the value is Z) or a callable ``(S, B) -> (S0, B0)``
            that receives each call's selected yields per replica (arrays ``(K,)``,
            e.g. to keep a running mean) and returns the expansion point (S0 ≥ 0, B0 > 0).
        box: ``None`` or ``(m_min, m_max)`` in GeV: only events with ``m_min < mjj < m_max``
            can pass (a hard, θ-independent factor on every pass probability). The soft
            window's tails then never reach masses where the samples do not model the
            background (the QCD sample's generator cut), while any hard window inside the
            box selects the same events as without it.
        histories: ``None`` (every call clusters every event anew) or a callable ``R -> (mjj, pt1,
            score, ratio)``, each ``(N, K)``, e.g. :class:`~apps.analysis.reuse.ReusedHistories`:
            histories sampled at an earlier radius, with the likelihood ratio ``p_R(h)/p_{R_k}(h)``
            and the score at R. Every event's terms (its yields, its cut and R terms) are
            multiplied by its ratio, which keeps them unbiased at any fixed θ; needs
            ``linearize`` (per-event additive yields) and no ``r_step``.
        observe: ``None`` or a callable receiving each call's sampled ``(mjj, pt1)`` (arrays
            ``(N, K)``, copies), e.g. to set the next call's cut widths from the event density
            (a width chosen from an earlier call's draws keeps this call's terms unbiased).

    Raises:
        ValueError: bad α, samples, scale; at call time bad θ or ``n``.
    """
    if alpha is None or not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"the joint gradient needs a finite Qanti-kT α > 0, got {alpha!r}")
    if int(samples) != samples or samples < 2:
        raise ValueError(f"samples must be an integer >= 2 (per-event baseline), got {samples!r}")
    scale = np.asarray(scale, float)
    scale = (np.broadcast_to(scale, (2,)) if scale.size < 3 else scale).copy()
    if scale.shape not in ((2,), (3,)) or not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError(f"cut sharpness must be (s_m, s_pt) or (s_lo, s_hi, s_pt), each > 0 GeV, got {scale!r}")
    if box is not None:
        box = tuple(float(x) for x in box)
        if len(box) != 2 or not (np.isfinite(box[0]) and np.isfinite(box[1]) and box[0] < box[1]):
            raise ValueError(f"box must be None or (m_min, m_max) with m_min < m_max, got {box!r}")

    def cuts(mjj, pt1, c):
        p, dp = cut_probabilities(mjj, pt1, c, scale)
        if box is None:
            return p, dp
        inside = (np.nan_to_num(mjj, nan=-np.inf) > box[0]) & (np.nan_to_num(mjj, nan=np.inf) < box[1])
        return p * inside, dp * inside[..., None]

    if observe is not None and not callable(observe):
        raise ValueError(f"observe must be None or a callable (mjj, pt1), got {observe!r}")
    ws, wb = sample.signal_weights, sample.background_weights
    if not np.all(np.isfinite(sample.weight)):
        raise ValueError("event weights must be finite")
    if not (ws.sum() > 0 and wb.sum() > 0):  # single negative weights (NLO) are fine; the totals are not
        raise ValueError(f"the signal and background weight totals must be positive, got {ws.sum():g} and "
                         f"{wb.sum():g}")
    if b_min is None:
        from .samples import background_floor

        b_min = background_floor(sample)
    asimov_significance(1.0, 1.0, rel_syst, b_min)  # validate now

    def f(s, b):
        return asimov_significance(s, b, rel_syst, b_min)

    if r_step is not None and not (np.isfinite(r_step) and r_step > 0):
        raise ValueError(f"r_step must be None or a positive step in grid units, got {r_step!r}")
    if linearize is not None and not callable(linearize):
        raise ValueError(f"linearize must be None or a callable (S, B) -> (S0, B0), got {linearize!r}")
    if histories is not None and (linearize is None or r_step is not None or not callable(histories)):
        raise ValueError("histories (reused clusterings) must be a callable and need linearize (per-event additive "
                         "yields) and no r_step")
    K, N = int(samples), len(sample)

    def fn(theta, n, seed, want):
        if want.temperature is not None:
            raise ValueError("no relaxation of a clustering history: GS-STE is not available for the analysis; "
                             "use StochasticDerivative, ScoreFunction or FiniteDifference")
        if n != K:
            raise ValueError(f"n must equal samples = {K} (one Monte-Carlo sample is a replica), got {n}")
        th = _check_theta(theta)
        R, lo, hi, ptc = th * UNITS
        ratio = None
        if histories is not None:
            if want.score:
                raise ValueError("reused histories carry no replica score: use StochasticDerivative")
            mjj, pt1, score, ratio = histories(R)
            if observe is not None:
                observe(mjj.copy(), pt1.copy())
            p, dp = cuts(mjj, pt1, (lo, hi, ptc))
        elif r_step is None:
            mjj, pt1, score = observables(sample.events, R, alpha, K, seed)
            if observe is not None:
                observe(mjj.copy(), pt1.copy())
            p, dp = cuts(mjj, pt1, (lo, hi, ptc))
        else:
            if want.score:
                raise ValueError("the finite-difference R term (r_step) has no score: use StochasticDerivative")
            h = r_step * UNITS[0]
            if not R > h:
                raise ValueError(f"R = {R:g} must exceed the finite-difference step {h:g} (r_step = {r_step:g})")
            om, op = observables(sample.events, R - h, alpha, K, seed)[:2], \
                observables(sample.events, R + h, alpha, K, seed)[:2]
            if observe is not None:
                observe(np.concatenate([om[0], op[0]], axis=1), np.concatenate([om[1], op[1]], axis=1))
            pm, dpm = cuts(*om, (lo, hi, ptc))
            pp, dpp = cuts(*op, (lo, hi, ptc))
            p, dp = 0.5 * (pm + pp), 0.5 * (dpm + dpp)
        pk = p.T  # (K, N)
        u = np.stack([np.random.default_rng([int(seed) % (1 << 63), 0xC075, k]).random(N) for k in range(K)])
        c = (u < pk).astype(float)
        rk = np.ones_like(pk) if ratio is None else np.asarray(ratio, float).T
        S, B = (c * rk) @ ws, (c * rk) @ wb
        if linearize is None:
            out = sg.BatchSamples(value=np.asarray(f(S, B), float))
        else:
            s0, b0, z0, zs, zb = _expansion(f, linearize(S.copy(), B.copy()))
            out = sg.BatchSamples(value=z0 + zs * (S - s0) + zb * (B - b0))
        if want.alternatives:
            if linearize is None:
                Sm, Bm = S[:, None] - c * ws, B[:, None] - c * wb
                dZ = f(Sm + ws, Bm + wb) - f(Sm, Bm)  # (K, N)
            else:
                dZ = np.broadcast_to(zs * ws + zb * wb, (K, N))
            w = np.empty((K, N, 4))
            if r_step is None:
                prk = pk * rk
                pbar = (prk.sum(axis=0) - prk) / (K - 1)  # other replicas' estimate of E_R[p_e]: no bias
                w[..., 0] = rk * (pk - pbar) * score.T * UNITS[0]
            else:
                w[..., 0] = (pp - pm).T / (2.0 * r_step)
            w[..., 1:] = rk[..., None] * np.transpose(dp, (1, 0, 2)) * UNITS[1:]
            out.alt_weight, out.alt_delta = w, dZ
        if want.score:
            sc = np.empty((K, 4))
            sc[:, 0] = score.sum(axis=0) * UNITS[0]
            one_minus = np.maximum(1.0 - pk, 1e-300)
            dlogp = np.transpose(dp, (1, 0, 2)) / np.maximum(pk, 1e-300)[..., None]
            sc[:, 1:] = np.einsum("kn,knd->kd", (c - pk) / one_minus, dlogp) * UNITS[1:]
            out.score = sc
        return out

    prog = sg.batched(fn)
    prog.__name__ = f"analysis[α={alpha}, K={K}, N={N}]"
    prog.n_per_call = K
    prog.b_min = b_min
    return prog
