"""The Google Places API (New) spider: massage therapists of an area, with their reviews.

Google Maps is read through its API, never scraped
(https://developers.google.com/maps/documentation/places/web-service/text-search). A Text Search
(``POST /v1/places:searchText``) for the catalog's ``query`` ("massage therapist") with a
``locationBias`` circle around each tile of the catalog's areas (:mod:`crawler.spiders.tiles`)
pages with ``nextPageToken`` and reaches at most ``max_results`` places (60). A bias ranks
places, it does not cut them: the answer may hold places outside the circle, and once a place
lies outside it no later page holds one inside. When a search reached the cap and its farthest
place is still inside the circle, the circle may hold more, and the tile is split in four. (The
stand-in ranks nearest first; Google ranks by relevance too, so on the real service this is a
good heuristic, not a proof.) Each place found inside its tile's circle is read once with Place
Details (``GET /v1/places/{id}``): its listing and its up to five reviews.

Every call names the fields it needs in ``X-Goog-FieldMask`` (mandatory, and what a call costs
depends on it): a search asks only for the ids, positions and the next page's token, details
only for what a listing and its reviews keep (:mod:`crawler.extract.google_places`). The key,
the rate, quotas and resuming are :mod:`crawler.spiders.api_base`'s.

Catalog options (besides api_base's): ``query`` (default "massage therapist"), ``page_size``
(at most 20) and ``max_results`` (what one search reaches over all its pages, 60).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.catalog import CatalogError, Source
from crawler.extract import google_places as places
from crawler.extract.api_answers import ApiAnswerError
from crawler.spiders.api_base import COMMON_OPTIONS, ApiSpider
from crawler.spiders.tiles import Tile

OPTIONS = (*COMMON_OPTIONS, "query", "page_size", "max_results")
MAX_PAGE_SIZE = 20


class GooglePlacesSpider(ApiSpider):
    """Text-search tiles with a location bias, then read each place's details and reviews."""

    provider = "Google Places"
    max_radius_m = 50000.0

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        options = source.options
        self.query = str(options.get("query", "massage therapist"))
        self.page_size = int(options.get("page_size", MAX_PAGE_SIZE))
        self.max_results = int(options.get("max_results", 60))
        self.endpoint = source.start_urls[0].rstrip("/")

    @classmethod
    def check_options(cls, source: Source) -> None:
        """CatalogError for options the spider cannot use, or no key at all."""
        where = f"source {source.name!r}: options"
        unknown = set(source.options) - set(OPTIONS)
        if unknown:
            raise CatalogError(f"{where}: unknown option(s) {', '.join(sorted(unknown))}")
        if not str(source.options.get("query", "massage therapist")).strip():
            raise CatalogError(f"{where}.query: the text to search for")
        for name, highest in (("page_size", MAX_PAGE_SIZE), ("max_results", 1000)):
            value = source.options.get(name, 1)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= highest:
                raise CatalogError(f"{where}.{name}: a whole number from 1 to {highest}")
        cls.check_access(source)

    def key_headers(self) -> dict[str, str]:
        return {"X-Goog-Api-Key": self.api_key}

    async def start(self) -> AsyncIterator[Request]:
        for known in self.known_businesses():
            yield self._details(str(known["provider_id"]))
        for area in self.access.areas:
            for tile in area.tiles(self.access.tile_km):
                yield self._search(tile, None, 0)

    def _search(self, tile: Tile, token: str | None, found: int) -> Request:
        lat, lon = tile.center
        body: dict[str, Any] = {
            "textQuery": self.query,
            "locationBias": {
                "circle": {
                    "center": {"latitude": round(lat, 6), "longitude": round(lon, 6)},
                    "radius": round(min(self.max_radius_m, tile.radius_m), 1),
                }
            },
            "pageSize": self.page_size,
        }
        if token:
            body["pageToken"] = token
        return self.api_request(
            f"{self.endpoint}/places:searchText",
            self.parse_search,
            method="POST",
            body=json.dumps(body, sort_keys=True),
            headers={
                "Content-Type": "application/json",
                "X-Goog-FieldMask": ",".join(places.SEARCH_FIELDS),
            },
            cb_kwargs={"tile": tile.key(), "found": found},
        )

    def _details(self, place_id: str) -> Request:
        return self.api_request(
            f"{self.endpoint}/places/{place_id}",
            self.parse_place,
            headers={"X-Goog-FieldMask": ",".join(places.DETAIL_FIELDS)},
        )

    def parse_search(
        self, response: Response, tile: tuple[float, ...] = (), found: int = 0, **_: Any
    ) -> Iterator[Any]:
        """Read the places inside the tile's circle; page on while every place is inside it;
        split a tile whose search reached the cap that way."""
        problem = places.problem(response.status, response.body)
        if problem is not None:
            yield from self.refused(response, problem)
            return
        try:
            page = places.search_page(response.body)
        except ApiAnswerError as error:
            self.unreadable(response, error)
            return
        area = Tile(*tile)
        inside = [
            p
            for p in page.places
            if p.latitude is not None
            and p.longitude is not None
            and area.contains(p.latitude, p.longitude)
        ]
        for place in inside:
            yield self._details(place.id)
        found += len(page.places)
        if len(inside) < len(page.places):
            # Ranked nearest first: once a place lies outside the circle, none inside follows.
            return
        if page.next_page_token and found < self.max_results:
            yield self._search(area, page.next_page_token, found)
            return
        if found < self.max_results:
            return
        # Every place up to the cap inside the circle: it may hold more than a search reaches.
        if area.side_km / 2 >= self.access.min_tile_km:
            for quarter in area.quarters():
                yield self._search(quarter, None, 0)
            return
        self.count_error("google-places/truncated")
        self.logger.warning(
            "%s: the search around %s reached %d places and the tile is as small as "
            "min_tile_km allows",
            self.name,
            area.center,
            self.max_results,
        )

    def parse_place(self, response: Response, **_: Any) -> Iterator[Any]:
        """The place's listing and its reviews."""
        problem = places.problem(response.status, response.body)
        if problem is not None:
            yield from self.refused(response, problem)
            return
        try:
            listing, reviews = places.place_records(response.body, self.provenance(response))
        except ApiAnswerError as error:
            self.unreadable(response, error)
            return
        yield listing
        yield from reviews
