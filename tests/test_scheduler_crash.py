"""A scheduler killed mid-run: its crawl stops with it, and the next scheduler takes over.

The whole story runs with real processes against the demo web: a scheduler crawling atlas
politely is killed with SIGKILL; its crawl process stops by itself (interrupted, so resumable);
the run it left is reported, then ended as abandoned by the next scheduler, which frees the
source, retries it at once, resumes the crawl and indexes what both parts gathered. The rules
underneath (which process is alive, what a left-behind process and an old database become, when
a run counts as stuck) are pinned on their own, without crawling.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from crawler.runs import CrawlStore
from crawler.scheduling import ScheduleBook, history
from crawler.scheduling.book import source_lease
from crawler.scheduling.database import SCHEMA_VERSION, ScheduleDatabase, timestamp
from crawler.scheduling.execution import INDEX_LEASE
from crawler.scheduling.leases import Lease, current_holder
from crawler.scheduling.processes import HOST, ProcessRef, local_alive
from crawler.scheduling.recovery import abandon_dead_runs, owner_alive
from indexer.freshness import source_alerts, stuck_limit
from indexer.search import SearchQuery
from indexer.search.sqlite_backend import SqliteBackend
from tests.scheduling import demo_entries, make_home, tdir, write_catalog

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

T = TypeVar("T")
DEADLINE = 90.0  # seconds any one step may take on a loaded machine


# -- helpers ----------------------------------------------------------------------------------


def wait_for(what: str, check: Callable[[], T | None], *, timeout: float = DEADLINE) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.2)


def running(pid: int) -> bool:
    """Whether ``pid`` runs, read straight from /proc (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZXx"


def exited(process: subprocess.Popen[Any]) -> ProcessRef:
    """A process that has ended, as it was recorded while it ran."""
    ref = ProcessRef.local(process.pid)
    process.kill()
    process.wait()
    return ref


def sleeper() -> subprocess.Popen[Any]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def hold_lease(db: ScheduleDatabase, name: str, holder: ProcessRef) -> None:
    """A lease row as ``holder`` would have written it."""
    with db.write() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO leases"
            " (name, holder, host, pid, purpose, acquired_at, expires_at, started)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, "token", holder.host, holder.pid, "a run", timestamp(), time.time() + 120,
             holder.start),
        )  # fmt: skip


def start_run(db: ScheduleDatabase, source: str, owner: ProcessRef, **fields: Any) -> int:
    """A run marked running by ``owner``, holding its source as ``owner``."""
    with db.write() as conn:
        run_id = history.insert_run(
            conn, source, "schedule", "running", runner=f"scheduler {owner.describe()}",
            owner=owner.token,
        )  # fmt: skip
        for column, value in fields.items():
            conn.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, run_id))
    hold_lease(db, source_lease(source), owner)
    return run_id


def lease_rows(db: ScheduleDatabase) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute("SELECT * FROM leases")]


@pytest.fixture
def quiet_home(tmp_path: Path) -> Path:
    manifest = tmp_path / "sites.json"
    manifest.write_text('{"atlas": "http://127.0.0.1:9", "guild": "http://127.0.0.1:9"}')
    return make_home(tmp_path, manifest, demo_entries())


# -- which process is alive -------------------------------------------------------------------


def test_a_process_is_alive_only_while_its_pid_has_the_start_recorded() -> None:
    me = ProcessRef.current()
    assert me.alive() is True and me.start is not None
    assert ProcessRef.parse(me.token) == me
    # The same pid with another start is a process that had the pid before: dead.
    reused = ProcessRef(HOST, os.getpid(), "another-boot:12345")
    assert reused.alive() is False
    assert ProcessRef(HOST, os.getpid(), None).alive() is True  # start unknown: the pid decides
    gone = exited(sleeper())
    assert gone.alive() is False and not local_alive(gone.pid)
    assert ProcessRef("another-host", os.getpid(), me.start).alive() is None  # cannot tell
    assert ProcessRef.parse("not a token") is None and ProcessRef.parse(None) is None


