"""Helpers for tests that crawl the demo web: run ``tdir crawl`` as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from crawler.runs import CrawlStore, RunRecord


def run_tdir(
    home: Path, *args: str, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess:
    """Run the ``tdir`` command line with ``TDIR_HOME=home``; return the finished process."""
    environment = {**os.environ, "TDIR_HOME": str(home), **env}
    environment.pop("TDIR_ES_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tdir.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
    )


def crawl(home: Path, sites_json: Path, *sources: str) -> list[RunRecord]:
    """Crawl the named sources of the demo catalog (delays off: every host is loopback)."""
    done = run_tdir(home, "crawl", *sources, "--sites", str(sites_json), "--no-delay", "--json")
    assert done.returncode in (0, 1), done.stderr
    return [RunRecord.from_dict(r) for r in json.loads(done.stdout)]


def latest_records(home: Path, source: str) -> list[dict[str, Any]]:
    """Every record of the source's latest run."""
    store = CrawlStore(home)
    runs = store.runs(source)
    assert runs, f"{source} was never crawled"
    return list(store.records(source, runs[-1].run_id))
