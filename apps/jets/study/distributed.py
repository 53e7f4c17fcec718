"""The R optimisation and scan over event partitions, on a Dask cluster (or any executor).

Events stay where they are: a :class:`EventSource` names a file and cuts it into
partitions of consecutive events; a worker reads only its partition (Parquet row
groups; ``.npz`` files are read whole, then sliced), and keeps it for the next
step. Each optimisation step's gradient is one :func:`stochgrad.value_and_grad`
on a batched program whose chunks are the partitions: the engine's random streams
are keyed by (seed, global event, sample) (``event_offset``) and the core reduces
exact per-partition statistics, so the estimate, and hence the whole R
trajectory for a given seed, is bit-identical to the single-process
:func:`apps.jets.study.optimize.optimize_global`.

Faults: a partition whose worker dies is recomputed by Dask (same keyed numbers,
same step). A run checkpoints every completed step (atomic JSON); resuming
replays the recorded gradients through the optimiser (no re-estimation) and
continues from the first missing step, so the final R equals the uninterrupted
run's.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os

import numpy as np

import stochgrad as sg

from apps.cliutil import json_ready, atomic_write_text, strict_json

from . import optimize as opt

__all__ = ["EventSource", "partitioned_program", "optimize", "scan", "save_partitioned", "connect",
           "write_json_atomic"]


@dataclasses.dataclass(frozen=True)
class EventSource:
    """Events in a file, cut into partitions of consecutive events (read lazily, one partition at a time).

    Attributes:
        path: ``.parquet`` (partitions read by row group), ``.root`` (a TTree
            ``Events`` with jagged ``Particle_px/py/pz/E`` branches, read by entry
            range through uproot) or ``.npz``; ``"default"`` is the embedded
            300-event sample.
        bounds: partition boundaries as event indices ``(0, b1, ..., n_events)``;
            each partition is padded to its own largest multiplicity.
    """

    path: str
    bounds: tuple

    @property
    def n_events(self) -> int:
        return int(self.bounds[-1])

    @property
    def n_partitions(self) -> int:
        return len(self.bounds) - 1

    @classmethod
    def open(cls, path="default", events_per_partition=None, n_events=None):
        """Describe ``path``'s events (reads only the metadata of a Parquet file).

        Args:
            path: events file or ``"default"``.
            events_per_partition: events per partition; default: the Parquet row
                groups, or 4 partitions for other files.
            n_events: use only the first ``n_events``.

        Raises:
            ValueError: unknown file type, bad sizes.
        """
        path = str(path)
        groups = None
        if path == "default":
            from ..io.files import load_default_events

            total = len(load_default_events().counts)
        elif path.lower().endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            md = pq.ParquetFile(path).metadata
            groups = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
            total = int(sum(groups))
        elif path.lower().endswith(".npz"):
            with np.load(path, allow_pickle=False) as f:
                total = int(len(f["counts"]))
        elif path.lower().endswith(".root"):
            import uproot

            with uproot.open(path) as f:
                total = int(_root_tree(f, path).num_entries)
        else:
            raise ValueError(f"{path}: unknown events file type; use .parquet, .root, .npz or 'default'")
        if n_events is not None:
            if n_events < 1:
                raise ValueError(f"n_events must be >= 1, got {n_events}")
            total = min(total, int(n_events))
        if events_per_partition is None and groups is not None:
            b = [0] + [int(x) for x in np.cumsum(groups) if x < total] + [total]
        else:
            k = events_per_partition or max(1, math.ceil(total / 4))
            if k < 1:
                raise ValueError(f"events_per_partition must be >= 1, got {k}")
            b = list(range(0, total, k)) + [total]
        return cls(path, tuple(sorted(set(b))))

    def read(self, start, stop):
        """Events ``start..stop-1`` (an :class:`apps.jets.Events`), reading as little of the file as the format allows."""
        return _read(self.path, int(start), int(stop))


_CACHE: dict = {}  # per worker process: the partitions it has read (a few, keyed by file, mtime and range)


def _read(path, start, stop):
    key = (path, os.path.getmtime(path) if path != "default" else 0.0, start, stop)
    if key in _CACHE:
        return _CACHE[key]
    if path == "default":
        from ..io.files import load_default_events

        ev = load_default_events().subset(slice(start, stop))
    elif path.lower().endswith(".npz"):
        from ..io.files import load_events

        ev = load_events(path).subset(slice(start, stop))
    elif path.lower().endswith(".root"):
        ev = _read_root(path, start, stop)
    else:
        ev = _read_parquet(path, start, stop)
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = ev
    return ev


def _read_parquet(path, start, stop):
    import awkward as ak
    import pyarrow.parquet as pq

    from ..io.events import Events
    from ..io.records import to_padded

    md = pq.ParquetFile(path).metadata
    first, rows, want = 0, [], []
    for i in range(md.num_row_groups):
        k = md.row_group(i).num_rows
        if first < stop and first + k > start:
            want.append(i)
            rows.append(first)
        first += k
    arr = ak.from_parquet(path, row_groups=want)[start - rows[0]: stop - rows[0]]
    if "particles" in ak.fields(arr):
        arr = arr["particles"]
    p4, counts = to_padded(arr)
    return Events(p4, counts, None, {"source": path, "events": [start, stop]})


_ROOT_BRANCHES = ("Particle_px", "Particle_py", "Particle_pz", "Particle_E")


def _root_tree(f, path):
    trees = [k.split(";")[0] for k, c in f.classnames().items() if c == "TTree"]
    name = "Events" if "Events" in trees else (trees[0] if len(trees) == 1 else None)
    if name is None:
        raise ValueError(f"{path}: no TTree 'Events' (and not exactly one TTree: {trees})")
    t = f[name]
    missing = [b for b in _ROOT_BRANCHES if b not in t.keys()]
    if missing:
        raise ValueError(f"{path}: tree {name!r} lacks the branches {missing} (jagged Particle_px/py/pz/E, as "
                         "apps.jets writes them); convert other layouts to Parquet with save_partitioned")
    return t


def _read_root(path, start, stop):
    """Entries ``start..stop-1`` of a ROOT TTree with jagged ``Particle_px/py/pz/E`` branches (uproot reads only them)."""
    import awkward as ak
    import uproot

    from ..io.events import Events
    from ..io.records import to_padded

    with uproot.open(path) as f:
        arr = _root_tree(f, path).arrays(list(_ROOT_BRANCHES), entry_start=start, entry_stop=stop, library="ak")
    p4, counts = to_padded(ak.zip({q: arr[f"Particle_{q}"] for q in ("px", "py", "pz", "E")}))
    return Events(p4, counts, None, {"source": path, "events": [start, stop]})


def save_partitioned(events, path, events_per_partition):
    """Write :class:`apps.jets.Events` to Parquet with one row group per partition (the layout workers read lazily).

    Same columns as :func:`apps.jets.save_events` (``particles`` with px, py, pz, E).
    """
    import awkward as ak

    arr = events.to_awkward(with_name=None)
    tmp = path + ".tmp"
    ak.to_parquet(ak.zip({"particles": arr}, depth_limit=1), tmp, row_group_size=int(events_per_partition))
    os.replace(tmp, path)
    return path


def partitioned_program(source: EventSource, loss="window", alpha=1.0, samples=16, ptmin=20.0, width=15.0,
                        backend=None, target=opt.HIGGS_MASS):
    """:func:`apps.jets.study.optimize.global_program` over ``source``'s partitions.

    The whole call and every ``sample_range`` over a partition give exactly the
    rows of :func:`~apps.jets.study.optimize.global_program` on all the events
    (a sample is one (event, history) pair, ``samples`` per event).
    ``backend`` is the engine's ``backend=`` named explicitly in every partition's
    call: :func:`apps.jets.clustering.engine.use_backend` is context-local and does not
    follow the work to Dask workers (None: each worker's default, cpu).
    """
    if alpha is None or not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"gradient-based optimisation needs a finite α > 0 (Qanti-kT), got {alpha!r}")
    if samples < 2:
        raise ValueError(f"need at least 2 samples per event for a baseline, got {samples}")
    n = source.n_events * samples

    def fn(theta, n_, seed, want):
        if n_ != n:
            raise ValueError(f"n must be n_events × samples = {n}, got {n_}")
        return sample_range(theta, 0, n, seed, want)

    def sample_range(theta, start, stop, seed, want):
        if start % samples or stop % samples:
            raise ValueError(f"sample ranges must hold whole events ({samples} samples each), got {start}..{stop}")
        e0, e1 = start // samples, stop // samples
        ev = source.read(e0, e1)
        return opt.program_samples(ev, theta, seed, want, loss, alpha, samples, ptmin, width, event_offset=e0,
                                   backend=backend, target=target)

    prog = sg.batched(fn)
    prog.__name__ = f"jets_partitioned[{loss}, α={alpha}, {source.n_partitions} partitions]"
    prog.sample_range = sample_range
    prog.partitions = [b * samples for b in source.bounds]
    prog.n_per_call = n
    return prog


def write_json_atomic(obj, path):
    """Write strict JSON (NaN/inf → null) to ``path`` atomically (the CLIs' shared writer)."""
    return atomic_write_text(path, strict_json(obj) + "\n")


RUN_KEYS = ("events", "n_events", "r0", "lr", "lr_tail", "tail", "burn", "estimator", "loss", "alpha", "samples",
             "seed", "optimizer", "ptmin", "width", "fd_step", "n_alternatives", "target_mass")


def optimize(source, executor=None, r0=0.4, steps=60, lr=0.05, estimator=None, loss="window", alpha=1.0,
             samples=16, seed=0, optimizer="adam", progress=False, ptmin=20.0, width=15.0, checkpoint=None,
             resume=False, run_info=None, backend=None, lr_tail=None, tail=0.5, burn=0.125, target=opt.HIGGS_MASS):
    """One jet radius for all events, the gradient of each step reduced over ``source``'s partitions.

    Same numbers as :func:`apps.jets.study.optimize.optimize_global` on the same events
    and seed, on any executor and any partitioning.

    Args:
        source: an :class:`EventSource`.
        executor: ``None``, a :class:`concurrent.futures.Executor` or a :class:`dask.distributed.Client`.
        checkpoint: JSON path written (atomically) after every completed step.
        resume: continue the run recorded in ``checkpoint`` from its last completed step.
        run_info: settings stored in the checkpoint and checked on resume (must match).
        backend: the engine backend every partition uses (see :func:`partitioned_program`).
        lr_tail, tail, burn: the momentum-free phase at a stated noise floor and the
            tail average ``result.R_tail`` (see :func:`apps.jets.study.optimize.noise_floor_update`).
        others: as :func:`~apps.jets.study.optimize.optimize_global`.

    Returns:
        :class:`stochgrad.optim.OptimResult` (``theta`` = log R, history records with ``R``).

    Raises:
        ValueError: resuming without a checkpoint, or from one with other settings.
    """
    estimator = estimator or sg.ScoreFunction("leave_one_out")
    prog = partitioned_program(source, loss, alpha, samples, ptmin, width, backend, target)
    run_info = dict(run_info or {})
    done = []
    if resume:
        if checkpoint is None or not os.path.exists(checkpoint):
            raise ValueError(f"--resume needs an existing checkpoint, {checkpoint!r} does not exist")
        with open(checkpoint) as fh:
            state = json.load(fh)
        if state.get("run") != json_ready(run_info):
            raise ValueError(f"{checkpoint}: recorded with other settings {state.get('run')}; not resuming")
        done = state.get("history", [])[:steps]

    history = list(done)

    def callback(rec):
        if rec["step"] < len(done):
            return
        rec = dict(rec, R=float(np.exp(rec["theta"])))
        history.append(rec)
        if checkpoint is not None:
            write_json_atomic({"run": run_info, "completed_steps": len(history), "finished": False,
                               "history": history}, checkpoint)

    res = opt.optimize_global(None, r0, steps, lr, estimator, loss, alpha, samples, seed, optimizer, progress,
                              ptmin, width, program=prog, executor=executor, replay=done, callback=callback,
                              lr_tail=lr_tail, tail=tail, burn=burn, target=target)
    for h in res.history:
        h["R"] = float(np.exp(h["theta"]))
    return res


def scan(source, radii, executor=None, loss="window", alpha=1.0, samples=16, seed=0, ptmin=20.0, width=15.0,
         backend=None, target=opt.HIGGS_MASS):
    """:func:`apps.jets.study.optimize.scan` over partitions: per R, exact sums over events combined across partitions.

    Returns the same rows as :func:`~apps.jets.study.optimize.scan` (``R, loss, stderr,
    frac_two_jets, frac_window``); the means are correctly rounded, so they agree
    with the single-process scan to rounding and do not depend on the partitioning.
    ``backend``: the engine backend of every partition (see :func:`partitioned_program`).
    """
    from stochgrad.distributed import exact_value

    parts = list(zip(source.bounds[:-1], source.bounds[1:]))
    args = (source, tuple(float(r) for r in radii), loss, alpha, samples, seed, ptmin, width, backend, target)
    if executor is None:
        got = [_scan_part(*args, a, b) for a, b in parts]
    elif hasattr(executor, "gather") and hasattr(executor, "submit") and hasattr(executor, "scheduler_info"):
        got = executor.gather([executor.submit(_scan_part, *args, a, b, pure=False, retries=1) for a, b in parts])
    else:
        got = [f.result() for f in [executor.submit(_scan_part, *args, a, b) for a, b in parts]]
    n_ev = source.n_events
    out = []
    for i, R in enumerate(radii):
        loss_sum = exact_value(sum(g[i][0] for g in got))
        var_sum = exact_value(sum(g[i][1] for g in got))
        two = sum(g[i][2] for g in got)
        win = sum(g[i][3] for g in got)
        out.append({"R": float(R), "loss": float(loss_sum / (n_ev * samples)),
                    "stderr": math.sqrt(float(var_sum)) / n_ev,
                    "frac_two_jets": two / (n_ev * samples), "frac_window": win / (n_ev * samples)})
    return out


def _scan_part(source, radii, loss, alpha, samples, seed, ptmin, width, backend, target, start, stop):
    from stochgrad.distributed import exact_sum

    from ..clustering.engine import sample_mjj_and_score

    ev = source.read(start, stop)
    rows = []
    for R in radii:
        mjj, _ = sample_mjj_and_score(ev.p4, ev.counts, R, alpha, samples, seed, ptmin=ptmin, event_offset=start,
                                      backend=backend)
        ell = opt.event_loss(mjj, loss, target=target, width=width)
        var_e = ell.var(axis=1, ddof=1) / samples
        rows.append((exact_sum(ell.ravel()), exact_sum(var_e), int(np.isfinite(mjj).sum()),
                     int((np.abs(np.nan_to_num(mjj) - target) < width).sum())))
    return rows


def connect(scheduler: str):
    """A :class:`dask.distributed.Client` from ``"local:N"`` (a new LocalCluster of N processes) or an address.

    Raises:
        ValueError: a malformed ``scheduler``.
        ImportError: dask[distributed] missing (``pip install 'stochgrad[dask]'``).
    """
    if scheduler.startswith("local:"):
        n = scheduler.split(":", 1)[1]
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"--scheduler local:N needs N >= 1 workers, got {scheduler!r}")
        from stochgrad.distributed import local_cluster_client

        return local_cluster_client(int(n), env={"NUMBA_NUM_THREADS": "1"})  # one core per worker process
    if "://" not in scheduler and ":" not in scheduler:
        raise ValueError(f"--scheduler must be local:N or a scheduler address such as tcp://host:8786, got "
                         f"{scheduler!r}")
    try:
        from distributed import Client
    except ImportError as e:  # pragma: no cover - optional extra
        raise ImportError("--scheduler needs dask[distributed]: pip install 'stochgrad[dask]'") from e
    return Client(scheduler, timeout="20s")
