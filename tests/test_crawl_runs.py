"""Durable, resumable runs: interrupt, resume, crash, recrawl.

One atlas crawl history is built up through the module (the tests run in file order and each
builds on the one before):

1. a polite crawl (delays on) is stopped with SIGTERM midway: recorded as interrupted;
2. the next ``tdir crawl atlas`` resumes it from its JOBDIR and finishes with every record once;
3. a full recrawl of the unchanged site is answered with 304s from the HTTP cache and gathers
   exactly the same records as the resumed run;
4. a crawl killed with SIGKILL leaves every earlier run as it was, and the crawl after it
   starts afresh and finishes.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crawler.demoweb import GroundTruth
from crawler.runs import CrawlStore, RunRecord, SourceBusyError
from tests.crawling import crawl, run_tdir
from tests.support.waiting import wait_until

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

SOURCE = "atlas"


def start_polite_crawl(home: Path, sites_json: Path, *sources: str) -> subprocess.Popen:
    """Start ``tdir crawl`` with politeness delays on, in the background."""
    environment = {**os.environ, "TDIR_HOME": str(home)}
    environment.pop("TDIR_ES_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tdir.cli", "crawl", *sources, "--sites", str(sites_json), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def requests_logged(log: Path, since: int, *, site: str, prefix: str) -> int:
    """How many requests for ``prefix`` on ``site`` the demo web logged after offset ``since``."""
    with log.open(encoding="utf-8") as lines:
        lines.seek(since)
        return sum(
            1
            for line in lines
            if line.endswith("\n")  # a line still being written is counted next time
            and (entry := json.loads(line))["site"] == site
            and entry["path"].startswith(prefix)
        )


def wait_for_requests(
    process: subprocess.Popen, log: Path, since: int, count: int, *, site: str, prefix: str
) -> None:
    """Wait until the demo web logged ``count`` crawler requests for ``prefix`` after ``since``,
    while ``process`` runs."""

    def enough() -> bool:
        if process.poll() is not None:
            _, err = process.communicate()
            raise AssertionError(f"the crawl ended ({process.returncode}) too early:\n{err}")
        return requests_logged(log, since, site=site, prefix=prefix) >= count

    wait_until(
        enough,
        timeout=180,
        interval=0.2,
        message=f"the crawl to make {count} requests for {site} {prefix}",
    )


def stop(process: subprocess.Popen, signum: int) -> tuple[int, str, str]:
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the time it was fetched, which differs between runs."""
    return {**record, "provenance": {**record["provenance"], "fetched_at": None}}


