"""Vectorised exact SSA (uniformisation) over many trajectories, as a batched program.

Same thinning construction as :mod:`apps.reactions.traced` (θ-free dominating
rates λ; a proposal of channel ``j`` fires with probability ``θ_{r(j)}/λ_{r(j)}``),
but with one proposal clock per channel (Kurtz's random time change): channel
``j`` runs a unit-rate Poisson process in its internal time
``∫ λ_{r(j)} h_j(x(s)) ds``. Arrays over trajectories (numpy, or cupy via ``xp``).
Randomness is counter-based: proposal ``m`` of channel ``j`` of trajectory ``i``
gets its exponential and its acceptance uniform from a hash of
``(seed, i, j, m)``, so the same seed gives the same numbers, θ ± h runs share
them (common random numbers) and an alternative path re-simulated from a
proposal replays the primal's later noise channel by channel; after a one-molecule
change the channel clocks only drift slowly, so the alternative stays close.

Per trajectory it returns (see :func:`simulate`):

* ``score``: the path-likelihood score of the continuous-time path,
  ``∂/∂θ_r log p = N_r/θ_r − ∫_0^T Σ_{j: r(j)=r} h_j(x(s)) ds`` (``N_r`` firings of
  reactions with rate ``θ_r``; the integral is the survival term, including the
  last, censored sojourn up to ``T``). It is the conditional expectation of the
  score of the thinned proposals given the path (``score_kind="uniformised"`` returns that one).
* stochastic-derivative alternatives: raising ``θ_r`` turns a thinned proposal of a
  reaction with rate ``θ_r`` into a firing, with density ``1/(λ_r − θ_r)`` per thinned
  event. Per parameter, one thinned event is drawn with probability proportional
  to that weight (weighted reservoir sampling, its own counter stream), the
  trajectory is re-simulated from it with the reaction fired, and
  ``alt_weight = M_r e_r`` (``M_r`` the total weight), ``alt_delta = g(alt) − g``.
  Unbiased for ``∂E[g]/∂θ_r``.
"""

from __future__ import annotations

import time

import warnings

import numpy as np

import stochgrad as sg

from ._noise import counter_uniform, key_from_seed
from .network import ReactionNetwork
from .traced import _check_T, dominating_rates

__all__ = ["simulate", "batched_ssa"]

_WAIT, _SLOT, _PICK = 0, 1, 2


class _Plan:
    """Precomputed per-network arrays on ``xp`` for one θ."""

    def __init__(self, net, theta, lam, xp, max_steps=10**6, time_limit=None):
        self.net, self.xp, self.max_steps = net, xp, max_steps
        self.deadline = None if time_limit is None else time.monotonic() + time_limit
        self.time_limit = time_limit
        self.th_j = xp.asarray(theta[net.rate_index])
        self.lam_j = xp.asarray(lam[net.rate_index])
        self.rix = xp.asarray(net.rate_index)
        self.change = xp.asarray(net.change)
        P = len(net.rates)
        R = np.zeros((net.n_reactions, P))
        R[np.arange(net.n_reactions), net.rate_index] = 1.0
        self.R = xp.asarray(R)
        self.alt_w = xp.asarray(1.0 / (lam[net.rate_index] - theta[net.rate_index]))


def _exp(key, ids, chan, cnt, J, xp):
    return -xp.log1p(-counter_uniform(key, ids, cnt * J + chan, _WAIT, xp))


