"""Dual numbers: a light forward-mode tangent for θ with few components.

A differentiated run (score function, stochastic derivative) needs the
derivative of the output and of every choice's parameters with respect to θ.
For a θ with a handful of components a dual number ``value + tangent·ε``
carries those derivatives at a fraction of the cost of autograd's boxes: one
small Python object per operation, no node graph, no primitive lookup.

Programs written for autograd run unchanged: ``autograd.numpy`` functions on a
:class:`Dual` fall through to NumPy, which hands them to
:meth:`Dual.__array_ufunc__` (:mod:`stochgrad.numpy` skips that detour). A
dual number behaves like the float it carries, as autograd's boxes do: ``==``,
``!=`` and the orderings compare values (an ordering comparison is recorded for
the :class:`~stochgrad.BiasWarning`, as for boxes), it hashes like its value
and its truth is its value's. A ufunc without a rule here is differentiated by
autograd's own rule for it. What neither can do exactly (``float()``/``int()``,
which would drop the tangent; floor division) raises :class:`DualUnsupported`,
a ``TypeError`` that names the operation; it is never caught and rerun.
"""

from __future__ import annotations

import math
import operator
import sys
import threading

import numpy as np

__all__ = ["Dual", "DualUnsupported", "value_of", "is_dual", "tangent_of", "normalise"]


class DualUnsupported(TypeError):
    """An operation on a θ-dependent dual number that has no exact forward-mode meaning (names the operation)."""


_NUM = (int, float, np.floating, np.integer, bool, np.bool_)
_np_exp, _math_exp, _new = np.exp, math.exp, object.__new__
_cmp = threading.local()  # .found: the list the dual run of this thread records ordering comparisons in (_run)


def _note():
    found = getattr(_cmp, "found", None)
    if found is not None:
        f = sys._getframe(2)
        if not f.f_globals.get("__name__", "").startswith("numpy."):  # np.clip's inner min/max: continuous
            found.append(f"{f.f_code.co_filename}:{f.f_lineno}")


def _refuse(what, hint=""):
    def method(self, *a, **k):
        raise DualUnsupported(f"{what} of a θ-dependent value (a dual number, value {self.v!r}){hint}")
    method.__name__ = what
    return method


def _ordering(op):
    """An ordering comparison on the values, recorded for the BiasWarning (a jump in θ the estimators miss)."""
    def method(self, o):
        o = _other(o)
        if o is NotImplemented:
            return o
        _note()
        return op(self.v, o)
    method.__name__ = f"__{op.__name__}__"
    return method


def _other(o):
    """The plain value of the other operand of a comparison, or ``NotImplemented``."""
    if type(o) is Dual:
        return o.v
    if isinstance(o, _NUM):
        return o
    return NotImplemented


