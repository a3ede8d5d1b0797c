"""What every tdir spider shares: its catalog entry, provenance, error counting, loop guards."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy import Spider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.catalog import Source
from crawler.items import Provenance, content_hash
from crawler.runs import utc_now


class SourceSpider(Spider):
    """A spider crawling one catalog source."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.allowed_domains = list(source.allowed_domains)
        self._seen_bodies: set[str] = set()

    def provenance(self, response: Response) -> Provenance:
        """Where and when this response was fetched, and the hash of its body."""
        return Provenance(
            source=self.source.name,
            url=response.url,
            fetched_at=utc_now(),
            content_hash=content_hash(response.body),
        )

    def count_error(self, kind: str, count: int = 1) -> None:
        """Count a problem by kind; it shows in the run record's errors."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"tdir/error/{kind}", count)

    def text_response(self, response: Response) -> TextResponse | None:
        """Return the response if it is text, else count a ``page/not-text`` error."""
        if isinstance(response, TextResponse):
            return response
        self.count_error("page/not-text")
        return None

    def repeats_earlier_page(self, response: Response) -> bool:
        """True if this body was already seen under another URL in this run.

        Pagination traps and mirrored pages serve the same body under endless URLs; links on a
        repeated page are not followed.
        """
        digest = content_hash(response.body)
        if digest in self._seen_bodies:
            self.count_error("page/repeated-content")
            return True
        self._seen_bodies.add(digest)
        return False

    def on_error(self, failure: Failure) -> Iterable[Any]:
        """Errback: downloader errors are counted by Scrapy; nothing here may end the crawl."""
        return ()
