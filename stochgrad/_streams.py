"""Per-sample random streams, bit-identical to ``Generator.spawn`` and cheap to start.

Sample ``i`` of an estimate draws from the stream NumPy would give the ``i``-th
child of the estimate's generator (``rng.spawn(n)[i]``: a PCG64 seeded by the
child ``SeedSequence(entropy, spawn_key=parent_key + (i,))``). Building those
``n`` generators costs 20-40 µs each (the seed hashing runs per child in
Python-level code), more than a whole traced sample of a small program. Here
the children's seed hashing is done for all ``n`` at once with NumPy integer
arrays, and each sample's PCG64 is stepped in Python integers until something
needs a real :class:`numpy.random.Generator` (then one is built at exactly the
current position of the stream). The numbers drawn are the same as NumPy's;
tests compare them.
"""

from __future__ import annotations

import itertools
import threading
import weakref

import numpy as np
from numpy.random.bit_generator import _coerce_to_uint32_array

__all__ = ["child_seeds", "keyed_uniforms", "PCGStream", "private_rng", "is_private"]

# numpy/random/bit_generator.pyx (SeedSequence)
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_M32 = 0xFFFFFFFF
# PCG64 (numpy/random/src/pcg64): 128-bit LCG, XSL-RR output
_MULT128 = (2549297995355413924 << 64) | 4865540595714422341
_M128 = (1 << 128) - 1
_M64 = (1 << 64) - 1


def _hashmix(value, hc):
    value = (value ^ hc[0]) & _M32
    hc[0] = (hc[0] * _MULT_A) & _M32
    value = (value * hc[0]) & _M32
    return value ^ (value >> 16)


def _mix(x, y):
    r = (_MIX_L * x - _MIX_R * y) & _M32
    return r ^ (r >> 16)


def child_seeds(seed_seq: np.random.SeedSequence, start: int, n: int) -> list:
    """PCG64 ``(state, inc)`` (Python ints) of children ``start .. start + n − 1`` of ``seed_seq``.

    Equal to ``np.random.PCG64(seed_seq.spawn(...)[i]).state`` without building
    the children one by one: the mixing runs on arrays of ``n`` spawn keys.
    """
    if not isinstance(seed_seq, np.random.SeedSequence):
        raise TypeError("child_seeds needs a numpy SeedSequence")
    run = _coerce_to_uint32_array(seed_seq.entropy).astype(np.uint64)
    prefix = _coerce_to_uint32_array(seed_seq.spawn_key).astype(np.uint64)
    pool_size = seed_seq.pool_size
    if len(run) < pool_size:
        run = np.concatenate([run, np.zeros(pool_size - len(run), dtype=np.uint64)])
    idx = np.arange(start, start + n, dtype=np.uint64)
    if start + n > 2**32:
        raise ValueError("more than 2**32 samples from one generator")
    # the entropy words of every child: run + prefix (shared) then its index (one word, 0 gives [0])
    return _pcg_seeds([int(w) for w in np.concatenate([run, prefix])], idx, pool_size)


def _pcg_seeds(shared: list, idx: np.ndarray, pool_size: int = 4) -> list:
    """PCG64 ``(state, inc)`` seeded from ``SeedSequence`` entropy words ``shared + [i]`` for every ``i`` of ``idx``.

    ``idx`` (uint64, each < 2**32) is the one per-stream word, hashed for all
    streams at once with NumPy integer arrays.
    """
    n = len(idx)
    words = [np.full(n, w, dtype=np.uint64) for w in shared] + [idx]
    hc = [_INIT_A]
    pool = [_hashmix(words[i] if i < len(words) else np.zeros(n, np.uint64), hc) for i in range(pool_size)]
    for i_src in range(pool_size):
        for i_dst in range(pool_size):
            if i_src != i_dst:
                pool[i_dst] = _mix(pool[i_dst], _hashmix(pool[i_src], hc))
    for i_src in range(pool_size, len(words)):
        for i_dst in range(pool_size):
            pool[i_dst] = _mix(pool[i_dst], _hashmix(words[i_src], hc))
    # generate_state(4, uint64): 8 uint32 words cycling over the pool
    hb = _INIT_B
    out = []
    for i in range(8):
        v = pool[i % pool_size] ^ hb
        hb = (hb * _MULT_B) & _M32
        v = (v * hb) & _M32
        out.append(v ^ (v >> 16))
    w64 = [(out[2 * j] | (out[2 * j + 1] << np.uint64(32))) for j in range(4)]
    seeds = []
    for a, b, c, d in zip(*(w.tolist() for w in w64)):
        initstate, initseq = (a << 64) | b, (c << 64) | d
        inc = ((initseq << 1) | 1) & _M128
        state = (inc * 1) & _M128  # state = 0; step
        state = (state + initstate) & _M128
        state = (state * _MULT128 + inc) & _M128
        seeds.append((state, inc))
    return seeds


def keyed_uniforms(seed: int, index) -> list:
    """``[np.random.default_rng([seed, i]).random() for i in index]`` (the same doubles), for all ``i`` at once.

    Building a generator per ``i`` costs ≈ 15 µs; here the seed hashing runs on
    arrays and each double is one PCG64 step in Python integers.

    Args:
        seed: a non-negative integer.
        index: non-negative integers below ``2**32`` (e.g. a range of sample indices).
    """
    idx = np.asarray(list(index), dtype=np.uint64)
    if idx.size == 0:
        return []
    if int(idx.max()) >= 2**32 or int(seed) < 0:
        return [float(np.random.default_rng([int(seed), int(i)]).random()) for i in idx.tolist()]
    shared = [int(w) for w in _coerce_to_uint32_array(int(seed))]
    out = []
    for state, inc in _pcg_seeds(shared, idx):
        out.append(_step(state, inc)[1])
    return out


