"""Real-format inputs: NanoAOD GenPart (TTree and RNTuple), Delphes EFlow, float32 momenta, selections.

The fixtures are written with uproot in the layouts those formats have: NanoAOD
``nGenPart`` + ``GenPart_pt/eta/phi/mass`` (float32), ``GenPart_pdgId/status`` (int32),
``GenPart_statusFlags`` (int16), incoming partons at pt = 0, η = ±23360; Delphes
``EFlowTrack.PT/Eta/Phi/Mass/Charge`` with a vertex ``X/Y/Z/T``, ``EFlowPhoton`` and
``EFlowNeutralHadron`` ``ET/Eta/Phi/E``. Jets are compared with PyPI's fastjet on the
same particles, selected on the test's side with awkward masks, event by event.
"""

import numpy as np
import pytest

pytest.importorskip("numba")
ak = pytest.importorskip("awkward")
uproot = pytest.importorskip("uproot")
vector = pytest.importorskip("vector")

import apps.jets as J  # noqa: E402
from apps.jets.io.select import Selection  # noqa: E402

N_EV = 12
NU = (12, 14, 16)
SELECT = "status == 1 and abs(pdgId) not in (12, 14, 16)"


@pytest.fixture(scope="module")
def genpart(default_events):
    """NanoAOD-like GenPart columns: 2 incoming partons, 1 intermediate, the final state (some neutrinos)."""
    rng = np.random.default_rng(7)
    arr = default_events.subset(slice(0, N_EV)).to_awkward()
    cols = {k: [] for k in ("pt", "eta", "phi", "mass", "pdgId", "status", "statusFlags")}
    for e in range(N_EV):
        n = len(arr[e])
        pt = np.asarray(arr[e].pt, np.float32)
        pdg = rng.choice([211, -211, 22, 130, 2212, 11], n).astype(np.int32)
        pdg[rng.random(n) < 0.08] = rng.choice(NU)  # a few neutrinos among the stable particles
        cols["pt"].append(np.concatenate([[0, 0, 60.0], pt]).astype(np.float32))
        cols["eta"].append(np.concatenate([[23360, -23360, 0.3], np.asarray(arr[e].eta)]).astype(np.float32))
        cols["phi"].append(np.concatenate([[0, 0, 1.0], np.asarray(arr[e].phi)]).astype(np.float32))
        cols["mass"].append(np.concatenate([[0, 0, 125.0], np.asarray(arr[e].mass)]).astype(np.float32))
        cols["pdgId"].append(np.concatenate([[21, 21, 25], pdg]).astype(np.int32))
        cols["status"].append(np.concatenate([[21, 21, 62], np.ones(n)]).astype(np.int32))
        cols["statusFlags"].append(np.full(n + 3, 8192, np.int16))
    return ak.zip({k: ak.Array(v) for k, v in cols.items()})


def _write_nano(path, gp, rntuple=False):
    with uproot.recreate(path) as f:
        if rntuple:
            f.mkrntuple("Events", {f"GenPart_{k}": gp[k] for k in ak.fields(gp)})
        else:
            f.mktree("Events", {"GenPart": gp.type.content}, field_name=lambda o, i: f"{o}_{i}",
                     counter_name=lambda c: f"n{c}")
            f["Events"].extend({"GenPart": gp})
            f.mktree("Runs", {"run": np.int32})
    return path


def _fastjet_reference(p4_records, R):
    """fastjet's jets and constituent indices per event, jets in decreasing pT."""
    fastjet = pytest.importorskip("fastjet")
    cs = fastjet.ClusterSequence(p4_records, fastjet.JetDefinition(fastjet.antikt_algorithm, R))
    jets, cons = cs.inclusive_jets(), cs.constituent_index().to_list()
    out = []
    for e in range(len(p4_records)):
        fp = np.stack([np.asarray(jets[e][c], dtype=np.float64) for c in ("px", "py", "pz", "E")], axis=1)
        order = np.argsort(-(fp[:, 0] ** 2 + fp[:, 1] ** 2), kind="stable")
        out.append((fp[order], [sorted(cons[e][k]) for k in order]))
    return out


def _assert_like_fastjet(events, reference, R, rtol):
    res = J.cluster(events, R)
    jets, labels = res.inclusive_jets(0.0), res.constituents(0.0)[:, 0]
    counts = res.counts
    for e, (fp, fcons) in enumerate(reference):
        ours = jets[e, 0]
        assert len(ours) == len(fp), f"event {e}: {len(ours)} jets, fastjet {len(fp)}"
        np.testing.assert_allclose(ours, fp, rtol=rtol, atol=rtol * np.abs(fp).max(), err_msg=f"event {e}")
        lab = labels[e, : counts[e]]
        assert [np.flatnonzero(lab == j).tolist() for j in range(len(fp))] == fcons, f"event {e}"


