"""Run a stochastic function once inside a trace, optionally with θ boxed by autograd.

This is the only module that touches autograd's tracer internals (``trace_stack``,
``new_box``, ``backward_pass``): running the program once with θ boxed lets the
estimators take several reverse passes from *different* end nodes (the value, the
log-probability of the trace, each choice's parameters) without re-running it.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import warnings

import numpy as np
from autograd.core import JVPNode, VJPNode, backward_pass
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import getval, isbox, new_box, toposort, trace_stack

from ._dual import _cmp, Dual, is_dual, tangent_of, value_of as _value_of
from ._trace import StochasticFunction, Trace, _stack as trace_stack_of_thread

__all__ = ["BiasWarning", "Run", "DualRun", "run_dual", "run_plain", "run_boxed", "run_differentiated", "check_value"]


class BiasWarning(UserWarning):
    """The program does something that makes a pathwise-based estimate biased.

    Raised as a warning (turn it into an error with
    ``warnings.simplefilter("error", stochgrad.BiasWarning)``) when a θ-dependent
    continuous value is compared (``<``, ``>``, ...) inside the program: the jump
    this creates in θ is invisible to autograd, to the score function's pathwise
    term, to GS-STE and to the stochastic derivative. Make the comparison a
    stochastic choice (e.g. ``bernoulli(sigmoid((x - c) / s))``) instead.
    """


def value_of(x):
    """The plain value of a θ-dependent quantity — an autograd box, a dual number or an array of them — without
    its derivative (what ``autograd.tracer.getval`` is for boxes)."""
    return _value_of(getval(x))


def check_value(out, where: str) -> float:
    """Return ``out`` as a float, or raise a clear error for non-scalar / non-finite output."""
    if (type(out) is float or type(out) is np.float64) and math.isfinite(out):
        return float(out)
    v = _value_of(getval(out))
    if np.ndim(v) != 0:
        raise ValueError(
            f"the stochastic function must return a scalar, got shape {np.shape(v)} ({where}); "
            "reduce it (sum, mean, a loss) or differentiate each component separately."
        )
    v = float(v)
    if not np.isfinite(v):
        raise ValueError(
            f"the stochastic function returned {v} ({where}); the estimate would be meaningless. "
            "Guard the computation (e.g. a log of zero) so every trace gives a finite value."
        )
    return v


class Run:
    """The outcome of one traced run: value, records and reverse-mode handles."""

    __slots__ = ("value", "trace", "out", "_t", "_start_shape", "comparisons", "forward", "_boundary", "_bern")

    def __init__(self, value, trace, out=None, t=None, start_shape=(), comparisons=None, forward=False):
        self.forward = forward
        self.value = value
        self.trace = trace
        self.out = out
        self._t = t
        self._start_shape = start_shape
        self.comparisons = comparisons or []
        self._boundary = None
        self._bern = None

    @property
    def records(self):
        return self.trace.records

    def owns(self, x) -> bool:
        """Whether ``x`` is a box of this run's θ (so it depends on θ)."""
        return self._t is not None and isbox(x) and x._trace == self._t

    def grad_of(self, x, cotangent=None) -> np.ndarray:
        """Gradient wrt θ of ``<cotangent, x>`` for a value ``x`` computed in this run."""
        if not self.owns(x):
            return np.zeros(self._start_shape)
        if self.forward:  # forward mode: the node already holds dx/dθ (θ has one element)
            d = x._node.g
            if cotangent is None:
                val = float(d) if np.ndim(d) == 0 else float(np.sum(d))
            else:
                val = float(np.dot(np.ravel(cotangent), np.ravel(d)))
            return np.full(self._start_shape, val)
        g = np.ones(np.shape(x._value)) if cotangent is None else cotangent
        if np.ndim(x._value) == 0:
            g = float(np.sum(g))
        return np.reshape(np.asarray(backward_pass(g, x._node), dtype=float), self._start_shape)

    @property
    def theta_size(self) -> int:
        """Number of elements of θ."""
        return int(np.prod(self._start_shape))

    def scalar_grads(self, xs) -> np.ndarray:
        """Gradients wrt θ of scalar values ``xs`` computed in this run, shape ``(len(xs), θ.size)``.

        Forward mode reads the tangents already on the nodes (no per-value work
        beyond one array); reverse mode takes one reverse pass per value.
        """
        if self.forward:
            return np.array([x._node.g if self.owns(x) else 0.0 for x in xs], dtype=float).reshape(len(xs), 1)
        return np.array([self.grad_of(x).ravel() for x in xs], dtype=float).reshape(len(xs), self.theta_size)

    def by_family(self):
        """The θ-dependent discrete choices grouped by family, in order of first appearance: ``[(family, [choices])]``."""
        groups: dict = {}
        for c in self.records:
            fam = c.family
            if fam.discrete and fam.depends(self, c.params):
                groups.setdefault(fam, []).append(c)
        return list(groups.items())

    def score(self) -> np.ndarray:
        """∇θ log p(trace): the sum over recorded discrete choices of ∇θ log π(value).

        Computed after the run from the choice records, so the program pays no
        autograd operations for it; each family computes the part of its own
        choices (:meth:`stochgrad.distributions.Family.score`: Bernoullis with
        one gradient array, categoricals with one reverse pass, others from
        their log-probability). Continuous (reparameterised) choices add
        nothing: their θ-dependence flows through the sampled value. Also finds
        the choices on a boundary of the parameter space (see
        :meth:`boundary_sites`).
        """
        total = np.zeros(self.theta_size)
        edge = []
        for fam, choices in self.by_family():
            t, e = fam.score(self, choices)
            total = total + np.ravel(t)
            edge += e
        self._boundary = sorted(edge)
        return np.reshape(total, self._start_shape)

    def boundary_sites(self) -> list:
        """Sites of choices with an outcome of probability 0 whose probability moves with θ.

        There ``∇θ E[f]`` involves an outcome that is never sampled, so the
        score function (which only sees sampled outcomes) is biased, e.g.
        ``bernoulli(θ)`` at ``θ = 0``. Found while computing :meth:`score`
        (only choices at the boundary are differentiated), so it is nearly free
        after it.
        """
        if self._boundary is None:
            self.score()
        return list(self._boundary)

    def depends_on(self, x) -> bool:
        """Whether the run's output depends on the value ``x`` (an ancestor node)."""
        if self.forward:
            raise RuntimeError("depends_on needs a reverse-mode run (forward=False)")
        if not (self.owns(self.out) and self.owns(x)):
            return False
        target = x._node
        return any(node is target for node in toposort(self.out._node))


