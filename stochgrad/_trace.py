"""Traced discrete choices: the recording primitives and the trace they write to.

Inside a trace (opened by an estimator), :func:`bernoulli` and :func:`categorical`
sample *and* append an immutable :class:`Choice` record: site, distribution,
parameters (autograd values, so their θ-dependence can be differentiated), the
sampled value and the noise used.  The noise is what makes a run replayable:
finite differences replay it at θ ± h (common random numbers) and the stochastic
derivative replays it with one choice moved to a neighbouring value.

Outside any trace the same calls just sample, so user code runs unchanged.

The trace decides every value through its methods, one class per mode:
:class:`Trace` samples (inverse CDF of the replayed noise, values forced at some
sites for replays), :class:`Enumeration` walks the outcomes for
:class:`~stochgrad.Exact`, :class:`Relaxation` returns GS-STE's relaxed values.

Sampling conventions (the coupling every estimator relies on):

* ``bernoulli(p)`` with uniform noise ``u``: the value is ``1`` iff ``u < p``.
* ``categorical(...)`` with uniform noise ``u``: inverse CDF, the value is the
  first ``k`` with ``u < F_k`` where ``F_k = p_0 + ... + p_k``.
* Under :class:`~stochgrad.GumbelSTE` the same Bernoulli uniform is used through
  the logistic transform (so the hard sample is the same), and a categorical
  draws one Gumbel per category (Gumbel-max).
"""

from __future__ import annotations

import contextvars
import functools
import sys
from typing import Any, Callable, NamedTuple

import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval, isbox

from ._dual import Dual, value_of
from ._streams import PCGStream
from ._vectorized._context import RUN as _VRUN  # vectorised mode: the primitives delegate to the active run
from .distributions.bernoulli import BERNOULLI, score_term
from .distributions.categorical import CATEGORICAL, inverse_cdf, probs_from

__all__ = ["Choice", "Outcome", "bernoulli", "categorical", "one_hot", "select", "uniform", "stochastic",
           "StochasticFunction", "seed", "sample", "Trace", "Enumeration", "Relaxation", "NoiseTape"]

# the traces active in this thread, innermost last (a context variable: per thread, and cheap to read)
_STACK = contextvars.ContextVar("stochgrad_trace_stack", default=())
_default_rng = np.random.default_rng()
_f64 = np.float64


def seed(value: int | None) -> None:
    """Seed the generator used by choices made *outside* any trace.

    Estimators never use it: they take ``seed=`` explicitly.

    Args:
        value: an integer seed (or ``None`` for fresh OS entropy).
    """
    global _default_rng
    _default_rng = np.random.default_rng(value)


class Choice(NamedTuple):
    """One recorded discrete choice (immutable).

    Attributes:
        site: position of the choice in the run (0, 1, 2, ...).
        kind: the family's name (``"bernoulli"``, ``"categorical"``, ``"binomial"``, ...).
        params: ``p`` (Bernoulli), the probability vector (categorical) or the family's parameter
            tuple, possibly autograd boxes or dual numbers carrying their dependence on θ.
        value: the sampled outcome (0/1, a category index, an integer, or a continuous sample).
        noise: the uniform (inverse-CDF coupling), the Gumbel vector used, or ``None`` (enumerated).
        n_outcomes: 2 for a Bernoulli, K for a categorical, ``n + 1`` for a
            binomial, ``-1`` for a countable support, ``0`` for a continuous choice.
        family: the distribution family (:mod:`stochgrad.distributions`) that owns
            the choice's sampling, score, support, alternatives, enumeration and relaxation.
    """

    site: int
    kind: str
    params: Any
    value: int
    noise: Any
    n_outcomes: int
    family: Any = None


_to_choice = functools.partial(tuple.__new__, Choice)  # a tuple of a Choice's fields → Choice


class Outcome(int):
    """An ``int`` sampled by :func:`categorical` that remembers its trace site.

    It behaves exactly like the integer (indexing, comparisons, ``if``); the site
    lets :func:`one_hot` / :func:`select` find the relaxed one-hot vector under
    :class:`~stochgrad.GumbelSTE`.
    """

    site: int
    n_outcomes: int

    def __new__(cls, value: int, site: int, n_outcomes: int):
        obj = super().__new__(cls, value)
        obj.site = site
        obj.n_outcomes = n_outcomes
        return obj


