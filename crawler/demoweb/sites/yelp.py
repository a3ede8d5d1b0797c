"""A stand-in for the Yelp Fusion API (v3): business search, business details, review excerpts.

It answers as Yelp documents its API (https://docs.developer.yelp.com/reference/v3_business_search,
https://docs.developer.yelp.com/reference/v3_business_info,
https://docs.developer.yelp.com/reference/v3_business_reviews,
https://docs.developer.yelp.com/docs/places-rate-limiting):

- ``GET /v3/businesses/search`` with ``latitude``/``longitude`` or ``location``, ``radius`` in
  metres (at most 40,000), ``categories`` (aliases, comma-separated, any of them), ``limit`` (at
  most 50), ``offset`` and ``sort_by``; ``limit + offset`` may not pass 240 (a 400
  ``VALIDATION_ERROR``), so an area is covered by tiling it. ``total`` counts every match, also
  those no page reaches. Here the radius is exact and matches come nearest first;
- ``GET /v3/businesses/{id}``: one business (404 ``BUSINESS_NOT_FOUND``);
- ``GET /v3/businesses/{id}/reviews``: at most three excerpts, while ``total`` is the business's
  full review count;
- every call needs ``Authorization: Bearer <key>`` (401 ``TOKEN_MISSING`` / ``TOKEN_INVALID``);
  calls beyond the per-second limit get 429 ``TOO_MANY_REQUESTS_PER_SECOND``, and once the daily
  quota is spent 429 ``ACCESS_LIMIT_REACHED`` until midnight UTC; every answer carries
  ``RateLimit-DailyLimit``, ``RateLimit-Remaining`` and ``RateLimit-ResetTime``.

Errors are ``{"error": {"code", "description"}}``. The business pages the API links to
(``/biz/{alias}``) and reviewers' pages (``/user_details``) are served as plain HTML.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from crawler.demoweb.businesses import (
    YELP,
    Business,
    PlatformReview,
    platform_settings,
    review_id,
)
from crawler.demoweb.sites.base import Request, Response, esc
from crawler.demoweb.sites.platform import (
    PlatformSite,
    phone_e164,
    phone_national,
    street_parts,
)

_EXCERPT_CHARS = 160  # Yelp's review excerpts stop about here, with "..."
_SORTS = ("best_match", "rating", "review_count", "distance")


def _error(status: int, code: str, description: str, **more: Any) -> Response:
    return Response.json(
        {"error": {"code": code, "description": description, **more}}, status=status
    )


def excerpt(text: str) -> str:
    """A review cut as Yelp's API cuts it: whole words, then ``...``."""
    if len(text) <= _EXCERPT_CHARS:
        return text
    return text[:_EXCERPT_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "..."


class YelpSite(PlatformSite):
    """The Yelp Fusion API stand-in, with Yelp's business pages."""

    name = "yelp"
    title = "Yelp Fusion API (stand-in)"
    style = "yelp.css"
    disallow = ("/writeareview/", "/user_details")
    platform = YELP
    settings = platform_settings(YELP)

    def __init__(self, population: Any) -> None:
        super().__init__(
            population, per_window=int(self.settings["per_second"]), window_seconds=1.0
        )
        self.max_results = int(self.settings["max_results"])
        self.titles = {c["alias"]: c["title"] for c in self.settings["categories"]}
        self.route(r"/", self.home)
        self.route(r"/v3/businesses/search", self.api(self.search))
        self.route(r"/v3/businesses/([^/]+)/reviews", self.api(self.reviews))
        self.route(r"/v3/businesses/([^/]+)", self.api(self.details))
        self.route(r"/biz/([a-z0-9-]+)", self.biz_page)
        self.route(r"/user_details", self.user_page)

    # -- the API ----------------------------------------------------------------------------------

    def api(self, answer: Any) -> Any:
        """Wrap an endpoint in the key check, the limits and the rate-limit headers."""

        def handler(request: Request, match: re.Match[str]) -> Response:
            response = self._admit(request) or answer(request, match)
            response.headers.update(
                {
                    "RateLimit-DailyLimit": str(self.limits.daily_limit),
                    "RateLimit-Remaining": str(self.limits.remaining),
                    "RateLimit-ResetTime": self.limits.reset_time().isoformat(),
                }
            )
            return response

        return handler

    def _admit(self, request: Request) -> Response | None:
        authorization = request.header("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if not authorization:
            return _error(
                401,
                "TOKEN_MISSING",
                "An access token must be supplied in order to use this endpoint.",
            )
        if scheme.lower() != "bearer" or token.strip() != self.key:
            return _error(401, "TOKEN_INVALID", "Invalid access token or authorization header.")
        refusal = self.limits.admit()
        if refusal == "rate":
            return _error(
                429,
                "TOO_MANY_REQUESTS_PER_SECOND",
                "You have exceeded the queries-per-second limit for this endpoint. Try reducing "
                "the rate at which you make queries.",
            )
        if refusal == "quota":
            return _error(
                429,
                "ACCESS_LIMIT_REACHED",
                "You've reached the access limit for this client. Please email api@yelp.com "
                "for assistance",
            )
        return None

    def search(self, request: Request, _: re.Match[str]) -> Response:
        """``/v3/businesses/search``: businesses near a point or in a place, a page at a time."""
        numbers: dict[str, float] = {}
        for name, low, high, default in (
            ("latitude", -90.0, 90.0, None),
            ("longitude", -180.0, 180.0, None),
            ("radius", 0.0, float(self.settings["max_radius_m"]), 40000.0),
            ("limit", 0.0, float(self.settings["max_limit"]), 20.0),
            ("offset", 0.0, float("inf"), 0.0),
        ):
            raw = request.arg(name)
            if not raw:
                if default is not None:
                    numbers[name] = default
                continue
            try:
                value = float(raw)
            except ValueError:
                return _error(
                    400,
                    "VALIDATION_ERROR",
                    f"'{raw}' is not of type 'number'",
                    field=name,
                    instance=raw,
                )
            whole = name not in ("latitude", "longitude")
            if not low <= value <= high or (whole and not value.is_integer()):
                return _error(
                    400,
                    "VALIDATION_ERROR",
                    f"{raw} is not a valid {name}: it must be from {low:g} to {high:g}",
                    field=name,
                    instance=raw,
                )
            numbers[name] = value
        limit, offset = int(numbers["limit"]), int(numbers["offset"])
        if limit + offset > self.max_results:
            return _error(
                400,
                "VALIDATION_ERROR",
                f"Too many results requested, limit+offset must be <= {self.max_results}.",
            )
        sort = request.arg("sort_by", "best_match")
        if sort not in _SORTS:
            return _error(
                400, "VALIDATION_ERROR", f"'{sort}' is not one of {list(_SORTS)}", field="sort_by"
            )
        found, center = self._matches(request, numbers)
        if found is None:
            return _error(
                400,
                "LOCATION_NOT_FOUND",
                "Could not execute search, try specifying a more exact location.",
            )
        wanted = {c.strip() for c in request.arg("categories").split(",") if c.strip()}
        if wanted:
            found = [(b, d) for b, d in found if wanted & set(b.categories)]
        page = found[offset : offset + limit]
        return Response.json(
            {
                "businesses": [
                    self.business_json(b, request.base_url, distance=d, medium="search")
                    for b, d in page
                ],
                "total": len(found),
                "region": {"center": {"latitude": center[0], "longitude": center[1]}},
            }
        )

    def _matches(
        self, request: Request, numbers: dict[str, float]
    ) -> tuple[list[tuple[Business, float | None]] | None, tuple[float, float]]:
        if "latitude" in numbers and "longitude" in numbers:
            lat, lon = numbers["latitude"], numbers["longitude"]
            near: list[tuple[Business, float | None]] = list(
                self.directory.near(lat, lon, numbers["radius"])
            )
            return near, (lat, lon)
        place = request.arg("location").lower()
        if not place:
            return None, (0.0, 0.0)
        city, _, state = (part.strip() for part in place.partition(","))
        found: list[tuple[Business, float | None]] = [
            (b, None)
            for b in self.directory.businesses
            if b.address.zip == city
            or (
                b.address.city.lower() == city
                and (not state or b.address.state.lower() == state[:2])
            )
        ]
        if not found:
            return None, (0.0, 0.0)
        lat = sum(b.address.lat for b, _ in found) / len(found)
        lon = sum(b.address.lon for b, _ in found) / len(found)
        return found, (round(lat, 6), round(lon, 6))

    def details(self, request: Request, match: re.Match[str]) -> Response:
        """``/v3/businesses/{id}``: one business, by id or alias."""
        business = self._business(match.group(1))
        if business is None:
            return _error(404, "BUSINESS_NOT_FOUND", "The requested business could not be found.")
        doc = self.business_json(business, request.base_url, medium="lookup")
        doc.update(is_claimed=True, photos=[], hours=[])
        return Response.json(doc)

    def reviews(self, request: Request, match: re.Match[str]) -> Response:
        """``/v3/businesses/{id}/reviews``: a few excerpts; ``total`` counts every review."""
        business = self._business(match.group(1))
        if business is None:
            return _error(404, "BUSINESS_NOT_FOUND", "The requested business could not be found.")
        shown = business.reviews[: int(self.settings["excerpts"])]
        return Response.json(
            {
                "reviews": [self.review_json(business, r, request.base_url) for r in shown],
                "total": business.review_count,
                "possible_languages": ["en"],
            }
        )

    def _business(self, reference: str) -> Business | None:
        return self.directory.by_id.get(reference) or self.directory.by_alias.get(reference)

    def listing_path(self, business: Business) -> str:
        return f"/v3/businesses/{business.provider_id}"

    def page_path(self, business: Business) -> str:
        return f"/biz/{business.alias}"

    # -- documents --------------------------------------------------------------------------------

    def business_url(self, business: Business, base: str, medium: str) -> str:
        """The business page's URL as the API gives it, with Yelp's tracking parameters."""
        query = urlencode(
            {
                "adjust_creative": "demo",
                "utm_campaign": "yelp_api_v3",
                "utm_medium": f"api_v3_business_{medium}",
                "utm_source": "demo",
            }
        )
        return f"{base}/biz/{business.alias}?{query}"

    def business_json(
        self, business: Business, base: str, *, distance: float | None = None, medium: str
    ) -> dict[str, Any]:
        """A business as search and details give it."""
        address = business.address
        street, unit = street_parts(address)
        city_line = f"{address.city}, {address.state} {address.zip}"
        doc: dict[str, Any] = {
            "id": business.provider_id,
            "alias": business.alias,
            "name": business.name,
            "image_url": "",
            "is_closed": False,
            "url": self.business_url(business, base, medium),
            "review_count": business.review_count,
            "categories": [{"alias": c, "title": self.titles[c]} for c in business.categories],
            "rating": business.rating,
            "coordinates": {"latitude": address.lat, "longitude": address.lon},
            "transactions": [],
            "location": {
                "address1": street,
                "address2": unit,
                "address3": "",
                "city": address.city,
                "zip_code": address.zip,
                "country": "US",
                "state": address.state,
                "display_address": [line for line in (street, unit, city_line) if line],
            },
            "phone": phone_e164(business.phone),
            "display_phone": phone_national(business.phone),
        }
        if distance is not None:
            doc["distance"] = round(distance, 3)
        return doc

    def review_json(self, business: Business, review: PlatformReview, base: str) -> dict[str, Any]:
        """One review excerpt as the reviews endpoint gives it."""
        rid = review_id(YELP, review.number)
        user = review_id(YELP, -review.number - 1)
        query = urlencode(
            {
                "adjust_creative": "demo",
                "hrid": rid,
                "utm_campaign": "yelp_api_v3",
                "utm_medium": "api_v3_business_reviews",
                "utm_source": "demo",
            }
        )
        return {
            "id": rid,
            "url": f"{base}/biz/{business.alias}?{query}",
            "text": excerpt(review.text),
            "rating": review.rating,
            "time_created": review.published.strftime("%Y-%m-%d %H:%M:%S"),
            "user": {
                "id": user,
                "profile_url": f"{base}/user_details?userid={user}",
                "image_url": None,
                "name": review.author,
            },
        }

    # -- pages ------------------------------------------------------------------------------------

    def home(self, request: Request, _: re.Match[str]) -> Response:
        body = (
            "<h1>Yelp Fusion API</h1><p>Search businesses with <code>GET /v3/businesses/search"
            "</code>, read one with <code>GET /v3/businesses/{id}</code> and its review excerpts "
            "with <code>GET /v3/businesses/{id}/reviews</code>. Every call needs "
            "<code>Authorization: Bearer &lt;API key&gt;</code>.</p>"
        )
        return Response.html(self.layout("Yelp Fusion API", body), modified=self.as_of)

    def biz_page(self, request: Request, match: re.Match[str]) -> Response | None:
        business = self.directory.by_alias.get(match.group(1))
        if business is None:
            return None
        items = "".join(
            f'<div class="review" id="{esc(review_id(YELP, r.number))}"><b>{esc(r.author)}</b> '
            f"{r.rating} stars · {r.published.date().isoformat()}<p>{esc(r.text)}</p></div>"
            for r in business.reviews
        )
        return self.business_page(business, items)

    def user_page(self, request: Request, _: re.Match[str]) -> Response:
        body = f"<h1>Yelp user {esc(request.arg('userid'))}</h1>"
        return Response.html(self.layout("Yelp user", body), modified=self.as_of)
