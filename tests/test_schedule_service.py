"""The scheduler service, run as admins run it: real processes crawling the demo web.

``tdir scheduler --once`` runs one pass of the service (every due source, every queued request)
and exits, so these tests need no waiting for a schedule to come round. Only the demo catalog's
stable sources, atlas and guild, are crawled.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.runs import CrawlStore
from crawler.scheduling import ScheduleBook
from crawler.scheduling.leases import LeaseHolder
from indexer.search import SearchQuery
from indexer.search.sqlite_backend import SqliteBackend
from tests.scheduling import (
    demo_entries,
    make_home,
    move_next_run,
    next_runs,
    tdir,
    tdir_json,
    write_catalog,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

ONCE = ("scheduler", "--once", "--no-delay", "--retry-after", "0s")


@pytest.fixture
def home(tmp_path: Path, demo_web: Any) -> Path:
    return make_home(tmp_path, demo_web.manifest, demo_entries())


def book(home: Path) -> ScheduleBook:
    return ScheduleBook(home, catalog=home.parent / "catalog.yaml")


def once(home: Path) -> list[dict[str, Any]]:
    """One pass of the service; the runs it started."""
    done = tdir(home, *ONCE, "--json")
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def indexed_ids(home: Path) -> set[str]:
    backend = SqliteBackend(home / "index.sqlite3")
    try:
        return set(backend.search(SearchQuery(page_size=100)).ids) if backend.count() else set()
    finally:
        backend.close()


def test_a_due_schedule_runs_the_crawl_and_the_index_and_is_recorded(home: Path) -> None:
    book(home).pause("guild", by="ann")
    runs = once(home)
    assert [(r["source"], r["trigger"], r["state"]) for r in runs] == [
        ("atlas", "schedule", "succeeded")
    ]
    run = runs[0]
    crawl = CrawlStore(home).read_record("atlas", run["crawl_run_id"])
    assert crawl.complete and run["crawl_status"] == "finished"
    assert run["index_summary"]["profiles"] > 200 and run["index_summary"]["written"] > 200
    assert indexed_ids(home)  # the index answers searches
    history = tdir_json(home, "schedule", "history", "atlas")
    assert [h["id"] for h in history] == [run["id"]]
    # The next run is one period on: a second pass finds nothing due.
    nxt = next_runs(home)
    assert nxt["guild"] is None  # paused
    assert nxt["atlas"] > datetime.now(UTC) + timedelta(hours=23)
    assert once(home) == []


def test_missed_runs_run_once_when_the_service_comes_back(home: Path) -> None:
    admin = book(home)
    admin.set("atlas", every="1h", by="ann")
    admin.pause("atlas", by="ann")
    admin.pause("guild", by="ann")
    assert once(home) == []  # the jobs exist, paused
    admin.resume("atlas", by="ann")
    assert once(home) == []  # resumed: the next run is an hour away
    # The service was down for ten hours: ten runs of atlas were missed.
    move_next_run(home, "atlas", datetime.now(UTC) - timedelta(hours=10))
    runs = once(home)
    assert [(r["source"], r["trigger"], r["state"]) for r in runs] == [
        ("atlas", "missed", "succeeded")
    ]
    assert runs[0]["queued_at"] < runs[0]["started_at"]  # queued when it was first due
    assert next_runs(home)["atlas"] > datetime.now(UTC)
    assert once(home) == []


def test_a_failed_run_is_recorded_and_retried_on_the_next_tick(home: Path) -> None:
    book(home).pause("guild", by="ann")
    with CrawlStore(home).lock("atlas"):  # someone crawls atlas by hand meanwhile
        failed = once(home)
    assert [(r["source"], r["state"]) for r in failed] == [("atlas", "failed")]
    assert failed[0]["error"] == "crawl: source 'atlas' is being crawled by another process"
    assert failed[0]["index_summary"] is None
    retried = once(home)
    assert [(r["source"], r["trigger"], r["state"]) for r in retried] == [
        ("atlas", "schedule", "succeeded")
    ]
    alerts = tdir_json(home, "alerts")
    assert not [a for a in alerts if a["source"] == "atlas"]


def test_a_broken_catalog_entry_fails_its_runs_and_the_others_go_on(home: Path) -> None:
    atlas, guild = demo_entries()
    write_catalog(home.parent / "catalog.yaml", [{**atlas, "spider": "bogus"}, guild])
    done = tdir(home, *ONCE, "--json")
    assert done.returncode == 1, done.stderr  # a run failed
    runs = {r["source"]: r for r in json.loads(done.stdout)}
    assert runs["guild"]["state"] == "succeeded"
    assert runs["atlas"]["state"] == "failed"
    assert "source 'atlas': spider 'bogus' is not one of" in runs["atlas"]["error"]
    alerts = tdir_json(home, "alerts")
    failing = [a for a in alerts if a["kind"] == "failing"]
    assert [a["source"] for a in failing] == ["atlas"]
    assert "spider 'bogus'" in failing[0]["message"]
    # A catalog that cannot be read at all keeps every schedule; the runs record why they fail.
    (home.parent / "catalog.yaml").write_text("sources: [", encoding="utf-8")
    move_next_run(home, "guild", datetime.now(UTC))
    runs = {r["source"]: r for r in once(home)}
    assert set(runs) == {"atlas", "guild"}  # atlas retried, guild due
    assert all(r["state"] == "failed" and "not valid YAML" in r["error"] for r in runs.values())
    assert set(next_runs(home)) == {"atlas", "guild"}


def test_concurrent_run_now_requests_never_overlap(home: Path) -> None:
    command = [sys.executable, "-m", "tdir.cli", "schedule", "run-now", "atlas", "--wait"]
    env = {
        **os.environ,
        "TDIR_HOME": str(home),
        "TDIR_CATALOG": str(home.parent / "catalog.yaml"),
    }
    env.pop("TDIR_ES_URL", None)
    procs = [
        subprocess.Popen(
            [*command, "--no-delay", "--by", who],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for who in ("ann", "bob")
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    refused = [err for code, err in results if code == 2]
    assert all(code in (0, 2) for code, _ in results), results
    assert all("already queued" in err for err in refused)
    runs = sorted(book(home).history("atlas"), key=lambda r: r.started_at or "")
    assert [r.state for r in runs] == ["succeeded"] * (2 - len(refused))
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at <= later.started_at  # one after the other, never together


def test_the_service_runs_requests_refuses_a_second_service_and_stops_on_sigterm(
    home: Path,
) -> None:
    admin = book(home)
    admin.pause("atlas", by="ann")
    admin.pause("guild", by="ann")
    env = {
        **os.environ,
        "TDIR_HOME": str(home),
        "TDIR_CATALOG": str(home.parent / "catalog.yaml"),
    }
    env.pop("TDIR_ES_URL", None)
    service = subprocess.Popen(
        [sys.executable, "-m", "tdir.cli", "scheduler", "--poll", "1s", "--no-delay"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )

    def registered() -> LeaseHolder | None:
        assert service.poll() is None, service.stderr.read()
        return admin.service()

    try:
        wait_until(registered, timeout=120, message="the scheduler service to register")
        second = tdir(home, *ONCE)
        assert second.returncode == 2 and "a scheduler already runs on" in second.stderr
        done = tdir(home, "schedule", "run-now", "guild", "--by", "ann", "--wait", "--json")
        assert done.returncode == 0, done.stderr
        (run,) = json.loads(done.stdout)
        assert (run["trigger"], run["state"], run["requested_by"]) == ("manual", "succeeded", "ann")
        assert run["runner"].startswith(f"scheduler pid {service.pid} ")
    finally:
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 0, service.stderr.read()
    assert admin.service() is None
