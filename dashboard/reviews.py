"""Choosing and ordering a profile's reviews for reading."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from indexer.profile import ReviewEntry

ReviewOrder = Literal["newest", "oldest", "highest", "lowest"]
ORDER_LABELS: dict[str, str] = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "highest": "Highest rated first",
    "lowest": "Lowest rated first",
}


def review_sources(reviews: Iterable[ReviewEntry]) -> list[str]:
    """The sources the reviews come from, most reviews first."""
    counts: dict[str, int] = {}
    for review in reviews:
        source = review.source or "unknown"
        counts[source] = counts.get(source, 0) + 1
    return sorted(counts, key=lambda s: (-counts[s], s))


def select_reviews(
    reviews: Iterable[ReviewEntry], sources: Iterable[str] | None, order: str
) -> list[ReviewEntry]:
    """The reviews from the given sources (all when None), in the asked order.

    Undated reviews go last whatever the date order, and unrated ones last whatever the rating
    order; ties keep the newest first.
    """
    wanted = None if sources is None else set(sources)
    chosen = [r for r in reviews if wanted is None or (r.source or "unknown") in wanted]
    by_date = sorted(chosen, key=lambda r: r.published or "", reverse=True)
    dated = [r for r in by_date if r.published]
    undated = [r for r in by_date if not r.published]
    if order == "oldest":
        return dated[::-1] + undated
    if order in ("highest", "lowest"):
        rated = [r for r in by_date if r.rating is not None]
        unrated = [r for r in by_date if r.rating is None]
        sign = -1 if order == "highest" else 1
        # sorted() is stable, so equal ratings stay newest first.
        return sorted(rated, key=lambda r: sign * float(r.rating or 0.0)) + unrated
    return dated + undated
