"""``python -m apps.reactions``: the stochgrad-reactions command line."""

from .cli import main

raise SystemExit(main())
