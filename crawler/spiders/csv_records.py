"""The CSV spider: credential records from the data files registries publish (licensee lists).

Start URLs are CSV files, or pages linking to them (a board's downloads page, so a file renamed
for its date is still found). The catalog options, and how rows become records, are described in
:mod:`crawler.extract.csv_records`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.catalog import CatalogError, Source
from crawler.extract.csv_records import CsvMapping, decode_csv, parse_csv
from crawler.extract.record_mapping import data_date
from crawler.spiders.base import SourceSpider
from crawler.spiders.mapped_rows import RowCounter

_CSV_TYPES = (b"text/csv", b"application/csv", b"text/comma-separated-values")


class CsvRecordSpider(SourceSpider):
    """Download a registry's CSV files (directly or from the pages linking them) and map rows."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.mapping = self.check_options(source)

    @classmethod
    def check_options(cls, source: Source) -> CsvMapping:
        """Compile the source's options; CatalogError names the source and option at fault."""
        if not source.start_urls:
            raise CatalogError(f"source {source.name!r}: the csv spider needs start_urls")
        return CsvMapping.from_options(source.options, f"source {source.name!r}: options")

    async def start(self) -> AsyncIterator[Request]:
        for url in self.source.start_urls:
            yield Request(url, callback=self.parse, errback=self.on_error)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """Map a CSV file's rows, or follow a page's links to CSV files."""
        if self._is_csv(response):
            yield from self._rows(response)
            return
        page = self.text_response(response)
        if page is None:
            return
        found = 0
        for href in page.css("a::attr(href)").getall():
            url = page.urljoin(href.strip()).split("#", 1)[0]
            if self.mapping.is_file(url):
                found += 1
                yield Request(url, callback=self.parse, errback=self.on_error)
        if not found:
            self.count_error("csv/no-file-linked")
            self.logger.warning("%s links to no CSV file", page.url)

    def _is_csv(self, response: Response) -> bool:
        content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip()
        if content_type.lower() in _CSV_TYPES:
            return True
        return content_type.lower() not in (b"text/html", b"application/xhtml+xml") and (
            self.mapping.is_file(response.url)
        )

    def _rows(self, response: Response) -> Iterator[Any]:
        if self.repeats_earlier_page(response):
            return
        text = decode_csv(response.body, self.mapping.encoding)
        provenance = self.provenance(response)
        rows = parse_csv(
            text,
            self.mapping,
            provenance,
            source_kind=self.source.kind,
            data_as_of=data_date(response.headers.get(b"Last-Modified"), provenance.fetched_at),
        )
        yield from RowCounter(self).records(rows, loud=("csv/missing-column",))
