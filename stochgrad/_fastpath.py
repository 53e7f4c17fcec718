"""A private copy of a traced program whose ``autograd.numpy`` calls skip autograd's wrapper on plain and dual numbers.

Every ``autograd.numpy`` function is an autograd *primitive*: a Python wrapper
that looks for boxes among its arguments before calling NumPy. On a
:class:`~stochgrad._dual.Dual` (and on a plain float) it finds none and calls
NumPy, which hands a Dual to :meth:`Dual.__array_ufunc__`. That detour costs
about 1 µs per call, as much as a whole step of a hand-written simulation
(``anp.exp(-x / p)`` in a random walk).

:func:`specialise` returns a copy of the program function (same code, closure
and defaults) whose globals are a copy of its module's globals in which the
``autograd.numpy`` module — and functions imported from it by name — are
replaced by :data:`SHIM`: the same namespace, except that the elementwise
functions with a dual-number rule first check for a :class:`Dual` (then apply
exactly the rule :meth:`Dual.__array_ufunc__` applies) or a Python/NumPy float
(then call the NumPy ufunc, exactly what the autograd wrapper would call) and
otherwise call the autograd function. The numbers are therefore the same bit
for bit; autograd boxes go through autograd as before. Module-level helper
functions the program calls (found through the names its code uses) get the
same treatment, sharing the copied globals.

Nothing global changes: autograd, NumPy and the user's module are untouched,
and the copy is made per estimate (per chunk). It is not made (the original
function is used) when any function or method of the program's module could
write to or inspect the module's globals (``global`` statements, ``globals()``,
``vars()``, ``eval``/``exec``), since a copy of the globals would then diverge
from the module. What it cannot see is code in *other* modules rebinding this
module's globals (``module.X = ...``) while the estimate runs; mutable objects
held by globals are shared, not copied.
"""

from __future__ import annotations

import math
import types
import weakref

import autograd.numpy as anp
import numpy as np

from ._dual import _FAST, _UNARY, Dual

__all__ = ["SHIM", "specialise"]

_new = object.__new__
_math_exp = math.exp


