"""Item pipelines: check, de-duplicate and count records before the feed export writes them.

Only true duplicates are dropped (the same record id twice in one run, which a resumed run can
produce); everything else is counted, never silently lost. Every record passed on is also added
to the run's index (id and fingerprint), which the run record's change counts are made from.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.items import CredentialRecord, Listing, Review, to_dict
from crawler.runs import CrawlStore, index_line

RECORD_TYPES = (Listing, CredentialRecord, Review)


class RecordPipeline:
    """Drop repeats of a record id within a run, count records by type and index them."""

    def __init__(
        self, stats: StatsCollector, seen: set[str], index_path: Path | None = None
    ) -> None:
        self.stats = stats
        self.seen = seen
        self.index_path = index_path
        self.index: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        """Start from the records the run already wrote (a resumed run wrote some before)."""
        assert crawler.stats is not None
        store = CrawlStore(crawler.settings["TDIR_HOME_PATH"])
        source, run_id = crawler.settings["TDIR_SOURCE"], crawler.settings["TDIR_RUN_ID"]
        seen: set[str] = set()

        def written() -> Iterator[dict[str, Any]]:
            for data in store.records(source, run_id):
                if "id" in data:
                    seen.add(data["id"])
                    yield data

        # Rebuilt from the records themselves: after an interrupted part, the records file is
        # what the resumed run continues, whatever the index of that part said.
        store.write_index(source, run_id, written())
        return cls(crawler.stats, seen, store.index_path(source, run_id))

    def open_spider(self) -> None:
        """Open the run's index to append the records this crawl passes on."""
        if self.index_path is not None:
            self.index = self.index_path.open("a", encoding="utf-8")

    def close_spider(self) -> None:
        """Close the run's index, so the run recorder reads it whole."""
        if self.index is not None:
            self.index.close()
            self.index = None

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
        # The feed form, made once: the index line and the feed export both take it (the
        # exporter would otherwise convert the record again, field by field).
        data = to_dict(item)
        if self.index is not None:
            self.index.write(index_line(data))
        return data
