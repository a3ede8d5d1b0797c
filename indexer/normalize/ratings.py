"""Ratings from every source's own scale onto one 0-5 scale.

The score is the share of the scale's best value, times five: ``stars = value / best * 5``.
So a five-point scale maps unchanged (4.5 of 5 is 4.5), 9 of 10 is 4.5 and 90 % is 4.5, which
is how people read those scores. ``worst`` only bounds what is possible; it does not shift the
scale. A linear map of ``[worst, best]`` onto ``[0, 5]`` was rejected because schema.org's
default ``worstRating`` is 1, so it would turn every 4.5-of-5 into 4.375 and a one-star review
into zero. Scales below zero have no share reading and are flagged instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from crawler.items import Rating
from indexer.normalize.flags import Flag, Normalized

SCALE_TOP = 5.0


@dataclass(frozen=True, slots=True)
class FiveStarRating:
    """A rating on the common 0-5 scale, with the number of ratings behind it (aggregates)."""

    stars: float
    count: int | None = None


def rating_to_five(rating: Rating | None, *, field: str = "rating") -> Normalized[FiveStarRating]:
    """Return the rating on the 0-5 scale, or ``None`` with a flag saying why it cannot be.

    No rating at all gives ``None`` without a flag. Reasons: ``unparsed_rating`` (the source's
    text gave no number), ``invalid_scale`` (best not above worst, a negative or non-finite
    bound), ``out_of_scale`` (the value lies outside ``[worst, best]``). A negative review count
    is dropped and flagged ``invalid_count``; the score is still kept.
    """
    if rating is None:
        return Normalized(None)
    value, best, worst = rating.value, rating.best, rating.worst
    if value is None:
        return Normalized(None, (Flag(field, "unparsed_rating", rating.raw),))
    if not all(math.isfinite(x) for x in (best, worst)) or worst < 0 or best <= worst:
        detail = f"scale {worst:g}..{best:g}"
        return Normalized(None, (Flag(field, "invalid_scale", rating.raw, detail),))
    if not math.isfinite(value) or not worst <= value <= best:
        detail = f"{value:g} is outside {worst:g}..{best:g}"
        return Normalized(None, (Flag(field, "out_of_scale", rating.raw, detail),))
    flags: tuple[Flag, ...] = ()
    count = rating.count
    if count is not None and count < 0:
        flags = (Flag(f"{field}.count", "invalid_count", str(count)),)
        count = None
    # Rounding removes float noise (0.7 / 1 * 5 = 3.5000000000000004) without losing detail.
    stars = round(value / best * SCALE_TOP, 6)
    return Normalized(FiveStarRating(stars, count), flags)
