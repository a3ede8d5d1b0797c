"""Schedules as APScheduler triggers: admins' input checked, periods measured, text for people.

A schedule is the catalog's :class:`~crawler.catalog.Schedule`: ``every`` an interval, or a
five-field ``cron`` expression. Cron expressions are read in UTC, so that the service, the command
line and the dashboard agree on when a source is due wherever they run.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.catalog import CatalogError, Schedule
from crawler.scheduling.errors import ScheduleError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CRON_SAMPLES = 8  # fire times looked at to measure a cron schedule's longest gap
# The closest two scheduled crawls of one source may be: a site is recrawled at most hourly (its
# listings do not change by the minute, and its owner's servers are not ours to load).
MIN_SPACING_SECONDS = 3600


def parse_schedule(*, every: str | None = None, cron: str | None = None, where: str) -> Schedule:
    """Parse an admin's ``--every 6h`` or ``--cron "0 3 * * *"``.

    Raises ScheduleError whose message starts with ``where`` (e.g. the source) and names the bad
    value: both or neither given, an interval not like ``12h``, a cron without five fields or with
    a field out of range.
    """
    if (every is None) == (cron is None):
        raise ScheduleError(f"{where}: give a schedule as either --every (e.g. 6h) or --cron")
    raw = {"every": every} if every is not None else {"cron": cron}
    try:
        schedule = Schedule.parse(raw, where)
    except CatalogError as exc:
        raise ScheduleError(str(exc)) from None
    check_schedule(schedule, where)
    spacing = shortest_gap_seconds(schedule)
    if spacing < MIN_SPACING_SECONDS:
        raise ScheduleError(
            f"{where}: {describe(schedule)} runs crawls {format_duration(spacing)} apart; a "
            f"source is crawled at most once every {format_duration(MIN_SPACING_SECONDS)}"
        )
    return schedule


def shortest_gap_seconds(schedule: Schedule, after: datetime | None = None) -> float:
    """The shortest wait between two runs: the interval, or a cron schedule's shortest gap
    between its next few consecutive fire times (``*/15 3 * * *`` fires 15 minutes apart)."""
    if schedule.interval_seconds is not None:
        return float(schedule.interval_seconds)
    return min(_cron_gaps(schedule, after))


def check_schedule(schedule: Schedule, where: str) -> None:
    """Raise ScheduleError if APScheduler cannot build a trigger from the schedule (a cron
    field out of range, like minute 61, passes the catalog's five-field check but not this)."""
    try:
        to_trigger(schedule)
    except ValueError as exc:
        raise ScheduleError(f"{where}: schedule.cron {schedule.cron!r}: {exc}") from None


def to_trigger(schedule: Schedule) -> BaseTrigger:
    """The APScheduler trigger of a schedule (ValueError for an invalid cron expression)."""
    if schedule.cron is not None:
        return CronTrigger.from_crontab(schedule.cron, timezone=UTC)
    if schedule.interval_seconds is None:
        raise ValueError("a schedule needs an interval or a cron expression")
    return IntervalTrigger(seconds=schedule.interval_seconds, timezone=UTC)


def period_seconds(schedule: Schedule, after: datetime | None = None) -> float:
    """How long a source may wait between two runs: the interval, or for a cron schedule the
    longest gap between its next few consecutive fire times (a weekdays-only cron waits three
    days over a weekend, not one)."""
    if schedule.interval_seconds is not None:
        return float(schedule.interval_seconds)
    return max(_cron_gaps(schedule, after))


def _cron_gaps(schedule: Schedule, after: datetime | None) -> list[float]:
    """The gaps between a cron schedule's next few consecutive fire times, in seconds."""
    trigger = to_trigger(schedule)
    now = after or datetime.now(UTC)
    fires: list[datetime] = []
    previous: datetime | None = None
    for _ in range(_CRON_SAMPLES + 1):
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        fires.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(fires)]
    if not gaps:
        raise ValueError(f"cron {schedule.cron!r} does not fire repeatedly")
    return gaps


def describe(schedule: Schedule | None) -> str:
    """``every 6h``, ``every 90m``, ``cron 0 3 * * *`` (UTC), or ``-`` for none."""
    if schedule is None:
        return "-"
    if schedule.cron is not None:
        return f"cron {schedule.cron}"
    return f"every {format_duration(schedule.interval_seconds or 0)}"


def format_duration(seconds: float) -> str:
    """A duration in its largest whole unit: ``3d``, ``36h``, ``90m``, ``45s``."""
    whole = int(seconds)
    for unit in ("w", "d", "h", "m"):
        if whole and whole % _UNITS[unit] == 0:
            return f"{whole // _UNITS[unit]}{unit}"
    return f"{whole}s"


def format_elapsed(seconds: float) -> str:
    """A time gone by, rounded down to its largest unit: ``3d``, ``5h``, ``12m``, ``40s``."""
    for unit in ("d", "h", "m"):
        if seconds >= _UNITS[unit]:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{int(seconds)}s"


def parse_duration(text: str, what: str) -> float:
    """Seconds in ``30s``, ``15m``, ``2h``, ``1d``, ``1w`` or a bare number of seconds;
    ScheduleError naming ``what`` otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ScheduleError(f"{what}: {text!r} is not a duration like 30s, 15m, 2h or 1d")
    return float(match[1]) * _UNITS[match[2]]
