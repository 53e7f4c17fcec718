"""stochgrad-jets and the shared CLI machinery: one-line errors, outputs checked first, no lost files (issue 17)."""

import json
import os

import numpy as np
import pytest

from apps.cliutil import Outputs, atomic_savefig, strict_json
from apps.jets.cli import main


def _err(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.fixture
def bad_files(tmp_path):
    np.savez(tmp_path / "empty.npz", p4=np.zeros((0, 3, 4)), counts=np.zeros(0, dtype=np.int64))
    (tmp_path / "zero.npz").write_bytes(b"")
    rng = np.random.default_rng(0)
    np.savez_compressed(tmp_path / "full.npz", p4=rng.normal(size=(50, 30, 4)), counts=np.full(50, 30))
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    (tmp_path / "dir.npz").mkdir()
    np.savez(tmp_path / "wrongkeys.npz", x=np.zeros(3))
    return tmp_path


@pytest.mark.parametrize("name,msg", [("empty.npz", "no events"), ("zero.npz", "is empty"),
                                      ("trunc.npz", "could not be read"), ("dir.npz", "directory"),
                                      ("missing.npz", "does not exist"), ("wrongkeys.npz", "could not be read")])
def test_unreadable_events_one_line_exit_2(bad_files, capsys, name, msg):
    # issue: the empty file gave a `nan ± nan` table with exit 0 and bare NaN in the JSON;
    # truncated/empty .npz, a missing path and a directory gave raw tracebacks
    js = bad_files / "scan.json"
    assert main(["scan", "--events", str(bad_files / name), "--json", str(js)]) == 2
    assert msg in _err(capsys)
    assert not js.exists()


@pytest.mark.parametrize("argv,msg", [
    (["scan", "--r-step", "0"], "--r-step"),
    (["scan", "--r-min", "1", "--r-max", "0.5"], "--r-max"),
    (["compare-estimators", "--R", "0"], "--R"),
    (["compare-estimators", "--estimators", "score,bogus"], "bogus"),
    (["optimize", "--alpha", "nan"], "--alpha"),
    (["optimize", "--samples", "1"], "--samples"),
    (["optimize", "--steps", "0"], "--steps"),
    (["scan", "--n-events", "-3"], "--n-events"),
    (["widths", "--global-json", "/nonexistent/x.json"], "does not exist"),
    (["nonsense"], "invalid choice"),
])
def test_bad_arguments_one_line_exit_2(capsys, tmp_path, monkeypatch, argv, msg):
    # issue: `compare-estimators --R 0` printed errors and exited 0; `scan --r-step 0` gave a traceback
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert msg in _err(capsys)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("json_arg,msg", [("p/result.png", "must end in .json"), ("", "empty output path"),
                                          ("DIR", "is a directory")])
def test_output_paths_checked_before_any_work(capsys, tmp_path, json_arg, msg):
    # issue: `optimize --json p/result.png` exited 0 with the JSON overwritten by the plot;
    # `--json` at a directory or '' failed only after the whole run
    if json_arg == "DIR":
        (tmp_path / "d.json").mkdir()
        json_arg = str(tmp_path / "d.json")
    elif json_arg:
        json_arg = str(tmp_path / json_arg)
    # a missing events file would fail later: the output error must come first (before any work)
    assert main(["optimize", "--events", str(tmp_path / "missing.npz"), "--json", json_arg]) == 2
    assert msg in _err(capsys)
    assert not (tmp_path / "p").exists()


def test_existing_result_kept_without_force(capsys, tmp_path):
    js = tmp_path / "r.json"
    js.write_text('{"keep": true}')
    assert main(["scan", "--events", str(tmp_path / "missing.npz"), "--json", str(js)]) == 2
    assert "--force" in _err(capsys)
    assert json.loads(js.read_text()) == {"keep": True}
    png = tmp_path / "w.png"
    png.write_bytes(b"old")
    assert main(["widths", "--png", str(png)]) == 2
    assert png.read_bytes() == b"old"


def test_scan_writes_strict_json_and_refuses_to_overwrite(capsys, tmp_path):
    js = tmp_path / "scan.json"
    argv = ["scan", "--n-events", "3", "--samples", "2", "--r-min", "0.4", "--r-max", "0.4", "--json", str(js)]
    assert main(argv) == 0
    json.loads(js.read_text(), parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}"))
    assert (tmp_path / "scan.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(argv) == 2 and "--force" in _err(capsys)
    assert main(argv + ["--force"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["scan.json", "scan.png"]  # no temporary files left behind


def test_strict_json_and_atomic_writes(tmp_path):
    text = strict_json({"a": float("nan"), "b": [np.inf, np.float32(1.5), np.arange(2)], "c": np.int64(3)})
    assert json.loads(text) == {"a": None, "b": [None, 1.5, [0, 1]], "c": 3}
    out = Outputs()
    p = out.add(tmp_path / "x.json", "--json", kind="json")
    out.check().write_json(p, {"v": float("-inf")})
    assert json.loads(open(p).read()) == {"v": None}

    class Broken:
        def savefig(self, path, **kw):
            with open(path, "wb") as fh:
                fh.write(b"half")
            raise OSError("disk full")

    png = tmp_path / "keep.png"
    png.write_bytes(b"old")
    with pytest.raises(OSError):
        atomic_savefig(Broken(), str(png))
    assert png.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["keep.png", "x.json"]


def test_outputs_refuse_the_same_file_twice(tmp_path):
    from apps.cliutil import CliError

    out = Outputs()
    out.add(tmp_path / "a.json", "--json", kind="json")
    with pytest.raises(CliError, match="same file"):
        out.add(tmp_path / "a.json", "other", kind="json")


@pytest.mark.parametrize("exc,msg", [(ImportError("No module named 'pythia8mc'"), "pip install"),
                                     (ZeroDivisionError("float division by zero"), "ZeroDivisionError"),
                                     (AttributeError("oops"), "unexpected AttributeError")])
def test_run_turns_any_exception_into_one_line(capsys, exc, msg):
    import warnings

    from apps.cliutil import ArgumentParser, run

    def boom(args):
        warnings.warn("multi\nline warning")
        raise exc

    ap = ArgumentParser(prog="prog")
    ap.set_defaults(func=boom)
    assert run("prog", ap, []) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("prog: warning:") and msg in err[1], err


def test_atomic_path_keeps_the_old_file_on_failure(tmp_path):
    from apps.cliutil import atomic_path

    target = tmp_path / "events.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.endswith(".npz") and os.path.dirname(tmp) == str(tmp_path)
            open(tmp, "wb").write(b"half")
            raise RuntimeError("generator died")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["events.npz"]
    with atomic_path(target) as tmp:
        np.savez(tmp, x=np.arange(3))
    assert np.load(target)["x"].tolist() == [0, 1, 2] and os.listdir(tmp_path) == ["events.npz"]
