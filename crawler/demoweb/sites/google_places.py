"""A stand-in for the Google Maps Places API (New): Text Search and Place Details.

It answers as Google documents the service
(https://developers.google.com/maps/documentation/places/web-service/text-search,
https://developers.google.com/maps/documentation/places/web-service/place-details,
https://developers.google.com/maps/documentation/places/web-service/choose-fields):

- ``POST /v1/places:searchText`` with a JSON body: ``textQuery``, ``locationBias`` (a
  ``circle`` of ``center`` and ``radius`` in metres, at most 50,000), ``pageSize`` (at most 20)
  and ``pageToken`` (the ``nextPageToken`` of the page before). A bias ranks, it does not cut:
  here places come nearest to the circle's centre first, also those outside it, and a query
  reaches at most 60 places over all its pages;
- ``GET /v1/places/{id}``: one place (404 ``NOT_FOUND``), with up to five reviews
  (``authorAttribution``, ``publishTime``, ``rating``, ``text``...);
- the key comes in ``X-Goog-Api-Key`` (or ``?key=``): none is 403 ``PERMISSION_DENIED``, a wrong
  one 400 ``INVALID_ARGUMENT`` with reason ``API_KEY_INVALID``;
- the field mask is mandatory, in ``X-Goog-FieldMask`` (or ``?fields=``): none, or one naming a
  field a place does not have, is 400 ``INVALID_ARGUMENT``; the answer holds only the fields
  the mask names (``*`` is every field; a search names ``places.<field>`` and
  ``nextPageToken``);
- beyond the per-minute or the daily quota, 429 ``RESOURCE_EXHAUSTED``; an ``ErrorInfo`` detail
  names the quota limit (``...PerMinutePerProject`` or ``...PerDayPerProject``).

Errors are Google's ``{"error": {"code", "message", "status", "details"}}``. The pages the API
links to, a place's Google Maps page (``/?cid=N``) and a reviewer's (``/maps/contrib/N``), are
served as plain HTML.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from crawler.demoweb import vocab
from crawler.demoweb.businesses import (
    GOOGLE,
    Business,
    PlatformReview,
    platform_settings,
    review_id,
)
from crawler.demoweb.identifiers import stable_hash
from crawler.demoweb.sites.base import Request, Response, esc
from crawler.demoweb.sites.platform import (
    PlatformSite,
    phone_national,
    street_parts,
)
from crawler.demoweb.variants import relative_date

# The fields of a Place (the documented ones; the stand-in fills those it knows).
PLACE_FIELDS = frozenset(
    {
        "accessibilityOptions",
        "addressComponents",
        "adrFormatAddress",
        "businessStatus",
        "currentOpeningHours",
        "displayName",
        "editorialSummary",
        "formattedAddress",
        "googleMapsUri",
        "iconBackgroundColor",
        "iconMaskBaseUri",
        "id",
        "internationalPhoneNumber",
        "location",
        "name",
        "nationalPhoneNumber",
        "photos",
        "plusCode",
        "priceLevel",
        "primaryType",
        "primaryTypeDisplayName",
        "rating",
        "regularOpeningHours",
        "reviews",
        "shortFormattedAddress",
        "types",
        "userRatingCount",
        "utcOffsetMinutes",
        "viewport",
        "websiteUri",
    }
)
_MISSING_MASK = (
    "FieldMask is a required parameter. See https://cloud.google.com/apis/docs/system-parameters "
    "on how to provide it. As an example, you can set the header 'X-Goog-FieldMask' to value "
    "'displayName', 'id' to ask for the display name and the place id of a place. You can also "
    "set the value to '*' in manual testing to get all the available response fields."
)
_PROJECT = "project_number:000000000000"
_SERVICE = "places.googleapis.com"
_QUERY_WORDS = ("massage", "therap", "bodywork", "neuromuscular", "myofascial")

Path = tuple[str, ...]


def _error(
    code: int, status: str, message: str, details: Iterable[dict[str, Any]] = ()
) -> Response:
    doc: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        doc["details"] = list(details)
    return Response.json({"error": doc}, status=code)


def _error_info(reason: str, **metadata: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": _SERVICE, **metadata},
    }


def project(doc: dict[str, Any], paths: list[Path]) -> dict[str, Any]:
    """``doc`` with only the fields the mask's ``paths`` name (``()`` names all of it)."""
    if () in paths:
        return doc
    out: dict[str, Any] = {}
    for key, value in doc.items():
        below = [p[1:] for p in paths if p and p[0] == key]
        if not below:
            continue
        if () in below:
            out[key] = value
        elif isinstance(value, dict):
            out[key] = project(value, below)
        elif isinstance(value, list):
            out[key] = [project(v, below) if isinstance(v, dict) else v for v in value]
    return out