def _selected_momenta(gp, dtype=np.float64):
    """The test's own selection (awkward masks) → Momentum4D px/py/pz/E computed by vector in ``dtype``."""
    nu = ak.unflatten(np.isin(np.abs(ak.to_numpy(ak.flatten(gp.pdgId))), NU), ak.num(gp))
    keep = (gp.status == 1) & ~nu
    s = gp[keep]
    v = vector.zip({k: ak.values_astype(s[k], dtype) for k in ("pt", "eta", "phi", "mass")})
    return ak.zip({"px": v.px, "py": v.py, "pz": v.pz, "E": v.E}), ak.num(s)


@pytest.mark.parametrize("rntuple", [False, True], ids=["TTree", "RNTuple"])
def test_nanoaod_genpart_like_fastjet(tmp_path, genpart, rntuple):
    path = _write_nano(tmp_path / "nano.root", genpart, rntuple)
    with pytest.raises(ValueError, match=r"event 0, particle 0 \(pt = 0, eta = 23360.*beam.*status == 1"):
        J.load_events(path)  # the incoming partons: refused, the selection hinted
    ev = J.load_events(path, select=SELECT)
    ref_p4, counts = _selected_momenta(genpart)
    np.testing.assert_array_equal(ev.counts, counts)
    assert ev.meta["selection"] == f"({SELECT})" and ev.meta["branches"]["pt"] == "GenPart_pt"
    _assert_like_fastjet(ev, _fastjet_reference(ref_p4, 0.4), 0.4, rtol=1e-12)


def test_float32_momenta_accepted_to_their_precision(genpart):
    """px/py/pz/E computed in float32 (E short of |p| by rounding) cluster like fastjet; real tachyons are refused."""
    p4, counts = _selected_momenta(genpart, np.float32)
    flat = np.stack([ak.to_numpy(ak.flatten(p4[c])).astype(np.float64) for c in ("px", "py", "pz", "E")], axis=1)
    p = np.linalg.norm(flat[:, :3], axis=1)
    assert np.sum(flat[:, 3] < p * (1 - 1e-7)) > 0  # the float64 tolerance alone would refuse these
    _assert_like_fastjet(p4, _fastjet_reference(p4, 0.4), 0.4, rtol=2e-6)
    padded = np.zeros((len(counts), int(ak.max(counts)), 4), np.float32)  # the same as a padded float32 array
    for e in range(len(counts)):
        padded[e, : counts[e]] = np.stack([ak.to_numpy(p4[e][c]) for c in ("px", "py", "pz", "E")], axis=1)
    assert J.cluster((padded, np.asarray(counts)), 0.4).inclusive_jets().counts.sum() > 0
    bad = padded.copy()
    bad[0, 0, 3] = np.linalg.norm(bad[0, 0, :3].astype(np.float64)) * (1 - 1e-5)  # beyond float32 rounding
    with pytest.raises(ValueError, match="tachyonic"):
        J.cluster((bad, np.asarray(counts)), 0.4)
    with pytest.raises(ValueError, match="tachyonic"):
        J.cluster((bad.astype(np.float64), np.asarray(counts)), 0.4)


