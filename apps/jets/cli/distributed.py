"""``stochgrad-jets optimize --scheduler ... | --resume``: the global R over event partitions, checkpointed."""

from __future__ import annotations

import os

import numpy as np

from ..study import distributed as jd
from ..study import optimize as opt
from .common import lr_schedule_from_args

__all__ = ["cmd_optimize", "resume_problem"]

_RECORD_KEYS = ("step", "theta", "value", "value_stderr", "grad", "grad_stderr")


def resume_problem(path, steps, force=False):
    """Why ``--resume`` must not continue the checkpoint ``path`` with ``--steps steps`` (None: it may).

    Refused, naming the file: unreadable or invalid JSON, not an ``optimize --scheduler``
    checkpoint (no ``run``/``history``, malformed step records), and — without
    ``--force`` — a run that already finished, or one with more completed steps than
    ``steps`` (continuing would shorten or replace a result).
    """
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
    except (OSError, UnicodeDecodeError) as err:
        return f"--resume: {path} cannot be read ({err})"
    except ValueError as err:
        return f"--resume: {path} is not valid JSON ({err}); it is not a checkpoint this command wrote"
    if not isinstance(state, dict) or not isinstance(state.get("run"), dict) or not isinstance(
            state.get("history"), list):
        return (f"--resume: {path} is not an `optimize --scheduler` checkpoint (it needs a 'run' settings object "
                "and a 'history' list of steps)")
    for k, rec in enumerate(state["history"]):
        missing = [key for key in _RECORD_KEYS if not isinstance(rec, dict) or key not in rec]
        if missing:
            return f"--resume: {path}: step record {k} lacks {', '.join(missing)} (a damaged or foreign checkpoint)"
        if rec["step"] != k:
            return f"--resume: {path}: step record {k} says step {rec['step']!r} (a damaged checkpoint)"
    done = len(state["history"])
    if force:
        return None
    if state.get("finished"):
        return (f"--resume: {path} holds a finished run ({done} steps); resuming would replace that result — "
                "pass --force to recompute it, or write to another --json")
    if done > steps:
        return (f"--resume: {path} already has {done} completed steps, more than --steps {steps}; continuing "
                f"would shorten the run — give --steps >= {done}, or --force")
    return None


def cmd_optimize(args):
    """``stochgrad-jets optimize --scheduler ... | --resume``: the global R over partitions, checkpointed.

    The results JSON (``--json``) doubles as the checkpoint: it is rewritten
    atomically after every step (``"finished": false``) and at the end.
    """
    import sys
    import time

    def fail(msg):
        print(f"stochgrad-jets optimize: {msg}", file=sys.stderr)
        return 2

    if args.per_event:
        return fail("--scheduler/--resume apply to the global R (not --per-event)")
    if any(getattr(args, k, None) is not None for k in ("select", "particle_pt_min", "particle_pt_max",
                                                         "particle_abs_eta_max")):
        return fail("--select and --particle-* are not available with --scheduler/--resume (workers read their "
                    "partitions whole): write the selected events to a Parquet file first "
                    "(apps.jets.load_events(path, select=...), then jd.save_partitioned)")
    if args.lr_decay != 1.0:
        return fail("--scheduler/--resume need a constant --lr (no --lr-decay)")
    if os.path.exists(args.json) and not args.resume and not getattr(args, "force", False):
        return fail(f"{args.json} exists; --resume continues it, or remove it first")
    if args.resume and not os.path.exists(args.json):
        return fail(f"--resume: {args.json} does not exist")
    if args.resume:
        problem = resume_problem(args.json, args.steps, getattr(args, "force", False))
        if problem:
            return fail(problem)
    try:
        src = jd.EventSource.open(args.events or "default", args.partition_events, args.n_events)
        est = opt.make_estimator(args.estimator, args.fd_step, args.n_alternatives)
    except (ValueError, OSError) as e:
        return fail(str(e))
    run = {k: getattr(args, k, None) for k in jd.RUN_KEYS}
    client = None
    try:
        client = jd.connect(args.scheduler) if args.scheduler else None
        t0 = time.perf_counter()
        res = jd.optimize(src, client, r0=args.r0, steps=args.steps, lr=lr_schedule_from_args(args), estimator=est,
                          loss=args.loss, alpha=args.alpha, samples=args.samples, seed=args.seed,
                          optimizer=args.optimizer, progress=not args.quiet, ptmin=args.ptmin, width=args.width,
                          checkpoint=args.json, resume=args.resume, run_info=run,
                          backend=getattr(args, "backend", None), lr_tail=args.lr_tail, tail=args.tail, burn=args.burn,
                          target=args.target_mass)
        secs = time.perf_counter() - t0
    except (ValueError, OSError) as e:
        return fail(str(e))
    finally:
        if client is not None:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None and args.scheduler.startswith("local:"):
                cluster.close()
    R = res.R_tail
    out = {"R": R, "R_tail_mean": R, "R_final": float(np.exp(res.theta)), "tail_steps": res.n_tail,
           "error": "one run: no uncertainty (independent runs, --seeds, are local only)",
           "loss_history": [h["value"] for h in res.history],
           "loss_stderr_history": [h["value_stderr"] for h in res.history],
           "grad_history": [h["grad"] for h in res.history],
           "grad_stderr_history": [h["grad_stderr"] for h in res.history],
           "R_history": [h["R"] for h in res.history], "seconds": secs, "n_events": src.n_events,
           "partitions": src.n_partitions, "scheduler": args.scheduler, "run": run,
           "completed_steps": len(res.history), "finished": True, "history": res.history}
    jd.write_json_atomic(out, args.json)
    print(f"R* = {R:.4f} (one run: its mean R over the last {res.n_tail} steps; no uncertainty)  final loss "
          f"{out['loss_history'][-1]:.5g}  ({secs:.1f} s, {src.n_partitions} partitions)  -> {args.json}")
    return 0
