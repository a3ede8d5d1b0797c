"""The project's one spider, ``source``: the crawl of one catalog source, as Scrapyd runs it.

Scrapyd runs ``scrapy crawl source -a source=atlas -a catalog_yaml=... -a variables={...}
-s TDIR_HOME_PATH=/srv/tdir``. The spider reads the source's catalog entry, takes the source's
lock, opens (or resumes) a run in the data directory, applies the settings of a local run
(:func:`crawler.runner.run_settings`) and hands over to the generic spider the entry names. A
Scrapyd run is therefore laid out, recorded and indexed exactly like a ``tdir crawl`` run.

Spider arguments:

- ``source``: the catalog source to crawl (required);
- ``catalog_yaml``: the catalog itself, as YAML text (what the dispatcher sends: a node cannot
  read the scheduler's files); else ``catalog``, a catalog file on the node; else
  ``TDIR_CATALOG``, else the packaged catalog;
- ``variables``: a JSON object filling ``${NAME}`` placeholders of the catalog;
- ``no_delay``: ``true`` to crawl without politeness delays (refused unless every host is
  loopback).

Settings: ``TDIR_HOME_PATH`` (the data directory, as this node sees it; default ``TDIR_HOME``)
and ``TDIR_CRAWL_TIMEOUT`` (default: the node's environment).
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from crawler.catalog import CatalogError, Source, load_catalog, parse_catalog
from crawler.runner import check_sources, run_settings
from crawler.runs import CrawlStore
from crawler.scrapyd.egg import (
    EggBuildError,
    code_version,
    package_directory,
    running_from_egg,
)
from crawler.scrapyd.tickets import JobTicket, JobTickets
from tdir.config import ConfigError, Settings

SPIDER_NAME = "source"
# What makes the run the indexer reads: set above anything else a job's settings may hold.
_RUN_SETTINGS = ("TDIR_HOME_PATH", "TDIR_SOURCE", "TDIR_RUN_ID", "TDIR_RESUMED")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


class SourceCrawl(Spider):
    """Stands for the generic spider of the source its ``source`` argument names: it never
    crawls itself, as :meth:`from_crawler` returns that spider, ready to crawl the source."""

    name = SPIDER_NAME

    @classmethod
    # Not the Spider contract's Self: what it returns is the source's own spider, of another class.
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Spider:  # type: ignore[override]
        """Open the source's run and return its generic spider (see the module docstring).

        A job that cannot start (unknown source, a catalog or option error, the source being
        crawled elsewhere) says why in its ticket and fails.
        """
        home = _home(crawler.settings)
        job = kwargs.get("_job")
        tickets = JobTickets(home) if job else None
        started = _StartedRun(source=str(kwargs.get("source") or ""))
        try:
            return _open(crawler, home, started, tickets, args, kwargs)
        except Exception as exc:
            if tickets is not None and job:
                tickets.write(
                    JobTicket(
                        job=job,
                        source=started.source,
                        run_id=started.run_id,
                        error=str(exc) or type(exc).__name__,
                        **_whereabouts(),
                    )
                )
            raise


class _StartedRun:
    """How far a job got: the source it names and, once opened, its run."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.run_id: str | None = None


class _SourceLock:
    """The source's lock, held by this process until its engine stops: after the run recorder
    closed the run, so that no other crawl opens the source while this one still writes."""

    def __init__(self) -> None:
        self.stack = ExitStack()

    def release(self) -> None:
        self.stack.close()


