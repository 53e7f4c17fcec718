"""Stochastic derivatives along alternative paths (Arya, Schauer, Schäfer & Rackauckas 2022).

For each discrete choice the inverse-CDF coupling says how the sample moves when
θ moves by dθ: a Bernoulli ``k = [u < p]`` flips from 0 to 1 when ``u`` falls in
``[p, p + dp)``, which happens with probability ``dp`` — i.e. with *density*
``p'/(1 − p)`` given ``k = 0``. A categorical moves to the neighbouring category
across a CDF boundary ``F_b`` that moves. So

    d/dθ E[f] = E[ ∂f/∂θ  +  Σ_choices  w_c · (f(alternative_c) − f) ]

where ``alternative_c`` is the program run again with the *same recorded noise*
and choice ``c`` moved. Averaging that term over the choice's own uniform (the
later noise held fixed) gives the Rao-Blackwellised form used by default: every
other outcome ``k`` is an alternative with the signed weight ``∂π_k/∂θ``. We replay instead of propagating perturbations, so any
Python control flow (``if``, ``while``, early ``return``) on sampled values works.
To keep one sample's cost near two runs, the sum over choices is estimated by
sampling ``m`` of them with probability proportional to ``|weight|``
(systematic sampling), which keeps the estimator unbiased.
"""

from __future__ import annotations

import operator

import numpy as np

from .._batched import Want
from .._chunks import _gram, _loo_or_zero, _meta, batch_arrays
from .._crossfit import _cross_fit
from .._streams import keyed_uniforms
from .._run import DualRun, run_differentiated, run_plain
from .._trace import Trace
from ..distributions.bernoulli import flip_weights
from .base import Estimator

__all__ = ["StochasticDerivative", "alternatives"]


FORMS = ("rao_blackwell", "inverse_cdf")
CV_BOUNDARY = ("not applied: a choice has an outcome of probability 0 whose probability moves with θ (a boundary of "
               "the parameter space), where the score is not mean-zero")


def alternatives(run, form="rao_blackwell"):
    """The weighted alternatives of a boxed run: a list of ``(site, value, weight)``.

    ``weight`` has θ's shape (flattened); the derivative contribution of an
    alternative is ``weight · (f(alternative) − f)``, and the sum of these over
    the list is the discrete part of the derivative for this sample.

    Args:
        run: a :class:`~stochgrad._run.Run` from :func:`~stochgrad._run.run_boxed` or :func:`~stochgrad._run.run_differentiated`.
        form: ``"rao_blackwell"`` — every other outcome ``k`` of a choice is an
            alternative with the signed weight ``∂π_k/∂θ`` (a Bernoulli: the flip,
            with ``±∂p/∂θ``); ``"inverse_cdf"`` — Arya et al.'s triples: only the
            outcome the inverse-CDF coupling can move to, with the non-negative
            weight ``|∂F/∂θ| / π_value``.

    Raises:
        ValueError: for an unknown ``form``.
    """
    sites, values, W = _alternatives_and_score(run, form, False)[:3]
    return [(int(a), int(b), w) for a, b, w in zip(sites, values, W)]


def _alternatives_and_score(run, form, with_score):
    """:func:`alternatives` as arrays ``(sites (m,), values (m,), weights (m, θ.size))`` in choice order (each family
    weighs its own choices: Bernoullis together with array operations, categoricals one by one), plus, if
    ``with_score``, the run's score ``∇θ log p`` (θ.size,) and a boundary flag.

    The flag says whether some choice has an outcome of probability 0 whose
    probability moves with θ: there the score is not mean-zero (and the score
    function is biased), so it must not serve as a control variate.

    The weights and :meth:`~stochgrad._run.Run.score` share the run's Bernoulli
    gradients (:func:`stochgrad.distributions.bernoulli.grads`), so in reverse mode
    the score costs one extra pass for the categorical choices only.
    """
    if form not in FORMS:
        raise ValueError(f"alternatives: form must be one of {FORMS}, got {form!r}")
    size = run.theta_size
    parts = []
    for fam, choices in run.by_family():  # each family weighs its own choices' alternatives
        res = fam.alternatives(run, choices, form)
        if isinstance(res, list):
            res = (np.array([r[0] for r in res], dtype=np.int64), np.array([r[1] for r in res], dtype=np.int64),
                   np.array([r[2] for r in res], dtype=float).reshape(len(res), size))
        if len(res[0]):
            parts.append(res)
    score = np.ravel(run.score()) if with_score else None  # after the weights: reuses the Bernoulli gradients
    edge = bool(run.boundary_sites()) if with_score else False
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, size)), score, edge
    if len(parts) == 1:
        return (*parts[0], score, edge)
    sites = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    W = np.concatenate([p[2] for p in parts])
    order = np.argsort(sites, kind="stable")
    return sites[order], values[order], W[order], score, edge


