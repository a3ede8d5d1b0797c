"""Where crawls keep what they gathered: append-only run directories and run records.

Layout under ``<TDIR_HOME>/crawl/<source>/``:

- ``runs/<run_id>/items.jsonl``: every record the run gathered (Scrapy feed export, JSON Lines);
- ``runs/<run_id>/run.json``: the run record (start/end, pages, items per type, errors by kind,
  finished or interrupted);
- ``job/``: Scrapy's JOBDIR while a run is unfinished, so the next crawl of the source resumes it;
  removed when a run finishes;
- ``httpcache/``: cached responses for conditional recrawls.

A run never rewrites another run's files, so nothing a run wrote is lost if a later one crashes.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

RunStatus = Literal["running", "finished", "interrupted", "failed"]
ITEMS_FILE = "items.jsonl"
RUN_FILE = "run.json"
_RESUMABLE = "run_id"  # a file in the JOBDIR naming the run it belongs to


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string (seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass
class RunRecord:
    """What one crawl of one source did."""

    source: str
    run_id: str
    started_at: str
    finished_at: str | None = None
    status: RunStatus = "running"
    finish_reason: str | None = None
    resumed: bool = False
    pages: int = 0
    bytes: int = 0
    items: dict[str, int] = field(default_factory=dict)
    duplicates_dropped: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    robots_disallowed: int = 0

    @property
    def complete(self) -> bool:
        """True when the run went through the whole source."""
        return self.status == "finished"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Rebuild a record from its JSON form, ignoring fields newer versions added."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class CrawlStore:
    """The crawl directories of every source under one data directory."""

    def __init__(self, home: Path) -> None:
        self.root = home / "crawl"

    def source_dir(self, source: str) -> Path:
        """The directory of one source."""
        return self.root / source

    def job_dir(self, source: str) -> Path:
        """Scrapy's JOBDIR for the source's unfinished run."""
        return self.source_dir(source) / "job"

    def http_cache_dir(self, source: str) -> Path:
        """Cached responses of the source, for conditional recrawls."""
        return self.source_dir(source) / "httpcache"

    def run_dir(self, source: str, run_id: str) -> Path:
        """The directory of one run."""
        return self.source_dir(source) / "runs" / run_id

    def start_run(self, source: str) -> tuple[str, bool]:
        """Return the run to crawl into: the unfinished one if there is one, else a new one.

        Returns ``(run_id, resumed)``.
        """
        job = self.job_dir(source)
        marker = job / _RESUMABLE
        if marker.exists():
            run_id = marker.read_text(encoding="utf-8").strip()
            if (self.run_dir(source, run_id) / RUN_FILE).exists():
                return run_id, True
            shutil.rmtree(job)  # a job without its run: nothing to resume into
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.run_dir(source, run_id).mkdir(parents=True, exist_ok=False)
        job.mkdir(parents=True, exist_ok=True)
        marker.write_text(run_id, encoding="utf-8")
        return run_id, False

    def end_job(self, source: str) -> None:
        """Forget the JOBDIR once its run finished: the next crawl starts afresh."""
        shutil.rmtree(self.job_dir(source), ignore_errors=True)

    def write_record(self, record: RunRecord) -> None:
        """Write a run record atomically (a crash leaves the old or the new one, whole)."""
        path = self.run_dir(record.source, record.run_id) / RUN_FILE
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
        os.replace(tmp, path)

    def read_record(self, source: str, run_id: str) -> RunRecord:
        """Read one run record."""
        path = self.run_dir(source, run_id) / RUN_FILE
        return RunRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def runs(self, source: str) -> list[RunRecord]:
        """Every run record of a source, oldest first."""
        runs_dir = self.source_dir(source) / "runs"
        if not runs_dir.exists():
            return []
        return [
            self.read_record(source, d.name)
            for d in sorted(runs_dir.iterdir())
            if (d / RUN_FILE).exists()
        ]

    def sources(self) -> list[str]:
        """Every source that has been crawled at least once."""
        if not self.root.exists():
            return []
        return sorted(d.name for d in self.root.iterdir() if (d / "runs").exists())

    def items_path(self, source: str, run_id: str) -> Path:
        """The JSON Lines file of a run's records."""
        return self.run_dir(source, run_id) / ITEMS_FILE

    def records(self, source: str, run_id: str) -> Iterator[dict[str, Any]]:
        """Every record a run wrote; a line cut short by a crash is skipped."""
        path = self.items_path(source, run_id)
        if not path.exists():
            return
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue
