"""The sources page's scheduling through ``AppTest``: alerts, the scheduler service's status,
changing, pausing and resetting a schedule, and recrawl requests with the run history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from crawler.runs import CrawlStore
from crawler.scheduling import ScheduleBook
from crawler.scheduling import history as runs
from crawler.scheduling.book import SERVICE_LEASE, job_id, jobs_path
from crawler.scheduling.database import ScheduleDatabase
from crawler.scheduling.leases import Lease
from crawler.scheduling.service import job_scheduler, scheduled_run
from crawler.scheduling.triggers import describe, to_trigger
from dashboard import admin_data
from tests.crawling import run_tdir
from tests.e2e.admin_session import ADMIN, admin_page, make_crawl_home, write_run
from tests.e2e.apptest import point_app_at, shown
from tests.e2e.dashboard_world import profiles
from tests.support.waiting import wait_until

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return make_crawl_home(tmp_path / "home")


@pytest.fixture
def directory(
    sqlite_backend: Any, home: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Any:
    """The sources page reads the schedule book and crawl records, not the index: one backend
    is enough here."""
    sqlite_backend.rebuild(profiles())
    point_app_at(sqlite_backend, home, monkeypatch, request)
    return sqlite_backend


@pytest.fixture
def scheduler_service(home: Path) -> Iterator[Lease]:
    """A scheduler service on the data directory, as far as anyone else can tell: the lease
    the service holds while it runs."""
    with Lease(ScheduleDatabase(home), SERVICE_LEASE, purpose="scheduler service") as lease:
        yield lease


def source_page(source: str = "atlas") -> AppTest:
    at = admin_page()
    at.selectbox(key="admin_source").set_value(source).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def overview(at: AppTest) -> Any:
    return next(d.value for d in at.dataframe if "Health" in d.value.columns).set_index("Source")


def texts(elements: Any) -> list[str]:
    return [shown(e.value) for e in elements]


def book(home: Path) -> ScheduleBook:
    return ScheduleBook(home)


# -- alerts and the service ------------------------------------------------------------------


def test_stale_sources_are_alerted_first(directory: Any) -> None:
    at = admin_page()
    warnings = texts(at.warning)
    assert warnings[0].startswith("No scheduler service is running")
    stale = next(w for w in warnings if w.startswith("**Stale:"))
    # guild's last complete crawl is nine days old, on a three-day schedule.
    assert "guild: no complete crawl for 8d" in stale
    assert "on every 3d it should have one within 6d" in stale
    # Sources never crawled share one line rather than one alert each.
    assert "never crawled completely: board-fl, board-nc" in stale
    assert not at.error  # nothing failing, no extraction dropped
    table = overview(at)
    assert table.loc["guild", "Alerts"] == "stale"
    assert table.loc["atlas", "Alerts"] == ""
    assert list(table.index[:1]) == ["guild"]


def test_the_running_scheduler_service_is_named(directory: Any, scheduler_service: Lease) -> None:
    at = admin_page()
    assert texts(at.success)[0].startswith("Scheduler service running: pid ")
    assert not any(w.startswith("No scheduler service") for w in texts(at.warning))


# -- schedules -------------------------------------------------------------------------------


def test_an_admin_sets_an_interval_then_a_cron_schedule(directory: Any, home: Path) -> None:
    at = source_page()
    at.number_input(key="sched_amount_atlas").set_value(12)
    at.selectbox(key="sched_unit_atlas").set_value("h")
    at.button(key="sched_save_atlas").click().run()
    assert f"Saved: atlas now runs every 12 h, set by {ADMIN}." in texts(at.success)
    assert overview(at).loc["atlas", "Schedule"] == "every 12 h (set here)"
    atlas = book(home).get("atlas")
    assert describe(atlas.schedule) == "every 12h"
    assert atlas.changed_by == ADMIN
    assert describe(atlas.catalog_schedule) == "every 1d"

    at.radio(key="sched_mode_atlas").set_value("cron").run()
    at.text_input(key="sched_cron_atlas").input("0 3 * * 1-5")
    at.button(key="sched_save_atlas").click().run()
    assert describe(book(home).get("atlas").schedule) == "cron 0 3 * * 1-5"
    assert overview(at).loc["atlas", "Schedule"] == "cron 0 3 * * 1-5 (set here)"
    in_force = next(m.value for m in at.markdown if "the catalog says" in shown(m.value))
    assert f"set by {ADMIN} on " in shown(in_force)


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("61 3 * * *", "schedule.cron '61 3 * * *'"),
        ("every night", "schedule.cron 'every night' must have five fields"),
        ("", "must have five fields"),
    ],
)
def test_an_invalid_schedule_is_refused_with_the_reason(
    directory: Any, home: Path, cron: str, message: str
) -> None:
    at = source_page()
    at.radio(key="sched_mode_atlas").set_value("cron").run()
    at.text_input(key="sched_cron_atlas").input(cron)
    at.button(key="sched_save_atlas").click().run()
    errors = texts(at.error)
    assert any(e.startswith("Not saved: source 'atlas': ") and message in e for e in errors), errors
    assert book(home).get("atlas").override is None
    assert overview(at).loc["atlas", "Schedule"] == "every day"


def test_pause_resume_and_back_to_the_catalogs_schedule(directory: Any, home: Path) -> None:
    at = source_page("guild")
    assert at.button(key="sched_reset_guild").disabled  # nothing to reset yet
    at.button(key="sched_pause_guild").click().run()
    assert overview(at).loc["guild", "State"] == "paused"
    assert overview(at).loc["guild", "Next run"] == "paused"
    paused = book(home).get("guild")
    assert paused.paused and paused.changed_by == ADMIN
    assert any("paused" in m.value for m in at.markdown if m.value.startswith("### "))

    at.button(key="sched_resume_guild").click().run()
    assert overview(at).loc["guild", "State"] == "scheduled"
    assert not book(home).get("guild").paused

    at.number_input(key="sched_amount_guild").set_value(6)
    at.selectbox(key="sched_unit_guild").set_value("h")
    at.button(key="sched_save_guild").click().run()
    assert overview(at).loc["guild", "Schedule"] == "every 6 h (set here)"
    at.button(key="sched_reset_guild").click().run()
    assert "Back on the catalog's schedule: every 3 days" in texts(at.success)
    assert overview(at).loc["guild", "Schedule"] == "every 3 days"
    assert book(home).get("guild").override is None
    # The form starts again from the catalog's schedule.
    assert at.number_input(key="sched_amount_guild").value == 3
    assert at.selectbox(key="sched_unit_guild").value == "d"


# -- run history -----------------------------------------------------------------------------


def test_a_runs_changes_and_index_update_are_in_the_history(directory: Any, home: Path) -> None:
    crawl = write_run(
        CrawlStore(home),
        "atlas",
        timedelta(minutes=30),
        pages=340,
        items={"listing": 300},
        changes={"listing": {"new": 4, "changed": 9, "unchanged": 285, "vanished": 2}},
        compared_with="20261118T000000000000Z",
    )
    with ScheduleDatabase(home).write() as conn:
        run_id = runs.insert_run(conn, "atlas", "schedule", "running", runner="scheduler pid 7")
        runs.record_crawl(conn, run_id, crawl.run_id, "finished")
        runs.finish_run(
            conn, run_id, error=None, index_summary={"profiles": 301, "written": 13, "deleted": 2}
        )
    at = source_page()
    history = next(d.value for d in at.dataframe if "Trigger" in d.value.columns)
    row = history.to_dict("records")[0]
    assert {k: row[k] for k in ("Status", "Crawl run", "New", "Changed", "Vanished")} == {
        "Status": "succeeded",
        "Crawl run": crawl.run_id,
        "New": 4,
        "Changed": 9,
        "Vanished": 2,
    }
    assert (row["Profiles"], row["Written"], row["Deleted"]) == (301, 13, 2)
    assert any("count the listings of each crawl" in c for c in texts(at.caption))
    details = next(d.value for d in at.dataframe if "Records" in d.value.columns)
    assert details.to_dict("records")[0] == {
        "Records": "listings",
        "New": 4,
        "Changed": 9,
        "Unchanged": 285,
        "Vanished": 2,
    }
    index = next(d.value for d in at.dataframe if "Index update" in d.value.columns)
    assert dict(zip(index["Index update"], index["Count"], strict=True))["Profiles written"] == "13"


# -- recrawls --------------------------------------------------------------------------------


def test_a_recrawl_request_goes_to_the_running_scheduler_service(
    directory: Any, home: Path, scheduler_service: Lease
) -> None:
    at = source_page()
    at.button(key="recrawl_atlas").click().run()
    notice = next(s for s in texts(at.success) if s.startswith("Run #1 queued"))
    assert "the scheduler service (pid " in notice
    (run,) = book(home).history("atlas")
    assert (run.state, run.trigger, run.requested_by) == ("queued", "manual", ADMIN)
    # The dashboard leaves it to the service, and a second request cannot pile up.
    assert not admin_data.recrawl_runner(str(home)).handles(run.id)
    assert at.button(key="recrawl_atlas").disabled
    waiting = next(i for i in texts(at.info) if i.startswith("Request #1 by"))
    assert "the scheduler service starts it within seconds" in waiting
    history = next(d.value for d in at.dataframe if "Trigger" in d.value.columns)
    row = history.to_dict("records")[0]
    assert {k: row[k] for k in ("Run", "Trigger", "Requested by", "Status")} == {
        "Run": "#1",
        "Trigger": "requested",
        "Requested by": ADMIN,
        "Status": "queued",
    }

    at.button(key="recrawl_cancel_atlas").click().run()
    assert "Request #1 cancelled." in texts(at.success)
    assert book(home).run(run.id).state == "skipped"
    assert not at.button(key="recrawl_atlas").disabled


def test_a_request_nobody_is_running_can_be_run_here_or_cancelled(
    directory: Any, home: Path
) -> None:
    queued = book(home).request_run("atlas", by="bob")  # from the command line, say
    at = source_page()
    waiting = next(i for i in texts(at.info) if i.startswith(f"Request #{queued.id} by bob"))
    assert "no scheduler service is running to start it" in waiting
    assert at.button(key="recrawl_here_atlas").label == "Run it here now"
    at.button(key="recrawl_cancel_atlas").click().run()
    assert book(home).run(queued.id).state == "skipped"
    assert not any(i.startswith("Request #") for i in texts(at.info))


def test_without_a_scheduler_the_dashboard_runs_the_request_and_shows_why_it_failed(
    directory: Any, home: Path
) -> None:
    at = source_page()
    at.button(key="recrawl_atlas").click().run()
    notice = next(i for i in texts(at.info) if i.startswith("Run #1 queued"))
    assert "No scheduler service is running, so this dashboard runs it itself" in notice
    runner = admin_data.recrawl_runner(str(home))

    def ended() -> runs.RunEntry | None:
        run = book(home).run(1)
        return run if run is not None and run.done and not runner.busy() else None

    run = wait_until(
        ended,
        timeout=300,
        message=lambda: f"the dashboard's run #1 to end; now: {book(home).run(1)}",
    )
    assert run.state == "failed", run
    assert run.runner.startswith("dashboard pid ")
    at.run()
    # Every site is down: the crawl ran, gathered nothing, and the run says why.
    assert run.error.startswith("crawl: run ")
    latest = next(e for e in texts(at.error) if e.startswith("The latest run, #1, failed: "))
    assert "crawl: run " in latest
    failing = next(e for e in texts(at.error) if e.startswith("**Failing: 1 source"))
    assert "atlas: the last run (#1, manual) failed: crawl: run " in failing
    history = next(d.value for d in at.dataframe if "Trigger" in d.value.columns)
    first = history.to_dict("records")[0]
    assert (first["Status"], first["Crawl run"], first["Crawl status"]) == (
        "failed",
        run.crawl_run_id,
        run.crawl_status,
    )
    assert first["Error"].startswith("crawl: run ")
    assert overview(at).loc["atlas", "Health"] == "failing"


# -- the next run, as the form and ``tdir schedule list`` show it ---------------------------


def plan_like_the_service(home: Path, source: str) -> datetime:
    """Put the source's job in the job store as the scheduler service does for a schedule it
    has just read: due at its trigger's next fire time. Returns that time."""
    schedule = book(home).get(source).schedule
    assert schedule is not None
    trigger = to_trigger(schedule)
    when = trigger.get_next_fire_time(None, datetime.now(UTC))
    assert when is not None
    scheduler = job_scheduler(str(jobs_path(home)))
    scheduler.start(paused=True)
    try:
        scheduler.add_job(
            scheduled_run,
            trigger,
            args=[source],
            id=job_id(source),
            name=f"crawl {source}",
            next_run_time=when,
            replace_existing=True,
        )
    finally:
        scheduler.shutdown()
    return when.astimezone(UTC)


