"""Jets engine on the GPU vs the CPU backend, one run: ``python -m benchmarks.jets_gpu``.

Rows, for every backend available in this run:

* sampled Qanti-kT clusterings per second (α = 1, R = 0.8, the shipped events;
  1, 10, 100 and 1000 samples per event) through ``sample_mjj_and_score`` (mjj and
  the R-score per history, one pass). A row clusters at most ``--cap`` histories
  (the first ``cap // samples`` events) so the CPU rows finish;
* the time of one R-gradient of the window loss (score function with a
  leave-one-out baseline) on ``--grad-events`` events × ``--grad-samples`` histories
  (default 1000 × 100; the 300 shipped events repeated — each copy is another event
  index, so another random stream), from the call to the gradient as a Python float.

Backends: ``cpu`` (numba, all threads), ``cuda`` (CuPy, events already on the device,
timings synchronised) when CuPy sees a device — otherwise the table says so — and
``cuda-emulated`` (the CUDA source on the host), which is a correctness tool: its rows
are labelled "not a performance figure" and run only on small sizes. Best of
``--repeat`` runs after a warm-up (compilation excluded).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def window_loss(xp, mjj, target=125.0, width=15.0):
    """The optimiser's window loss ``1 − exp(−½((m − 125)/15)²)``, 1 where mjj is NaN (on ``xp``)."""
    ok = xp.isfinite(mjj)
    m = xp.where(ok, mjj, 0.0)
    return xp.where(ok, 1.0 - xp.exp(-0.5 * ((m - target) / width) ** 2), 1.0)


def r_gradient(p4, counts, R, n_samples, seed, backend):
    """d/dR of the mean window loss: score function with a per-event leave-one-out baseline."""
    import apps.jets as J

    mjj, score = J.sample_mjj_and_score(p4, counts, R, 1.0, n_samples, seed, backend=backend)
    xp = np if isinstance(mjj, np.ndarray) else __import__("cupy")
    f = window_loss(xp, mjj)
    base = (f.sum(axis=1, keepdims=True) - f) / (n_samples - 1)
    return float(((f - base) * score).mean())


def _timed(fn, sync, repeat):
    best = np.inf
    for _ in range(repeat):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (this 2-core machine): cap 2000 histories per "
                                                          "row, gradient on 100 events x 100 histories")
    ap.add_argument("--cap", type=int, default=None, help="histories per clusterings/s row (default 30000)")
    ap.add_argument("--grad-events", type=int, default=None)
    ap.add_argument("--grad-samples", type=int, default=100)
    ap.add_argument("--samples", type=int, nargs="+", default=[1, 10, 100, 1000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-emulated", action="store_true", help="skip the cuda-emulated rows")
    args = ap.parse_args(argv)
    cap = args.cap or (2000 if args.quick else 30000)
    n_grad = args.grad_events or (100 if args.quick else 1000)
    if cap < 1 or n_grad < 1 or args.grad_samples < 2 or args.repeat < 1 or min(args.samples) < 1:
        ap.error("--cap, --grad-events, --repeat and --samples must be >= 1, --grad-samples >= 2")

    import numba

    import apps.jets as J
    from apps.jets.clustering.backends import cuda_available

    ev = J.load_default_events()
    p4, counts = ev.p4, ev.counts
    reps = -(-n_grad // len(counts))
    gp4 = np.ascontiguousarray(np.tile(p4, (reps, 1, 1))[:n_grad])
    gcounts = np.ascontiguousarray(np.tile(counts, reps)[:n_grad])

    backends = [("cpu", np, lambda: None, f"numba, {numba.get_num_threads()} threads")]
    device = "none"
    if cuda_available():
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        device = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
        backends.append(("cuda", cupy, cupy.cuda.Device().synchronize, device))
    if not args.no_emulated:
        backends.append(("cuda-emulated", np, lambda: None, "NOT a performance figure (host emulation)"))

    from apps.cliutil import Progress

    print("GPU: none — CuPy sees no CUDA device in this run; GPU figures not measured" if device == "none" else
          f"GPU: {device}", flush=True)  # before any work: what this run measures
    n_rows = sum(len(args.samples) + 1 if n != "cuda-emulated" else sum(ns <= 10 for ns in args.samples)
                 for n, *_ in backends)
    rows, prog = [], Progress(n_rows, "jets_gpu", unit="row")  # a bar on a terminal, else a line every 10 s
    for name, xp, sync, note in backends:
        dp4, dcounts = xp.asarray(p4), xp.asarray(counts)
        prog.set_postfix_str(f"{name}: compiling")
        J.sample_mjj_and_score(dp4[:2], dcounts[:2], 0.8, 1.0, 2, 0, backend=name)  # warm-up / compile
        for ns in args.samples:
            emu_cap = min(cap, 200) if name == "cuda-emulated" else cap
            n_ev = min(len(counts), max(1, emu_cap // ns))
            if name == "cuda-emulated" and ns > 10:
                continue
            a, c = dp4[:n_ev], dcounts[:n_ev]
            prog.set_postfix_str(f"{name}: {ns} samples/event")
            t = _timed(lambda: J.sample_mjj_and_score(a, c, 0.8, 1.0, ns, 1, backend=name), sync, args.repeat)
            rows.append((name, note, f"clusterings/s, {ns} samples/event ({n_ev} events)", n_ev * ns / t, t))
            prog.update()
        if name == "cuda-emulated":
            continue
        gp, gc = xp.asarray(gp4), xp.asarray(gcounts)
        prog.set_postfix_str(f"{name}: one R-gradient")
        t = _timed(lambda: r_gradient(gp, gc, 0.8, args.grad_samples, 3, name), sync, 1 if name == "cpu" else
                   args.repeat)
        rows.append((name, note, f"one R-gradient, {n_grad} events x {args.grad_samples} histories",
                     n_grad * args.grad_samples / t, t))
        prog.update()
    prog.close()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"shipped events: {len(counts)}, {counts.mean():.1f} particles/event; alpha = 1, R = 0.8; "
          f"{os.cpu_count()} CPUs, load average {load:.2f} at the end")
    print("| backend | what | clusterings/s | seconds | note |")
    print("|---|---|---:|---:|---|")
    for name, note, what, rate, t in rows:
        print(f"| {name} | {what} | {rate:,.0f} | {t:.3f} | {note} |")
    cpu = {r[2]: r[4] for r in rows if r[0] == "cpu"}
    gpu = {r[2]: r[4] for r in rows if r[0] == "cuda"}
    for what in gpu:
        if what in cpu:
            print(f"speed-up cuda / cpu, {what}: {cpu[what] / gpu[what]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
