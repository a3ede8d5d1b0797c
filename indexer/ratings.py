"""Reviews and ratings: per-source scores, copies counted once, one fair combined score.

The combined score is a Bayesian average with a stated prior: every therapist starts with
``PRIOR_WEIGHT`` imaginary reviews of ``PRIOR_MEAN`` stars, and each real review moves the score
away from that prior::

    combined = (PRIOR_WEIGHT * PRIOR_MEAN + sum of ratings) / (PRIOR_WEIGHT + number of ratings)

So a 5.0 from 2 reviews (4.43) ranks below a 4.7 from 180 (4.69), and a site that shows only a few
reviews cannot dominate one that shows many. The prior is fixed rather than learnt from the data so
that a profile's score depends on its own reviews only (and an incremental index build rewrites
only the profiles whose reviews changed).

Each review counts once: the same text copied onto several sites is detected (folded text) and
kept on the site where it appeared first. A source whose individual reviews were not crawled
contributes its published aggregate (value x count) instead.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from indexer.taxonomy import fold

PRIOR_MEAN = 4.0
PRIOR_WEIGHT = 5.0
MIN_COPY_TEXT = 40  # shorter texts ("Great massage!") repeat by chance, not by copying


@dataclass(frozen=True, slots=True)
class ReviewFact:
    """One review of a therapist, normalised: rating on 0-5, date, where it was seen."""

    id: str
    source: str
    url: str
    author: str | None
    rating: float | None
    published: date | None
    body: str | None


@dataclass(frozen=True, slots=True)
class AggregateFact:
    """A rating a source publishes for a listing without (all) its reviews."""

    source: str
    rating: float
    count: int


@dataclass
class SourceRating:
    """One source's view of a therapist."""

    rating: float | None
    count: int
    latest: str | None  # ISO date of the newest review from this source
    from_reviews: bool  # computed from crawled reviews (else the source's own aggregate)


@dataclass
class RatingSummary:
    """Everything a profile shows about ratings."""

    combined: float | None
    review_count: int
    by_source: dict[str, SourceRating] = field(default_factory=dict)
    distribution: dict[str, int] = field(default_factory=dict)  # "1".."5" -> unique reviews
    copies: dict[str, list[str]] = field(default_factory=dict)  # review id -> copy ids


def copy_key(body: str | None) -> str | None:
    """Return the key under which copies of a review's text collide (None if too short)."""
    text = fold(body or "")
    if len(text) < MIN_COPY_TEXT:
        return None
    return hashlib.sha1(text.encode()).hexdigest()


def dedupe_reviews(reviews: list[ReviewFact]) -> tuple[list[ReviewFact], dict[str, list[str]]]:
    """Keep the first appearance of each copied text; return the kept reviews and the copies.

    "First" is the earliest publication date, then the source name, so the choice is stable.
    """
    kept: list[ReviewFact] = []
    copies: dict[str, list[str]] = defaultdict(list)
    first_by_key: dict[str, ReviewFact] = {}
    ordered = sorted(reviews, key=lambda r: (r.published or date.max, r.source, r.id))
    for review in ordered:
        key = copy_key(review.body)
        if key is not None and key in first_by_key:
            copies[first_by_key[key].id].append(review.id)
            continue
        if key is not None:
            first_by_key[key] = review
        kept.append(review)
    return kept, dict(copies)


def summarise(reviews: list[ReviewFact], aggregates: list[AggregateFact]) -> RatingSummary:
    """Per-source ratings and the combined Bayesian average of one therapist."""
    kept, copies = dedupe_reviews(reviews)
    by_source: dict[str, SourceRating] = {}
    per_source: dict[str, list[ReviewFact]] = defaultdict(list)
    for review in kept:
        per_source[review.source].append(review)
    total = 0.0
    count = 0
    for source, items in sorted(per_source.items()):
        rated = [r.rating for r in items if r.rating is not None]
        dates = [r.published for r in items if r.published is not None]
        by_source[source] = SourceRating(
            rating=round(sum(rated) / len(rated), 2) if rated else None,
            count=len(rated),
            latest=max(dates).isoformat() if dates else None,
            from_reviews=True,
        )
        total += sum(rated)
        count += len(rated)
    # A source's own aggregate stands in for it only where none of its reviews were crawled.
    best_aggregate: dict[str, AggregateFact] = {}
    for aggregate in aggregates:
        if aggregate.source in per_source or aggregate.count <= 0:
            continue
        current = best_aggregate.get(aggregate.source)
        if current is None or aggregate.count > current.count:
            best_aggregate[aggregate.source] = aggregate
    for source, aggregate in sorted(best_aggregate.items()):
        by_source[source] = SourceRating(
            rating=round(aggregate.rating, 2),
            count=aggregate.count,
            latest=None,
            from_reviews=False,
        )
        total += aggregate.rating * aggregate.count
        count += aggregate.count
    combined = None
    if count:
        combined = round((PRIOR_WEIGHT * PRIOR_MEAN + total) / (PRIOR_WEIGHT + count), 3)
    distribution = Counter(
        str(min(5, max(1, int(r.rating + 0.5)))) for r in kept if r.rating is not None
    )
    return RatingSummary(
        combined=combined,
        review_count=count,
        by_source=by_source,
        distribution={str(s): distribution.get(str(s), 0) for s in range(1, 6)},
        copies=copies,
    )
