"""Shared fixtures: a live Elasticsearch node for the session, and both search backends."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from indexer.profile import Profile
from indexer.search.elasticsearch_backend import ElasticsearchBackend
from indexer.search.sqlite_backend import SqliteBackend

DATA = Path(__file__).parent / "data"
_ES_NOTES: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Let the processes the tests start be stopped with SIGINT, as a user's Ctrl+C would.

    A suite started in the background of a script (``make test &``) inherits SIGINT ignored,
    and every process it starts would too: a crawl, the scheduler or the demo web told to stop
    would go on. A handler, unlike an ignored signal, is reset to the default in a child, where
    Python makes SIGINT raise KeyboardInterrupt again.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--quick",
        action="store_true",
        help="leave out the browser tests (tests/e2e), everything that needs Elasticsearch and "
        "the modules marked `system` (crawls, services, processes): `make test-fast`",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--quick``, deselect (not skip) what a quick loop leaves to ``make test``."""
    if not config.getoption("--quick"):
        return
    kept, left_out = [], []
    for item in items:
        slow = (
            "e2e" in item.path.parts
            or item.get_closest_marker("system") is not None
            or "es_url" in getattr(item, "fixturenames", ())
            or "demo_web" in getattr(item, "fixturenames", ())  # a served demo web: a crawl
            or "elasticsearch" in getattr(getattr(item, "callspec", None), "params", {}).values()
        )
        (left_out if slow else kept).append(item)
    config.hook.pytest_deselected(items=left_out)
    items[:] = kept


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which Elasticsearch the run used and how long the node took to start."""
    for note in _ES_NOTES:
        terminalreporter.write_line(note)


@pytest.fixture(scope="session")
def es_url() -> Iterator[str]:
    """The URL of a live Elasticsearch: ``TDIR_ES_URL`` if set, else a node started here.

    Provisioning failures are errors, never skips: a run must not pass without Elasticsearch.
    """
    existing = os.environ.get("TDIR_ES_URL")
    if existing:
        _ES_NOTES.append(f"Elasticsearch: existing cluster at {existing} (TDIR_ES_URL)")
        yield existing
        return
    from tests.support.elasticsearch_node import running_node

    with running_node() as node:
        _ES_NOTES.append(
            f"Elasticsearch {node.version}: node at {node.url} started in "
            f"{node.startup_seconds:.1f}s"
        )
        yield node.url


@pytest.fixture(scope="session")
def es_client(es_url: str) -> Iterator[Elasticsearch]:
    client = Elasticsearch(es_url, request_timeout=60)
    yield client
    client.close()


@pytest.fixture
def elasticsearch_backend(es_client: Elasticsearch) -> Iterator[ElasticsearchBackend]:
    """An Elasticsearch backend on a fresh alias, removed after the test."""
    alias = f"tdir-test-{uuid.uuid4().hex[:10]}"
    yield ElasticsearchBackend(es_client, alias)
    # Deleting by wildcard is refused by default (action.destructive_requires_name).
    left = es_client.options(ignore_status=404).indices.get(index=f"{alias}-v*")
    if left.meta.status == 200 and left.body:
        es_client.indices.delete(index=",".join(left.body))


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Iterator[SqliteBackend]:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    yield backend
    backend.close()


@pytest.fixture(params=["sqlite", "elasticsearch"])
def backend(request: pytest.FixtureRequest) -> Any:
    """Each search backend in turn: the contract suite runs once per backend."""
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, contract_data: dict[str, Any]) -> Path:
    """A data directory whose embedded index holds the contract suite's profiles; modules that
    need another directory define their own ``home``."""
    home = tmp_path_factory.mktemp("tdir-home")
    backend = SqliteBackend(home / "index.sqlite3")
    backend.rebuild(contract_data["profiles"])
    backend.close()
    return home


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default-size demo world (seed 42), generated once per test session."""
    from crawler.demoweb import generate_world

    directory = tmp_path_factory.mktemp("demo-world")
    generate_world(directory, seed=42)
    return directory


@pytest.fixture(scope="session")
def demo_web(demo_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo web served on free loopback ports for the session, logging every request.

    ``.urls`` maps site names to base URLs; ``.manifest`` is the sites.json for ``tdir crawl``;
    ``.log.path`` is the request log (JSON lines).
    """
    from crawler.demoweb import DemoWeb, open_world

    logs = tmp_path_factory.mktemp("demo-web")
    with DemoWeb.start(
        open_world(demo_world), request_log=logs / "requests.jsonl", manifest=logs / "sites.json"
    ) as web:
        yield web


@pytest.fixture(scope="session")
def crawled_demo(tmp_path_factory: pytest.TempPathFactory, demo_web: Any, testrun_uid: str) -> Path:
    """A TDIR_HOME holding one crawl of every catalog source of the demo web (as ``tdir crawl
    --all`` makes it), made once for the whole run however many workers run it: copy it with
    :func:`tests.crawling.copy_home`, never write in it. Every worker's demo web is the same
    world (seed 42) on other ports, and the truth keys listings by path, so any worker's crawl
    serves them all."""
    from tests.crawling import run_tdir

    shared = tmp_path_factory.getbasetemp().parent
    home = shared / f"crawled-demo-{testrun_uid}"
    done = shared / f"crawled-demo-{testrun_uid}.done"
    with (shared / f"crawled-demo-{testrun_uid}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for the one crawling
        if not done.exists():
            shutil.rmtree(home, ignore_errors=True)
            crawled = run_tdir(
                home, "crawl", "--all", "--sites", str(demo_web.manifest), "--no-delay"
            )
            assert crawled.returncode == 0, crawled.stdout + crawled.stderr
            done.touch()
    return home


@pytest.fixture(scope="session")
def contract_data() -> dict[str, Any]:
    """The hand-checkable profiles the contract suite is written against (``profiles`` read into
    typed profiles, as the indexer hands them to a backend)."""
    data = json.loads((DATA / "contract_profiles.json").read_text(encoding="utf-8"))
    data["profiles"] = [Profile.from_dict(p) for p in data["profiles"]]
    return data
