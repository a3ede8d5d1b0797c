"""The HTTP cache policy of recrawls: every cached page is revalidated, never re-downloaded whole.

Scrapy's RFC2616Policy sends a conditional request (If-None-Match / If-Modified-Since) for a
stale cached page, except when the page said ``Cache-Control: no-cache``: it then returns
"stale" before adding the validators, so the page is fetched in full on every recrawl. RFC 9111
(5.2.2.4) reads ``no-cache`` as "revalidate before each use", which is a conditional request,
and sites send it on pages they do answer with 304. This policy adds the validators whenever a
cached page is not fresh.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

NETWORK_BYTES = "tdir/network/bytes"


class RevalidatingPolicy(RFC2616Policy):
    """RFC2616Policy that revalidates ``no-cache`` pages with a conditional request."""

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        """Whether the cached page may be used as is; if not, make the request conditional."""
        if super().is_cached_response_fresh(cachedresponse, request):
            return True
        last_modified = cachedresponse.headers.get(b"Last-Modified")
        if last_modified:
            request.headers[b"If-Modified-Since"] = last_modified
        etag = cachedresponse.headers.get(b"ETag")
        if etag:
            request.headers[b"If-None-Match"] = etag
        return False


class NetworkBytesMiddleware:
    """Counts the bytes each response really brought over the network (``tdir/network/bytes``).

    Scrapy's ``downloader/response_bytes`` is measured after the HTTP cache has replaced a 304
    by the stored page, so it counts a revalidated page in full. Placed next to the downloader
    (after the cache), this sees the 304 itself, and nothing for a page served from the cache.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetworkBytesMiddleware:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        """Count the response's status line, headers and (still compressed) body."""
        if "cached" not in response.flags:
            headers = sum(
                len(name) + sum(len(value) + 4 for value in values) + 2
                for name, values in response.headers.items()
            )
            self.stats.inc_value(NETWORK_BYTES, len(response.body) + headers + 17)
        return response
