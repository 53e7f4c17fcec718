import numpy as np

from apps.reactions.cli import main
from apps.reactions.fit import fit_telegraph


def test_short_fit_moves_towards_truth():
    res = fit_telegraph(steps=40, n=1500, n_cells=5000, lr=0.08, seed=1)
    start_err = np.abs(np.log(res.start[:3] / res.true[:3]))
    end_err = np.abs(np.log(res.history[-1, :3] / res.true[:3]))
    assert np.all(end_err < start_err)
    assert np.all(end_err < 0.35), res.history[-1]
    assert res.recovered[3] == res.true[3]  # gamma fixed


def test_cli_simulate_and_errors(capsys):
    assert main(["simulate", "--n", "2000", "--T", "2"]) == 0
    out = capsys.readouterr().out
    assert "reactions/s" in out and "X: mean" in out
    assert main(["simulate", "--theta", "1", "-1"]) == 2
    assert "must be finite and >= 0" in capsys.readouterr().err


def test_cli_check_small(capsys):
    assert main(["check", "--n", "20000", "--n-traced", "0", "--n-telegraph", "5000"]) == 0
    out = capsys.readouterr().out
    assert "| immigration-death | vectorised | stoch. derivative | g |" in out
