"""Helpers shared by the ``stochgrad-jets`` subcommands: reading ``--events``, ``--backend``, argument types."""

from __future__ import annotations

import json
import sys

from apps.cliutil import CliError, at_least, in_interval, input_file, nonneg_float, positive_float

__all__ = ["add_input_arguments", "selection_from_args", "load_from_args", "events_from_args", "read_json",
           "backend_arg", "with_backend", "target_args", "events_label",
           "samples", "fraction", "lr_schedule_from_args"]

samples = at_least(2, why="baselines and standard errors need 2 samples")
fraction = in_interval(0.0, 1.0, (False, True))  # (0, 1]


def add_input_arguments(parser):
    """Add ``--tree``, ``--branches`` and ``--field`` (how to read ``--events`` files) to a CLI parser."""
    parser.add_argument("--tree", default=None, help="ROOT: the TTree (default: Events, Delphes or the only one)")
    parser.add_argument("--branches", default=None,
                        help="ROOT: a collection prefix (PFCands) or coordinate=branch pairs, e.g. "
                             "pt=PFCands_pt,eta=PFCands_eta,phi=PFCands_phi,mass=PFCands_mass "
                             "(default: found for NanoAOD / Delphes-like names)")
    parser.add_argument("--field", default=None, help="Parquet: the field holding the particle records")
    g = parser.add_argument_group("particle selection (docs/jets.md, 'Start from your events')")
    g.add_argument("--select", default=None, metavar="EXPR",
                   help="keep the particles for which EXPR holds, e.g. \"status == 1 and abs(pdgId) not in "
                        "(12, 14, 16)\": the collection's columns (case-insensitive) and pt, eta, rapidity, phi, "
                        "mass, E; and/or/not, comparisons, in (...), + - * / **, abs()")
    g.add_argument("--particle-pt-min", type=nonneg_float, default=None, metavar="GEV",
                   help="keep particles with pT >= GEV")
    g.add_argument("--particle-pt-max", type=nonneg_float, default=None, metavar="GEV",
                   help="keep particles with pT <= GEV")
    g.add_argument("--particle-abs-eta-max", type=positive_float, default=None, metavar="ETA",
                   help="keep particles with |pseudorapidity| <= ETA")


def selection_from_args(args):
    """The :class:`~apps.jets.io.select.Selection` of ``--select`` and the particle pT / |η| options (None if none)."""
    from ..io.select import Selection

    sel = Selection(getattr(args, "select", None), getattr(args, "particle_pt_min", None),
                    getattr(args, "particle_pt_max", None), getattr(args, "particle_abs_eta_max", None))
    return sel if sel else None


def load_from_args(path, args):
    """:func:`apps.jets.io.load_events` with the options of :func:`add_input_arguments`."""
    from ..io.files import load_events

    kw = {k: getattr(args, k, None) for k in ("tree", "branches", "field")}
    try:
        sel = selection_from_args(args)
    except ValueError as err:
        raise CliError(f"--select: {err}") from None
    return load_events(path, select=sel, **{k: v for k, v in kw.items() if v is not None})


def events_from_args(args):
    """The events named by ``--events`` (checked: a readable file holding at least one event)."""
    from ..io.files import load_default_events

    if args.events in (None, "default"):
        from ..io.files import select_events

        try:
            sel = selection_from_args(args)
        except ValueError as err:
            raise CliError(f"--select: {err}") from None
        try:
            ev = select_events(load_default_events(), sel)
        except ValueError as err:
            raise CliError(f"the embedded events: {err}") from None
    else:
        path = input_file(args.events, "--events")
        try:
            ev = load_from_args(path, args)
        except CliError:
            raise
        except (ValueError, OSError, KeyError, EOFError) as err:
            raise CliError(f"--events {path!r} could not be read as an events file: {err}") from None
        except ImportError:
            raise
        except Exception as err:  # zip/npz/parquet/ROOT decoders raise their own types on truncated files
            raise CliError(f"--events {path!r} could not be read as an events file "
                           f"({type(err).__name__}: {err})") from None
    if len(ev.counts) == 0:
        raise CliError(f"--events {args.events!r} holds no events")
    n = getattr(args, "n_events", None)
    if n is not None:
        if n > len(ev.counts):
            print(f"note: {args.events or 'default'} holds {len(ev.counts)} events; using all", file=sys.stderr)
        ev = ev.subset(slice(0, n))
    return ev


def read_json(path, what):
    """The JSON content of an input file named by option ``what`` (one-line errors)."""
    path = input_file(path, what)
    try:
        with open(path) as fh:
            return json.load(fh)
    except (ValueError, UnicodeDecodeError) as err:
        raise CliError(f"{what} {path!r} is not valid JSON: {err}") from None


def target_args(p):
    """Add ``--target-mass`` and ``--label`` (what the events are, for titles and JSON)."""
    p.add_argument("--target-mass", type=positive_float, default=125.0, metavar="GEV",
                   help="the resonance mass the dijet mass should reconstruct (GeV): 125 for H→bb̄ (default), "
                        "91.19 for Z→bb̄")
    p.add_argument("--label", default=None,
                   help="what the events are, for plot titles and the JSON (default: from the file's metadata, "
                        "e.g. the generator's process, else the file name)")


def events_label(ev, args):
    """``--label``, else the events' process from their metadata, else the file name."""
    if getattr(args, "label", None):
        return args.label
    meta = ev.meta or {}
    if isinstance(meta.get("label"), str) and meta["label"]:
        return meta["label"]
    proc = meta.get("process")
    if isinstance(proc, str):
        from ..io.processes import PROCESSES

        if proc in PROCESSES:
            return f"Pythia 8 {PROCESSES[proc].label}, √s = 13 TeV"
        return proc
    events = getattr(args, "events", None)
    if events in (None, "default"):
        return "Pythia 8 gg → H → bb̄, √s = 13 TeV"
    import os

    return os.path.basename(str(events))


def backend_arg(p):
    """Add ``--backend`` to a subcommand's parser."""
    p.add_argument("--backend", choices=("cpu", "cuda", "cuda-emulated", "auto"), default=None,
                   help="clustering backend (default: cpu; auto = cuda when CuPy sees a GPU)")


def with_backend(fn):
    """Run a subcommand with the engine's default backend set from ``--backend``."""
    def run(args):
        from ..clustering.backends import get_backend
        from ..clustering.engine import use_backend

        name = getattr(args, "backend", None)
        if name not in (None, "cpu", "auto"):
            try:  # no CuPy / no device / no host compiler: one line, before any work
                get_backend(name, None)
            except RuntimeError as err:
                raise ValueError(f"--backend {name}: {err}") from None
        with use_backend(name):
            return fn(args)
    return run


def lr_schedule_from_args(args):
    """:func:`apps.jets.study.optimize.lr_schedule` from ``optimize``'s options."""
    from ..study.optimize import lr_schedule

    return lr_schedule(args.lr, args.steps, lr_tail=args.lr_tail, tail=args.tail, burn=args.burn,
                       lr_decay=args.lr_decay, per_event=args.per_event)
