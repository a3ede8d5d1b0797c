"""The admin's view of schedules: what runs when, what ran, and the changes admins make.

:class:`ScheduleBook` is the API the command line and the dashboard's admin area call. It reads
the catalog and the schedule database and writes admins' changes there; the scheduler service
picks those changes up within a few seconds, so neither caller needs the service to be running
(a run requested while it is down waits for it, or is run in the foreground by
``tdir schedule run-now --wait``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.catalog import CatalogError, Schedule
from crawler.scheduling import history, overrides
from crawler.scheduling.database import ScheduleDatabase, scheduler_dir, timestamp
from crawler.scheduling.entries import CatalogEntry, CatalogView, crawl_variables, read_catalog
from crawler.scheduling.errors import RunRefusedError, ScheduleError
from crawler.scheduling.history import RunEntry
from crawler.scheduling.leases import LeaseHolder, current_holder
from crawler.scheduling.triggers import describe, parse_schedule

SERVICE_LEASE = "service"


def source_lease(source: str) -> str:
    """The name of the lease held by whoever runs ``source``."""
    return f"source:{source}"


def job_id(source: str) -> str:
    """The id of the source's job in the scheduler's job store."""
    return f"crawl:{source}"


def run_log_path(home: Path, run_id: int) -> Path:
    """Where the output of a run's crawl and index processes is kept."""
    return scheduler_dir(home) / "logs" / f"run-{run_id}.log"


def jobs_path(home: Path) -> Path:
    """The scheduler's persistent job store (APScheduler's SQLAlchemy store on SQLite)."""
    return scheduler_dir(home) / "jobs.sqlite3"


