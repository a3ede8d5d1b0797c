"""The run recorder: writes each run's record when it opens and when it closes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from crawler.runs import CrawlStore, RunRecord, utc_now


class RunRecorder:
    """Keeps ``run.json`` of the current run: running, then finished or interrupted."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.store = CrawlStore(settings["TDIR_HOME_PATH"])
        self.record = RunRecord(
            source=settings["TDIR_SOURCE"],
            run_id=settings["TDIR_RUN_ID"],
            started_at=utc_now(),
            resumed=settings.getbool("TDIR_RESUMED"),
        )
        # A resumed run's record carries the counts of its interrupted part forward.
        self.previous: RunRecord | None = None
        if self.record.resumed:
            self.previous = self.store.read_record(self.record.source, self.record.run_id)
            self.record.started_at = self.previous.started_at

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.store.write_record(self.record)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        record = self.record
        record.finished_at = utc_now()
        record.finish_reason = reason
        record.status = "finished" if reason == "finished" else "interrupted"
        record.pages = int(stats.get("response_received_count", 0))
        record.bytes = int(stats.get("downloader/response_bytes", 0))
        record.items = _prefixed(stats, "tdir/items/")
        record.duplicates_dropped = sum(_prefixed(stats, "tdir/duplicate/").values())
        record.errors = errors_by_kind(stats)
        record.robots_disallowed = int(stats.get("robotstxt/forbidden", 0))
        if self.previous is not None:
            before = self.previous
            record.pages += before.pages
            record.bytes += before.bytes
            record.duplicates_dropped += before.duplicates_dropped
            record.robots_disallowed += before.robots_disallowed
            record.items = dict(Counter(before.items) + Counter(record.items))
            record.errors = dict(Counter(before.errors) + Counter(record.errors))
        self.store.write_record(record)
        if record.status == "finished":
            self.store.end_job(record.source)


def errors_by_kind(stats: dict[str, Any]) -> dict[str, int]:
    """Group Scrapy's and the spiders' error counters into kinds people can read."""
    kinds: Counter[str] = Counter()
    for key, value in stats.items():
        if key.startswith("downloader/exception_type_count/"):
            kinds["download/" + key.rsplit(".", 1)[-1].rsplit("/", 1)[-1]] += value
        elif key.startswith("httperror/response_ignored_status_count/"):
            kinds["http/" + key.rsplit("/", 1)[-1]] += value
        elif key.startswith("spider_exceptions/") and key.count("/") == 1:
            kinds["spider/" + key.split("/", 1)[1]] += value
        elif key.startswith("tdir/error/"):
            kinds[key.removeprefix("tdir/error/")] += value
        elif key == "retry/max_reached":
            kinds["retry/gave_up"] += value
    return dict(sorted(kinds.items()))


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): int(v) for k, v in stats.items() if k.startswith(prefix)}