def _run(plan: _Plan, key, T, X, t, clocks, ids, *, score=False, alternatives=False, uscore=False):
    """Advance trajectories to ``T``.

    Rows: state ``X``, time ``t``, channel clocks ``(R, Pn, cnt)`` (internal time used,
    next internal virtual-event time, virtual events consumed; each ``(rows, J)``)
    and noise id ``ids``. Returns the final states (rows in input order) and, if
    asked, per-row accumulators: ``N`` firings per parameter, ``I`` survival
    integrals, ``M`` thinned-event weight totals and the reservoir snapshot.
    """
    xp, net = plan.xp, plan.net
    n, S = X.shape
    P = plan.R.shape[1]
    J = net.n_reactions
    R, Pn, cnt = clocks
    rows = xp.arange(n)
    final = xp.empty_like(X)
    acc = {}
    if score or uscore:
        acc["N"] = xp.zeros((n, P))
        acc["I"] = xp.zeros((n, P))
    if alternatives or uscore:
        acc["M"] = xp.zeros((n, P))
    if alternatives:
        acc.update(Xc=xp.zeros((n, P, S), dtype=X.dtype), tc=xp.zeros((n, P)), Rc=xp.zeros((n, P, J)),
                   Pc=xp.zeros((n, P, J)), cc=xp.zeros((n, P, J), dtype=cnt.dtype),
                   jc=xp.zeros((n, P), dtype=xp.int64))
    fired = 0
    steps = 0
    while True:
        steps += 1
        if steps > plan.max_steps:
            raise RuntimeError(f"a trajectory needed more than {plan.max_steps} proposals before T = {T:g}: the "
                               "network may explode (superlinear growth) or T is too long; raise max_steps "
                               "(stochgrad-reactions: --max-steps) or shorten T")
        if plan.deadline is not None and time.monotonic() > plan.deadline:
            raise RuntimeError(f"the simulation ran past its time limit of {plan.time_limit:g} s after {steps} "
                               f"proposal rounds ({rows.size} trajectories still short of T = {T:g}); raise "
                               "time_limit (stochgrad-reactions: --time-limit), or lower T or n")
        H = net.factors(X, xp)
        rate = H * plan.lam_j
        with np.errstate(divide="ignore", invalid="ignore"):
            wait = xp.where(rate > 0, (Pn - R) / xp.where(rate > 0, rate, 1.0), xp.inf)
        j = xp.argmin(wait, axis=1)
        r_idx = xp.arange(j.size)
        tn = t + wait[r_idx, j]
        done = tn > T  # finished rows stay frozen until compaction drops them
        if "I" in acc:
            acc["I"][rows] += (H * (xp.minimum(tn, T) - xp.minimum(t, T))[:, None]) @ plan.R
        n_done = int(done.sum())
        if n_done * 4 > rows.size or n_done == rows.size:
            d = xp.flatnonzero(done)
            final[rows[d]] = X[d]
            if n_done == rows.size:
                break
            k = xp.flatnonzero(~done)
            X, t, tn, R, Pn, cnt, ids, rows, H, rate, j = (
                a[k] for a in (X, t, tn, R, Pn, cnt, ids, rows, H, rate, j))
            r_idx = xp.arange(j.size)
            done = xp.zeros(rows.size, dtype=bool)
        live = ~done
        with np.errstate(invalid="ignore"):  # frozen rows: inf - inf, masked out
            dt = xp.where(live, tn - t, 0.0)
        t = tn
        R = R + rate * dt[:, None]
        R[r_idx, j] = xp.where(live, Pn[r_idx, j], R[r_idx, j])
        cj = cnt[r_idx, j]
        u = counter_uniform(key, ids, cj * J + j, _SLOT, xp)
        fire = (u * plan.lam_j[j] < plan.th_j[j]) & live
        cnt[r_idx, j] = cj + live
        Pn[r_idx, j] = Pn[r_idx, j] + xp.where(live, _exp(key, ids, j, cj + 1, J, xp), 0.0)
        fired += int(fire.sum())
        r = plan.rix[j]
        if "N" in acc:
            acc["N"][rows[fire], r[fire]] += 1.0
        if "M" in acc:
            cand = ~fire & live
            cr, cp = rows[cand], r[cand]
            w = plan.alt_w[j[cand]]
            acc["M"][cr, cp] += w
            if alternatives:
                pick = counter_uniform(key, ids[cand], cj[cand] * J + j[cand], _PICK, xp) * acc["M"][cr, cp] < w
                src = xp.flatnonzero(cand)[pick]
                pr, pp = cr[pick], cp[pick]
                acc["Xc"][pr, pp] = X[src]
                acc["tc"][pr, pp] = t[src]
                acc["Rc"][pr, pp] = R[src]
                acc["Pc"][pr, pp] = Pn[src]
                acc["cc"][pr, pp] = cnt[src]
                acc["jc"][pr, pp] = j[src]
        X = X + plan.change[j] * fire[:, None].astype(X.dtype)
    acc["fired"] = fired
    return final, acc