def test_a_zombie_counts_as_ended() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    ref = ProcessRef.local(child.pid)
    wait_for("the child to exit", lambda: not running(child.pid))
    assert Path(f"/proc/{child.pid}").exists()  # not reaped yet: a zombie
    assert ref.alive() is False
    child.wait()


def test_a_run_is_owned_by_a_live_process_only(quiet_home: Path) -> None:
    db = ScheduleDatabase(quiet_home)
    live = start_run(db, "atlas", ProcessRef.current())
    reused = start_run(db, "guild", ProcessRef(HOST, os.getpid(), "another-boot:1"))
    with db.read() as conn:
        alive = {r.id: owner_alive(conn, r) for r in history.list_runs(conn)}
    assert alive == {live: True, reused: False}


def test_a_run_of_another_host_is_judged_by_its_lease(quiet_home: Path) -> None:
    db = ScheduleDatabase(quiet_home)
    remote = ProcessRef("another-host", 4242, "boot:1")
    run_id = start_run(db, "atlas", remote)
    with db.read() as conn:
        assert owner_alive(conn, history.get_run(conn, run_id))
    with db.write() as conn:  # the owner stopped renewing its lease two minutes ago
        conn.execute("UPDATE leases SET expires_at = ?", (time.time() - 1,))
    with db.read() as conn:
        assert not owner_alive(conn, history.get_run(conn, run_id))


# -- the lifeline -----------------------------------------------------------------------------

# A child holding a lifeline that counts the SIGTERMs it gets (in the log its output goes to
# once its parent is gone) and ignores them, so that the lifeline has to kill it in the end.
LIFELINE_CHILD = """
import signal, sys, time
from crawler.scheduling.lifeline import hold
signal.signal(signal.SIGTERM, lambda *_: print("SIGTERM", flush=True))
hold(0, sys.argv[1], patience=1.0)
print("ready", flush=True)
time.sleep(60)
"""


def start_with_lifeline(log: Path) -> tuple[subprocess.Popen[str], int]:
    lifeline, held = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-c", LIFELINE_CHILD, str(log)],
        stdin=lifeline,
        stdout=subprocess.PIPE,
        text=True,
    )
    os.close(lifeline)
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child, held


@pytest.mark.parametrize("stopped_first", [False, True])
def test_a_child_is_stopped_once_when_its_parent_is_gone(
    tmp_path: Path, stopped_first: bool
) -> None:
    log = tmp_path / "run.log"
    child, held = start_with_lifeline(log)
    if stopped_first:  # the parent stopped it in order (see RunExecutor.stop), then died
        os.write(held, b"s")
        child.send_signal(signal.SIGTERM)
        assert child.stdout is not None and child.stdout.readline() == "SIGTERM\n"
    os.close(held)  # what the kernel does when the parent dies, however it dies
    assert child.wait(timeout=30) == -signal.SIGKILL  # it ignored SIGTERM: killed in the end
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"--- pid {child.pid}: the process that started it is gone; stopping"
    # Never a second SIGTERM: a crawl would take it as an order to stop hard.
    assert lines[1:] == ([] if stopped_first else ["SIGTERM"])


# -- recovery ---------------------------------------------------------------------------------


