"""The scheduler service: every enabled source crawled and indexed on its schedule.

APScheduler holds one job per source in a persistent SQLAlchemy job store on SQLite, so a
source's next run time survives restarts. Jobs are ``coalesce``-d with a misfire grace of one
period: when the service was down over several fire times, the source runs once on restart, not
once per missed time. ``max_instances=1`` keeps a job from overlapping itself inside the
service; the source lease (:mod:`crawler.scheduling.leases`) keeps it from overlapping a run
requested from another process.

The service never takes orders through the job store. Admins write to the schedule database
(overrides, pauses, run requests) and the service reconciles its jobs with the catalog and those
overrides every few seconds, and starts queued requests. Job threads only write the database
too (a retry wanted after a failure): only the service's main thread changes the job store,
which keeps APScheduler's shutdown, which waits for running jobs while holding the job store
lock, from deadlocking.

On start and on every tick the service ends the runs whose process died (a scheduler killed
with SIGKILL, a ``run-now --wait`` killed) as ``abandoned``, frees their sources and plans their
retries like a failed run's (:mod:`crawler.scheduling.recovery`). A crawl such a process left
running is waited for first (75 s at most, then killed): the tick waits with it, as nothing the
source needs can start before it has gone.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from sqlalchemy.engine import URL

from crawler.catalog import Schedule
from crawler.runs import CrawlStore
from crawler.scheduling import history, overrides, recovery
from crawler.scheduling.book import SERVICE_LEASE, ScheduleBook, job_id, jobs_path
from crawler.scheduling.database import ScheduleDatabase, parse_timestamp, timestamp
from crawler.scheduling.errors import RunRefusedError, SchedulerBusyError
from crawler.scheduling.execution import RunExecutor, RunSettings
from crawler.scheduling.history import RunEntry, Trigger
from crawler.scheduling.leases import Lease, LeaseBusyError
from crawler.scheduling.triggers import period_seconds, to_trigger

log = logging.getLogger(__name__)

DEFAULT_SCHEDULE = Schedule(interval_seconds=86400)  # the catalog's default
_MAX_BACKOFF_DOUBLINGS = 16


@dataclass(frozen=True)
class ServiceOptions:
    """How the service runs."""

    workers: int = 2  # sources crawled at the same time
    poll_seconds: float = 5.0  # how often admins' changes and run requests are picked up
    retry_after: float = 300.0  # first retry of a failed source; doubles per failure in a row
    missed_after: float = 60.0  # a run this late when the service starts counts as missed


class _Scheduler(BackgroundScheduler):
    """A BackgroundScheduler that processes no jobs once shut down.

    APScheduler 3 wakes its thread on shutdown and, as its processing only skips a *paused*
    scheduler, would submit due jobs to the executors it has just closed and move their next
    run times on as if they had run: a retry due at shutdown would be lost.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


def job_scheduler(path: str, *, workers: int = 2) -> BackgroundScheduler:
    """A scheduler on the persistent job store in the SQLite file ``path``, not started."""
    return _Scheduler(
        jobstores={"default": SQLAlchemyJobStore(url=URL.create("sqlite", database=path))},
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=UTC,
    )


_ACTIVE: SchedulerService | None = None  # the service of this process, for its jobs


def scheduled_run(source: str) -> None:
    """The job each source's schedule fires. Stored in the job store by reference, so it must
    stay importable under this name."""
    service = _ACTIVE
    if service is None:
        raise RuntimeError("no scheduler service is running in this process")
    service.run_scheduled(source)


