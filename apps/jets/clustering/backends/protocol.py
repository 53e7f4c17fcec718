"""The jets engine's backend interface: what a backend runs, and the named results.

A backend clusters a batch of padded events, every (event, sample) pair one *work item*
(item ``it = e · n_samples + s``), in one call; it never loops over events in Python.
Its arrays live on its array module ``xp`` (NumPy for ``cpu`` and ``cuda-emulated``,
CuPy for ``cuda``) and it returns arrays of that module. The engine
(:mod:`apps.jets.clustering.engine`) validates every input before calling a backend; backends
rely on that (finite squared momenta, finite ``1/R²`` and ``s·R²``, finite α-scaled
distances) and do not check again.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Protocol, runtime_checkable

__all__ = ["Job", "BatchResult", "ReplayResult", "Backend", "empty_batch"]


class Job(NamedTuple):
    """One validated batch: what every backend call receives.

    Attributes:
        p4: ``(n_events, n_max, 4)`` float64 (px, py, pz, E), C-contiguous.
        counts: ``(n_events,)`` int64 particles per event.
        R: ``(n_events,)`` float64 jet radii.
        p: generalised-kt power: −1 anti-kT, 0 Cambridge/Aachen, 1 kt.
        alpha: Qanti-kT α ≥ 0 (finite), or None for the deterministic algorithm.
        n_samples: histories per event (1 when ``alpha`` is None).
        seed: uint64 seed of every stream.
        ptmin: pT threshold of the two leading jets (``mjj``).
        event_offset: global index of event 0 (a partition of a larger batch): the
            streams of item (e, s) are keyed by ``(seed, event_offset + e, s)``.
    """

    p4: Any
    counts: Any
    R: Any
    p: int
    alpha: Optional[float]
    n_samples: int
    seed: int
    ptmin: float
    event_offset: int = 0


class BatchResult(NamedTuple):
    """Per work item (``n_items = n_events · n_samples``).

    Attributes:
        mjj: ``(n_items,)`` dijet mass of the two leading jets with pT ≥ ptmin (NaN: fewer).
        score: ``(n_items,)`` ∂/∂R log p(history) (0 for deterministic clustering).
        history: ``(n_items, n_max, 2)`` int32 merge steps (``(0, 0, 2)`` when not asked).
        dij: ``(n_items, n_max)`` chosen distances (``(0, 0)`` when not asked).
        reservoir: ``(n_items, n_alt, 3)`` int64 drawn alternatives ``(step, a, b or −1)``
            (step −1: none).
        reservoir_sign: ``(n_items, n_alt)`` sign of each drawn alternative's weight.
        alt_total: ``(n_items,)`` Σ|∂π_k/∂R| over the history's alternatives.
        status: ``(n_items,)`` int32, 0 when the item was clustered as specified; 1 when a
            sampled step met weights that were not finite and positive (distances under- or
            overflowing): the engine raises ``ValueError`` naming the event.
        margin: ``(n_items,)`` the history's closest call: the smallest distance, over
            its sampled steps, of the step's uniform from an edge of the chosen
            candidate's probability interval (inf for deterministic clustering). Two
            backends can only disagree on a history whose margin is a rounding error.
    """

    mjj: Any
    score: Any
    history: Any
    dij: Any
    reservoir: Any
    reservoir_sign: Any
    alt_total: Any
    status: Any
    margin: Any


class ReplayResult(NamedTuple):
    """Final jets per work item, from merge histories.

    Attributes:
        jets: ``(n_items, n_max, 4)`` final jets sorted by decreasing pT (stable), zero-padded.
        n_jets: ``(n_items,)`` int64.
        labels: ``(n_items, n_max)`` int64 particle → jet rank (−1: padding).
    """

    jets: Any
    n_jets: Any
    labels: Any


@runtime_checkable
class Backend(Protocol):
    """What the engine needs from a clustering backend.

    Attributes:
        name: ``"cpu"``, ``"cuda"`` or ``"cuda-emulated"``.
        xp: the array module its inputs and outputs live on (numpy or cupy).
    """

    name: str
    xp: Any

    def run_batch(self, job: Job, want_hist: bool, n_alt: int) -> BatchResult:
        """Cluster every (event, sample) of ``job``; with ``n_alt > 0`` draw that many
        stochastic-derivative alternatives per sampled history in the same pass."""

    def run_alternatives(self, job: Job, reservoir: Any) -> Any:
        """``(n_items, n_alt)`` dijet mass of each alternative path (NaN where step < 0):
        item's history replayed with its own stream, ``reservoir[it, j, 1:]`` forced at
        step ``reservoir[it, j, 0]``."""

    def replay(self, p4: Any, counts: Any, n_samples: int, history: Any) -> ReplayResult:
        """Final jets and particle labels of ``(n_events · n_samples, n_max, 2)`` histories."""


def empty_batch(xp, n_items, n_max, want_hist, n_alt):
    """A :class:`BatchResult` of freshly allocated output arrays on ``xp``."""
    return BatchResult(
        mjj=xp.empty(n_items), score=xp.empty(n_items),
        history=xp.full((n_items, n_max, 2) if want_hist else (0, 0, 2), -2, xp.int32),
        dij=xp.full((n_items, n_max) if want_hist else (0, 0), xp.nan),
        reservoir=xp.full((n_items, n_alt, 3), -1, xp.int64), reservoir_sign=xp.zeros((n_items, n_alt)),
        alt_total=xp.zeros(n_items), status=xp.zeros(n_items, xp.int32),
        margin=xp.full(n_items, xp.inf))
