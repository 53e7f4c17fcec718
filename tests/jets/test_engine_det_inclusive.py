"""``ClusterSequence.inclusive_jets`` straight from the merge history equals the history table's, bit for bit.

The direct path (``interface._inclusive``: one numba pass, no table) and the table path
(what ``inclusive_jets`` returns once the table exists, e.g. after ``constituents``) must
give the same jets, doubles and FastJet order (latest beam step first), for deterministic
and sampled histories, one or several samples, with and without a pT threshold; and a
corrupt history must be refused, not turned into jets.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

import apps.jets as J
from apps.jets.clustering import interface


def _both(cs, min_pt):
    direct = cs.inclusive_jets(min_pt=min_pt)
    cs._tab()  # build the table: inclusive_jets now reads it
    table = cs.inclusive_jets(min_pt=min_pt)
    return direct, table


@pytest.mark.parametrize("alg, alpha, n_samples", [("antikt", None, 1), ("kt", None, 3), ("antikt", 1.0, 1),
                                                   ("antikt", 1.0, 4)])
def test_direct_inclusive_equals_table(default_events, alg, alpha, n_samples):
    ev = default_events.subset(slice(0, 40))
    jd = J.JetDefinition(alg, 0.6, alpha=alpha)
    for min_pt in (0.0, 5.0):
        cs = J.ClusterSequence(ev.to_awkward(), jd, n_samples=n_samples, seed=3)
        direct, table = _both(cs, min_pt)
        assert str(ak.type(direct)) == str(ak.type(table))
        assert ak.to_list(ak.num(direct, axis=-1)) == ak.to_list(ak.num(table, axis=-1))
        for c in ("px", "py", "pz", "E"):
            a = ak.to_numpy(ak.flatten(direct[c], axis=None))
            b = ak.to_numpy(ak.flatten(table[c], axis=None))
            assert a.tobytes() == b.tobytes()
        assert ak.sum(ak.num(direct, axis=-1)) > 0


def test_direct_inclusive_refuses_a_corrupt_history(default_events):
    cs = J.ClusterSequence(default_events.subset(slice(0, 3)).to_awkward(), J.JetDefinition("antikt", 0.4))
    cs.result.history = cs.result.history.copy()
    cs.result.history[1, 0, 2, 0] = -5
    with pytest.raises(RuntimeError, match="corrupt"):
        interface._inclusive(cs.result, 0.0)