def test_a_dead_owners_run_is_abandoned_and_its_leases_released(quiet_home: Path) -> None:
    db = ScheduleDatabase(quiet_home)
    dead = exited(sleeper())
    orphan = sleeper()  # its crawl, still running: no lifeline told it to stop
    try:
        dead_run = start_run(db, "atlas", dead, child=ProcessRef.local(orphan.pid).token)
        hold_lease(db, INDEX_LEASE, dead)
        live_run = start_run(db, "guild", ProcessRef.current())
        started = time.monotonic()
        [abandoned] = abandon_dead_runs(db, quiet_home, patience=1.0)
        assert time.monotonic() - started < 15
        assert not running(orphan.pid)  # stopped, not adopted
    finally:
        orphan.kill()
        orphan.wait()
    assert (abandoned.id, abandoned.state) == (dead_run, "abandoned")
    assert abandoned.error.startswith(f"abandoned: scheduler pid {dead.pid} on {HOST} ended")
    assert f"the process it left running (pid {orphan.pid} on {HOST}) killed" in abandoned.error
    assert abandoned.finished_at is not None
    assert [(r["name"], r["pid"]) for r in lease_rows(db)] == [("source:guild", os.getpid())]
    book = ScheduleBook(quiet_home, catalog=quiet_home.parent / "catalog.yaml")
    assert book.run(live_run).state == "running"
    assert {s.source: s.last_run.state for s in book.schedules() if s.last_run} == {
        "atlas": "abandoned"
    }
    assert abandon_dead_runs(db, quiet_home) == []  # nothing left to do
    with db.write() as conn:  # an abandoned run counts towards the retry backoff
        assert history.consecutive_failures(conn, "atlas") == 1


def test_an_old_schedule_database_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "scheduler" / "schedule.sqlite3"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.executescript(VERSION_0_SCHEMA)
    conn.executescript(
        "INSERT INTO runs (source, trigger, state, queued_at, runner, error) VALUES"
        " ('atlas', 'schedule', 'succeeded', '2025-01-01T00:00:00.000+00:00', 'x', NULL),"
        " ('atlas', 'schedule', 'running', '2025-01-02T00:00:00.000+00:00', 'x', NULL),"
        " ('guild', 'manual', 'queued', '2025-01-03T00:00:00.000+00:00', NULL, NULL);"
        "DELETE FROM runs WHERE id = 3;"  # the highest id handed out stays 3
        "INSERT INTO leases VALUES ('service', 't', 'h', 1, 'p', 'a', 1.0);"
    )
    conn.commit()
    conn.close()
    db = ScheduleDatabase(tmp_path)
    with db.read() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [(r.id, r.state, r.owner) for r in history.list_runs(conn, oldest_first=True)] == [
            (1, "succeeded", None),
            (2, "running", None),
        ]
        assert [r["started"] for r in conn.execute("SELECT * FROM leases")] == [None]
    with db.write() as conn:
        assert history.abandon_run(conn, 2, "abandoned: gone")
        assert history.insert_run(conn, "atlas", "manual", "running") == 4
        with pytest.raises(sqlite3.IntegrityError):  # still one running run per source
            history.insert_run(conn, "atlas", "manual", "running")
    assert ScheduleBook(tmp_path).run(2).state == "abandoned"


# -- alerts -----------------------------------------------------------------------------------


def test_a_run_going_on_far_longer_than_its_source_s_runs_is_stuck(quiet_home: Path) -> None:
    assert stuck_limit(None)[0] == 6 * 3600
    assert stuck_limit(60.0)[0] == 3600  # a quick source has slow days too
    assert stuck_limit(7200.0) == (
        21600.0,
        "more than 3 times its longest successful run so far (2 h)",
    )
    db = ScheduleDatabase(quiet_home)
    with db.write() as conn:
        done = history.insert_run(conn, "atlas", "schedule", "running")
        conn.execute(
            "UPDATE runs SET state = 'succeeded', started_at = ?, finished_at = ? WHERE id = ?",
            ("2025-09-01T03:00:00.000+00:00", "2025-09-01T05:04:00.000+00:00", done),
        )
    run_id = start_run(
        db, "atlas", ProcessRef.current(), started_at="2025-09-02T03:00:00.000+00:00"
    )
    book = ScheduleBook(quiet_home, catalog=quiet_home.parent / "catalog.yaml")
    at = datetime(2025, 9, 2, 3, tzinfo=UTC)
    assert not [a for a in source_alerts(book, now=at + timedelta(hours=6)) if a.kind == "stuck"]
    [stuck] = [a for a in source_alerts(book, now=at + timedelta(hours=9)) if a.kind == "stuck"]
    assert stuck.source == "atlas" and stuck.since == "2025-09-02T03:00:00.000+00:00"
    assert stuck.message.startswith(
        f"atlas: run #{run_id} (scheduled, every 1d) has been running for 9 h (since 2025-09-02 "
        "03:00 UTC), more than 3 times its longest successful run so far (2 h 4 min); "
        f"scheduler pid {os.getpid()} on {HOST} is alive. To do: read its log ("
    )


