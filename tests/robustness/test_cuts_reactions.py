"""Cuts and reactions: saturated sharpness, runaway simulations, docs/ never written by default (issue 17)."""

import os
import warnings

import numpy as np
import pytest

import stochgrad as sg
from apps.cuts import CutSpec, Events, SharpnessWarning, stochastic_cut
from apps.cuts.cli import main as cuts_main
from apps.reactions import immigration_death_network, simulate
from apps.reactions.cli import build_parser as reactions_parser
from apps.reactions.cli import main as reactions_main


def _events(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return Events(rng.normal(size=(n, 2)), np.arange(n) % 4 == 0, rng.uniform(0.5, 2.0, n))


SPEC = CutSpec([(0, ">"), (1, "<")])
THETA = np.array([0.1, 0.4])


@pytest.mark.parametrize("est", [sg.StochasticDerivative(), sg.ScoreFunction(), sg.GumbelSTE()])
def test_saturating_sharpness_warns_and_gives_no_spurious_gradient(est):
    # issue: stochastic_cut(..., 1e-25) gave −6196 ± 0 (and up to 1e12) where the objective is flat
    prog = stochastic_cut(_events(), SPEC, 1e-25)
    with pytest.warns(SharpnessWarning, match="saturates every event"):
        e = sg.value_and_grad(prog, est, n=16, seed=0)(THETA)
    np.testing.assert_array_equal(e.grad, 0.0)


def test_partly_saturated_events_have_zero_derivative_only_where_clipped():
    ev = _events()
    a = sg.value_and_grad(stochastic_cut(ev, SPEC, 0.05), sg.StochasticDerivative(), n=64, seed=1)(THETA)
    assert np.all(np.isfinite(a.grad)) and np.any(a.grad != 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SharpnessWarning)  # not every event saturates at s = 0.05
        sg.value_and_grad(stochastic_cut(ev, SPEC, 0.05), sg.ScoreFunction(), n=16, seed=1)(THETA)


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


def test_cuts_cli_bad_seed_and_out(capsys, tmp_path):
    assert cuts_main(["demo", "--seed", "-1"]) == 2  # issue: a traceback
    assert "--seed" in _one_error_line(capsys)
    f = tmp_path / "file.txt"
    f.write_text("keep")
    assert cuts_main(["demo", "--out", str(f)]) == 2  # issue: --out pointing at a file
    assert "not a folder" in _one_error_line(capsys)
    assert f.read_text() == "keep"


def test_cuts_cli_does_not_overwrite_without_force(capsys, tmp_path):
    (tmp_path / "cuts_problem_a.json").write_text("{}")
    assert cuts_main(["demo", "--out", str(tmp_path), "--steps", "1"]) == 2
    assert "--force" in _one_error_line(capsys)
    assert (tmp_path / "cuts_problem_a.json").read_text() == "{}"
    assert not (tmp_path / "cuts_problem_a.png").exists()


@pytest.mark.parametrize("T", ["1e9", "1e5"])
def test_reactions_long_T_refused_up_front(capsys, T):
    # issue: --T 1e9 never returned; --T 1e5 ended in a traceback advising a max_steps the CLI lacked
    assert reactions_main(["simulate", "--T", T, "--n", "100"]) == 2
    assert "--max-steps" in _one_error_line(capsys)


def test_reactions_time_limit(capsys):
    with pytest.raises(RuntimeError, match="time limit"):
        simulate(immigration_death_network(), [10.0, 0.5], {"X": 0}, 5e4, 50, 0, time_limit=0.2)
    assert reactions_main(["simulate", "--T", "5e4", "--n", "50", "--time-limit", "0.2"]) == 2
    assert "--time-limit" in _one_error_line(capsys)
    with pytest.raises(ValueError, match="max_steps"):
        simulate(immigration_death_network(), [10.0, 0.5], {"X": 0}, 2.0, 10, 0, max_steps=0)


def test_reactions_plots_never_default_to_docs(capsys, tmp_path):
    # issue: `stochgrad-reactions plots` wrote into docs/img of the cwd, replacing files
    args = reactions_parser().parse_args(["plots"])
    assert "docs" not in os.path.normpath(args.out).split(os.sep)
    fig = tmp_path / "reactions_fit.png"
    fig.write_bytes(b"old figure")
    assert reactions_main(["plots", "--out", str(tmp_path), "--quick"]) == 2
    assert "--force" in _one_error_line(capsys)
    assert fig.read_bytes() == b"old figure"
    assert not (tmp_path / "reactions_immigration_death.png").exists()


@pytest.mark.parametrize("argv", [["simulate", "--theta", "1"], ["simulate", "--T", "nan"], ["simulate", "--T", "-1"],
                                  ["simulate", "--n", "0"], ["fit", "--estimator", "nope"], ["nope"],
                                  ["simulate", "--theta", "1", "-1"]])
def test_reactions_bad_arguments_one_line(capsys, argv):
    assert reactions_main(argv) == 2
    _one_error_line(capsys)
