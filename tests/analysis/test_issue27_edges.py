"""The analysis's edges found by hostile inputs (issue 27): refused with the rule, never moved or NaN."""

import dataclasses

import numpy as np
import pytest

from apps.analysis.optimize import BOUNDS, optimize_analysis
from apps.analysis.program import _expansion, joint_program
from apps.analysis.samples import load_samples
from apps.analysis.significance import asimov_significance


@pytest.fixture(scope="module")
def sample():
    return load_samples(max_events=40)


@pytest.mark.parametrize("start", [(0.1, 90, 150, 30), (0.4, 70, 150, 30), (0.4, 90, 170, 30),
                                   (0.4, 90, 150, 10), (0.4, 150, 151, 30)])
def test_start_outside_the_box_is_refused_naming_the_box(sample, start):
    """A start outside the grid box was moved into it without a word; now it is refused with the box."""
    with pytest.raises(ValueError, match=r"outside the box: R in \[0.2, 1.6\]"):
        optimize_analysis(sample, start, steps=2, progress=False)


def test_cli_start_outside_the_box_is_one_line_exit_2(capsys):
    from apps.analysis.cli import main

    assert main(["optimize", "--start", "0.4,60,150,30", "--steps", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "outside the box" in err[0]


@pytest.mark.parametrize("which", ["signal", "background"])
def test_weight_totals_must_be_positive(sample, which):
    """Single negative weights (as NLO generators make) are valid; a total that is not positive is not."""
    w = sample.weight.copy()
    mask = sample.is_signal if which == "signal" else ~sample.is_signal
    w[np.flatnonzero(mask)[0]] *= -1.0  # one negative weight: still fine
    joint_program(dataclasses.replace(sample, weight=w))
    w[mask] = -np.abs(w[mask])
    with pytest.raises(ValueError, match="weight totals must be positive"):
        joint_program(dataclasses.replace(sample, weight=w))
    w[mask] = np.nan
    with pytest.raises(ValueError, match="finite"):
        joint_program(dataclasses.replace(sample, weight=w))


@pytest.mark.parametrize("delta", [0.0, 0.2])
def test_expansion_at_zero_signal_has_the_one_sided_slope(delta):
    """With a small --batch the running signal yield can be 0, where autograd's slope of sqrt(z2) is 0/0 = nan
    ('value of sample 0 is not finite'); the one-sided slope is dZ/ds -> 1/sqrt(b (1 + δ² b)), dZ/db -> 0."""
    b = 4.0

    def f(s, bb):
        return asimov_significance(s, bb, delta, 1e-3)

    s0, b0, z0, zs, zb = _expansion(f, (0.0, b))
    assert (s0, b0, z0) == (0.0, b, 0.0)
    assert zs == pytest.approx(1.0 / np.sqrt(b * (1.0 + delta ** 2 * b)), rel=1e-6)
    assert abs(zb) < 1e-8


def test_batch_30_runs_to_the_end(capsys):
    """`stochgrad-analysis optimize --batch 30 --seed 5` ended in 'value of sample 0 is not finite (nan)'."""
    from apps.analysis.cli import main

    main(["optimize", "--batch", "30", "--seed", "5", "--steps", "12", "--no-refine", "--no-progress"])
    out = capsys.readouterr().out
    assert "optimum R=" in out and "nan" not in out
