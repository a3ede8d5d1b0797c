"""The sources page through ``AppTest`` where an admin's action must not go ahead as asked: an
interval amount under 1 is refused and kept as typed, a second recrawl of a source is refused
while one runs or waits, and the next run reads the same in the table, the source's figures and
its schedule form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crawler.scheduling import history as runs
from crawler.scheduling.book import source_lease
from crawler.scheduling.database import ScheduleDatabase
from crawler.scheduling.leases import Lease
from dashboard import source_runs
from tests.e2e.admin_session import make_crawl_home
from tests.e2e.apptest import point_app_at
from tests.e2e.dashboard_world import profiles
from tests.test_dashboard_admin_schedules import (
    book,
    form_next_run,
    overview,
    plan_like_the_service,
    source_page,
    texts,
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return make_crawl_home(tmp_path / "home")


@pytest.fixture
def directory(
    sqlite_backend: Any, home: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Any:
    """The sources page reads the schedule book and crawl records; the index is the embedded
    one, with the hand-written test directory."""
    sqlite_backend.rebuild(profiles())
    point_app_at(sqlite_backend, home, monkeypatch, request)
    return sqlite_backend


# -- an interval amount under 1 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        (0, "h", "every 0 hours: the number of hours must be 1 or more, not 0"),
        (-3, "d", "every -3 days: the number of days must be 1 or more, not -3"),
    ],
)
def test_an_amount_under_one_is_refused_naming_it_and_kept_as_typed(
    directory: Any, home: Path, amount: int, unit: str, message: str
) -> None:
    at = source_page()
    at.number_input(key="sched_amount_atlas").set_value(amount)
    at.selectbox(key="sched_unit_atlas").set_value(unit)
    at.button(key="sched_save_atlas").click().run()
    assert f"Not saved: source 'atlas': {message}" in texts(at.error), texts(at.error)
    assert not [s for s in texts(at.success) if s.startswith("Saved:")]
    # The form still holds what the admin typed; nothing was saved.
    assert at.number_input(key="sched_amount_atlas").value == amount
    assert at.selectbox(key="sched_unit_atlas").value == unit
    assert book(home).get("atlas").override is None
    assert overview(at).loc["atlas", "Schedule"] == "every day"

    # Corrected, it saves.
    at.number_input(key="sched_amount_atlas").set_value(2)
    at.button(key="sched_save_atlas").click().run()
    assert book(home).get("atlas").override is not None
    assert (
        overview(at).loc["atlas", "Schedule"]
        == ("every 2 h" if unit == "h" else "every 2 days") + " (set here)"
    )


# -- one recrawl of a source at a time -------------------------------------------------------


def test_recrawl_now_is_refused_while_a_run_of_the_source_is_under_way(
    directory: Any, home: Path
) -> None:
    at = source_page()
    assert not at.button(key="recrawl_atlas").disabled
    database = ScheduleDatabase(home)
    with Lease(database, source_lease("atlas"), purpose="a run of atlas"):
        with database.write() as conn:
            run_id = runs.insert_run(conn, "atlas", "schedule", "running", runner="scheduler")
        # The click comes from the page drawn before the run started (a second click in a row,
        # or a page left open): the run under way is found as the request is about to be made.
        at.button(key="recrawl_atlas").click().run()
        warning = next(w for w in texts(at.warning) if w.startswith("Not started: "))
        assert warning.startswith(
            f"Not started: A recrawl of atlas is already running: run #{run_id} (schedule), "
            "started "
        ), warning
        assert [r.id for r in book(home).history("atlas")] == [run_id]
        # The redrawn page offers no second recrawl and says which one is running.
        assert at.button(key="recrawl_atlas").disabled
        assert any(i.startswith(f"Run #{run_id} (schedule) running for") for i in texts(at.info))
    at.run()
    assert [r.id for r in book(home).history("atlas")] == [run_id]


def test_a_run_starting_just_before_the_request_is_not_queued_behind(
    directory: Any, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = source_page()
    database = ScheduleDatabase(home)
    with Lease(database, source_lease("atlas"), purpose="a run of atlas"):
        with database.write() as conn:
            run_id = runs.insert_run(conn, "atlas", "schedule", "running", runner="scheduler")
        # The run starts after the page's own check and before its request (another admin's
        # click, the scheduler's tick): the request itself is refused.
        monkeypatch.setattr(source_runs, "under_way", lambda item: None)
        at.button(key="recrawl_atlas").click().run()
        warning = next(w for w in texts(at.warning) if w.startswith("Not started: "))
        assert warning.startswith(
            f"Not started: a run of 'atlas' is already running (#{run_id}, started at "
        ), warning
        assert [r.id for r in book(home).history("atlas")] == [run_id]


def test_recrawl_now_is_refused_while_a_request_waits(directory: Any, home: Path) -> None:
    at = source_page()
    waiting = book(home).request_run("atlas", by="bob")  # from the command line, say
    at.button(key="recrawl_atlas").click().run()
    warning = next(w for w in texts(at.warning) if w.startswith("Not started: "))
    assert warning.startswith(
        f"Not started: A recrawl of atlas is already waiting to run: request #{waiting.id} by "
        "bob at "
    ), warning
    assert [r.id for r in book(home).history("atlas")] == [waiting.id]
    assert at.button(key="recrawl_atlas").disabled


# -- the next run, said one way --------------------------------------------------------------


def figures_next_run(at: Any) -> str:
    """The "Next run (UTC)" figure of the source in detail."""
    return next(str(m.value) for m in at.metric if m.label == "Next run (UTC)")


def test_the_next_run_reads_the_same_everywhere_on_the_page(directory: Any, home: Path) -> None:
    # atlas was crawled two hours ago on a daily schedule; no scheduler service planned a run.
    at = source_page()
    assert overview(at).loc["atlas", "Next run"] == "not planned yet"
    assert figures_next_run(at) == "not planned yet"
    assert form_next_run(at).startswith("not planned yet — ")

    planned = plan_like_the_service(home, "atlas")
    at.run()
    when = f"{planned:%Y-%m-%d %H:%M:%S}"
    assert overview(at).loc["atlas", "Next run"] == when
    assert figures_next_run(at) == when
    assert form_next_run(at) == when

    at.button(key="sched_pause_atlas").click().run()
    assert overview(at).loc["atlas", "Next run"] == "paused"
    assert figures_next_run(at) == "paused"
    assert form_next_run(at) == "none — paused"
