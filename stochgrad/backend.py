"""Array-module choice (numpy or cupy): decided by the arrays, never imported eagerly."""

from __future__ import annotations

import numpy as np

__all__ = ["array_module", "to_numpy", "is_cupy"]


def is_cupy(x) -> bool:
    """Whether ``x`` is a CuPy array (checked without importing CuPy)."""
    return type(x).__module__.split(".")[0] == "cupy"


def array_module(*arrays):
    """The array module (``numpy`` or ``cupy``) that the given arrays live on.

    ``None`` entries are ignored.

    Raises:
        TypeError: numpy and cupy arrays are mixed.
    """
    kinds = {is_cupy(a) for a in arrays if a is not None}
    if len(kinds) > 1:
        raise TypeError(
            "arrays mix numpy and cupy; move them to one device first "
            "(cupy.asarray(x) or cupy.asnumpy(x))"
        )
    if kinds == {True}:
        import cupy  # lazy: only when the user already handed us cupy arrays

        return cupy
    return np


def to_numpy(x):
    """Copy a numpy/cupy array (or scalar) to a host numpy array."""
    if is_cupy(x):
        return x.get()
    return np.asarray(x)
