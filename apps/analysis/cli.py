"""``stochgrad-analysis``: optimise | scan | plot the H → bb̄ analysis (strict JSON out).

* ``optimize``: Adam on unbiased gradients of the expected significance through
  Qanti-kT clustering and stochastic cuts; the result (θ at the start and optimum,
  their hard FastJet significances, history, clusterings, seconds) as JSON;
* ``scan``: the brute-force FastJet grid (best point, best per R, cost) as JSON;
* ``plot``: the three mjj distributions at the start and optimum of an ``optimize`` result.

Bad input: one line on stderr and exit status 2. Output paths are checked before
any work; existing files need ``--force``; writes are atomic.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile

__all__ = ["main", "build_parser", "strict_json"]


class _Usage(ValueError):
    pass


def strict_json(obj):
    """``obj`` with NaN/inf → None and numpy scalars/arrays → Python (for ``allow_nan=False``)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return strict_json(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _write_atomic(path, writer):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            writer(fh)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _check_output(path, force):
    if path is None:
        return
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise _Usage(f"output folder {d} does not exist")
    if os.path.isdir(path):
        raise _Usage(f"output {path} is a folder; give a file name")
    if os.path.exists(path) and not force:
        raise _Usage(f"output {path} exists; pass --force to overwrite")


def _floats(text, n, name):
    try:
        vals = [float(x) for x in text.split(",")]
    except ValueError:
        raise _Usage(f"{name} must be {n} comma-separated numbers, got {text!r}") from None
    if len(vals) != n or not all(math.isfinite(v) for v in vals):
        raise _Usage(f"{name} must be {n} finite comma-separated numbers, got {text!r}")
    return vals


def _sample(args):
    from .samples import DEFAULT_FILES, load_samples

    files = dict(DEFAULT_FILES)
    for name in files:
        path = getattr(args, name, None)
        if path:
            files[name] = path
    return load_samples(files, luminosity_fb=args.lumi)


def _emit(args, result):
    text = json.dumps(strict_json(result), indent=1, allow_nan=False)
    if args.output:
        _write_atomic(args.output, lambda fh: fh.write(text + "\n"))
    return text


def cmd_optimize(args):
    from .optimize import optimize_analysis
    from .samples import background_floor

    start = _floats(args.start, 4, "--start")
    _check_output(args.output, args.force)
    sample = _sample(args)
    res = optimize_analysis(sample, start, steps=args.steps, samples=args.samples, alpha=args.alpha,
                            rel_syst=args.syst, b_min=background_floor(sample, args.floor_events),
                            seed=args.seed, progress=args.progress)
    out = dataclasses.asdict(res)
    out["command"] = "optimize"
    _emit(args, out)
    h0, h1 = res.hard_start, res.hard
    print(f"start   R={h0['R']:.3f} window=({h0['lo']:.1f}, {h0['hi']:.1f}) pT1>{h0['pt']:.1f}  Z={h0['Z']:.4g}")
    print(f"optimum R={h1['R']:.3f} window=({h1['lo']:.1f}, {h1['hi']:.1f}) pT1>{h1['pt']:.1f}  Z={h1['Z']:.4g}")
    print(f"{res.clusterings} Qanti-kT clusterings, {res.seconds:.1f} s" + (f" -> {args.output}" if args.output else ""))
    return 0


def cmd_scan(args):
    from .grid import grid_search
    from .samples import background_floor

    _check_output(args.output, args.force)
    sample = _sample(args)
    res = grid_search(sample, rel_syst=args.syst, b_min=background_floor(sample, args.floor_events))
    out = dataclasses.asdict(res)
    out["command"] = "scan"
    out["settings"] = {"rel_syst": args.syst, "luminosity_fb": args.lumi, "floor_events": args.floor_events,
                       "events": len(sample)}
    _emit(args, out)
    b = res.best
    print(f"best R={b['R']:.2f} window=({b['lo']:.1f}, {b['hi']:.1f}) pT1>{b['pt']:.1f}  Z={b['Z']:.4g}  "
          f"({res.n_points} points, {res.clusterings} FastJet clusterings, {res.seconds:.1f} s)"
          + (f" -> {args.output}" if args.output else ""))
    return 0


def cmd_plot(args):
    from .plots import plot_mjj

    if not os.path.isfile(args.result):
        raise _Usage(f"result file {args.result} does not exist")
    _check_output(args.output, args.force)
    if os.path.splitext(args.output)[1].lower() not in (".png", ".pdf", ".svg"):
        raise _Usage(f"plot output must end in .png, .pdf or .svg, got {args.output!r}")
    try:
        with open(args.result) as fh:
            res = json.load(fh)
        points = [res["hard_start"], res["hard"]]
        for p in points:
            for k in ("R", "lo", "hi", "pt"):
                float(p[k])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise _Usage(f"{args.result} is not an `optimize` result ({type(err).__name__}: {err})") from None
    sample = _sample(args)
    plot_mjj(sample, points, args.output, titles=["start", "optimum (gradient)"])
    print(f"wrote {args.output}")
    return 0


def _common(p):
    p.add_argument("--lumi", type=float, default=140.0, help="integrated luminosity in fb^-1 (default 140)")
    p.add_argument("--hbb", help="signal events file (default: the embedded sample)")
    p.add_argument("--zbb", help="Z/γ*→bb̄ events file (default: embedded)")
    p.add_argument("--qcdbb", help="QCD bb̄ events file (default: embedded)")


def _stat(p):
    p.add_argument("--syst", type=float, default=0.0, help="relative background systematic δ (default 0)")
    p.add_argument("--floor-events", type=float, default=25.0,
                   help="background floor in background MC events (default 25)")
    p.add_argument("-o", "--output", help="JSON output file (default: none, summary only)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")


def build_parser():
    """The argparse parser of ``stochgrad-analysis``."""
    ap = argparse.ArgumentParser(prog="stochgrad-analysis",
                                 description="H→bb̄ over Z→bb̄ and QCD bb̄: jet radius, mjj window and leading-jet "
                                             "pT optimised together through Qanti-kT clustering and stochastic cuts.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    o = sub.add_parser("optimize", help="gradient optimisation of (R, window, pT cut)")
    o.add_argument("--start", default="0.4,90,150,30", help="R,lo,hi,pT start (default 0.4,90,150,30)")
    o.add_argument("--steps", type=int, default=40, help="Adam steps (default 40)")
    o.add_argument("--samples", type=int, default=4, help="clusterings of every event per step (default 4)")
    o.add_argument("--alpha", type=float, default=10.0, help="Qanti-kT α (default 10)")
    o.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    o.add_argument("--progress", action="store_true", help="progress line on stderr")
    _common(o)
    _stat(o)
    o.set_defaults(func=cmd_optimize)
    s = sub.add_parser("scan", help="brute-force FastJet grid over (R, window, pT cut)")
    _common(s)
    _stat(s)
    s.set_defaults(func=cmd_scan)
    p = sub.add_parser("plot", help="mjj distributions at the start and optimum of an optimize result")
    p.add_argument("result", help="JSON written by `optimize -o`")
    p.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    _common(p)
    p.set_defaults(func=cmd_plot)
    return ap


def main(argv=None):
    """Entry point of ``stochgrad-analysis`` and ``python -m apps.analysis``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "steps", 1) < 1 or getattr(args, "samples", 2) < 2:
            raise _Usage("--steps must be >= 1 and --samples >= 2")
        if not (math.isfinite(args.lumi) and args.lumi > 0):
            raise _Usage(f"--lumi must be a positive number, got {args.lumi}")
        return args.func(args)
    except (ValueError, OSError) as err:
        print(f"stochgrad-analysis {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
