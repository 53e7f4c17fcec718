"""``stochgrad-analysis``: optimise | scan | plot the H → bb̄ analysis (strict JSON out).

* ``optimize``: Adam on unbiased gradients of the expected significance through
  Qanti-kT clustering and stochastic cuts; the result (θ at the start and optimum,
  their hard FastJet significances, history, clusterings, seconds) as JSON;
* ``scan``: the brute-force FastJet grid (best point, best per R, cost) as JSON;
* ``plot``: the three mjj distributions at the start and optimum of an ``optimize`` result.

The command-line rules are those of every stochgrad CLI (:mod:`apps.cliutil`,
docs/reliability.md): a bad argument or an unreadable input is one line on stderr
and exit status 2; the output path is checked before any work (suffix of its kind,
not a directory, not one of the inputs, not existing unless ``--force``); writes are
atomic; JSON is strict (NaN → null). Nothing is written unless ``-o`` names a file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys

from apps.cliutil import (ArgumentParser, CliError, Outputs, at_least, atomic_path, input_file, positive_float, positive_int,
                       nonneg_float, run, seed_int, strict_json)

__all__ = ["main", "build_parser", "strict_json", "PROG"]

PROG = "stochgrad-analysis"
EVENT_SUFFIXES = (".npz", ".parquet", ".pq", ".root")
_PROCESS_OPTIONS = ("hbb", "zbb", "qcdbb")


# ----------------------------------------------------------------------------- argument types

def _start(text):
    """argparse type of ``--start``: ``R,lo,hi,pT`` as four finite numbers with R > 0 and lo < hi."""
    parts = str(text).split(",")
    try:
        vals = [float(x) for x in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected R,lo,hi,pT (4 comma-separated numbers), got {text!r}") from None
    if len(vals) != 4:
        raise argparse.ArgumentTypeError(f"expected R,lo,hi,pT (4 comma-separated numbers), got {len(vals)} "
                                         f"in {text!r}")
    if not all(math.isfinite(v) for v in vals):
        raise argparse.ArgumentTypeError(f"every number must be finite, got {text!r}")
    R, lo, hi, _ = vals
    if R <= 0:
        raise argparse.ArgumentTypeError(f"the jet radius R must be > 0, got {R:g}")
    if not lo < hi:
        raise argparse.ArgumentTypeError(f"the mjj window needs lo < hi, got lo = {lo:g}, hi = {hi:g}")
    return vals


MAX_SYST = 10.0  # a relative background systematic of 1000 %: beyond it Z is meaningless (and overflows at ~1e140)


def _syst(text):
    v = nonneg_float(text)
    if v > MAX_SYST:
        raise argparse.ArgumentTypeError(f"a relative systematic must be in [0, {MAX_SYST:g}], got {v:g}")
    return v


_samples = at_least(2, why="the per-event baseline needs 2 samples")


def _batch(text):
    """argparse type of ``--batch``: ``N`` (≥ 6) or three per-process counts ``HBB,ZBB,QCDBB`` (each ≥ 2)."""
    parts = str(text).split(",")
    if len(parts) == 1:
        return at_least(6, why="2 events per process")(parts[0])
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected N or HBB,ZBB,QCDBB counts, got {text!r}")
    return [at_least(2, why="per process")(p) for p in parts]


def _sharpness(text):
    """argparse type of ``--sharpness``: ``FIRST,LAST`` in GeV, both finite and > 0."""
    parts = str(text).split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected FIRST,LAST in GeV, got {text!r}")
    return [positive_float(p) for p in parts]


# ----------------------------------------------------------------------------- inputs

def _load_events(path, what):
    """One process's events file, checked: readable, ≥ 1 event, finite momenta, a cross section."""
    import numpy as np

    from apps.jets import load_events

    path = input_file(path, what, EVENT_SUFFIXES)
    try:
        ev = load_events(path)
    except ImportError:
        raise
    except Exception as err:  # noqa: BLE001 - npz/zip/parquet/ROOT decoders raise their own types on bad files
        raise CliError(f"{what} {path!r} could not be read as an events file ({type(err).__name__}: {err})") from None
    if len(ev.counts) == 0:
        raise CliError(f"{what} {path!r} holds no events")
    if not np.all(np.isfinite(ev.p4)):
        raise CliError(f"{what} {path!r} has non-finite (NaN or inf) momenta")
    meta = ev.meta or {}
    try:
        sigma, n_gen = float(meta["sigma_pb"]), float(meta["n_events"])
    except (KeyError, TypeError, ValueError):
        raise CliError(f"{what} {path!r} carries no cross section (meta 'sigma_pb' and 'n_events'); "
                       "make it with `stochgrad-jets generate --process NAME`") from None
    if not (math.isfinite(sigma) and sigma > 0 and math.isfinite(n_gen) and n_gen > 0):
        raise CliError(f"{what} {path!r}: cross section {sigma!r} pb over {n_gen!r} events is not usable")
    return ev


