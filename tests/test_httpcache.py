"""The HTTP cache never keeps or confirms a page cut short (Scrapy's real cache components)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.extensions.httpcache import FilesystemCacheStorage
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler.httpcache import (
    DAMAGED_DROPPED,
    DAMAGED_NOT_CACHED,
    CheckedHttpCacheMiddleware,
    damage,
)
from crawler.settings import crawl_settings

URL = "http://127.0.0.1:8000/therapist/jane-doe-1"
PAGE = (
    b"<!doctype html><html><head><title>Jane Doe</title></head><body>"
    + b"<p>Neuromuscular therapy in Austin.</p>" * 40
    + b"</body></html>"
)


def _response(body: bytes, *, status: int = 200, length: int | None = None) -> Response:
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "ETag": '"v1"',
        "Content-Length": str(len(body) if length is None else length),
        "Date": "Mon, 07 Dec 2026 00:00:00 GMT",
    }
    return HtmlResponse(URL, status=status, headers=headers, body=body, request=Request(URL))


@pytest.fixture
def cache(tmp_path: Path) -> tuple[CheckedHttpCacheMiddleware, FilesystemCacheStorage, Spider]:
    settings = crawl_settings(http_cache_dir=tmp_path / "httpcache", job_dir=None)
    # The crawl's own cache settings; its extensions (the run recorder) are not part of this.
    crawler = get_crawler(
        Spider, settings_dict={k: v for k, v in settings.items() if k.startswith("HTTPCACHE_")}
    )
    spider = Spider.from_crawler(crawler, "atlas")
    crawler.spider = spider
    middleware = CheckedHttpCacheMiddleware.from_crawler(crawler)
    middleware.storage.open_spider(spider)
    crawler.stats.open_spider()
    return middleware, middleware.storage, spider


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (_response(PAGE[:290], length=len(PAGE)), "body 290 of"),
        (_response(b""), "empty body"),
    ],
)
def test_a_page_cut_short_is_named(response: Response, reason: str) -> None:
    assert (damage(response) or "").startswith(reason)


def test_whole_pages_and_bodiless_answers_are_not_damaged() -> None:
    assert damage(_response(PAGE)) is None
    assert damage(_response(b"", status=304)) is None
    assert damage(_response(b'{"ok": true}')) is None  # not HTML: no closing tag to expect
    # A template that never closes its document (the tag is optional) is a whole page.
    assert damage(_response(PAGE.replace(b"</body></html>", b"(c) 2026"))) is None


def test_a_truncated_page_is_not_stored(cache: tuple) -> None:
    middleware, storage, spider = cache
    request = Request(URL)
    assert middleware.process_request(request) is None  # nothing cached yet
    middleware.process_response(request, _response(PAGE[:290], length=len(PAGE)))
    assert storage.retrieve_response(spider, Request(URL)) is None
    assert middleware.stats.get_value(DAMAGED_NOT_CACHED) == 1


def test_a_damaged_entry_is_refetched_whole_and_never_confirmed_by_a_304(cache: tuple) -> None:
    middleware, storage, spider = cache
    # A half-written entry: the server's ETag beside an empty body file.
    storage.store_response(spider, Request(URL), _response(b""))
    request = Request(URL)
    assert middleware.process_request(request) is None
    # No validators: the server must send the page, not "not modified".
    assert b"If-None-Match" not in request.headers
    assert middleware.stats.get_value(DAMAGED_DROPPED) == 1
    served = middleware.process_response(request, _response(PAGE))
    assert served.body == PAGE
    # The whole page replaced the damaged one; the next recrawl revalidates it as usual.
    again = Request(URL)
    assert middleware.process_request(again) is None
    assert again.headers.get(b"If-None-Match") == b'"v1"'
    confirmed = middleware.process_response(again, _response(b"", status=304))
    assert confirmed.body == PAGE
