"""Every input kind and coordinate system against the (px, py, pz, E) form of the same events.

Coordinate systems: px/py/pz/E, x/y/z/t, pt/eta/phi/mass, pt/eta/phi/E, pt/rapidity/phi/mass,
as plain ``ak.zip`` records, ``vector.zip`` arrays and arrays named ``Momentum4D`` after
``vector.register_awkward()``; nested under a field; NumPy padded arrays; .npz, Parquet
and ROOT files (uproot), with default and given branch names; the CLI's ``generate -o x.root``.
"""

import numpy as np
import pytest

pytest.importorskip("numba")
ak = pytest.importorskip("awkward")
vector = pytest.importorskip("vector")
import apps.jets as J  # noqa: E402
from apps.jets.io.events import as_padded  # noqa: E402


@pytest.fixture(scope="module")
def sub(default_events):
    return default_events.subset(slice(0, 12))


def _coords(a, system):
    """Plain {field: array} dict of the events ``a`` (px/py/pz/E records) in ``system``."""
    v = vector.zip({"px": a.px, "py": a.py, "pz": a.pz, "E": a.E})
    plain = {k: ak.Array(getattr(v, k), behavior={}) for k in ("px", "py", "pz", "E", "pt", "eta", "phi", "mass", "rapidity")}
    return {
        "px_py_pz_E": {k: plain[k] for k in ("px", "py", "pz", "E")},
        "x_y_z_t": {"x": plain["px"], "y": plain["py"], "z": plain["pz"], "t": plain["E"]},
        "pt_eta_phi_mass": {k: plain[k] for k in ("pt", "eta", "phi", "mass")},
        "pt_eta_phi_E": {k: plain[k] for k in ("pt", "eta", "phi", "E")},
        "pt_rapidity_phi_mass": {k: plain[k] for k in ("pt", "rapidity", "phi", "mass")},
    }[system]


SYSTEMS = ["px_py_pz_E", "x_y_z_t", "pt_eta_phi_mass", "pt_eta_phi_E", "pt_rapidity_phi_mass"]
KINDS = ["ak.zip", "vector.zip", "registered Momentum4D", "nested field"]