def _input_paths(args):
    """``{process: path}`` of the event files (the embedded samples unless an option names one)."""
    from .samples import DEFAULT_FILES

    given = {name: getattr(args, name, None) for name in _PROCESS_OPTIONS}
    return {name: DEFAULT_FILES[name] if path is None else path for name, path in given.items()}


def _sample(args):
    """The weighted sample (every file checked and read before any clustering)."""
    from .samples import load_samples

    events = {name: _load_events(path, f"--{name}") for name, path in _input_paths(args).items()}
    return load_samples(events, luminosity_fb=args.lumi)


def _read_result(path):
    """The ``optimize`` result JSON named by ``plot``: its start and optimum points, checked."""
    path = input_file(path, "result file")
    try:
        with open(path, encoding="utf-8") as fh:
            res = json.load(fh)
    except (ValueError, UnicodeDecodeError) as err:
        raise CliError(f"result file {path!r} is not valid JSON: {err}") from None
    points = []
    for key in ("hard_start", "hard"):
        p = res.get(key) if isinstance(res, dict) else None
        try:
            vals = {k: float(p[k]) for k in ("R", "lo", "hi", "pt")}
        except (KeyError, TypeError, ValueError):
            raise CliError(f"result file {path!r} is not an `optimize` result (no {key!r} with R, lo, hi, pt)") \
                from None
        if not all(math.isfinite(v) for v in vals.values()) or vals["R"] <= 0 or not vals["lo"] < vals["hi"]:
            raise CliError(f"result file {path!r}: {key!r} needs finite R > 0 and lo < hi, got {vals}")
        z = p.get("Z")
        vals["Z"] = float(z) if isinstance(z, (int, float)) and not isinstance(z, bool) and math.isfinite(z) else None
        points.append(vals)
    return points


# ----------------------------------------------------------------------------- outputs

def _plan(args, kind, inputs=()):
    """Check ``-o`` before any work: suffix of ``kind``, not a directory, not an input, ``--force`` to replace."""
    out = Outputs(force=args.force)
    if args.output is None:
        return out, None
    path = out.add(args.output, "-o/--output", kind=kind)
    key = os.path.realpath(path)
    for what, p in inputs:
        if p is not None and os.path.realpath(p) == key:
            raise CliError(f"-o/--output {path!r} is the same file as the input {what}; it would be overwritten")
    out.check()
    return out, path


def write_json(path, obj):
    """Strict JSON (NaN/inf → null) written atomically to ``path``."""
    text = strict_json(obj) + "\n"
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return path


# ----------------------------------------------------------------------------- commands