def _start_clocks(key, ids, J, xp):
    n = ids.size
    cnt = xp.zeros((n, J), dtype=xp.int64)
    chans = xp.broadcast_to(xp.arange(J), (n, J))
    Pn = _exp(key, xp.broadcast_to(ids[:, None], (n, J)), chans, cnt, J, xp)
    return xp.zeros((n, J)), Pn, cnt


def simulate(net: ReactionNetwork, theta, x0, T: float, n: int, seed=None, *, observable=None,
             score=False, alternatives=False, safety: float = 1.5, dominating=None, xp=np,
             score_kind: str = "path", max_steps: int = 10**6, time_limit: float | None = None) -> dict:
    """Simulate ``n`` trajectories to ``T`` and return per-trajectory statistics.

    Estimates nothing by itself; its outputs feed unbiased estimators of
    ``∇θ E[g(X(T))]`` (score function, stochastic derivative) and, with a shared
    ``seed``, CRN finite differences.

    Args:
        net: the network; θ: rate constants in ``net.rates`` order.
        x0: initial state (dict or sequence); T: end time.
        n: number of trajectories; seed: integer (same seed, same numbers) or None.
        observable: species name, or ``g(X) -> (n,)`` or ``(n, K)`` on the ``(n, S)``
            count array; ``None`` returns the states only.
        score: also return the score ``(n, P)``; alternatives: also ``alt_weight``
            ``(n, P, P)`` and ``alt_delta`` ``(n, P[, K])``.
        safety, dominating: dominating rates (see :func:`~apps.reactions.dominating_rates`).
        xp: array module (numpy or cupy).
        score_kind: ``"path"`` (continuous-time likelihood) or ``"uniformised"``.
        max_steps: proposals per trajectory before giving up (explosive networks, long T).
            Zeroth-order channels alone need ``Σ_j λ_j T`` proposals on average; when
            that exceeds ``max_steps`` the call is refused before simulating.
        time_limit: wall-clock seconds before giving up (``None``: no limit).

    Returns:
        dict with ``X`` ``(n, S)`` final counts, ``value`` (if ``observable``),
        ``score``, ``alt_weight``, ``alt_delta``, ``reactions`` (real firings, primal
        pass) and ``virtual_events``.

    Raises:
        ValueError: bad θ (negative, wrong shape), ``T``, ``n``, state or observable;
            ``max_steps`` or ``time_limit`` not positive; zeroth-order channels alone
            expected to need more than ``max_steps`` proposals.
        RuntimeError: a trajectory needs more than ``max_steps`` proposals, or the
            run passes ``time_limit``.
    """
    th = net.theta(theta)
    T = _check_T(T)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if score_kind not in ("path", "uniformised"):
        raise ValueError(f"score_kind must be 'path' or 'uniformised', got {score_kind!r}")
    g = _observable(net, observable)
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    if time_limit is not None and not (np.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds or None, got {time_limit!r}")
    lam = dominating_rates(th, T, safety, dominating)
    floor = sum(float(lam[net.rate_index[j]]) for j in range(net.n_reactions) if not net._terms[j]) * T
    if floor > max_steps:
        raise ValueError(f"T = {T:g} needs about {floor:.3g} proposals per trajectory from the zeroth-order "
                         f"reactions alone, more than max_steps = {max_steps} (stochgrad-reactions: --max-steps); "
                         "shorten T or raise max_steps")
    plan = _Plan(net, th, lam, xp, max_steps, time_limit)
    key = key_from_seed(seed)
    x0 = xp.asarray(net.state(x0))
    X0 = xp.tile(x0, (n, 1))
    ids = xp.arange(n, dtype=xp.int64)
    final, acc = _run(plan, key, T, X0, xp.zeros(n), _start_clocks(key, ids, net.n_reactions, xp), ids,
                      score=score and score_kind == "path", alternatives=alternatives,
                      uscore=score and score_kind == "uniformised")
    out = {"X": final, "reactions": acc["fired"]}
    if g is not None:
        out["value"] = g(final)
    if score:
        thp = xp.asarray(th)
        safe = xp.where(thp > 0, thp, 1.0)
        per_firing = xp.where(thp > 0, 1.0 / safe, 0.0)
        if score_kind == "path":
            out["score"] = acc["N"] * per_firing - acc["I"]
        else:
            out["score"] = acc["N"] * per_firing - acc["M"]
    if alternatives:
        if g is None:
            raise ValueError("alternatives need an observable")
        out["alt_weight"], out["alt_delta"] = _alternatives(plan, key, T, acc, g, out["value"], n, xp)
    return out


def _alternatives(plan, key, T, acc, g, value, n, xp):
    P = acc["M"].shape[1]
    i, p = xp.nonzero(acc["M"] > 0)
    start = acc["Xc"][i, p] + plan.change[acc["jc"][i, p]]
    clocks = (acc["Rc"][i, p], acc["Pc"][i, p], acc["cc"][i, p])
    alt_final, _ = _run(plan, key, T, start, acc["tc"][i, p], clocks, i)
    ga = g(alt_final)
    delta = xp.zeros((n, P) + tuple(value.shape[1:]))
    delta[i, p] = ga - value[i]
    weight = acc["M"][:, :, None] * xp.eye(P)[None, :, :]
    return weight, delta


def _observable(net, observable):
    if observable is None:
        return None
    if isinstance(observable, str):
        s = net.species_index(observable)
        return lambda X: X[:, s].astype(float)
    if callable(observable):
        return lambda X: observable(X) * 1.0
    raise TypeError(f"observable must be a species name or a callable, got {observable!r}")


def batched_ssa(net: ReactionNetwork, x0, T: float, observable="X", *, safety: float = 1.5,
                dominating=None, xp=np, score_kind: str = "path") -> sg.BatchedProgram:
    """A :class:`stochgrad.BatchedProgram` for ``E[g(X(T))]`` with θ = rate constants.

    Provides value, score (ScoreFunction; unbiased), stochastic-derivative
    alternatives (StochasticDerivative; unbiased) and seeded common random numbers
    (FiniteDifference; bias O(h²)). No pathwise term (``g`` does not depend on θ).
    GumbelSTE is not supported.

    Args:
        net, x0, T, observable: as for :func:`simulate` (the observable must be scalar).
        safety, dominating, xp, score_kind: as for :func:`simulate`.

    Returns:
        The batched program ``prog(theta, n, seed, want)``.
    """
    T = _check_T(T)
    net.state(x0)
    _observable(net, observable)

    def prog(theta, n, seed, want):
        if want.temperature is not None:
            raise TypeError("GumbelSTE is not supported by the reaction simulator (no relaxation of X(T))")
        zero = [r for r, t in zip(net.rates, np.ravel(net.theta(theta))) if t == 0]
        score = want.score and not (want.alternatives and zero)  # at a zero rate the score is no control variate
        if want.score and not want.alternatives and zero:
            warnings.warn(
                f"batched_ssa: rate(s) {zero} are exactly 0; "
                "the score function cannot see a reaction that never fires, so its derivative there is biased. "
                "Use StochasticDerivative (exact at 0 through the dominating rate) or FiniteDifference.",
                sg.BiasWarning,
                stacklevel=3,
            )
        out = simulate(net, theta, x0, T, n, seed, observable=observable, score=score,
                       alternatives=want.alternatives, safety=safety, dominating=dominating, xp=xp,
                       score_kind=score_kind)
        if out["value"].ndim != 1:
            raise ValueError("batched_ssa needs a scalar observable (g(X) of shape (n,))")
        return sg.BatchSamples(value=out["value"], score=out.get("score"),
                               alt_weight=out.get("alt_weight"), alt_delta=out.get("alt_delta"))

    prog.__name__ = f"batched_ssa[{', '.join(net.rates)}]"
    return sg.batched(prog)