def run_plain(fn, theta, args, kwargs, trace: Trace, where: str) -> Run:
    """Run ``fn`` inside ``trace`` with θ as plain numbers (no autograd)."""
    stack = trace_stack_of_thread()
    stack.append(trace)
    try:
        out = (fn.fn if type(fn) is StochasticFunction else fn)(theta, *args, **kwargs)  # (its __call__, inlined)
    finally:
        stack.pop()
    return Run(check_value(out, where), trace)


_CMP = ("__lt__", "__le__", "__gt__", "__ge__")
_watch = threading.local()  # .found: {autograd trace number: list of "file:line"} of this thread's active runs


def _install_comparison_hook() -> None:
    """Wrap ``ArrayBox``'s ordering comparisons once, at import (idempotent).

    The wrapper only looks at a thread-local table of the runs active in the
    calling thread, so a run changes no shared state: concurrent runs in other
    threads neither see nor disturb each other's comparisons, and outside a run
    the wrapper just calls autograd's comparison.
    """
    for name in _CMP:
        orig = getattr(ArrayBox, name)
        if getattr(orig, "_stochgrad_hook", False):
            continue

        def make(orig):
            def cmp(self, other):
                found = getattr(_watch, "found", None)
                if found:
                    for box in (self, other):
                        lst = found.get(box._trace) if isbox(box) else None
                        if lst is not None:
                            f = sys._getframe(1)
                            lst.append(f"{f.f_code.co_filename}:{f.f_lineno}")
                            break
                return orig(self, other)

            cmp._stochgrad_hook = True
            cmp.__wrapped__ = orig
            return cmp

        setattr(ArrayBox, name, make(orig))