def _fast_unary(name):
    ufunc = getattr(np, name)
    slow = getattr(anp, name)
    rule = _FAST.get(ufunc) or _UNARY[ufunc]

    if ufunc is np.exp:  # the hot case, inlined as in Dual.__array_ufunc__ (same arithmetic, same result)
        def f(x, *args, **kwargs):
            t = type(x)
            if not (args or kwargs):
                if t is Dual:
                    v = _math_exp(x.v)
                    r = _new(Dual)
                    r.v = v
                    r.t = x.t * v
                    return r
                if t is float or t is np.float64 or t is int:
                    return ufunc(x)
            return slow(x, *args, **kwargs)
    else:
        def f(x, *args, **kwargs):
            t = type(x)
            if not (args or kwargs):
                if t is Dual:
                    return rule(x)
                if t is float or t is np.float64 or t is int:
                    return ufunc(x)
            return slow(x, *args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = slow.__doc__
    f.__wrapped__ = slow
    return f


_NAMES = ("exp", "log", "sin", "cos", "tan", "sqrt", "tanh", "log1p", "expm1", "arctan", "sinh", "cosh",
          "arcsin", "arccos", "log2", "log10", "square", "negative", "absolute", "reciprocal")
_FUNCS = {name: _fast_unary(name) for name in _NAMES}
_BY_SLOW = {id(getattr(anp, name)): (getattr(anp, name), f) for name, f in _FUNCS.items()}
_BY_SLOW[id(anp.abs)] = (anp.abs, _FUNCS["absolute"])

SHIM = types.ModuleType(anp.__name__, anp.__doc__)
SHIM.__dict__.update({k: v for k, v in vars(anp).items() if k not in ("__name__", "__doc__")})
SHIM.__dict__.update(_FUNCS)
SHIM.abs = _FUNCS["absolute"]

_REFUSE = frozenset({"globals", "vars", "eval", "exec"})  # (also attribute names: conservative)
_STORE_GLOBAL = {"STORE_GLOBAL", "DELETE_GLOBAL"}


def _codes(code):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _codes(c)


def _writes_globals(code) -> bool:
    import dis

    for c in _codes(code):
        if _REFUSE.intersection(c.co_names):
            return True
        if any(ins.opname in _STORE_GLOBAL for ins in dis.get_instructions(c)):
            return True
    return False


def _names(code) -> set:
    out = set()
    for c in _codes(code):
        out.update(c.co_names)
    return out


_cache = weakref.WeakKeyDictionary()  # code object -> whether a function with this code may be copied


def _copyable(f) -> bool:
    code = f.__code__
    ok = _cache.get(code)
    if ok is None:
        ok = _cache[code] = not _writes_globals(code)
    return ok


def _shimmed(code, g, into):
    """``into[name]`` ← the shim of every global of ``code`` that is ``autograd.numpy`` or one of its functions."""
    for name in _names(code):
        v = g.get(name)
        if v is anp:
            into[name] = SHIM
        elif id(v) in _BY_SLOW and _BY_SLOW[id(v)][0] is v:
            into[name] = _BY_SLOW[id(v)][1]
    return into


def specialise(fn):
    """``fn`` with its ``autograd.numpy`` calls on dual and plain numbers short-cut (see the module docs).

    ``fn`` may be a :class:`~stochgrad.StochasticFunction` or a plain function;
    anything else, a function whose module does not use ``autograd.numpy``, or
    a function that could write to its globals is returned unchanged.
    """
    inner = getattr(fn, "fn", fn)
    if type(inner) is not types.FunctionType or not _copyable(inner):
        return fn
    g = inner.__globals__
    if _module_writes_globals(g):  # some function of the module rebinds its globals: a copy could go stale
        return fn
    subs = _shimmed(inner.__code__, g, {})
    helpers = _helpers(inner, g)
    if not subs and not any(_uses_anp(h, g) for h in helpers.values()):
        return fn
    new_g = dict(g)
    for h in helpers.values():  # module-level helpers called by the program (transitively), bound to the copy
        _shimmed(h.__code__, g, new_g)
    new_g.update(subs)
    for name, h in helpers.items():
        new_g[name] = _clone(h, new_g)
    return _clone(inner, new_g)


def _uses_anp(f, g) -> bool:
    return any(g.get(name) is anp or id(g.get(name)) in _BY_SLOW for name in _names(f.__code__))


def _helpers(f, g) -> dict:
    """Module-level plain functions of ``g`` that ``f`` reaches through global names (transitively), copyable."""
    found: dict = {}
    todo = [f]
    while todo:
        h = todo.pop()
        for name in _names(h.__code__):
            v = g.get(name)
            if (type(v) is types.FunctionType and v.__globals__ is g and v is not f and name not in found
                    and _copyable(v)):
                found[name] = v
                todo.append(v)
    return found


def _module_writes_globals(g) -> bool:
    """Whether a function or method defined in the module of globals ``g`` could write to (or inspect) them."""
    name = g.get("__name__")
    for v in list(g.values()):
        if type(v) is types.FunctionType:
            if v.__globals__ is g and not _copyable(v):
                return True
        elif isinstance(v, type) and getattr(v, "__module__", None) == name:
            for a in list(vars(v).values()):
                f = getattr(a, "__func__", a)  # staticmethod / classmethod
                if type(f) is types.FunctionType and f.__globals__ is g and not _copyable(f):
                    return True
    return False


def _clone(f, new_globals):
    c = types.FunctionType(f.__code__, new_globals, f.__name__, f.__defaults__, f.__closure__)
    c.__kwdefaults__ = f.__kwdefaults__
    c.__dict__ = f.__dict__  # the same attribute dict: attributes set during the run are the original's
    c.__qualname__ = f.__qualname__
    c.__module__ = f.__module__
    c.__doc__ = f.__doc__
    return c
