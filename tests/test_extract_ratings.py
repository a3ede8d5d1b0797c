"""Rating text in the forms review sites write it, parsed on the source's own scale."""

from __future__ import annotations

import pytest

from crawler.extract.ratings import parse_rating


@pytest.mark.parametrize(
    ("raw", "value", "best", "worst"),
    [
        ("4.5/5", 4.5, 5.0, 1.0),
        ("4,5", 4.5, 5.0, 1.0),
        ("4,5/5", 4.5, 5.0, 1.0),
        ("4.5 out of 5", 4.5, 5.0, 1.0),
        ("Rated 4.8 out of 5 stars", 4.8, 5.0, 1.0),
        ("★★★★☆", 4.0, 5.0, 1.0),
        ("★★★★½", 4.5, 5.0, 1.0),
        ("★★★☆☆☆☆☆☆☆", 3.0, 10.0, 1.0),
        ("⭐⭐⭐⭐⭐", 5.0, 5.0, 1.0),
        ("9/10", 9.0, 10.0, 1.0),
        ("90%", 90.0, 100.0, 0.0),
        ("5 stars", 5.0, 5.0, 1.0),
        ("4", 4.0, 5.0, 1.0),
        (" 3.5 / 5.0 ", 3.5, 5.0, 1.0),
    ],
)
def test_rating_forms_parse_on_their_own_scale(raw: str, value: float, best: float, worst: float):
    rating = parse_rating(raw)
    assert (rating.value, rating.best, rating.worst) == (value, best, worst)
    assert rating.raw == raw.strip()


@pytest.mark.parametrize("raw", ["7/5", "6 stars", "120%", "0/5", "great!", "", "-1", "4.5/0"])
def test_impossible_or_unparseable_rating_keeps_raw_and_has_no_value(raw: str):
    rating = parse_rating(raw)
    assert rating.value is None
    assert rating.raw == raw


def test_declared_scale_is_used_and_not_rescaled():
    rating = parse_rating("8", best="10", worst="0")
    assert (rating.value, rating.best, rating.worst) == (8.0, 10.0, 0.0)


def test_numbers_from_structured_data_keep_their_written_form():
    assert parse_rating(4.5).raw == "4.5"
    assert parse_rating(5).raw == "5"
    assert parse_rating(4.0).value == 4.0


def test_scale_written_in_text_wins_over_the_default():
    assert parse_rating("9/10", best=5).best == 10.0


def test_count_is_carried_for_aggregate_ratings():
    assert parse_rating("4.7", count=180).count == 180


def test_none_rating_is_unparsed_with_empty_raw():
    rating = parse_rating(None)
    assert rating.value is None
    assert rating.raw == ""
