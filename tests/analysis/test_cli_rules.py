"""``stochgrad-analysis`` follows the shared CLI rules (apps/cliutil.py, docs/reliability.md).

Every bad argument or unreadable input is one stderr line and exit status 2; the
output path is checked before any work; existing outputs are kept unless ``--force``;
writes are atomic; JSON is strict; nothing is written unless ``-o`` names a file.
All in-process through ``main([...])``; no Qanti-kT clustering (so no numba
compilation): the valid runs are small FastJet scans.
"""

import json
import os
import stat

import numpy as np
import pytest

from apps.analysis import cli
from apps.analysis.cli import main

from .conftest import write_small_samples

pytest.importorskip("fastjet")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """20 events of each embedded process (cross sections kept), and bad input files."""
    from apps.jets import Events, load_events, save_events

    d = tmp_path_factory.mktemp("ana_rules")
    out = write_small_samples(d, 20)
    ev = load_events(out["hbb"])
    nan = ev.p4.copy()
    nan[0, 0, 0] = np.nan
    save_events(Events(nan, ev.counts, None, dict(ev.meta)), str(d / "nan.npz"))
    save_events(Events(ev.p4, ev.counts, None, {}), str(d / "nosigma.npz"))
    save_events(Events(ev.p4[:0], ev.counts[:0], None, dict(ev.meta)), str(d / "none.npz"))
    data = open(out["hbb"], "rb").read()
    (d / "trunc.npz").write_bytes(data[: len(data) // 2])
    (d / "junk.npz").write_text("hello")
    (d / "zero.npz").write_bytes(b"")
    (d / "events.txt").write_text("1 2 3 4")
    (d / "dir.npz").mkdir()
    (d / "bad.json").write_text("{")
    (d / "nohard.json").write_text('{"command": "optimize"}')
    pt = '{"R": 0.4, "lo": 90, "hi": 150, "pt": 30}'
    (d / "nanR.json").write_text('{"hard_start": {"R": NaN, "lo": 90, "hi": 150, "pt": 30}, "hard": %s}' % pt)
    (d / "lohi.json").write_text('{"hard_start": %s, "hard": {"R": 0.4, "lo": 150, "hi": 90, "pt": 30}}' % pt)
    (d / "result.json").write_text('{"hard_start": %s, "hard": %s}' % (pt, pt.replace("0.4", "0.6")))
    out["dir"] = str(d)
    return out


def _inputs(files, skip=()):
    return [a for k in ("hbb", "zbb", "qcdbb") if k not in skip for a in (f"--{k}", files[k])]


def _strict(path):
    def bad(x):
        raise AssertionError(f"non-strict JSON constant {x}")

    with open(path) as fh:
        return json.load(fh, parse_constant=bad)


def _one_error(capsys, argv):
    """``main(argv)`` fails with exit status 2 and exactly one stderr line; returns that line."""
    capsys.readouterr()
    rc = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, (argv, rc, err)
    assert len(err) == 1 and err[0].startswith("stochgrad-analysis") and ": error: " in err[0], (argv, err)
    assert "Traceback" not in err[0]
    return err[0]


BAD_ARGS = [
    ([], "required: COMMAND"),
    (["bogus"], "invalid choice"),
    (["optimize", "--steps", "0"], "--steps"),
    (["optimize", "--steps", "x"], "--steps"),
    (["optimize", "--samples", "1"], "--samples"),
    (["optimize", "--alpha", "nan"], "--alpha"),
    (["optimize", "--alpha", "0"], "--alpha"),
    (["optimize", "--seed", "-1"], "--seed"),
    (["optimize", "--seed", "1.5"], "--seed"),
    (["optimize", "--start", "0.4,90,150"], "--start"),
    (["optimize", "--start", "0.4,150,90,30"], "lo < hi"),
    (["optimize", "--start", "0,90,150,30"], "R must be > 0"),
    (["optimize", "--start", "0.4,nan,150,30"], "finite"),
    (["optimize", "--start", "a,b,c,d"], "--start"),
    (["scan", "--lumi", "0"], "--lumi"),
    (["scan", "--lumi", "nan"], "--lumi"),
    (["scan", "--syst", "-0.1"], "--syst"),
    (["scan", "--syst", "inf"], "--syst"),
    (["optimize", "--syst", "1e300"], "--syst"),
    (["scan", "--floor-events", "0"], "--floor-events"),
    (["scan", "--unknown"], "unrecognized"),
    (["plot", "r.json"], "--output"),
]


@pytest.mark.parametrize("argv,needle", BAD_ARGS, ids=[" ".join(a) or "(none)" for a, _ in BAD_ARGS])
def test_bad_arguments_one_line_exit_2(argv, needle, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_sample", lambda args: pytest.fail("work started before the arguments were checked"))
    assert needle in _one_error(capsys, argv)


BAD_INPUTS = [
    ("hbb", "missing.npz", "does not exist"),
    ("zbb", "", "empty path"),
    ("zbb", "zero.npz", "is empty"),
    ("qcdbb", "dir.npz", "is a directory"),
    ("hbb", "junk.npz", "could not be read"),
    ("zbb", "trunc.npz", "could not be read"),
    ("hbb", "events.txt", "must end in"),
    ("hbb", "nosigma.npz", "no cross section"),
    ("qcdbb", "none.npz", "holds no events"),
    ("hbb", "nan.npz", "non-finite"),
]


@pytest.mark.parametrize("which,name,needle", BAD_INPUTS, ids=[f"--{w} {n}" for w, n, _ in BAD_INPUTS])
def test_unreadable_events_one_line_exit_2(which, name, needle, files, tmp_path, capsys):
    out = tmp_path / "s.json"
    path = os.path.join(files["dir"], name) if name else ""
    argv = ["scan", "-o", str(out), f"--{which}", path] + _inputs(files, skip=(which,))
    line = _one_error(capsys, argv)
    assert needle in line and f"--{which}" in line
    assert not out.exists() and os.listdir(tmp_path) == []


@pytest.mark.parametrize("name,needle", [("missing.json", "does not exist"), ("bad.json", "not valid JSON"),
                                         ("nohard.json", "not an `optimize` result"), ("nanR.json", "finite R"),
                                         ("lohi.json", "lo < hi"), ("hbb.npz", "not valid JSON")])
def test_plot_bad_result_file(name, needle, files, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_sample", lambda args: pytest.fail("events loaded before the result was checked"))
    png = tmp_path / "p.png"
    assert needle in _one_error(capsys, ["plot", os.path.join(files["dir"], name), "-o", str(png)])
    assert not png.exists()


def test_output_checked_before_any_work(files, tmp_path, capsys, monkeypatch):
    """Wrong kind, a directory, under a file, empty, existing, the input itself: refused before loading."""
    monkeypatch.setattr(cli, "_sample", lambda args: pytest.fail("work started before -o was checked"))
    (tmp_path / "d.json").mkdir()
    (tmp_path / "f").write_text("x")
    keep = tmp_path / "keep.json"
    keep.write_text('{"keep": 1}')
    png = tmp_path / "keep.png"
    png.write_bytes(b"PNG")
    result = os.path.join(files["dir"], "result.json")
    link = tmp_path / "link.png"
    link.symlink_to(result)
    cases = [
        (["scan", "-o", str(tmp_path / "s.png")], "must end in .json"),
        (["optimize", "-o", str(tmp_path / "o.npz")], "must end in .json"),
        (["plot", result, "-o", str(tmp_path / "p.json")], "image"),
        (["plot", result, "-o", result, "--force"], "image"),  # the result file itself
        (["plot", result, "-o", str(link), "--force"], "same file as the input result file"),
        (["scan", "-o", str(tmp_path / "d.json")], "is a directory"),
        (["scan", "-o", str(tmp_path / "d.json"), "--force"], "is a directory"),
        (["optimize", "-o", str(tmp_path / "f" / "o.json")], "cannot be created"),
        (["scan", "-o", ""], "empty output path"),
        (["scan", "-o", str(keep)], "exists; pass --force"),
        (["optimize", "-o", str(keep), "--steps", "1"], "exists; pass --force"),
        (["plot", result, "-o", str(png)], "exists; pass --force"),
    ]
    for argv, needle in cases:
        assert needle in _one_error(capsys, argv + _inputs(files)), argv
    assert keep.read_text() == '{"keep": 1}' and png.read_bytes() == b"PNG"
    assert open(result).read().startswith('{"hard_start"')
    assert sorted(os.listdir(tmp_path)) == ["d.json", "f", "keep.json", "keep.png", "link.png"]


def test_scan_writes_strict_json_creates_folder_and_force_replaces(files, tmp_path, capsys):
    out = tmp_path / "new" / "sub" / "scan.json"
    old = os.umask(0o022)
    try:
        assert main(["scan", "-o", str(out)] + _inputs(files)) == 0
    finally:
        os.umask(old)
    g = _strict(out)
    assert g["command"] == "scan" and g["settings"]["events"] == 60
    assert g["clusterings"] == 15 * 60
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # not mkstemp's 0600
    out.write_text("old")
    _one_error(capsys, ["scan", "-o", str(out)] + _inputs(files))
    assert out.read_text() == "old"
    assert main(["scan", "-o", str(out), "--force", "--lumi", "300"] + _inputs(files)) == 0
    assert _strict(out)["settings"]["luminosity_fb"] == 300.0
    assert sorted(os.listdir(out.parent)) == ["scan.json"]  # no temporary file left


def test_nan_becomes_null_and_nan_best_is_an_error(files, tmp_path, capsys, monkeypatch):
    """A non-finite number in a result is written as JSON null, never as NaN; a non-finite best point is an error."""
    from apps.analysis import grid

    real = grid.grid_search
    where = {}

    def nan_grid(*a, **kw):
        res = real(*a, **kw)
        res.best_per_R[0]["Z"] = float("inf")
        res.best_per_R[1]["s"] = float("nan")
        if where.get("best"):
            res.best["Z"] = float("nan")
        return res

    monkeypatch.setattr(grid, "grid_search", nan_grid)
    out = tmp_path / "scan.json"
    assert main(["scan", "-o", str(out)] + _inputs(files)) == 0
    g = _strict(out)
    assert g["best_per_R"][0]["Z"] is None and g["best_per_R"][1]["s"] is None
    assert isinstance(g["best"]["Z"], float)
    where["best"] = True
    bad = tmp_path / "bad.json"
    assert "not finite" in _one_error(capsys, ["scan", "-o", str(bad)] + _inputs(files))
    assert not bad.exists()


def test_nothing_written_without_output(files, tmp_path, monkeypatch, capsys):
    """The default run writes no file: not in the working directory, not under docs/."""
    (tmp_path / "docs" / "img").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert main(["scan"] + _inputs(files)) == 0
    assert "best R=" in capsys.readouterr().out
    assert [(d, sorted(fs)) for d, _, fs in os.walk(tmp_path)] == [(str(tmp_path), []),
                                                                   (str(tmp_path / "docs"), []),
                                                                   (str(tmp_path / "docs" / "img"), [])]


def test_plot_write_is_atomic(files, tmp_path, capsys, monkeypatch):
    """A figure write that fails half-way leaves the old image as it was and no temporary file."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    png = tmp_path / "mjj.png"
    png.write_bytes(b"OLD")

    def broken(self, fname, **kw):
        with open(fname, "wb") as fh:
            fh.write(b"\x89PNG half")
        raise OSError("No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken)
    line = _one_error(capsys, ["plot", os.path.join(files["dir"], "result.json"), "-o", str(png), "--force"]
                      + _inputs(files))
    assert "No space left" in line
    assert png.read_bytes() == b"OLD" and os.listdir(tmp_path) == ["mjj.png"]


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "optimize" in capsys.readouterr().out
    assert main(["plot", "--help"]) == 0