def test_a_run_left_running_by_a_dead_process_is_reported_before_and_after_it_is_ended(
    quiet_home: Path,
) -> None:
    db = ScheduleDatabase(quiet_home)
    dead = exited(sleeper())
    run_id = start_run(db, "guild", dead)
    book = ScheduleBook(quiet_home, catalog=quiet_home.parent / "catalog.yaml")
    [before] = [a for a in source_alerts(book) if a.kind == "abandoned"]
    assert before.source == "guild" and before.details["ended_as_abandoned"] is False
    assert f"run #{run_id} (scheduled, every 3d) is marked running since" in before.message
    assert "start `tdir scheduler`" in before.message
    abandon_dead_runs(db, quiet_home)
    [after] = [a for a in source_alerts(book) if a.kind == "abandoned"]
    assert after.details["ended_as_abandoned"] is True
    assert f"was abandoned: scheduler pid {dead.pid} on {HOST} ended before" in after.message
    assert "To do: find out why its process ended" in after.message


# -- the whole story, with real processes -----------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, demo_web: Any) -> Path:
    home = make_home(tmp_path, demo_web.manifest, [])
    write_catalog(tmp_path / "catalog.yaml", [e for e in demo_entries() if e["name"] == "atlas"])
    return home


def start_scheduler(home: Path, log: Path, *options: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TDIR_HOME": str(home),
        "TDIR_CATALOG": str(home.parent / "catalog.yaml"),
        "TDIR_CRAWL_TIMEOUT": "5",
    }
    env.pop("TDIR_ES_URL", None)
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "tdir.cli", "scheduler", "--poll", "1s", *options],
            stdout=output,
            stderr=output,
            env=env,
        )


def profile_requests(request_log: Path, since: int) -> int:
    with request_log.open(encoding="utf-8") as lines:
        lines.seek(since)
        return sum(
            1
            for line in lines
            if (entry := json.loads(line))["site"] == "atlas"
            and entry["path"].startswith("/therapist/")
        )


def indexed_listings(home: Path) -> set[str]:
    """The ids of every listing the index's profiles were built from."""
    backend = SqliteBackend(home / "index.sqlite3")
    listings: set[str] = set()
    cursor = None
    try:
        while True:
            page = backend.search(SearchQuery(page_size=100, cursor=cursor))
            for profile_id in page.ids:
                profile = backend.get(profile_id)
                assert profile is not None
                listings.update(ref.id for ref in profile.listings)
            if page.next_cursor is None:
                return listings
            cursor = page.next_cursor
    finally:
        backend.close()


