"""The Socrata spider: credential records from a state's open-data API, page after page.

Start URLs are dataset endpoints (``https://data.wa.gov/resource/qxh8-f4bd.json``). Each is read
from offset 0 in pages of ``page_size`` rows until a page comes back short; the rows are mapped
by the same mapping as the csv spider's files. The catalog options, the query and the paging are
described in :mod:`crawler.extract.socrata`. A refused query (400: a column the dataset does not
have; 403: an application token the portal does not know) is counted as ``http/<status>`` and
logged with the portal's own explanation.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.catalog import CatalogError, Source
from crawler.extract.record_mapping import data_date
from crawler.extract.socrata import (
    SocrataAnswerError,
    SocrataDataset,
    error_description,
    map_page,
    page_rows,
)
from crawler.spiders.base import SourceSpider
from crawler.spiders.mapped_rows import RowCounter


class SocrataSpider(SourceSpider):
    """Page through a Socrata dataset with $limit/$offset and map its rows."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.dataset = self.check_options(source)
        env = self.dataset.app_token_env
        # Read when the crawl starts, never stored in the catalog or the crawl store.
        self.app_token = (os.environ.get(env) or "").strip() if env else ""

    @classmethod
    def check_options(cls, source: Source) -> SocrataDataset:
        """Compile the source's options; CatalogError names the source and option at fault."""
        if not source.start_urls:
            raise CatalogError(f"source {source.name!r}: the socrata spider needs start_urls")
        return SocrataDataset.from_options(source.options, f"source {source.name!r}: options")

    async def start(self) -> AsyncIterator[Request]:
        for endpoint in self.source.start_urls:
            yield self._request(endpoint, 0)

    def _request(self, endpoint: str, offset: int) -> Request:
        headers = {"Accept": "application/json"}
        if self.app_token:
            headers["X-App-Token"] = self.app_token
        return Request(
            self.dataset.page_url(endpoint, offset),
            headers=headers,
            callback=self.parse,
            errback=self.on_refusal,
            cb_kwargs={"endpoint": endpoint, "offset": offset},
        )

    def parse(
        self, response: Response, endpoint: str = "", offset: int = 0, **kwargs: Any
    ) -> Iterator[Any]:
        """Yield the page's records, then the next page unless this one was short."""
        try:
            rows = page_rows(response.body)
        except SocrataAnswerError as exc:
            self.count_error("socrata/bad-response")
            self.logger.warning("%s: %s", response.url, exc)
            return
        if rows and self.repeats_earlier_page(response):
            # A portal ignoring $offset would serve page one forever.
            return
        provenance = self.provenance(response)
        mapped = map_page(
            rows,
            self.dataset,
            provenance,
            source_kind=self.source.kind,
            offset=offset,
            data_as_of=data_date(response.headers.get(b"Last-Modified"), provenance.fetched_at),
        )
        yield from RowCounter(self).records(mapped)
        following = self.dataset.next_offset(offset, len(rows))
        if following is not None:
            yield self._request(endpoint, following)

    def on_refusal(self, failure: Failure) -> Iterable[Any]:
        """Errback: log what the portal said of a refused query, then count it as any error."""
        exc = failure.value
        if isinstance(exc, HttpError) and 400 <= exc.response.status < 500:
            response = exc.response
            hint = ""
            if response.status in (401, 403) and self.dataset.app_token_env:
                hint = f" (the application token comes from ${self.dataset.app_token_env})"
            self.logger.error(
                "%s refused the query (HTTP %s): %s%s",
                response.url,
                response.status,
                error_description(response.body),
                hint,
            )
        return self.on_error(failure)
