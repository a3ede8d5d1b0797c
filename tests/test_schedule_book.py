"""Schedules as admins see and change them: parsing, overrides, pauses, requests, leases.

No crawling here: these pin the schedule book and the schedule database on their own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.catalog import Schedule
from crawler.scheduling import RunRefusedError, ScheduleBook, ScheduleError, history
from crawler.scheduling.database import ScheduleDatabase
from crawler.scheduling.execution import RunExecutor, RunSettings
from crawler.scheduling.leases import Lease, LeaseBusyError
from crawler.scheduling.triggers import describe, parse_duration, parse_schedule, period_seconds
from tests.scheduling import demo_entries, make_home, tdir, write_catalog


@pytest.fixture
def home(tmp_path: Path) -> Path:
    manifest = tmp_path / "sites.json"
    manifest.write_text('{"atlas": "http://127.0.0.1:9", "guild": "http://127.0.0.1:9"}')
    return make_home(tmp_path, manifest, demo_entries())


@pytest.fixture
def book(home: Path) -> ScheduleBook:
    return ScheduleBook(home, catalog=home.parent / "catalog.yaml")


# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "cron", "message"),
    [
        ("banana", None, "schedule.every 'banana' is not like 12h or 1d"),
        ("30s", None, "schedule.every '30s' is not like 12h or 1d"),
        ("100000000d", None, "schedule.every must be at most 365d"),  # no date overflow
        (None, "0 3 * * * *", "schedule.cron '0 3 * * * *' must have five fields"),
        (None, "61 3 * * *", "schedule.cron '61 3 * * *'"),
        (None, "0 3 * 13 *", "schedule.cron '0 3 * 13 *'"),
        (None, None, "give a schedule as either --every"),
        ("1d", "0 3 * * *", "give a schedule as either --every"),
        # Politeness: a source is crawled at most hourly.
        ("1m", None, "every 1m runs crawls 1m apart; a source is crawled at most once every 1h"),
        ("59m", None, "runs crawls 59m apart"),
        (None, "* * * * *", "cron * * * * * runs crawls 1m apart"),
        (None, "*/15 3 * * *", "runs crawls 15m apart"),  # hourly at most, not just on average
    ],
)
def test_a_malformed_schedule_is_refused_naming_the_source_and_value(
    every: str | None, cron: str | None, message: str
) -> None:
    with pytest.raises(ScheduleError) as error:
        parse_schedule(every=every, cron=cron, where="source 'atlas'")
    assert str(error.value).startswith("source 'atlas': ")
    assert message in str(error.value)


def test_schedules_parse_describe_and_measure_their_period() -> None:
    assert parse_schedule(every="6h", where="x") == Schedule(interval_seconds=21600)
    assert describe(parse_schedule(every="90m", where="x")) == "every 90m"
    assert describe(parse_schedule(cron="0 3 * * *", where="x")) == "cron 0 3 * * *"
    assert period_seconds(Schedule(interval_seconds=3600)) == 3600
    assert period_seconds(Schedule(cron="0 3 * * *")) == 86400
    # Weekdays only: the longest gap is over the weekend, Friday 03:00 to Monday 03:00.
    monday = datetime(2025, 9, 1, tzinfo=UTC)
    assert period_seconds(Schedule(cron="0 3 * * 1-5"), monday) == 3 * 86400
    assert parse_duration("0s", "x") == 0 and parse_duration("15m", "x") == 900
    with pytest.raises(ScheduleError, match="--poll: 'soon' is not a duration"):
        parse_duration("soon", "--poll")


# -- the book ---------------------------------------------------------------------------------


def test_the_catalog_schedules_are_listed_until_an_admin_overrides_one(book: ScheduleBook) -> None:
    listed = {s.source: s for s in book.schedules()}
    assert describe(listed["atlas"].schedule) == "every 1d"
    assert describe(listed["guild"].schedule) == "every 3d"
    assert listed["atlas"].state == "scheduled" and listed["atlas"].problem is None

    changed = book.set("atlas", cron="0 3 * * *", by="ann")
    assert describe(changed.schedule) == "cron 0 3 * * *"
    assert describe(changed.catalog_schedule) == "every 1d"
    assert (changed.changed_by, changed.override) == ("ann", Schedule(cron="0 3 * * *"))


def test_an_override_survives_a_catalog_edit_until_reset(book: ScheduleBook, home: Path) -> None:
    book.set("guild", every="6h", by="ann")
    write_catalog(home.parent / "catalog.yaml", demo_entries(guild={"every": "2d"}))
    guild = book.get("guild")
    assert describe(guild.schedule) == "every 6h"  # the admin's choice still wins
    assert describe(guild.catalog_schedule) == "every 2d"
    reset = book.reset("guild", by="bob")
    assert describe(reset.schedule) == "every 2d" and reset.override is None


def test_pause_and_resume_keep_the_schedule_in_force(book: ScheduleBook) -> None:
    book.set("atlas", every="12h", by="ann")
    paused = book.pause("atlas", by="bob")
    assert paused.paused and paused.state == "paused" and paused.next_run_at is None
    assert describe(paused.schedule) == "every 12h"
    resumed = book.resume("atlas", by="bob")
    assert not resumed.paused and describe(resumed.schedule) == "every 12h"
    assert resumed.changed_by == "bob"


def test_unknown_sources_are_named_with_the_known_ones(book: ScheduleBook) -> None:
    for action in (
        lambda: book.set("nosuch", every="1d", by="ann"),
        lambda: book.pause("nosuch", by="ann"),
        lambda: book.request_run("nosuch", by="ann"),
        lambda: book.history("nosuch"),
    ):
        with pytest.raises(ScheduleError, match="unknown source 'nosuch'; the catalog has: atlas"):
            action()


def test_a_source_has_at_most_one_queued_run(book: ScheduleBook) -> None:
    first = book.request_run("atlas", by="ann")
    assert (first.state, first.trigger, first.requested_by) == ("queued", "manual", "ann")
    with pytest.raises(RunRefusedError, match=rf"already queued \(#{first.id}, requested by ann"):
        book.request_run("atlas", by="bob")
    assert book.request_run("guild", by="bob").state == "queued"  # other sources are free
    assert book.cancel_request(first.id, by="ann")
    assert book.run(first.id).state == "skipped"
    assert book.request_run("atlas", by="bob").state == "queued"


def test_a_request_unless_running_is_refused_in_the_transaction_that_would_queue_it(
    book: ScheduleBook, home: Path
) -> None:
    db = ScheduleDatabase(home)
    with Lease(db, "source:atlas", purpose="a run of atlas"):
        with db.write() as conn:
            running = history.insert_run(conn, "atlas", "schedule", "running", runner="sched")
        # A caller that checked before the run started (the dashboard's Recrawl button) is
        # refused all the same, naming the run under way; nothing is queued behind it.
        with pytest.raises(RunRefusedError, match=rf"already running \(#{running}, started at "):
            book.request_run("atlas", by="ann", unless_running=True)
        assert [r.id for r in book.history("atlas")] == [running]
        assert book.request_run("guild", by="ann", unless_running=True).state == "queued"
        # Asked for plainly (the command line), the request waits for the run to end.
        waiting = book.request_run("atlas", by="bob")
        assert waiting.state == "queued"
    # The lease released (the run over), nothing stands in the way but the queued request.
    with pytest.raises(RunRefusedError, match=rf"already queued \(#{waiting.id}"):
        book.request_run("atlas", by="ann", unless_running=True)


def test_a_broken_entry_is_reported_for_its_source_alone(book: ScheduleBook, home: Path) -> None:
    atlas, guild = demo_entries()
    write_catalog(home.parent / "catalog.yaml", [{**atlas, "spider": "bogus"}, guild])
    listed = {s.source: s for s in book.schedules()}
    assert "source 'atlas': spider 'bogus' is not one of" in listed["atlas"].problem
    assert listed["guild"].problem is None
    write_catalog(home.parent / "catalog.yaml", [{**atlas, "schedule": {"every": "banana"}}, guild])
    atlas_now = book.get("atlas")
    assert "schedule.every 'banana' is not like 12h or 1d" in atlas_now.problem
    assert atlas_now.schedule is None


# -- leases -----------------------------------------------------------------------------------


def test_a_lease_has_one_holder_at_a_time(home: Path) -> None:
    db = ScheduleDatabase(home)
    with Lease(db, "source:atlas", purpose="first"):
        with pytest.raises(LeaseBusyError, match=r"source:atlas is held by pid \d+ .*\(first\)"):
            Lease(db, "source:atlas", purpose="second").acquire()
        with Lease(db, "source:guild", purpose="other source"):
            pass
    with Lease(db, "source:atlas", purpose="after release"):
        pass


def test_a_run_whose_process_died_is_failed_and_its_source_freed(home: Path) -> None:
    """A process holding a source is killed mid-run: the next run starts at once, and the dead
    run is recorded as abandoned rather than left running for ever."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time
                from pathlib import Path
                from crawler.scheduling.execution import RunExecutor, RunSettings
                executor = RunExecutor(RunSettings(home=Path({str(home)!r})))
                active = executor.start_scheduled("atlas", "schedule")
                print(active.run_id, flush=True)
                time.sleep(120)  # not a wait: it holds the source mid-run until killed below
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    dead_run = int(holder.stdout.readline())
    executor = RunExecutor(RunSettings(home=home))
    assert executor.start_scheduled("atlas", "schedule") is None  # busy: recorded as skipped
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    active = executor.start_scheduled("atlas", "schedule")
    assert active is not None
    active.lease.release()
    book = ScheduleBook(home)
    runs = {r.id: r for r in book.history("atlas")}
    assert runs[dead_run].state == "failed"
    assert runs[dead_run].error.startswith(f"abandoned: pid {holder.pid} on ")
    skipped = [r for r in runs.values() if r.state == "skipped"]
    assert len(skipped) == 1 and skipped[0].error.startswith("source busy: pid")
    assert runs[active.run_id].state == "running"


# -- the command line -------------------------------------------------------------------------


@pytest.mark.system  # runs the tdir command, a process per bad input
def test_bad_input_on_the_command_line_is_an_error_naming_it(home: Path) -> None:
    cases = [
        (["schedule", "set", "atlas", "--every", "banana"], "'banana' is not like 12h or 1d"),
        (["schedule", "set", "atlas", "--cron", "0 3 * * * *"], "must have five fields"),
        (["schedule", "set", "nosuch", "--every", "1d"], "unknown source 'nosuch'"),
        (["schedule", "pause", "nosuch", "--by", "ann"], "unknown source 'nosuch'"),
        (["schedule", "run-now", "nosuch", "--by", "ann"], "unknown source 'nosuch'"),
        (["scheduler", "--once", "--poll", "soon"], "--poll: 'soon' is not a duration"),
    ]
    for args, message in cases:
        done = tdir(home, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
    listed = tdir(home, "schedule", "list")
    assert listed.returncode == 0 and "every 1d" in listed.stdout