class NoiseTape:
    """Per-sample noise, drawn lazily from a generator and replayable.

    Choices find their noise by *slot*: their position in the run (an ``int``)
    or, for draws made with ``key=``, the tuple ``(kind, key)`` (see
    :meth:`Trace.key_slot`). Replays of a
    sample (finite differences, alternative paths) read the same slots, so a
    keyed choice gets the same noise whatever was chosen before it.

    Args:
        rng: a :class:`numpy.random.Generator`, or a stream with a ``random()``
            method and a ``generator`` property (:class:`stochgrad._streams.PCGStream`).
    """

    __slots__ = ("_src", "_random", "entries", "continuous", "keyed", "__weakref__")

    def __init__(self, rng):
        self._src = rng
        self._random = rng.random
        if type(rng) is PCGStream:  # it repoints ``_random`` at its C-level block iterator when it gets there
            rng.attach(self)
        self.entries: list = []
        self.continuous: list = []  # θ-free uniforms drawn by :func:`uniform`, by order of drawing
        self.keyed: dict = {}  # noise of keyed choices and keyed uniforms

    @property
    def rng(self) -> np.random.Generator:
        """The generator this tape draws from (at its current position)."""
        src = self._src
        if isinstance(src, np.random.Generator):
            return src
        g = src.generator
        self._src, self._random = g, g.random
        return g

    def extra_uniform(self, index) -> float:
        if type(index) is not int:  # a keyed uniform's slot
            return self._get(index)
        while len(self.continuous) <= index:
            self.continuous.append(self._random())
        return self.continuous[index]

    def _get(self, slot):
        if type(slot) is int:
            while len(self.entries) <= slot:
                self.entries.append(self._random())
            return self.entries[slot]
        e = self.keyed.get(slot)
        if e is None:
            e = self.keyed[slot] = self._random()
        return e

    def _set(self, slot, value):
        if type(slot) is int:
            self.entries[slot] = value
        else:
            self.keyed[slot] = value

    def uniform(self, slot) -> float:
        """The uniform at ``slot`` (one drawn now for a new slot)."""
        if type(slot) is int and slot == len(self.entries):  # fast path: the next new positional uniform
            u = self._random()
            self.entries.append(u)
            return u
        u = self._get(slot)
        if not isinstance(u, float):  # a Gumbel vector recorded at this slot
            u = float(np.exp(-np.exp(-u[0])))
            self._set(slot, u)
        return u

    def gumbel(self, slot, k: int) -> np.ndarray:
        g = self._get(slot)
        if isinstance(g, float) or len(g) != k:
            g = self.rng.gumbel(size=k)
            self._set(slot, g)
        return g


