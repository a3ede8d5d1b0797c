"""The run recorder: writes each run's record when it opens and when it closes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from crawler.httpcache import NETWORK_BYTES
from crawler.ledger import judge_missing
from crawler.runs import CrawlStore, RunRecord, count_changes, utc_now
from crawler.traps import SUSPECTED


class RunRecorder:
    """Keeps ``run.json`` of the current run: running, then finished or interrupted.

    When the run closes, its record also counts what changed since the source's previous
    complete run (see :mod:`crawler.runs`), from the index the record pipeline kept.
    """

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
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        record = self.record
        record.finished_at = utc_now()
        record.finish_reason = reason
        record.status = "finished" if reason == "finished" else "interrupted"
        record.pages = int(stats.get("response_received_count", 0))
        record.bytes = int(stats.get(NETWORK_BYTES, 0))
        record.items = _prefixed(stats, "tdir/items/")
        record.duplicates_dropped = sum(_prefixed(stats, "tdir/duplicate/").values())
        record.errors = errors_by_kind(stats)
        record.robots_disallowed = int(stats.get("robotstxt/forbidden", 0))
        record.not_modified = int(stats.get("httpcache/revalidate", 0))
        record.retried = int(stats.get("retry/count", 0))
        record.suspected_traps = {t: n for t, n in _prefixed(stats, SUSPECTED).items() if n}
        if self.previous is not None:
            before = self.previous
            record.pages += before.pages
            record.bytes += before.bytes
            record.duplicates_dropped += before.duplicates_dropped
            record.robots_disallowed += before.robots_disallowed
            record.not_modified += before.not_modified
            record.retried += before.retried
            record.items = dict(Counter(before.items) + Counter(record.items))
            record.errors = dict(sorted((Counter(before.errors) + Counter(record.errors)).items()))
            record.suspected_traps = dict(
                Counter(before.suspected_traps) + Counter(record.suspected_traps)
            )
        if record.status == "finished" and not sum(record.items.values()) and record.errors:
            # Nothing gathered and errors on the way (a site that is down "finishes" fast): not
            # a complete picture of the source, so nothing may be judged gone because of it.
            record.status = "failed"
        self._count_changes(record)
        self.store.write_record(record)
        if record.status in ("finished", "failed"):
            self.store.end_job(record.source)

    def _count_changes(self, record: RunRecord) -> None:
        """Compare the run's records with the previous complete run's (ids and fingerprints).

        The record pipeline closed the run's index before this signal; without one (a crawl
        set up without the pipeline) the run has no change counts rather than wrong ones.
        """
        store = self.store
        if not store.index_path(record.source, record.run_id).exists():
            return
        previous = store.previous_complete(record.source, record.run_id)
        before = store.read_index(record.source, previous.run_id) if previous else None
        after = store.read_index(record.source, record.run_id)
        record.changes = count_changes(before, after, complete=record.complete)
        record.compared_with = previous.run_id if previous else None
        listings = record.changes.get("listing")
        if previous is not None and before is not None and listings and listings["vanished"]:
            missing = set(before.get("listing", {})) - set(after.get("listing", {}))
            fates = judge_missing(store, record.source, record.run_id, missing, previous.run_id)
            record.in_doubt = sum(1 for fate in fates.values() if fate == "in doubt")
            listings["vanished"] -= record.in_doubt


def errors_by_kind(stats: dict[str, Any]) -> dict[str, int]:
    """Group the crawl's error counters into kinds people can read, one count per failure.

    - ``http/<status>``, ``download/timeout``, ``download/too-large``,
      ``download/connection-refused``..., ``redirect/too-many``, ``redirect/loop``: requests
      that failed for good, counted once each by the spiders' errback (Scrapy's own exception
      counters count every attempt; its HTTP status counter, read here too, only requests
      without an errback);
    - ``jsonld/invalid``, ``html/unclosed-elements``, ``listing/missing-address``...: what
      the spiders found wrong with pages they did get;
    - ``spider/<Exception>``: a spider callback that raised (the crawl goes on);
    - ``robots/fetch-failed``: a robots.txt that could not be fetched.
    """
    kinds: Counter[str] = Counter()
    for key, value in stats.items():
        if key.startswith("tdir/error/"):
            kinds[key.removeprefix("tdir/error/")] += value
        elif key.startswith("httperror/response_ignored_status_count/"):
            kinds["http/" + key.rsplit("/", 1)[-1]] += value
        elif key.startswith("spider_exceptions/") and key.count("/") == 1:
            kinds["spider/" + key.split("/", 1)[1]] += value
        elif key.startswith("robotstxt/exception_count/"):
            kinds["robots/fetch-failed"] += value
    return dict(sorted(kinds.items()))


def error_count(stats: dict[str, Any]) -> int:
    """How many errors the stats hold, as :func:`errors_by_kind` counts them."""
    return sum(errors_by_kind(stats).values())


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): int(v) for k, v in stats.items() if k.startswith(prefix)}
