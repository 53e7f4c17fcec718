"""``stochgrad-jets``: the command line (argparse subcommands) of the jets app.

One registry: :data:`COMMANDS` lists the modules of this package that define
``register(subparsers)``; :func:`build_parser` calls each in order. Adding a
subcommand is adding a module with a ``register`` function and its name here.
"""

from __future__ import annotations

import importlib
import sys

from apps.cliutil import ArgumentParser, run

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = ("generate", "optimize", "radius_map")  # modules of apps.jets.cli, in the order of the help


def build_parser():
    """The parser with every subcommand of :data:`COMMANDS`."""
    parser = ArgumentParser(
        prog="stochgrad-jets",
        description="Jets: Pythia 8 gg→H→bb̄ events, anti-kT / Qanti-kT clustering, jet-radius optimisation.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
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
