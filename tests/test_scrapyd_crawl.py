"""Crawls dispatched to a real Scrapyd node by the scheduler, and indexed like local ones.

A Scrapyd node runs on 127.0.0.1 for this module (``tdir scrapyd serve``), in a temporary
directory holding its ``scrapyd.conf`` and its eggs, logs and queue databases. The scheduler
(``tdir scheduler --once``, ``tdir schedule run-now``) builds the crawler egg, deploys it,
schedules the crawl of a demo source there, follows the job and indexes the run it wrote into
the data directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from crawler.runs import CrawlStore
from crawler.scheduling import ScheduleBook
from tests.crawling import latest_records, run_tdir
from tests.scheduling import demo_entries, make_home
from tests.support.waiting import wait_until

pytestmark = pytest.mark.system  # crawls, services or processes: left out of `make test-fast`

ONCE = ("scheduler", "--once", "--no-delay", "--retry-after", "0s", "--json")
STARTUP_SECONDS = 120  # a Twisted daemon starting on a loaded machine


@dataclass(frozen=True)
class ScrapydDaemon:
    """A Scrapyd daemon started for the tests."""

    url: str
    directory: Path  # its working directory: scrapyd.conf, eggs/, logs/, dbs/

    def get(self, endpoint: str, **params: str) -> dict[str, Any]:
        return requests.get(f"{self.url}/{endpoint}", params=params, timeout=10).json()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_scrapyd(directory: Path) -> Iterator[ScrapydDaemon]:
    """A Scrapyd daemon on a free loopback port (``tdir scrapyd serve``), in ``directory``:
    its scrapyd.conf, eggs, logs and queue databases are all there."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TDIR_", "SCRAPY_"))}
    output = (directory / "scrapyd.out").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tdir.cli", "scrapyd", "serve", "--bind", "127.0.0.1"),
            *("--port", str(port), "--max-proc", "2", "--poll", "0.2"),
            *("--directory", str(directory)),
        ],
        cwd=directory,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    node = ScrapydDaemon(f"http://127.0.0.1:{port}", directory)

    def answers() -> bool:
        assert process.poll() is None, (directory / "scrapyd.out").read_text()
        return node.get("daemonstatus.json")["status"] == "ok"

    try:
        wait_until(
            answers,
            timeout=STARTUP_SECONDS,
            ignore=(requests.RequestException, ValueError),  # not listening or not ready yet
            message=lambda: (
                "Scrapyd to answer daemonstatus.json; its output:\n"
                + (directory / "scrapyd.out").read_text()
            ),
        )
        conf = (directory / "scrapyd.conf").read_text()
        assert f"http_port = {port}" in conf and "items_dir =\n" in conf
        yield node
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


@pytest.fixture(scope="module")
def scrapyd_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScrapydDaemon]:
    with running_scrapyd(tmp_path_factory.mktemp("scrapyd")) as node:
        yield node


def tdir(home: Path, *args: str, scrapyd: str) -> subprocess.CompletedProcess:
    """Run ``tdir`` on the test catalog next to ``home``, dispatching crawls to ``scrapyd``."""
    catalog = str(home.parent / "catalog.yaml")
    return run_tdir(home, *args, TDIR_CATALOG=catalog, TDIR_SCRAPYD_URL=scrapyd)


def crawled_name(home: Path) -> str:
    """The name of a therapist the latest atlas run found (without the credentials after it)."""
    listing = next(r for r in latest_records(home, "atlas") if r["record_type"] == "listing")
    return listing["name_raw"].split(",")[0].strip()


def guild_pages_fetched(log: Path, since: int) -> int:
    """How many guild pages (not its robots.txt) the demo web served after offset ``since``."""
    with log.open(encoding="utf-8") as lines:
        lines.seek(since)
        return sum(
            1
            for line in lines
            if line.endswith("\n")  # a line still being written is counted next time
            and (entry := json.loads(line))["site"] == "guild"
            and entry["path"] != "/robots.txt"
        )


def cancel_every_job(node: ScrapydDaemon) -> None:
    """Kill whatever the node still runs or has queued."""
    jobs = node.get("listjobs.json", project="tdir")
    for job in [*jobs.get("pending", []), *jobs.get("running", [])]:
        requests.post(
            f"{node.url}/cancel.json",
            data={"project": "tdir", "job": job["id"], "signal": "KILL"},
            timeout=10,
        )


