"""What the two review-platform stand-ins share: their businesses, key, limits and pages.

A platform stand-in answers an official API (JSON, one key, a rate and a daily quota; see
:mod:`crawler.demoweb.sites.quota`) and serves the pages its API links to, so that a link back
from the directory leads somewhere: the business's own page and its reviewers' pages.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any, ClassVar

from crawler.demoweb import vocab
from crawler.demoweb.businesses import Business, BusinessDirectory, business_directory
from crawler.demoweb.model import Address
from crawler.demoweb.sites.base import Response, Site, esc
from crawler.demoweb.sites.quota import ApiLimits


def phone_e164(digits: str) -> str:
    """A US number as E.164 (``+15125550143``)."""
    return f"+1{digits}"


def phone_national(digits: str) -> str:
    """A US number as written at home (``(512) 555-0143``)."""
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def street_parts(address: Address) -> tuple[str, str]:
    """The street line with the usual abbreviations, and the unit (``Ste 200``) or ``""``."""
    streets = vocab.streets()
    parts = [address.number]
    if address.direction:
        parts.append(dict(streets["directions"])[address.direction])
    parts += [address.street, dict(streets["suffixes"])[address.suffix]]
    unit = ""
    if address.unit_kind and address.unit:
        short = {"suite": "Ste", "unit": "Unit", "room": "Rm", "building": "Bldg"}
        unit = f"{short.get(address.unit_kind, address.unit_kind.title())} {address.unit}"
    return " ".join(parts), unit


class PlatformSite(Site):
    """A review platform's API stand-in over one platform's businesses."""

    platform: str = ""
    settings: ClassVar[dict[str, Any]] = {}  # the platform's part of data/apis.yaml

    def __init__(self, population: Any, *, per_window: int, window_seconds: float) -> None:
        super().__init__(population)
        # The one key the stand-in accepts, and its limits (a test may change them).
        self.key = str(self.settings["key"])
        self.limits = ApiLimits(
            per_window=per_window,
            window_seconds=window_seconds,
            daily_limit=int(self.settings["daily_limit"]),
        )

    @cached_property
    def directory(self) -> BusinessDirectory:
        """The platform's businesses (drawn on first use)."""
        return business_directory(self.population, self.platform)

    def static_entries(self) -> list[tuple[str, date]]:
        return [("/", self.as_of)]

    def business_page(self, business: Business, reviews_html: str) -> Response:
        """The business's own page: what a link back from a directory shows."""
        street, unit = street_parts(business.address)
        city = f"{business.address.city}, {business.address.state} {business.address.zip}"
        body = (
            f'<h1 class="biz">{esc(business.name)}</h1>'
            f'<p class="rating">{business.rating:g} stars · {business.review_count} reviews</p>'
            f"<p>{esc(street)}{esc(', ' + unit) if unit else ''}<br>{esc(city)}<br>"
            f"{esc(phone_national(business.phone))}</p>"
            f'<section class="reviews">{reviews_html}</section>'
        )
        return Response.html(self.layout(business.name, body), modified=business.updated)

    # -- ground truth -----------------------------------------------------------------------------

    def listing_path(self, business: Business) -> str:
        """The API path a business's record is read from (its listing in the ground truth)."""
        raise NotImplementedError

    def page_path(self, business: Business) -> str:
        """The path of the business's own page, where the API's links lead."""
        raise NotImplementedError

    def truth_of(self, t: Any) -> list[dict[str, Any]]:
        """The ground truth of ``t`` on this platform: the business they own, or the colleague's
        business they work at, or nothing.

        An owner's entry has a listing's shape (``site``, ``path``, ``aggregate``,
        ``locations``...) and adds ``members`` (every therapist working there, the owner first),
        ``provider_id``, ``page`` and the ``shown_reviews``; a colleague's entry names the
        business and its ``owner_person``.
        """
        business = self.directory.by_therapist.get(t.id)
        if business is None:
            return []
        path = self.listing_path(business)
        if business.owner != t.id:
            return [
                {
                    "site": self.name,
                    "path": path,
                    "owner": False,
                    "owner_person": business.owner,
                    "provider_id": business.provider_id,
                }
            ]
        shown = len(business.reviews)
        return [
            {
                "site": self.name,
                "path": path,
                "owner": True,
                "members": list(business.members),
                "provider_id": business.provider_id,
                "page": self.page_path(business),
                "name": business.name,
                "ordinal": 0,
                "duplicate_of": None,
                "stale_address": False,
                "defect": None,
                "since": business.since.isoformat(),
                "updated": business.updated.isoformat(),
                "claims": [],
                "reviews": shown,
                "aggregate": {
                    "value": business.rating,
                    "count": business.review_count,
                    "all_embedded": shown == business.review_count,
                },
                "locations": [{"office": 0, "precision": "coordinates"}],
                "shown_reviews": [
                    {
                        "author": r.author,
                        "rating": r.rating,
                        "published": r.published.isoformat(),
                    }
                    for r in business.reviews
                ],
            }
        ]

    def truth_summary(self) -> dict[str, Any]:
        """What the platform publishes, in counts."""
        businesses = self.directory.businesses
        return {
            "kind": "review_platform",
            "records": len(businesses),  # what its API reads out, one per business
            "businesses": len(businesses),
            "group_businesses": sum(b.group for b in businesses),
            "people": sum(len(b.members) for b in businesses),
            "reviews": sum(len(b.reviews) for b in businesses),
            "aggregate_reviews": sum(b.review_count for b in businesses),
        }
