"""How long each script run of the dashboard takes on the server, for benchmarks and operators.

With ``TDIR_DASHBOARD_TIMINGS`` naming a file, every run of a page appends one JSON line:
the page, the run's seconds on the server (from the start of the script to its end, whether
it ended, stopped for a rerun or failed) and when. Unset, nothing is measured or written.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

TIMINGS_ENV = "TDIR_DASHBOARD_TIMINGS"


@contextmanager
def timed_run(page: str) -> Iterator[None]:
    """Time the block as one script run of ``page``."""
    path = os.environ.get(TIMINGS_ENV)
    started = time.perf_counter()
    try:
        yield
    finally:
        if path:
            line = {
                "page": page,
                "seconds": round(time.perf_counter() - started, 6),
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            with open(path, "a", encoding="utf-8") as timings:
                timings.write(json.dumps(line) + "\n")