class Dual:
    """A scalar ``v`` with a tangent ``t`` (a float, or a small array: one entry per θ component)."""

    __slots__ = ("v", "t")

    def __init__(self, v, t):
        self.v = v
        self.t = t

    # arithmetic -------------------------------------------------------------------------------
    def __add__(self, o):
        if type(o) is Dual:
            return Dual(self.v + o.v, self.t + o.t)
        if type(o) is float or type(o) is int or isinstance(o, _NUM):
            return Dual(self.v + o, self.t)
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, o):
        if type(o) is Dual:
            return Dual(self.v - o.v, self.t - o.t)
        if type(o) is float or type(o) is int or isinstance(o, _NUM):
            return Dual(self.v - o, self.t)
        return NotImplemented

    def __rsub__(self, o):
        if type(o) is float or type(o) is int or isinstance(o, _NUM):
            return Dual(o - self.v, -self.t)
        return NotImplemented

    def __mul__(self, o):
        if type(o) is Dual:
            return Dual(self.v * o.v, self.t * o.v + o.t * self.v)
        if type(o) is float or type(o) is int or isinstance(o, _NUM):
            return Dual(self.v * o, self.t * o)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, o):
        if type(o) is Dual:
            return Dual(self.v / o.v, self.t / o.v - o.t * (self.v / (o.v * o.v)))
        if type(o) is float or type(o) is int or isinstance(o, _NUM):
            return Dual(self.v / o, self.t / o)
        return NotImplemented

    def __rtruediv__(self, o):
        if type(o) is int or type(o) is float or isinstance(o, _NUM):
            v = self.v
            r = _new(Dual)  # Dual(o / v, ...) without the __init__ call (the hot path of x / θ)
            r.v = o / v
            r.t = -self.t * (o / (v * v))
            return r
        return NotImplemented

    def __pow__(self, o):
        if type(o) is Dual:
            r = self.v ** o.v
            dx = o.v * self.v ** (o.v - 1) if o.v != 0 else 0.0
            return Dual(r, self.t * dx + o.t * (r * math.log(self.v) if self.v > 0 else 0.0))
        if type(o) is float or type(o) is int or isinstance(o, _NUM):
            if o == 0:
                return Dual(self.v ** 0, self.t * 0.0)
            return Dual(self.v ** o, self.t * (o * self.v ** (o - 1)))
        return NotImplemented

    def __rpow__(self, o):
        if type(o) is float or type(o) is int or isinstance(o, _NUM):
            r = o ** self.v
            return Dual(r, self.t * (r * math.log(o)) if o > 0 else self.t * 0.0)
        return NotImplemented

    def __neg__(self):
        return Dual(-self.v, -self.t)

    def __pos__(self):
        return self

    def __abs__(self):
        return Dual(abs(self.v), self.t * float(np.sign(self.v)))

    def __bool__(self):
        return bool(self.v)

    def __repr__(self):
        return f"Dual({self.v!r}, {self.t!r})"

    # comparisons: on the values, like the float carried (and autograd's boxes) ------------------
    def __eq__(self, o):
        o = _other(o)
        return NotImplemented if o is NotImplemented else self.v == o

    def __ne__(self, o):
        o = _other(o)
        return NotImplemented if o is NotImplemented else self.v != o

    __lt__ = _ordering(operator.lt)
    __le__ = _ordering(operator.le)
    __gt__ = _ordering(operator.gt)
    __ge__ = _ordering(operator.ge)

    def __hash__(self):
        return hash(self.v)  # equal values hash equally, as for the floats (a == b implies hash(a) == hash(b))

    def __mod__(self, o):  # as autograd: d(x mod c)/dx = 1
        if type(o) is Dual:
            return Dual(self.v % o.v, self.t - o.t * ((self.v - self.v % o.v) / o.v))
        if isinstance(o, _NUM):
            return Dual(self.v % o, self.t)
        return NotImplemented

    _hint = ("; compute it with stochgrad.numpy / autograd.numpy functions, or take the value with "
             "autograd's getval outside the differentiated part")
    __float__ = _refuse("float()", _hint)
    __int__ = _refuse("int()", _hint)
    __index__ = _refuse("use as an index", _hint)
    __round__ = _refuse("round()", _hint)
    __floordiv__ = _refuse("floor division", _hint)
    __rfloordiv__ = _refuse("floor division", _hint)
    __rmod__ = _refuse("modulo by", _hint)
    del _hint

    # NumPy ------------------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # the common case, inlined: exp / sin / cos of this Dual (the only input, so it is ``self``)
        if ufunc is _np_exp and method == "__call__" and not kwargs:  # (NumPy passes ``out`` as a keyword)
            try:
                v = _math_exp(self.v)
            except OverflowError:
                return _by_autograd(ufunc, inputs)
            r = _new(Dual)  # Dual(v, t·v) without the __init__ call
            r.v = v
            r.t = self.t * v
            return r
        fast = _FAST.get(ufunc)
        if fast is not None and len(inputs) == 1 and method == "__call__" and not kwargs:
            return fast(self)
        if (method == "reduce" and ufunc in _REDUCE_SELF and len(inputs) == 1 and inputs[0] is self
                and set(kwargs) <= {"axis", "dtype", "keepdims", "out"} and kwargs.get("dtype") is None
                and kwargs.get("out") in (None, ())):
            return self  # np.sum / prod / max / min of one dual number (a 0-d array): the number itself
        if method != "__call__" or kwargs:
            raise DualUnsupported(f"numpy.{ufunc.__name__}.{method} (or with keywords {sorted(kwargs)}) "
                                  "of a θ-dependent value (a dual number)")
        if len(inputs) == 1:
            rule = _UNARY.get(ufunc)
            return rule(inputs[0]) if rule is not None else _by_autograd(ufunc, inputs)
        op = _BINARY.get(ufunc)
        if op is None:
            return _by_autograd(ufunc, inputs)
        if any(isinstance(x, np.ndarray) for x in inputs):  # elementwise on object arrays
            objs = [x.astype(object) if isinstance(x, np.ndarray) else _box0(x) for x in inputs]
            return np.frompyfunc(op, 2, 1)(*objs)
        a, b = inputs
        return op(_scalar(a), _scalar(b))


_BOOLEAN = {np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal}