def cmd_optimize(args):
    """``optimize``: the gradient optimisation; summary on stdout, result as JSON with ``-o``."""
    from .optimize import optimize_analysis
    from .samples import background_floor

    if args.hold_r >= args.steps:
        raise CliError(f"--hold-r {args.hold_r} must be less than --steps {args.steps}")
    _, js = _plan(args, "json", [(f"--{p}", q) for p, q in _input_paths(args).items()])
    sample = _sample(args)
    if args.batch is not None:
        from .optimize import batch_sampler

        try:
            batch_sampler(sample, args.batch)
        except ValueError as err:
            raise CliError(f"--batch {args.batch}: {err}") from None
    sharp = {} if args.sharpness is None else {"scale": tuple(args.sharpness)}
    res = optimize_analysis(sample, args.start, steps=args.steps, samples=args.samples, alpha=args.alpha,
                            rel_syst=args.syst, b_min=background_floor(sample, args.floor_events),
                            seed=args.seed, batch=args.batch, refine=args.refine, hold_r=args.hold_r,
                            r_step=args.r_step, progress=args.progress, **sharp)
    out = dataclasses.asdict(res)
    out["command"] = "optimize"
    if js:
        write_json(js, out)
    h0, h1 = res.hard_start, res.hard
    print(f"start   R={h0['R']:.3f} window=({h0['lo']:.1f}, {h0['hi']:.1f}) pT1>{h0['pt']:.1f}  Z={_z(h0['Z'])}")
    print(f"optimum R={h1['R']:.3f} window=({h1['lo']:.1f}, {h1['hi']:.1f}) pT1>{h1['pt']:.1f}  Z={_z(h1['Z'])}")
    if res.descent is not None:
        d = res.descent
        print(f"descent R={d['R']:.3f} window=({d['lo']:.1f}, {d['hi']:.1f}) pT1>{d['pt']:.1f}  Z={_z(d['Z'])} "
              "(before the cut refinement)")
    what = "clusterings (Qanti-kT + FastJet at R*)" if res.descent is not None else "Qanti-kT clusterings"
    print(f"{res.clusterings} {what}, {res.seconds:.1f} s" + (f" -> {js}" if js else ""))
    return 0


def cmd_scan(args):
    """``scan``: the brute-force FastJet grid; summary on stdout, result as JSON with ``-o``."""
    from .grid import grid_search
    from .samples import background_floor

    _, js = _plan(args, "json", [(f"--{p}", q) for p, q in _input_paths(args).items()])
    sample = _sample(args)
    res = grid_search(sample, rel_syst=args.syst, b_min=background_floor(sample, args.floor_events))
    if not all(math.isfinite(x) for x in (res.best["Z"], res.best["s"], res.best["b"])):
        raise CliError(f"the significance is not finite at the grid's best point ({res.best}); nothing written")
    out = dataclasses.asdict(res)
    out["command"] = "scan"
    out["settings"] = {"rel_syst": args.syst, "luminosity_fb": args.lumi, "floor_events": args.floor_events,
                       "events": len(sample)}
    if js:
        write_json(js, out)
    b = res.best
    print(f"best R={b['R']:.2f} window=({b['lo']:.1f}, {b['hi']:.1f}) pT1>{b['pt']:.1f}  Z={_z(b['Z'])}  "
          f"({res.n_points} points, {res.clusterings} FastJet clusterings, {res.seconds:.1f} s)"
          + (f" -> {js}" if js else ""))
    return 0


def cmd_plot(args):
    """``plot``: mjj distributions at the start and optimum of an ``optimize`` result (image file)."""
    from .plots import plot_mjj

    _, png = _plan(args, "image", [("result file", args.result)]
                   + [(f"--{p}", q) for p, q in _input_paths(args).items()])
    points = _read_result(args.result)
    sample = _sample(args)
    plot_mjj(sample, points, png, titles=["start", "optimum (gradient)"])
    print(f"wrote {png}")
    return 0


def _z(z):
    return "n/a" if z is None or not math.isfinite(z) else f"{z:.4g}"


# ----------------------------------------------------------------------------- parser