_install_comparison_hook()


@contextlib.contextmanager
def _watch_comparisons(t, found: list):
    """Record in ``found`` the comparisons of boxes of autograd trace ``t`` (this thread only)."""
    table = getattr(_watch, "found", None)
    if table is None:
        table = _watch.found = {}
    table[t] = found
    try:
        yield
    finally:
        del table[t]


def run_boxed(fn, theta, args, kwargs, trace: Trace, where: str, forward=None, tangent=None) -> Run:
    """Run ``fn`` inside ``trace`` with θ boxed.

    With ``forward`` (the default when θ has a single element) every intermediate
    carries its derivative (autograd forward mode): no reverse pass is needed, and
    derivatives of many intermediates (each choice's parameters) come for free.
    ``tangent`` (θ's shape) is then the direction of that derivative (default:
    all ones). Otherwise the tape is kept for reverse passes from any intermediate.
    """
    theta = np.asarray(theta, dtype=float)
    start = float(theta) if theta.ndim == 0 else theta
    if forward is None:
        forward = theta.size == 1
    if tangent is None:
        tangent = np.ones_like(theta) if theta.ndim else 1.0
    root = JVPNode.new_root(tangent) if forward else VJPNode.new_root()
    comparisons: list = []
    with trace_stack.new_trace() as t:
        box = new_box(start, t, root)
        with _watch_comparisons(t, comparisons):
            stack = trace_stack_of_thread()
            stack.append(trace)
            try:
                out = fn(box, *args, **kwargs)
            finally:
                stack.pop()
    return Run(check_value(out, where), trace, out, t, theta.shape, comparisons, forward)


class DualRun(Run):
    """A run whose θ was a dual number (:mod:`stochgrad._dual`): every value carries ``dx/dθ`` with it.

    Derivatives of the output and of the choice parameters are read off the
    values themselves (no reverse pass, no autograd graph).
    """

    __slots__ = ("_size",)

    def __init__(self, value, trace, out, theta_shape, size, comparisons=()):
        self.forward = True
        self.value = value
        self.trace = trace
        self.out = out
        self._t = None
        self._start_shape = theta_shape
        self.comparisons = comparisons
        self._boundary = None
        self._bern = None
        self._size = size

    owns = staticmethod(is_dual)  # whether x carries a tangent (so depends on θ)

    @property
    def theta_size(self) -> int:
        return self._size

    def grad_of(self, x, cotangent=None) -> np.ndarray:
        if cotangent is None and not self._start_shape:  # the common case: scalar θ, a scalar value
            if type(x) is Dual:
                return np.float64(x.t)
            if not is_dual(x):
                return np.float64(0.0)
        return np.reshape(tangent_of(x, self._size, cotangent), self._start_shape)

    def scalar_grads(self, xs) -> np.ndarray:
        out = np.zeros((len(xs), self._size))
        for i, x in enumerate(xs):
            if type(x) is Dual:
                out[i] = x.t
        return out

    def score(self) -> np.ndarray:
        """∇θ log p(trace) from the tangents on the choice parameters (its family's ``dual_score`` per choice)."""
        tr = self.trace
        if tr.n_scored == len(tr._records):  # every choice a Bernoulli whose term bernoulli() already added, in order
            total, edge = tr.score_sum, list(tr.score_edge)
            records = ()
        else:
            total, edge = 0.0, []
            records = tr.records
        for c in records:
            if c.family.discrete:
                s, e = c.family.dual_score(self, c)
                total = total + s
                if e:
                    edge.append(c.site)
        self._boundary = edge
        t = np.asarray(total, dtype=float)
        if not self._start_shape:
            return np.float64(t if t.ndim == 0 else t.reshape(-1)[0])
        return np.reshape(t * np.ones(self._size), self._start_shape)


