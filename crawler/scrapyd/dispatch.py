"""Crawls dispatched to Scrapyd: a node is chosen, sent the egg it lacks, given the job, and
followed until the job ends; the run's record is then read from the shared data directory.

- **Which node**: the least busy that answers (``daemonstatus.json``: running plus pending
  jobs), ties taken in turn, so equal nodes share the work. A node that does not answer, or
  refuses the egg or the job, is passed over for the next one; when none can take it, the
  crawl fails with every node's reason.
- **Which code**: the egg of the code this process runs (:mod:`crawler.scrapyd.egg`), deployed
  with ``addversion.json`` to a node that lacks it, and named in each job (``_version``), so
  that a node never runs another version than the one asked for. A node that imports other
  code anyway (an older tdir installed there) is found out from the job's ticket and stopped.
- **The run**: the node's crawl opens its run in the data directory (``TDIR_SCRAPYD_HOME``) as a
  local crawl does and says which in its ticket (:mod:`crawler.scrapyd.tickets`); once the job
  has ended, a run its crawl left ``running`` is closed as failed, as a local one would be.
- **Stopping**: a stop asks Scrapyd to cancel the job with SIGINT, which Scrapy takes as a
  Ctrl+C (the run is interrupted and resumes next time), then with SIGKILL if it has not ended
  after a minute. A node that stops answering while its job runs is given up on after two
  minutes: the crawl fails, its run (if the job is in fact still going) stays on disk.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from crawler.catalog import placeholders
from crawler.runner import final_record
from crawler.runs import CrawlStore, RunRecord, SourceBusyError
from crawler.scrapyd.client import (
    JobStatus,
    NodeUnavailableError,
    ScrapydError,
    ScrapydNode,
)
from crawler.scrapyd.egg import Egg, EggBuildError, build_egg
from crawler.scrapyd.spider import SPIDER_NAME
from crawler.scrapyd.tickets import JobTicket, JobTickets
from tdir.config import ScrapydSettings, crawl_timeout

log = logging.getLogger(__name__)

POLL_FIRST = 0.25  # seconds between looks at a job, at first: short crawls end soon after
POLL_MAX = 5.0  # ... growing to this for long ones
STOP_PATIENCE = 60.0  # seconds a cancelled job has to close its run before it is killed
LOST_AFTER = 120.0  # seconds a node may be silent while its job runs
VANISHED_POLLS = 3  # looks in a row that do not find the job: the node has forgotten it
EGGS_KEPT = 5  # eggs of earlier code kept in the data directory
_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$")


@dataclass(frozen=True)
class DispatchedJob:
    """A crawl handed to a node."""

    node: ScrapydNode
    job: str
    source: str
    version: str
    log_file: Path | None = None


@dataclass(frozen=True)
class CrawlOutcome:
    """How a dispatched crawl ended: its run's record (None if it opened no run) and, when it
    did not go through its source, why (None: the record's status says it all)."""

    record: RunRecord | None
    error: str | None
    node: str
    job: str


@dataclass(frozen=True)
class NodeReport:
    """What a node says of itself, for ``tdir scrapyd status``."""

    node: str
    running: int | None = None
    pending: int | None = None
    versions: tuple[str, ...] = ()
    problem: str | None = None


class ScrapydDispatcher:
    """Runs crawls on the Scrapyd nodes of ``settings``, for the data directory ``home``.

    Thread-safe: the scheduler's workers dispatch through one dispatcher.
    """

    def __init__(self, settings: ScrapydSettings, home: Path, *, timeout: float = 10.0) -> None:
        if not settings.urls:
            raise ValueError("no Scrapyd node to dispatch to")
        self.settings = settings
        self.home = home.resolve()
        self.node_home = settings.node_home or self.home
        self.nodes = [ScrapydNode(url, timeout=timeout) for url in settings.urls]
        self.tickets = JobTickets(self.home)
        self.store = CrawlStore(self.home)
        self._turns = itertools.count()
        self._egg_lock = threading.Lock()
        self._deploy_locks = {node.url: threading.Lock() for node in self.nodes}

    @classmethod
    def from_env(cls, home: Path, env: Mapping[str, str] | None = None) -> ScrapydDispatcher | None:
        """The dispatcher ``TDIR_SCRAPYD_*`` describe, or None when no node is configured."""
        settings = ScrapydSettings.from_env(env)
        return cls(settings, home) if settings.enabled else None

    @property
    def project(self) -> str:
        """The Scrapyd project the crawler is deployed as."""
        return self.settings.project

    # -- the egg ---------------------------------------------------------------------------

    def egg(self) -> Egg:
        """The egg of the code this process runs (built once per version of the code)."""
        directory = self.home / "scrapyd" / "eggs"
        with self._egg_lock:
            egg = build_egg(directory)
            _prune_eggs(directory, keep=egg.path)
        return egg

    def deploy(self, node: ScrapydNode, egg: Egg) -> bool:
        """Upload the egg to the node unless it has that version; True if it was uploaded."""
        with self._deploy_locks[node.url]:
            if egg.version in node.versions(self.project):
                return False
            spiders = node.add_version(self.project, egg.version, egg.path)
            if spiders < 1:
                raise ScrapydError(
                    f"Scrapyd node {node.label} finds no spider in the egg {egg.version}"
                )
            log.info("deployed %s %s to %s", self.project, egg.version, node.label)
            return True

    def deploy_everywhere(self) -> dict[str, str]:
        """Deploy the egg to every node; return what happened on each, by node."""
        egg = self.egg()
        done: dict[str, str] = {}
        for node in self.nodes:
            try:
                sent = self.deploy(node, egg)
            except ScrapydError as exc:
                done[node.label] = f"failed: {exc}"
            else:
                done[node.label] = f"{'deployed' if sent else 'already has'} {egg.version}"
        return done

    # -- nodes -----------------------------------------------------------------------------

    def ranked_nodes(self) -> tuple[list[ScrapydNode], list[str]]:
        """The nodes that answer, least busy first (ties in turn), and why the others are
        left out."""
        turn = next(self._turns) % len(self.nodes)
        rotated = self.nodes[turn:] + self.nodes[:turn]
        loads: list[tuple[int, ScrapydNode]] = []
        problems: list[str] = []
        for node in rotated:
            try:
                loads.append((node.load().jobs, node))
            except ScrapydError as exc:
                problems.append(str(exc))
        loads.sort(key=lambda pair: pair[0])  # stable: equal loads keep their turn
        return [node for _, node in loads], problems

    def report(self) -> list[NodeReport]:
        """Each node's load and the project's versions on it, or why it cannot say."""
        reports = []
        for node in self.nodes:
            try:
                load = node.load()
                versions = tuple(node.versions(self.project))
            except ScrapydError as exc:
                reports.append(NodeReport(node.label, problem=str(exc)))
            else:
                reports.append(NodeReport(node.label, load.running, load.pending, versions))
        return reports

    # -- crawls ----------------------------------------------------------------------------

    def submit(
        self,
        source: str,
        catalog_yaml: str,
        values: Mapping[str, str],
        *,
        no_delay: bool = False,
        log_file: Path | None = None,
    ) -> DispatchedJob:
        """Hand the crawl of ``source`` to the least busy node that takes it.

        ``catalog_yaml`` is a catalog holding the source's entry; of ``values``, only the
        variables its ``${NAME}`` placeholders name are sent. ScrapydError (naming every node
        and its reason) when no node takes the job; EggBuildError if the egg cannot be built.
        """
        variables = {name: values[name] for name in placeholders(catalog_yaml) if name in values}
        settings = {"TDIR_HOME_PATH": str(self.node_home), "LOG_LEVEL": "INFO"}
        if os.environ.get("TDIR_CRAWL_TIMEOUT"):
            settings["TDIR_CRAWL_TIMEOUT"] = str(crawl_timeout())  # checked here, not on a node
        arguments = {
            "source": source,
            "catalog_yaml": catalog_yaml,
            "variables": json.dumps(variables, sort_keys=True),
            "no_delay": "true" if no_delay else "false",
        }
        egg = self.egg()
        job = uuid.uuid4().hex
        nodes, problems = self.ranked_nodes()
        for node in nodes:
            try:
                self.deploy(node, egg)
                node.schedule(
                    self.project,
                    SPIDER_NAME,
                    job=job,
                    version=egg.version,
                    settings=settings,
                    arguments=arguments,
                )
            except ScrapydError as exc:
                problems.append(str(exc))
                continue
            _note(
                log_file,
                f"$ scrapyd: job {job} of {self.project} {egg.version} on {node.label}: "
                f"crawl {source}\n",
            )
            log.info("%s: Scrapyd job %s on %s", source, job, node.label)
            return DispatchedJob(node, job, source, egg.version, log_file)
        raise ScrapydError(
            f"no Scrapyd node can take the crawl of {source!r}: {'; '.join(problems)}"
        )

    def wait(self, job: DispatchedJob, stop: threading.Event | None = None) -> CrawlOutcome:  # noqa: C901 - one polling loop over the job's state (cancel, kill, ticket, silence, vanishing) that would otherwise travel between pieces
        """Follow the job until it ends; return its outcome. Setting ``stop`` cancels it (the
        run is interrupted and resumes next time) and waits for it to close its run."""
        stop = stop or threading.Event()
        delay = POLL_FIRST
        cancelled_at: float | None = None
        killed = code_checked = False
        refusal: str | None = None
        silent_since: float | None = None
        missing = 0
        status = JobStatus(state=None)
        while True:
            now = time.monotonic()
            if (stop.is_set() or refusal) and cancelled_at is None:
                self._cancel(job, "INT")
                cancelled_at = now
            elif cancelled_at is not None and not killed and now - cancelled_at > STOP_PATIENCE:
                self._cancel(job, "KILL")
                killed = True
            if not code_checked:
                ticket = self.tickets.read(job.job)
                if ticket is not None:
                    code_checked = True
                    refusal = _code_refusal(job, ticket)
                    if refusal is not None:
                        continue  # cancel it at once
            try:
                status = job.node.job_status(self.project, job.job)
            except ScrapydError as exc:
                silent_since = silent_since or now
                if now - silent_since > LOST_AFTER:
                    return self._lost(job, exc)
            else:
                silent_since = None
                if status.state == "finished":
                    break
                missing = missing + 1 if status.state is None else 0
                if missing >= VANISHED_POLLS:
                    break
            if stop.is_set():
                time.sleep(min(delay, 1.0))  # stop.wait() would return at once, again and again
            else:
                stop.wait(delay)
            delay = min(delay * 1.5, POLL_MAX)
        return self._outcome(job, status, refusal, cancelled=cancelled_at is not None)

    def _cancel(self, job: DispatchedJob, signal: str) -> None:
        try:
            before = job.node.cancel(self.project, job.job, signal=signal)
        except ScrapydError as exc:
            log.warning("%s: could not cancel Scrapyd job %s: %s", job.source, job.job, exc)
            return
        _note(job.log_file, f"(cancelled with SIG{signal}; it was {before or 'not found'})\n")

    def _outcome(
        self, job: DispatchedJob, status: JobStatus, refusal: str | None, *, cancelled: bool
    ) -> CrawlOutcome:
        text = job.node.read_log(status.log_url) if status.log_url else None
        if text is not None:
            _note(job.log_file, f"--- Scrapyd log of job {job.job}\n{text}\n")
        ticket = self.tickets.read(job.job)
        self.tickets.remove(job.job)
        if ticket is not None:
            _note(job.log_file, _ticket_line(ticket))
        record = self._close_run(ticket.source, ticket.run_id) if ticket and ticket.run_id else None
        error = refusal or (ticket.error if ticket else None)
        if error is None and record is None:
            if cancelled:
                error = "stopped before the crawl started"
            else:
                error = f"Scrapyd job {job.job} on {job.node.label} ended without starting a run"
                cause = _last_exception(text) if text else None
                error += (
                    f": {cause}"
                    if cause
                    else f" (and left no ticket in {self.tickets.directory}: is "
                    f"{self.node_home} the data directory on the node?)"
                )
        return CrawlOutcome(record, error, job.node.label, job.job)

    def _lost(self, job: DispatchedJob, exc: ScrapydError) -> CrawlOutcome:
        """The node went silent while the job ran: give up on it, leaving its run alone (it may
        still be crawling, holding the source's lock; the next run will know)."""
        ticket = self.tickets.read(job.job)
        record = None
        if ticket is not None and ticket.run_id:
            try:
                record = self.store.read_record(ticket.source, ticket.run_id)
            except (OSError, ValueError):
                record = None
        error = f"lost Scrapyd job {job.job}: {exc} (for over {LOST_AFTER:g}s)"
        _note(job.log_file, f"({error})\n")
        return CrawlOutcome(record, error, job.node.label, job.job)

    def _close_run(self, source: str, run_id: str) -> RunRecord | None:
        """The run's record once its job has ended; a run its crawl left ``running`` (killed,
        or failed before its spider closed) is closed as failed, as a local crawl's would be."""
        try:
            with self.store.lock(source):
                return final_record(self.store, source, run_id)
        except SourceBusyError:
            # Another crawl of the source started since: it has judged this run on opening.
            pass
        except (OSError, ValueError):
            return None
        try:
            return self.store.read_record(source, run_id)
        except (OSError, ValueError):
            return None


def _code_refusal(job: DispatchedJob, ticket: JobTicket) -> str | None:
    if ticket.code_version is None or ticket.code_version == job.version:
        return None
    return (
        f"Scrapyd node {job.node.label} runs tdir code {ticket.code_version} from "
        f"{ticket.code_origin}, not the egg {job.version} it was given: a tdir installed on "
        "the node is imported before Scrapyd's eggs; install the scheduler's tdir release "
        "there, or only tdir's dependencies"
    )


def _ticket_line(ticket: JobTicket) -> str:
    run = (
        f"run {ticket.run_id}{' (resumed)' if ticket.resumed else ''}"
        if ticket.run_id
        else "no run"
    )
    return (
        f"({run}; code {ticket.code_version} from {ticket.code_origin} on {ticket.host}, "
        f"pid {ticket.pid})\n"
    )


def _last_exception(text: str) -> str | None:
    """The last ``SomeError: message`` line of a log, without the module path."""
    for line in reversed(text.splitlines()):
        match = _EXCEPTION_LINE.match(line.strip())
        if match:
            return f"{match[1]}: {match[2]}"
    return None


def _note(log_file: Path | None, text: str) -> None:
    if log_file is None:
        return
    with log_file.open("a", encoding="utf-8") as logged:
        logged.write(text)


def _prune_eggs(directory: Path, *, keep: Path) -> None:
    """Remove all but the newest eggs (and always keep ``keep``)."""
    dated = []
    for egg in directory.glob("tdir-*.egg"):
        try:
            dated.append((egg.stat().st_mtime, egg))
        except FileNotFoundError:
            continue  # pruned by another process meanwhile
    for _, old in sorted(dated, reverse=True)[EGGS_KEPT:]:
        if old != keep:
            old.unlink(missing_ok=True)


__all__ = [
    "CrawlOutcome",
    "DispatchedJob",
    "EggBuildError",
    "NodeUnavailableError",
    "ScrapydDispatcher",
    "ScrapydError",
]
