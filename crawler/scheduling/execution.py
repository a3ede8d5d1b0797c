"""One run of one source: its crawl, then the incremental index, recorded in the history.

Each step is a ``tdir`` process of its own: Scrapy's Twisted reactor cannot be restarted inside a
long-lived process, and a crashed crawl must not take the scheduler with it. The crawl is given a
catalog holding only its source (see :mod:`crawler.scheduling.entries`). Each step's process has
a lifeline (:mod:`crawler.scheduling.lifeline`): it stops as on Ctrl+C when the process that
started it dies, however it dies, so that no crawl goes on alone holding its source. The run
records its owner (this process) and each step's process, by pid and start time, so that a run
whose owner died is recognised as such (:mod:`crawler.scheduling.recovery`). Index updates of
different sources take turns (the ``index`` lease), as each rewrites what changed in the shared
index. The run holds its source's lease from start to end, so a source never runs twice at once,
whichever process asked for the run.

With ``TDIR_SCRAPYD_URL`` set, the crawl is a job on a Scrapyd node instead of a local process
(:mod:`crawler.scrapyd.dispatch`), followed, stopped and recorded the same way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.catalog import CatalogError
from crawler.scheduling import history
from crawler.scheduling.book import run_log_path, source_lease
from crawler.scheduling.database import ScheduleDatabase
from crawler.scheduling.entries import CatalogView, crawl_variables, read_catalog
from crawler.scheduling.errors import RunRefusedError
from crawler.scheduling.history import RunEntry, Trigger
from crawler.scheduling.leases import DEFAULT_TTL, Lease, LeaseBusyError, LeaseHolder
from crawler.scheduling.lifeline import STOP_PATIENCE, STOPPING
from crawler.scheduling.lifeline import command as lifeline_command
from crawler.scheduling.processes import HOST, ProcessRef
from tdir.config import ScrapydSettings

if TYPE_CHECKING:
    from crawler.scrapyd.dispatch import ScrapydDispatcher

log = logging.getLogger(__name__)

INDEX_LEASE = "index"
# What the history keeps of `tdir index --json`: the counts an admin reads, not the long tails.
SUMMARY_FIELDS = (
    "profiles",
    "listings",
    "inactive_listings",
    "sources",
    "reviews",
    "written",
    "unchanged",
    "deleted",
    "rebuilt",
    "suppressed_profiles",
    "corrected_profiles",
)
_ERROR_PREFIX = "tdir: error: "


@dataclass(frozen=True)
class RunSettings:
    """What every run of one process shares."""

    home: Path  # absolute: the crawl and index processes run with it as TDIR_HOME
    catalog: Path | str | None = None  # None: TDIR_CATALOG, else the packaged catalog
    crawl_args: tuple[str, ...] = ()  # extra `tdir crawl` options, e.g. ("--no-delay",)
    role: str = "scheduler"  # who runs: named in the history's runner column
    lease_ttl: float = DEFAULT_TTL

    @property
    def runner(self) -> str:
        """``scheduler pid 123 on host-a``."""
        return f"{self.role} pid {os.getpid()} on {HOST}"


@dataclass
class ActiveRun:
    """A run that has started: its id and the source lease it holds."""

    run_id: int
    source: str
    lease: Lease


class RunExecutor:
    """Starts and performs runs; :meth:`stop` ends the processes of runs under way."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.db = ScheduleDatabase(settings.home)
        self.owner = ProcessRef.current().token  # recorded with every run this process starts
        self._stopping = threading.Event()
        self._interrupted = threading.Event()  # Ctrl+C in this process, during a step
        self.started: list[int] = []  # every run this executor started or recorded as skipped
        # Each process under way, with the write end of its lifeline.
        self._children: dict[subprocess.Popen[str], int] = {}
        self._children_lock = threading.Lock()
        self.scrapyd = _scrapyd_dispatcher(settings.home)  # None: crawls run in local processes

    # -- starting --------------------------------------------------------------------------

    def start_scheduled(
        self, source: str, trigger: Trigger, *, queued_at: str | None = None
    ) -> ActiveRun | None:
        """Start a scheduled (or missed) run of the source, or record it as skipped and return
        None when another process is running the source."""
        started: list[int] = []

        def begin(conn: sqlite3.Connection, stale: LeaseHolder | None) -> None:
            history.fail_abandoned(conn, source, _abandoned(stale))
            run_id = history.insert_run(
                conn,
                source,
                trigger,
                "running",
                queued_at=queued_at,
                runner=self.settings.runner,
                owner=self.owner,
            )
            _name_lease(conn, source, run_id)
            started.append(run_id)

        lease = self._lease(source, begin)
        try:
            lease.acquire()
        except LeaseBusyError as exc:
            with self.db.write() as conn:
                skipped = history.insert_run(
                    conn,
                    source,
                    trigger,
                    "skipped",
                    queued_at=queued_at,
                    runner=self.settings.runner,
                    error=f"source busy: {exc.holder.describe()}",
                )
            self.started.append(skipped)
            log.info("%s: %s run skipped: %s", source, trigger, exc)
            return None
        self.started.append(started[0])
        return ActiveRun(started[0], source, lease)

    def start_requested(self, run: RunEntry) -> ActiveRun:
        """Start a queued run. LeaseBusyError while the source is running (the request stays
        queued); RunRefusedError if another process has started it meanwhile."""

        def begin(conn: sqlite3.Connection, stale: LeaseHolder | None) -> None:
            history.fail_abandoned(conn, run.source, _abandoned(stale))
            if not history.claim_run(conn, run.id, self.settings.runner, self.owner):
                raise RunRefusedError(f"run #{run.id} of {run.source!r} is no longer queued")
            _name_lease(conn, run.source, run.id)

        lease = self._lease(run.source, begin)
        lease.acquire()
        self.started.append(run.id)
        return ActiveRun(run.id, run.source, lease)

    def _lease(
        self, source: str, begin: Callable[[sqlite3.Connection, LeaseHolder | None], None]
    ) -> Lease:
        return Lease(
            self.db,
            source_lease(source),
            purpose=f"a run of {source}",
            ttl=self.settings.lease_ttl,
            on_acquire=begin,
        )

    # -- performing ------------------------------------------------------------------------

    def perform(self, active: ActiveRun) -> RunEntry:
        """Crawl the source, then update the index; record how it went; release the source."""
        active.lease.keep_alive()
        interrupted = False
        try:
            try:
                error, summary = self._crawl_and_index(active)
            except KeyboardInterrupt:
                self.stop()  # the process under way was stopped already; start no other
                error, summary, interrupted = "stopped by Ctrl+C", None, True
            except Exception as exc:  # recorded, never lost: the history is what admins read
                log.exception("%s: run #%d failed unexpectedly", active.source, active.run_id)
                error, summary = f"{type(exc).__name__}: {exc}", None
            # Recorded before the lease goes, or the next holder would take it as abandoned.
            with self.db.write() as conn:
                history.finish_run(conn, active.run_id, error=error, index_summary=summary)
        finally:
            active.lease.release()
        if interrupted or self._interrupted.is_set():
            raise KeyboardInterrupt
        with self.db.read() as conn:
            entry = history.get_run(conn, active.run_id)
        assert entry is not None
        log.info(
            "%s: run #%d %s%s",
            entry.source,
            entry.id,
            entry.state,
            f": {entry.error}" if entry.error else "",
        )
        return entry

    def _crawl_and_index(self, active: ActiveRun) -> tuple[str | None, dict[str, Any] | None]:
        source, home = active.source, self.settings.home
        view = read_catalog(self.settings.catalog)
        try:
            view.check(source, crawl_variables(home))
        except CatalogError as exc:
            return f"catalog: {exc}", None
        log_file = run_log_path(home, active.run_id)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        if self.scrapyd is not None:
            record, crawl_error = self._crawl_on_scrapyd(source, view, log_file)
        else:
            record, crawl_error = self._crawl_in_process(active.run_id, source, view, log_file)
        with self.db.write() as conn:
            history.record_crawl(
                conn,
                active.run_id,
                record.get("run_id") if record else None,
                record.get("status") if record else None,
            )
        if crawl_error is not None:
            return f"crawl: {crawl_error}", None
        index_lease = Lease(
            self.db, INDEX_LEASE, purpose=f"run #{active.run_id}", ttl=self.settings.lease_ttl
        )
        if not index_lease.wait(self._stopping):
            return "index: stopped before the index could be updated", None
        index_lease.keep_alive()
        try:
            code, out, err = self._tdir(active.run_id, log_file, "index", "--json")
        finally:
            index_lease.release()
        if code != 0:
            return f"index: {_error_text(err, code)}", None
        try:
            summary = json.loads(out)
        except ValueError:
            return "index: its summary was not JSON", None
        return None, {k: summary[k] for k in SUMMARY_FIELDS if k in summary}

    def _crawl_in_process(
        self, run_id: int, source: str, view: CatalogView, log_file: Path
    ) -> tuple[Mapping[str, Any] | None, str | None]:
        """Crawl the source in a ``tdir crawl`` process; return its run record and, if it did
        not go through the source, why."""
        with tempfile.TemporaryDirectory(prefix="tdir-run-") as tmp:
            catalog_file = view.write_source_catalog(source, Path(tmp))
            code, out, err = self._tdir(
                run_id,
                log_file,
                "crawl",
                source,
                "--catalog",
                str(catalog_file),
                "--json",
                *self.settings.crawl_args,
            )
        record = _crawl_record(out, source)
        return record, _crawl_error(code, record, err)

    def _crawl_on_scrapyd(
        self, source: str, view: CatalogView, log_file: Path
    ) -> tuple[Mapping[str, Any] | None, str | None]:
        """Crawl the source as a Scrapyd job; return its run record and, if it did not go
        through the source, why. Stopped like a local crawl process: see :meth:`stop`."""
        from crawler.scrapyd.dispatch import EggBuildError, ScrapydError

        assert self.scrapyd is not None
        if self._stopping.is_set():
            return None, "stopped before crawl started"
        try:
            job = self.scrapyd.submit(
                source,
                view.source_document(source),
                # What a local crawl fills ${NAME} with: its environment and the site manifest.
                {**os.environ, **crawl_variables(self.settings.home)},
                no_delay="--no-delay" in self.settings.crawl_args,
                log_file=log_file,
            )
            try:
                outcome = self.scrapyd.wait(job, self._stopping)
            except KeyboardInterrupt:
                # As for a local crawl: let the job close its run (an interrupted crawl resumes
                # next time), record what it did, then end the run as interrupted.
                self._interrupted.set()
                self._stopping.set()
                outcome = self.scrapyd.wait(job, self._stopping)
        except ScrapydError as exc:
            return None, str(exc)
        except EggBuildError as exc:
            return None, f"the crawler egg could not be built: {exc}"
        record = asdict(outcome.record) if outcome.record is not None else None
        return record, outcome.error or _crawl_error(0, record, "")

    def _tdir(self, run_id: int, log_file: Path, *args: str) -> tuple[int, str, str]:
        """Run ``tdir ARGS`` as a process of its own, with a lifeline to this one; append its
        output to the run's log."""
        env = {**os.environ, "TDIR_HOME": str(self.settings.home)}
        # Checked and started under the lock, so that stop() cannot miss a process.
        with self._children_lock:
            if self._stopping.is_set():
                return 1, "", f"{_ERROR_PREFIX}stopped before {args[0]} started"
            lifeline, held = os.pipe()  # the child gets the read end; this process holds on
            try:
                process = subprocess.Popen(
                    lifeline_command(args, log_file=str(log_file)),
                    stdin=lifeline,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                    # Its own session: a Ctrl+C at the terminal reaches this process only, which
                    # then stops the child with one signal. A second one would stop a crawl
                    # hard, and a crawl stopped hard cannot be resumed.
                    start_new_session=True,
                )
            except BaseException:
                os.close(held)
                raise
            finally:
                os.close(lifeline)
            self._children[process] = held
        try:
            self._record_child(run_id, process.pid)
            out, err = process.communicate()
        except KeyboardInterrupt:
            # Let the child close its run (an interrupted crawl resumes next time), record
            # what it did, then end the run as interrupted: see perform().
            self._interrupted.set()
            self._stopping.set()
            out, err = _stop_gracefully(process, held)
        finally:
            with self._children_lock:
                self._children.pop(process, None)
            os.close(held)  # a child still running (an error above) stops as it reads EOF
        with log_file.open("a", encoding="utf-8") as logged:
            logged.write(f"$ tdir {' '.join(args)}\n(exit status {process.returncode})\n")
            logged.write(f"--- stdout\n{out}\n--- stderr\n{err}\n")
        return process.returncode, out, err

    def _record_child(self, run_id: int, pid: int) -> None:
        """Note the process a run has just started, so that a scheduler taking over from a dead
        one can tell whether it is still running."""
        try:
            with self.db.write() as conn:
                history.record_child(conn, run_id, ProcessRef.local(pid).token)
        except sqlite3.Error as exc:  # a note for recovery, not worth failing the run for
            log.warning("run #%d: its process %d could not be recorded: %s", run_id, pid, exc)

    def stop(self) -> None:
        """Ask every crawl and index process under way to stop (as Ctrl+C would: an interrupted
        crawl resumes on the source's next run); start no new one."""
        self._stopping.set()
        with self._children_lock:
            for process, held in self._children.items():
                _terminate(process, held)


