"""``python -m apps.jets`` runs the ``stochgrad-jets`` command line."""

import sys

from .cli import main

sys.exit(main())
