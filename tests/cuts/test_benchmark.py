"""benchmarks.cuts: the family row (ours, the polish alone, the reference) and its command line."""

import math

import pytest

from apps.cuts.problems import generate_problem
from benchmarks import cuts as bench


def test_family_row_against_the_exact_grid():
    p = generate_problem(3, n_cuts=1, kinds=["lower"], n_signal=40, n_background=200)
    row = bench.family_row(p)
    assert row["reference"] == "grid" and row["thresholds"] == 1
    # one threshold: a single exact line search is the global optimum, for ours and for the polish alone
    assert row["ratio"] == pytest.approx(1.0, abs=1e-12)
    assert row["polish_only_ratio"] == pytest.approx(1.0, abs=1e-12)
    assert row["polish_only_s"] >= 0 and row["ours_s"] > 0
    assert row["ref_signal"] > 0 and row["start_Z"] <= row["ref_Z"]


def test_polish_radius_argument():
    assert math.isinf(bench._radius("inf")) and bench._radius("0.1") == 0.1
    for bad in ("-1", "nan", "wide"):
        with pytest.raises(SystemExit):
            bench.main(["--family", "--polish", bad])