def _scrapyd_dispatcher(home: Path) -> ScrapydDispatcher | None:
    """The Scrapyd dispatcher when ``TDIR_SCRAPYD_URL`` names nodes, else None."""
    settings = ScrapydSettings.from_env()
    if not settings.enabled:
        return None
    # Imported only when used: it loads Scrapy, which a scheduler crawling locally never needs.
    from crawler.scrapyd.dispatch import ScrapydDispatcher

    return ScrapydDispatcher(settings, home)


def _terminate(process: subprocess.Popen[str], held: int) -> None:
    """Send a child SIGTERM, telling its lifeline first: should this process die before the
    child has stopped, the lifeline must not send a second SIGTERM, on which a crawl stops
    hard."""
    with contextlib.suppress(OSError):  # the child has gone already
        os.write(held, STOPPING)
    process.terminate()


def _stop_gracefully(
    process: subprocess.Popen[str], held: int, patience: float = STOP_PATIENCE
) -> tuple[str, str]:
    """Ask a child to stop, wait for it to close its run (killing it if it does not), and
    return its output."""
    _terminate(process, held)
    try:
        return process.communicate(timeout=patience)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def _name_lease(conn: sqlite3.Connection, source: str, run_id: int) -> None:
    conn.execute(
        "UPDATE leases SET purpose = ? WHERE name = ?", (f"run #{run_id}", source_lease(source))
    )


