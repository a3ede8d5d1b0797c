"""Helpers for tests that crawl the demo web: run ``tdir crawl`` as a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from crawler.demoweb import GroundTruth
from crawler.runs import CrawlStore, RunRecord


def run_tdir(
    home: Path, *args: str, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess:
    """Run the ``tdir`` command line with ``TDIR_HOME=home``; return the finished process."""
    environment = {**os.environ, "TDIR_HOME": str(home), **env}
    environment.pop("TDIR_ES_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tdir.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
    )


def standing_today(credential: dict[str, Any], today: date | None = None) -> str:
    """A true credential's status on ``today`` (default: this day): the demo world is written as
    of its own date, and an "active" credential whose expiry has passed since is expired now,
    as tdir judges it."""
    status = credential.get("status")
    expires = credential.get("expires")
    if status == "active" and expires and date.fromisoformat(expires) < (today or date.today()):
        return "expired"
    return str(status)


def copy_home(crawled: Path, home: Path) -> Path:
    """``home`` with the records of a shared crawl (the ``crawled_demo`` fixture) in it, to
    index and change without touching the shared one."""
    shutil.copytree(crawled, home, dirs_exist_ok=True)
    return home


def crawl(home: Path, sites_json: Path, *sources: str) -> list[RunRecord]:
    """Crawl the named sources of the demo catalog (delays off: every host is loopback)."""
    done = run_tdir(home, "crawl", *sources, "--sites", str(sites_json), "--no-delay", "--json")
    assert done.returncode in (0, 1), done.stderr
    return [RunRecord.from_dict(r) for r in json.loads(done.stdout)]


def latest_records(home: Path, source: str) -> list[dict[str, Any]]:
    """Every record of the source's latest run."""
    store = CrawlStore(home)
    runs = store.runs(source)
    assert runs, f"{source} was never crawled"
    return list(store.records(source, runs[-1].run_id))


@dataclass
class Crawled:
    """One crawl of some demo sources, and the truth to judge it by."""

    runs: dict[str, RunRecord]
    records: dict[str, list[dict[str, Any]]]
    truth: GroundTruth
    urls: dict[str, str]
    manifest: Path
    request_log: Path

    def of(self, source: str, record_type: str) -> list[dict[str, Any]]:
        """The source's records of one type."""
        return [r for r in self.records[source] if r["record_type"] == record_type]

    def site(self, source: str) -> dict[str, Any]:
        """What the ground truth says the site publishes."""
        return self.truth.summary["sites"][source]

    def credentials(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        """Every true credential of a kind, with its holder's name, filtered by ``match``."""
        found = []
        for person in self.truth.people():
            for credential in person["credentials"]:
                if credential["kind"] == kind and all(
                    credential.get(k) == v for k, v in match.items()
                ):
                    found.append({**credential, "holder": person["name"], "person": person})
        return found


def crawl_sources(home: Path, demo_web: Any, world: Path, *sources: str) -> Crawled:
    """Crawl the sources of the running demo web into ``home``; what they gave, with the truth."""
    runs = {r.source: r for r in crawl(home, demo_web.manifest, *sources)}
    return Crawled(
        runs=runs,
        records={s: latest_records(home, s) for s in sources},
        truth=GroundTruth(world),
        urls=dict(demo_web.urls),
        manifest=demo_web.manifest,
        request_log=demo_web.log.path,
    )
