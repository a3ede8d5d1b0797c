"""The dashboard's runner of recrawl requests: it runs a request only when nobody else does.

No crawl is started here: each case ends before the run would start its processes. A whole run
by the dashboard is in ``test_dashboard_admin_schedules.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.scheduling import ScheduleBook
from crawler.scheduling import history as runs
from crawler.scheduling.book import source_lease
from crawler.scheduling.database import ScheduleDatabase
from crawler.scheduling.execution import ActiveRun, RunExecutor, RunSettings
from crawler.scheduling.history import RunEntry
from crawler.scheduling.leases import Lease, LeaseBusyError
from dashboard.recrawl import RecrawlRunner
from tests.support.waiting import wait_until


@pytest.fixture
def book(tmp_path: Path) -> ScheduleBook:
    return ScheduleBook(tmp_path)


@pytest.fixture
def runner(tmp_path: Path) -> RecrawlRunner:
    finished: list[int] = []
    return RecrawlRunner(
        RunSettings(home=tmp_path, role="dashboard"),
        on_finished=lambda: finished.append(1),
        poll_seconds=0.05,
    )


@pytest.fixture
def refusals(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the runs whose start the runners were refused because the source was busy,
    once per try: the runner waiting for a source is seen to try again and again."""
    refused: list[int] = []
    start_requested = RunExecutor.start_requested

    def counted(self: RunExecutor, run: RunEntry) -> ActiveRun:
        try:
            return start_requested(self, run)
        except LeaseBusyError:
            refused.append(run.id)
            raise

    monkeypatch.setattr(RunExecutor, "start_requested", counted)
    return refused


def test_a_request_for_a_busy_source_waits_and_a_cancelled_one_is_dropped(
    book: ScheduleBook, runner: RecrawlRunner, tmp_path: Path, refusals: list[int]
) -> None:
    run = book.request_run("atlas", by="ann")
    with Lease(ScheduleDatabase(tmp_path), source_lease("atlas"), purpose="another run"):
        assert runner.start(run)
        assert not runner.start(run)  # one worker per request
        # Refused, it tries again, and stays refused: never two runs of one source at once.
        wait_until(
            lambda: refusals.count(run.id) >= 3,
            timeout=60,
            message=lambda: f"the runner to be refused the busy source 3 times: {refusals}",
        )
        assert runner.handles(run.id) and runner.busy() == [run.id]
        assert book.run(run.id).state == "queued"
        assert book.cancel_request(run.id, by="ann")
        wait_until(
            lambda: not runner.handles(run.id),
            timeout=60,
            message="the runner to drop the cancelled request",
        )
    assert book.run(run.id).state == "skipped"
    assert runner.busy() == []


def test_a_request_started_elsewhere_is_left_alone(
    book: ScheduleBook, runner: RecrawlRunner, tmp_path: Path
) -> None:
    run = book.request_run("atlas", by="ann")
    with ScheduleDatabase(tmp_path).write() as conn:
        assert runs.claim_run(conn, run.id, "scheduler pid 1 on host-a")
    runner.start(run)
    runner.join(run.id, timeout=120)
    assert not runner.handles(run.id)  # it gave up on the request at once
    taken = book.run(run.id)
    assert (taken.state, taken.runner) == ("running", "scheduler pid 1 on host-a")