class Trace:
    """The recording context of one run of a stochastic function, in the sampling mode.

    The primitives ask the innermost trace for every value through its methods
    (:meth:`bernoulli`, :meth:`categorical`, :meth:`choose`, :meth:`continuous`,
    :meth:`uniform`), so a trace mode is a class: this one samples by the inverse
    CDF of the replayed noise (values ``forced`` at some sites for replays);
    :class:`Enumeration` (Exact) and :class:`Relaxation` (GS-STE) override the
    per-choice methods. A new mode is a new subclass.

    Args:
        tape: noise source (:class:`NoiseTape`).
        forced: ``{site: value}`` overriding the sampled value at those sites.
    """

    # slots for the attributes the recording primitives read on every choice (``__dict__`` keeps others possible)
    __slots__ = ("tape", "forced", "_records", "_n_choices", "n_uniform", "relaxed", "keys", "score_sum", "n_scored",
                 "score_edge", "entries", "__dict__")

    def __init__(self, tape=None, forced=None):
        self.tape = tape
        self.entries = getattr(tape, "entries", None)  # the tape's positional uniforms (the same list)
        self.forced = forced or {}
        # the choices in order, as tuples of a Choice's fields (made :class:`Choice` by ``records``)
        self._records: list = []
        self._n_choices = 0  # records before this index are Choice objects
        self.n_uniform = 0
        self.relaxed: dict[int, Any] = {}  # GS-STE straight-through values by site
        self.keys: set = set()  # keys used so far in this run (each at most once)
        # dual-number runs: Σ ∇θ log π over the first ``n_scored`` records, added by :meth:`bernoulli` as it
        # records them (positional Bernoullis with a scalar tangent), and the sites among them on a boundary
        self.score_sum = 0.0
        self.n_scored = 0
        self.score_edge = []

    @property
    def records(self) -> list:
        """The recorded choices (:class:`Choice`), in order of the run."""
        raw = self._records
        n = len(raw)
        i = self._n_choices
        if i < n:
            raw[i:] = map(_to_choice, raw[i:])  # a Choice already there is copied (an equal tuple)
            self._n_choices = n
        return raw

    def key_slot(self, key, kind: str):
        """The noise slot ``(kind, key)`` of a keyed draw; each key once per run."""
        return claim_key(self.keys, kind, key)

    def bernoulli(self, p, pv: float, key):
        """Record ``bernoulli(p)`` (``pv``: p's plain value) and return its value: 1 iff the slot's uniform < ``pv``.

        The hot path of every traced simulation; in a dual-number run it also adds
        the choice's score term (see :class:`~stochgrad._run.DualRun`).
        """
        records = self._records
        site = len(records)
        if key is None:
            entries = self.entries
            n = len(entries)
            if site == n:  # a new positional uniform
                u = self.tape._random()
                entries.append(u)
            elif site < n:  # a replayed uniform (alternative paths, θ ± h)
                u = entries[site]
                if type(u) is not float:
                    u = self.tape.uniform(site)
            else:
                u = self.tape.uniform(site)
        else:
            u = self.tape.uniform(self.key_slot(key, "bernoulli"))
        forced = self.forced
        if forced and site in forced:  # an alternative path: this choice moved (its uniform is still read)
            k = int(forced[site])
        else:
            k = 1 if u < pv else 0
        records.append((site, "bernoulli", p, k, u, 2, BERNOULLI))  # a Choice's fields (see records)
        if type(p) is Dual and key is None:  # a dual-number run: add this choice's score term now
            g = p.t
            if type(g) is float:
                if g != 0.0:
                    self.score_sum += score_term(k, pv, g)
                    if pv == 0.0 or pv == 1.0:
                        self.score_edge.append(site)
                self.n_scored += 1
        return k

    def categorical(self, probs, pv, key) -> int:
        """Record ``categorical`` with probabilities ``probs`` (plain values ``pv``); return the index."""
        return self.choose(CATEGORICAL, probs, key, pv)

    def choose(self, family, params, key, pv=None) -> int:
        """Record a discrete choice of ``family`` and return its value: the inverse CDF of the slot's uniform.

        ``pv``: the parameters' plain values where the primitive has them (default ``params``).
        """
        pv = params if pv is None else pv
        records = self._records
        site = len(records)
        u = self.tape.uniform(site if key is None else self.key_slot(key, family.name))
        forced = self.forced
        k = int(forced[site]) if forced and site in forced else family.sample(pv, u)
        records.append((site, family.name, params, k, u, family.n_outcomes(pv), family))
        return k

    def continuous(self, family, params, key):
        """Record a continuous (reparameterised) choice and return its sample, traced in the parameters."""
        records = self._records
        site = len(records)
        u = self.tape.uniform(site if key is None else self.key_slot(key, family.name))
        x = family.transform(params, u)
        records.append((site, family.name, params, x, u, 0, family))
        return x

    def uniform(self, key) -> float:
        """θ-free noise: the run's next positional uniform, or the keyed one."""
        if key is not None:
            return self.tape.extra_uniform(self.key_slot(key, "uniform"))
        i = self.n_uniform
        self.n_uniform += 1
        return self.tape.extra_uniform(i)


class Enumeration(Trace):
    """Exact's mode: each choice takes its ``forced`` value, else its family's first outcome.

    With ``probe`` (a generator) an unforced choice takes an outcome of positive
    probability picked at random instead, and ``branching`` is multiplied by
    their number: Knuth's estimate of the number of traces. Continuous choices
    and θ-free uniforms are refused.

    Args:
        forced: ``{site: value}``, the prefix of the trace being enumerated.
        probe: a :class:`numpy.random.Generator` (trace-count probes) or ``None``.
    """

    def __init__(self, forced=None, probe=None):
        super().__init__(None, forced)
        self.probe = probe
        self.branching = 1.0  # product of the numbers of outcomes of positive probability met (probes)

    def bernoulli(self, p, pv, key):
        return self.choose(BERNOULLI, p, key, pv)

    def choose(self, family, params, key, pv=None):
        pv = params if pv is None else pv
        site = len(self._records)
        if key is not None:
            self.key_slot(key, family.name)
        if site in self.forced:
            k = int(self.forced[site])
        elif self.probe is not None:
            outs = family.outcomes(pv)[0]
            self.branching *= float(len(outs))
            k = int(outs[self.probe.integers(len(outs))])
        else:
            k = family.first(pv)
        self._records.append((site, family.name, params, k, None, family.n_outcomes(pv), family))
        return k

    def continuous(self, family, params, key):
        raise ValueError(f"stochgrad.{family.name}: Exact() enumerates discrete choices only; a program with "
                         "continuous choices needs a sampling estimator")

    def uniform(self, key):
        raise ValueError("stochgrad.uniform: Exact() enumerates discrete choices only; a program with continuous "
                         "noise needs a sampling estimator")


