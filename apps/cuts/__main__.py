"""``python -m apps.cuts`` runs the ``stochgrad-cuts`` command line."""

import sys

from .cli import main

sys.exit(main())
