"""Progress output of long analysis runs: a bar on a terminal, lines (and a heartbeat) otherwise."""

import io
import time

import pytest

from apps.analysis.progress import NoProgress, Progress, make_progress


def test_lines_when_not_a_terminal_and_heartbeat_during_a_long_step():
    out = io.StringIO()
    with Progress("run", stream=out, interval=1e-6, heartbeat=0.2) as p:
        p.phase("descent")
        p.step(1, 3, "a")
        time.sleep(0.8)  # one long step: the heartbeat must speak
        p.step(3, 3, "c")
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0].startswith("run: descent")
    assert any("step 1/3 a" in x for x in lines) and lines[-1].startswith("run: step 3/3 c")
    assert any("still running" in x and "step 1/3" in x for x in lines)


def test_interval_limits_lines_but_the_last_step_always_prints():
    out = io.StringIO()
    with Progress("run", stream=out, interval=60.0, heartbeat=60.0) as p:
        for i in range(1, 11):
            p.step(i, 10)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "step 10/10" in lines[0]


def test_bar_on_a_terminal():
    out = io.StringIO()
    with Progress("run", stream=out, tty=True, heartbeat=60.0) as p:
        p.step(1, 2, "x")
        p.step(2, 2, "y")
        p.phase("done")
    text = out.getvalue()
    assert text.count("\r") == 2 and "[############............] 1/2 x" in text
    assert text.endswith("run: done (0 s)\n")


def test_make_progress_and_bad_arguments():
    assert isinstance(make_progress(False, "x"), NoProgress)
    p = make_progress(True, "x")
    assert isinstance(p, Progress)
    p.close()
    with pytest.raises(ValueError, match="heartbeat"):
        Progress("x", heartbeat=0)
