import sys

from j1eval.cli import main

sys.exit(main())