def test_a_killed_scheduler_s_crawl_stops_and_the_next_scheduler_takes_over(
    home: Path, demo_web: Any, tmp_path: Path
) -> None:
    book = ScheduleBook(home, catalog=home.parent / "catalog.yaml")
    db = ScheduleDatabase(home)
    store = CrawlStore(home)
    log = tmp_path / "scheduler.log"
    since = demo_web.log.path.stat().st_size

    # A scheduler crawls atlas politely (a second between requests), so it is killed midway.
    first = start_scheduler(home, log)
    try:

        def crawling() -> history.RunEntry | None:
            assert first.poll() is None, log.read_text()
            runs = book.history("atlas")
            crawls = store.runs("atlas")
            if not (runs and runs[0].child_pid and crawls and crawls[-1].status == "running"):
                return None
            return runs[0] if profile_requests(demo_web.log.path, since) >= 3 else None

        run = wait_for("the crawl under way", crawling)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    child = run.child_pid
    assert child is not None
    wait_for("the crawl process to stop after its scheduler", lambda: not running(child))
    [crawl] = store.runs("atlas")
    assert (crawl.status, crawl.finish_reason) == ("interrupted", "shutdown")
    gathered = {
        r["id"] for r in store.records("atlas", crawl.run_id) if r["record_type"] == "listing"
    }
    assert gathered

    # Nothing has taken over yet: the run is still marked running, and reported.
    assert book.run(run.id).state == "running"
    shown = tdir(home, "alerts")
    assert f"abandoned           atlas: run #{run.id} (scheduled, every 1d) is marked running" in (
        shown.stdout
    ), shown.stdout + shown.stderr

    # The next scheduler ends the run as abandoned and retries it at once; this test holds the
    # index lease meanwhile, so that the retry waits before its index update.
    with Lease(db, INDEX_LEASE, purpose="the test"):
        second = start_scheduler(home, log, "--no-delay", "--retry-after", "0s")
        try:
            ended = wait_for(
                "the run to be ended as abandoned",
                lambda: (r := book.run(run.id)) is not None and r.state == "abandoned" and r,
            )
            assert ended.error == (
                f"abandoned: scheduler pid {first.pid} on {HOST} ended before the run did; its "
                f"crawl {crawl.run_id} is interrupted; the next run resumes it"
            )
            assert (ended.crawl_run_id, ended.crawl_status) == (crawl.run_id, "interrupted")
            assert not [r for r in lease_rows(db) if r["pid"] == first.pid]  # released
            alerts = tdir(home, "alerts").stdout
            assert f"abandoned           atlas: run #{run.id} (scheduled, every 1d), started " in (
                alerts
            ), alerts
            assert "To do: find out why its process ended" in alerts

            def retried() -> history.RunEntry | None:
                assert second.poll() is None, log.read_text()
                later = [r for r in book.history("atlas") if r.id > run.id]
                return later[0] if later and later[0].crawl_status == "finished" else None

            retry = wait_for("the retry to crawl", retried)
        except BaseException:
            second.kill()
            second.wait()
            raise
    try:
        done = wait_for(
            "the retry to update the index",
            lambda: (r := book.run(retry.id)) is not None and r.done and r,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, log.read_text()

    # The retry resumed the interrupted crawl: what its first part gathered is in the index.
    assert (done.trigger, done.state, done.error) == ("schedule", "succeeded", None), done
    assert done.crawl_run_id == crawl.run_id
    resumed = store.read_record("atlas", crawl.run_id)
    assert resumed.status == "finished" and resumed.resumed
    assert gathered <= indexed_listings(home)
    with db.read() as conn:
        assert current_holder(conn, source_lease("atlas")) is None
    assert not [a for a in source_alerts(book) if a.kind in ("abandoned", "stuck")]


VERSION_0_SCHEMA = """
CREATE TABLE schedules (
    source TEXT PRIMARY KEY,
    every_seconds INTEGER,
    cron TEXT,
    paused INTEGER NOT NULL DEFAULT 0,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (every_seconds IS NULL OR cron IS NULL)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'missed')),
    state TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'skipped')),
    requested_by TEXT,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    runner TEXT,
    crawl_run_id TEXT,
    crawl_status TEXT,
    index_summary TEXT,
    error TEXT
);
CREATE INDEX runs_by_source ON runs (source, id);
CREATE UNIQUE INDEX one_queued_run ON runs (source) WHERE state = 'queued';
CREATE UNIQUE INDEX one_running_run ON runs (source) WHERE state = 'running';
CREATE TABLE retries (source TEXT PRIMARY KEY, retry_at TEXT NOT NULL);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""
