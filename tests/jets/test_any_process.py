"""Any process: the target mass and label reach the loss, the JSON and the plots; a flat loss is refused."""

import json
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

import apps.jets as J  # noqa: E402
from apps.jets.cli import main  # noqa: E402
from apps.jets.study import optimize as opt  # noqa: E402


def test_target_reaches_the_loss(default_events):
    ev = default_events.subset(slice(0, 30))
    mjj, _ = J.sample_mjj_and_score(ev.p4, ev.counts, 0.8, 1.0, 4, 1)
    for target in (91.19, 125.0):
        want = opt.event_loss(mjj, "window", target=target, width=15.0).mean()
        got = opt.scan(ev, [0.8], samples=4, seed=1, target=target)[0]["loss"]
        assert got == pytest.approx(want, rel=1e-12)
    assert opt.scan(ev, [0.8], samples=4, seed=1, target=91.19)[0]["loss"] != opt.scan(ev, [0.8], samples=4,
                                                                                       seed=1)[0]["loss"]


def test_flat_loss_warns_in_python_and_is_refused_on_the_command_line(default_events, tmp_path, capsys):
    ev = default_events.subset(slice(0, 10))
    assert opt.signal_reach(ev, 1e4, 15.0) == 0.0 and opt.signal_reach(ev, 125.0, 15.0) > 0.5
    with pytest.warns(RuntimeWarning, match="no gradient signal.*10000"):
        res = opt.optimize_global(ev, steps=2, samples=2, target=1e4)
    assert res.R_tail == pytest.approx(0.4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.optimize_global(ev, steps=2, samples=2)  # a live target: no warning
    js = tmp_path / "o.json"
    for cmd in (["optimize", "--steps", "2", "--seeds", "2", "--json", str(js), "--quiet"],
                ["scan", "--r-min", "0.4", "--r-max", "0.4"]):
        assert main(cmd + ["--n-events", "10", "--samples", "2", "--target-mass", "10000"]) == 2
        err = capsys.readouterr().err
        assert "no gradient signal" in err and "--target-mass 10000" in err
    assert not js.exists()


def test_label_and_target_in_json_and_title(default_events, tmp_path, capsys):
    js = tmp_path / "z.json"
    assert main(["optimize", "--n-events", "12", "--steps", "2", "--seeds", "2", "--samples", "2", "--quiet",
                 "--target-mass", "91.19", "--label", "Z→bb̄ test", "--json", str(js)]) == 0
    out = json.loads(js.read_text())
    assert out["run"]["label"] == "Z→bb̄ test" and out["run"]["target_mass"] == 91.19
    assert "Z→bb̄ test, target 91.19 GeV: R* = " in capsys.readouterr().out
    # the label from the file's metadata (the generator's process) when none is given
    ev = default_events.subset(slice(0, 12))
    ev.meta = dict(ev.meta, process="zbb")
    path = tmp_path / "zbb.npz"
    J.save_events(ev, path)
    js2 = tmp_path / "s.json"
    assert main(["scan", "--events", str(path), "--samples", "2", "--r-min", "0.4", "--r-max", "0.4",
                 "--target-mass", "91.19", "--json", str(js2)]) == 0
    assert json.loads(js2.read_text())["run"]["label"] == "Pythia 8 qq̄ → Z/γ* → bb̄, √s = 13 TeV"
    assert "qq̄ → Z/γ* → bb̄" in capsys.readouterr().out


def test_plot_titles_say_the_label(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from apps.jets.plots import mjj

    titles = []
    real = mjj.exp_label
    monkeypatch.setattr(mjj, "exp_label", lambda ax, label=None: (titles.append(label), real(ax, label)))
    mjj.scan_figure([{"R": 0.4, "loss": 0.5, "stderr": 0.1}, {"R": 0.6, "loss": 0.4, "stderr": 0.1}],
                    tmp_path / "s.png", label="Z→bb̄", target=91.19)
    assert titles == ["Z→bb̄"] and (tmp_path / "s.png").exists()


def test_runs_figure_title_is_the_label_not_the_start(tmp_path, monkeypatch):
    """The R-history figure's loop variable shadowed ``label``: its title read 'R0 = 0.4' instead of the process."""
    pytest.importorskip("matplotlib")
    from apps.jets.plots import radius

    titles = []
    real = radius.exp_label
    monkeypatch.setattr(radius, "exp_label", lambda ax, label=None: (titles.append(label), real(ax, label)))
    summary = {"R": 0.8, "R_stderr": 0.01, "tail_steps": 2,
               "runs": [{"R_history": [0.4, 0.6, 0.8, 0.8], "loss_history": [0.8, 0.7, 0.7, 0.7]}] * 2}
    radius.runs_figure([("R0 = 0.4", summary)], tmp_path / "r.png", label="Z→bb̄", target=91.19)
    assert titles == ["Z→bb̄"] and (tmp_path / "r.png").exists()
