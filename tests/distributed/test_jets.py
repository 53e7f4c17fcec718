"""Jets R optimisation over event partitions on a LocalCluster: same trajectory, killed worker, --resume."""

import json
import os
import signal

import numpy as np
import pytest

import stochgrad as sg

pytest.importorskip("pyarrow")
pytest.importorskip("numba")

from apps.jets import cli, load_default_events  # noqa: E402
from apps.jets.study import distributed as jd  # noqa: E402
from apps.jets.study import optimize as opt  # noqa: E402

from .conftest import in_worker  # noqa: E402

N_EVENTS, SAMPLES = 64, 4  # 256 samples: the stochastic derivative's control variates apply


@pytest.fixture(scope="module")
def events():
    return load_default_events().subset(slice(0, N_EVENTS))


@pytest.fixture(scope="module")
def parquet(events, tmp_path_factory):
    """The events as Parquet, one row group (read lazily by a worker) per 16 events."""
    path = str(tmp_path_factory.mktemp("jets") / "events.parquet")
    return jd.save_partitioned(events, path, 16)


def test_partitions_are_read_lazily_and_exactly(events, parquet):
    src = jd.EventSource.open(parquet)
    assert src.bounds == (0, 16, 32, 48, 64)
    part = src.read(16, 32)
    ref = events.subset(slice(16, 32))
    assert np.array_equal(part.counts, ref.counts)
    n = part.p4.shape[1]
    assert np.array_equal(part.p4, ref.p4[:, :n]) and not ref.p4[:, n:].any()


@pytest.mark.parametrize("name", ["score", "sd"])
def test_three_steps_on_dask_match_the_single_process_run(name, events, parquet, client):
    kw = dict(r0=0.6, steps=3, lr=0.1, loss="window", alpha=1.0, samples=SAMPLES, seed=7)
    local = opt.optimize_global(events, estimator=opt.make_estimator(name), **kw)
    dask = jd.optimize(jd.EventSource.open(parquet), client, estimator=opt.make_estimator(name), **kw)
    assert [h["theta"] for h in dask.history] == [h["theta"] for h in local.history]
    for key in ("value", "value_stderr", "grad", "grad_stderr"):
        assert [h[key] for h in dask.history] == [h[key] for h in local.history]
    assert dask.theta == local.theta


def test_a_worker_killed_mid_step_is_retried_with_the_same_numbers(events, parquet, client, tmp_path):
    marker = str(tmp_path / "killed")
    prog = jd.partitioned_program(jd.EventSource.open(parquet), samples=SAMPLES)
    inner = prog.sample_range

    def fragile(theta, start, stop, seed, want):
        if in_worker() and start == 2 * 16 * SAMPLES and not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)  # this partition's worker dies in the middle of the step
        return inner(theta, start, stop, seed, want)

    prog.sample_range = fragile
    est = opt.make_estimator("score")
    local = sg.value_and_grad(opt.global_program(events, samples=SAMPLES), est, n=N_EVENTS * SAMPLES,
                              seed=3)(np.log(0.7))
    dask = sg.value_and_grad(prog, est, n=N_EVENTS * SAMPLES, seed=3, executor=client)(np.log(0.7))
    assert os.path.exists(marker)
    assert (dask.value, dask.grad, dask.grad_stderr) == (local.value, local.grad, local.grad_stderr)


def test_resume_after_an_interrupted_run_gives_the_same_final_R(events, parquet, client, tmp_path, monkeypatch):
    out = str(tmp_path / "run.json")
    args = ["optimize", "--events", parquet, "--samples", str(SAMPLES), "--steps", "4", "--r0", "0.6",
            "--lr", "0.1", "--seed", "5", "--quiet", "--json", out]
    real, calls = sg.value_and_grad, []

    def interrupted(*a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the run dies during its third step
        return real(*a, **kw)

    monkeypatch.setattr(opt.sg, "value_and_grad", interrupted)
    # the CLI turns the interrupt into one stderr line and exit 130, after the checkpoint of step 2
    assert cli.main(args + ["--scheduler", client.scheduler.address]) == 130
    monkeypatch.setattr(opt.sg, "value_and_grad", real)
    with open(out) as fh:
        state = json.load(fh)
    assert state["completed_steps"] == 2 and state["finished"] is False
    assert cli.main(args + ["--scheduler", client.scheduler.address]) == 2  # no silent overwrite
    assert cli.main(args + ["--resume", "--scheduler", client.scheduler.address]) == 0
    with open(out) as fh:
        done = json.load(fh)
    # the CLI's schedule for 4 steps: 2 descent steps (0.1 → 0.04), no burn-in, 2 averaged steps at 0.04
    whole = opt.optimize_global(events, r0=0.6, steps=4, lr=sg.optim.exponential_decay(0.1, 0.04, 2), lr_tail=0.04,
                                samples=SAMPLES, seed=5)
    assert done["finished"] and done["completed_steps"] == 4
    assert whole.n_tail == done["tail_steps"] == 2
    assert done["R"] == whole.R_tail and done["R_final"] == float(np.exp(whole.theta))
    assert done["R_history"] == [float(np.exp(h["theta"])) for h in whole.history]


def test_scan_over_partitions(events, parquet, client):
    radii = [0.4, 0.8]
    local = opt.scan(events, radii, samples=SAMPLES, seed=2)
    dask = jd.scan(jd.EventSource.open(parquet), radii, client, samples=SAMPLES, seed=2)
    inline = jd.scan(jd.EventSource.open("default", 10, N_EVENTS), radii, None, samples=SAMPLES, seed=2)
    assert dask == inline  # exact sums: the partitioning does not matter
    for a, b in zip(local, dask):
        assert a["R"] == b["R"] and a["frac_two_jets"] == b["frac_two_jets"] and a["frac_window"] == b["frac_window"]
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-14) and b["stderr"] == pytest.approx(a["stderr"], rel=1e-12)


