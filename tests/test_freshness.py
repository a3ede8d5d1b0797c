"""Alerts about sources: stale ones, sudden drops in what a crawl extracts, failing runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.runs import CrawlStore, RunRecord
from crawler.scheduling import ScheduleBook
from crawler.scheduling import history as runs
from crawler.scheduling.database import ScheduleDatabase
from indexer.freshness import source_alerts
from tests.scheduling import demo_entries, make_home, tdir

NOW = datetime(2025, 9, 10, 12, 0, tzinfo=UTC)


def crawled(
    home: Path,
    source: str,
    days_ago: float,
    status: str = "finished",
    now: datetime = NOW,
    **items: int,
) -> None:
    """Record a crawl run of the source that ended ``days_ago`` before ``now``."""
    ended = now - timedelta(days=days_ago)
    store = CrawlStore(home)
    run_id = ended.strftime("%Y%m%dT%H%M%S%fZ")
    store.run_dir(source, run_id).mkdir(parents=True)
    store.write_record(
        RunRecord(
            source=source,
            run_id=run_id,
            started_at=(ended - timedelta(minutes=5)).isoformat(),
            finished_at=ended.isoformat(),
            status=status,  # type: ignore[arg-type]
            items=items,
        )
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    # atlas every day; guild on a weekday cron (its longest gap is three days).
    entries = demo_entries(guild={"cron": "0 3 * * 1-5"})
    return make_home(tmp_path, None, entries)


@pytest.fixture
def book(home: Path) -> ScheduleBook:
    return ScheduleBook(home, catalog=home.parent / "catalog.yaml")


def kinds(book: ScheduleBook) -> dict[tuple[str, str], str]:
    return {(a.source, a.kind): a.message for a in source_alerts(book, now=NOW)}


def test_a_source_is_stale_after_twice_its_period_without_a_complete_crawl(
    home: Path, book: ScheduleBook
) -> None:
    crawled(home, "atlas", 1.9, listing=100)
    crawled(home, "guild", 5.5, listing=100)  # within twice its three-day weekend gap
    assert kinds(book) == {}
    crawled(home, "atlas", 0.5, status="interrupted", listing=100)  # not complete: no help
    assert kinds(book) == {}
    stale_now = NOW + timedelta(days=0.2)
    alerts = {a.source: a for a in source_alerts(book, now=stale_now)}
    assert set(alerts) == {"atlas"}
    assert alerts["atlas"].kind == "stale"
    assert alerts["atlas"].message.startswith("atlas: no complete crawl for ")
    assert "on every 1d it should have one within 2d" in alerts["atlas"].message
    assert alerts["atlas"].details["allowed_seconds"] == 2 * 86400


def test_a_source_never_crawled_or_on_a_paused_schedule_is_stale(
    home: Path, book: ScheduleBook
) -> None:
    crawled(home, "atlas", 10, listing=100)
    book.pause("atlas", by="ann")
    found = kinds(book)
    assert found[("guild", "stale")] == "guild: never crawled completely"
    assert found[("atlas", "stale")].endswith("(its schedule is paused)")
    assert "cron 0 3 * * 1-5" not in found[("atlas", "stale")]


def test_a_sudden_drop_in_extracted_records_is_an_alert(home: Path, book: ScheduleBook) -> None:
    crawled(home, "atlas", 1.5, listing=200, review=100, credential_record=8)
    crawled(home, "atlas", 1.0, status="interrupted", listing=3)  # never compared
    crawled(home, "atlas", 0.5, listing=40, review=60, credential_record=1)
    crawled(home, "guild", 1.0, listing=100)
    alerts = [a for a in source_alerts(book, now=NOW) if a.kind == "extraction_dropped"]
    assert len(alerts) == 1  # reviews fell by 40% only; 8 credential records are too few to judge
    (drop,) = alerts
    assert drop.source == "atlas" and drop.details["record_type"] == "listing"
    assert (drop.details["before"], drop.details["after"]) == (200, 40)
    assert drop.message.startswith("atlas: listings fell from 200 to 40 between complete runs ")
    assert drop.message.endswith("the site's layout may have changed")


def test_failing_runs_are_an_alert_until_one_succeeds(home: Path, book: ScheduleBook) -> None:
    crawled(home, "atlas", 0.5, listing=100)
    crawled(home, "guild", 0.5, listing=100)
    db = ScheduleDatabase(home)
    for error in ("crawl: connection refused", "index: disk full"):
        with db.write() as conn:
            run = runs.insert_run(conn, "guild", "schedule", "running")
            runs.finish_run(conn, run, error=error)
    found = kinds(book)
    assert list(found) == [("guild", "failing")]
    assert found[("guild", "failing")].startswith("guild: 2 runs in a row failed, the latest (#2")
    assert found[("guild", "failing")].endswith("failed: index: disk full")
    with db.write() as conn:
        runs.finish_run(conn, runs.insert_run(conn, "guild", "manual", "running"), error=None)
    assert kinds(book) == {}


@pytest.mark.system  # runs the tdir command
def test_the_alerts_command_prints_them_and_can_fail_a_check(home: Path) -> None:
    crawled(home, "atlas", 0.0, now=datetime.now(UTC), listing=100)
    done = tdir(home, "alerts", "--json", "--check")
    assert done.returncode == 1, done.stderr
    alerts = json.loads(done.stdout)
    assert [(a["source"], a["kind"]) for a in alerts] == [("guild", "stale")]
    assert tdir(home, "alerts").stdout.startswith("stale               guild: never crawled")
