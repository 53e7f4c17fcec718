"""The buffer fast path of the awkward input conversion gives what the generic path gives.

``io.records.to_padded`` reads plain (px, py, pz, E) records straight from their buffers
(``_cartesian_columns``); everything else goes through ``cartesian`` and awkward passes.
Both must give the same padded doubles, counts and refusals: float64, float32 (rounding
accepted to the stored precision), integer columns, sliced arrays (offsets not from 0),
extra fields, named records, and the checks (non-finite momenta, pT = 0 along the beam).
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

import apps.jets as J
from apps.jets.io import records


def _generic(monkeypatch, arr):
    with monkeypatch.context() as m:
        m.setattr(records, "_cartesian_columns", lambda a: None)
        return records.to_padded(arr)


def _cases(ev):
    base = ev.to_awkward(with_name=None)
    named = ev.to_awkward()
    f32 = ak.zip({k: ak.values_astype(base[k], np.float32) for k in ("px", "py", "pz", "E")})
    ints = ak.zip({k: ak.values_astype(base[k] * 100, np.int64) for k in ("px", "py", "pz", "E")})
    extra = ak.zip({"px": base.px, "py": base.py, "pz": base.pz, "E": base.E, "charge": ak.ones_like(base.px)})
    return {"float64": base, "Momentum4D": named, "float32": f32, "int64": ints, "sliced": base[7:19],
            "extra field": extra, "empty event": ak.concatenate([base[:2], base[2:2], base[5:6]])}


def test_fast_conversion_equals_generic(default_events, monkeypatch):
    ev = default_events.subset(slice(0, 25))
    fast_used = 0
    for name, arr in _cases(ev).items():
        fast_used += records._cartesian_columns(records.find_particles(arr)) is not None
        p4, counts = records.to_padded(arr)
        p4g, countsg = _generic(monkeypatch, arr)
        assert p4.tobytes() == p4g.tobytes() and p4.shape == p4g.shape, name
        np.testing.assert_array_equal(counts, countsg)
    assert fast_used >= 5  # the fast path is what ran for the plain cases


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fast_conversion_refuses_like_generic(default_events, monkeypatch, bad):
    ev = default_events.subset(slice(0, 4))
    p4 = ev.p4.copy()
    p4[2, 3, 1] = bad
    arr = J.Events(p4, ev.counts).to_awkward(with_name=None)
    with pytest.raises(ValueError, match="event 2, particle 3") as fast:
        records.to_padded(arr)
    with pytest.raises(ValueError, match="event 2, particle 3") as generic:
        _generic(monkeypatch, arr)
    assert str(fast.value) == str(generic.value)


def test_fast_conversion_refuses_beam_particles(default_events):
    ev = default_events.subset(slice(0, 3))
    p4 = ev.p4.copy()
    p4[1, 0] = [0.0, 0.0, 5.0, 4.0]  # pT = 0 with E < |pz|: infinite rapidity
    with pytest.raises(ValueError, match="event 1, particle 0"):
        records.to_padded(J.Events(p4, ev.counts).to_awkward(with_name=None))
