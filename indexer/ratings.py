"""Reviews and ratings: per-source scores, copies counted once, one fair combined score.

The combined score is a Bayesian average with a stated prior: every therapist starts with
``PRIOR_WEIGHT`` imaginary reviews of ``PRIOR_MEAN`` stars, and each real review moves the score
away from that prior::

    combined = (PRIOR_WEIGHT * PRIOR_MEAN + sum of ratings) / (PRIOR_WEIGHT + number of ratings)

So a 5.0 from 2 reviews (4.43) ranks below a 4.7 from 180 (4.69), and a site that shows only a few
reviews cannot dominate one that shows many. The prior is fixed rather than learnt from the data so
that a profile's score depends on its own reviews only (and an incremental index build rewrites
only the profiles whose reviews changed).

A source that publishes an aggregate ("4.7 from 112 reviews") contributes that value x count,
and its rating is that figure, also when all its reviews were crawled: the few reviews a page
embeds are a sample, and a site's own score may rest on reviews it does not show. Only a source
that publishes no score contributes its reviews one by one; then the same text copied onto
several sites is detected (folded text) and counted once, on the site where it appeared first.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from indexer.profile import SourceRating
from indexer.taxonomy import fold_text

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
    author_url: str | None = None  # the author's page, where the source links it


@dataclass(frozen=True, slots=True)
class AggregateFact:
    """The aggregate rating a source publishes for a listing: value on 0-5 and its count."""

    source: str
    rating: float
    count: int


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
    text = fold_text(body or "")
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


# Sites publish their score rounded (Yelp and Google to the half or tenth of a star): a crawled
# average within this of it agrees with it.
PUBLISHED_ROUNDING = 0.25


def _disagreement(
    aggregate: AggregateFact, rated: list[float], average: float | None
) -> str | None:
    """A note when every review of the source was crawled and their average is not the score
    the source publishes (reviews the site hides from its page, or a stale figure)."""
    if average is None or len(rated) < aggregate.count:
        return None
    if abs(aggregate.rating - average) <= PUBLISHED_ROUNDING:
        return None
    return (
        f"its {len(rated)} reviews average {average:.2f}; the site's own score, "
        f"{aggregate.rating:.1f}, is the one shown"
    )


def summarise(reviews: list[ReviewFact], published: list[AggregateFact]) -> RatingSummary:
    """Per-source ratings and the combined Bayesian average of one therapist.

    A source's rating is the aggregate it publishes ("4.7 from 112"), which counts with its
    published count; its crawled reviews are shown and dated, and noted where they are all of
    them and disagree with it. A source publishing no aggregate is rated by its reviews. Copies
    of one text on several sites count once, on the site where it appeared first.
    """
    kept, copies = dedupe_reviews(reviews)
    crawled: dict[str, list[ReviewFact]] = defaultdict(list)
    for review in reviews:
        crawled[review.source].append(review)
    unique: dict[str, list[float]] = defaultdict(list)
    for review in kept:
        if review.rating is not None:
            unique[review.source].append(review.rating)
    # One listing's aggregate per source: the one backed by most reviews (a source listing one
    # therapist twice publishes two figures for one person).
    aggregates: dict[str, AggregateFact] = {}
    for fact in published:
        current = aggregates.get(fact.source)
        if fact.count > 0 and (current is None or fact.count > current.count):
            aggregates[fact.source] = fact
    by_source: dict[str, SourceRating] = {}
    total = 0.0
    count = 0
    for source in sorted(set(crawled) | set(aggregates)):
        held = crawled.get(source, [])
        rated = [r.rating for r in held if r.rating is not None]
        dates = [r.published for r in held if r.published is not None]
        average = round(sum(rated) / len(rated), 2) if rated else None
        aggregate = aggregates.get(source)
        latest = max(dates).isoformat() if dates else None
        if aggregate is not None:
            by_source[source] = SourceRating(
                rating=round(aggregate.rating, 2),
                count=aggregate.count,
                latest=latest,
                basis="published",
                reviews_crawled=len(held),
                reviews_average=average,
                note=_disagreement(aggregate, rated, average),
            )
            total += aggregate.rating * aggregate.count
            count += aggregate.count
            continue
        if not rated:
            continue
        by_source[source] = SourceRating(
            rating=average,
            count=len(rated),
            latest=latest,
            basis="reviews",
            reviews_crawled=len(held),
            reviews_average=average,
        )
        total += sum(unique[source])
        count += len(unique[source])
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