def test_bad_scheduler_is_one_line_exit_2(tmp_path, capsys):
    rc = cli.main(["optimize", "--scheduler", "local:0", "--steps", "1", "--json", str(tmp_path / "x.json")])
    assert rc == 2
    assert "local:N" in capsys.readouterr().err.strip().splitlines()[-1]


def test_root_partitions_are_read_by_entry_range(events, tmp_path):
    """A TTree with jagged Particle_px/py/pz/E branches (as apps.jets writes it), read per entry range."""
    uproot = pytest.importorskip("uproot")
    path = str(tmp_path / "events.root")
    parts = events.to_awkward(with_name=None)
    with uproot.recreate(path) as f:
        t = f.mktree("Events", {"Particle": parts.type.content}, field_name=lambda o, i: f"{o}_{i}",
                     counter_name=lambda c: f"n{c}")
        t.extend({"Particle": parts})
    src = jd.EventSource.open(path, 24)
    assert src.bounds == (0, 24, 48, 64)
    part, ref = src.read(24, 48), events.subset(slice(24, 48))
    n = part.p4.shape[1]
    assert np.array_equal(part.counts, ref.counts) and np.array_equal(part.p4, ref.p4[:, :n])
    kw = dict(r0=0.6, steps=1, samples=SAMPLES, seed=1)
    assert jd.optimize(src, None, **kw).theta == opt.optimize_global(events, **kw).theta


def test_backend_is_named_in_every_partition(parquet, client):
    """backend= reaches the workers' engine calls (engine.use_backend is context-local and stays in this process)."""
    from apps.jets.clustering.engine import use_backend

    src = jd.EventSource.open(parquet)
    kw = dict(samples=SAMPLES, seed=2)
    with use_backend("cpu"), pytest.raises(ValueError, match="backend = 'nope'"):  # raised in a worker
        jd.scan(src, [0.6], client, backend="nope", **kw)
    with pytest.raises(ValueError, match="backend = 'nope'"):
        jd.optimize(src, client, r0=0.6, steps=1, backend="nope", **kw)
    ref = jd.scan(src, [0.6], client, **kw)
    emulated = jd.scan(src, [0.6], client, backend="cuda-emulated", **kw)  # the CUDA source on the workers
    assert emulated == ref


def test_cli_backend_reaches_a_distributed_run(parquet, client, tmp_path, monkeypatch):
    """--backend is handed to the distributed optimisation explicitly (which names it in every partition)."""
    real, seen = jd.optimize, []

    def spy(*a, **kw):
        seen.append(kw.get("backend"))
        return real(*a, **kw)

    monkeypatch.setattr(jd, "optimize", spy)
    out = str(tmp_path / "emu.json")
    rc = cli.main(["optimize", "--events", parquet, "--samples", str(SAMPLES), "--steps", "1", "--r0", "0.6",
                   "--seed", "4", "--quiet", "--json", out, "--scheduler", client.scheduler.address,
                   "--backend", "cuda-emulated"])
    assert rc == 0 and seen == ["cuda-emulated"]
    with open(out) as fh:
        done = json.load(fh)
    ref = real(jd.EventSource.open(parquet), client, r0=0.6, steps=1, samples=SAMPLES, seed=4, lr=0.1, lr_tail=0.04)
    assert done["grad_history"] == [h["grad"] for h in ref.history]
    assert done["R"] == ref.R_tail and done["R_final"] == float(np.exp(ref.theta))
