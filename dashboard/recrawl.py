"""Recrawl a source on demand: ``tdir crawl SOURCE`` then ``tdir index``, in the background.

The commands run as child processes of the dashboard, with its environment (so ``TDIR_HOME``,
the backend and the site manifest are the ones the dashboard uses). A worker thread waits for
each step and records the outcome; the output goes to a log file under
``$TDIR_HOME/dashboard/recrawls/``. One recrawl per source at a time; index builds never
overlap, because two builds writing the same index would race.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from crawler.runs import utc_now

Stage = Literal["crawling", "indexing", "finished", "failed"]
CommandFor = Callable[[str], Sequence[str]]


def crawl_command(source: str) -> list[str]:
    """The crawl of one source, as the command line runs it."""
    return [sys.executable, "-m", "tdir.cli", "crawl", source]


def index_command(_source: str) -> list[str]:
    """The incremental index build after a crawl."""
    return [sys.executable, "-m", "tdir.cli", "index"]


class RecrawlBusyError(RuntimeError):
    """A recrawl of this source is already under way."""


@dataclass(frozen=True)
class RecrawlJob:
    """One on-demand recrawl and how far it got."""

    source: str
    started_at: str
    log_path: Path
    stage: Stage = "crawling"
    crawl_exit: int | None = None
    index_exit: int | None = None
    finished_at: str | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        """True until both steps are done (or one failed to start)."""
        return self.stage in ("crawling", "indexing")

    @property
    def summary(self) -> str:
        """One line for people."""
        if self.stage == "crawling":
            return f"Crawling {self.source} (started {self.started_at})"
        if self.stage == "indexing":
            return f"Crawl of {self.source} done; updating the index"
        if self.stage == "finished":
            note = " (the crawl reported errors)" if self.crawl_exit else ""
            return f"Recrawl of {self.source} finished {self.finished_at}{note}"
        return f"Recrawl of {self.source} failed: {self.error}"

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the job's output."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class RecrawlJobs:
    """Starts recrawls and remembers the latest job of each source (thread-safe)."""

    log_dir: Path
    crawl: CommandFor = crawl_command
    index: CommandFor = index_command
    on_indexed: Callable[[], None] | None = None  # after a successful index update
    on_finished: Callable[[], None] | None = None  # after every job, however it ended
    _jobs: dict[str, RecrawlJob] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _index_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self, source: str) -> RecrawlJob:
        """Start recrawling a source; RecrawlBusyError if it is being recrawled already."""
        with self._lock:
            current = self._jobs.get(source)
            if current is not None and current.running:
                raise RecrawlBusyError(f"{source} is already being recrawled")
            self.log_dir.mkdir(parents=True, exist_ok=True)
            started = utc_now()
            stamp = started.replace(":", "").replace("-", "").replace("+0000", "Z")
            job = RecrawlJob(
                source=source, started_at=started, log_path=self.log_dir / f"{source}-{stamp}.log"
            )
            self._jobs[source] = job
        worker = threading.Thread(
            target=self._run, args=(job,), name=f"recrawl-{source}", daemon=True
        )
        worker.start()
        return job

    def job(self, source: str) -> RecrawlJob | None:
        """The latest job of a source, if one was started by this process."""
        with self._lock:
            return self._jobs.get(source)

    def running(self) -> list[RecrawlJob]:
        """Every job still under way."""
        with self._lock:
            return [j for j in self._jobs.values() if j.running]

    def _update(self, job: RecrawlJob, **changes: object) -> RecrawlJob:
        with self._lock:
            updated = replace(job, **changes)  # type: ignore[arg-type]
            self._jobs[job.source] = updated
            return updated

    def _run(self, job: RecrawlJob) -> None:
        try:
            outcome = self._crawl_and_index(job)
        except OSError as exc:
            outcome = {"stage": "failed", "error": str(exc)}
        # Callbacks first, so whoever sees the job end also sees fresh data.
        if outcome["stage"] == "finished" and self.on_indexed is not None:
            self.on_indexed()
        if self.on_finished is not None:
            self.on_finished()
        with self._lock:
            current = self._jobs[job.source]
        self._update(current, finished_at=utc_now(), **outcome)

    def _crawl_and_index(self, job: RecrawlJob) -> dict[str, object]:
        """Run both steps; return the job's final fields."""
        crawl_exit = self._step(job, self.crawl(job.source))
        # Exit 1 means the crawl ran but some run did not finish; what it gathered is recorded
        # and worth indexing. Anything else means it did not run.
        if crawl_exit not in (0, 1):
            return {
                "stage": "failed",
                "crawl_exit": crawl_exit,
                "error": f"the crawl exited with status {crawl_exit}",
            }
        self._update(job, stage="indexing", crawl_exit=crawl_exit)
        with self._index_lock:
            index_exit = self._step(job, self.index(job.source))
        if index_exit != 0:
            return {
                "stage": "failed",
                "index_exit": index_exit,
                "error": f"the index build exited with status {index_exit}",
            }
        return {"stage": "finished", "index_exit": 0}

    def _step(self, job: RecrawlJob, command: Sequence[str]) -> int:
        with job.log_path.open("a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            done = subprocess.run(
                list(command), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            log.write(f"(exit status {done.returncode})\n")
        return done.returncode
