"""Yelp Fusion API (v3) answers as tdir records: a business is a listing, an excerpt a review.

Shapes as Yelp documents them (https://docs.developer.yelp.com/reference/v3_business_search,
https://docs.developer.yelp.com/reference/v3_business_info,
https://docs.developer.yelp.com/reference/v3_business_reviews): a business has ``id``,
``alias``, ``name``, ``url``, ``rating`` (1 to 5 in halves), ``review_count``, ``categories``
(``alias``, ``title``), ``coordinates``, ``location`` (``address1..3``, ``city``, ``zip_code``,
``state``, ``country``, ``display_address``), ``phone`` (E.164) and ``display_phone``; the
reviews endpoint gives at most three excerpts (``id``, ``url``, ``text``, ``rating``,
``time_created``, ``user``) and ``total``, the business's full review count. Errors are
``{"error": {"code", "description"}}``: 401 ``TOKEN_INVALID``/``TOKEN_MISSING``, 429
``TOO_MANY_REQUESTS_PER_SECOND`` (the per-second limit) or ``ACCESS_LIMIT_REACHED`` (the daily
quota, reset at midnight UTC; https://docs.developer.yelp.com/docs/places-rate-limiting).

A listing is referred to by its Yelp page (``url`` without Yelp's tracking parameters) and keeps
Yelp's ``id`` in ``extras["provider_id"]``, the page in ``extras["page_url"]``; a review keeps
its Yelp URL (``page_url``) and its author's page (``author_url``). The business's rating is a
published aggregate over ``review_count`` reviews, of which the excerpts are a sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crawler.extract.api_answers import (
    ApiAnswerError,
    ApiProblem,
    json_object,
    mapping,
    number,
    provider_review,
    without_tracking,
)
from crawler.items import Listing, PostalAddress, Provenance, Rating, Review, stable_id

_TRACKING = ("utm_", "adjust_creative")
_KEY_CODES = frozenset({"TOKEN_INVALID", "TOKEN_MISSING", "UNAUTHORIZED_ACCESS_TOKEN"})


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of a business search: the businesses on it and how many match in all."""

    total: int
    businesses: list[dict[str, Any]]


def problem(status: int, body: bytes) -> ApiProblem | None:
    """What a non-200 answer means (None for a 200)."""
    if status == 200:
        return None
    try:
        error = json_object(body, "Yelp error").get("error") or {}
    except ApiAnswerError:
        error = {}
    code = str(error.get("code") or f"HTTP_{status}")
    message = str(error.get("description") or "no description")
    if code in _KEY_CODES or status == 401:
        return ApiProblem("key", status, code, message)
    if code == "ACCESS_LIMIT_REACHED":
        return ApiProblem("quota", status, code, message)
    if status == 429:
        return ApiProblem("rate", status, code, message)
    return ApiProblem("error", status, code, message)


def search_page(body: bytes) -> SearchPage:
    """A search answer's businesses and total; ApiAnswerError if it has neither."""
    data = json_object(body, "Yelp business search")
    businesses = data.get("businesses")
    total = data.get("total")
    if not isinstance(businesses, list) or isinstance(total, bool) or not isinstance(total, int):
        raise ApiAnswerError("Yelp business search: no 'businesses' list or 'total' count")
    return SearchPage(total, [b for b in businesses if isinstance(b, dict) and b.get("id")])


def page_url(url: str) -> str:
    """A Yelp page's URL without Yelp's tracking parameters (the listing's reference)."""
    return without_tracking(url, _TRACKING)


def business_listing(body: bytes, provenance: Provenance) -> Listing:
    """The listing a business-details answer describes; ApiAnswerError if it has no id."""
    doc = json_object(body, "Yelp business details")
    business_id = doc.get("id")
    if not isinstance(business_id, str) or not business_id:
        raise ApiAnswerError("Yelp business details: no business id")
    given_url = str(doc.get("url") or "")
    reference = page_url(given_url) if given_url else business_id
    location = mapping(doc.get("location"))
    coordinates = mapping(doc.get("coordinates"))
    street = " ".join(
        str(location.get(key)).strip()
        for key in ("address1", "address2", "address3")
        if location.get(key)
    )
    rating = number(doc.get("rating"))
    count = doc.get("review_count")
    return Listing(
        id=stable_id(provenance.source, business_id),
        provenance=provenance,
        source_ref=reference,
        name_raw=str(doc.get("name") or ""),
        practice_name_raw=str(doc.get("name") or "") or None,
        address=PostalAddress(
            street=street or None,
            locality=location.get("city") or None,
            region=location.get("state") or None,
            postal_code=location.get("zip_code") or None,
            country=location.get("country") or None,
        )
        if location
        else None,
        latitude=number(coordinates.get("latitude")),
        longitude=number(coordinates.get("longitude")),
        telephone_raw=doc.get("display_phone") or doc.get("phone") or None,
        aggregate_rating=Rating(
            raw=str(doc.get("rating")),
            value=rating,
            best=5.0,
            worst=1.0,
            count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        )
        if rating is not None
        else None,
        extras={
            "provider_id": business_id,
            "page_url": reference,
            "provider_url": given_url,
            "alias": doc.get("alias"),
            "categories": [
                c.get("alias") for c in doc.get("categories") or [] if isinstance(c, dict)
            ],
            "is_closed": bool(doc.get("is_closed")),
        },
    )


def review_records(
    body: bytes, provenance: Provenance, listing_ref: str
) -> tuple[list[Review], int]:
    """The review excerpts of a reviews answer, and ``total``: every review the business has."""
    data = json_object(body, "Yelp business reviews")
    reviews = data.get("reviews")
    if not isinstance(reviews, list):
        raise ApiAnswerError("Yelp business reviews: no 'reviews' list")
    records = []
    for doc in reviews:
        if not isinstance(doc, dict) or not doc.get("id"):
            continue
        user = mapping(doc.get("user"))
        records.append(
            provider_review(
                provenance,
                listing_ref,
                provider_id=doc["id"],
                author=user.get("name"),
                rating=doc.get("rating"),
                published=doc.get("time_created"),
                body=doc.get("text"),
                page_url=doc.get("url"),
                author_url=user.get("profile_url"),
            )
        )
    total = data.get("total")
    return records, total if isinstance(total, int) and not isinstance(total, bool) else len(
        records
    )
