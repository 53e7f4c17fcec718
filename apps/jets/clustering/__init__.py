"""The clustering library: fastjet's interface, the engine, exact enumeration and the backends.

* ``algorithms`` — :class:`JetDefinition` and the algorithm names (anti-kT, kt, C/A);
* ``interface`` — :class:`ClusterSequence` (fastjet's names; awkward ``Momentum4D`` out);
* ``engine`` — :func:`cluster` → :class:`ClusterResult` (the merge history), and the
  optimisation fast paths :func:`sample_mjj_and_score` / :func:`sample_mjj_and_alternatives`;
* ``exact`` — :func:`exact_histories` (every history of a small event with its probability);
* ``backends`` — the numba CPU and CUDA implementations behind one protocol.
"""

from .algorithms import JetDefinition, antikt_algorithm, cambridge_algorithm, kt_algorithm
from .engine import ClusterResult, Jets, cluster, sample_mjj_and_alternatives, sample_mjj_and_score
from .exact import exact_histories
from .interface import ClusterSequence

__all__ = ["JetDefinition", "ClusterSequence", "antikt_algorithm", "kt_algorithm", "cambridge_algorithm",
           "cluster", "ClusterResult", "Jets", "sample_mjj_and_score", "sample_mjj_and_alternatives",
           "exact_histories"]