def search_names(home: Path, name: str) -> list[str]:
    done = run_tdir(home, "search", "--text", name, "--json")
    assert done.returncode == 0, done.stderr
    return [hit["profile"]["name"] for hit in json.loads(done.stdout)["hits"]]


@dataclass(frozen=True)
class Dispatched:
    """The scheduler's pass that crawled atlas on Scrapyd, and what it left."""

    home: Path
    run: dict[str, Any]
    dead_node: str


@pytest.fixture(scope="module")
def dispatched(
    tmp_path_factory: pytest.TempPathFactory, demo_web: Any, scrapyd_node: ScrapydDaemon
) -> Dispatched:
    """One scheduler pass over a down node and the live one: atlas is due, guild paused."""
    home = make_home(tmp_path_factory.mktemp("dispatched"), demo_web.manifest, demo_entries())
    ScheduleBook(home, catalog=home.parent / "catalog.yaml").pause("guild", by="ann")
    dead = f"http://127.0.0.1:{free_port()}"
    done = tdir(home, *ONCE, scrapyd=f"{dead},{scrapyd_node.url}")
    assert done.returncode == 0, done.stderr
    (run,) = json.loads(done.stdout)
    return Dispatched(home, run, dead)


def test_a_scheduled_crawl_runs_on_scrapyd_and_its_run_is_indexed(
    dispatched: Dispatched, scrapyd_node: ScrapydDaemon
) -> None:
    home, run = dispatched.home, dispatched.run
    assert (run["source"], run["trigger"], run["state"]) == ("atlas", "schedule", "succeeded")
    # The node wrote its run into the data directory, laid out as a local crawl's.
    record = CrawlStore(home).read_record("atlas", run["crawl_run_id"])
    assert record.complete and run["crawl_status"] == "finished"
    listings = [r for r in latest_records(home, "atlas") if r["record_type"] == "listing"]
    assert len(listings) > 200 and record.items["listing"] == len(listings)
    assert run["index_summary"]["profiles"] > 200
    # The index answers for the therapists the node crawled.
    name = crawled_name(home)
    assert name in search_names(home, name)
    # The node ran the egg the scheduler deployed to it, not this checkout's files.
    run_log = (home / "scheduler" / "logs" / f"run-{run['id']}.log").read_text()
    finished = scrapyd_node.get("listjobs.json", project="tdir")["finished"]
    job = next(j for j in finished if f"job {j['id']} of tdir " in run_log)
    version = run_log.split(f"job {job['id']} of tdir ", 1)[1].split()[0]
    assert version in scrapyd_node.get("listversions.json", project="tdir")["versions"]
    assert job["spider"] == "source"
    assert f"job {job['id']} of tdir {version} on {scrapyd_node.url}: crawl atlas" in run_log
    assert f"code {version} from {scrapyd_node.directory / 'eggs'}" in run_log
    assert "Spider closed (finished)" in run_log  # the node's log, kept with the run's
    assert not any((home / "scrapyd" / "jobs").iterdir())  # tickets read and removed
    assert (scrapyd_node.directory / "logs" / "tdir" / "source" / f"{job['id']}.log").exists()


def test_with_its_nodes_down_each_run_fails_clearly_and_the_index_stays(
    dispatched: Dispatched, tmp_path: Path
) -> None:
    shutil.copytree(dispatched.home.parent, tmp_path, dirs_exist_ok=True)
    home = tmp_path / "home"
    book = ScheduleBook(home, catalog=tmp_path / "catalog.yaml")
    name = crawled_name(home)
    before = search_names(home, name)
    assert name in before
    book.request_run("atlas", by="ann")
    book.request_run("guild", by="ann")
    done = tdir(home, *ONCE, scrapyd=dispatched.dead_node)
    assert done.returncode == 1, done.stderr  # a run failed
    runs = {r["source"]: r for r in json.loads(done.stdout)}
    assert set(runs) == {"atlas", "guild"}  # one source failing did not stop the other
    for source, run in runs.items():
        assert run["state"] == "failed" and run["index_summary"] is None
        assert run["error"] == (
            f"crawl: no Scrapyd node can take the crawl of {source!r}: Scrapyd node "
            f"{dispatched.dead_node} cannot be reached: connection refused"
        )
    assert search_names(home, name) == before  # nothing indexed was lost
    alerts = json.loads(
        run_tdir(home, "alerts", "--json", TDIR_CATALOG=str(tmp_path / "catalog.yaml")).stdout
    )
    assert {a["source"] for a in alerts if a["kind"] == "failing"} == {"atlas", "guild"}


