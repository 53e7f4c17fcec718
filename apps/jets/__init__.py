"""Jets: your events or Pythia 8 H→bb̄, anti-kT / kt / C/A as FastJet and their sampled versions (R-score), CLI.

Public API:

* fastjet's interface — :class:`JetDefinition` (``antikt_algorithm``, ``kt_algorithm``,
  ``cambridge_algorithm``; ``alpha`` for the Q-version) and :class:`ClusterSequence`
  (``inclusive_jets``, ``exclusive_jets``, ``constituents``, ... → awkward ``Momentum4D``);
* events — :class:`Events`, :func:`load_events`, :func:`load_default_events`,
  :func:`save_events`, :func:`generate_events`; readers/writers for awkward/``vector``
  records, ``.npz``, Parquet and ROOT in :mod:`apps.jets.io`;
* clustering — :func:`cluster` → :class:`ClusterResult` (merge history; ``inclusive_jets``,
  ``constituents``, ``mjj`` and ``score`` per (event, sample));
* optimisation fast path — :func:`sample_mjj_and_score`, and
  :func:`sample_mjj_and_alternatives` for the stochastic derivative;
* reference — :func:`exact_histories` (exact enumeration for small events).

Layout (docs/jets.md): ``clustering/`` (the library: algorithms, interface, engine, exact,
backends), ``io/`` (events, readers/writers, generation), ``study/`` (R optimisation, radius
maps, distributed runs), ``cli/`` (``stochgrad-jets``) and ``plots/``.

numba compiles the kernels on first use (cached on disk afterwards); cupy is never
imported here.
"""

from . import io
from .clustering import (ClusterResult, ClusterSequence, JetDefinition, Jets, antikt_algorithm, cambridge_algorithm,
                         cluster, exact_histories, kt_algorithm, sample_mjj_and_alternatives, sample_mjj_and_score)
from .io import Events, generate_events, load_default_events, load_events, save_events

__all__ = [
    "io", "JetDefinition", "ClusterSequence", "antikt_algorithm", "kt_algorithm", "cambridge_algorithm",
    "Events", "load_events", "load_default_events", "save_events", "generate_events",
    "cluster", "ClusterResult", "Jets", "sample_mjj_and_score", "sample_mjj_and_alternatives", "exact_histories",
]
