"""The stochastic cut: each event passes with probability Π_d σ(±(x − θ_d)/s_d), as a batched and a traced program.

One Bernoulli per event with ``p_i = Π_d σ(z_id)``, ``z_id = dir_d (x_{i,v_d} − θ_d)/s_d``.
A window is two conditions (``x > lo`` and ``x < hi``). One Bernoulli of the product
has the same law as the AND of one Bernoulli per condition (independent), so the
expectation is the same either way; one draw per event is cheaper and its flip
alternative is a single event leaving or entering the selection. ``s → 0`` is the
hard cut.
"""

from __future__ import annotations

import warnings

import autograd.numpy as anp
import numpy as np

import stochgrad as sg

from .events import CutSpec, Events
from .objectives import resolve_objective

__all__ = ["stochastic_cut", "traced_cut", "pass_probability", "hard_objective", "soft_objective",
           "check_scale", "SharpnessWarning"]


class SharpnessWarning(UserWarning):
    """The sharpness ``s`` saturates every pass probability: the gradient asked for is 0 and uninformative."""

_CHUNK = 2_000_000  # samples × events per block (bounds memory, keeps the random stream fixed)


def check_scale(scale, n_params) -> np.ndarray:
    """The sharpness ``s`` as a ``(n_params,)`` array.

    Raises:
        ValueError: ``s <= 0``, non-finite, or of the wrong length.
    """
    s = np.asarray(scale, dtype=float)
    if s.ndim == 0:
        s = np.full(n_params, float(s))
    if s.shape != (n_params,):
        raise ValueError(f"scale must be a number or have {n_params} entries, got shape {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"scale s must be > 0 (s → 0 is the hard cut), got {scale!r}")
    return s


_Z_CLIP = 50.0


def _logits(events: Events, spec: CutSpec, th, s, gradient=True):
    """log p_i, log(1 − p_i), ∂log p_i/∂θ ``(N, D)`` and ∂logit p_i/∂θ ``(N, D)``.

    ``z`` is clipped to ±50 (σ(50) = 1 − 2e-22): probabilities change by less than
    the float resolution and every ratio below stays finite. Where the clip acts,
    the derivative of the clipped ``z`` is zero (the true one is below
    ``e^{-50}/s``); computing it as ``−dir/s`` there gave gradients of 10^12 on a
    flat objective at ``s = 1e-25``.

    Warns:
        SharpnessWarning: with ``gradient=True``, when the clip saturates every event
            and threshold: each pass probability is then 0 or 1 to float precision,
            the expected objective is flat there and its gradient (0) carries no
            information for an optimiser.
    """
    raw = spec.direction * (events.features[:, spec.variables] - th) / s
    saturated = ~(np.abs(raw) <= _Z_CLIP)
    if gradient and saturated.all():
        dist = np.abs(events.features[:, spec.variables] - th).min(axis=0)
        warnings.warn(
            f"sharpness s = {np.array2string(np.asarray(s), precision=3)} saturates every event: each "
            f"|x − θ|/s exceeds {_Z_CLIP:g} (closest events at |x − θ| = "
            f"{np.array2string(dist, precision=3)}), so every pass probability is 0 or 1 to float precision, the "
            "expected objective is flat here and its gradient is 0; use s of the order of those distances",
            SharpnessWarning, stacklevel=3)
    z = np.clip(raw, -_Z_CLIP, _Z_CLIP)
    softplus_minus = np.logaddexp(0.0, -z)  # −log σ(z)
    logp = -softplus_minus.sum(axis=1)
    log1mp = np.log(-np.expm1(logp))
    dz = np.where(saturated, 0.0, -spec.direction / s)
    log_sig_minus = -(softplus_minus + z)  # log σ(−z) ≤ log(1 − p)
    dlogp = np.exp(log_sig_minus) * dz
    dlogit = np.exp(log_sig_minus - log1mp[:, None]) * dz
    return logp, log1mp, dlogp, dlogit


def pass_probability(events: Events, spec: CutSpec, theta, scale) -> np.ndarray:
    """``p_i = Π_d σ(dir_d (x_i − θ_d)/s_d)``, shape ``(N,)``.

    Raises:
        ValueError: bad θ or scale (see :meth:`CutSpec.check`, :func:`check_scale`).
    """
    th = spec.check(events, theta)
    return np.exp(_logits(events, spec, th, check_scale(scale, spec.n_params), gradient=False)[0])


def hard_objective(events: Events, spec: CutSpec, theta, objective="asimov", b_min=1.0) -> float:
    """The objective of the hard selection at θ (e.g. its Asimov significance).

    Deterministic: no randomness, no gradient. This is the number to report.
    """
    f = resolve_objective(objective, b_min)
    keep = spec.hard_pass(events, theta)
    return float(f(events.signal_weights[keep].sum(), events.background_weights[keep].sum()))


def soft_objective(events: Events, spec: CutSpec, theta, scale, objective="asimov", b_min=1.0):
    """The sigmoid-weight surrogate ``f(Σ p_i w_i [sig], Σ p_i w_i [bkg])`` and its gradient.

    This is the deterministic relaxation used by `relaxed`-style analyses: it replaces
    each hard decision by its pass probability *inside* ``f``. Its gradient is
    exact for the surrogate but biased for ``∇ E[f(hard selection)]`` whenever ``f``
    is non-linear (``f(E[s], E[b]) ≠ E[f(s, b)]``).

    Returns:
        ``(value, grad)`` with ``grad`` shaped like θ.
    """
    th = spec.check(events, theta)
    s = check_scale(scale, spec.n_params)
    f = resolve_objective(objective, b_min)
    logp, _, dlogp, _ = _logits(events, spec, th, s)
    p = np.exp(logp)
    ws, wb = events.signal_weights, events.background_weights
    S, B = p @ ws, p @ wb
    gs, gb = f.grad(np.array([S]), np.array([B]))
    grad = ((gs[0] * ws + gb[0] * wb) * p) @ dlogp
    return float(f(S, B)), grad.reshape(np.shape(theta))


def stochastic_cut(events: Events, spec: CutSpec, scale, objective="asimov", b_min=1.0,
                   per_event=False) -> sg.BatchedProgram:
    """The stochastic cut as a batched program ``(θ, n, seed, want) -> BatchSamples``.

    Per sample, event ``i`` passes iff ``u_i < p_i(θ)`` (uniforms from ``seed``, so
    the same seed gives the same uniforms: CRN for finite differences), and the
    value is ``f(s, b)`` of the selected weighted yields. What ``E[value]`` is: the
    expected objective of a real, hard, randomised selection; at ``s → 0`` the
    hard cut's objective.

    Supplies, as the estimator asks:

    * ``score``: ``Σ_i (k_i − p_i) ∂logit p_i/∂θ`` (score function, unbiased);
    * stochastic-derivative alternatives for *every* event, in closed form: the flip
      ``k_i → 1 − k_i`` has weight ``max(∂p_i, 0)/(1 − p_i)`` (``k_i = 0``) or
      ``max(−∂p_i, 0)/p_i`` (``k_i = 1``) and difference ``Δ_i = f(yields with i
      flipped) − f(yields)``. The sum over all N events is exact, so the estimate is
      unbiased with no sampling of alternatives. By default it comes summed,
      ``alt_weight (n, 1, *θ)`` and ``alt_delta = 1``; ``per_event=True`` returns
      ``(n, N, *θ)`` and ``(n, N)``;
    * under GS-STE (``want.temperature = τ``): the straight-through gradient of the
      relaxed ``σ((logit p_i + L_i)/τ)``, ``L_i = log((1 − u_i)/u_i)`` (biased).

    ``pathwise`` is otherwise ``None``: at fixed decisions ``f`` does not depend on θ.

    Args:
        events: the :class:`Events`.
        spec: the :class:`CutSpec`.
        scale: sharpness ``s > 0`` (a number or one per threshold).
        objective: ``"asimov"``, ``"s_over_sqrt_b"``, a callable ``f(s, b)`` or an Objective.
        b_min: background floor of the built-in objectives.
        per_event: return the alternatives per event instead of summed.

    Returns:
        A :class:`stochgrad.BatchedProgram`.

    Raises:
        ValueError: ``s <= 0``; bad θ at call time.
    """
    s = check_scale(scale, spec.n_params)
    f = resolve_objective(objective, b_min)
    ws, wb = events.signal_weights, events.background_weights
    N, D = events.n, spec.n_params
    # Δ depends on an event only through its (signal, background) weight pair g: evaluate f once
    # per pair and sample, and sum the weights per pair with one matrix product.
    # distinct (signal, background) weight pairs: a 1-D complex unique (lexicographic, like axis=0, ~20x faster)
    uniq, group = np.unique(ws + 1j * wb, return_inverse=True)
    pairs = np.stack([uniq.real, uniq.imag], axis=1)
    grouped = len(pairs) <= 16 and not per_event
    # (N, G) one-hot of the pairs, only when grouped (with per-event weights G = N: N² floats)
    onehot = (group.reshape(-1)[:, None] == np.arange(len(pairs))).astype(float) if grouped else None

    def flip_delta(S, B, val, k):
        """Δ_i per sample and event ``(c, N)``: f with event i flipped, minus f."""
        sign = 1.0 - 2.0 * k  # +1: event enters, −1: leaves
        return f(S[:, None] + sign * ws, B[:, None] + sign * wb) - val[:, None]

    def alt_sum(S, B, val, k, w_off, w_on):
        """Σ_i weight_i · Δ_i ``(c, D)`` for every sample."""
        if not grouped:
            # only events with a non-zero flip weight contribute (the others sit beyond the ±50 s clip of
            # every threshold, where the weights are exactly 0): the sum is the same, the work smaller
            act = np.flatnonzero((w_off > 0).any(axis=1) | (w_on > 0).any(axis=1))
            ka = k[:, act]
            delta = f(S[:, None] + (1.0 - 2.0 * ka) * ws[act], B[:, None] + (1.0 - 2.0 * ka) * wb[act]) - val[:, None]
            return (ka * delta) @ w_off[act] + ((1 - ka) * delta) @ w_on[act]
        G = len(pairs)
        down = f(S[:, None] - pairs[:, 0], B[:, None] - pairs[:, 1]) - val[:, None]  # (c, G)
        up = f(S[:, None] + pairs[:, 0], B[:, None] + pairs[:, 1]) - val[:, None]
        W = np.concatenate([(onehot[:, :, None] * w_off[:, None, :]).reshape(N, -1),
                            (onehot[:, :, None] * w_on[:, None, :]).reshape(N, -1)], axis=1)
        kW = (k @ W).reshape(-1, 2, G, D)  # Σ over passing events, per pair
        on_all = W[:, G * D:].sum(axis=0).reshape(G, D)
        return np.einsum("cg,cgd->cd", down, kW[:, 0]) + np.einsum("cg,cgd->cd", up, on_all - kW[:, 1])

    def program(theta, n, seed, want):
        th = spec.check(events, theta)
        grads = want.score or want.alternatives or want.temperature is not None
        logp, log1mp, dlogp, dlogit = _logits(events, spec, th, s, gradient=grads)
        p, logit = np.exp(logp), logp - log1mp
        w_off = np.maximum(-dlogp, 0.0)  # k = 1 -> 0: −∂p/p
        w_on = np.maximum(dlogit, 0.0) * p[:, None]  # k = 0 -> 1: ∂p/(1 − p) = p ∂logit p
        rng = np.random.default_rng(seed)
        out = {k: [] for k in ("value", "score", "alt", "path", "aw", "ad")}
        step = max(1, _CHUNK // N)
        for lo in range(0, n, step):
            u = rng.random((min(step, n - lo), N))
            k = (u < p).astype(float)
            S, B = k @ ws, k @ wb
            val = f(S, B)
            out["value"].append(np.asarray(val, dtype=float))
            if want.score:
                out["score"].append((k - p) @ dlogit)
            if want.alternatives:
                if per_event:
                    out["aw"].append(k[:, :, None] * w_off + (1 - k)[:, :, None] * w_on)
                    out["ad"].append(flip_delta(S, B, val, k))
                else:
                    out["alt"].append(alt_sum(S, B, val, k, w_off, w_on))
            if want.temperature is not None:
                tau = want.temperature
                r = 1.0 / (1.0 + np.exp(-(logit + np.log1p(-u) - np.log(u)) / tau))
                gs, gb = f.grad(S, B)
                dv = (gs[:, None] * ws + gb[:, None] * wb) * r * (1 - r) / tau
                out["path"].append(dv @ dlogit)
        shape = np.shape(theta)

        def cat(key, *tail):
            return np.concatenate(out[key]).reshape((n,) + tail + shape)

        res = sg.BatchSamples(value=np.concatenate(out["value"]))
        if want.score:
            res.score = cat("score")
        if want.temperature is not None:
            res.pathwise = cat("path")
        if want.alternatives:
            if per_event:
                res.alt_weight, res.alt_delta = cat("aw", N), np.concatenate(out["ad"])
            else:
                res.alt_weight, res.alt_delta = cat("alt", 1), np.ones((n, 1))
        return res

    program.__name__ = f"stochastic_cut[{f.name}, N={N}, D={D}]"
    return sg.batched(program)


def traced_cut(events: Events, spec: CutSpec, scale, objective="asimov", b_min=1.0, max_events=16):
    """The same stochastic cut as a traced ``@stochastic`` function (one ``bernoulli`` per event).

    For small event sets: it is what :class:`stochgrad.Exact` can enumerate
    (``2^N`` traces), so it checks the batched program's gradients. Every traced
    estimator works on it; under GS-STE the objective must be written with
    ``autograd.numpy`` (the built-ins are).

    Raises:
        ValueError: more than ``max_events`` events, or ``s <= 0``.
    """
    if events.n > max_events:
        raise ValueError(f"traced_cut is for small samples (≤ {max_events} events), got {events.n}; "
                         "use stochastic_cut")
    s = check_scale(scale, spec.n_params)
    f = resolve_objective(objective, b_min)
    x = events.features[:, spec.variables]
    ws, wb = events.signal_weights, events.background_weights

    @sg.stochastic
    def cut(theta):
        th = anp.reshape(theta, (-1,))
        z = spec.direction * (x - th) / s
        p = anp.exp(-anp.sum(anp.logaddexp(0.0, -z), axis=1))
        S = B = 0.0
        for i in range(events.n):
            k = sg.bernoulli(p[i])
            S, B = S + k * ws[i], B + k * wb[i]
        return f(S, B)

    return cut
