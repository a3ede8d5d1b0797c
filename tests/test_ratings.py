"""The combined rating: a Bayesian average with a stated prior, each review counted once."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert summary.by_source["pages"].basis == "published"
    assert summary.by_source["atlas"].basis == "reviews"
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


def test_a_published_aggregate_is_the_sources_rating_not_its_few_embedded_reviews() -> None:
    # A page shows "4.7 from 112 reviews" and embeds one 5-star review.
    embedded = review("y1", "yelp", 5.0, "2024-01-01")
    summary = summarise([embedded], [AggregateFact("yelp", 4.7, 112)])
    yelp = summary.by_source["yelp"]
    assert (yelp.rating, yelp.count, yelp.basis) == (4.7, 112, "published")
    assert (yelp.reviews_crawled, yelp.reviews_average) == (1, 5.0)
    assert yelp.latest == "2024-01-01"
    # Counted once, with its published count: (5*4 + 4.7*112) / (5 + 112) = 546.4 / 117
    assert summary.review_count == 112
    assert summary.combined == pytest.approx(546.4 / 117, abs=0.001)


def test_a_published_score_stands_for_its_site_even_with_every_review_crawled() -> None:
    reviews = [review(f"r{i}", "guild", 4.0 + (i % 2), f"2024-01-0{i + 1}") for i in range(4)]
    summary = summarise(reviews, [AggregateFact("guild", 4.5, 4)])
    guild = summary.by_source["guild"]
    assert (guild.rating, guild.count, guild.basis, guild.note) == (4.5, 4, "published", None)
    assert (guild.reviews_crawled, guild.reviews_average) == (4, 4.5)
    assert summary.review_count == 4


def test_a_site_whose_reviews_disagree_with_its_score_shows_its_score_and_says_so() -> None:
    reviews = [review(f"r{i}", "guild", 3.0, f"2024-01-0{i + 1}") for i in range(3)]
    summary = summarise(reviews, [AggregateFact("guild", 4.8, 3)])
    guild = summary.by_source["guild"]
    assert (guild.rating, guild.basis) == (4.8, "published")
    assert guild.note is not None and "3.00" in guild.note and "4.8" in guild.note
    # Within the site's rounding (Yelp's half stars), no note.
    halves = [review(f"h{i}", "yelp", s, "2024-01-01") for i, s in enumerate((3.0, 4.0, 4.0))]
    assert summarise(halves, [AggregateFact("yelp", 3.5, 3)]).by_source["yelp"].note is None


@settings(max_examples=200, deadline=None)
@given(
    stars=st.lists(st.integers(1, 5), min_size=1, max_size=8),
    published=st.integers(2, 10).map(lambda n: n / 2),
    extra=st.integers(0, 200),
)
def test_a_sites_row_always_shows_the_score_and_count_it_publishes(
    stars: list[int], published: float, extra: int
) -> None:
    reviews = [review(f"r{i}", "yelp", float(s), "2024-01-01") for i, s in enumerate(stars)]
    count = len(stars) + extra
    row = summarise(reviews, [AggregateFact("yelp", published, count)]).by_source["yelp"]
    assert (row.rating, row.count, row.basis) == (published, count, "published")


def test_of_two_listings_on_one_source_the_aggregate_with_more_reviews_counts() -> None:
    summary = summarise([], [AggregateFact("atlas", 4.0, 3), AggregateFact("atlas", 4.6, 50)])
    assert (summary.by_source["atlas"].rating, summary.by_source["atlas"].count) == (4.6, 50)
    assert summary.review_count == 50


def test_no_reviews_no_score() -> None:
    assert summarise([], []).combined is None