class Relaxation(Trace):
    """GumbelSTE's mode: the hard sample forward, its family's relaxation (:meth:`Family.relax`) backward.

    A Bernoulli reads the same uniform as every other mode (its value is a float
    carrying the logistic relaxation's derivative); a categorical draws one
    Gumbel per category (Gumbel-max); a family without a relaxation whose
    parameters depend on θ is refused.

    Args:
        tape: noise source (:class:`NoiseTape`).
        temperature: the relaxation's temperature ``τ > 0``.
    """

    def __init__(self, tape, temperature):
        super().__init__(tape)
        self.temperature = temperature

    def bernoulli(self, p, pv, key):
        k = Trace.bernoulli(self, p, pv, key)
        return BERNOULLI.relax(self, len(self._records) - 1, p, self._records[-1][4], k) if isbox(p) else float(k)

    def categorical(self, probs, pv, key):
        site = len(self._records)
        g = self.tape.gumbel(site if key is None else self.key_slot(key, "categorical"), pv.size)
        with np.errstate(divide="ignore"):
            k = int(np.argmax(np.log(pv) + g))
        self._records.append((site, "categorical", probs, k, g, pv.size, CATEGORICAL))
        return CATEGORICAL.relax(self, site, probs, g, k) if isbox(probs) else k

    def choose(self, family, params, key, pv=None):
        k = super().choose(family, params, key, pv)
        if not any(isbox(p) for p in params):
            return k
        relaxed = family.relax(self, len(self._records) - 1, params, self._records[-1][4], k)
        if relaxed is None:
            raise ValueError(f"GumbelSTE: {family.name} has no Gumbel-softmax relaxation, so its dependence on θ would "
                             "be silently dropped; use ScoreFunction or StochasticDerivative for this program")
        return relaxed


def claim_key(keys: set, kind: str, key):
    """Add the slot ``(kind, key)`` of a keyed draw to ``keys`` (the run's keys so far) and return it.

    Raises:
        TypeError: an unhashable key.
        ValueError: a key used twice in one run.
    """
    try:
        slot = (kind, key)
        hash(slot)
    except TypeError:
        raise TypeError(f"{kind}: key must be hashable (a str, int or tuple of them), got {key!r}") from None
    if slot in keys:
        raise ValueError(
            f"{kind}: key {key!r} was used twice in one run; keys name one random draw each "
            "(include the loop index, e.g. key=('step', i))"
        )
    keys.add(slot)
    return slot


def _stack() -> list:
    s = _STACK.get()
    if type(s) is not list:
        s = []
        _STACK.set(s)
    return s


def current_trace() -> Trace | None:
    """The innermost active trace, or ``None`` outside any estimator run."""
    s = _STACK.get()
    return s[-1] if s else None


def _check_p(p) -> float:
    if (type(p) is float or type(p) is np.float64) and 0.0 <= p <= 1.0:
        return float(p)
    pv = value_of(getval(p))
    if np.ndim(pv) != 0:
        raise ValueError(
            f"bernoulli: p must be a scalar probability, got an array of shape {np.shape(pv)}; "
            "call bernoulli once per element."
        )
    pv = float(pv)
    if not (0.0 <= pv <= 1.0):  # also catches NaN
        raise ValueError(
            f"bernoulli: p must lie in [0, 1], got {pv!r}. Map an unconstrained parameter "
            "through a sigmoid (e.g. 1 / (1 + np.exp(-x))) or clip it."
        )
    return pv


