"""``python -m benchmarks``: run every section and write ``benchmarks/results/latest.{md,json}``."""

import sys

from benchmarks.run import main

sys.exit(main())
