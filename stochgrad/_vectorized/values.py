"""Per-sample arrays: NumPy arrays whose sample axis forbids Python branching.

In the vectorised mode every choice returns an array with one entry per sample
(the sample axis first). Python control flow on such an array (``if k:``,
``while x > 0:``, ``int(k)``, ``options[k]`` on a list) would silently pick one
branch for all samples (or fail with NumPy's generic message), so
:class:`PerSample` refuses it with an error that names :func:`stochgrad.select`
and the per-sample mode. Arithmetic, ufuncs and NumPy functions keep the type.
"""

from __future__ import annotations

import numpy as np
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.numpy.numpy_vspaces import ArrayVSpace

from ._context import RUN

__all__ = ["PerSample", "PerSampleBranchError", "per_sample", "plain"]


class PerSampleBranchError(TypeError):
    """Python control flow (``if``, ``while``, ``int()``, list indexing) on a per-sample value."""


_MESSAGE = (
    "stochgrad.vectorized: {what} on a per-sample value (an array with one entry per sample). In the "
    "vectorised mode one Python run serves all samples, so it cannot take a different branch per sample. "
    "Write the branch as data: stochgrad.select(k, [if_0, if_1, ...]), arithmetic (k * a + (1 - k) * b) "
    "or np.where(cond, a, b); loops need a fixed trip count. Or decorate the function with "
    "@stochgrad.stochastic (the per-sample mode), where Python control flow on choices works."
)


def _refuse(what):
    def method(self, *args):
        if self.ndim == 0:  # not per-sample (e.g. a reduction over the samples)
            return getattr(np.ndarray, what)(self.view(np.ndarray), *args)
        raise PerSampleBranchError(_MESSAGE.format(what={"__bool__": "a Python `if`/`while`/`and`/`or`",
                                                         "__index__": "indexing a list or range",
                                                         }.get(what, f"`{what.strip('_')}()`")))
    method.__name__ = what
    return method


class PerSample(np.ndarray):
    """An ``ndarray`` of per-sample values (sample axis first) that refuses Python branching.

    Raises:
        PerSampleBranchError: on ``bool()`` (``if``/``while``), ``int()``,
            ``float()``, ``complex()`` or use as an index of a Python sequence,
            unless the array is 0-dimensional.
    """

    __array_priority__ = 20.0
    _site = None  # set on the outcome of a categorical choice: its site (for select / one_hot)
    _n_outcomes = None

    __bool__ = _refuse("__bool__")
    __int__ = _refuse("__int__")
    __float__ = _refuse("__float__")
    __complex__ = _refuse("__complex__")
    __index__ = _refuse("__index__")

    def __array_function__(self, func, types, args, kwargs):
        out = super().__array_function__(func, types, args, kwargs)
        run = RUN.get()
        if run is not None and type(out) is np.ndarray and out.ndim and out.shape[0] == run.n:
            return out.view(PerSample)
        return out


def per_sample(a):
    """View a NumPy array as :class:`PerSample` (other array types are returned unchanged)."""
    return a.view(PerSample) if type(a) is np.ndarray else a


def plain(a):
    """The plain ``ndarray`` behind a :class:`PerSample` (anything else unchanged)."""
    return a.view(np.ndarray) if isinstance(a, PerSample) else a


# autograd boxes values by their exact type: a PerSample is an array like any other.
ArrayBox.register(PerSample)
ArrayVSpace.register(PerSample, lambda x: ArrayVSpace(x))


class _DeviceVSpace(ArrayVSpace):
    """autograd's vector space of a device array (CuPy): shape and dtype without a host copy."""

    def __init__(self, value):
        self.shape, self.dtype = value.shape, value.dtype
        self._xp = __import__(type(value).__module__.split(".")[0])

    def zeros(self):
        return self._xp.zeros(self.shape, dtype=self.dtype)

    def ones(self):
        return self._xp.ones(self.shape, dtype=self.dtype)


def register_array_module(xp) -> None:
    """Let autograd box ``xp``'s arrays (CuPy) for the forward runs; once per type, at first use."""
    from autograd.tracer import Box

    t = getattr(xp, "ndarray", None)
    if xp is np or t is None or t in Box.type_mappings:
        return
    ArrayBox.register(t)
    ArrayVSpace.register(t, _DeviceVSpace)