def _step(state: int, inc: int):
    """One PCG64 step (128-bit LCG, XSL-RR output): ``(new state, the double Generator.random() makes of it)``."""
    s = (state * _MULT128 + inc) & _M128
    x = ((s >> 64) ^ s) & _M64
    r = s >> 122
    x = ((x >> r) | (x << ((-r) & 63))) & _M64
    return s, (x >> 11) * (1.0 / 9007199254740992.0)


_local = threading.local()


def is_private(rng) -> bool:
    """Whether ``rng`` was made by :func:`private_rng` in this thread and is still in use there."""
    return id(rng) in getattr(_local, "private", ())


class private_rng:
    """``with private_rng(seed) as rng``: a generator nobody else holds (its spawn counter need not advance)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __enter__(self):
        p = getattr(_local, "private", None)
        if p is None:
            p = _local.private = set()
        p.add(id(self.rng))
        return self.rng

    def __exit__(self, *exc):
        _local.private.discard(id(self.rng))
_PY_STEPS = 4  # draws stepped in Python before switching to blocks from a NumPy generator
_FIRST_BLOCK = 128  # doubles in a stream's first block (a 100-step simulation needs one block)


def _scratch():
    """This thread's scratch ``[PCG64, Generator, owner]``: re-seeded for each block of draws.

    ``owner`` is the stream whose block was drawn last: the scratch generator
    then sits exactly after that block, so the stream's next block needs no
    re-seeding.
    """
    g = getattr(_local, "g", None)
    if g is None:
        bg = np.random.PCG64(0)
        g = _local.g = [bg, np.random.Generator(bg), None]
    return g


def _set(bg, state, inc):
    bg.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc}, "has_uint32": 0, "uinteger": 0}


def _blocks(state, inc, info):
    """Blocks of the stream's doubles after its first ``_PY_STEPS`` (iterators over lists, for ``chain``).

    ``state``/``inc``: the stream's PCG64 state before the first block's first
    draw. ``info`` (a list shared with the stream, so no reference cycle) holds
    ``[draws before the current block, its length, its iterator]``: the stream's
    position for :attr:`PCGStream.generator`.
    """
    base, size = 0, _FIRST_BLOCK
    while True:
        sc = _scratch()
        bg = sc[0]
        if sc[2] is not info or base == 0:  # another stream drew from the scratch generator since
            _set(bg, state, inc)
            if base:
                bg.advance(base)
        sc[2] = info
        it = iter(sc[1].random(size).tolist())
        info[0], info[1], info[2] = base, size, it
        yield it
        base += size
        size = min(4096, 2 * size)


class PCGStream:
    """One sample's PCG64 stream, drawing the same doubles as ``Generator.random()``.

    The first few doubles are stepped in Python integers (a small program draws
    one or two); after that, blocks of doubles come from this thread's scratch
    NumPy generator set to the stream's state, served by a C-level iterator
    (:meth:`attach` hands it to the noise tape, so a draw costs no Python call).
    :attr:`generator` gives a real generator continuing the stream at its
    current position.
    """

    __slots__ = ("_state", "_inc", "_n", "_gen", "_next", "_info", "_tape", "_hint")

    def __init__(self, state: int, inc: int, hint: list | None = None):
        self._state, self._inc = state, inc  # with blocks: the state before the first block's first draw
        self._n, self._gen, self._next, self._info, self._tape = 0, None, None, None, None
        # ``hint`` (a one-item list shared by the streams of one estimate): set once a stream needed blocks, so the
        # next streams start with blocks at once (the same doubles; a long simulation skips the Python steps)
        self._hint = hint

    def attach(self, tape) -> None:
        """Let this stream point ``tape._random`` at its block iterator once it switches to blocks (weakly held)."""
        self._tape = weakref.ref(tape)

    def random(self) -> float:
        """The next double in [0, 1)."""
        nxt = self._next
        if nxt is not None:
            return nxt()
        if self._gen is not None:
            return self._gen.random()
        hint = self._hint
        if self._n >= _PY_STEPS or (hint is not None and hint[0]):
            if hint is not None:
                hint[0] = True
            self._info = info = [0, 0, None]
            self._next = nxt = itertools.chain.from_iterable(_blocks(self._state, self._inc, info)).__next__
            tape = self._tape() if self._tape is not None else None
            if tape is not None and tape._src is self:
                tape._random = nxt
            return nxt()
        self._n += 1  # (the PCG64 step of _step, inlined: the first draws of every sample)
        s = (self._state * _MULT128 + self._inc) & _M128
        self._state = s
        x = ((s >> 64) ^ s) & _M64
        r = s >> 122
        x = ((x >> r) | (x << ((-r) & 63))) & _M64
        return (x >> 11) * (1.0 / 9007199254740992.0)

    @property
    def generator(self) -> np.random.Generator:
        """A :class:`numpy.random.Generator` continuing this stream (built once, then used for every draw)."""
        if self._gen is None:
            bg = np.random.PCG64(0)
            _set(bg, self._state, self._inc)
            info = self._info
            if info is not None:
                used = info[0] + (info[1] - info[2].__length_hint__() if info[2] is not None else 0)
                if used:
                    bg.advance(used)
            self._gen = np.random.Generator(bg)
            self._next = None
            tape = self._tape() if self._tape is not None else None
            if tape is not None and tape._src is self:
                tape._random = self._gen.random
        return self._gen
