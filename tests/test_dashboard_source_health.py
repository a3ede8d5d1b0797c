"""A source's freshness follows its schedule and its newest runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.catalog import Schedule, Source
from crawler.runs import RunRecord
from dashboard.source_health import describe_schedule, schedule_period, source_health

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def source(every: str = "1d") -> Source:
    return Source(
        name="atlas",
        kind="directory",
        spider="structured",
        title="Atlas",
        start_urls=("http://a.example/",),
        schedule=Schedule.parse({"every": every}, "test"),
    )


def run(hours_ago: float, status: str = "finished", pages: int = 10, **fields: object) -> RunRecord:
    started = NOW - timedelta(hours=hours_ago)
    return RunRecord(
        source="atlas",
        run_id=started.strftime("%Y%m%dT%H%M%S"),
        started_at=started.isoformat(),
        finished_at=None if status == "running" else (started + timedelta(minutes=5)).isoformat(),
        status=status,  # type: ignore[arg-type]
        pages=pages,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("runs", "freshness"),
    [
        ([], "never crawled"),
        ([run(2)], "fresh"),
        ([run(30)], "due"),
        ([run(50)], "overdue"),
        ([run(2, status="interrupted")], "failing"),
        ([run(30), run(1, status="failed")], "failing"),
        ([run(1, pages=0, errors={"download/connection-refused": 1})], "failing"),
        ([run(30), run(0.1, status="running")], "running"),
    ],
)
def test_freshness(runs: list[RunRecord], freshness: str) -> None:
    assert source_health(source(), runs, NOW).freshness == freshness


def test_next_due_is_a_period_after_the_last_complete_run() -> None:
    health = source_health(source("12h"), [run(5), run(1, status="interrupted")], NOW)
    assert health.last_complete is not None and health.last_run is not None
    assert health.last_run.status == "interrupted"
    assert health.next_due == NOW - timedelta(hours=5) + timedelta(minutes=5, hours=12)
    assert health.freshness == "fresh"


@pytest.mark.parametrize(
    ("raw", "period", "words"),
    [
        ({"every": "1d"}, 86400, "every day"),
        ({"every": "3d"}, 3 * 86400, "every 3 days"),
        ({"every": "12h"}, 12 * 3600, "every 12 h"),
        ({"every": "1w"}, 604800, "every week"),
        ({"cron": "30 6 * * *"}, 86400, "daily at 06:30"),
        ({"cron": "*/15 3 * * *"}, 86400, "cron */15 3 * * *"),
        ({"cron": "0 3 * * 1"}, 7 * 86400, "cron 0 3 * * 1"),
        ({"cron": "0 3 1 * *"}, 31 * 86400, "cron 0 3 1 * *"),
    ],
)
def test_schedules_in_words_and_periods(raw: dict[str, str], period: int, words: str) -> None:
    schedule = Schedule.parse(raw, "test")
    assert schedule_period(schedule) == period
    assert describe_schedule(schedule) == words
