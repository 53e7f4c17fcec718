"""``stochgrad-jets generate``: Pythia 8 events to a file."""

from __future__ import annotations

from apps.cliutil import CliError, Outputs, atomic_path, positive_int

__all__ = ["register", "cmd_generate"]


def cmd_generate(args):
    """Generate ``--events`` events of ``--process`` and write them atomically to ``--output``."""
    from ..io.files import save_events
    from ..io.generate import generate_events

    if not 0 <= args.seed <= 900_000_000:
        raise CliError(f"--seed must be in [0, 900000000] (Pythia's range), got {args.seed}")
    out = Outputs(force=args.force)
    out.add(args.output, "--output", kind="events")
    out.check()
    ev = generate_events(args.events, seed=args.seed, progress=not args.quiet, process=args.process)
    with atomic_path(args.output) as tmp:
        save_events(ev, tmp)
    print(f"{len(ev)} events, {ev.counts.mean():.1f} particles/event on average -> {args.output}")
    return 0


def register(sub):
    """Add ``generate`` to ``stochgrad-jets``."""
    p = sub.add_parser("generate", help="generate Pythia 8 gg→H→bb̄ events at 13 TeV")
    p.add_argument("--events", "-n", type=positive_int, required=True, help="number of events")
    p.add_argument("--seed", type=int, default=1, help="Pythia seed in [0, 900000000]")
    p.add_argument("-o", "--output", required=True, help="output file (.npz, .parquet or .root)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--process", default="hbb", choices=("hbb", "zbb", "qcdbb"),
                   help="hard process (apps/jets/io/processes.py): gg→H→bb̄, qq̄→Z/γ*→bb̄ or QCD bb̄")
    p.set_defaults(func=cmd_generate)
