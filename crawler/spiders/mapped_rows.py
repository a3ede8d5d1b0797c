"""What the csv and socrata spiders do with mapped rows: emit the records, count the rest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from crawler.extract.record_mapping import LeftOut, MappedRow
from crawler.extract.result import ExtractionError
from crawler.items import CredentialRecord
from crawler.spiders.base import SourceSpider

LEFT_OUT = "tdir/left-out/"
"""Stats prefix: rows the ``only`` option left out, by field (not errors)."""


class RowCounter:
    """Counts a spider's mapped rows: errors by kind, left-out rows by field."""

    def __init__(self, spider: SourceSpider) -> None:
        self.spider = spider

    def records(
        self, rows: Iterable[MappedRow], *, loud: tuple[str, ...] = ()
    ) -> Iterator[CredentialRecord]:
        """The records among ``rows``; errors are counted and logged (``loud`` kinds as warnings,
        since they say a whole file or answer could not be read as the catalog describes it)."""
        spider = self.spider
        for row in rows:
            if isinstance(row, ExtractionError):
                spider.count_error(row.kind)
                log = spider.logger.warning if row.kind in loud else spider.logger.info
                log("%s: %s", row.kind, row.message)
            elif isinstance(row, LeftOut):
                assert spider.crawler.stats is not None
                spider.crawler.stats.inc_value(f"{LEFT_OUT}{row.field}")
            else:
                yield row
