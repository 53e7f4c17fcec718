"""The analysis benchmark end to end on 120 events: its JSON is one object with every run's figures."""

import json

import pytest

from .conftest import write_small_samples

pytest.importorskip("numba")
pytest.importorskip("fastjet")


# 120 events leave a handful inside the box: the refinement's cut optimiser anneals past them and says so
@pytest.mark.filterwarnings("ignore::apps.cuts.selection.SharpnessWarning")
def test_benchmark_budget_mode_writes_one_json_object(tmp_path, capsys):
    from benchmarks.analysis import main

    files = write_small_samples(tmp_path, 40)
    out = tmp_path / "bench.json"
    assert main(["--samples", str(tmp_path), "--validation", str(tmp_path), "--steps", "3", "--batch", "6,2,10",
                 "--replicas", "2", "--refine", "--hold-r", "1", "--scale", "16,1", "--json", str(out)]) == 0
    assert set(files) == {"hbb", "zbb", "qcdbb"}
    res = json.loads(out.read_text())
    assert isinstance(res, dict) and res["events"] == 120
    assert res["grid"]["clusterings"] == 15 * 120
    runs = res["gradient"]
    assert [r["start_index"] for r in runs] == [1, 2]
    for r in runs:
        assert r["clusterings"] == 3 * 2 * 18 + 120  # descent batches + the refinement's FastJet clustering
        assert r["settings"]["hold_r"] == 1 and r["settings"]["scale"] == [16.0, 1.0]
        assert r["lattice"]["lo"] % 2.5 == 0 and r["lattice"]["pt"] % 5 == 0
    assert len(res["validation"]) == 2 + 2 * len(runs)  # grid, each run and its lattice point, sequential
    assert "within 2 %" in capsys.readouterr().out


def test_benchmark_r_noise_table(tmp_path, capsys):
    from benchmarks.analysis import main

    write_small_samples(tmp_path, 40)
    assert main(["--samples", str(tmp_path), "--r-noise", "--batch", "6,2,10", "--steps", "6"]) == 0
    out = capsys.readouterr().out
    assert out.count("score, 4 replicas") == 2 and out.count("central difference, 2 replicas") == 2


def test_benchmark_peers_table(tmp_path, capsys):
    """--peers: grid, scan + relaxed cuts (both starts), TPE when optuna is there, ours; paired held-out errors."""
    import importlib.util

    from benchmarks.analysis import main

    write_small_samples(tmp_path, 40)
    out = tmp_path / "peers.json"
    assert main(["--samples", str(tmp_path), "--validation", str(tmp_path), "--peers", "--steps", "2",
                 "--replicas", "2", "--tpe-trials", "3", "--boot", "20", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    methods = [r["method"] for r in res["rows"]]
    has_tpe = importlib.util.find_spec("optuna") is not None
    assert methods[0].startswith("FastJet grid") and methods.count("FastJet scan + relaxed cuts (Adam)") == 2
    assert sum(m.startswith("Optuna TPE") for m in methods) == (2 if has_tpe else 0)
    assert sum(m.startswith("ours") for m in methods) == 2
    for r in res["rows"]:
        assert set(r["train"]) == {"Z", "sd"} and r["heldout"]["diff_sd"] >= 0 and r["cpu"] >= 0
    assert res["rows"][0]["heldout"]["diff_vs_grid"] == 0.0
    assert "CPU ours / scan + relaxed" in capsys.readouterr().out


def test_benchmark_reuse_table(tmp_path, capsys):
    """--reuse: a step's cost in FastJet passes (fresh, store, reused with its ESS), then both descents."""
    from benchmarks.analysis import main

    write_small_samples(tmp_path, 15)
    assert main(["--samples", str(tmp_path), "--reuse", "--steps", "2", "--replicas", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count(" passes\n") == 8 and "FastJet anti-kT, one pass" in out and "ESS fraction 1.00" in out
    assert "fresh every step (default)" in out and "reused (ESS < 0.5 K: re-cluster)" in out