def dual_theta(theta: np.ndarray):
    """θ as dual numbers: a :class:`Dual` (0-d θ) or an object array of them, tangents the unit vectors."""
    d = theta.size
    if theta.ndim == 0:
        return Dual(float(theta), 1.0)
    out = np.empty(theta.shape, dtype=object)
    eye = np.eye(d)
    for j, (idx, v) in enumerate(np.ndenumerate(theta)):
        out[idx] = Dual(float(v), 1.0 if d == 1 else eye[j])
    return out


def run_dual(fn, theta, args, kwargs, trace: Trace, where: str) -> DualRun:
    """Run ``fn`` inside ``trace`` with θ as dual numbers (forward mode without autograd).

    Ordering comparisons of dual numbers made during the run are recorded in
    its ``comparisons`` (for the :class:`BiasWarning`), as for a boxed run.

    Raises:
        DualUnsupported: the program did something dual numbers cannot do exactly
            (``float()`` of a θ-dependent value, ...); nothing is rerun.
    """
    if type(theta) is float:  # a scalar θ (what the estimators pass): no array round trip
        th, shape, size = Dual(theta, 1.0), (), 1
    else:
        theta = np.asarray(theta, dtype=float)
        th, shape, size = dual_theta(theta), theta.shape, theta.size
    stack = trace_stack_of_thread()
    stack.append(trace)
    found: list = []
    local = _cmp.__dict__  # this thread's: where Dual's ordering comparisons are recorded (stochgrad._dual)
    prev = local.get("found")
    local["found"] = found
    try:
        out = (fn.fn if type(fn) is StochasticFunction else fn)(th, *args, **kwargs)  # (its __call__, inlined)
    finally:
        stack.pop()
        local["found"] = prev
    if type(out) is Dual and type(out.v) is float and math.isfinite(out.v):
        value = out.v  # the common case, without check_value's general path
    else:
        if isinstance(out, np.ndarray) and out.dtype == object and out.ndim == 0:
            out = out[()]
        value = check_value(out, where)
    return DualRun(value, trace, out, shape, size, found)


def run_differentiated(fn, theta, args, kwargs, tape, where: str) -> Run:
    """Run one sample (noise ``tape``) once so that its output and choice parameters can be differentiated.

    A θ with one component runs with θ as a dual number (:func:`run_dual`),
    any other θ with autograd's reverse mode (:func:`run_boxed`: one run,
    one reverse pass per differentiated value). The path depends on θ's size
    only and is chosen before the run: an exception raised by the program
    propagates, and a sample is never rerun on another path. (Dual numbers for
    θ with several components would put them in object arrays, on which many
    NumPy functions have no loop.)
    """
    if type(theta) is float:
        return run_dual(fn, theta, args, kwargs, Trace(tape), where)
    theta = np.asarray(theta, dtype=float)
    if theta.size == 1:
        return run_dual(fn, theta, args, kwargs, Trace(tape), where)
    return run_boxed(fn, theta, args, kwargs, Trace(tape), where, forward=False)


def warn_comparisons(runs_with_cmp: list, estimator: str) -> None:
    """Emit one :class:`BiasWarning` naming where θ-dependent values were compared."""
    if not runs_with_cmp:
        return
    where = ", ".join(sorted(set(runs_with_cmp))[:3])
    warnings.warn(
        f"{estimator}: the program compares a θ-dependent continuous value ({where}). "
        "That creates a jump in θ that this estimator cannot see, so its estimate is biased. "
        "Make the decision a stochastic choice (stochgrad.bernoulli of a sigmoid) or use "
        "FiniteDifference.",
        BiasWarning,
        stacklevel=4,
    )