def file_hashes(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runs-home")


@pytest.fixture(scope="module")
def store(home: Path) -> CrawlStore:
    return CrawlStore(home)


@pytest.fixture(scope="module")
def published(demo_world: Path) -> dict[str, int]:
    site = GroundTruth(demo_world).summary["sites"][SOURCE]
    return {"listing": site["listings"], "review": site["reviews"]}


@pytest.fixture(scope="module")
def interrupted(home: Path, demo_web: Any) -> tuple[int, str, str]:
    since = demo_web.log.path.stat().st_size
    process = start_polite_crawl(home, demo_web.manifest, SOURCE)
    try:
        wait_for_requests(process, demo_web.log.path, since, 4, site=SOURCE, prefix="/therapist/")
    except BaseException:
        process.kill()
        raise
    return stop(process, signal.SIGTERM)


@pytest.fixture(scope="module")
def resumed(interrupted: tuple, home: Path, demo_web: Any) -> RunRecord:
    [record] = crawl(home, demo_web.manifest, SOURCE)
    return record


@pytest.fixture(scope="module")
def recrawled(resumed: RunRecord, home: Path, demo_web: Any) -> RunRecord:
    [record] = crawl(home, demo_web.manifest, SOURCE)
    return record


def test_a_crawl_stopped_midway_is_recorded_as_interrupted(
    interrupted: tuple, store: CrawlStore, published: dict[str, int]
):
    returncode, out, err = interrupted
    assert returncode == 1, err  # not complete
    [record] = [RunRecord.from_dict(r) for r in json.loads(out)]
    assert record.status == "interrupted"
    assert record.finish_reason == "shutdown"
    assert 0 < record.items.get("listing", 0) < published["listing"]
    assert store.job_dir(SOURCE).exists()  # kept for the resume
    assert store.runs(SOURCE) == [record]
    assert store.latest_complete(SOURCE) is None


def test_politeness_delays_were_on_for_the_crawl_without_no_delay(
    interrupted: tuple, store: CrawlStore
):
    [record] = store.runs(SOURCE)
    started = record.started_at
    finished = record.finished_at
    assert started is not None and finished is not None
    # At least a second between requests to one site: four profiles, robots.txt and the
    # sitemap cannot have taken less than four seconds.
    assert record.pages >= 6
    from datetime import datetime

    seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    assert seconds >= 4


def test_the_next_crawl_resumes_the_interrupted_run_and_finishes_it(
    resumed: RunRecord,
    interrupted: tuple,
    store: CrawlStore,
    published: dict[str, int],
):
    [first] = [RunRecord.from_dict(r) for r in json.loads(interrupted[1])]
    assert resumed.run_id == first.run_id
    assert resumed.resumed is True
    assert resumed.status == "finished"
    assert resumed.started_at == first.started_at
    # the counts cover both parts of the run, and every record was written once
    assert resumed.items == published
    records = list(store.records(SOURCE, resumed.run_id))
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == sum(published.values())
    assert not store.job_dir(SOURCE).exists()  # nothing left to resume


def test_an_unchanged_recrawl_is_answered_from_the_cache_with_304s(
    recrawled: RunRecord, resumed: RunRecord, published: dict[str, int]
):
    assert recrawled.run_id != resumed.run_id
    assert recrawled.status == "finished" and recrawled.resumed is False
    assert recrawled.items == published
    # every page was revalidated: the server answered "not modified" and sent no body
    assert recrawled.not_modified == recrawled.pages
    assert recrawled.bytes < resumed.bytes / 10


def test_the_resumed_run_gathered_exactly_what_an_uninterrupted_run_gathers(
    recrawled: RunRecord, resumed: RunRecord, store: CrawlStore
):
    resumed_records = {r["id"]: comparable(r) for r in store.records(SOURCE, resumed.run_id)}
    whole_records = {r["id"]: comparable(r) for r in store.records(SOURCE, recrawled.run_id)}
    assert resumed_records.keys() == whole_records.keys()
    assert resumed_records == whole_records


def test_a_crashed_crawl_loses_nothing_earlier_runs_wrote(
    recrawled: RunRecord,
    home: Path,
    store: CrawlStore,
    demo_web: Any,
    published: dict[str, int],
):
    runs_dir = store.source_dir(SOURCE) / "runs"
    before = file_hashes(runs_dir)
    earlier = store.runs(SOURCE)
    since = demo_web.log.path.stat().st_size
    process = start_polite_crawl(home, demo_web.manifest, SOURCE)
    try:
        wait_for_requests(process, demo_web.log.path, since, 2, site=SOURCE, prefix="/therapist/")
        # While it runs, nobody else may crawl the source (they would share its JOBDIR).
        busy = run_tdir(home, "crawl", SOURCE, "--sites", str(demo_web.manifest), "--no-delay")
        assert busy.returncode == 2
        assert "being crawled by another process" in busy.stderr
    finally:
        returncode, _, _ = stop(process, signal.SIGKILL)
    assert returncode == -signal.SIGKILL

    after = file_hashes(runs_dir)
    assert {k: v for k, v in after.items() if k in before} == before
    runs = store.runs(SOURCE)
    assert runs[: len(earlier)] == earlier
    crashed = runs[-1]
    assert crashed.status == "running"  # nobody could close it
    assert store.latest_complete(SOURCE) == recrawled

    # The next crawl closes the crashed run as failed and starts a fresh one.
    [fresh] = crawl(home, demo_web.manifest, SOURCE)
    assert fresh.run_id != crashed.run_id
    assert fresh.status == "finished" and fresh.resumed is False
    assert fresh.items == published
    closed = store.read_record(SOURCE, crashed.run_id)
    assert (closed.status, closed.finish_reason) == ("failed", "crashed")
    assert {k: v for k, v in file_hashes(runs_dir).items() if k in before} == before


# -- the run store on its own ---------------------------------------------------------------------


@pytest.fixture
def fresh_store(tmp_path: Path) -> CrawlStore:
    return CrawlStore(tmp_path)


def interrupt(store: CrawlStore, run_id: str) -> None:
    record = store.read_record("src", run_id)
    record.status = "interrupted"
    store.write_record(record)


def test_start_run_resumes_only_an_interrupted_run(fresh_store: CrawlStore):
    with fresh_store.lock("src"):
        run_id, resumed = fresh_store.start_run("src")
        assert resumed is False
        assert fresh_store.read_record("src", run_id).status == "running"
        interrupt(fresh_store, run_id)
        assert fresh_store.start_run("src") == (run_id, True)


def test_resume_cuts_a_half_written_last_line(fresh_store: CrawlStore):
    with fresh_store.lock("src"):
        run_id, _ = fresh_store.start_run("src")
        items = fresh_store.items_path("src", run_id)
        items.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "na', encoding="utf-8")
        interrupt(fresh_store, run_id)
        fresh_store.start_run("src")
    assert items.read_text(encoding="utf-8") == '{"id": "a"}\n{"id": "b"}\n'
    assert [r["id"] for r in fresh_store.records("src", run_id)] == ["a", "b"]


def test_a_run_left_running_is_closed_as_failed_and_not_resumed(fresh_store: CrawlStore):
    with fresh_store.lock("src"):
        crashed, _ = fresh_store.start_run("src")
        run_id, resumed = fresh_store.start_run("src")
    assert (run_id == crashed, resumed) == (False, False)
    record = fresh_store.read_record("src", crashed)
    assert (record.status, record.finish_reason) == ("failed", "crashed")
    assert [r.run_id for r in fresh_store.runs("src")] == [crashed, run_id]


def test_the_lock_keeps_a_second_crawl_of_a_source_out(fresh_store: CrawlStore, tmp_path: Path):
    other: Callable[[], CrawlStore] = lambda: CrawlStore(tmp_path)  # noqa: E731
    with fresh_store.lock("src"):
        with pytest.raises(SourceBusyError, match="another process"), other().lock("src"):
            pass
        with other().lock("another-source"):
            pass
    with other().lock("src"):
        pass