def _by_autograd(ufunc, inputs):
    """A ufunc without a rule here, on dual numbers: NumPy's value, and the tangent from autograd's own rule.

    Equality and ordering ufuncs give plain booleans (like autograd, which does
    not report them as comparisons either). Object arrays are mapped
    elementwise.
    """
    if any(isinstance(x, np.ndarray) and x.ndim for x in inputs):
        objs = [x.astype(object) if isinstance(x, np.ndarray) else _box0(x) for x in inputs]
        return np.frompyfunc(lambda *a: _by_autograd(ufunc, a), len(inputs), 1)(*objs)
    xs = [_scalar(x) for x in inputs]
    vals = [x.v if type(x) is Dual else x for x in xs]
    if not all(type(x) is Dual or isinstance(x, _NUM) for x in xs):
        raise DualUnsupported(f"numpy.{ufunc.__name__} of a dual number and a {[type(x).__name__ for x in xs]}")
    if ufunc in _BOOLEAN:
        return ufunc(*vals)
    import autograd.numpy as anp  # (lazy: only for ufuncs without a rule here)
    from autograd import grad

    f = getattr(anp, ufunc.__name__, None)
    if f is None or not callable(f):
        raise DualUnsupported(f"numpy.{ufunc.__name__} of a θ-dependent value: neither stochgrad's dual numbers "
                              "nor autograd define its derivative")
    r = ufunc(*vals)
    t = 0.0
    for i, x in enumerate(xs):
        if type(x) is Dual:
            def part(z, i=i):
                a = list(vals)
                a[i] = z
                return f(*a)
            t = t + x.t * grad(part)(np.float64(vals[i]))  # (NumPy semantics: inf, nan)
    return Dual(r, t)


def _box0(x):
    a = np.empty((), dtype=object)
    a[()] = x
    return a