class SchedulerService:
    """Runs every enabled source on its schedule, and admins' run requests, until stopped."""

    def __init__(self, settings: RunSettings, options: ServiceOptions | None = None) -> None:
        self.settings = settings
        self.options = options or ServiceOptions()
        self.book = ScheduleBook(settings.home, catalog=settings.catalog)
        self.db = ScheduleDatabase(settings.home)
        self.executor = RunExecutor(settings)
        jobs_path(settings.home).parent.mkdir(parents=True, exist_ok=True)
        self.scheduler = job_scheduler(str(jobs_path(settings.home)), workers=self.options.workers)
        self._lease = Lease(self.db, SERVICE_LEASE, purpose=f"{settings.role} service")
        self._requests = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.options.workers, thread_name_prefix="requested-run"
        )
        self._request_futures: list[concurrent.futures.Future[None]] = []
        self._in_flight: set[int] = set()  # requested runs handed to a worker
        self._overdue: dict[str, datetime] = {}  # sources whose run was missed while down
        self._seen_jobs: set[str] = set()
        self._events = threading.Condition()
        self._fingerprint: object = None
        self._closing = threading.Event()

    # -- the two ways to run -----------------------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set; then stop the crawls under way (recorded as failed, they
        resume on the next run) and return."""
        self._open()
        try:
            self.scheduler.resume()
            log.info("scheduler running on %s", self.settings.home)
            while not stop.is_set():
                self._tick(wait_for_busy=False)
                stop.wait(self.options.poll_seconds)
        finally:
            self._close(interrupt=True)

    def run_once(self) -> list[RunEntry]:
        """Run every source that is due and every queued request, wait for them, and return
        the runs this pass started (oldest first)."""
        self._open()
        try:
            now = datetime.now(UTC)
            due = {
                job.id
                for job in self.scheduler.get_jobs()
                if job.next_run_time is not None and job.next_run_time <= now
            }
            self.scheduler.resume()
            self._wait_submitted(due)
            self.dispatch_requests(wait_for_busy=True)
            concurrent.futures.wait(self._request_futures)
        finally:
            self._close(interrupt=False)
        with self.db.read() as conn:
            found = (history.get_run(conn, run_id) for run_id in sorted(self.executor.started))
            return [run for run in found if run is not None]

    # -- opening and closing -----------------------------------------------------------------

    def _open(self) -> None:
        global _ACTIVE
        try:
            self._lease.acquire()
        except LeaseBusyError as exc:
            raise SchedulerBusyError(
                f"a scheduler already runs on {self.settings.home}: {exc.holder.describe()}"
            ) from None
        self._lease.keep_alive()
        _ACTIVE = self
        try:
            self.scheduler.add_listener(
                self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES
            )
            self.scheduler.start(paused=True)
            late = datetime.now(UTC) - timedelta(seconds=self.options.missed_after)
            for job in self.scheduler.get_jobs():
                if job.next_run_time is not None and job.next_run_time < late:
                    self._overdue[_source_of(job)] = job.next_run_time
            if self._overdue:
                log.info("runs missed while the scheduler was down: %s", ", ".join(self._overdue))
            self.recover()  # before the jobs are reconciled, which applies the retries it plans
            self.reconcile(force=True)
        except BaseException:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            _ACTIVE = None
            self._lease.release()
            raise

    def _close(self, *, interrupt: bool) -> None:
        """Stop; with ``interrupt``, stop the runs under way and start no more, else let every
        run handed to a worker go to its end."""
        global _ACTIVE
        try:
            self.scheduler.pause()
            if interrupt:
                self._closing.set()
                self.executor.stop()
            self._requests.shutdown(wait=True)
            # Job threads never touch the job store, so waiting for them here cannot deadlock.
            self.scheduler.shutdown(wait=True)
        finally:
            _ACTIVE = None
            self._lease.release()

    def _on_event(self, event: JobEvent) -> None:
        with self._events:
            self._seen_jobs.add(event.job_id)
            self._events.notify_all()

    def _wait_submitted(self, jobs: set[str], timeout: float = 60.0) -> None:
        """Wait until the scheduler has handed every one of ``jobs`` to its executor."""
        with self._events:
            if not self._events.wait_for(lambda: jobs <= self._seen_jobs, timeout):
                log.warning("due jobs not started in %ss: %s", timeout, jobs - self._seen_jobs)

    # -- each tick ---------------------------------------------------------------------------

    def _tick(self, *, wait_for_busy: bool) -> None:
        try:
            self.recover()
            self.reconcile()
            self.dispatch_requests(wait_for_busy=wait_for_busy)
        except Exception:  # one bad tick (a locked database) must not end the service
            log.exception("scheduler tick failed; trying again in %ss", self.options.poll_seconds)

    def recover(self) -> list[RunEntry]:
        """End the runs whose process died as abandoned, free their sources and plan their
        retries; return them."""
        abandoned = recovery.abandon_dead_runs(self.db, self.settings.home)
        for run in abandoned:
            self._plan_retry(run.source, self._wanted(run.source)[0])
        return abandoned

    def reconcile(self, *, force: bool = False) -> None:
        """Make the jobs match the catalog and the admins' overrides, and apply the retries
        failed runs asked for. Cheap when nothing changed."""
        view = self.book.catalog()
        with self.db.read() as conn:
            found = overrides.overrides(conn)
            retries = history.planned_retries(conn)
            fingerprint = (view.digest, overrides.fingerprint(conn), tuple(sorted(retries.items())))
        if not force and fingerprint == self._fingerprint:
            return
        self._fingerprint = fingerprint
        if view.problem is not None:
            # Keep every job as it was: each run records the problem until the file is fixed.
            log.error("catalog unreadable, schedules kept as they were: %s", view.problem)
        else:
            jobs = {job.id: job for job in self.scheduler.get_jobs()}
            wanted = set()
            for name, entry in view.entries.items():
                if not entry.enabled:
                    continue
                override = found.get(name)
                schedule = (override.schedule if override else None) or entry.schedule
                self._ensure_job(name, schedule, bool(override and override.paused), jobs)
                wanted.add(job_id(name))
            for gone in set(jobs) - wanted:
                self.scheduler.remove_job(gone)
                self._overdue.pop(_source_of(jobs[gone]), None)
                log.info("%s: no longer scheduled", _source_of(jobs[gone]))
        self._apply_retries(retries)

    def _ensure_job(
        self, source: str, schedule: Schedule | None, paused: bool, jobs: dict[str, Job]
    ) -> None:
        ident = job_id(source)
        job = jobs.get(ident)
        if job is None:
            # An entry whose schedule cannot be read still gets a job: its runs then record
            # what is wrong with it, where admins look.
            schedule = schedule or DEFAULT_SCHEDULE
            self.scheduler.add_job(
                scheduled_run,
                to_trigger(schedule),
                args=[source],
                id=ident,
                name=f"crawl {source}",
                next_run_time=None if paused else self._first_run(source, schedule),
                misfire_grace_time=int(period_seconds(schedule)),
                replace_existing=True,
            )
            log.info("%s: scheduled (%s)", source, "paused" if paused else "active")
            return
        if schedule is not None:
            trigger = to_trigger(schedule)
            if str(job.trigger) != str(trigger):
                self.scheduler.reschedule_job(ident, trigger=trigger)
                self.scheduler.modify_job(ident, misfire_grace_time=int(period_seconds(schedule)))
                self._overdue.pop(source, None)
                log.info("%s: rescheduled to %s", source, trigger)
                job = self.scheduler.get_job(ident)
        if job is None:
            return
        if paused and job.next_run_time is not None:
            self.scheduler.pause_job(ident)
            self._overdue.pop(source, None)
            log.info("%s: paused", source)
        elif not paused and job.next_run_time is None:
            self.scheduler.resume_job(ident)
            log.info("%s: resumed", source)

    def _first_run(self, source: str, schedule: Schedule) -> datetime:
        """A new job's first run: now if the source has no complete crawl within one period
        (never crawled, or not lately), else one period after its last complete crawl."""
        now = datetime.now(UTC)
        last = CrawlStore(self.settings.home).latest_complete(source)
        if last is None:
            return now
        due = parse_timestamp(last.started_at) + timedelta(seconds=period_seconds(schedule))
        if due <= now:
            return now
        if schedule.interval_seconds is not None:
            return due
        return to_trigger(schedule).get_next_fire_time(None, now) or now

    def _apply_retries(self, retries: dict[str, str]) -> None:
        for source, retry_at in retries.items():
            job = self.scheduler.get_job(job_id(source))
            when = parse_timestamp(retry_at)
            if job is not None and job.next_run_time is not None and when < job.next_run_time:
                self.scheduler.modify_job(job.id, next_run_time=when)
                log.info("%s: retry at %s", source, retry_at)
            with self.db.write() as conn:
                history.forget_retry(conn, source, retry_at)

    # -- runs --------------------------------------------------------------------------------

    def run_scheduled(self, source: str) -> None:
        """Run a source whose schedule fired (called in a worker thread)."""
        if self._closing.is_set():
            # Handed over just before shutdown, its next run time already moved on: keep it
            # due, so that the next start runs it.
            with self.db.write() as conn:
                history.plan_retry(conn, source, timestamp())
            return
        schedule, wanted = self._wanted(source)
        if not wanted:
            log.info("%s: paused or disabled since the job was planned; not run", source)
            return
        missed_at = self._overdue.pop(source, None)
        trigger: Trigger = "missed" if missed_at else "schedule"
        active = self.executor.start_scheduled(
            source, trigger, queued_at=timestamp(missed_at) if missed_at else None
        )
        if active is None:
            return
        log.info("%s: run #%d started (%s)", source, active.run_id, trigger)
        entry = self.executor.perform(active)
        if entry.state == "failed":
            self._plan_retry(source, schedule)

    def dispatch_requests(self, *, wait_for_busy: bool) -> None:
        """Hand every queued run request to a worker. A request whose source is running stays
        queued for the next tick (or, with ``wait_for_busy``, waits for the source)."""
        with self.db.read() as conn:
            queued = history.list_runs(conn, states=("queued",), oldest_first=True, limit=1000)
        self._request_futures = [f for f in self._request_futures if not f.done()]
        for run in queued:
            if run.id in self._in_flight:
                continue
            self._in_flight.add(run.id)
            future = self._requests.submit(self._run_request, run, wait_for_busy)
            self._request_futures.append(future)

    def _run_request(self, run: RunEntry, wait_for_busy: bool) -> None:
        try:
            while True:
                if self._closing.is_set():
                    return
                try:
                    active = self.executor.start_requested(run)
                    break
                except LeaseBusyError:
                    if not wait_for_busy:
                        return
                    self._closing.wait(self.options.poll_seconds)
                except RunRefusedError:
                    return  # another process started it
            log.info("%s: run #%d started (requested by %s)", run.source, run.id, run.requested_by)
            entry = self.executor.perform(active)
            if entry.state == "failed":
                self._plan_retry(run.source, self._wanted(run.source)[0])
        except Exception:
            log.exception("%s: requested run #%d could not be run", run.source, run.id)
        finally:
            self._in_flight.discard(run.id)

    def _wanted(self, source: str) -> tuple[Schedule | None, bool]:
        """The source's schedule in force, and whether it should run on it now (enabled, not
        paused). An unreadable catalog keeps sources running, so each run records why."""
        view = self.book.catalog()
        with self.db.read() as conn:
            override = overrides.overrides(conn).get(source)
        entry = view.entries.get(source)
        if view.problem is not None:
            return (override.schedule if override else None), not (override and override.paused)
        if entry is None:
            return None, False
        schedule = (override.schedule if override else None) or entry.schedule
        return schedule, entry.enabled and not (override and override.paused)

    def _plan_retry(self, source: str, schedule: Schedule | None) -> None:
        """Ask for the failed (or abandoned) source to run again soon: ``retry_after``, doubled
        for each failure in a row, never later than one period."""
        with self.db.read() as conn:
            failures = history.consecutive_failures(conn, source)
        delay = self.options.retry_after * 2 ** min(max(failures - 1, 0), _MAX_BACKOFF_DOUBLINGS)
        period = period_seconds(schedule or DEFAULT_SCHEDULE)
        retry_at = datetime.now(UTC) + timedelta(seconds=min(delay, period))
        with self.db.write() as conn:
            history.plan_retry(conn, source, timestamp(retry_at))


def _source_of(job: Job) -> str:
    return job.id.removeprefix("crawl:")
