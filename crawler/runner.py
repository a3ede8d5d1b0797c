"""Run crawls of catalog sources in one Scrapy process, with a progress line and run records."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler, CrawlerProcess
from twisted.internet import task

from crawler.catalog import CatalogError, Source
from crawler.extensions import error_count
from crawler.runs import CrawlStore, RunRecord, utc_now
from crawler.settings import crawl_settings
from crawler.spiders import spider_class

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def crawl(
    sources: list[Source],
    home: Path,
    *,
    loopback_fast: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[RunRecord]:
    """Crawl the sources (concurrently, each politely), return their run records.

    An interrupted earlier run of a source is resumed rather than started afresh.
    ``loopback_fast`` turns politeness delays off and is refused unless every host is this
    machine. Blocks until every crawl ends; a first Ctrl+C / SIGTERM stops them gracefully (the
    runs are recorded as interrupted and resume next time). Raises SourceBusyError when another
    process is crawling one of the sources, CatalogError for options a spider cannot use.
    """
    spiders = check_sources(sources, loopback_fast=loopback_fast)
    store = CrawlStore(home)
    with ExitStack() as locks:
        for source in sources:
            locks.enter_context(store.lock(source.name))
        return _crawl_locked(sources, spiders, store, home, loopback_fast, progress)


def _crawl_locked(
    sources: list[Source],
    spiders: dict[str, type[Spider]],
    store: CrawlStore,
    home: Path,
    loopback_fast: bool,
    progress: Callable[[str], None] | None,
) -> list[RunRecord]:
    process = CrawlerProcess({"LOG_LEVEL": "WARNING"})
    runs: list[tuple[str, str]] = []
    crawlers: list[Crawler] = []
    for source in sources:
        run_id, resumed = store.start_run(source.name)
        settings = run_settings(home, source.name, run_id, resumed, loopback_fast=loopback_fast)
        base = spiders[source.name]
        spider_type = type(base.__name__, (base,), {"custom_settings": settings})
        crawler = process.create_crawler(spider_type)
        crawlers.append(crawler)
        process.crawl(crawler, source=source)
        runs.append((source.name, run_id))
    ticker = None
    if progress is not None:
        ticker = task.LoopingCall(lambda: progress(_progress_line(crawlers)))
        ticker.start(1.0, now=False)
    process.start()
    if ticker is not None and ticker.running:
        ticker.stop()
    if progress is not None:
        progress(_progress_line(crawlers))
    return [final_record(store, name, run_id) for name, run_id in runs]


def check_sources(sources: list[Source], *, loopback_fast: bool) -> dict[str, type[Spider]]:
    """Return each source's spider class, by source name, once its options are checked.

    CatalogError for options a spider cannot use, and for ``loopback_fast`` (no politeness
    delays) when a host is not this machine.
    """
    if loopback_fast:
        remote = sorted({h for s in sources for h in s.hosts} - LOOPBACK_HOSTS)
        if remote:
            raise CatalogError(f"delays can only be turned off for loopback hosts, not {remote}")
    spiders = {source.name: spider_class(source.spider) for source in sources}
    for source in sources:
        check = getattr(spiders[source.name], "check_options", None)
        if check is not None:
            check(source)
    return spiders


def run_settings(
    home: Path,
    source: str,
    run_id: str,
    resumed: bool,
    *,
    loopback_fast: bool = False,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Scrapy settings of one run of one source, wherever it runs: the polite crawl
    settings with the source's HTTP cache and JOBDIR, the run the run recorder keeps
    (``TDIR_*``), and the feed that appends its records to the run's ``items.jsonl``.

    ``env`` is passed to :func:`crawler.settings.crawl_settings` (default: the environment).
    """
    store = CrawlStore(home)
    settings = crawl_settings(
        http_cache_dir=store.http_cache_dir(source),
        job_dir=store.job_dir(source),
        loopback_fast=loopback_fast,
        env=env,
    )
    settings.update(
        {
            "TDIR_HOME_PATH": home,
            "TDIR_SOURCE": source,
            "TDIR_RUN_ID": run_id,
            "TDIR_RESUMED": resumed,
            "FEEDS": {
                str(store.items_path(source, run_id)): {
                    "format": "jsonlines",
                    "encoding": "utf-8",
                    "overwrite": False,  # a resumed run appends to what it wrote before
                }
            },
        }
    )
    return settings


def final_record(store: CrawlStore, source: str, run_id: str) -> RunRecord:
    """The run's record; a run whose spider never closed (it failed to start, or a second
    Ctrl+C stopped it hard) is ``failed``, and its JOBDIR is not trusted for a resume."""
    record = store.read_record(source, run_id)
    if record.status == "running":
        record.status = "failed"
        record.finish_reason = "stopped before the spider closed"
        record.finished_at = utc_now()
        store.write_record(record)
        store.end_job(source)
    return record


def _progress_line(crawlers: list[Crawler]) -> str:
    pages = items = errors = 0
    running = 0
    for crawler in crawlers:
        try:
            stats: dict[str, Any] = crawler.stats.get_stats()
        except RuntimeError:  # the crawler has not started yet
            stats = {}
        pages += int(stats.get("response_received_count", 0))
        items += sum(int(v) for k, v in stats.items() if k.startswith("tdir/items/"))
        errors += error_count(stats)
        running += int(crawler.crawling)
    return (
        f"crawling {running}/{len(crawlers)} sources: {pages} pages, {items} records, "
        f"{errors} errors"
    )


def print_progress(line: str) -> None:
    """Overwrite one status line on stderr."""
    sys.stderr.write("\r" + line.ljust(79))
    sys.stderr.flush()
