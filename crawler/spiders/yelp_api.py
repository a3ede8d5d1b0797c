"""The Yelp Fusion API spider: massage businesses of an area, their details and review excerpts.

Yelp is read through its API, never scraped
(https://docs.developer.yelp.com/reference/v3_business_search). A business search
(``/v3/businesses/search``) by ``categories`` (``massage,massage_therapy``: Yelp's aliases for
massage and for massage therapy) and a circle (``latitude``, ``longitude``, ``radius`` of at most
40 km) reaches at most 240 businesses (``limit + offset <= 240``), so the catalog's areas are cut
into tiles (:mod:`crawler.spiders.tiles`) and a tile whose ``total`` passes the cap is split in
four. Each business found is read once
(``/v3/businesses/{id}``: its listing) with its review excerpts (``/v3/businesses/{id}/reviews``:
at most three reviews; the listing's rating counts them all). The key, the rate, quotas and
resuming are :mod:`crawler.spiders.api_base`'s.

Catalog options (besides api_base's): ``categories`` (default ``[massage, massage_therapy]``),
``max_results`` (the API's cap on ``limit + offset``, default 240) and ``page_size`` (``limit``,
at most 50).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

from scrapy import Request
from scrapy.http import Response

from crawler.catalog import CatalogError, Source
from crawler.extract import yelp
from crawler.extract.api_answers import ApiAnswerError
from crawler.spiders.api_base import COMMON_OPTIONS, ApiSpider
from crawler.spiders.tiles import Tile

OPTIONS = (*COMMON_OPTIONS, "categories", "max_results", "page_size")
MAX_PAGE_SIZE = 50


class YelpApiSpider(ApiSpider):
    """Search tiles by category, then read each business and its review excerpts."""

    provider = "Yelp"
    max_radius_m = 40000.0

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        options = source.options
        self.categories = [
            str(c) for c in options.get("categories", ["massage", "massage_therapy"])
        ]
        self.max_results = int(options.get("max_results", 240))
        self.page_size = min(int(options.get("page_size", MAX_PAGE_SIZE)), self.max_results)
        self.endpoint = source.start_urls[0].rstrip("/")

    @classmethod
    def check_options(cls, source: Source) -> None:
        """CatalogError for options the spider cannot use, or no key at all."""
        where = f"source {source.name!r}: options"
        unknown = set(source.options) - set(OPTIONS)
        if unknown:
            raise CatalogError(f"{where}: unknown option(s) {', '.join(sorted(unknown))}")
        categories = source.options.get("categories", ["massage"])
        if not isinstance(categories, list) or not categories:
            raise CatalogError(f"{where}.categories: a list of Yelp category aliases")
        for name, highest in (("max_results", 1000), ("page_size", MAX_PAGE_SIZE)):
            value = source.options.get(name, 1)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= highest:
                raise CatalogError(f"{where}.{name}: a whole number from 1 to {highest}")
        cls.check_access(source)

    def key_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    async def start(self) -> AsyncIterator[Request]:
        for known in self.known_businesses():
            yield self._details(str(known["provider_id"]))
        for area in self.access.areas:
            for tile in area.tiles(self.access.tile_km):
                yield self._search(tile, 0)

    def _search(self, tile: Tile, offset: int) -> Request:
        lat, lon = tile.center
        params = {
            "latitude": f"{lat:.6f}",
            "longitude": f"{lon:.6f}",
            "radius": min(int(self.max_radius_m), math.ceil(tile.radius_m)),
            "categories": ",".join(self.categories),
            "limit": min(self.page_size, self.max_results - offset),
            "offset": offset,
            "sort_by": "distance",
        }
        return self.api_request(
            f"{self.endpoint}/businesses/search?{urlencode(params)}",
            self.parse_search,
            cb_kwargs={"tile": tile.key(), "offset": offset},
        )

    def _details(self, business_id: str) -> Request:
        return self.api_request(f"{self.endpoint}/businesses/{business_id}", self.parse_business)

    def parse_search(
        self, response: Response, tile: tuple[float, ...] = (), offset: int = 0, **_: Any
    ) -> Iterator[Any]:
        """Split a tile the cap would cut short; else read its businesses, page by page."""
        problem = yelp.problem(response.status, response.body)
        if problem is not None:
            yield from self.refused(response, problem)
            return
        try:
            page = yelp.search_page(response.body)
        except ApiAnswerError as error:
            self.unreadable(response, error)
            return
        area = Tile(*tile)
        if offset == 0 and page.total > self.max_results:
            if area.side_km / 2 >= self.access.min_tile_km:
                for quarter in area.quarters():
                    yield self._search(quarter, 0)
                return
            self.count_error("yelp/truncated")
            self.logger.warning(
                "%s: %d businesses around %s, the API reaches %d and the tile is as small as "
                "min_tile_km allows",
                self.name,
                page.total,
                area.center,
                self.max_results,
            )
        for business in page.businesses:
            yield self._details(str(business["id"]))
        following = offset + len(page.businesses)
        if page.businesses and following < min(page.total, self.max_results):
            yield self._search(area, following)

    def parse_business(self, response: Response, **_: Any) -> Iterator[Any]:
        """The business's listing, then its review excerpts."""
        problem = yelp.problem(response.status, response.body)
        if problem is not None:
            yield from self.refused(response, problem)
            return
        try:
            listing = yelp.business_listing(response.body, self.provenance(response))
        except ApiAnswerError as error:
            self.unreadable(response, error)
            return
        yield listing
        yield self.api_request(
            f"{response.url.rstrip('/')}/reviews",
            self.parse_reviews,
            cb_kwargs={"listing_ref": listing.source_ref},
        )

    def parse_reviews(self, response: Response, listing_ref: str = "", **_: Any) -> Iterator[Any]:
        """The business's review excerpts (``total``, every review, is on the listing)."""
        problem = yelp.problem(response.status, response.body)
        if problem is not None:
            yield from self.refused(response, problem)
            return
        try:
            reviews, _total = yelp.review_records(
                response.body, self.provenance(response), listing_ref
            )
        except ApiAnswerError as error:
            self.unreadable(response, error)
            return
        yield from reviews