def test_delphes_eflow_combined_like_fastjet(tmp_path, default_events):
    rng = np.random.default_rng(3)
    arr = default_events.subset(slice(0, N_EV)).to_awkward()
    groups = {"EFlowTrack": [], "EFlowPhoton": [], "EFlowNeutralHadron": []}
    which = [rng.integers(0, 3, len(arr[e])) for e in range(N_EV)]
    for g, name in enumerate(groups):
        sel = ak.Array([w == g for w in which])
        part = arr[sel]
        if name == "EFlowTrack":
            m = ak.values_astype(ak.ones_like(part.pt) * 0.13957, np.float32)
            rec = {"PT": part.pt, "Eta": part.eta, "Phi": part.phi, "Mass": m,
                   "Charge": ak.values_astype(ak.ones_like(part.pt), np.int32),
                   # a vertex far from any momentum: it must never be read as px/py/pz/E
                   "X": part.pt * 0 + 1e3, "Y": part.pt * 0 - 1e3, "Z": part.pt * 0 + 5e2, "T": part.pt * 0 + 1e-9}
        else:  # towers: massless (ET, Eta, Phi, E) and a time T
            rec = {"ET": part.pt, "Eta": part.eta, "Phi": part.phi, "E": part.pt * np.cosh(part.eta),
                   "T": part.pt * 0 + 1e-9}
        groups[name] = ak.zip({k: ak.values_astype(v, np.int32 if k == "Charge" else np.float32)
                               for k, v in rec.items()})
    path = tmp_path / "delphes.root"
    with uproot.recreate(path) as f:
        f.mktree("Delphes", {k: v.type.content for k, v in groups.items()}, field_name=lambda o, i: f"{o}.{i}",
                 counter_name=lambda c: f"{c}_size")
        f["Delphes"].extend(groups)
    ev = J.load_events(path, branches="EFlow")
    assert ev.meta["branches"]["EFlowTrack"] == {"pt": "EFlowTrack.PT", "eta": "EFlowTrack.Eta",
                                                 "phi": "EFlowTrack.Phi", "mass": "EFlowTrack.Mass"}
    assert ev.meta["branches"]["EFlowPhoton"]["pt"] == "EFlowPhoton.ET"
    parts = []
    for name, g in groups.items():
        cols = {"pt": g.PT if name == "EFlowTrack" else g.ET, "eta": g.Eta, "phi": g.Phi}
        cols["mass" if name == "EFlowTrack" else "E"] = g.Mass if name == "EFlowTrack" else g.E
        v = vector.zip({k: ak.values_astype(c, np.float64) for k, c in cols.items()})
        parts.append(ak.zip({"px": v.px, "py": v.py, "pz": v.pz, "E": v.E}))
    ref = ak.concatenate(parts, axis=1)  # tracks, photons, neutral hadrons: the order read
    np.testing.assert_array_equal(ev.counts, ak.num(ref))
    # towers' float32 E = ET cosh η falls short of |p| by rounding: raised to |p| (≤ 4 float32 ulps), so the jets'
    # four-momenta agree with fastjet's to the input's precision; the constituents exactly
    _assert_like_fastjet(ev, _fastjet_reference(ref, 0.8), 0.8, rtol=5e-7)
    assert J.load_events(path, branches="EFlowTrack+EFlowPhoton+EFlowNeutralHadron").p4.tolist() == ev.p4.tolist()
    hard = J.load_events(path, branches="EFlow", select="pt > 2")
    assert 0 < hard.counts.sum() < ev.counts.sum()
    with pytest.raises(ValueError, match="no column 'Charge'"):
        J.load_events(path, branches="EFlow", select="Charge != 0")


def test_selection_grammar_and_ranges(genpart):
    ok = Selection("status == 1 and abs(pdgId) not in (12, 14, 16) and not (pt < 0.5 or abs(eta) > 2.5)")
    assert ok.names() == {"status", "pdgId", "pt", "eta"}
    for bad in ["__import__('os').system('true')", "pt.real > 1", "pt > 'a'", "[x for x in pt]", "pt[0] > 1",
                "abs(pdgId) in pdgId", "pt > 1 if True else 0", "open('f')", "pt @ eta", "", "status ==", True]:
        with pytest.raises(ValueError):
            Selection(bad)
    for kw in ({"pt_min": -1}, {"abs_eta_max": 0}, {"pt_min": float("nan")}, {"pt_min": 2, "pt_max": 1},
               {"pt_min": "1"}):
        with pytest.raises(ValueError):
            Selection(None, **kw)
    from apps.jets.io.records import to_padded

    p4, counts = to_padded(genpart, select=Selection("Status == 1", pt_min=1.0, abs_eta_max=2.0))
    s = genpart[(genpart.status == 1) & (genpart.pt >= 1.0) & (np.abs(genpart.eta) <= 2.0)]
    np.testing.assert_array_equal(counts, ak.num(s))
    with pytest.raises(ValueError, match="no particle column 'charge'.*pdgId"):
        to_padded(genpart, select="charge != 0")
    with pytest.raises(ValueError, match="is a number, not a condition"):
        to_padded(genpart, select="pdgId")


def test_cli_select_on_nanoaod(tmp_path, genpart, capsys):
    from apps.jets.cli import main

    path = str(_write_nano(tmp_path / "nano.root", genpart))
    args = ["scan", "--events", path, "--r-min", "0.4", "--r-max", "0.4", "--samples", "2"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "event 0, particle 0" in err and "status == 1" in err and len(err.strip().splitlines()) == 1
    assert main(args + ["--select", SELECT, "--particle-pt-min", "0.5", "--particle-abs-eta-max", "2.5"]) == 0
    assert main(args + ["--select", "import os"]) == 2
    assert "--select" in capsys.readouterr().err
