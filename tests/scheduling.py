"""Helpers for scheduler tests: a data directory with a catalog of the stable demo sources."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from crawler.scheduling.book import job_id, jobs_path
from crawler.scheduling.service import job_scheduler
from tests.crawling import run_tdir

STABLE_SOURCES = ("atlas", "guild")  # the demo catalog's sources whose shape does not change


def demo_entries(**schedules: dict[str, str]) -> list[dict[str, Any]]:
    """The demo catalog's entries of the stable sources, with schedules replaced as given."""
    text = resources.files("crawler").joinpath("catalogs/demo.yaml").read_text(encoding="utf-8")
    entries = [e for e in yaml.safe_load(text)["sources"] if e["name"] in STABLE_SOURCES]
    for entry in entries:
        if entry["name"] in schedules:
            entry["schedule"] = schedules[entry["name"]]
    return entries


def write_catalog(path: Path, entries: list[dict[str, Any]]) -> Path:
    """Write a catalog file of these entries."""
    path.write_text(yaml.safe_dump({"sources": entries}, sort_keys=False), encoding="utf-8")
    return path


def make_home(tmp_path: Path, manifest: Path | None, entries: list[dict[str, Any]]) -> Path:
    """A data directory whose ``sites.json`` is the demo web's, with a catalog beside it."""
    home = tmp_path / "home"
    home.mkdir()
    if manifest is not None:
        shutil.copy(manifest, home / "sites.json")
    write_catalog(tmp_path / "catalog.yaml", entries)
    return home


def tdir(home: Path, *args: str, timeout: float = 300) -> Any:
    """Run ``tdir`` with the test catalog next to ``home``."""
    return run_tdir(home, *args, timeout=timeout, TDIR_CATALOG=str(home.parent / "catalog.yaml"))


def tdir_json(home: Path, *args: str) -> Any:
    """Run a ``tdir`` command that prints JSON; fail with its stderr if it does not succeed."""
    done = tdir(home, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def move_next_run(home: Path, source: str, when: datetime) -> None:
    """Set a job's next run time in the scheduler's job store, as a service stopped before that
    time would have left it."""
    scheduler = job_scheduler(str(jobs_path(home)))
    scheduler.start(paused=True)
    try:
        scheduler.modify_job(job_id(source), next_run_time=when)
    finally:
        scheduler.shutdown()


def next_runs(home: Path) -> dict[str, datetime | None]:
    """Each job's next run time in the job store."""
    scheduler = job_scheduler(str(jobs_path(home)))
    scheduler.start(paused=True)
    try:
        return {job.id.removeprefix("crawl:"): job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
