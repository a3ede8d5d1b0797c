"""The health of each catalog source, from its schedule and its run records.

A source is *fresh* while its last complete run is younger than its recrawl period, *due* for
one more period after that, and *overdue* beyond. It is *failing* when none of its runs
finished, when its newest run failed, or when its newest run fetched nothing but errors (a site
that is down finishes its crawl quickly, empty-handed). One never crawled is *never crawled*; a
run in progress makes it *running*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from crawler.catalog import Schedule, Source
from crawler.runs import RunRecord
from dashboard.formatting import format_interval, parse_when

Freshness = Literal["fresh", "due", "overdue", "failing", "never crawled", "running"]
FRESHNESS_ORDER: dict[str, int] = {
    "failing": 0,
    "overdue": 1,
    "never crawled": 2,
    "due": 3,
    "running": 4,
    "fresh": 5,
}
_DAY = 86400


@dataclass(frozen=True)
class SourceHealth:
    """What an admin needs to know about one source at a glance."""

    source: Source
    runs: tuple[RunRecord, ...]
    freshness: Freshness
    period_seconds: int
    next_due: datetime | None
    schedule: Schedule  # in force: an admin's, else the catalog's

    @property
    def last_run(self) -> RunRecord | None:
        """The newest run, whatever its status."""
        return self.runs[-1] if self.runs else None

    @property
    def last_complete(self) -> RunRecord | None:
        """The newest run that went through the whole source."""
        return next((r for r in reversed(self.runs) if r.complete), None)

    @property
    def schedule_text(self) -> str:
        """The recrawl schedule in words."""
        return describe_schedule(self.schedule)

    @property
    def items(self) -> int:
        """Records the newest run gathered, all types together."""
        return sum(self.last_run.items.values()) if self.last_run else 0

    @property
    def errors(self) -> int:
        """Errors the newest run counted, all kinds together."""
        return sum(self.last_run.errors.values()) if self.last_run else 0


def describe_schedule(schedule: Schedule) -> str:
    """ "every day", "every 12 h", "daily at 06:30", "cron 0 3 * * 1"."""
    if schedule.interval_seconds:
        return format_interval(schedule.interval_seconds)
    if not schedule.cron:
        return "not scheduled"
    minute, hour, *days = schedule.cron.split()
    if days == ["*", "*", "*"] and minute.isdigit() and hour.isdigit():
        return f"daily at {int(hour):02d}:{int(minute):02d}"
    return f"cron {schedule.cron}"


def schedule_period(schedule: Schedule) -> int:
    """The longest gap the schedule allows between two runs, in seconds.

    A cron expression is judged by its day fields: every day unless it restricts the day of the
    week (weekly) or of the month (monthly). That is enough to call a source stale.
    """
    if schedule.interval_seconds:
        return schedule.interval_seconds
    if schedule.cron:
        _minute, _hour, day_of_month, month, day_of_week = schedule.cron.split()
        if day_of_month != "*" or month != "*":
            return 31 * _DAY
        if day_of_week != "*":
            return 7 * _DAY
    return _DAY


def _broken(run: RunRecord | None) -> bool:
    """True when a run failed outright or fetched no page and counted errors."""
    if run is None:
        return False
    return run.status == "failed" or (run.pages == 0 and sum(run.errors.values()) > 0)


def source_health(
    source: Source, runs: list[RunRecord], now: datetime, schedule: Schedule | None = None
) -> SourceHealth:
    """Judge one source's freshness from its run records (oldest first) at ``now``, against
    ``schedule`` (the one in force; the catalog's when not given)."""
    schedule = schedule or source.schedule
    period = schedule_period(schedule)
    ordered = tuple(runs)
    last = ordered[-1] if ordered else None
    complete = next((r for r in reversed(ordered) if r.complete), None)
    finished_at = parse_when(complete.finished_at or complete.started_at) if complete else None
    next_due = finished_at + timedelta(seconds=period) if finished_at else None
    freshness: Freshness
    if last is not None and last.status == "running":
        freshness = "running"
    elif not ordered:
        freshness = "never crawled"
    elif next_due is None or _broken(last):
        freshness = "failing"
    elif now < next_due:
        freshness = "fresh"
    elif now < next_due + timedelta(seconds=period):
        freshness = "due"
    else:
        freshness = "overdue"
    return SourceHealth(
        source=source,
        runs=ordered,
        freshness=freshness,
        period_seconds=period,
        next_due=next_due,
        schedule=schedule,
    )
