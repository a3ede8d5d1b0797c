"""Is the directory's data fresh? Alerts about sources, for the admin area and ``tdir alerts``.

- **stale**: a source without a complete crawl within twice its schedule's period (for a cron
  schedule, its longest gap between fire times), so its listings may no longer be what the site
  says. Profiles carry their own ``last_confirmed``; this is the same question per source.
- **extraction dropped**: a complete crawl that gathered less than half the records of a type
  (listings, reviews, credential records) that the complete crawl before it did. A site that
  changed its layout usually still answers, so nothing fails: the crawl just finds less.
- **failing**: the source's latest scheduled or requested run failed (with its error).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from crawler.runs import CrawlStore, RunRecord
from crawler.scheduling.book import ScheduleBook, SourceSchedule
from crawler.scheduling.database import parse_timestamp
from crawler.scheduling.triggers import describe, format_age, format_duration, period_seconds

AlertKind = Literal["stale", "extraction_dropped", "failing"]
STALE_AFTER_PERIODS = 2
DROP_BELOW = 0.5  # share of the previous complete run's records under which a drop is alarming
MIN_RECORDS = 10  # a type with fewer records before is too small to judge a drop on
RECORD_LABELS = {
    "listing": "listings",
    "review": "reviews",
    "credential_record": "credential records",
}


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
    schedules = [s for s in book.list() if s.enabled]
    store = CrawlStore(book.home)
    alerts = [
        *stale_sources(schedules, store, now=now),
        *extraction_drops(store, [s.source for s in schedules]),
        *failing_sources(book, schedules),
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
                    f"{item.source}: no complete crawl for {format_age(age)} (since "
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


def _ended(run: RunRecord) -> datetime:
    return parse_timestamp(run.finished_at or run.started_at)
