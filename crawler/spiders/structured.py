"""The generic structured-data spider: any site that publishes schema.org data.

It starts from the catalog's sitemaps and/or start URLs, extracts listings, ratings, reviews and
credentials from JSON-LD, microdata and RDFa (with extruct), and follows pagination (``rel=next``
links) and the link patterns the catalog gives. Pointing it at a new schema.org site is a
catalog entry, not code.

Catalog options:
  follow: [regex, ...]          links to follow (matched against absolute URLs)
  follow_within: css            only links inside these elements
  sitemap_follow: [regex, ...]  only these sitemaps of a sitemap index (default: all)
  syntaxes: [json-ld, microdata, rdfa]  what to read (default: all three)
  profile_pages: [regex, ...]   URLs of profile pages, each the page of one listing. Records
                                are then read from profile pages only (search and city pages
                                repeat partial copies of the listings they link to); a profile
                                page gives one listing, referenced by its canonical URL, and
                                every review on it is that listing's.
  required_fields: [name, ...]  fields every profile on the site carries (name, address,
                                telephone, coordinates, rating); a profile without one is a
                                broken page, counted as ``listing/missing-<field>``. ``rating``
                                is required only of a profile that shows reviews.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.catalog import CatalogError, Source
from crawler.extract import extract_structured
from crawler.extract.canonical import canonical_url
from crawler.extract.markup import markup_problems
from crawler.extract.result import Record
from crawler.items import ClaimedCredential, Listing, Review
from crawler.spiders.base import SourceSpider

_SYNTAXES = ("json-ld", "microdata", "rdfa")
_OPTIONS = frozenset(
    {"follow", "follow_within", "sitemap_follow", "syntaxes", "profile_pages", "required_fields"}
)
_REQUIRED_FIELDS = frozenset({"name", "address", "telephone", "coordinates", "rating"})


class StructuredDataSpider(SourceSpider):
    """Extract schema.org records from every page reached by sitemaps, pagination and links."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.check_options(source)
        options = source.options
        # Off-site links are left to Scrapy's OffsiteMiddleware (allowed_domains, by host name):
        # LinkExtractor's allow_domains compares host:port and would drop every link of a site
        # served on a port.
        self.follow = (
            LinkExtractor(
                allow=tuple(options.get("follow") or ()),
                restrict_css=options.get("follow_within") or (),
            )
            if options.get("follow")
            else None
        )
        self.sitemap_follow = [re.compile(p) for p in options.get("sitemap_follow") or (".*",)]
        self.syntaxes = tuple(options.get("syntaxes") or _SYNTAXES)
        self.profile_pages = [re.compile(p) for p in options.get("profile_pages") or ()]
        self.required_fields = frozenset(options.get("required_fields") or ())

    @classmethod
    def check_options(cls, source: Source) -> None:
        """Raise CatalogError naming the source for options this spider cannot use."""
        options: Mapping[str, Any] = source.options
        where = f"source {source.name!r}: options"
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise CatalogError(f"{where}: unknown {unknown}; known: {sorted(_OPTIONS)}")
        for key in ("follow", "sitemap_follow", "profile_pages", "syntaxes", "required_fields"):
            value = options.get(key)
            if value is not None and (isinstance(value, str) or not isinstance(value, list)):
                raise CatalogError(f"{where}.{key} must be a list")
        for key in ("follow", "sitemap_follow", "profile_pages"):
            for pattern in options.get(key) or ():
                try:
                    re.compile(str(pattern))
                except re.error as exc:
                    raise CatalogError(f"{where}.{key}: {pattern!r} is no regex: {exc}") from None
        bad = sorted(set(options.get("syntaxes") or ()) - set(_SYNTAXES))
        if bad:
            raise CatalogError(f"{where}.syntaxes: {bad} not among {list(_SYNTAXES)}")
        bad = sorted(set(options.get("required_fields") or ()) - _REQUIRED_FIELDS)
        if bad:
            known = sorted(_REQUIRED_FIELDS)
            raise CatalogError(f"{where}.required_fields: {bad} not among {known}")

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
        if sitemap.type not in ("urlset", "sitemapindex"):
            self.count_error("sitemap/unparseable")
            return
        for entry in sitemap:
            loc: str | None = entry.get("loc")
            if not loc:
                continue
            url = loc
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
        for problem in markup_problems(page.body, page.url):
            self.count_error(problem.kind)
        if self.profile_pages and self.is_profile(page.url):
            # A profile's body seen under another URL is a mirror of a listing already read.
            if self.repeats_earlier_page(page):
                return
            yield from self.profile_records(page)
        else:
            records = [] if self.profile_pages else self.page_records(page)
            yield from records
            # A page without records is navigation: one that differs from an earlier one only
            # in its numbers is a pagination trap, and its links lead nowhere new.
            if self.repeats_earlier_page(page, ignore_numbers=not records):
                return
        yield from self.links(page)

    def is_profile(self, url: str) -> bool:
        """Whether a URL is a profile page, as the catalog's ``profile_pages`` describe them."""
        return any(p.search(url) for p in self.profile_pages)

    def page_records(self, page: TextResponse) -> list[Record]:
        """Every listing and review on a page read the default way (see extract_structured)."""
        extraction = extract_structured(
            page.body, self.provenance(page), encoding=page.encoding, syntaxes=self.syntaxes
        )
        for error in extraction.errors:
            self.count_error(error.kind)
        return [r for r in extraction.records if _is_emitted(r)]

    def profile_records(self, page: TextResponse) -> Iterator[Record]:
        """The one listing of a profile page and its reviews, checked against required_fields."""
        extraction = extract_structured(
            page.body,
            self.provenance(page),
            encoding=page.encoding,
            syntaxes=self.syntaxes,
            listing_ref=canonical_url(page.selector, page.url),
        )
        for error in extraction.errors:
            self.count_error(error.kind)
        records = [r for r in extraction.records if _is_emitted(r)]
        if not records:
            self.count_error("profile/no-listing")
        reviews = sum(isinstance(r, Review) for r in records)
        for record in records:
            if isinstance(record, Listing):
                for name in sorted(self.required_fields):
                    if _lacks(record, name, reviews):
                        self.count_error(f"listing/missing-{name}")
        yield from records

    def links(self, page: TextResponse) -> Iterator[Request]:
        """Requests for the next page of a paginated list and the catalog's link patterns."""
        for href in page.css("a[rel~=next]::attr(href), link[rel~=next]::attr(href)").getall():
            yield page.follow(href, callback=self.parse, errback=self.on_error)
        if self.follow is not None:
            for link in self.follow.extract_links(page):
                yield Request(link.url, callback=self.parse, errback=self.on_error)


def _lacks(listing: Listing, name: str, reviews: int) -> bool:
    if name == "name":
        return not listing.name_raw
    if name == "address":
        return listing.address is None
    if name == "telephone":
        return not listing.telephone_raw
    if name == "coordinates":
        return listing.latitude is None or listing.longitude is None
    # A rating is expected where reviews are shown; a listing nobody reviewed has none.
    return reviews > 0 and listing.aggregate_rating is None


def _is_emitted(record: Record) -> bool:
    # A credential with no holder on the page cannot be tied to anyone; listings carry theirs.
    return not isinstance(record, ClaimedCredential)
