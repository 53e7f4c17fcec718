"""Progress everywhere (issue 27): lines off a terminal at least every interval, help on every option,
``stochgrad-reactions check`` failing with a non-zero status."""

import argparse
import io
import time

import numpy as np
import pytest

import apps.cliutil as cliutil
from apps.cliutil import Progress, heartbeat


def test_progress_lines_off_a_terminal_at_least_every_interval():
    buf = io.StringIO()  # not a terminal
    with Progress(6, "optimise R", unit="step", interval=0.05, stream=buf) as p:
        for i in range(6):
            p.set_postfix_str(f"R={0.4 + i / 10:.4f} loss=0.5")
            p.update()
            time.sleep(0.03)
        time.sleep(0.2)  # a long step: the background thread still reports
    lines = buf.getvalue().splitlines()
    assert len(lines) >= 3
    assert all(ln.startswith("optimise R: step ") and "s elapsed" in ln for ln in lines)
    assert lines[-1].startswith("optimise R: step 6/6, R=0.9000 loss=0.5")
    quiet = io.StringIO()
    with Progress(6, "short", interval=60, stream=quiet) as p:  # shorter than the interval: nothing
        p.update(6)
    assert quiet.getvalue() == ""
    off = io.StringIO()
    with heartbeat("x", enabled=False, interval=0.0, stream=off):
        time.sleep(0.05)
    assert off.getvalue() == ""


def test_jets_optimize_prints_progress_lines_when_redirected(capsys, monkeypatch, tmp_path):
    pytest.importorskip("numba")
    from apps.jets.cli import main

    monkeypatch.setattr(cliutil, "PROGRESS_INTERVAL", 0.0)  # a line per step instead of every 10 s
    assert main(["optimize", "--n-events", "8", "--samples", "2", "--steps", "3", "--seeds", "1", "--json",
                 str(tmp_path / "o.json")]) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("optimise R: step ")]
    assert any(ln.startswith("optimise R: step 3/3, R=") and "loss=" in ln for ln in lines)
    assert main(["optimize", "--n-events", "8", "--samples", "2", "--steps", "3", "--seeds", "1", "--json",
                 str(tmp_path / "q.json"), "--quiet"]) == 0
    assert "optimise R" not in capsys.readouterr().err


def _walk(parser, name, out):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for k, sp in a.choices.items():
                _walk(sp, f"{name} {k}", out)
        elif not isinstance(a, argparse._HelpAction) and not (a.help or "").strip():
            out.append(f"{name} {'/'.join(a.option_strings) or a.dest}")


def test_every_cli_option_has_a_help_text():
    from apps.cuts.cli import build_parser as cuts
    from apps.jets.cli import build_parser as jets
    from apps.reactions.cli import build_parser as reactions

    missing = []
    for build, name in ((jets, "stochgrad-jets"), (cuts, "stochgrad-cuts"), (reactions, "stochgrad-reactions")):
        _walk(build(), name, missing)
    assert missing == []
    bare = argparse.ArgumentParser()
    bare.add_argument("--x")
    _walk(bare, "t", missing)
    assert missing == ["t --x"]  # the walk does find options without help


def test_reactions_check_exits_non_zero_when_a_check_fails(monkeypatch, capsys):
    from apps.reactions import checks
    from apps.reactions.cli import main

    def rows(**kw):
        return [checks.CheckRow("m", "vectorised", "score", "k", 1.0, 1.0 + 1e-3, 1e-2, 10),
                checks.CheckRow("m", "vectorised", "score", "g", 2.0, 1.0, 0.1, 10)]  # z = 10: a failure

    monkeypatch.setattr(checks, "derivative_checks", rows)
    assert main(["check", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "FAILED m / vectorised / score / g: z = +10.00" in err and " / k:" not in err
    assert main(["check", "--quiet", "--max-z", "20"]) == 0
    monkeypatch.setattr(checks, "derivative_checks", lambda **kw: rows()[:1])
    assert main(["check", "--quiet"]) == 0
    assert np.isfinite(rows()[1].z)