def _check_same(p4, counts, sub, exact):
    np.testing.assert_array_equal(counts, sub.counts)
    if exact:
        np.testing.assert_array_equal(p4, sub.p4)
    else:  # a trip through angles: a few ulp of each component's scale (E)
        np.testing.assert_allclose(p4, sub.p4, rtol=0, atol=1e-12 * np.abs(sub.p4[..., 3:]).max() + 1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("system", SYSTEMS)
def test_coordinate_system_roundtrip(sub, system, kind):
    cols = _coords(sub.to_awkward(), system)
    if kind == "ak.zip":
        arr = ak.zip(cols)
    elif kind == "vector.zip":
        if system == "pt_rapidity_phi_mass":
            pytest.skip("vector has no rapidity coordinate (records with a rapidity field are read by apps.jets.io)")
        arr = vector.zip(cols)
        assert type(arr).__module__ == "vector.backends.awkward"  # a real vector array
    elif kind == "registered Momentum4D":
        if system == "pt_rapidity_phi_mass":
            pytest.skip("vector has no rapidity coordinate")
        vector.register_awkward()
        arr = ak.zip(cols, with_name="Momentum4D")
        assert type(arr).__module__ == "vector.backends.awkward"  # a real vector array
    else:
        arr = ak.zip({"PFCands": ak.zip(cols), "run": np.arange(len(sub))}, depth_limit=1)
    p4, counts = as_padded(arr)
    _check_same(p4, counts, sub, exact=system in ("px_py_pz_E", "x_y_z_t"))
    # and the clustering agrees (the same jets up to rounding)
    np.testing.assert_allclose(J.cluster(arr, 0.8).mjj(), J.cluster(sub, 0.8).mjj(), rtol=1e-9)


def test_extra_fields_and_other_spellings(sub):
    a = sub.to_awkward()
    tol = 1e-12 * np.abs(sub.p4[..., 3]).max()
    # NanoAOD-like records carry more than the momentum (charge, vertex z, ...): ignored
    r = ak.zip({"pt": a.pt, "eta": a.eta, "phi": a.phi, "mass": a.mass, "z": a.pt * 0 + 3.0, "charge": a.pt * 0})
    np.testing.assert_allclose(as_padded(r)[0], sub.p4, rtol=0, atol=tol)
    r = ak.zip({"x": a.pt * 0, "px": a.px, "py": a.py, "pz": a.pz, "E": a.E})  # px beats the alias x
    np.testing.assert_array_equal(as_padded(r)[0], sub.p4)
    # Delphes-like capitalisation; (PT, Eta, Phi) alone are massless particles
    r = ak.zip({"PT": a.pt, "Eta": a.eta, "Phi": a.phi, "M": a.mass})
    np.testing.assert_allclose(as_padded(r)[0], sub.p4, rtol=0, atol=tol)
    p4 = as_padded(ak.zip({"PT": a.pt, "Eta": a.eta, "Phi": a.phi}))[0]
    mask = np.arange(p4.shape[1]) < sub.counts[:, None]
    np.testing.assert_allclose(p4[..., :3], sub.p4[..., :3], rtol=0, atol=tol)
    np.testing.assert_allclose(p4[mask][:, 3], np.linalg.norm(sub.p4[mask][:, :3], axis=1), rtol=1e-12)


def test_nesting_field_choice_and_errors(sub):
    a = sub.to_awkward(with_name=None)
    two = ak.zip({"PFCands": a, "GenCands": a, "n": ak.num(a)}, depth_limit=1)
    np.testing.assert_array_equal(as_padded(two)[0], sub.p4)  # PFCands is preferred
    np.testing.assert_array_equal(as_padded(two, field="GenCands")[0], sub.p4)
    amb = ak.zip({"A": a, "B": a}, depth_limit=1)
    with pytest.raises(ValueError, match="field="):
        as_padded(amb)
    with pytest.raises(ValueError, match="cannot read four-momenta"):
        as_padded(ak.zip({"foo": a.px, "bar": a.py, "baz": a.pz, "qux": a.E}))
    with pytest.raises(ValueError, match="events \\* var"):
        as_padded(ak.Array([[[r] for r in ev] for ev in ak.to_list(a[:2])]))
    # one event (var * record) is one event
    p4, counts = as_padded(a[3])
    np.testing.assert_array_equal(p4[0], sub.p4[3, : sub.counts[3]])


def test_numpy_inputs_and_feedback(sub):
    np.testing.assert_array_equal(as_padded((sub.p4, sub.counts))[0], sub.p4)
    one = sub.p4[2, : sub.counts[2]]
    assert as_padded(one)[0].shape == (1, len(one), 4)
    assert as_padded(sub.p4)[1].tolist() == [sub.p4.shape[1]] * len(sub)
    out = sub.to_awkward()  # Momentum4D with vector behaviour, and a valid input again
    assert isinstance(out, vector.backends.awkward.MomentumArray4D) and ak.all(out.pt > 0)
    np.testing.assert_array_equal(as_padded(out)[0], sub.p4)
    jets = J.cluster(out, 0.4).inclusive_jets(5.0)  # ClusterResult jets' to_awkward() (events * 1 * var) fed back in
    p4, counts = as_padded(jets.to_awkward())
    np.testing.assert_array_equal(counts, jets.counts[:, 0])
    np.testing.assert_array_equal(p4, jets.p4[:, 0, : p4.shape[1]])
    assert J.cluster(jets.to_awkward(), 1.0).inclusive_jets().counts.shape == (len(sub), 1)


@pytest.mark.parametrize("ext", ["npz", "parquet", "root"])
def test_file_roundtrip(tmp_path, sub, ext):
    if ext == "parquet":
        pytest.importorskip("pyarrow")
    if ext == "root":
        pytest.importorskip("uproot")
    path = tmp_path / f"ev.{ext}"
    J.save_events(sub, path)
    back = J.load_events(path)
    np.testing.assert_array_equal(back.p4, sub.p4)
    np.testing.assert_array_equal(back.counts, sub.counts)
    np.testing.assert_array_equal(back.bquarks, sub.bquarks)
    assert [p.name for p in tmp_path.iterdir()] == [f"ev.{ext}"]  # no temporary left behind


def test_root_nanoaod_and_delphes_names(tmp_path, sub):
    uproot = pytest.importorskip("uproot")
    cols = _coords(sub.to_awkward(), "pt_eta_phi_mass")
    recs = ak.zip({k: ak.values_astype(v, np.float32) for k, v in cols.items()})
    nano = tmp_path / "nano.root"
    with uproot.recreate(nano) as f:  # NanoAOD's layout: nPFCands, PFCands_pt/eta/phi/mass (float32), other collections
        f.mktree("Events", {"PFCands": recs.type.content, "Jet": recs.type.content},
                 field_name=lambda o, i: f"{o}_{i}", counter_name=lambda c: f"n{c}")
        f["Events"].extend({"PFCands": recs, "Jet": recs[:, :2]})
        f.mktree("Runs", {"run": np.int32})
    ev = J.load_events(nano)
    np.testing.assert_array_equal(ev.counts, sub.counts)
    np.testing.assert_allclose(ev.p4, sub.p4, rtol=0, atol=2e-6 * np.abs(sub.p4).max())  # float32 storage
    assert ev.meta["branches"] == {"pt": "PFCands_pt", "eta": "PFCands_eta", "phi": "PFCands_phi",
                                   "mass": "PFCands_mass"}
    jets = J.load_events(nano, tree="Events", branches="pt=Jet_pt,eta=Jet_eta,phi=Jet_phi,mass=Jet_mass")
    assert jets.counts.tolist() == [2] * len(sub)
    assert J.load_events(nano, branches="Jet").counts.tolist() == [2] * len(sub)
    with pytest.raises(ValueError, match="not in the tree"):
        J.load_events(nano, branches="pt=PF_pt,eta=PFCands_eta,phi=PFCands_phi,mass=PFCands_mass")
    with pytest.raises(ValueError, match="no TTree or RNTuple 'Delphes'"):
        J.load_events(nano, tree="Delphes")
    # Delphes-like: Particle.PT/Eta/Phi/M with a Status branch (only Status == 1 kept)
    delphes = tmp_path / "delphes.root"
    status = ak.values_astype(ak.ones_like(cols["pt"]), np.int32)
    dup = ak.concatenate([recs, recs[:, :3]], axis=1)
    st = ak.concatenate([status, status[:, :3] * 2], axis=1)
    with uproot.recreate(delphes) as f:
        f.mktree("Delphes", {"Particle": ak.zip({"PT": dup.pt, "Eta": dup.eta, "Phi": dup.phi, "M": dup.mass,
                                                   "Status": st}).type.content},
                 field_name=lambda o, i: f"{o}.{i}", counter_name=lambda c: f"{c}_size")
        f["Delphes"].extend({"Particle": ak.zip({"PT": dup.pt, "Eta": dup.eta, "Phi": dup.phi, "M": dup.mass,
                                                 "Status": st})})
    ev = J.load_events(delphes)
    np.testing.assert_array_equal(ev.counts, sub.counts)
    np.testing.assert_allclose(ev.p4, sub.p4, rtol=0, atol=2e-6 * np.abs(sub.p4).max())


def test_cli_generate_root_and_read_back(tmp_path):
    pytest.importorskip("pythia8mc")
    pytest.importorskip("uproot")
    from apps.jets.cli import main

    out = tmp_path / "x.root"
    assert main(["generate", "-n", "3", "--seed", "5", "-o", str(out), "--quiet"]) == 0
    ev = J.load_events(out)
    assert len(ev) == 3 and ev.bquarks.shape == (3, 2, 4) and ev.meta["seed"] == 5
    import uproot

    with uproot.open(out) as f:
        assert {"nParticle", "Particle_px", "Particle_E"} <= set(f["Events"].keys())
    # the CLI reads it (and refuses ROOT options on other files)
    assert main(["scan", "--events", str(out), "--r-min", "0.4", "--r-max", "0.4", "--samples", "2"]) == 0
    npz = tmp_path / "x.npz"
    J.save_events(ev, npz)
    assert main(["scan", "--events", str(npz), "--tree", "Events", "--r-min", "0.4", "--r-max", "0.4"]) == 2
