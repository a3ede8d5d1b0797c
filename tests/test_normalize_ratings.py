"""Ratings from each source's scale onto one 0-5 scale (share of the best value, times 5)."""

from __future__ import annotations

import math

import pytest

from crawler.extract.ratings import parse_rating
from crawler.items import Rating
from indexer.normalize.ratings import rating_to_five


@pytest.mark.parametrize(
    ("raw", "stars"),
    [
        ("4.5/5", 4.5),
        ("4,5", 4.5),
        ("4.5 out of 5", 4.5),
        ("9/10", 4.5),
        ("90%", 4.5),
        ("★★★★☆", 4.0),
        ("★★★★½", 4.5),
        ("7/10", 3.5),
        ("1", 1.0),
    ],
)
def test_source_scales_map_onto_five(raw: str, stars: float) -> None:
    assert rating_to_five(parse_rating(raw)).value.stars == stars


def test_a_five_point_scale_maps_unchanged_despite_worst_rating_one() -> None:
    assert rating_to_five(Rating("4.5", 4.5, best=5, worst=1)).value.stars == 4.5
    assert rating_to_five(Rating("1", 1.0, best=5, worst=1)).value.stars == 1.0


def test_a_hundred_point_scale_and_a_three_point_scale() -> None:
    assert rating_to_five(Rating("86", 86, best=100, worst=0)).value.stars == 4.3
    assert rating_to_five(Rating("2", 2, best=3, worst=1)).value.stars == pytest.approx(10 / 3)


def test_the_count_travels_with_the_score() -> None:
    result = rating_to_five(Rating("4.7", 4.7, count=180))
    assert (result.value.stars, result.value.count) == (4.7, 180)


@pytest.mark.parametrize(
    ("rating", "reason"),
    [
        (Rating("7", 7.0, best=5, worst=1), "out_of_scale"),
        (Rating("-1", -1.0, best=5, worst=1), "out_of_scale"),
        (Rating("0", 0.0, best=5, worst=1), "out_of_scale"),
        (Rating("great!", None), "unparsed_rating"),
        (Rating("3", 3.0, best=1, worst=5), "invalid_scale"),
        (Rating("3", 3.0, best=5, worst=5), "invalid_scale"),
        (Rating("0", 0.0, best=2, worst=-2), "invalid_scale"),
        (Rating("nan", math.nan, best=5, worst=1), "out_of_scale"),
        (Rating("4", 4.0, best=math.inf, worst=1), "invalid_scale"),
    ],
)
def test_impossible_ratings_give_none_and_a_reason(rating: Rating, reason: str) -> None:
    result = rating_to_five(rating, field="review.rating")
    assert result.value is None
    assert [(f.field, f.reason, f.raw) for f in result.flags] == [
        ("review.rating", reason, rating.raw)
    ]


def test_a_negative_count_is_dropped_but_the_score_kept() -> None:
    result = rating_to_five(Rating("4", 4.0, count=-3))
    assert (result.value.stars, result.value.count) == (4.0, None)
    assert [f.reason for f in result.flags] == ["invalid_count"]


def test_no_rating_is_not_a_problem() -> None:
    result = rating_to_five(None)
    assert (result.value, result.flags) == (None, ())