class GooglePlacesSite(PlatformSite):
    """The Places API (New) stand-in, with Google Maps' place and contributor pages."""

    name = "google-places"
    title = "Places API (stand-in)"
    style = "places.css"
    disallow = ("/maps/contrib/", "/search")
    methods = ("GET", "HEAD", "POST")
    platform = GOOGLE
    settings = platform_settings(GOOGLE)

    def __init__(self, population: Any) -> None:
        super().__init__(
            population, per_window=int(self.settings["per_minute"]), window_seconds=60.0
        )
        self.page_size = int(self.settings["page_size"])
        self.max_results = int(self.settings["max_results"])
        self.route(r"/", self.home)
        self.route(r"/v1/places:searchText", self.search)
        self.route(r"/v1/places/([A-Za-z0-9_-]+)", self.details)
        self.route(r"/maps/contrib/(\d+)", self.contributor)

    # -- the API ----------------------------------------------------------------------------------

    def _admit(self, request: Request, metric: str, mask_root: str) -> Response | list[Path]:
        """The field mask's paths, or the error answering the call instead."""
        key = request.header("X-Goog-Api-Key") or request.arg("key")
        if not key:
            return _error(
                403,
                "PERMISSION_DENIED",
                "The request is missing a valid API key.",
                [_error_info("API_KEY_MISSING")],
            )
        if key != self.key:
            return _error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                [_error_info("API_KEY_INVALID")],
            )
        mask = request.header("X-Goog-FieldMask") or request.arg("fields") or request.arg("$fields")
        if not mask.strip():
            return _error(400, "INVALID_ARGUMENT", _MISSING_MASK)
        paths: list[Path] = []
        for raw in mask.split(","):
            path = tuple(part for part in raw.strip().split(".") if part)
            if path == ("*",):
                paths.append(())
                continue
            if not self._known(path, mask_root):
                return _error(
                    400,
                    "INVALID_ARGUMENT",
                    f"Invalid field mask: '{raw.strip()}' is not a field of the response.",
                    [
                        {
                            "@type": "type.googleapis.com/google.rpc.BadRequest",
                            "fieldViolations": [
                                {
                                    "field": "X-Goog-FieldMask",
                                    "description": f"unknown field '{raw.strip()}'",
                                }
                            ],
                        }
                    ],
                )
            paths.append(path)
        refusal = self.limits.admit()
        if refusal is not None:
            period = "Minute" if refusal == "rate" else "Day"
            limit = f"{metric}Per{period}PerProject"
            return _error(
                429,
                "RESOURCE_EXHAUSTED",
                f"Quota exceeded for quota metric '{metric}' and limit '{limit}' of service "
                f"'{_SERVICE}' for consumer '{_PROJECT}'.",
                [
                    _error_info(
                        "RATE_LIMIT_EXCEEDED",
                        consumer=_PROJECT,
                        quota_metric=f"{_SERVICE}/{metric}",
                        quota_limit=limit,
                        quota_limit_value=str(
                            self.limits.per_window if refusal == "rate" else self.limits.daily_limit
                        ),
                    )
                ],
            )
        return paths

    @staticmethod
    def _known(path: Path, root: str) -> bool:
        if not path:
            return False
        if root == "places":
            if path == ("nextPageToken",):
                return True
            return path[0] == "places" and (len(path) == 1 or path[1] in PLACE_FIELDS)
        return path[0] in PLACE_FIELDS

    def search(self, request: Request, _: re.Match[str]) -> Response | None:
        """``POST /v1/places:searchText``: places matching a text, a page at a time."""
        if request.method != "POST":
            return _error(404, "NOT_FOUND", "Method not found.")
        admitted = self._admit(request, "SearchTextRequest", "places")
        if isinstance(admitted, Response):
            return admitted
        try:
            body = json.loads(request.body or b"{}")
        except ValueError as exc:
            return _error(400, "INVALID_ARGUMENT", f"Invalid JSON payload received. {exc}")
        if not isinstance(body, dict) or not str(body.get("textQuery") or "").strip():
            return _error(400, "INVALID_ARGUMENT", "Empty text_query.")
        size = body.get("pageSize") or self.page_size
        if not isinstance(size, int) or size < 0:
            return _error(400, "INVALID_ARGUMENT", "page_size must be a positive integer.")
        size = min(size, self.page_size)
        center = self._bias(body.get("locationBias"))
        if isinstance(center, Response):
            return center
        query = self._query_key(body)
        offset = 0
        token = body.get("pageToken")
        if token:
            offset_or_error = self._read_token(str(token), query)
            if isinstance(offset_or_error, Response):
                return offset_or_error
            offset = offset_or_error
        found = self._matches(str(body["textQuery"]), center)
        page = found[offset : offset + size]
        doc: dict[str, Any] = {
            "places": [self.place_json(b, request.base_url) for b in page],
        }
        if offset + size < len(found):
            doc["nextPageToken"] = self._token(query, offset + size)
        return Response.json(project(doc, admitted) if doc["places"] else {})

    def _bias(self, bias: Any) -> tuple[float, float] | Response | None:
        if not bias:
            return None
        circle = bias.get("circle") if isinstance(bias, dict) else None
        if not isinstance(circle, dict):
            # Google also takes a rectangle; the stand-in reads circles only.
            return _error(400, "INVALID_ARGUMENT", "location_bias must have a circle.")
        try:
            center = circle["center"]
            lat, lon = float(center["latitude"]), float(center["longitude"])
            radius = float(circle.get("radius", 0))
        except (KeyError, TypeError, ValueError):
            return _error(
                400, "INVALID_ARGUMENT", "location_bias must have a circle or a rectangle."
            )
        if not 0 <= radius <= float(self.settings["max_radius_m"]):
            return _error(
                400,
                "INVALID_ARGUMENT",
                f"location_bias.circle.radius must be between 0.0 and "
                f"{float(self.settings['max_radius_m'])}, inclusive.",
            )
        return lat, lon

    def _matches(self, text: str, center: tuple[float, float] | None) -> list[Business]:
        """The places a query reaches: the first ``max_results`` of them, best first."""
        words = text.lower()
        if not any(w in words for w in _QUERY_WORDS):
            found = [b for b in self.directory.businesses if b.name.lower() in words]
        elif center is None:
            found = sorted(self.directory.businesses, key=lambda b: b.provider_id)
        else:
            found = [b for b, _ in self.directory.nearest(*center, self.max_results)]
        return found[: self.max_results]

    @staticmethod
    def _query_key(body: dict[str, Any]) -> str:
        same = {k: v for k, v in body.items() if k not in ("pageToken", "pageSize")}
        text = json.dumps(same, sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    @staticmethod
    def _token(query: str, offset: int) -> str:
        return base64.urlsafe_b64encode(f"{query}:{offset}".encode()).decode().rstrip("=")

    @staticmethod
    def _read_token(token: str, query: str) -> int | Response:
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            key, _, offset = text.partition(":")
            if key == query and offset.isdigit():
                return int(offset)
        except ValueError:
            pass
        return _error(
            400,
            "INVALID_ARGUMENT",
            "The page token is not valid for this request: every parameter other than "
            "page_token and page_size must be the same as in the request that returned it.",
        )

    def details(self, request: Request, match: re.Match[str]) -> Response:
        """``GET /v1/places/{id}``: one place, with the fields the mask names."""
        admitted = self._admit(request, "GetPlaceRequest", "place")
        if isinstance(admitted, Response):
            return admitted
        business = self.directory.by_id.get(match.group(1))
        if business is None:
            return _error(404, "NOT_FOUND", "Requested entity was not found.")
        return Response.json(project(self.place_json(business, request.base_url), admitted))

    def listing_path(self, business: Business) -> str:
        return f"/v1/places/{business.provider_id}"

    def page_path(self, business: Business) -> str:
        return f"/?cid={business.cid}"

    # -- documents --------------------------------------------------------------------------------

    def maps_uri(self, business: Business, base: str) -> str:
        """The place's Google Maps page (``googleMapsUri``)."""
        return f"{base}/?cid={business.cid}"

    def place_json(self, business: Business, base: str) -> dict[str, Any]:
        """Every field the stand-in knows of a place."""
        address = business.address
        street, unit = street_parts(address)
        state_name = vocab.state_names().get(address.state, address.state)
        first_line = f"{street} {unit}" if unit else street
        # The route is the street's name alone, in full and abbreviated ("Amphitheatre Parkway",
        # "Amphitheatre Pkwy"); the number and the unit are components of their own.
        route = address.street_line.removeprefix(address.number + " ")
        components = [
            (address.number, address.number, ["street_number"]),
            (route, street.removeprefix(address.number + " "), ["route"]),
            *([(unit, unit, ["subpremise"])] if unit else []),
            (address.city, address.city, ["locality", "political"]),
            (state_name, address.state, ["administrative_area_level_1", "political"]),
            ("United States", "US", ["country", "political"]),
            (address.zip, address.zip, ["postal_code"]),
        ]
        digits = business.phone
        doc: dict[str, Any] = {
            "name": f"places/{business.provider_id}",
            "id": business.provider_id,
            "types": list(self.settings["types"]),
            "nationalPhoneNumber": phone_national(digits),
            "internationalPhoneNumber": f"+1 {digits[:3]}-{digits[3:6]}-{digits[6:]}",
            "formattedAddress": f"{first_line}, {address.city}, {address.state} {address.zip}, USA",
            "addressComponents": [
                {"longText": long, "shortText": short, "types": kinds, "languageCode": "en"}
                for long, short, kinds in components
            ],
            "location": {"latitude": address.lat, "longitude": address.lon},
            "rating": business.rating,
            "googleMapsUri": self.maps_uri(business, base),
            "businessStatus": "OPERATIONAL",
            "userRatingCount": business.review_count,
            "displayName": {"text": business.name, "languageCode": "en"},
            "primaryType": str(self.settings["types"][0]),
            "shortFormattedAddress": f"{first_line}, {address.city}",
            "reviews": [
                self.review_json(business, r, base)
                for r in business.reviews[: int(self.settings["reviews"])]
            ],
        }
        if business.website:
            doc["websiteUri"] = f"http://{business.website}/"
        return doc

    def review_json(self, business: Business, review: PlatformReview, base: str) -> dict[str, Any]:
        """One review as a place's details give it."""
        rid = review_id(GOOGLE, review.number)
        contributor = stable_hash(GOOGLE, "contributor", review.number) % 10**20
        text = {"text": review.text, "languageCode": "en"}
        return {
            "name": f"places/{business.provider_id}/reviews/{rid}",
            "relativePublishTimeDescription": relative_date(review.published.date(), self.as_of),
            "rating": review.rating,
            "text": text,
            "originalText": text,
            "authorAttribution": {
                "displayName": review.author,
                "uri": f"{base}/maps/contrib/{contributor}",
                "photoUri": f"{base}/maps/contrib/{contributor}/photo",
            },
            "publishTime": review.published.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "flagContentUri": f"{base}/local/review/rap/report?postId={rid}",
            "googleMapsUri": f"{base}/?cid={business.cid}&review={rid}",
        }

    # -- pages ------------------------------------------------------------------------------------

    def home(self, request: Request, _: re.Match[str]) -> Response | None:
        cid = request.arg("cid")
        if cid:
            business = self.directory.by_cid.get(int(cid)) if cid.isdigit() else None
            if business is None:
                return None
            items = "".join(
                f'<div class="review"><b>{esc(r.author)}</b> {r.rating} stars · '
                f"{esc(relative_date(r.published.date(), self.as_of))}<p>{esc(r.text)}</p></div>"
                for r in business.reviews
            )
            return self.business_page(business, items)
        body = (
            "<h1>Places API (New)</h1><p>Search with <code>POST /v1/places:searchText</code> and "
            "read a place with <code>GET /v1/places/{id}</code>. Every call needs "
            "<code>X-Goog-Api-Key</code> and <code>X-Goog-FieldMask</code>.</p>"
        )
        return Response.html(self.layout("Places API", body), modified=self.as_of)

    def contributor(self, request: Request, match: re.Match[str]) -> Response:
        body = f"<h1>Local Guide {esc(match.group(1))}</h1><p>Reviews and photos.</p>"
        return Response.html(self.layout("Contributions", body), modified=self.as_of)
