"""``stochgrad.numpy``: a drop-in for ``autograd.numpy`` that is fast on floats and dual numbers.

Use it where you would write ``import autograd.numpy as anp``::

    import stochgrad.numpy as snp

Every name of ``autograd.numpy`` is here and is the same object, except the
elementwise functions listed in :data:`FAST` (``exp``, ``log``, ``sin``, ...).
Each of those first looks at its argument's type: a dual number (the
score-function and stochastic-derivative runs of a θ with a few components)
gets exactly the rule :meth:`stochgrad._dual.Dual.__array_ufunc__` applies; a
Python or NumPy float gets the NumPy ufunc, which is what ``autograd.numpy``
would call; anything else (autograd boxes, arrays, extra arguments) goes to the
``autograd.numpy`` function. The numbers are the same bit for bit as with
``autograd.numpy``, which keeps working unchanged; this namespace only skips
autograd's primitive wrapper (about 1 µs per call) where it has nothing to do.

Nothing is rewritten, copied or patched: it is a namespace that you import.
"""

from __future__ import annotations

import math as _math

import autograd.numpy as _anp
import numpy as _np

from ._dual import _FAST, _UNARY, Dual as _Dual, is_dual as _is_dual, normalise as _normalise

globals().update({k: v for k, v in vars(_anp).items() if not k.startswith("__")})

_new = object.__new__
_math_exp = _math.exp


def _fast_unary(name):
    ufunc = getattr(_np, name)
    slow = getattr(_anp, name)
    rule = _FAST.get(ufunc) or _UNARY[ufunc]

    if ufunc is _np.exp:  # the hot case, inlined as in Dual.__array_ufunc__ (same arithmetic, same result)
        def f(x, *args, **kwargs):
            t = type(x)
            if not (args or kwargs):
                if t is _Dual:
                    try:
                        v = _math_exp(x.v)
                    except OverflowError:  # NumPy's inf, as autograd.numpy gives
                        return rule(x)
                    r = _new(_Dual)
                    r.v = v
                    r.t = x.t * v
                    return r
                if t is float or t is _np.float64 or t is int:
                    return ufunc(x)
            return slow(_items(x), *args, **kwargs)
    else:
        def f(x, *args, **kwargs):
            t = type(x)
            if not (args or kwargs):
                if t is _Dual:
                    return rule(x)
                if t is float or t is _np.float64 or t is int:
                    return ufunc(x)
            return slow(_items(x), *args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__module__ = __name__
    f.__doc__ = slow.__doc__
    f.__wrapped__ = slow
    return f


def _items(x):
    """An object array as dual numbers (``autograd.numpy.array`` nests them in 0-d arrays); anything else as is."""
    return _normalise(x) if type(x) is _np.ndarray and x.dtype == object else x


#: The functions of this namespace that differ from ``autograd.numpy``'s (same numbers, less overhead).
FAST = ("exp", "log", "sin", "cos", "tan", "sqrt", "tanh", "log1p", "expm1", "arctan", "sinh", "cosh",
        "arcsin", "arccos", "log2", "log10", "square", "negative", "absolute", "reciprocal")

globals().update({_name: _fast_unary(_name) for _name in FAST})
abs = absolute  # noqa: A001, F821 - autograd.numpy's alias, pointing at the fast function



def array(A, *args, **kwargs):
    """``autograd.numpy.array``, and an array of dual numbers where ``A`` holds θ-dependent values.

    ``autograd.numpy.array([θ, 2 * θ])`` on the dual path wraps each dual number in a
    0-d array, which NumPy's elementwise functions cannot use (``np.exp`` of it raises
    a TypeError); here the items come back as dual numbers, so ``exp``, sums and
    products of the array work and give autograd's numbers.
    """
    out = _anp.array(A, *args, **kwargs)
    return _normalise(out) if _is_dual(out) else out


array.__wrapped__ = _anp.array
