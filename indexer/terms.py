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

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial

from crawler.catalog import source_terms
from crawler.items import Provenance
from crawler.terms import StorageTerms
from indexer.snapshots import SourceSnapshot


def catalog_terms() -> dict[str, StorageTerms]:
    """The terms every source of the catalog states (``TDIR_CATALOG``, else the packaged one);
    CatalogError when the catalog cannot be read: a build must not serve what it may not."""
    return source_terms()


def withdraw_expired(
    snapshot: SourceSnapshot,
    terms: Mapping[str, StorageTerms],
    now: datetime,
) -> dict[str, int]:
    """Take every record past its source's ``refresh_within`` out of one source's snapshot.

    Returns how many ``listing`` and ``review`` records went (empty when none did). A record
    whose fetch time cannot be read is taken for expired: nothing shows that it may still be
    served.
    """
    stated = terms.get(snapshot.source)
    if stated is None or stated.refresh_within is None:
        return {}
    listings = [
        lid for lid, item in snapshot.listings.items() if _past(item.provenance, stated, now)
    ]
    for listing_id in listings:
        del snapshot.listings[listing_id]
        snapshot.vanished.discard(listing_id)
        snapshot.in_doubt.discard(listing_id)
    reviews = [rid for rid, item in snapshot.reviews.items() if _past(item.provenance, stated, now)]
    for review_id in reviews:
        del snapshot.reviews[review_id]
    if not (listings or reviews):
        return {}
    return {"listing": len(listings), "review": len(reviews)}


def past_terms(
    source: str, terms: Mapping[str, StorageTerms], now: datetime
) -> Callable[[Provenance], bool]:
    """Whether a record of ``source`` fetched as its provenance says is past the source's
    terms as of ``now``: the same judgement as :func:`withdraw_expired`, one record at a time,
    for records a build does not hold in a snapshot."""
    stated = terms.get(source)
    if stated is None or stated.refresh_within is None:
        return lambda _provenance: False
    return partial(_past, terms=stated, now=now)


def _past(provenance: Provenance, terms: StorageTerms, now: datetime) -> bool:
    try:
        fetched = datetime.fromisoformat(provenance.fetched_at)
    except (TypeError, ValueError):
        return True
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=UTC)
    return terms.expired(fetched, now)
