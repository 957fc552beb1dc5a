"""``python -m j1train``."""

import sys

from j1train.cli import main

sys.exit(main())
