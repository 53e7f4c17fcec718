"""Issue 27's findings, one regression each: real-file inputs, float32, flat losses, tiny momenta, resume, C/A ties,
and the hostile inputs (unwritable outputs, np.float32 R, empty events, garbage .npz, negative pT, coerced counts)."""

import json

import numpy as np
import pytest

pytest.importorskip("numba")
ak = pytest.importorskip("awkward")

import apps.jets as J  # noqa: E402
from apps.jets.cli import main  # noqa: E402

EV = np.array([[[10.0, 0, 1, 12.0], [0, 10.0, -1, 11.0], [3, 3, 3, 6.0], [-8, -2, 0.5, 8.5]]])


def _one_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_genpart_beam_partons_refused_naming_the_event_and_the_selection():
    gp = ak.Array([[{"pt": 0.0, "eta": 23360.0, "phi": 0.0, "mass": 0.0, "status": 21},
                    {"pt": 12.0, "eta": 0.4, "phi": 1.0, "mass": 0.1, "status": 1}]] * 2)
    with pytest.raises(ValueError, match=r"event 0, particle 0 \(pt = 0, eta = 23360, status = 21\).*status == 1"):
        J.io.from_awkward(gp)
    assert J.io.to_padded(gp, select="status == 1")[1].tolist() == [1, 1]


def test_float32_cartesian_momenta_are_accepted_to_their_precision():
    v = np.array([[3.0, 4.0, 12.0]], np.float32)
    p = np.float32(np.sqrt(np.sum(v.astype(np.float64) ** 2)))
    short = np.nextafter(np.nextafter(p, np.float32(0)), np.float32(0))  # 2 float32 ulps below |p|
    p4 = np.concatenate([v, [[short]]], axis=1)[None].astype(np.float32)
    res = J.cluster((p4, np.array([1])), 0.4)  # the float64 tolerance alone refused this
    assert res.inclusive_jets().counts.tolist() == [[1]]
    far = p4.copy()
    far[0, 0, 3] = p * np.float32(1 - 1e-5)
    with pytest.raises(ValueError, match="tachyonic"):
        J.cluster((far, np.array([1])), 0.4)


def test_flat_loss_is_an_error_naming_the_target(capsys):
    assert main(["scan", "--n-events", "5", "--samples", "2", "--r-min", "0.4", "--r-max", "0.4",
                 "--target-mass", "5000"]) == 2
    assert "no gradient signal" in _one_line(capsys)


@pytest.mark.parametrize("scale", [1e-150, 1e-300])
def test_tiny_momenta_are_refused_not_silently_changed(scale):
    with pytest.raises(ValueError, match=r"event 0, particle 0: pT² = .* below 1e-290"):
        J.cluster(EV * scale, 0.4)
    with pytest.raises(ValueError, match="event 0, particle 0"):
        J.cluster(EV * scale, 0.4, alpha=1.0, n_samples=2, seed=0)
    same = J.cluster(EV * 1e-140, 0.4, alpha=1.0, n_samples=4, seed=3)  # small but normal: the same histories
    assert np.array_equal(same.history, J.cluster(EV, 0.4, alpha=1.0, n_samples=4, seed=3).history)


def test_resume_never_shortens_or_replaces_and_names_the_file(tmp_path, capsys):
    from apps.jets.study import distributed as jd

    ck = tmp_path / "ck.json"
    src = jd.EventSource.open("default", 5, 10)
    jd.optimize(src, None, r0=0.6, steps=3, samples=2, seed=1, checkpoint=str(ck), run_info={"x": 1})
    base = ["optimize", "--resume", "--n-events", "10", "--samples", "2", "--json", str(ck), "--quiet"]
    state = json.loads(ck.read_text())
    assert main(base + ["--steps", "2"]) == 2  # 3 steps recorded: continuing with 2 would shorten the run
    assert "already has 3 completed steps, more than --steps 2" in _one_line(capsys)
    ck.write_text(json.dumps(dict(state, finished=True)))
    assert main(base + ["--steps", "3"]) == 2
    assert f"{ck} holds a finished run" in _one_line(capsys)
    for text, msg in [("{not json", "is not valid JSON"), ('{"theta": 1}', "is not an `optimize --scheduler` checkpoint"),
                      ('{"run": {}, "history": [{"step": 0}]}', "step record 0 lacks theta")]:
        ck.write_text(text)
        assert main(base + ["--steps", "3"]) == 2
        err = _one_line(capsys)
        assert str(ck) in err and msg in err and "KeyError" not in err


def test_cambridge_ties_are_documented_or_identical():
    """C/A: beam distances are all 1, so FastJet's order of the tied beam steps differs from ours (documented)."""
    import pathlib

    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    jets_md = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "jets.md").read_text()
    assert "Where Cambridge/Aachen differs from FastJet" in jets_md
    assert "Cambridge/Aachen identical" not in readme and "Cambridge/Aachen (identical" not in readme
    assert readme.count("tied") >= 2  # both README mentions of C/A say where it differs


def test_hostile_inputs(tmp_path, capsys):
    assert main(["scan", "--n-events", "2", "--json", "/proc/r.json"]) == 2
    assert "cannot write into folder '/proc'" in _one_line(capsys)
    jd = J.JetDefinition(J.antikt_algorithm, np.float32(0.4))
    assert jd.R() == pytest.approx(0.4) and isinstance(jd.R(), float)
    for bad in ("0.4", 0.4j, True, float("nan"), -1.0):
        with pytest.raises(ValueError):
            J.JetDefinition(J.antikt_algorithm, bad)
    empty = J.load_default_events().subset(slice(0, 2)).to_awkward()[:, :0]
    cs = J.ClusterSequence(empty, J.JetDefinition(J.antikt_algorithm, 0.4))
    assert cs.exclusive_dmerge(1).tolist() == [0.0, 0.0] and cs.exclusive_dmerge_max(0).tolist() == [0.0, 0.0]
    garbage = tmp_path / "g.npz"
    garbage.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(ValueError, match="not an .npz archive") as exc:
        J.load_events(garbage)
    assert "pickled" not in str(exc.value)
    with pytest.raises(ValueError, match=r"pt = -5 < 0"):
        J.io.to_padded(ak.Array([[{"pt": -5.0, "eta": 0.1, "phi": 0.2, "mass": 0.0}]]))
    for counts in ([2.5], ["2"], [True], [1 + 1j]):
        with pytest.raises(ValueError, match="counts must be integers"):
            J.Events(np.zeros((1, 3, 4)), counts)
        with pytest.raises(ValueError, match="counts must be integers"):
            J.cluster((np.ones((1, 3, 4)), np.array(counts)), 0.4)
    assert J.Events(np.zeros((1, 3, 4)), [2.0]).counts.tolist() == [2]
    for args in (["--partition-events", "0"], ["--seed", "-1"], ["--samples", "2.5"], ["--n-events", "x"]):
        assert main(["optimize", "--json", str(tmp_path / "o.json")] + args) == 2
        _one_line(capsys)
