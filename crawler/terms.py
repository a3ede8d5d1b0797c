"""A source's storage and display terms, as its catalog entry states them.

An official API's terms say what of its content may be kept, for how long, and how a page that
shows it must credit it. Google lets the place id be stored indefinitely and other content only
for a limited time, and wants "Google Maps" and each review's author credited
(https://developers.google.com/maps/documentation/places/web-service/policies); Yelp lets its
business ids be kept, limits how long other content may be, and wants its name and a link back to
the business's Yelp page wherever its content shows (https://terms.yelp.com/developers/api_terms/).
The catalog states a source's terms as data::

    terms:
      keep_forever: [id]       what may be stored indefinitely: the provider's id
      refresh_within: 30d      how long anything else may be stored and served after it was
                               fetched (m, h, d or w)
      attribution:
        name: Google Maps      what a page showing the content credits it to
        links: [review_author] which links it shows: business_page (the provider's page of the
                               business), review (the review there), review_author (its author)

The indexer serves nothing of a source's records older than ``refresh_within``
(:mod:`indexer.terms`); what ``keep_forever`` names stays in the crawl store, so the source's
next crawl refreshes the business. The dashboard shows the attribution wherever the content is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crawler.errors import CatalogError

KEEPABLE = ("id",)  # fields a source's records keep that terms may let be stored indefinitely
LINKS = ("business_page", "review", "review_author")
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True, slots=True)
class Attribution:
    """How a page showing a source's content credits it."""

    name: str
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StorageTerms:
    """What of a source's content may be kept, for how long, and how it is credited."""

    keep_forever: tuple[str, ...] = ()
    refresh_within: timedelta | None = None
    attribution: Attribution | None = None

    def expired(self, fetched_at: datetime, now: datetime) -> bool:
        """Whether content fetched at ``fetched_at`` may no longer be stored or served."""
        return self.refresh_within is not None and now - fetched_at > self.refresh_within


def parse_terms(raw: Any, where: str) -> StorageTerms | None:
    """Read a catalog entry's ``terms`` (None when it states none); CatalogError names the
    source and the field that is wrong."""
    if raw is None:
        return None
    where = f"{where}: terms"
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where} must be a mapping (keep_forever, refresh_within, attribution)")
    unknown = set(raw) - {"keep_forever", "refresh_within", "attribution"}
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    keep = raw.get("keep_forever") or []
    if not isinstance(keep, list) or not all(k in KEEPABLE for k in keep):
        raise CatalogError(f"{where}.keep_forever must be a list of {', '.join(KEEPABLE)}")
    within = raw.get("refresh_within")
    return StorageTerms(
        keep_forever=tuple(keep),
        refresh_within=None
        if within is None
        else parse_duration(within, f"{where}.refresh_within"),
        attribution=_attribution(raw.get("attribution"), f"{where}.attribution"),
    )


def parse_duration(raw: Any, where: str) -> timedelta:
    """``30d``, ``24h``, ``2w`` or ``90m`` as a duration; CatalogError otherwise."""
    match = _DURATION.match(str(raw))
    if not match or int(match[1]) == 0:
        raise CatalogError(f"{where}: {raw!r} is not a duration like 24h or 30d")
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def _attribution(raw: Any, where: str) -> Attribution | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not str(raw.get("name") or "").strip():
        raise CatalogError(f"{where} must give a name, e.g. {{name: Yelp, links: [business_page]}}")
    links = raw.get("links") or []
    if not isinstance(links, list) or not all(link in LINKS for link in links):
        raise CatalogError(f"{where}.links must be a list of {', '.join(LINKS)}")
    return Attribution(name=str(raw["name"]).strip(), links=tuple(links))
