"""``python -m apps.analysis`` = ``stochgrad-analysis``."""

import sys

from .cli import main

sys.exit(main())