def _open(
    crawler: Crawler,
    home: Path,
    started: _StartedRun,
    tickets: JobTickets | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Spider:
    source_name = kwargs.pop("source", None)
    if not source_name:
        raise CatalogError("the spider argument 'source' (the catalog source to crawl) is missing")
    source = _catalog_source(
        str(source_name),
        catalog=kwargs.pop("catalog", None),
        catalog_yaml=kwargs.pop("catalog_yaml", None),
        variables=kwargs.pop("variables", None),
        job=kwargs.get("_job"),
    )
    no_delay = _flag(kwargs.pop("no_delay", None), "no_delay")
    spider_cls = check_sources([source], loopback_fast=no_delay)[source.name]
    store = CrawlStore(home)
    lock = _SourceLock()
    lock.stack.enter_context(store.lock(source.name))  # SourceBusyError if crawled elsewhere
    # weak=False: nothing else keeps the lock object alive until the signal.
    crawler.signals.connect(lock.release, signal=signals.engine_stopped, weak=False)
    run_id, resumed = store.start_run(source.name)
    started.run_id = run_id
    if tickets is not None:
        tickets.write(
            JobTicket(
                job=str(kwargs["_job"]),
                source=source.name,
                run_id=run_id,
                resumed=resumed,
                **_whereabouts(),
            )
        )
    timeout = crawler.settings.get("TDIR_CRAWL_TIMEOUT")
    settings = run_settings(
        home,
        source.name,
        run_id,
        resumed,
        loopback_fast=no_delay,
        env=None if timeout in (None, "") else {"TDIR_CRAWL_TIMEOUT": str(timeout)},
    )
    _apply(crawler.settings, spider_cls, settings)
    return spider_cls.from_crawler(crawler, *args, source=source, **kwargs)


def _catalog_source(
    name: str,
    *,
    catalog: str | None,
    catalog_yaml: str | None,
    variables: str | None,
    job: str | None,
) -> Source:
    values: dict[str, str] = {}
    if variables:
        try:
            values = json.loads(variables)
        except ValueError as exc:
            raise CatalogError(f"the spider argument 'variables' is not JSON: {exc}") from None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise CatalogError("the spider argument 'variables' must be a JSON object of strings")
    if catalog_yaml:
        label = f"the catalog of Scrapyd job {job}" if job else "the catalog_yaml argument"
        return parse_catalog(catalog_yaml, label, values).get(name)
    return load_catalog(catalog or None, values).get(name)


def _apply(settings: BaseSettings, spider_cls: type[Spider], run: dict[str, Any]) -> None:
    """Apply a run's settings as a local crawl has them: at spider priority, under what the
    job's command line says; the run's identity and records feed above everything."""
    spider_cls.update_settings(settings)
    run = dict(run)
    feeds = run.pop("FEEDS")
    identity = {key: run.pop(key) for key in _RUN_SETTINGS}
    settings.setdict(run, priority="spider")
    settings.setdict(identity, priority="cmdline")
    # Kept beside any feed the node adds of its own (Scrapyd's items_dir).
    settings.set("FEEDS", {**settings.getdict("FEEDS"), **feeds}, priority="cmdline")


def _home(settings: BaseSettings) -> Path:
    given = settings.get("TDIR_HOME_PATH")
    if given in (None, ""):
        return Settings.from_env().home
    home = Path(given)
    if not home.is_dir():
        # A node writing a data directory of its own would crawl for nobody: its runs must land
        # where the scheduler and the indexer read them.
        raise ConfigError(
            f"TDIR_HOME_PATH {str(home)!r} is not a directory on this node; it must be tdir's "
            "data directory, shared with the scheduler (see TDIR_SCRAPYD_HOME)"
        )
    return home


def _flag(raw: Any, name: str) -> bool:
    text = str(raw if raw is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CatalogError(f"the spider argument {name!r} must be true or false, not {raw!r}")


def _whereabouts() -> dict[str, Any]:
    """Which code this crawl runs, and where: the dispatcher checks it against its egg."""
    try:
        origin = str(package_directory("crawler"))
        version = os.environ.get("SCRAPYD_EGG_VERSION") if running_from_egg() else code_version()
    except (OSError, EggBuildError):
        origin, version = None, None  # not knowing which code runs is no reason to fail
    return {
        "code_version": version,
        "code_origin": origin,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