def bernoulli(p, *, key=None, rng: np.random.Generator | None = None):
    """Sample ``k ~ Bernoulli(p)``: 1 with probability ``p``, else 0.

    Inside a trace the choice is recorded (site, ``p`` with its θ-dependence, value,
    uniform noise). ``if k:`` works. Under :class:`~stochgrad.GumbelSTE` the returned
    value is a float 0.0/1.0 carrying the straight-through relaxed gradient, so it
    must enter the result arithmetically (``k * a + (1 - k) * b``) to be
    differentiated.

    Args:
        p: probability in [0, 1]; may depend on θ through autograd operations.
        key: optional hashable name of this draw (unique within a run). Replays
            of the sample (alternative paths, finite differences) give a keyed
            choice the same noise even when earlier choices differ in number;
            unkeyed choices are matched by position. Ignored outside a trace.
        rng: generator used outside a trace (default: the module generator, see
            :func:`seed`). Ignored inside a trace.

    Returns:
        ``0`` or ``1`` (an ``int``; a float box under GS-STE).

    Raises:
        ValueError: ``p`` is NaN, outside [0, 1], or not a scalar; a key used twice
            in one run.
        TypeError: an unhashable key.
    """
    run = _VRUN.get()
    if run is not None:
        return run.bernoulli(p, key=key)
    # The hot path of every traced simulation: a float or dual-number p, a positional slot.
    tp = type(p)
    if tp is Dual:
        pv = p.v
        if not (type(pv) is float and 0.0 <= pv <= 1.0):
            pv = _check_p(p)
    elif tp is float and 0.0 <= p <= 1.0:
        pv = p
    elif tp is _f64 and 0.0 <= (pv := float(p)) <= 1.0:  # (a float compares faster with the uniform below)
        pass
    else:
        pv = _check_p(p)
    try:
        tr = _STACK.get()[-1]
    except IndexError:  # outside any trace
        return int((rng or _default_rng).random() < pv)
    return tr.bernoulli(p, pv, key)


def uniform(*, key=None, rng: np.random.Generator | None = None) -> float:
    """θ-free continuous noise ``u ~ U(0, 1)`` that is replayed with the run.

    Use it for random numbers that do not depend on θ (waiting times at θ-free
    rates, detector smearing with fixed parameters, ...). Inside a trace the
    ``i``-th call of a run returns the same number in every replay of that sample
    (finite differences' common random numbers, the stochastic derivative's
    alternative paths), independently of the discrete choices' noise.

    Args:
        key: optional hashable name of this draw (unique within a run): replays
            then match it by name instead of by call order.
        rng: generator used outside a trace.

    Returns:
        A float in [0, 1).

    Raises:
        ValueError: under :class:`~stochgrad.Exact`, which can only enumerate
            discrete choices; a key used twice in one run.
        TypeError: an unhashable key.
    """
    run = _VRUN.get()
    if run is not None:
        return run.uniform(key=key)
    tr = current_trace()
    if tr is None:
        return float((rng or _default_rng).random())
    return tr.uniform(key)


def categorical(logits=None, *, probs=None, key=None, rng: np.random.Generator | None = None) -> Outcome:
    """Sample an index ``k`` in ``0..K-1`` with probabilities ``softmax(logits)`` or ``probs``.

    Inside a trace the choice is recorded with its inverse-CDF uniform (or Gumbel
    noise under GS-STE). The result is an ``int`` subclass; use
    :func:`select` / :func:`one_hot` when the outcome must enter the value
    arithmetically (needed for GS-STE).

    Args:
        logits: unnormalised log-probabilities, shape ``(K,)``, finite.
        probs: probabilities, shape ``(K,)``, non-negative, summing to 1.
        key: optional hashable name of this draw (unique within a run), see
            :func:`bernoulli`.
        rng: generator used outside a trace.

    Returns:
        The sampled index as an :class:`Outcome`.

    Raises:
        ValueError: both or neither of ``logits``/``probs``; non-finite logits;
            probabilities that are negative or do not sum to 1; a key used twice
            in one run.
        TypeError: an unhashable key.
    """
    run = _VRUN.get()
    if run is not None:
        return run.categorical(logits, probs, key=key)
    probs = probs_from(logits, probs)
    pv = np.asarray(value_of(getval(probs)), dtype=float)
    K = pv.size
    tr = current_trace()
    if tr is None:
        u = (rng or _default_rng).random()
        return Outcome(inverse_cdf(pv, u), -1, K)
    k = tr.categorical(probs, pv, key)
    return Outcome(k, len(tr._records) - 1, K)


