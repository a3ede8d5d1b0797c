"""Recrawls run crawl then index in the background, one per source, and record the outcome."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from dashboard.recrawl import (
    RecrawlBusyError,
    RecrawlJob,
    RecrawlJobs,
    crawl_command,
    index_command,
)


def script(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def wait(jobs: RecrawlJobs, source: str, timeout: float = 30) -> RecrawlJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.job(source)
        if job is not None and not job.running:
            return job
        time.sleep(0.05)
    raise AssertionError(f"the recrawl of {source} did not end")


def test_the_commands_are_tdir_crawl_then_tdir_index() -> None:
    assert crawl_command("atlas") == [sys.executable, "-m", "tdir.cli", "crawl", "atlas"]
    assert index_command("atlas") == [sys.executable, "-m", "tdir.cli", "index"]


def test_a_recrawl_crawls_indexes_and_reports(tmp_path: Path) -> None:
    events: list[str] = []
    jobs = RecrawlJobs(
        log_dir=tmp_path / "logs",
        crawl=lambda source: script(f"print('crawled {source}')"),
        index=lambda _source: script("print('indexed')"),
        on_indexed=lambda: events.append("indexed"),
        on_finished=lambda: events.append("finished"),
    )
    started = jobs.start("atlas")
    assert started.stage == "crawling" and started.running
    job = wait(jobs, "atlas")
    assert job.stage == "finished" and job.crawl_exit == 0 and job.index_exit == 0
    assert job.finished_at is not None
    assert events == ["indexed", "finished"]
    log = job.log_tail()
    assert "crawled atlas" in log and "indexed" in log
    assert log.count("(exit status 0)") == 2
    assert "finished" in job.summary


def test_a_crawl_with_unfinished_runs_is_still_indexed(tmp_path: Path) -> None:
    jobs = RecrawlJobs(
        log_dir=tmp_path,
        crawl=lambda _s: script("raise SystemExit(1)"),
        index=lambda _s: script("pass"),
    )
    jobs.start("atlas")
    job = wait(jobs, "atlas")
    assert job.stage == "finished" and job.crawl_exit == 1
    assert "the crawl reported errors" in job.summary


@pytest.mark.parametrize(
    ("crawl_exit", "index_exit", "error"),
    [(2, 0, "the crawl exited with status 2"), (0, 3, "the index build exited with status 3")],
)
def test_a_failed_step_fails_the_job(
    tmp_path: Path, crawl_exit: int, index_exit: int, error: str
) -> None:
    events: list[str] = []
    jobs = RecrawlJobs(
        log_dir=tmp_path,
        crawl=lambda _s: script(f"raise SystemExit({crawl_exit})"),
        index=lambda _s: script(f"raise SystemExit({index_exit})"),
        on_indexed=lambda: events.append("indexed"),
        on_finished=lambda: events.append("finished"),
    )
    jobs.start("atlas")
    job = wait(jobs, "atlas")
    assert job.stage == "failed" and job.error == error
    assert events == ["finished"]


def test_a_missing_program_fails_the_job(tmp_path: Path) -> None:
    jobs = RecrawlJobs(log_dir=tmp_path, crawl=lambda _s: [str(tmp_path / "no-such-program")])
    jobs.start("atlas")
    job = wait(jobs, "atlas")
    assert job.stage == "failed" and "no-such-program" in (job.error or "")


def test_one_recrawl_per_source_at_a_time(tmp_path: Path) -> None:
    release = tmp_path / "release"
    jobs = RecrawlJobs(
        log_dir=tmp_path,
        crawl=lambda _s: script(
            "import pathlib, time\n"
            f"while not pathlib.Path({str(release)!r}).exists(): time.sleep(0.02)"
        ),
        index=lambda _s: script("pass"),
    )
    jobs.start("atlas")
    with pytest.raises(RecrawlBusyError):
        jobs.start("atlas")
    jobs.start("guild")  # another source is independent
    assert {j.source for j in jobs.running()} == {"atlas", "guild"}
    release.touch()
    assert wait(jobs, "atlas").stage == "finished"
    assert wait(jobs, "guild").stage == "finished"
    jobs.start("atlas")  # and once done, it can run again
    assert wait(jobs, "atlas").stage == "finished"