def _common(p):
    p.add_argument("--lumi", type=positive_float, default=140.0, help="integrated luminosity in fb^-1 (default 140)")
    p.add_argument("--hbb", help="signal events file (.npz/.parquet/.root; default: the embedded sample)")
    p.add_argument("--zbb", help="Z/γ*→bb̄ events file (default: embedded)")
    p.add_argument("--qcdbb", help="QCD bb̄ events file (default: embedded)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")


def _stat(p):
    p.add_argument("--syst", type=_syst, default=0.0,
                   help=f"relative background systematic δ in [0, {MAX_SYST:g}] (default 0)")
    p.add_argument("--floor-events", type=positive_float, default=25.0,
                   help="background floor in background MC events, > 0 (default 25)")
    p.add_argument("-o", "--output", help="JSON output file (default: none, summary only)")


def build_parser():
    """The argparse parser of ``stochgrad-analysis`` (errors raise :class:`apps.cliutil.CliError`)."""
    ap = ArgumentParser(prog=PROG,
                        description="H→bb̄ over Z→bb̄ and QCD bb̄: jet radius, mjj window and leading-jet "
                                    "pT optimised together through Qanti-kT clustering and stochastic cuts.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=ArgumentParser)
    o = sub.add_parser("optimize", help="gradient optimisation of (R, window, pT cut)")
    o.add_argument("--start", type=_start, default=[0.4, 90.0, 150.0, 30.0],
                   help="R,lo,hi,pT start with R > 0 and lo < hi (default 0.4,90,150,30)")
    o.add_argument("--steps", type=positive_int, default=40, help="Adam steps, >= 1 (default 40)")
    o.add_argument("--samples", type=_samples, default=4,
                   help="clusterings of every event per step, >= 2 (default 4)")
    o.add_argument("--alpha", type=positive_float, default=10.0, help="Qanti-kT α > 0 (default 10)")
    o.add_argument("--seed", type=seed_int, default=0, help="seed in [0, 2**63) (default 0)")
    o.add_argument("--batch", type=_batch, default=None,
                   help="events per step, a random subset stratified by process (default: every event): N "
                        "(in proportion to the process sizes) or HBB,ZBB,QCDBB counts; the significance is then "
                        "linearised around the running yields")
    o.add_argument("--sharpness", type=_sharpness, default=None,
                   help="cut sharpness FIRST,LAST in GeV, annealed geometrically (default 4,1)")
    o.add_argument("--hold-r", type=at_least(0), default=0,
                   help="first steps in which R stays at its start while the cuts move (default 0); < --steps")
    o.add_argument("--r-step", type=positive_float, default=None,
                   help="R gradient by central differences with common random numbers, step in grid units "
                        "(0.1 in R per unit; two clusterings per event; default: the score function)")
    o.add_argument("--refine", action=argparse.BooleanOptionalAction, default=True,
                   help="at the end, cluster every event once with FastJet at R* and re-optimise the cuts there "
                        "with the cuts app's optimiser (counted; default on, --no-refine for the descent's own "
                        "cuts)")
    o.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="progress on stderr: a bar on a terminal, a line at least every 10 s otherwise "
                        "(default on; --no-progress for none)")
    _common(o)
    _stat(o)
    o.set_defaults(func=cmd_optimize)
    s = sub.add_parser("scan", help="brute-force FastJet grid over (R, window, pT cut)")
    _common(s)
    _stat(s)
    s.set_defaults(func=cmd_scan)
    p = sub.add_parser("plot", help="mjj distributions at the start and optimum of an optimize result")
    p.add_argument("result", help="JSON written by `optimize -o`")
    p.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg, .jpg)")
    _common(p)
    p.set_defaults(func=cmd_plot)
    return ap


def main(argv=None):
    """Entry point of ``stochgrad-analysis`` and ``python -m apps.analysis``.

    Every error is one stderr line and exit status 2 (see :func:`apps.cliutil.run`).

    Args:
        argv: arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    return run(PROG, build_parser(), argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
