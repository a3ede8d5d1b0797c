"""Helpers for crawling the review platforms' API stand-ins (Yelp, Google Places) in tests.

A test that changes a stand-in's limits serves the demo world on a demo web of its own; a test
that needs other options (a smaller area, a lower cap) writes a catalog made from the demo
catalog's own entry. Crawls run as ``tdir crawl`` processes over real HTTP.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from crawler.demoweb import DemoWeb, open_world
from crawler.runs import CrawlStore, RunRecord
from tests.crawling import run_tdir


def demo_entry(name: str) -> dict[str, Any]:
    """A copy of the demo catalog's entry of a source."""
    text = resources.files("crawler").joinpath("catalogs/demo.yaml").read_text(encoding="utf-8")
    entry = next(s for s in yaml.safe_load(text)["sources"] if s["name"] == name)
    return copy.deepcopy(entry)


def metro_area(source: str, metro: str) -> dict[str, Any]:
    """The demo catalog's search area of one metro."""
    return next(a for a in demo_entry(source)["options"]["areas"] if a["name"] == metro)


def write_catalog(path: Path, *entries: dict[str, Any]) -> Path:
    """A catalog file holding these source entries."""
    path.write_text(yaml.safe_dump({"sources": list(entries)}), encoding="utf-8")
    return path


@contextmanager
def private_web(world: Path, directory: Path) -> Iterator[DemoWeb]:
    """The demo world served by a demo web of its own, with its own request log."""
    directory.mkdir(parents=True, exist_ok=True)
    with DemoWeb.start(
        open_world(world),
        request_log=directory / "requests.jsonl",
        manifest=directory / "sites.json",
    ) as web:
        yield web


def run_crawl(
    home: Path, web: DemoWeb, *sources: str, catalog: Path | None = None, **env: str
) -> tuple[subprocess.CompletedProcess, list[RunRecord]]:
    """``tdir crawl`` of the sources (no politeness delays: every host is this machine); the
    finished process and the run records it printed."""
    args = ["crawl", *sources, "--sites", str(web.manifest), "--no-delay", "--json"]
    if catalog is not None:
        args += ["--catalog", str(catalog)]
    done = run_tdir(home, *args, **env)
    runs = [RunRecord.from_dict(r) for r in json.loads(done.stdout)] if done.stdout else []
    return done, runs


def latest_records(home: Path, source: str) -> list[dict[str, Any]]:
    """Every record of the source's latest run."""
    store = CrawlStore(home)
    return list(store.records(source, store.runs(source)[-1].run_id))


def requests(log: Path, site: str) -> list[dict[str, Any]]:
    """The requests a site of the demo web answered, in the order logged."""
    if not log.exists():
        return []
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return [e for e in entries if e["site"] == site]


def answered(entries: list[dict[str, Any]], status: int = 200) -> Counter[tuple[str, str]]:
    """How many times each (method, path and query) was answered with ``status``."""
    return Counter((e["method"], e["path"]) for e in entries if e["status"] == status)