def _abandoned(stale: LeaseHolder | None) -> str:
    who = stale.describe() if stale else "its process"
    return f"abandoned: {who} stopped before the run ended"


def _crawl_record(out: str, source: str) -> Mapping[str, Any] | None:
    try:
        records = json.loads(out)
    except ValueError:
        return None
    if not isinstance(records, list):
        return None
    return next((r for r in records if isinstance(r, dict) and r.get("source") == source), None)


def _crawl_error(code: int, record: Mapping[str, Any] | None, err: str) -> str | None:
    """Why a crawl did not go through its whole source, or None when it did."""
    if record is None:
        return _error_text(err, code)
    status = record.get("status")
    if status == "finished" and code == 0:
        return None
    reason = record.get("finish_reason")
    text = f"run {record.get('run_id')} {status}{f' ({reason})' if reason else ''}"
    if status == "interrupted":
        text += "; the next run resumes it"
    return text


def _error_text(err: str, code: int) -> str:
    """The ``tdir: error:`` line of a process's stderr, else its last lines, else its status."""
    lines = [line.strip() for line in err.replace("\r", "\n").splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(_ERROR_PREFIX):
            return line.removeprefix(_ERROR_PREFIX)
    if lines:
        return " | ".join(lines[-3:])
    return f"exited with status {code}"
