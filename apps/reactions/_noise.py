"""Replayable counter-based noise for the vectorised simulator.

* :func:`counter_uniform`: counter-based uniforms ``u(key, trajectory, event, stream)``
  (a SplitMix64-style hash, vectorised on numpy or cupy): the same key gives the
  same numbers for the same (trajectory, event), whatever subset of trajectories is
  still running. This is what couples a primal trajectory, its alternative paths
  and the θ ± h runs of finite differences.
"""

from __future__ import annotations

import numpy as np

__all__ = ["counter_uniform", "key_from_seed"]

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

