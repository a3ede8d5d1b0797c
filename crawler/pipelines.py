"""Item pipelines: check, de-duplicate and count records before the feed export writes them.

Only true duplicates are dropped (the same record id twice in one run, which a resumed run can
produce); everything else is counted, never silently lost.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.items import CredentialRecord, Listing, Review
from crawler.runs import CrawlStore

RECORD_TYPES = (Listing, CredentialRecord, Review)


class RecordPipeline:
    """Drop repeats of a record id within a run and count records by type."""

    def __init__(self, stats: StatsCollector, seen: set[str]) -> None:
        self.stats = stats
        self.seen = seen

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        """Start from the ids the run already wrote (a resumed run wrote some before)."""
        assert crawler.stats is not None
        store = CrawlStore(crawler.settings["TDIR_HOME_PATH"])
        source, run_id = crawler.settings["TDIR_SOURCE"], crawler.settings["TDIR_RUN_ID"]
        seen = {r["id"] for r in store.records(source, run_id) if "id" in r}
        return cls(crawler.stats, seen)

    def process_item(self, item: Any) -> Any:
        """Pass a record on unless its id was already written in this run."""
        if not isinstance(item, RECORD_TYPES):
            # A spider bug, not bad input: counted so that it shows in the run record.
            self.stats.inc_value("tdir/error/pipeline/not-a-record")
            raise DropItem(f"not a tdir record: {type(item).__name__}")
        kind = item.record_type
        if item.id in self.seen:
            self.stats.inc_value(f"tdir/duplicate/{kind}")
            # Expected on a resume and with mirrored pages; counted, not worth a warning each.
            raise DropItem(f"duplicate {kind} {item.id}", log_level="DEBUG")
        self.seen.add(item.id)
        self.stats.inc_value(f"tdir/items/{kind}")
        return item
