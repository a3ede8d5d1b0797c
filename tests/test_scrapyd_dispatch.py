"""Dispatching crawls to Scrapyd without a Scrapyd: configuration, the choice of node, failing
over, the check of the code a node runs, stops, and the egg itself.

The nodes here are in-memory stand-ins answering as Scrapyd's API does; the crawl of a real
node is in ``test_scrapyd_crawl.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from crawler.runs import CrawlStore
from crawler.scrapyd import dispatch
from crawler.scrapyd.client import (
    JobStatus,
    NodeLoad,
    NodeUnavailableError,
    ScrapydError,
    ScrapydNode,
)
from crawler.scrapyd.dispatch import ScrapydDispatcher
from crawler.scrapyd.egg import Egg, build_egg, code_version
from crawler.scrapyd.tickets import JobTicket, JobTickets
from tdir.config import ConfigError, ScrapydSettings

CATALOG = """\
sources:
- name: atlas
  kind: directory
  spider: structured
  sitemap_urls: ["${ATLAS_URL}/sitemap.xml"]
"""


class FakeNode:
    """A Scrapyd node in memory: its load, versions and jobs, and what it was asked."""

    def __init__(self, name: str, *, jobs: int = 0, down: bool = False) -> None:
        self.url = self.label = f"http://{name}:6800"
        self.jobs = jobs
        self.down = down
        self.refuse: str | None = None  # schedule.json answers this error
        self.versions_held: list[str] = []
        self.scheduled: list[dict[str, Any]] = []
        self.states: dict[str, str | None] = {}
        self.cancels: list[tuple[str, str]] = []

    def _answer(self) -> None:
        if self.down:
            raise NodeUnavailableError(f"Scrapyd node {self.label} cannot be reached: refused")

    def load(self) -> NodeLoad:
        self._answer()
        return NodeLoad(running=self.jobs, pending=0)

    def versions(self, project: str) -> list[str]:
        self._answer()
        return list(self.versions_held)

    def add_version(self, project: str, version: str, egg: Path) -> int:
        self._answer()
        self.versions_held.append(version)
        return 1

    def schedule(self, project: str, spider: str, **job: Any) -> None:
        self._answer()
        if self.refuse:
            raise ScrapydError(f"Scrapyd node {self.label}: schedule.json failed: {self.refuse}")
        self.scheduled.append({"project": project, "spider": spider, **job})
        self.states[job["job"]] = "pending"

    def job_status(self, project: str, job: str) -> JobStatus:
        self._answer()
        return JobStatus(state=self.states.get(job))  # type: ignore[arg-type]

    def cancel(self, project: str, job: str, *, signal: str = "INT") -> str | None:
        self.cancels.append((job, signal))
        before = self.states.get(job)
        # A pending job is dropped from the queue; a running one ends once it closes its run.
        self.states[job] = None if before == "pending" else "finished"
        return before

    def read_log(self, log_url: str) -> str | None:
        return None


def dispatcher_on(tmp_path: Path, *nodes: FakeNode) -> ScrapydDispatcher:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    settings = ScrapydSettings(urls=tuple(n.url for n in nodes))
    dispatcher = ScrapydDispatcher(settings, home)
    dispatcher.nodes = list(nodes)  # type: ignore[list-item]
    egg = Egg(path=tmp_path / "tdir-v1.egg", version="v1")
    dispatcher.egg = lambda: egg  # type: ignore[method-assign]
    return dispatcher


# -- configuration ------------------------------------------------------------------------------


def test_scrapyd_nodes_are_read_from_one_comma_separated_variable() -> None:
    settings = ScrapydSettings.from_env(
        {"TDIR_SCRAPYD_URL": " http://a:6800/ , http://user:pw@b:6800,http://a:6800"}
    )
    assert settings.urls == ("http://a:6800", "http://user:pw@b:6800")
    assert settings.project == "tdir" and settings.node_home is None and settings.enabled
    assert not ScrapydSettings.from_env({}).enabled


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"TDIR_SCRAPYD_URL": "localhost:6800"}, "TDIR_SCRAPYD_URL"),
        ({"TDIR_SCRAPYD_URL": "http://a:6800,ftp://b"}, "TDIR_SCRAPYD_URL"),
        ({"TDIR_SCRAPYD_URL": "http://a:port"}, "TDIR_SCRAPYD_URL"),
        ({"TDIR_SCRAPYD_PROJECT": "my project"}, "TDIR_SCRAPYD_PROJECT"),
        ({"TDIR_SCRAPYD_HOME": "relative/dir"}, "TDIR_SCRAPYD_HOME"),
    ],
)
def test_a_bad_scrapyd_setting_is_an_error_naming_the_variable(
    env: dict[str, str], name: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        ScrapydSettings.from_env(env)


def test_node_credentials_stay_out_of_messages() -> None:
    node = ScrapydNode("http://ann:s3cret@127.0.0.1:1/", timeout=2)
    assert node.label == "http://127.0.0.1:1"
    with pytest.raises(NodeUnavailableError) as error:
        node.load()
    assert "s3cret" not in str(error.value)
    assert (
        str(error.value) == "Scrapyd node http://127.0.0.1:1 cannot be reached: connection refused"
    )


# -- choosing a node ----------------------------------------------------------------------------


def test_the_least_busy_node_is_chosen_and_equal_nodes_take_turns(tmp_path: Path) -> None:
    a, b, c = FakeNode("a", jobs=2), FakeNode("b", jobs=0), FakeNode("c", jobs=0)
    dispatcher = dispatcher_on(tmp_path, a, b, c)
    firsts = [dispatcher.ranked_nodes()[0][0].label for _ in range(4)]
    assert firsts == [b.label, b.label, c.label, b.label]  # turns start at a, b, c, a
    assert dispatcher.ranked_nodes()[0][-1] is a  # the busiest comes last
    b.down = True
    nodes, problems = dispatcher.ranked_nodes()
    assert nodes == [c, a]  # the fifth turn starts at c
    assert problems == [f"Scrapyd node {b.label} cannot be reached: refused"]


def test_a_job_goes_to_the_next_node_when_one_is_down_or_refuses(tmp_path: Path) -> None:
    down, refusing, taking = FakeNode("a", down=True), FakeNode("b"), FakeNode("c", jobs=1)
    refusing.refuse = "spider 'source' not found"
    dispatcher = dispatcher_on(tmp_path, down, refusing, taking)
    job = dispatcher.submit(
        "atlas", CATALOG, {"ATLAS_URL": "http://127.0.0.1:9", "SECRET": "x"}, no_delay=True
    )
    assert job.node is taking and not refusing.scheduled
    (sent,) = taking.scheduled
    assert (sent["spider"], sent["version"], sent["job"]) == ("source", "v1", job.job)
    assert taking.versions_held == ["v1"]  # deployed because it lacked the version
    assert sent["settings"]["TDIR_HOME_PATH"] == str(dispatcher.home)
    arguments = sent["arguments"]
    assert arguments["source"] == "atlas" and arguments["no_delay"] == "true"
    assert arguments["catalog_yaml"] == CATALOG
    # Only the variables the catalog names leave this machine.
    assert json.loads(arguments["variables"]) == {"ATLAS_URL": "http://127.0.0.1:9"}
    dispatcher.submit("atlas", CATALOG, {})
    assert taking.versions_held == ["v1"]  # not deployed twice


def test_with_every_node_down_the_error_names_each_node_and_why(tmp_path: Path) -> None:
    dispatcher = dispatcher_on(tmp_path, FakeNode("a", down=True), FakeNode("b", down=True))
    with pytest.raises(ScrapydError) as error:
        dispatcher.submit("atlas", CATALOG, {})
    assert str(error.value) == (
        "no Scrapyd node can take the crawl of 'atlas': "
        "Scrapyd node http://a:6800 cannot be reached: refused; "
        "Scrapyd node http://b:6800 cannot be reached: refused"
    )


# -- following a job ----------------------------------------------------------------------------


def test_a_node_running_other_code_than_its_egg_is_stopped(tmp_path: Path) -> None:
    node = FakeNode("a")
    dispatcher = dispatcher_on(tmp_path, node)
    job = dispatcher.submit("atlas", CATALOG, {})
    node.states[job.job] = "running"
    JobTickets(dispatcher.home).write(
        JobTicket(
            job=job.job,
            source="atlas",
            code_version="0_0_9-old",
            code_origin="/usr/lib/python3/site-packages/crawler",
        )
    )
    outcome = dispatcher.wait(job)
    assert node.cancels == [(job.job, "INT")]
    assert outcome.record is None
    assert outcome.error is not None
    assert outcome.error.startswith(
        "Scrapyd node http://a:6800 runs tdir code 0_0_9-old from "
        "/usr/lib/python3/site-packages/crawler, not the egg v1 it was given"
    )
    assert JobTickets(dispatcher.home).read(job.job) is None  # read, then forgotten


def test_a_job_stopped_before_it_started_says_so(tmp_path: Path) -> None:
    node = FakeNode("a")
    dispatcher = dispatcher_on(tmp_path, node)
    job = dispatcher.submit("atlas", CATALOG, {})
    stop = threading.Event()
    stop.set()
    outcome = dispatcher.wait(job, stop)
    assert node.cancels == [(job.job, "INT")]
    assert (outcome.record, outcome.error) == (None, "stopped before the crawl started")


def test_a_finished_job_gives_its_run_and_a_run_left_running_is_closed_as_failed(
    tmp_path: Path,
) -> None:
    node = FakeNode("a")
    dispatcher = dispatcher_on(tmp_path, node)
    store = CrawlStore(dispatcher.home)
    with store.lock("atlas"):
        run_id, _ = store.start_run("atlas")  # as the node's crawl does, then it was killed
    job = dispatcher.submit("atlas", CATALOG, {})
    JobTickets(dispatcher.home).write(JobTicket(job=job.job, source="atlas", run_id=run_id))
    node.states[job.job] = "finished"
    outcome = dispatcher.wait(job)
    assert outcome.error is None
    assert outcome.record is not None and outcome.record.run_id == run_id
    assert (outcome.record.status, outcome.record.finish_reason) == (
        "failed",
        "stopped before the spider closed",
    )


def test_a_job_that_left_no_ticket_points_at_the_shared_data_directory(tmp_path: Path) -> None:
    node = FakeNode("a")
    dispatcher = dispatcher_on(tmp_path, node)
    job = dispatcher.submit("atlas", CATALOG, {})
    node.states[job.job] = "finished"
    outcome = dispatcher.wait(job)
    assert outcome.error is not None
    assert outcome.error.startswith(f"Scrapyd job {job.job} on http://a:6800 ended without")
    assert f"is {dispatcher.home} the data directory on the node?" in outcome.error


def test_a_node_silent_while_its_job_runs_is_given_up_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch, "LOST_AFTER", 0.3)
    node = FakeNode("a")
    dispatcher = dispatcher_on(tmp_path, node)
    job = dispatcher.submit("atlas", CATALOG, {})
    node.down = True
    outcome = dispatcher.wait(job)
    assert outcome.record is None
    assert outcome.error == (
        f"lost Scrapyd job {job.job}: Scrapyd node http://a:6800 cannot be reached: refused "
        "(for over 0.3s)"
    )


def test_a_ticket_is_never_written_outside_its_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a Scrapyd job id"):
        JobTickets(tmp_path).write(JobTicket(job="../../crawl/atlas/lock", source="atlas"))


# -- the egg ------------------------------------------------------------------------------------


def test_the_egg_is_the_scrapy_project_and_holds_everything_a_crawl_imports(
    tmp_path: Path,
) -> None:
    egg = build_egg(tmp_path / "eggs")
    assert egg.version == code_version() and egg.path.name == f"tdir-{egg.version}.egg"
    assert build_egg(tmp_path / "eggs") == egg  # the same code: the same egg, not rebuilt
    with zipfile.ZipFile(egg.path) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    assert "[scrapy]\nsettings = crawler.scrapyd.settings" in entry_points
    assert {"crawler/catalogs/demo.yaml", "crawler/scrapyd/spider.py", "tdir/config.py"} <= names
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)
    # Scrapy, run from the egg alone (not this checkout), finds the project's one spider.
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import crawler;"
        "assert crawler.__file__.startswith(sys.argv[1]), crawler.__file__;"
        "from scrapy.cmdline import execute; execute(['scrapy', 'list'])"
    )
    listed = subprocess.run(
        [sys.executable, "-c", script, str(egg.path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.scrapyd.settings"},
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["source"]
