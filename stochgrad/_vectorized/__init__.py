"""Vectorised mode: the user's function runs once for all samples (see docs/vectorised.md)."""

from __future__ import annotations

from .program import DEFAULT_CHUNK, VectorizedProgram
from .values import PerSample, PerSampleBranchError

__all__ = ["vectorized", "VectorizedProgram", "PerSample", "PerSampleBranchError"]


def vectorized(fn=None, *, xp=None, chunk=DEFAULT_CHUNK, noise=None):
    """Mark ``fn(theta, ...)`` as written once for all samples (the vectorised mode).

    Inside ``fn``, :func:`~stochgrad.bernoulli`, :func:`~stochgrad.categorical`
    and :func:`~stochgrad.uniform` return arrays with one entry per sample
    (shape ``(n,)``); :func:`~stochgrad.select` and array arithmetic carry the
    branches, and ``fn`` returns one value per sample. Python ``if``/``while`` on
    a per-sample value raises :class:`PerSampleBranchError`; loops with a fixed
    trip count work as written. Use ``autograd.numpy`` for arithmetic on θ.

    The result is a batched program (:class:`VectorizedProgram`): every
    estimator works on it, with value, pathwise term, score, common random
    numbers, GS-STE relaxation and the stochastic derivative's alternatives
    derived automatically. Estimates are unbiased exactly when the same
    estimator is unbiased on the per-sample mode; the numbers differ from it
    (a different random stream) but agree in distribution.

    Args:
        fn: the function (or ``None`` when used as ``@vectorized(xp=..., chunk=...)``).
        xp: array module (``numpy``, ``cupy`` or their names); default: that of
            the array arguments, else NumPy.
        chunk: samples per vectorised run (memory vs per-call overhead).
        noise: ``"pcg64"`` (NumPy only) or ``"hash"`` (the counter-based scheme of
            the device); default: ``"pcg64"`` on NumPy, ``"hash"`` elsewhere.

    Returns:
        A :class:`VectorizedProgram` (or a decorator, when ``fn`` is ``None``).

    Raises:
        TypeError: ``fn`` is not callable.
        ValueError: a bad ``chunk``, ``xp`` or ``noise``.
    """
    if fn is None:
        return lambda f: vectorized(f, xp=xp, chunk=chunk, noise=noise)
    if isinstance(fn, VectorizedProgram):
        return fn
    return VectorizedProgram(fn, xp=xp, chunk=chunk, noise=noise)
