"""Run crawls of catalog sources in one Scrapy process, with a progress line and run records."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from twisted.internet import task

from crawler.catalog import CatalogError, Source
from crawler.runs import CrawlStore, RunRecord
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

    An unfinished earlier run of a source is resumed rather than started afresh.
    ``loopback_fast`` turns politeness delays off and is refused unless every host is this
    machine. Blocks until every crawl ends; a first Ctrl+C / SIGTERM stops them gracefully (the
    runs are recorded as interrupted and resume next time).
    """
    if loopback_fast:
        remote = sorted({h for s in sources for h in s.hosts} - LOOPBACK_HOSTS)
        if remote:
            raise CatalogError(f"delays can only be turned off for loopback hosts, not {remote}")
    store = CrawlStore(home)
    process = CrawlerProcess({"LOG_LEVEL": "WARNING"})
    runs: list[tuple[str, str]] = []
    crawlers: list[Crawler] = []
    for source in sources:
        run_id, resumed = store.start_run(source.name)
        settings = crawl_settings(
            http_cache_dir=store.http_cache_dir(source.name),
            job_dir=store.job_dir(source.name),
            loopback_fast=loopback_fast,
        )
        settings.update(
            {
                "TDIR_HOME_PATH": home,
                "TDIR_SOURCE": source.name,
                "TDIR_RUN_ID": run_id,
                "TDIR_RESUMED": resumed,
                "FEEDS": {
                    str(store.items_path(source.name, run_id)): {
                        "format": "jsonlines",
                        "encoding": "utf-8",
                        "overwrite": False,  # a resumed run appends to what it wrote before
                    }
                },
            }
        )
        base = spider_class(source.spider)
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
    return [store.read_record(name, run_id) for name, run_id in runs]


def _progress_line(crawlers: list[Crawler]) -> str:
    pages = items = errors = 0
    running = 0
    for crawler in crawlers:
        stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
        pages += int(stats.get("response_received_count", 0))
        items += sum(int(v) for k, v in stats.items() if k.startswith("tdir/items/"))
        errors += sum(
            int(v)
            for k, v in stats.items()
            if k.startswith(("tdir/error/", "downloader/exception_type_count/"))
        )
        running += int(crawler.crawling)
    return (
        f"crawling {running}/{len(crawlers)} sources: {pages} pages, {items} records, "
        f"{errors} errors"
    )


def print_progress(line: str) -> None:
    """Overwrite one status line on stderr."""
    sys.stderr.write("\r" + line.ljust(79))
    sys.stderr.flush()
