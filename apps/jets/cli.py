"""``stochgrad-jets``: argparse subcommands.

Adding a subcommand is registering a function that receives the subparsers object::

    from apps.jets.cli import register

    @register
    def _add_mine(sub):
        p = sub.add_parser("mine", help="...")
        p.set_defaults(func=run_mine)   # run_mine(args) -> exit code

Registrars listed in ``PLUGIN_MODULES`` (modules with a ``register(sub)`` function) are
imported when the parser is built, so other modules need not touch this file.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

from apps.cliutil import ArgumentParser, CliError, Outputs, atomic_path, positive_int, run

__all__ = ["main", "build_parser", "register", "REGISTRARS", "PLUGIN_MODULES"]

REGISTRARS = []
PLUGIN_MODULES = ["apps.jets.commands"]


def register(fn):
    """Add ``fn(subparsers)`` to the registrars (usable as a decorator)."""
    if fn not in REGISTRARS:
        REGISTRARS.append(fn)
    return fn


def cmd_generate(args):
    from .events import save_events
    from .generate import generate_events

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


@register
def _add_generate(sub):
    p = sub.add_parser("generate", help="generate Pythia 8 gg→H→bb̄ events at 13 TeV")
    p.add_argument("--events", "-n", type=positive_int, required=True, help="number of events")
    p.add_argument("--seed", type=int, default=1, help="Pythia seed in [0, 900000000]")
    p.add_argument("-o", "--output", required=True, help="output file (.npz, .parquet or .root)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--process", default="hbb", choices=("hbb", "zbb", "qcdbb"),
                   help="hard process (apps/jets/processes.py): gg→H→bb̄, qq̄→Z/γ*→bb̄ or QCD bb̄")
    p.set_defaults(func=cmd_generate)


def build_parser():
    """The parser with every registered subcommand (plugins imported on demand)."""
    parser = ArgumentParser(
        prog="stochgrad-jets",
        description="Jets: Pythia 8 gg→H→bb̄ events, anti-kT / Qanti-kT clustering, jet-radius optimisation.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for fn in REGISTRARS:
        fn(sub)
    for name in PLUGIN_MODULES:
        if importlib.util.find_spec(name) is not None:
            mod = importlib.import_module(name)
            if hasattr(mod, "register"):
                mod.register(sub)
    return parser


def main(argv=None):
    """Entry point of ``stochgrad-jets``: every error is one stderr line and exit status 2.

    Args:
        argv: arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    return run("stochgrad-jets", build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
