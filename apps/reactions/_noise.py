"""Replayable continuous noise for the simulators.

* :func:`counter_uniform`: counter-based uniforms ``u(key, trajectory, event, stream)``
  (a SplitMix64-style hash, vectorised on numpy or cupy): the same key gives the
  same numbers for the same (trajectory, event), whatever subset of trajectories is
  still running. This is what couples a primal trajectory, its alternative paths
  and the θ ± h runs of finite differences.
* :func:`waiting_times`: exponential waiting times inside a traced run, replayed
  whenever the run's noise is replayed.

Workaround (core gap): the core has no public primitive for θ-free *continuous*
noise inside a trace. We make one θ-free ``bernoulli(0.5)`` choice (recorded, so
its uniform is replayed by finite differences and by stochastic-derivative
alternatives) and seed a generator from that uniform, read from the trace record.
This touches ``stochgrad._trace.current_trace`` (private).
"""

from __future__ import annotations

import numpy as np

import stochgrad as sg

__all__ = ["counter_uniform", "key_from_seed", "waiting_times"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z):
    z = z ^ (z >> np.uint64(30))
    z = z * _M1
    z = z ^ (z >> np.uint64(27))
    z = z * _M2
    return z ^ (z >> np.uint64(31))


def key_from_seed(seed) -> int:
    """A 64-bit key from an integer seed (``None``: fresh OS entropy)."""
    return int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)[0])


def counter_uniform(key: int, traj, event, stream: int, xp=np):
    """Uniforms in ``[0, 1)``, one per (trajectory id, event index) pair, for noise ``stream``.

    Args:
        key: 64-bit key (from :func:`key_from_seed`).
        traj, event: integer arrays of equal shape.
        stream: small integer separating independent uses (0 waiting time, 1 choice, ...).
        xp: numpy or cupy.

    Returns:
        Float array shaped like ``traj``.
    """
    z = _mix(xp.asarray(traj).astype(xp.uint64) * _GOLDEN + np.uint64(key))
    z = _mix(z + (xp.asarray(event).astype(xp.uint64) * np.uint64(8) + np.uint64(stream)) * _GOLDEN)
    return (z >> np.uint64(11)).astype(xp.float64) * (1.0 / 2**53)


class waiting_times:
    """Unit-rate exponentials for one traced run, one stream per channel, replayed with the run's noise.

    Inside a trace it makes one θ-free ``stochgrad.bernoulli(0.5)`` choice and seeds
    the generators from that choice's uniform, so every replay of the trace (finite
    differences with common random numbers, stochastic-derivative alternatives)
    sees the same sequences. Outside a trace it seeds them from ``rng`` (or fresh entropy).

    Args:
        streams: number of independent streams (``__call__(j)`` reads stream ``j``).
        rng: generator used outside a trace.

    Raises:
        TypeError: inside ``stochgrad.Exact`` (continuous waiting times cannot be enumerated).
    """

    __slots__ = ("_gens", "_bufs", "_pos")

    def __init__(self, streams: int = 1, rng: np.random.Generator | None = None):
        from stochgrad._trace import current_trace  # private: see module docstring

        tr = current_trace()
        if tr is None:
            root = int((rng if rng is not None else np.random.default_rng()).integers(2**63))
        else:
            if tr.mode == "enumerate":
                raise TypeError("a Gillespie simulation has continuous waiting times: stochgrad.Exact "
                                "cannot enumerate its traces; use ScoreFunction, StochasticDerivative or FD")
            sg.bernoulli(0.5)
            root = int(float(tr.records[-1].noise) * 2**53)
        self._gens = [np.random.default_rng([root, j]) for j in range(streams)]
        self._bufs = [g.standard_exponential(32).tolist() for g in self._gens]
        self._pos = [0] * streams

    def __call__(self, j: int = 0) -> float:
        i = self._pos[j]
        buf = self._bufs[j]
        if i == len(buf):
            buf = self._bufs[j] = self._gens[j].standard_exponential(128).tolist()
            i = 0
        self._pos[j] = i + 1
        return buf[i]