def _dual_bernoullis(run, form):
    """For a dual run whose choices are all Bernoullis with a dual ``p`` and a scalar tangent:
    ``(sites, flipped values, weights (m,), score, edge)`` of the alternatives with a non-zero weight.

    The same numbers as :func:`_alternatives_and_score` for that case (one θ
    component), read off the raw records in one pass; ``None`` otherwise.
    """
    if type(run) is not DualRun:
        return None
    tr = run.trace
    raw = tr._records
    if tr.n_scored != len(raw):  # see Trace.bernoulli: scored = a positional Bernoulli with a dual p, float tangent
        return None
    n = len(raw)
    ps = list(map(_item2, raw))
    g = np.fromiter(map(_attr_t, ps), float, n)
    k = np.fromiter(map(_item3, raw), np.int64, n)
    pv = np.fromiter(map(_attr_v, ps), float, n) if form != "rao_blackwell" else None
    w = flip_weights(k, pv, g, form)  # ±∂p/∂θ, or the inverse-CDF densities (signed on an edge)
    keep = w != 0
    if keep.all():
        return None, 1 - k, w, tr.score_sum, bool(tr.score_edge)  # sites None: every record, site = position
    sites = np.flatnonzero(keep)  # a record's site is its position
    return sites, 1 - k[keep], w[keep], tr.score_sum, bool(tr.score_edge)


def _dual_bernoulli_pick(run, u):
    """:func:`_dual_bernoullis` and one Rao-Blackwellised systematic pick at uniform ``u``, on Python floats.

    Returns ``(site, flipped value, weight, total mass, the site's mass, score,
    edge)`` (``site`` ``None`` when no choice has a non-zero weight), or ``None``
    when the run is not made only of dual Bernoullis. The numbers are those of
    the array form: the weights ``±∂p/∂θ`` have masses ``|∂p/∂θ|``, their total
    is NumPy's sum of the same array, and the pick is the first index whose
    running sum (added in order, as ``np.cumsum``) over the total exceeds ``u``
    (``np.searchsorted(..., side="right")``), clipped to the last.
    """
    if type(run) is not DualRun:
        return None
    tr = run.trace
    raw = tr._records
    if tr.n_scored != len(raw):
        return None
    gs = list(map(_attr_t, map(_item2, raw)))
    idx = [j for j, g in enumerate(gs) if g != 0.0]
    if not idx:
        return None, 0, 0.0, 0.0, 0.0, tr.score_sum, bool(tr.score_edge)
    mass = [abs(gs[j]) for j in idx]
    total = mass[0] if len(mass) == 1 else float(np.fromiter(mass, float, len(mass)).sum())
    c, pick = 0.0, len(mass) - 1
    for j, mj in enumerate(mass):
        c += mj
        if c / total > u:
            pick = j
            break
    site = idx[pick]
    k = raw[site][3]
    g = gs[site]
    return site, 1 - k, (g if k == 0 else -g), total, mass[pick], tr.score_sum, bool(tr.score_edge)


_item2, _item3 = operator.itemgetter(2), operator.itemgetter(3)
_attr_t, _attr_v = operator.attrgetter("t"), operator.attrgetter("v")


def _picks(mass, u, m):
    """``(total mass, [(index, times drawn)])``: ``m`` systematic picks ∝ ``mass`` at uniform ``u``, each index once."""
    total = mass.sum()
    if m == 1:  # the same index as the general form, without np.unique
        return total, ((min(int(np.searchsorted(np.cumsum(mass) / total, u, side="right")), len(mass) - 1), 1),)
    picks = np.searchsorted(np.cumsum(mass) / total, (u + np.arange(m)) / m, side="right")
    return total, zip(*np.unique(np.minimum(picks, len(mass) - 1), return_counts=True))


