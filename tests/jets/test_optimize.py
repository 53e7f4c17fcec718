"""R optimisation: losses, gradients against exact enumeration, optimisers and the CLI."""

import json

import numpy as np
import pytest

pytest.importorskip("numba")

import stochgrad as sg  # noqa: E402
from apps.jets import Events, exact_histories  # noqa: E402
from apps.jets.study import optimize as opt  # noqa: E402
from apps.jets.cli import main  # noqa: E402

from .conftest import make_event  # noqa: E402


def test_losses_keep_events_without_two_jets():
    m = np.array([125.0, 140.0, np.nan])
    w = opt.event_loss(m, "window")
    assert w[0] == 0 and 0 < w[1] < 1 and w[2] == 1
    assert np.array_equal(opt.event_loss(m, "mse"), [0.0, 225.0, 125.0**2])
    with pytest.raises(ValueError, match="unknown loss"):
        opt.event_loss(m, "mae")


def _small_event(seed=3, n=5):
    rng = np.random.default_rng(seed)
    p4 = make_event(rng.uniform(20, 90, n), rng.uniform(-1.0, 1.0, n), rng.uniform(0, 2.5, n))
    return Events(p4[None], np.array([n]))


@pytest.mark.parametrize("loss", ["window", "mse"])
def test_per_event_gradient_agrees_with_exact_enumeration(loss):
    ev, R, alpha = _small_event(), 0.9, 1.0

    def expected(r):
        probs, mjj = exact_histories(ev.p4[0], r, alpha, ptmin=0.0)
        return float(np.sum(probs * opt.event_loss(mjj, loss, width=40.0)))

    h = 1e-5
    exact = (expected(R * np.exp(h)) - expected(R * np.exp(-h))) / (2 * h)
    v, g, se = opt.per_event_estimate(ev, [np.log(R)], sg.ScoreFunction(), loss, alpha, 40_000, 1,
                                      ptmin=0.0, width=40.0)
    assert v[0] == pytest.approx(expected(R), abs=5 * np.sqrt(v[0] * 1e-4 + 1e-12) + 0.02 * abs(v[0]))
    assert abs(g[0] - exact) < 4 * se[0], (g[0], exact, se[0])
    # the global batched program gives the same derivative through the core
    prog = opt.global_program(ev, loss, alpha, 40_000, ptmin=0.0, width=40.0)
    e = sg.value_and_grad(prog, sg.ScoreFunction(), n=prog.n_per_call, seed=1)(np.log(R))
    assert abs(e.grad - exact) < 4 * e.grad_stderr


def test_optimisers_run_and_record(default_events):
    ev = default_events.subset(slice(0, 30))
    res = opt.optimize_global(ev, r0=0.5, steps=3, samples=4, seed=0)
    assert len(res.history) == 3 and res.theta == pytest.approx(np.log(res.history[-1]["R"]), abs=0.2)
    assert all(np.isfinite(h["grad"]) for h in res.history)
    fd = opt.optimize_global(ev, r0=0.5, steps=2, samples=4, estimator=sg.FiniteDifference(0.05))
    assert len(fd.history) == 2
    per = opt.optimize_per_event(ev, r0=0.5, steps=2, samples=4)
    assert per.theta.shape == (30,)


def test_bad_settings_are_refused(default_events):
    ev = default_events.subset(slice(0, 5))
    with pytest.raises(ValueError, match="α > 0"):
        opt.global_program(ev, alpha=None)
    with pytest.raises(ValueError, match="at least 2 samples"):
        opt.global_program(ev, samples=1)
    with pytest.raises(ValueError, match="r0 must be a positive"):
        opt.optimize_global(ev, r0=-1.0, steps=1)
    with pytest.raises(ValueError, match="not available for the jets engine"):
        opt.per_event_estimate(ev, np.zeros(5), sg.GumbelSTE(0.5))
    prog = opt.global_program(ev, samples=2)
    with pytest.raises(ValueError, match="GS-STE is not available"):
        sg.value_and_grad(prog, sg.GumbelSTE(0.5), n=prog.n_per_call, seed=0)(0.0)
    with pytest.raises(ValueError, match="n_alternatives must be an integer >= 1"):
        import apps.jets as J
        J.sample_mjj_and_alternatives(ev.p4, ev.counts, 0.8, 1.0, 2, 0, n_alternatives=0)
    with pytest.raises(ValueError, match="finite α > 0"):
        J.sample_mjj_and_alternatives(ev.p4, ev.counts, 0.8, None, 2, 0)


def test_stochastic_derivative_agrees_with_score_function_on_real_events(default_events):
    """Global program: SD and SF estimate the same d E[loss]/d log R; per-event and global forms agree."""
    ev = default_events.subset(slice(0, 40))
    prog = opt.global_program(ev, samples=16)
    sd = sg.value_and_grad(prog, sg.StochasticDerivative(2), n=prog.n_per_call, seed=1)(np.log(0.8))
    sf = sg.value_and_grad(prog, sg.ScoreFunction("leave_one_out"), n=prog.n_per_call, seed=2)(np.log(0.8))
    z = (sd.grad - sf.grad) / np.hypot(sd.grad_stderr, sf.grad_stderr)
    assert abs(z) < 4, (sd.grad, sd.grad_stderr, sf.grad, sf.grad_stderr)
    assert sd.info["control_variates"] == "cross-fitted (2 folds)"  # the program returns its score
    # per event there are too few histories for control variates: the same sum without them
    plain = sg.value_and_grad(prog, sg.StochasticDerivative(2, control_variates=False), n=prog.n_per_call,
                              seed=1)(np.log(0.8))
    v, g, se = opt.per_event_estimate(ev, np.full(40, np.log(0.8)), sg.StochasticDerivative(2), samples=16, seed=1)
    assert g.mean() == pytest.approx(float(plain.grad), rel=1e-9)


def test_cli_optimize_scan_compare_widths(tmp_path, capsys):
    out = tmp_path / "opt.json"
    assert main(["optimize", "--n-events", "20", "--seeds", "2", "--steps", "2", "--samples", "4", "--json", str(out),
                 "--quiet"]) == 0
    d = json.loads(out.read_text())
    assert d["R"] > 0 and len(d["loss_history"]) == 2 and d["settings"]["steps"] == 2
    assert (tmp_path / "opt.png").exists()
    per = tmp_path / "per.json"
    assert main(["optimize", "--per-event", "--n-events", "20", "--steps", "2", "--samples", "4",
                 "--json", str(per), "--quiet"]) == 0
    assert len(json.loads(per.read_text())["R"]) == 20 and json.loads(per.read_text())["upper_bound"] is True
    assert main(["scan", "--n-events", "20", "--samples", "4", "--r-min", "0.4", "--r-max", "0.8",
                 "--r-step", "0.2", "--json", str(tmp_path / "scan.json")]) == 0
    assert "minimum at R" in capsys.readouterr().out
    assert main(["compare-estimators", "--event", "1", "--n", "10", "100", "--estimators", "score,fd"]) == 0
    assert "dL/dlogR" in capsys.readouterr().out
    assert main(["widths", "--n-events", "20", "--global-json", str(out), "--per-event-json", str(per),
                 "--png", str(tmp_path / "w.png")]) == 0
    assert "per-event R fitted on its own loss (upper bound" in capsys.readouterr().out
    assert (tmp_path / "w.png").exists()
