"""The CLI's contract: strict JSON, exit status 2 with one stderr line on bad input, no silent overwrite."""

import json
import os
import subprocess
import sys

import pytest

from apps.analysis.cli import main

from .conftest import write_small_samples

pytest.importorskip("numba")
pytest.importorskip("fastjet")


@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    """40 events of each embedded process, cross sections kept (weights scale with n_events)."""
    return write_small_samples(tmp_path_factory.mktemp("ana"), 40)


def _args(files):
    return [a for k, v in files.items() for a in (f"--{k}", v)]


def _strict(path):
    def bad(x):
        raise AssertionError(f"non-strict JSON constant {x}")

    with open(path) as fh:
        return json.load(fh, parse_constant=bad)


def test_optimize_scan_plot_roundtrip(small_files, tmp_path, capsys):
    out = tmp_path / "opt.json"
    rc = main(["optimize", "--steps", "2", "--samples", "2", "--start", "0.5,90,150,30", "-o", str(out)]
              + _args(small_files))
    assert rc == 0
    err = capsys.readouterr().err  # progress is on by default: whole lines when stderr is not a terminal
    assert "optimise analysis: descent" in err and "step 2/2" in err and "\r" not in err
    res = _strict(out)
    assert res["command"] == "optimize" and len(res["history"]) == 2
    assert res["clusterings"] == 2 * 2 * 120 + 120  # the cut refinement at R* is on by default: one FastJet pass
    assert res["descent"]["R"] == res["hard"]["R"] and res["settings"]["refine"] is True
    assert set(res["hard"]) >= {"R", "lo", "hi", "pt", "Z", "s", "b"}
    assert res["start"] == [0.5, 90.0, 150.0, 30.0]
    scan = tmp_path / "scan.json"
    assert main(["scan", "-o", str(scan)] + _args(small_files)) == 0
    g = _strict(scan)
    assert g["clusterings"] == 15 * 120 and g["clusterings_naive"] == g["n_points"] * 120
    assert g["best"]["Z"] >= max(r["Z"] for r in g["best_per_R"]) - 1e-12
    png = tmp_path / "mjj.png"
    assert main(["plot", str(out), "-o", str(png)] + _args(small_files)) == 0
    assert png.stat().st_size > 1000


def test_optimize_budget_mode(small_files, tmp_path, capsys):
    """--batch draws random stratified events per step; --refine clusters every event once more (counted)."""
    out = tmp_path / "budget.json"
    rc = main(["optimize", "--steps", "3", "--samples", "2", "--batch", "30", "--refine", "--hold-r", "2",
               "--sharpness", "16,1", "-o", str(out)] + _args(small_files))
    assert rc == 0
    res = _strict(out)
    assert res["history"][0]["theta"][0] == res["history"][1]["theta"][0] == res["start"][0]  # R held
    assert res["optimum"][0] != res["start"][0]  # moved in the last step
    assert res["settings"]["batch"] == [10, 10, 10] and res["settings"]["scale"] == [16.0, 1.0]
    assert res["clusterings"] == 3 * 2 * 30 + 120
    assert res["descent"]["R"] == res["hard"]["R"]
    assert "before the cut refinement" in capsys.readouterr().out
    assert main(["optimize", "--steps", "1", "--samples", "2", "--batch", "4,2,6", "--no-refine",
                 "-o", str(tmp_path / "b.json")]
                + _args(small_files)) == 0
    assert _strict(tmp_path / "b.json")["clusterings"] == 1 * 2 * 12
    capsys.readouterr()
    assert main(["optimize", "--steps", "1", "--samples", "2", "--batch", "4,2,6", "--r-step", "0.5",
                 "--no-progress", "--no-refine", "-o", str(tmp_path / "c.json")] + _args(small_files)) == 0
    assert capsys.readouterr().err == ""
    assert _strict(tmp_path / "c.json")["clusterings"] == 1 * 2 * 12 * 2  # R ± h: two clusterings each


def test_bad_input_exit_2_one_line(small_files, tmp_path, capsys):
    out = tmp_path / "x.json"
    out.write_text("keep")
    cases = [
        ["optimize", "-o", str(out)],  # exists, no --force
        ["optimize", "--start", "0.4,90,150"],  # three numbers
        ["optimize", "--start", "0.4,150,90,30", "--steps", "1", "--samples", "2"],  # lo > hi
        ["scan", "-o", str(tmp_path / "s.png")],  # a result must be .json
        ["scan", "--lumi", "-1"],
        ["plot", str(out), "-o", str(tmp_path / "p.png")],  # not a result
        ["optimize", "--hbb", str(tmp_path / "nope.npz")],
        ["optimize", "--batch", "5"],  # fewer than 2 events per process
        ["optimize", "--batch", "500"],  # more than the 120 events
        ["optimize", "--steps", "3", "--hold-r", "3"],  # R would never move
        ["optimize", "--batch", "4,2"],  # two counts for three processes
        ["optimize", "--batch", "4,1,6"],  # a process below 2
        ["optimize", "--batch", "4,2,60"],  # more QCD events than the 40 there are
        ["optimize", "--sharpness", "4,-1"],
        ["optimize", "--r-step", "0"],
    ]
    for argv in cases:
        capsys.readouterr()
        assert main(argv + (_args({k: v for k, v in small_files.items() if f"--{k}" not in argv}))) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("stochgrad-analysis"), (argv, err)
    assert out.read_text() == "keep"


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "apps.analysis", "scan", "--lumi", "0"], capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert r.returncode == 2 and "--lumi" in r.stderr