class StochasticDerivative(Estimator):
    """Unbiased stochastic derivative: pathwise term plus weighted alternative paths.

    Estimates ``∇θ E[f]``, unbiased. Per sample: the pathwise derivative (autograd
    at fixed choices) plus, for the discrete choices, ``weight × (f along an
    alternative path − f)``. An alternative replays the recorded noise with one
    choice changed; later choices stay coupled through the same noise.
    ``n_alternatives`` of them are sampled per sample with probability
    proportional to ``|weight|`` (systematic sampling), so a sample costs one
    differentiated run plus ``n_alternatives`` plain runs.

    Two forms of the per-choice weights, both unbiased:

    * ``"rao_blackwell"`` (default): every other outcome ``k`` of a choice is an
      alternative with weight ``∂π_k/∂θ`` (a Bernoulli: the flip, weight
      ``+∂p/∂θ`` from 0 and ``−∂p/∂θ`` from 1). This is the inverse-CDF triple
      averaged over the choice's own uniform with the later noise held fixed,
      so, summed over all alternatives, it never has more variance per choice.
    * ``"inverse_cdf"``: Arya et al.'s triples — only the outcome the inverse-CDF
      coupling moves to (a Bernoulli flips only from the side ``p`` grows
      towards; a categorical moves to a neighbouring category), with weight
      ``|∂F/∂θ| / π_value``. Fewer, larger alternatives.

    Integer families with many outcomes (binomial, geometric, Poisson,
    negative binomial) always use the inverse-CDF neighbours ``k ± 1``
    (their families' :meth:`~stochgrad.distributions.IntegerFamily.alternatives`),
    whatever ``form`` says; continuous (reparameterised) choices contribute
    through the pathwise term only.

    Valid when ``f`` is, at fixed choices, differentiable in θ (no comparisons
    of θ-dependent continuous values: those are reported with a
    :class:`~stochgrad.BiasWarning`). Programs may branch, loop and return early
    on sampled values.

    Control variates (``control_variates=True``, the default): the same run
    also gives the score ``s = ∇θ log p(trace)`` (read from the choice records,
    no extra run) and the score-function term ``f·s``. Both ``s`` and
    ``f·s − (the alternatives' contribution)`` have expectation zero (the score
    function and the stochastic derivative estimate the same discrete part), so
    a multiple of each is subtracted per sample, with coefficients fitted on the
    *other* half of the samples (cross-fitting keeps the estimate unbiased). On
    the random walk this removes about a quarter of the variance. Applied from
    256 samples on; ``Estimate.info["variance_ratio"]`` reports the effect.

    Args:
        n_alternatives: alternative runs per sample (≥ 1). More lowers the variance
            of the discrete part at the price of plain (non-autograd) runs.
        form: ``"rao_blackwell"`` or ``"inverse_cdf"`` (see above). Applies to
            traced programs; a batched program computes its own weights and
            receives ``n_alternatives`` in its :class:`~stochgrad.Want`.
        control_variates: subtract the cross-fitted score control variates
            (see above). A batched program is asked for its ``score``
            (``want.score``) and gets them when it returns it.

    Raises:
        ValueError: ``n_alternatives`` not an int ≥ 1, an unknown ``form``, or a
            non-bool ``control_variates``.
    """

    def __init__(self, n_alternatives=1, form="rao_blackwell", control_variates=True):
        if not (isinstance(n_alternatives, int) and n_alternatives >= 1):
            raise ValueError(f"StochasticDerivative: n_alternatives must be an int >= 1, got {n_alternatives!r}")
        if form not in FORMS:
            raise ValueError(f"StochasticDerivative: form must be one of {FORMS}, got {form!r}")
        if not isinstance(control_variates, bool):
            raise ValueError(f"StochasticDerivative: control_variates must be True or False, got {control_variates!r}")
        self.n_alternatives = n_alternatives
        self.form = form
        self.control_variates = control_variates

    def traced_arrays(self, fn, theta, args, kwargs, tapes, index, pick_seed):
        """Per-sample arrays of the samples ``index`` (their noise ``tapes``).

        Returns a dict: ``value (m,)``, ``pathwise``/``discrete`` (the
        alternatives' part) ``(m, θ.size)``, ``score (m, θ.size)`` (with control
        variates), ``comparisons``, ``edge`` (a choice on a boundary of the
        parameter space) and ``alt_runs``. Which alternatives a sample runs is
        drawn from a uniform keyed by ``(pick_seed, sample index)``, so every
        sample depends only on its own index: the seam used by
        :mod:`stochgrad.distributed`.
        """
        size = int(np.prod(np.shape(theta)))
        values, paths, discretes, scores = [], [], [], []
        cv, m = self.control_variates, self.n_alternatives
        cmp, alt_runs, on_boundary = [], 0, False
        index = range(index.start, index.stop) if isinstance(index, range) else list(index)
        picks_u = keyed_uniforms(int(pick_seed), index)  # = np.random.default_rng([pick_seed, i]).random()
        for i, tape, u in zip(index, tapes, picks_u):
            run = run_differentiated(fn, theta, args, kwargs, tape, f"sample {i}")
            values.append(run.value)
            cmp += run.comparisons
            fast = self._dual_alternatives(run, u) if size == 1 else None
            if fast is not None:  # dual Bernoullis, scalar θ: Python floats or small arrays (the same numbers)
                sites, alt_values, W, mass, total, picks, score, edge = fast
                paths.append(_one(run.grad_of(run.out)))
                alt, score = 0.0, [score]
            else:
                paths.append(run.grad_of(run.out).ravel())
                sites, alt_values, W, score, edge = _alternatives_and_score(run, self.form, cv)
                mass = np.abs(W).sum(axis=1)
                total, picks = _picks(mass, u, m) if len(sites) else (0.0, ())
                alt = np.zeros(size)  # the alternatives' part, kept apart from a possibly large pathwise term
            on_boundary = on_boundary or edge
            if cv:
                scores.append(score)
            for j, c in picks:  # an alternative drawn c times is run once
                site = int(sites[j])
                tr = Trace(tape, forced={site: int(alt_values[j])})
                where = f"sample {i}, alternative at choice {site}"
                delta = run_plain(fn, theta, args, kwargs, tr, where).value - run.value
                alt_runs += 1
                alt = alt + W[j] * (delta * total * c / (mass[j] * m))
            discretes.append([alt] if fast is not None else alt)
        shape = (len(values), size)
        return {"value": np.array(values, dtype=float), "pathwise": np.array(paths, dtype=float).reshape(shape),
                "discrete": np.array(discretes, dtype=float).reshape(shape),
                "score": np.array(scores, dtype=float).reshape(shape) if cv else None,
                "comparisons": cmp, "edge": on_boundary, "alt_runs": alt_runs}

    def _dual_alternatives(self, run, u):
        """The alternatives of a dual run (scalar θ) made of Bernoulli choices, without the general path's arrays.

        Returns ``(sites, values, weights, masses, total mass, [(index, times picked)], score, edge)`` with the
        numbers of :func:`_alternatives_and_score` and :func:`_picks`, or ``None`` for any other run.
        """
        m = self.n_alternatives
        if m == 1 and self.form == "rao_blackwell":  # all dual Bernoullis, one pick: on Python floats
            one = _dual_bernoulli_pick(run, u)
            if one is not None:
                site, value, wj, total, mj, score, edge = one
                return [site], [value], [wj], [mj], total, ([(0, 1)] if site is not None else ()), score, edge
        many = _dual_bernoullis(run, self.form)
        if many is not None:  # every choice a Bernoulli with a dual p
            sites, values, w, score, edge = many
            mass = np.abs(w)
            total, picks = _picks(mass, u, m) if len(w) else (0.0, ())
            return (range(len(w)) if sites is None else sites), values, w, mass, total, picks, score, edge
        return None

    def want(self):
        return Want(score=self.control_variates, pathwise=True, alternatives=True, n_alternatives=self.n_alternatives)

    # the chunk protocol (see Estimator): features (g, s, v·s − discrete) with cross-fitted coefficients
    def chunk_setup(self, spec, rng):
        spec["pick_seed"] = int(rng.integers(2**63))  # as the traced path draws it

    def chunk_arrays(self, spec, start, stop):
        if "program" in spec:
            return batch_arrays(spec, start, stop, self.want())
        fn, theta, args, kwargs = spec["call"]
        return self.traced_arrays(fn, theta, args, kwargs, spec["streams"].tapes(start, stop), range(start, stop),
                                  spec["pick_seed"])

    def chunk_features(self, arr, start, size):
        v = arr["value"]
        m = v.shape[0]
        meta, group = _meta(arr, m)
        p = np.zeros((m, size)) if arr.get("pathwise") is None else arr["pathwise"]
        disc = arr["discrete"]
        g = p + disc
        s = arr.get("score")
        meta["has_score"] = s is not None
        if not self.control_variates or s is None:
            return v, g.reshape(m, size, 1), np.zeros(m, dtype=np.int8), meta
        if group is not None:
            vc = _loo_or_zero(v, group)
            fold = (group % 2).astype(np.int8)
        else:
            vc = v
            fold = (np.arange(start, start + m) % 2).astype(np.int8)
        return v, np.stack([g, s, vc[:, None] * s - disc], axis=-1), fold, meta

    def chunk_sums(self, value, F, fold, meta):
        if self.control_variates and meta.get("has_score", False):
            return {"folds": _gram(value, F, fold)["folds"]}
        return {}

    def chunk_refine(self, ex, handles, tot, c, metas, n, size):
        if not (self.control_variates and "folds" in tot):
            return c, {}
        if any(m["edge"] is True for m in metas):
            return c, {"control_variates": CV_BOUNDARY}
        return _cross_fit(ex, handles, tot, size)

    def chunk_info(self, metas, n, size, batched):
        return {} if batched else {"alternative_runs_per_sample": sum(m["alt_runs"] for m in metas) / n}


def _one(g) -> list:
    """``[∂f/∂θ]`` of a θ with one component (shape ``()`` or ``(1,)``)."""
    return [g] if type(g) is np.float64 or type(g) is float else [float(np.ravel(g)[0])]
