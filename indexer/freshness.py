"""Is the directory's data fresh? Alerts about sources, for the admin area and ``tdir alerts``.

- **stale**: a source without a complete crawl within twice its schedule's period (for a cron
  schedule, its longest gap between fire times), so its listings may no longer be what the site
  says. Profiles carry their own ``last_confirmed``; this is the same question per source.
- **extraction dropped**: a complete crawl that gathered less than half the records of a type
  (listings, reviews, credential records) that the complete crawl before it did. A site that
  changed its layout usually still answers, so nothing fails: the crawl just finds less.
- **failing**: the source's latest scheduled or requested run failed (with its error).
- **stuck**: a run has been running, its process alive, for longer than three times the
  source's longest successful run so far, and at least an hour (6 hours for a source that never
  had a successful run): a crawl or index process that hangs, or a site that slowed to a crawl.
- **abandoned**: the process performing a run ended before the run did (a scheduler killed with
  SIGKILL, or by the OOM killer): the source's latest run was ended ``abandoned`` by the scheduler
  that took over, or a run is still marked running with its process gone (no scheduler has
  taken over yet). See :mod:`crawler.scheduling.recovery`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from crawler.items import RECORD_LABELS
from crawler.runs import CrawlStore, RunRecord
from crawler.scheduling import history
from crawler.scheduling.book import ScheduleBook, SourceSchedule
from crawler.scheduling.database import parse_timestamp
from crawler.scheduling.history import RunEntry
from crawler.scheduling.recovery import running_runs
from crawler.scheduling.triggers import describe, format_duration, format_elapsed, period_seconds

AlertKind = Literal["stale", "extraction_dropped", "failing", "stuck", "abandoned"]
STALE_AFTER_PERIODS = 2
DROP_BELOW = 0.5  # share of the previous complete run's records under which a drop is alarming
MIN_RECORDS = 10  # a type with fewer records before is too small to judge a drop on
STUCK_FACTOR = 3  # a run is stuck past this many times the source's longest successful run,
STUCK_FLOOR = 3600.0  # but never sooner (a source whose runs take minutes has slow days too),
STUCK_UNKNOWN = 6 * 3600.0  # and for a source without a successful run, past this
_AFTER_ABANDONED = (
    "To do: find out why its process ended (the scheduler's own log; the system log for the OOM "
    "killer) and keep `tdir scheduler` running under a supervisor that restarts it."
)


@dataclass(frozen=True)
class Alert:
    """Something about a source an admin should look at."""

    kind: AlertKind
    source: str
    message: str  # a sentence for people, naming the source
    since: str | None = None  # when it started: the last complete crawl, the run that dropped
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {**asdict(self), "details": dict(self.details)}


def source_alerts(book: ScheduleBook, *, now: datetime | None = None) -> list[Alert]:
    """Every alert about the enabled sources of the book's catalog, by source then kind."""
    schedules = [s for s in book.schedules() if s.enabled]
    store = CrawlStore(book.home)
    alerts = [
        *stale_sources(schedules, store, now=now),
        *extraction_drops(store, [s.source for s in schedules]),
        *failing_sources(book, schedules),
        *run_alerts(book, schedules, now=now),
    ]
    return sorted(alerts, key=lambda a: (a.source, a.kind))


