"""Places API (New) answers as tdir records: a place is a listing, its reviews reviews.

Shapes as Google documents them
(https://developers.google.com/maps/documentation/places/web-service/text-search,
https://developers.google.com/maps/documentation/places/web-service/place-details,
https://developers.google.com/maps/documentation/places/web-service/reference/rest/v1/places):
a place has ``id``, ``displayName {text}``, ``formattedAddress``, ``addressComponents``
(``longText``, ``shortText``, ``types``), ``location``, ``rating``, ``userRatingCount``,
``nationalPhoneNumber``, ``websiteUri``, ``googleMapsUri`` and up to five ``reviews``
(``name``, ``rating``, ``text {text}``, ``publishTime``, ``authorAttribution {displayName,
uri}``, ``googleMapsUri``). A text search gives ``places`` and, while there are more,
``nextPageToken``. Only the fields the request's field mask names come back, so every field is
optional here. Errors are ``{"error": {"code", "message", "status", "details"}}``: a wrong key is
400 ``INVALID_ARGUMENT`` with an ``ErrorInfo`` reason ``API_KEY_INVALID`` (none: 403
``PERMISSION_DENIED``), a spent quota 429 ``RESOURCE_EXHAUSTED`` whose ``ErrorInfo`` names the
limit: a daily one (``...PerDay...``) ends the day's crawl, a per-minute one only slows it.

A listing is referred to by its ``googleMapsUri`` and keeps the place id in
``extras["provider_id"]``; a review keeps its Google Maps link (``page_url``) and its author's
(``author_url``), the attribution Google asks for
(https://developers.google.com/maps/documentation/places/web-service/policies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crawler.extract.api_answers import (
    ApiAnswerError,
    ApiProblem,
    json_object,
    mapping,
    number,
    provider_review,
)
from crawler.items import Listing, PostalAddress, Provenance, Rating, Review, stable_id

# What the spider asks for, and nothing more (the field mask also decides the price of a call).
SEARCH_FIELDS = ("places.id", "places.location", "nextPageToken")
DETAIL_FIELDS = (
    "id",
    "displayName",
    "formattedAddress",
    "addressComponents",
    "location",
    "rating",
    "userRatingCount",
    "nationalPhoneNumber",
    "websiteUri",
    "googleMapsUri",
    "reviews",
)
_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_MISSING", "API_KEY_EXPIRED"})


@dataclass(frozen=True, slots=True)
class FoundPlace:
    """A place a text search found: its id and where it is."""

    id: str
    latitude: float | None
    longitude: float | None


@dataclass(slots=True)
class SearchPage:
    """One page of a text search and the token of the next one."""

    places: list[FoundPlace] = field(default_factory=list)
    next_page_token: str | None = None


def problem(status: int, body: bytes) -> ApiProblem | None:
    """What a non-200 answer means (None for a 200)."""
    if status == 200:
        return None
    try:
        error = json_object(body, "Places API error").get("error") or {}
    except ApiAnswerError:
        error = {}
    code = str(error.get("status") or f"HTTP_{status}")
    message = str(error.get("message") or "no message")
    infos = [
        d
        for d in error.get("details") or []
        if isinstance(d, dict) and str(d.get("@type", "")).endswith("ErrorInfo")
    ]
    reasons = {str(d.get("reason")) for d in infos}
    limits = " ".join(str((d.get("metadata") or {}).get("quota_limit", "")) for d in infos)
    if reasons & _KEY_REASONS or code == "PERMISSION_DENIED":
        return ApiProblem("key", status, code, message)
    if status == 429 or code == "RESOURCE_EXHAUSTED":
        daily = "PerDay" in limits or "per day" in message.lower()
        return ApiProblem("quota" if daily else "rate", status, code, message)
    return ApiProblem("error", status, code, message)


def search_page(body: bytes) -> SearchPage:
    """A text-search answer's places (``{}`` when nothing matched)."""
    data = json_object(body, "Places text search")
    places = data.get("places") or []
    if not isinstance(places, list):
        raise ApiAnswerError("Places text search: 'places' is not a list")
    page = SearchPage(next_page_token=data.get("nextPageToken") or None)
    for doc in places:
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            location = mapping(doc.get("location"))
            page.places.append(
                FoundPlace(
                    doc["id"], number(location.get("latitude")), number(location.get("longitude"))
                )
            )
    return page


def _components(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for part in doc.get("addressComponents") or []:
        if isinstance(part, dict):
            for kind in part.get("types") or []:
                found.setdefault(
                    kind, (str(part.get("longText") or ""), str(part.get("shortText") or ""))
                )
    return found


def _address(doc: dict[str, Any]) -> PostalAddress | None:
    parts = _components(doc)
    formatted = doc.get("formattedAddress") or None
    if not parts:
        return PostalAddress(raw=formatted) if formatted else None
    street = " ".join(
        p
        for p in (
            parts.get("street_number", ("", ""))[0],
            parts.get("route", ("", ""))[0],
            parts.get("subpremise", ("", ""))[0],
        )
        if p
    )
    return PostalAddress(
        street=street or None,
        locality=parts.get("locality", ("", ""))[0] or None,
        region=parts.get("administrative_area_level_1", ("", ""))[1] or None,
        postal_code=parts.get("postal_code", ("", ""))[0] or None,
        country=parts.get("country", ("", ""))[1] or None,
        raw=formatted,
    )


def place_records(body: bytes, provenance: Provenance) -> tuple[Listing, list[Review]]:
    """The listing and the reviews of a place-details answer; ApiAnswerError without an id."""
    doc = json_object(body, "Places place details")
    place_id = doc.get("id")
    if not isinstance(place_id, str) or not place_id:
        raise ApiAnswerError("Places place details: no place id")
    name = mapping(doc.get("displayName"))
    location = mapping(doc.get("location"))
    maps_uri = str(doc.get("googleMapsUri") or "")
    reference = maps_uri or f"places/{place_id}"
    rating = number(doc.get("rating"))
    count = doc.get("userRatingCount")
    listing = Listing(
        id=stable_id(provenance.source, place_id),
        provenance=provenance,
        source_ref=reference,
        name_raw=str(name.get("text") or ""),
        practice_name_raw=str(name.get("text") or "") or None,
        address=_address(doc),
        latitude=number(location.get("latitude")),
        longitude=number(location.get("longitude")),
        telephone_raw=doc.get("nationalPhoneNumber") or doc.get("internationalPhoneNumber"),
        website=doc.get("websiteUri") or None,
        aggregate_rating=Rating(
            raw=str(doc.get("rating")),
            value=rating,
            best=5.0,
            worst=1.0,
            count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        )
        if rating is not None
        else None,
        extras={"provider_id": place_id, "page_url": maps_uri or None},
    )
    reviews = []
    for item in doc.get("reviews") or []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        author = mapping(item.get("authorAttribution"))
        reviews.append(
            provider_review(
                provenance,
                reference,
                provider_id=item["name"],
                author=author.get("displayName"),
                rating=item.get("rating"),
                published=item.get("publishTime"),
                body=mapping(item.get("text")).get("text"),
                page_url=item.get("googleMapsUri"),
                author_url=author.get("uri"),
            )
        )
    return listing, reviews