def _scalar(x):
    """A 0-d array's item; a NumPy scalar as the Python number (so ``a * b`` reaches Dual's methods, not NumPy)."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x[()]
    if isinstance(x, np.generic):
        return x.item()
    return x


_MATH = (ValueError, ZeroDivisionError, OverflowError)  # the math module's domain errors, raised by the rules below


def _unary(ufunc, fv, fd):
    """A rule ``x ↦ Dual(f(x), f'(x) t)``; also maps NumPy numbers and object arrays.

    Outside ``math``'s domain (``sqrt(0)``'s derivative, ``exp(1000)``) the
    NumPy ufunc and autograd's derivative give NumPy's ``inf``/``nan``, as
    ``autograd.numpy`` does on boxes.
    """
    def rule(x):
        if type(x) is Dual:
            try:
                r = fv(x.v)
                return Dual(r, x.t * fd(x.v, r))
            except _MATH:
                return _by_autograd(ufunc, (x,))
        if isinstance(x, np.ndarray):
            return np.frompyfunc(rule, 1, 1)(x)
        if isinstance(x, _NUM):
            try:
                return fv(x)
            except _MATH:
                return ufunc(x)
        raise DualUnsupported(f"{type(x).__name__} in a dual-number operation")
    return rule


def _safe_log(v):
    return math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan)


_exp = _unary(np.exp, math.exp, lambda v, r: r)
_log = _unary(np.log, _safe_log, lambda v, r: 1.0 / v)
_sin = _unary(np.sin, math.sin, lambda v, r: math.cos(v))
_cos = _unary(np.cos, math.cos, lambda v, r: -math.sin(v))
_tan = _unary(np.tan, math.tan, lambda v, r: 1.0 + r * r)
_sqrt = _unary(np.sqrt, math.sqrt, lambda v, r: 0.5 / r)
_tanh = _unary(np.tanh, math.tanh, lambda v, r: 1.0 - r * r)
_log1p = _unary(np.log1p, math.log1p, lambda v, r: 1.0 / (1.0 + v))
_expm1 = _unary(np.expm1, math.expm1, lambda v, r: r + 1.0)
_arctan = _unary(np.arctan, math.atan, lambda v, r: 1.0 / (1.0 + v * v))
_sinh = _unary(np.sinh, math.sinh, lambda v, r: math.cosh(v))
_cosh = _unary(np.cosh, math.cosh, lambda v, r: math.sinh(v))
_arcsin = _unary(np.arcsin, math.asin, lambda v, r: 1.0 / math.sqrt(1.0 - v * v))
_arccos = _unary(np.arccos, math.acos, lambda v, r: -1.0 / math.sqrt(1.0 - v * v))
_log2 = _unary(np.log2, math.log2, lambda v, r: 1.0 / (v * math.log(2.0)))
_log10 = _unary(np.log10, math.log10, lambda v, r: 1.0 / (v * math.log(10.0)))
_square = _unary(np.square, lambda v: v * v, lambda v, r: 2.0 * v)
_negative = _unary(np.negative, lambda v: -v, lambda v, r: -1.0)
_absolute = _unary(np.absolute, abs, lambda v, r: float(np.sign(v)))
_reciprocal = _unary(np.reciprocal, lambda v: 1.0 / v, lambda v, r: -r * r)

def _fast_exp(x):
    try:
        r = math.exp(x.v)
    except OverflowError:
        return _by_autograd(np.exp, (x,))
    return Dual(r, x.t * r)


def _fast_sin(x):
    try:
        return Dual(math.sin(x.v), x.t * math.cos(x.v))
    except ValueError:  # ±inf
        return _by_autograd(np.sin, (x,))


def _fast_cos(x):
    try:
        return Dual(math.cos(x.v), -x.t * math.sin(x.v))
    except ValueError:
        return _by_autograd(np.cos, (x,))


def _fast_log(x):
    v = x.v
    if v > 0:
        return Dual(math.log(v), x.t / v)
    return _log(x)


_REDUCE_SELF = frozenset((np.add, np.multiply, np.maximum, np.minimum))
_FAST = {np.exp: _fast_exp, np.sin: _fast_sin, np.cos: _fast_cos, np.log: _fast_log}

_UNARY = {
    np.exp: _exp, np.log: _log, np.sin: _sin, np.cos: _cos, np.tan: _tan, np.sqrt: _sqrt, np.tanh: _tanh,
    np.log1p: _log1p, np.expm1: _expm1, np.arctan: _arctan, np.sinh: _sinh, np.cosh: _cosh,
    np.arcsin: _arcsin, np.arccos: _arccos, np.log2: _log2, np.log10: _log10, np.square: _square,
    np.negative: _negative, np.absolute: _absolute, np.reciprocal: _reciprocal,
    np.positive: lambda x: x,
}
# NumPy's object-array loops call a method of the ufunc's name on each item (np.exp(array of Duals) calls .exp())
for _ufunc, _rule in _UNARY.items():
    setattr(Dual, _ufunc.__name__, lambda self, _rule=_rule: _rule(self))
del _ufunc, _rule

_BINARY = {
    np.add: lambda a, b: a + b,
    np.subtract: lambda a, b: a - b,
    np.multiply: lambda a, b: a * b,
    np.true_divide: lambda a, b: a / b,
    np.power: lambda a, b: a ** b,
}


def _elem(e):
    while isinstance(e, np.ndarray) and e.ndim == 0:
        e = e[()]
    return e


def normalise(x):
    """An object array as all-:class:`Dual` items (plain numbers get a zero tangent), unwrapped from 0-d arrays.

    ``autograd.numpy.array`` of a list wraps items in 0-d arrays; NumPy's object
    loops (``np.exp`` of an object array) need every item to be a Dual. An
    object array without any Dual becomes a float array; other values are
    returned unchanged.
    """
    if isinstance(x, np.ndarray) and x.dtype == object:
        items = [_elem(e) for e in x.flat]
        if not any(type(e) is Dual for e in items):
            return np.array(items, dtype=float).reshape(x.shape)
        out = np.empty(x.shape, dtype=object)
        for i, e in enumerate(items):
            out.flat[i] = e if type(e) is Dual else Dual(float(e), 0.0)
        return out
    return x


def is_dual(x) -> bool:
    """Whether ``x`` carries a dual tangent (a :class:`Dual` or an object array holding one)."""
    if type(x) is Dual:
        return True
    return isinstance(x, np.ndarray) and x.dtype == object and any(type(_elem(e)) is Dual for e in x.flat)


def value_of(x):
    """The plain value of ``x``: a :class:`Dual`'s ``v``, an object array of them as floats, else ``x``."""
    if type(x) is Dual:
        return x.v
    if isinstance(x, np.ndarray) and x.dtype == object:
        return np.array([e.v if type(e) is Dual else e for e in map(_elem, x.flat)], dtype=float).reshape(x.shape)
    return x


def tangent_of(x, size: int, cotangent=None) -> np.ndarray:
    """``Σ_i cotangent_i · ∂x_i/∂θ`` as a vector of θ's ``size`` (``cotangent`` defaults to ones)."""
    if type(x) is Dual:
        t = np.asarray(x.t, dtype=float).reshape(-1) * np.ones(size)
        if cotangent is not None:
            t = t * float(np.sum(cotangent))
        return t
    if isinstance(x, np.ndarray) and x.dtype == object:
        flat = [_elem(e) for e in x.flat]
        c = np.ones(len(flat)) if cotangent is None else np.ravel(cotangent)
        out = np.zeros(size)
        for ci, e in zip(c, flat):
            if ci != 0 and type(e) is Dual:
                out = out + ci * np.asarray(e.t, dtype=float).reshape(-1)
        return out
    return np.zeros(size)