@dataclass(frozen=True)
class SourceSchedule:
    """One source's schedule as in force, with its latest, current and queued runs."""

    source: str
    title: str
    enabled: bool
    catalog_schedule: Schedule | None
    override: Schedule | None
    schedule: Schedule | None  # in force: the override if there is one, else the catalog's
    paused: bool
    changed_by: str | None
    changed_at: str | None
    next_run_at: str | None  # as the scheduler service last planned it
    last_run: RunEntry | None  # the latest run that ended
    active_run: RunEntry | None
    queued_run: RunEntry | None
    problem: str | None  # why the catalog entry cannot be crawled, if it cannot

    @property
    def state(self) -> str:
        """``disabled``, ``paused``, ``running`` or ``scheduled``."""
        if not self.enabled:
            return "disabled"
        if self.active_run is not None:
            return "running"
        return "paused" if self.paused else "scheduled"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON, schedules as text (``every 6h``, ``cron 0 3 * * *``)."""
        return {
            "source": self.source,
            "title": self.title,
            "enabled": self.enabled,
            "state": self.state,
            "schedule": describe(self.schedule) if self.schedule else None,
            "catalog_schedule": describe(self.catalog_schedule) if self.catalog_schedule else None,
            "override": describe(self.override) if self.override else None,
            "paused": self.paused,
            "changed_by": self.changed_by,
            "changed_at": self.changed_at,
            "next_run_at": self.next_run_at,
            "last_run": self.last_run.to_dict() if self.last_run else None,
            "active_run": self.active_run.to_dict() if self.active_run else None,
            "queued_run": self.queued_run.to_dict() if self.queued_run else None,
            "problem": self.problem,
        }


class ScheduleBook:
    """Schedules, pauses, run requests and run history of every catalog source in one data
    directory. Every method reads the catalog afresh, so it always reflects the file as it is.

    Admins' names (``by``) are recorded with every change and request.
    """

    def __init__(self, home: Path, *, catalog: Path | str | None = None) -> None:
        self.home = home
        self.catalog_path = catalog
        self.db = ScheduleDatabase(home)

    def catalog(self) -> CatalogView:
        """The catalog as it is now, read entry by entry."""
        return read_catalog(self.catalog_path)

    # -- reading ---------------------------------------------------------------------------

    def schedules(self) -> list[SourceSchedule]:
        """Every source of the catalog, in catalog order, each checked as a crawl would check
        it (``problem`` says what would stop its crawl). ScheduleError if the catalog file
        cannot be read at all."""
        view = self.catalog()
        if view.problem is not None:
            raise ScheduleError(view.problem)
        problems = _problems(view, self.home)
        with self.db.read() as conn:
            found = overrides.overrides(conn)
            latest = history.latest_runs(conn)
            busy = {name for name in view.entries if current_holder(conn, source_lease(name))}
        planned = _planned_runs(self.home)
        return [
            self._describe(
                entry, found.get(name), latest, name in busy, planned.get(name), problems[name]
            )
            for name, entry in view.entries.items()
        ]

    def get(self, source: str) -> SourceSchedule:
        """One source's schedule; ScheduleError naming the known sources if it is unknown."""
        self.catalog().entry(source)
        return next(s for s in self.schedules() if s.source == source)

    def history(self, source: str | None = None, *, limit: int = 50) -> list[RunEntry]:
        """Runs of one source (or all), newest first."""
        if source is not None:
            self._known(source)
        with self.db.read() as conn:
            return history.list_runs(conn, source, limit=limit)

    def run(self, run_id: int) -> RunEntry | None:
        """One run by id."""
        with self.db.read() as conn:
            return history.get_run(conn, run_id)

    def service(self) -> LeaseHolder | None:
        """The scheduler service running on this data directory, or None."""
        with self.db.read() as conn:
            return current_holder(conn, SERVICE_LEASE)

    def log_path(self, run_id: int) -> Path:
        """Where the output of a run's crawl and index processes is kept."""
        return run_log_path(self.home, run_id)

    # -- changing --------------------------------------------------------------------------

    def set(
        self, source: str, *, every: str | None = None, cron: str | None = None, by: str
    ) -> SourceSchedule:
        """Put a schedule of the admin's in force for the source (``every="6h"`` or
        ``cron="0 3 * * *"``); it wins over the catalog's until :meth:`reset`.

        ScheduleError naming the source and the value for an unknown source or a malformed
        schedule.
        """
        self._known(source)
        schedule = parse_schedule(every=every, cron=cron, where=f"source {source!r}")
        with self.db.write() as conn:
            overrides.set_schedule(conn, source, schedule, by)
        return self.get(source)

    def reset(self, source: str, *, by: str) -> SourceSchedule:
        """Drop the admin's schedule: the catalog's is in force again (a pause stays)."""
        self._known(source)
        with self.db.write() as conn:
            overrides.set_schedule(conn, source, None, by)
        return self.get(source)

    def pause(self, source: str, *, by: str) -> SourceSchedule:
        """Stop scheduled runs of the source until :meth:`resume` (requested runs still run)."""
        self._known(source)
        with self.db.write() as conn:
            overrides.set_paused(conn, source, True, by)
        return self.get(source)

    def resume(self, source: str, *, by: str) -> SourceSchedule:
        """Resume scheduled runs of the source; the next is one period from now."""
        self._known(source)
        with self.db.write() as conn:
            overrides.set_paused(conn, source, False, by)
        return self.get(source)

    def request_run(self, source: str, *, by: str, unless_running: bool = False) -> RunEntry:
        """Queue a run of the source now; the scheduler service starts it within a few seconds.

        A source has at most one queued run: RunRefusedError (naming the queued one) if it
        already has one. A run requested while the source is running waits for that run to end,
        or, ``unless_running``, is refused (RunRefusedError naming the running one): checked in
        the transaction that queues it, so a run starting meanwhile cannot slip in between.
        """
        entry = self._known(source)
        if not entry.enabled:
            raise RunRefusedError(f"source {source!r} is disabled in the catalog")
        try:
            with self.db.write() as conn:
                if unless_running:
                    _refuse_if_running(conn, source)
                run_id = history.insert_run(conn, source, "manual", "queued", requested_by=by)
        except sqlite3.IntegrityError:
            with self.db.read() as conn:
                queued = history.list_runs(conn, source, limit=1, states=("queued",))
            detail = (
                f" (#{queued[0].id}, requested by {queued[0].requested_by} at "
                f"{queued[0].queued_at})"
                if queued
                else ""
            )
            raise RunRefusedError(f"a run of {source!r} is already queued{detail}") from None
        run = self.run(run_id)
        assert run is not None
        return run

    def cancel_request(self, run_id: int, *, by: str) -> bool:
        """Withdraw a queued run request; False if it has already started (or ended)."""
        with self.db.write() as conn:
            return history.cancel_run(conn, run_id, f"cancelled by {by}")

    # -- helpers ---------------------------------------------------------------------------

    def _known(self, source: str) -> CatalogEntry:
        return self.catalog().entry(source)

    def _describe(
        self,
        entry: CatalogEntry,
        override: overrides.ScheduleOverride | None,
        latest: dict[tuple[str, str], RunEntry],
        busy: bool,
        planned: str | None,
        problem: str | None,
    ) -> SourceSchedule:
        name = entry.name
        ended = [latest.get((name, s)) for s in history.ENDED_STATES]
        last = max((r for r in ended if r is not None), key=lambda r: r.id, default=None)
        paused = bool(override and override.paused)
        schedule = (override.schedule if override else None) or entry.schedule
        return SourceSchedule(
            source=name,
            title=entry.title,
            enabled=entry.enabled,
            catalog_schedule=entry.schedule,
            override=override.schedule if override else None,
            schedule=schedule,
            paused=paused,
            changed_by=override.updated_by if override else None,
            changed_at=override.updated_at if override else None,
            next_run_at=None if paused or not entry.enabled else planned,
            last_run=last,
            active_run=latest.get((name, "running")) if busy else None,
            queued_run=latest.get((name, "queued")),
            problem=problem,
        )


def _refuse_if_running(conn: sqlite3.Connection, source: str) -> None:
    """RunRefusedError naming the source's run under way, if one is (its lease is held)."""
    if current_holder(conn, source_lease(source)) is None:
        return
    running = history.list_runs(conn, source, limit=1, states=("running",))
    detail = f" (#{running[0].id}, started at {running[0].started_at})" if running else ""
    raise RunRefusedError(f"a run of {source!r} is already running{detail}")


def _problems(view: CatalogView, home: Path) -> dict[str, str | None]:
    """What would stop each entry's crawl, or None."""
    try:
        variables = crawl_variables(home)
    except CatalogError as exc:
        return dict.fromkeys(view.entries, str(exc))
    problems: dict[str, str | None] = {}
    for name in view.entries:
        try:
            view.check(name, variables)
            problems[name] = None
        except CatalogError as exc:
            problems[name] = str(exc)
    return problems


def _planned_runs(home: Path) -> dict[str, str]:
    """Each source's next run time as the service's job store holds it (empty before the
    service first ran). Read straight from the store's table: ``next_run_time`` is a column
    APScheduler keeps in epoch seconds precisely so that it can be queried."""
    path = jobs_path(home)
    if not path.exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute(
                "SELECT id, next_run_time FROM apscheduler_jobs WHERE id LIKE 'crawl:%'"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    return {
        job.removeprefix("crawl:"): timestamp(datetime.fromtimestamp(when, UTC))
        for job, when in rows
        if when is not None
    }
