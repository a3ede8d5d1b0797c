"""``python -m benchmarks all [--quick] [--only STAGE ...] [--json PATH]``: see benchmarks.suite."""

import sys

from benchmarks.suite import main

sys.exit(main())
