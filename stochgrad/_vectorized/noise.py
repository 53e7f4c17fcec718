"""Keyed noise for the vectorised mode: sample ``i``'s uniform at a stream depends on (seed, stream, i) only.

Every random draw site of a vectorised run (a choice's position, its ``key=``,
or the ``i``-th :func:`~stochgrad.uniform`) names a *stream*. The uniform of
sample ``i`` (absolute index, counted from 0 over the whole estimate) at that
stream is the ``i``-th number of a generator seeded by ``(seed, stream)``. So
the numbers do not depend on how the samples are cut into chunks, and every
replay of a run (finite differences, alternative paths) sees the same noise at
the same stream (common random numbers).

On NumPy the generator is a PCG64 per stream, advanced to the chunk's first
sample. On other array modules (CuPy) the uniform is a counter-based hash
(SplitMix64 finaliser, twice) of the stream key and the sample index, computed
with array operations on the device: the same seed gives the same estimate on
one device whatever the chunking, but not the same numbers as on NumPy.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["Noise", "stream_id"]

_GOLDEN = 0x9E3779B97F4A7C15
_C1, _C2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_MASK = (1 << 64) - 1


def stream_id(tag: str, key) -> tuple:
    """A stable ``spawn_key`` for a stream: positional sites by number, keyed draws by a hash of ``repr(key)``."""
    if tag in ("site", "uniform_position", "pick"):
        return (_TAGS[tag], int(key))
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return (_TAGS[tag] + 8, int.from_bytes(digest, "little"))


# positional streams by number; keyed ones (tag + 8) by a hash of the key, so the two never collide
_TAGS = {"site": 1, "uniform_position": 2, "pick": 3, "bernoulli": 4, "categorical": 5, "uniform": 6, "sample": 7}


class Noise:
    """Uniforms for samples ``start .. start + n − 1`` of one estimate, by stream.

    Arrays are cached per stream for the lifetime of the object (one chunk of one
    program call), so the replays of a chunk do not regenerate them.

    Args:
        seed: non-negative integer seed of the estimate.
        start: absolute index of the first sample.
        n: number of samples.
        xp: array module (``numpy`` or ``cupy``).
        method: ``"pcg64"`` (NumPy only) or ``"hash"`` (any array module).
        cache_bytes: stop caching beyond this many bytes.
    """

    def __init__(self, seed: int, start: int, n: int, xp=np, method=None, cache_bytes=256 << 20):
        self.seed, self.start, self.n, self.xp = int(seed), int(start), int(n), xp
        self.method = method or ("pcg64" if xp is np else "hash")
        if self.method == "pcg64" and xp is not np:
            raise ValueError("vectorized: the pcg64 noise runs on NumPy only; use noise=\"hash\" on other array modules")
        self._cache: dict = {}
        self._room = cache_bytes
        self._index = None

    def uniform(self, stream: tuple, width: int = 1):
        """Uniforms in [0, 1), shape ``(n,)`` (or ``(n, width)``), for this chunk at ``stream``."""
        got = self._cache.get((stream, width))
        if got is not None:
            return got
        if self.method == "pcg64":
            bg = np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=stream))
            if self.start:
                bg.advance(self.start * width)
            u = np.random.Generator(bg).random(self.n * width)
        else:
            u = self._hashed(stream, width)
        if width > 1:
            u = u.reshape(self.n, width)
        size = self.n * width * 8
        if size <= self._room:
            self._room -= size
            self._cache[(stream, width)] = u
        return u

    def _hashed(self, stream, width):
        xp = self.xp
        k = int(np.random.SeedSequence(self.seed, spawn_key=stream).generate_state(1, np.uint64)[0])
        idx = xp.arange(self.start * width, (self.start + self.n) * width, dtype=xp.uint64)
        x = idx * xp.uint64(_GOLDEN) + xp.uint64(k)
        for _ in range(2):
            x = x ^ (x >> xp.uint64(30))
            x = x * xp.uint64(_C1)
            x = x ^ (x >> xp.uint64(27))
            x = x * xp.uint64(_C2)
            x = x ^ (x >> xp.uint64(31))
        return (x >> xp.uint64(11)).astype(xp.float64) * (1.0 / (1 << 53))
