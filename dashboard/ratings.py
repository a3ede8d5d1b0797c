"""How ratings read: the combined score on a card, and each source's rating with what it rests on.

A source's rating is either the aggregate the source itself publishes (``basis`` "published":
"4.7 from 112 (published by the site; 3 reviews shown here)") or computed from every one of its
reviews, all crawled (``basis`` "reviews": "4.5 from 12 reviews"). The two are never presented
alike: a published figure rests on reviews this directory has mostly not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dashboard.formatting import MISSING, format_date, format_rating, plural, stars
from dashboard.markup import plain_text
from indexer.profile import Rating, SourceRating
from indexer.ratings import PRIOR_MEAN, PRIOR_WEIGHT

COMBINED_SITE = "Combined (tdir)"


def format_score(value: float | None) -> str:
    """A score as people write it: "4.7", "4.67", "5.0"; an en dash when there is none."""
    if value is None:
        return MISSING
    one_decimal = f"{value:.1f}"
    return one_decimal if abs(value - float(one_decimal)) < 0.005 else f"{value:.2f}"


def source_rating_text(rating: SourceRating) -> str:
    """What one source's rating rests on, in words.

    "4.7 from 112 (published by the site; 3 reviews shown here)" for a published aggregate,
    "4.5 from 12 reviews" for one computed from the source's reviews."""
    score = format_score(rating.rating)
    if rating.basis == "published":
        shown = plural(rating.reviews_crawled, "review") if rating.reviews_crawled else "no reviews"
        return f"{score} from {rating.count:,} (published by the site; {shown} shown here)"
    return f"{score} from {plural(rating.count, 'review')}"


def source_rating_cell(rating: SourceRating | None) -> str:
    """A short form for a table cell: "4.7 from 112 (published)" or "4.5 from 12 reviews"."""
    if rating is None or not rating.count:
        return MISSING
    score = format_score(rating.rating)
    if rating.basis == "published":
        return f"{score} from {rating.count:,} (published)"
    return f"{score} from {plural(rating.count, 'review')}"


def source_rows(rating: Rating, title_of: Callable[[str], str] = str) -> list[dict[str, Any]]:
    """One row per source (named by ``title_of``), then the combined score: the profile's
    "Ratings by site" table."""
    rows: list[dict[str, Any]] = [
        {
            "Site": plain_text(title_of(source)),
            "Score": values.rating,
            "Stars": stars(values.rating),
            "Rating": source_rating_text(values),
            "Note": plain_text(values.note, max_length=300),
            "Newest review shown": format_date(values.latest) or MISSING,
        }
        for source, values in sorted(rating.by_source.items())
    ]
    rows.append(
        {
            "Site": COMBINED_SITE,
            "Score": rating.combined,
            "Stars": stars(rating.combined),
            "Rating": f"{format_score(rating.combined)} from "
            f"{plural(rating.review_count, 'rating')} on all sites, copies counted once",
            "Note": "",
            "Newest review shown": "",
        }
    )
    return rows


def combined_arithmetic(rating: Rating) -> str | None:
    """The combined score worked out for this therapist, in words and numbers.

    "5 imaginary reviews of 4.0 + 112 ratings averaging 4.70 = (20.0 + 526.4) / 117 = 4.67".
    The average is recovered from the stored combined score, so it agrees with it to the shown
    precision; None without ratings.
    """
    if rating.combined is None or not rating.review_count:
        return None
    n = rating.review_count
    total = rating.combined * (PRIOR_WEIGHT + n) - PRIOR_WEIGHT * PRIOR_MEAN
    return (
        f"{PRIOR_WEIGHT:g} imaginary reviews of {PRIOR_MEAN:.1f} + "
        f"{plural(n, 'rating')} averaging {total / n:.2f} = "
        f"({PRIOR_WEIGHT * PRIOR_MEAN:.1f} + {total:.1f}) / {PRIOR_WEIGHT + n:g} = "
        f"{format_score(rating.combined)}"
    )


def distribution_counts(rating: Rating) -> list[int]:
    """How many crawled reviews gave 5, 4, 3, 2 and 1 stars (in that order)."""
    return [int(rating.distribution.get(s) or 0) for s in ("5", "4", "3", "2", "1")]


def rating_line(rating: Rating) -> str:
    """ "★★★★☆ 4.22 · 4 reviews" (markdown), or "No reviews yet"."""
    combined, count = rating.combined, rating.review_count
    if combined is None or not count:
        return ":gray[No reviews yet]"
    return f":orange[{stars(combined)}] **{format_rating(combined)}** · {plural(count, 'review')}"