def sample(family, params, *, key=None, rng: np.random.Generator | None = None):
    """Sample a choice of ``family`` with ``params`` (validated by ``family.check``), traced inside a run.

    The generic recording primitive behind :func:`stochgrad.binomial`,
    :func:`stochgrad.poisson`, :func:`stochgrad.normal`, ...: it asks the family
    for everything (sampling from the replayed uniform, the first outcome and
    the support while Exact enumerates, a GS-STE relaxation) and records
    ``(site, family.name, params, value, u, n_outcomes, family)``.

    Args:
        family: a :class:`stochgrad.distributions.Family`.
        params: its parameter tuple (from ``family.check``).
        key: optional hashable name of the draw (see :func:`bernoulli`).
        rng: generator used outside a trace.

    Returns:
        The sampled value: an ``int`` for discrete families, a float (carrying
        its θ-derivative) for continuous ones.

    Raises:
        ValueError: a continuous family under Exact; a θ-dependent family
            without a GS-STE relaxation under GumbelSTE; a key used twice.
    """
    run = _VRUN.get()
    if run is not None:
        return run.sample(family, params, key=key)
    tr = current_trace()
    if tr is None:
        return family.sample(params, float((rng or _default_rng).random()))
    return tr.choose(family, params, key) if family.discrete else tr.continuous(family, params, key)


def one_hot(k):
    """The one-hot vector of a categorical outcome ``k``.

    Under :class:`~stochgrad.GumbelSTE` it carries the straight-through gradient
    (hard one-hot forward, softmax relaxation backward); elsewhere it is a plain
    one-hot ``numpy`` vector.

    Args:
        k: an :class:`Outcome` returned by :func:`categorical`.

    Returns:
        Array of shape ``(K,)``.

    Raises:
        TypeError: ``k`` is not an outcome of :func:`categorical`.
    """
    run = _VRUN.get()
    if run is not None:
        return run.one_hot(k)
    if not isinstance(k, Outcome):
        raise TypeError(
            "one_hot needs the value returned by stochgrad.categorical(...), "
            f"got {type(k).__name__}"
        )
    tr = current_trace()
    if tr is not None and k.site in tr.relaxed:
        return tr.relaxed[k.site]
    return np.eye(k.n_outcomes)[int(k)]


def select(k, options):
    """``options[k]`` written so that GS-STE can differentiate through the choice.

    Equal to ``options[k]`` in value; under GS-STE it is ``one_hot(k) @ options``.

    Args:
        k: an :class:`Outcome` of :func:`categorical`, or a Bernoulli value (then
            ``options`` is ``(value_if_0, value_if_1)``).
        options: a sequence or array of length K (its items may depend on θ).

    Returns:
        The selected option.
    """
    run = _VRUN.get()
    if run is not None:
        return run.select(k, options)
    if isinstance(k, Outcome):
        tr = current_trace()
        if tr is not None and k.site in tr.relaxed:
            return anp.dot(tr.relaxed[k.site], anp.stack(list(options)) if not hasattr(options, "shape") else options)
        return options[int(k)]
    if isbox(k) or isinstance(k, float):  # relaxed Bernoulli value
        return k * options[1] + (1 - k) * options[0]
    return options[int(k)]


class StochasticFunction:
    """A function ``f(theta, *args, **kwargs) -> scalar`` that makes traced choices.

    Calling it runs ``f`` once (choices sampled from the module generator, or the
    trace of an enclosing estimator). Pass it to :func:`stochgrad.value_and_grad`.
    """

    def __init__(self, fn: Callable):
        functools.update_wrapper(self, fn)
        self.fn = fn

    def __call__(self, theta, *args, **kwargs):
        return self.fn(theta, *args, **kwargs)

    def __repr__(self):
        return f"<stochastic function {getattr(self.fn, '__qualname__', self.fn)!r}>"

    def __reduce__(self):
        """Pickle by reference (module and qualified name) when that name finds this object, as for functions.

        A module-level ``@stochastic`` function can then be sent to a process
        pool; otherwise the wrapped function is pickled (by value if pickle can).
        """
        obj = sys.modules.get(getattr(self, "__module__", None) or "")
        for part in str(getattr(self, "__qualname__", "<>")).split("."):
            obj = getattr(obj, part, None)
        if obj is self:
            return self.__qualname__
        return (type(self), (self.fn,))


def stochastic(fn: Callable) -> StochasticFunction:
    """Mark ``fn(theta, ...) -> scalar`` as a stochastic function with traced choices.

    Args:
        fn: a Python function using :func:`bernoulli` / :func:`categorical`; use
            ``autograd.numpy`` for arithmetic on θ so pathwise derivatives exist.

    Returns:
        A :class:`StochasticFunction` wrapping ``fn``.
    """
    if isinstance(fn, StochasticFunction):
        return fn
    if not callable(fn):
        raise TypeError(f"stochastic expects a function, got {type(fn).__name__}")
    return StochasticFunction(fn)

