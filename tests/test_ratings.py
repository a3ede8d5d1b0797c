"""The combined rating: a Bayesian average with a stated prior, each review counted once."""

from __future__ import annotations

from datetime import date

import pytest

from indexer.ratings import (
    PRIOR_MEAN,
    PRIOR_WEIGHT,
    AggregateFact,
    ReviewFact,
    dedupe_reviews,
    summarise,
)

LONG = "Fantastic neuromuscular work on my shoulder, I could turn my head again after one visit."


def review(rid: str, source: str, rating: float, day: str, body: str = "") -> ReviewFact:
    return ReviewFact(
        rid,
        source,
        f"http://{source}/{rid}",
        "A. Reviewer",
        rating,
        date.fromisoformat(day),
        body or f"review {rid} " + "x" * 40 + rid,
    )


def test_the_prior_is_what_the_readme_states() -> None:
    assert (PRIOR_MEAN, PRIOR_WEIGHT) == (4.0, 5.0)


def test_few_perfect_reviews_rank_below_many_good_ones() -> None:
    few = summarise([review("a", "s1", 5, "2024-01-01"), review("b", "s1", 5, "2024-01-02")], [])
    # (5*4 + 10) / (5 + 2) = 30/7 = 4.2857
    assert few.combined == pytest.approx(4.286, abs=0.001)
    many = summarise([], [AggregateFact("s2", 4.7, 180)])
    # (5*4 + 4.7*180) / (5 + 180) = 866/185 = 4.6811
    assert many.combined == pytest.approx(4.681, abs=0.001)
    assert many.combined > few.combined


def test_per_source_scores_and_the_combined_score_by_hand() -> None:
    reviews = [
        review("a1", "atlas", 5.0, "2024-03-01"),
        review("a2", "atlas", 4.0, "2024-05-01"),
        review("r1", "reviews", 3.5, "2025-01-10"),
    ]
    summary = summarise(reviews, [AggregateFact("pages", 4.0, 3)])
    assert summary.by_source["atlas"].rating == 4.5
    assert summary.by_source["atlas"].count == 2
    assert summary.by_source["atlas"].latest == "2024-05-01"
    assert summary.by_source["reviews"].rating == 3.5
    assert summary.by_source["pages"].from_reviews is False
    # (5*4 + 5 + 4 + 3.5 + 4*3) / (5 + 3 + 3) = 44.5 / 11 = 4.04545...
    assert summary.combined == pytest.approx(4.045, abs=0.001)
    assert summary.review_count == 6
    assert summary.distribution == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}  # 3.5 rounds up


def test_a_copied_review_counts_once_and_stays_where_it_appeared_first() -> None:
    original = review("g1", "guild", 5.0, "2023-06-01", LONG)
    copy = review("k1", "reviews", 5.0, "2024-02-01", LONG.upper() + "  ")
    kept, copies = dedupe_reviews([copy, original])
    assert [r.id for r in kept] == ["g1"]
    assert copies == {"g1": ["k1"]}
    assert summarise([copy, original], []).review_count == 1


def test_short_identical_texts_are_not_taken_for_copies() -> None:
    a = review("a", "s1", 5, "2024-01-01", "Great massage!")
    b = review("b", "s2", 5, "2024-01-02", "Great massage!")
    assert len(dedupe_reviews([a, b])[0]) == 2


def test_an_aggregate_does_not_double_count_a_source_whose_reviews_were_crawled() -> None:
    summary = summarise([review("a", "atlas", 5, "2024-01-01")], [AggregateFact("atlas", 4.9, 40)])
    assert summary.by_source["atlas"].count == 1
    assert summary.review_count == 1


def test_no_reviews_no_score() -> None:
    assert summarise([], []).combined is None
