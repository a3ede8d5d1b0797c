"""Sources' storage terms, obeyed by every index build: content past its time is not served.

A source whose catalog entry limits how long its content may be stored and served
(``terms: {refresh_within: ...}``, :mod:`crawler.terms`) has each of its records weighed
against the build's clock: a listing or a review fetched longer ago than that is left out of the
build, so no profile, search document, rating or review shows it, and the build counts it. What
the terms let be kept for ever, the provider's id, stays in the crawl store, where the source's
next crawl finds it and fetches the business again (:mod:`crawler.spiders.api_base`); the next
build serves the fresh copy. This is the one place terms are applied: everything downstream
(resolution, ratings, profiles, both search backends) only ever sees what is left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from crawler.catalog import source_terms
from crawler.items import Provenance
from crawler.terms import StorageTerms
from indexer.snapshots import SourceSnapshot


def catalog_terms() -> dict[str, StorageTerms]:
    """The terms every source of the catalog states (``TDIR_CATALOG``, else the packaged one);
    CatalogError when the catalog cannot be read: a build must not serve what it may not."""
    return source_terms()


def withdraw_expired(
    snapshots: Iterable[SourceSnapshot],
    terms: Mapping[str, StorageTerms],
    now: datetime | None = None,
) -> dict[str, dict[str, int]]:
    """Take every record past its source's ``refresh_within`` out of the snapshots.

    Returns, per source with something withdrawn, how many ``listing`` and ``review`` records
    went. A record whose fetch time cannot be read is taken for expired: nothing shows that it
    may still be served.
    """
    now = now or datetime.now(UTC)
    withdrawn: dict[str, dict[str, int]] = {}
    for snapshot in snapshots:
        stated = terms.get(snapshot.source)
        if stated is None or stated.refresh_within is None:
            continue
        listings = [
            lid for lid, item in snapshot.listings.items() if _past(item.provenance, stated, now)
        ]
        for listing_id in listings:
            del snapshot.listings[listing_id]
            snapshot.vanished.discard(listing_id)
            snapshot.in_doubt.discard(listing_id)
        reviews = [
            rid for rid, item in snapshot.reviews.items() if _past(item.provenance, stated, now)
        ]
        for review_id in reviews:
            del snapshot.reviews[review_id]
        if listings or reviews:
            withdrawn[snapshot.source] = {"listing": len(listings), "review": len(reviews)}
    return withdrawn


def _past(provenance: Provenance, terms: StorageTerms, now: datetime) -> bool:
    try:
        fetched = datetime.fromisoformat(provenance.fetched_at)
    except (TypeError, ValueError):
        return True
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    return terms.expired(fetched, now)
