"""Job tickets: what the crawl of a Scrapyd job tells the dispatcher through the data directory.

Scrapyd's job list says only that a job is pending, running or finished. So the crawl of job
``J`` writes ``<TDIR_HOME>/scrapyd/jobs/J.json`` as soon as it knows: the run it opened (or
resumed) and the code it runs, or why it could not start. The dispatcher reads it while the job
runs, to refuse a node that runs other code than the egg it deployed, and once it has ended, to
find the run's record; then it removes it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class JobTicket:
    """What one job's crawl reported."""

    job: str
    source: str
    run_id: str | None = None  # the crawl run it opened or resumed; None if it opened none
    resumed: bool = False
    code_version: str | None = None  # the version of the code it runs (None: not known)
    code_origin: str | None = None  # where it imported the crawler from
    host: str | None = None
    pid: int | None = None
    error: str | None = None  # why it could not start, or stopped before crawling

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobTicket:
        """Rebuild a ticket from its JSON form, ignoring fields it does not know."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class JobTickets:
    """The tickets of every job dispatched on one data directory."""

    def __init__(self, home: Path) -> None:
        self.directory = home / "scrapyd" / "jobs"

    def path(self, job: str) -> Path:
        """The ticket file of a job; ValueError for an id that is no plain job id."""
        if not _JOB_ID.match(job):
            # Job ids arrive as spider arguments: never let one name a path elsewhere.
            raise ValueError(f"{job!r} is not a Scrapyd job id")
        return self.directory / f"{job}.json"

    def write(self, ticket: JobTicket) -> None:
        """Write a job's ticket atomically: a reader sees the old one or the new one, whole."""
        path = self.path(ticket.job)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(ticket), indent=2), encoding="utf-8")
        os.replace(tmp, path)

    def read(self, job: str) -> JobTicket | None:
        """A job's ticket, or None if its crawl has written none (yet)."""
        try:
            data = json.loads(self.path(job).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable counts as none: the job's log then says what happened
        return JobTicket.from_dict(data) if isinstance(data, dict) else None

    def remove(self, job: str) -> None:
        """Forget a job's ticket."""
        self.path(job).unlink(missing_ok=True)