def form_next_run(at: AppTest) -> str:
    """What the schedule form says of the next run."""
    line = next(t for t in texts(at.markdown) if t.startswith("**Next run (UTC):**"))
    return line.removeprefix("**Next run (UTC):**").strip()


def cli_next_run(home: Path, source: str) -> str:
    """The "next run (UTC)" column of ``tdir schedule list`` for one source."""
    done = run_tdir(home, "schedule", "list", timeout=120)
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith(f"{source} "))
    # Columns: source (16), state (10), schedule (22), next run (20), last run.
    return row[51:71].strip()


def test_the_forms_next_run_agrees_with_tdir_schedule_list(directory: Any, home: Path) -> None:
    at = source_page()
    # No service has planned anything: neither invents a time.
    assert form_next_run(at).startswith("not planned yet")
    assert cli_next_run(home, "atlas") == "-"

    at.radio(key="sched_mode_atlas").set_value("cron").run()
    at.text_input(key="sched_cron_atlas").input("0 3 * * 1-5")
    at.button(key="sched_save_atlas").click().run()
    planned = plan_like_the_service(home, "atlas")
    at.run()
    shown_here = form_next_run(at)
    assert shown_here == cli_next_run(home, "atlas")
    assert shown_here == f"{planned:%Y-%m-%d %H:%M:%S}"
    assert shown_here.endswith(" 03:00:00") and planned.weekday() < 5

    at.button(key="sched_pause_atlas").click().run()
    assert form_next_run(at) == "none — paused"
    assert cli_next_run(home, "atlas") == "-"