def stale_sources(
    schedules: Iterable[SourceSchedule], store: CrawlStore, *, now: datetime | None = None
) -> list[Alert]:
    """Sources whose latest complete crawl is older than twice their schedule's period (or that
    never had one)."""
    now = now or datetime.now(UTC)
    alerts = []
    for item in schedules:
        if item.schedule is None:
            continue  # an unreadable schedule is reported as the entry's problem
        allowed = STALE_AFTER_PERIODS * period_seconds(item.schedule, now)
        paused = " (its schedule is paused)" if item.paused else ""
        last = store.latest_complete(item.source)
        if last is None:
            alerts.append(
                Alert(
                    "stale",
                    item.source,
                    f"{item.source}: never crawled completely{paused}",
                    details={"allowed_seconds": allowed, "paused": item.paused},
                )
            )
            continue
        when = _ended(last)
        age = (now - when).total_seconds()
        if age > allowed:
            alerts.append(
                Alert(
                    "stale",
                    item.source,
                    f"{item.source}: no complete crawl for {format_elapsed(age)} (since "
                    f"{when:%Y-%m-%d %H:%M} UTC); on {describe(item.schedule)} it should "
                    f"have one within {format_duration(allowed)}{paused}",
                    since=when.isoformat(),
                    details={
                        "last_complete_run": last.run_id,
                        "age_seconds": age,
                        "allowed_seconds": allowed,
                        "paused": item.paused,
                    },
                )
            )
    return alerts


def extraction_drops(store: CrawlStore, sources: Iterable[str]) -> list[Alert]:
    """Sources whose latest complete crawl gathered less than half of some record type that the
    complete crawl before it gathered."""
    alerts = []
    for source in sources:
        complete = [run for run in store.runs(source) if run.complete]
        if len(complete) < 2:
            continue
        previous, latest = complete[-2], complete[-1]
        for kind in sorted(previous.items):
            before, after = previous.items.get(kind, 0), latest.items.get(kind, 0)
            if before < MIN_RECORDS or after >= before * DROP_BELOW:
                continue
            label = RECORD_LABELS.get(kind, kind)
            alerts.append(
                Alert(
                    "extraction_dropped",
                    source,
                    f"{source}: {label} fell from {before} to {after} between complete runs "
                    f"{previous.run_id} and {latest.run_id}; the site's layout may have changed",
                    since=_ended(latest).isoformat(),
                    details={
                        "record_type": kind,
                        "before": before,
                        "after": after,
                        "previous_run": previous.run_id,
                        "latest_run": latest.run_id,
                    },
                )
            )
    return alerts


def failing_sources(book: ScheduleBook, schedules: Iterable[SourceSchedule]) -> list[Alert]:
    """Sources whose latest run (scheduled or requested) failed."""
    alerts = []
    for item in schedules:
        last = item.last_run
        if last is None or last.state != "failed":
            continue
        streak = 0
        for run in book.history(item.source, limit=100):
            if run.state == "succeeded":
                break
            streak += run.state == "failed"
        what = f"{streak} runs in a row failed, the latest" if streak > 1 else "the last run"
        alerts.append(
            Alert(
                "failing",
                item.source,
                f"{item.source}: {what} (#{last.id}, {last.trigger}) failed: {last.error}",
                since=last.finished_at,
                details={"run": last.id, "failures_in_a_row": streak, "error": last.error},
            )
        )
    return alerts


def run_alerts(
    book: ScheduleBook, schedules: Iterable[SourceSchedule], *, now: datetime | None = None
) -> list[Alert]:
    """Runs to look at: stuck ones, and abandoned ones (ended as such, or still marked running
    with their process gone)."""
    now = now or datetime.now(UTC)
    by_source = {item.source: item for item in schedules}
    alerts: list[Alert] = []
    with book.db.read() as conn:
        for run, alive in running_runs(conn):
            item = by_source.get(run.source)
            if item is None:
                continue
            if not alive:
                alerts.append(_orphaned(item, run))
                continue
            longest = history.longest_success_seconds(conn, run.source)
            stuck = _stuck(item, run, longest, now, str(book.log_path(run.id)))
            if stuck is not None:
                alerts.append(stuck)
    orphaned = {a.source for a in alerts if a.kind == "abandoned"}
    for item in by_source.values():
        last = item.last_run
        if last is not None and last.state == "abandoned" and item.source not in orphaned:
            alerts.append(_abandoned(item, last))
    return alerts


