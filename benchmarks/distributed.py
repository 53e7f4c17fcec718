"""One jets gradient step (events × histories) in one process vs a Dask LocalCluster of 1 and 2 workers.

Run: ``python -m benchmarks.distributed [--events FILE] [--n-events 1000] [--samples 8] [--partitions 8]``.

The events are written to Parquet with one row group per partition (what a
worker reads lazily); by default the embedded 300 events repeated to
``--n-events`` (``--events FILE`` uses a generated file, e.g. from
``stochgrad-jets generate``). One step is ``sg.value_and_grad`` of the global
window loss (score function, leave-one-out per event) at R = 0.8. Every
configuration first runs one warm-up step (numba kernels loaded, partitions read
and cached by the workers), then the median of ``--repeat`` steps with other
seeds is reported. Workers run one thread and one numba thread each; the local
run is shown with numba on all cores and on one.

Printed: the table of wall times (and the check that every configuration gives
the bit-identical estimate), the per-partition compute time, and the
per-partition overhead: bytes and (de)serialisation time of what travels, and
the round trip of a task carrying the same arguments through the scheduler.
Then a projection to 64 and 512 workers for 10⁶ events from those measured
costs. Also printed: the machine's load average (other processes skew the
speed-up). Recorded in docs/distributed.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np


def _step(prog, est, n, seed, executor):
    import stochgrad as sg

    t0 = time.perf_counter()
    e = sg.value_and_grad(prog, est, n=n, seed=seed, executor=executor)(np.log(0.8))
    return time.perf_counter() - t0, e


def _timed(prog, est, n, executor, repeat):
    _, ref = _step(prog, est, n, 100, executor)  # warm-up: kernels, partition reads
    times, ests = [], []
    for r in range(repeat):
        t, e = _step(prog, est, n, 1 + r, executor)
        times.append(t)
        ests.append((e.value, e.grad, e.grad_stderr))
    return statistics.median(times), ests


def _noop(*args):
    return None


def _burn(_):
    x = 0
    for k in range(5_000_000):
        x += k
    return x


def _parallel_capacity():
    """Throughput of 2 concurrent CPU-bound processes relative to 1 (2.0 on two idle cores)."""
    import multiprocessing as mp

    times = []
    for p in (1, 2):
        with mp.get_context("spawn").Pool(p) as pool:
            pool.map(_burn, range(p))
            t0 = time.perf_counter()
            pool.map(_burn, range(2 * p))
            times.append(time.perf_counter() - t0)
    return 2 * times[0] / times[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", default="default", help="events file, or 'default' (the embedded 300, repeated)")
    ap.add_argument("--n-events", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=8, help="histories per event")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--task-overhead-ms", type=float, default=None,
                    help="scheduler cost per task for the projection (default: the measured throughput)")
    args = ap.parse_args(argv)

    import cloudpickle
    import numba
    from distributed import Client, LocalCluster

    import stochgrad as sg
    from apps.jets import Events, load_default_events, load_events
    from apps.jets.study import distributed as jd
    from stochgrad import _chunks as sd

    base = load_default_events() if args.events == "default" else load_events(args.events)
    idx = np.arange(args.n_events) % len(base.counts)
    ev = Events(base.p4[idx], base.counts[idx], None, {})
    source_note = (f"the embedded {len(base.counts)} events repeated to {args.n_events}" if args.events == "default"
                   else f"{args.events}, {args.n_events} events")
    tmp = tempfile.mkdtemp(prefix="sg_bench_dask_")
    path = jd.save_partitioned(ev, os.path.join(tmp, "events.parquet"), -(-args.n_events // args.partitions))
    src = jd.EventSource.open(path)
    prog = jd.partitioned_program(src, samples=args.samples)
    n = prog.n_per_call
    est = sg.ScoreFunction("leave_one_out")
    load0 = os.getloadavg()
    print(f"{source_note}; {args.samples} histories each ({n} samples); {src.n_partitions} partitions; "
          f"{os.cpu_count()} cores; load average before: {load0[0]:.1f} {load0[1]:.1f} {load0[2]:.1f}\n")

    rows, results = [], {}
    threads = numba.get_num_threads()
    t, e = _timed(prog, est, n, None, args.repeat)
    rows.append((f"one process, numba {threads} threads", t))
    results["local"] = e
    numba.set_num_threads(1)
    t, e = _timed(prog, est, n, None, args.repeat)
    rows.append(("one process, numba 1 thread", t))
    results["local1"] = e
    # per-partition compute (this process, one thread): the unit of the projection
    spec = {"est": est, "program": prog, "theta": float(np.log(0.8)), "n": n, "seed": 1, "size": 1}
    a, b = prog.partitions[0], prog.partitions[1]
    sd._chunk_task(spec, a, b, False)
    t0 = time.perf_counter()
    chunk = sd._chunk_task(spec, a, b, False)
    t_part = time.perf_counter() - t0
    numba.set_num_threads(threads)
    pickled_spec = cloudpickle.dumps((spec, a, b, False))
    pickled_stats = cloudpickle.dumps(sd._chunk_stats(chunk))
    t0 = time.perf_counter()
    for _ in range(20):
        cloudpickle.loads(cloudpickle.dumps((spec, a, b, False)))
        cloudpickle.loads(cloudpickle.dumps(sd._chunk_stats(chunk)))
    t_ser = (time.perf_counter() - t0) / 20
    red = sd._grad_task(chunk, np.ones((2, 1, 3)), False)[0]  # the gradient pass's reduction (worker side)
    t0 = time.perf_counter()  # driver side, per partition: merge its statistics, coefficients, finish its sums
    merged = sd._merge([chunk.stats], [chunk.meta])
    est.chunk_coefficients(merged, 1)
    sd._finish([red], 2)
    t_reduce = time.perf_counter() - t0

    cap = _parallel_capacity()
    rt = {}
    for workers in (1, 2):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               env={"NUMBA_NUM_THREADS": "1"})
        client = Client(cluster)
        try:
            t, e = _timed(prog, est, n, client, args.repeat)
            rows.append((f"LocalCluster, {workers} worker{'s' if workers > 1 else ''} (1 thread each)", t))
            results[f"dask{workers}"] = e
            if workers == 2:
                client.gather([client.submit(_noop, spec, a, b, pure=False) for _ in range(4)])
                t0 = time.perf_counter()
                futs = [client.submit(_noop, spec, a, b, False, pure=False) for _ in range(50)]
                client.gather(futs)
                rt["batch"] = (time.perf_counter() - t0) / 50
                t0 = time.perf_counter()
                for _ in range(10):
                    client.submit(_noop, spec, a, b, False, pure=False).result()
                rt["single"] = (time.perf_counter() - t0) / 10
        finally:
            client.close()
            cluster.close()

    same = all(results[k] == results["local"] for k in results)
    t1 = dict(rows)[[r[0] for r in rows if "1 worker" in r[0]][0]]
    print("| configuration | wall time of one step (s) | vs 1 worker |")
    print("|---|---:|---:|")
    for name, t in rows:
        print(f"| {name} | {t:.3f} | {t1 / t:.2f}× |")
    print(f"\nestimates bit-identical across all configurations: {same}")
    part_events = b - a
    print(f"\nper partition ({part_events // args.samples} events × {args.samples} histories):")
    print(f"  compute, one thread:                    {t_part * 1e3:9.2f} ms ({t_part / part_events * 1e6:.1f} µs "
          "per history)")
    print(f"  task out / statistics back:             {len(pickled_spec):9d} B / {len(pickled_stats)} B")
    print(f"  (de)serialisation of both:              {t_ser * 1e3:9.3f} ms")
    print(f"  exact merge + final formula (driver):   {t_reduce * 1e3:9.3f} ms")
    print(f"  scheduler round trip, one task alone:   {rt['single'] * 1e3:9.2f} ms")
    print(f"  scheduler throughput, 50 tasks at once: {rt['batch'] * 1e3:9.2f} ms per task")
    load1 = os.getloadavg()
    print(f"\nload average after: {load1[0]:.1f} {load1[1]:.1f} {load1[2]:.1f}; two CPU-bound processes get "
          f"{cap:.2f}× the throughput of one right now (2.00 on two idle cores): the bound on the 2-worker "
          "speed-up here")

    # projection: N events × S histories cut into partitions of the measured size; W workers in parallel
    per_history = t_part / part_events
    N, S = 10**6, args.samples
    print(f"\nprojection for {N:.0e} events × {S} histories (compute at the measured µs per history, one core per "
          "worker; task overheads as measured; partitions assigned in waves of W):")
    print("| workers | events per partition | partitions | compute per worker (s) | scheduler (s) | "
          "(de)serialisation per worker (s) | driver reduce (s) | step (s) | speed-up vs 1 worker |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    one = per_history * N * S
    for W in (64, 512):
        for size in (part_events // S, 1000):
            P = -(-N // size)
            compute = per_history * size * S * -(-P // W)  # whole waves of partitions
            per_task = rt["batch"] if args.task_overhead_ms is None else args.task_overhead_ms / 1e3
            sched = per_task * P  # the scheduler handles tasks one after another (added in full: conservative)
            ser = t_ser * -(-P // W)
            reduce = t_reduce * P
            step = compute + sched + ser + reduce
            print(f"| {W} | {size} | {P} | {compute:.1f} | {sched:.1f} | {ser:.2f} | {reduce:.2f} | {step:.1f} | "
                  f"{one / step:.0f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