def test_a_stopped_run_cancels_its_job_and_the_next_run_resumes_it(
    tmp_path: Path, demo_web: Any, scrapyd_node: ScrapydDaemon
) -> None:
    home = make_home(tmp_path, demo_web.manifest, demo_entries())
    env = {
        **os.environ,
        "TDIR_HOME": str(home),
        "TDIR_CATALOG": str(tmp_path / "catalog.yaml"),
        "TDIR_SCRAPYD_URL": scrapyd_node.url,
    }
    env.pop("TDIR_ES_URL", None)
    # Politely, so the crawl is still going when it is stopped.
    since = demo_web.log.path.stat().st_size
    waiting = subprocess.Popen(
        [sys.executable, "-m", "tdir.cli", "schedule", "run-now", "guild", "--wait", "--by", "ann"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    tickets = home / "scrapyd" / "jobs"

    def crawling() -> bool:
        assert waiting.poll() is None, waiting.communicate()
        opened = tickets.exists() and any(tickets.glob("*.json"))  # the node opened its run
        return opened and guild_pages_fetched(demo_web.log.path, since) >= 2

    try:
        wait_until(
            crawling,
            timeout=180,
            interval=0.2,
            message="the crawl on the node to open its run and fetch two guild pages",
        )
        waiting.send_signal(signal.SIGINT)  # Ctrl+C
        _, err = waiting.communicate(timeout=120)
    finally:
        if waiting.poll() is None:  # the test failed: leave the node idle for the next ones
            waiting.kill()
            waiting.communicate()
            cancel_every_job(scrapyd_node)
    assert waiting.returncode == 130, err
    book = ScheduleBook(home, catalog=tmp_path / "catalog.yaml")
    (stopped,) = book.history("guild")
    assert (stopped.state, stopped.crawl_status) == ("failed", "interrupted")
    assert stopped.error is not None and stopped.error.endswith("the next run resumes it")
    assert CrawlStore(home).job_dir("guild").exists()  # kept for the resume
    done = tdir(
        home,
        "schedule",
        "run-now",
        "guild",
        "--wait",
        "--no-delay",
        "--by",
        "ann",
        "--json",
        scrapyd=scrapyd_node.url,
    )
    assert done.returncode == 0, done.stderr
    (resumed,) = json.loads(done.stdout)
    assert resumed["state"] == "succeeded"
    assert resumed["crawl_run_id"] == stopped.crawl_run_id
    record = CrawlStore(home).read_record("guild", stopped.crawl_run_id)
    assert record.complete and record.resumed


def test_two_nodes_share_the_sources_due_together(
    tmp_path_factory: pytest.TempPathFactory, demo_web: Any, scrapyd_node: ScrapydDaemon
) -> None:
    home = make_home(tmp_path_factory.mktemp("two-nodes"), demo_web.manifest, demo_entries())
    with running_scrapyd(tmp_path_factory.mktemp("scrapyd-second")) as second:
        done = tdir(home, *ONCE, scrapyd=f"{scrapyd_node.url},{second.url}")
        assert done.returncode == 0, done.stderr
        runs = json.loads(done.stdout)
        assert sorted(r["source"] for r in runs) == ["atlas", "guild"]
        assert all(r["state"] == "succeeded" for r in runs), runs
        ran_on = {}
        for run in runs:
            log = (home / "scheduler" / "logs" / f"run-{run['id']}.log").read_text()
            node = next(url for url in (scrapyd_node.url, second.url) if f" on {url}: " in log)
            ran_on[run["source"]] = node
            # Each node got the egg before its first job, and ran that job itself.
            assert any(
                j
                for j in requests.get(
                    f"{node}/listjobs.json", params={"project": "tdir"}, timeout=10
                ).json()["finished"]
                if f"job {j['id']} of tdir " in log
            )
        # Both nodes idle: the sources took turns, one on each node.
        assert set(ran_on.values()) == {scrapyd_node.url, second.url}
        assert second.get("listversions.json", project="tdir")["versions"]
    listings = [r for r in latest_records(home, "guild") if r["record_type"] == "listing"]
    assert len(listings) > 100