def stuck_limit(longest: float | None) -> tuple[float, str]:
    """How long a run of a source whose longest successful run took ``longest`` seconds (None:
    it never had one) may go on before it counts as stuck, and the rule, in words."""
    if longest is None:
        return STUCK_UNKNOWN, f"more than {_span(STUCK_UNKNOWN)}, with no successful run to go by"
    limit = STUCK_FACTOR * longest
    if limit < STUCK_FLOOR:
        return STUCK_FLOOR, (
            f"more than {_span(STUCK_FLOOR)} (its longest successful run so far took "
            f"{_span(longest)})"
        )
    return (
        limit,
        f"more than {STUCK_FACTOR} times its longest successful run so far ({_span(longest)})",
    )


def _stuck(
    item: SourceSchedule, run: RunEntry, longest: float | None, now: datetime, log_file: str
) -> Alert | None:
    if run.started_at is None:
        return None
    started = parse_timestamp(run.started_at)
    running = (now - started).total_seconds()
    limit, rule = stuck_limit(longest)
    if running <= limit:
        return None
    return Alert(
        "stuck",
        item.source,
        f"{_run_text(item, run)} has been running for {_span(running)} (since "
        f"{started:%Y-%m-%d %H:%M} UTC), {rule}; {run.runner or 'its process'} is alive. "
        f"To do: read its log ({log_file}); if it hangs, stop the scheduler with SIGTERM (the "
        "crawl closes as interrupted and the next run resumes it) and start it again.",
        since=run.started_at,
        details={
            "run": run.id,
            "runner": run.runner,
            "running_seconds": running,
            "limit_seconds": limit,
            "longest_success_seconds": longest,
        },
    )


def _orphaned(item: SourceSchedule, run: RunEntry) -> Alert:
    """A run still marked running whose process has ended: no scheduler has taken over yet."""
    started = _moment(run.started_at)
    return Alert(
        "abandoned",
        item.source,
        f"{_run_text(item, run)} is marked running since {started} UTC, but "
        f"{run.runner or 'its process'} has ended. To do: start `tdir scheduler` (a running one "
        "does it within seconds): it ends the run as abandoned, stops anything it left running, "
        "frees the source and runs it again.",
        since=run.started_at,
        details={"run": run.id, "runner": run.runner, "ended_as_abandoned": False},
    )


def _abandoned(item: SourceSchedule, run: RunEntry) -> Alert:
    """The source's latest run was ended as abandoned, and no run has ended since."""
    if item.next_run_at:
        after = f"Its next run, at {_moment(item.next_run_at)} UTC, takes it up again."
    elif item.paused:
        after = "Its schedule is paused: `tdir schedule run-now` runs it again."
    else:
        after = "No next run is planned: is `tdir scheduler` running?"
    return Alert(
        "abandoned",
        item.source,
        f"{_run_text(item, run)}, started {_moment(run.started_at)} UTC, was {run.error} "
        f"(found {_moment(run.finished_at)} UTC). {after} {_AFTER_ABANDONED}",
        since=run.started_at,
        details={
            "run": run.id,
            "runner": run.runner,
            "ended_as_abandoned": True,
            "found_at": run.finished_at,
            "next_run_at": item.next_run_at,
        },
    )


def _run_text(item: SourceSchedule, run: RunEntry) -> str:
    """``atlas: run #12 (scheduled, every 1d)``."""
    trigger = {"schedule": "scheduled", "manual": "requested", "missed": "missed"}
    schedule = describe(item.schedule) if item.schedule else "schedule unreadable"
    return f"{item.source}: run #{run.id} ({trigger.get(run.trigger, run.trigger)}, {schedule})"


def _span(seconds: float) -> str:
    """``6 h 12 min``, ``45 min``, ``30 s``."""
    minutes = int(seconds // 60)
    if not minutes:
        return f"{int(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _moment(text: str | None) -> str:
    return f"{parse_timestamp(text):%Y-%m-%d %H:%M}" if text else "an unknown time"


def _ended(run: RunRecord) -> datetime:
    return parse_timestamp(run.finished_at or run.started_at)
