"""The HTTP cache policy of recrawls: every cached page is revalidated, never re-downloaded whole.

Scrapy's RFC2616Policy sends a conditional request (If-None-Match / If-Modified-Since) for a
stale cached page, except when the page said ``Cache-Control: no-cache``: it then returns
"stale" before adding the validators, so the page is fetched in full on every recrawl. RFC 9111
(5.2.2.4) reads ``no-cache`` as "revalidate before each use", which is a conditional request,
and sites send it on pages they do answer with 304. This policy adds the validators whenever a
cached page is not fresh.

A damaged page is never trusted: a response cut short (a body shorter than its Content-Length,
Scrapy's ``dataloss`` flag, an empty 200) is not
stored, and a damaged entry already in the cache (a half-written body file) is neither used nor
revalidated — with an ETag, a 304 would otherwise confirm the broken copy on every recrawl — but
fetched again in full.
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import FilesystemCacheStorage, RFC2616Policy
from scrapy.http import Response
from scrapy.settings import BaseSettings, Settings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.response import response_from_dict

NETWORK_BYTES = "tdir/network/bytes"
# Request meta: fetch the page in full and store it, whatever the cache holds.
REFRESH = "tdir_refresh"


# Counted as error kinds of the run (run.json): "download/cut-short", "cache/damaged-entry".
DAMAGED_NOT_CACHED = "tdir/error/download/cut-short"
DAMAGED_DROPPED = "tdir/error/cache/damaged-entry"


def damage(response: Response) -> str | None:
    """Why a response cannot be a whole page, or None if nothing says it is cut short."""
    if "dataloss" in response.flags or "partial" in response.flags:
        return "connection lost mid-body"
    body = response.body
    declared = response.headers.get(b"Content-Length")
    if declared is not None and declared.strip().isdigit() and len(body) < int(declared):
        return f"body {len(body)} of {int(declared)} bytes"
    if response.status == 200 and not body:
        return "empty body"
    # A body cut short under a Content-Length that matches it leaves no trace in HTTP; the
    # spiders' own checks (a profile page that yields nothing) are what can catch it.
    return None


class RevalidatingPolicy(RFC2616Policy):
    """RFC2616Policy that revalidates ``no-cache`` pages and never trusts a damaged one."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.stats: StatsCollector | None = None  # set by CheckedHttpCacheMiddleware

    def should_cache_response(self, response: Response, request: Request) -> bool:
        """Store only whole pages."""
        if damage(response) is not None:
            self._count(DAMAGED_NOT_CACHED)
            return False
        return super().should_cache_response(response, request)

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        """Whether the cached page may be used as is; if not, make the request conditional.

        A damaged entry is neither: the page is fetched in full, with no validators; so is
        a page the ledger asks to refresh (``REFRESH``: it held a listing and now yields none).
        """
        if damage(cachedresponse) is not None:
            self._count(DAMAGED_DROPPED)
            return False
        if request.meta.get(REFRESH):
            return False
        if super().is_cached_response_fresh(cachedresponse, request):
            return True
        last_modified = cachedresponse.headers.get(b"Last-Modified")
        if last_modified:
            request.headers[b"If-Modified-Since"] = last_modified
        etag = cachedresponse.headers.get(b"ETag")
        if etag:
            request.headers[b"If-None-Match"] = etag
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        """A damaged entry is never confirmed, whatever the server answers; nor is a refresh."""
        if damage(cachedresponse) is not None or request.meta.get(REFRESH):
            return False
        return super().is_cached_response_valid(cachedresponse, response, request)

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)


class PageCacheStorage(FilesystemCacheStorage):
    """Scrapy's filesystem cache with each response in one file, written whole or not at all.

    Scrapy's storage writes seven files and a directory per response (the request's headers
    and body, two copies of the metadata...), which on a slow filesystem cost more than the
    rest of a page's crawl; this one writes one file under a temporary name and renames it into
    place, so a crash mid-write leaves no half entry. A file that cannot be read (damaged, or
    written by another version) is no entry: the page is fetched again in full. Entries in
    Scrapy's own layout, from earlier crawls, are still read.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self._made: set[Path] = set()  # the entry directories known to exist

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        """The cached response, or None when there is none (or it is expired or unreadable)."""
        path = self._entry(spider, request)
        try:
            with self._open(path, "rb") as stored:
                entry = pickle.load(stored)  # the crawl's own files, never another's
        except FileNotFoundError:
            return super().retrieve_response(spider, request)
        except Exception:  # a damaged or foreign file: unpickling raises many kinds
            return None
        if 0 < self.expiration_secs < time.time() - entry["timestamp"]:
            return None
        request.meta["cache_timestamp"] = entry["timestamp"]
        return response_from_dict(entry["response"])

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        """Store the response in one file, atomically."""
        path = self._entry(spider, request)
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        entry = {"url": request.url, "timestamp": time.time(), "response": response.to_dict()}
        partial = path.with_suffix(".partial")
        with self._open(partial, "wb") as stored:
            pickle.dump(entry, stored, protocol=4)
        os.replace(partial, path)

    def _entry(self, spider: Spider, request: Request) -> Path:
        key = self._fingerprinter.fingerprint(request).hex()
        return Path(self.cachedir, spider.name or "", key[0:2], f"{key}.response")


class CheckedHttpCacheMiddleware(HttpCacheMiddleware):
    """Scrapy's HTTP cache, with the policy told the crawl's stats to count damaged pages."""

    def __init__(self, settings: Settings, stats: StatsCollector) -> None:
        super().__init__(settings, stats)
        if isinstance(self.policy, RevalidatingPolicy):
            self.policy.stats = stats


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
