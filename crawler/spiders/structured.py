"""The generic structured-data spider: any site that publishes schema.org data.

It starts from the catalog's sitemaps and/or start URLs, extracts listings, ratings, reviews and
credentials from JSON-LD, microdata and RDFa (with extruct), and follows pagination (``rel=next``
links) and the link patterns the catalog gives. Pointing it at a new schema.org site is a
catalog entry, not code.

Catalog options:
  follow: [regex, ...]        links to follow (matched against absolute URLs)
  sitemap_follow: [regex, ...]  only these sitemaps of a sitemap index (default: all)
  syntaxes: [json-ld, microdata, rdfa]  what to read (default: all three)
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.catalog import Source
from crawler.extract import extract_structured
from crawler.extract.result import Record
from crawler.items import ClaimedCredential
from crawler.spiders.base import SourceSpider

_SYNTAXES = ("json-ld", "microdata", "rdfa")


class StructuredDataSpider(SourceSpider):
    """Extract schema.org records from every page reached by sitemaps, pagination and links."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        options = source.options
        self.follow = (
            LinkExtractor(
                allow=tuple(options.get("follow") or ()),
                allow_domains=self.allowed_domains,
                restrict_css=options.get("follow_within"),
            )
            if options.get("follow")
            else None
        )
        self.sitemap_follow = [re.compile(p) for p in options.get("sitemap_follow") or (".*",)]
        self.syntaxes = tuple(options.get("syntaxes") or _SYNTAXES)

    async def start(self) -> AsyncIterator[Request]:
        for url in self.source.sitemap_urls:
            yield Request(url, callback=self.parse_sitemap, errback=self.on_error)
        for url in self.source.start_urls:
            yield Request(url, callback=self.parse, errback=self.on_error)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """Follow a sitemap index's sitemaps and a sitemap's pages."""
        if response.url.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.text, base_url=response.url):
                yield Request(url, callback=self.parse_sitemap, errback=self.on_error)
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gunzip(body)
        try:
            sitemap = Sitemap(body)
        except Exception:  # lxml raises several kinds on a broken sitemap
            self.count_error("sitemap/unparseable")
            return
        for entry in sitemap:
            url = entry.get("loc")
            if not url:
                continue
            if sitemap.type == "sitemapindex":
                if any(p.search(url) for p in self.sitemap_follow):
                    yield Request(url, callback=self.parse_sitemap, errback=self.on_error)
            else:
                yield Request(url, callback=self.parse, errback=self.on_error)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """Yield the page's records, then the pages it links to."""
        page = self.text_response(response)
        if page is None:
            return
        repeated = self.repeats_earlier_page(page)
        extraction = extract_structured(
            page.body, self.provenance(page), encoding=page.encoding, syntaxes=self.syntaxes
        )
        for error in extraction.errors:
            self.count_error(error.kind)
        yield from (r for r in extraction.records if _is_emitted(r))
        if repeated:
            return
        for href in page.css("a[rel~=next]::attr(href), link[rel~=next]::attr(href)").getall():
            yield page.follow(href, callback=self.parse, errback=self.on_error)
        if self.follow is not None:
            for link in self.follow.extract_links(page):
                yield Request(link.url, callback=self.parse, errback=self.on_error)


def _is_emitted(record: Record) -> bool:
    # A credential with no holder on the page cannot be tied to anyone; listings carry theirs.
    return not isinstance(record, ClaimedCredential)
