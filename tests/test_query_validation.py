"""Bad queries get a clear error naming the field, before any backend sees them."""

from __future__ import annotations

from typing import Any

import pytest

from indexer.geo import KM_PER_MILE, GeoPoint
from indexer.search import QueryError, SearchQuery, parse_radius
from indexer.search.query import best_match_score, encode_cursor


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"near": (30.0, -97.0), "radius_km": 0}, "radius", "greater than 0"),
        ({"near": (30.0, -97.0), "radius_km": -5}, "radius", "greater than 0"),
        ({"radius_km": 10}, "radius", "needs a point"),
        ({"near": (91.0, 0.0)}, "near", "latitude"),
        ({"near": (0.0, -181.0)}, "near", "longitude"),
        ({"near": "austin"}, "near", "bad point"),
        ({"sort": "cheapest"}, "sort", "unknown sort 'cheapest'"),
        ({"sort": "distance"}, "sort", "needs a point"),
        ({"min_rating": 5.5}, "min_rating", "between 0 and 5"),
        ({"min_rating": -1}, "min_rating", "between 0 and 5"),
        ({"min_reviews": -2}, "min_reviews", ">= 0"),
        ({"modalities": ["underwater basket weaving"]}, "modalities", "unknown modality"),
        ({"conditions": ["broken heart"]}, "conditions", "unknown condition"),
        ({"credentials": ["PhD in vibes"]}, "credentials", "unknown credential"),
        ({"state": "Texas"}, "state", "not a US state code"),
        ({"state": "ZZ"}, "state", "not a US state code"),
        ({"page_size": 0}, "page_size", "between 1"),
        ({"page_size": 1000}, "page_size", "between 1"),
        ({"cursor": "not-a-cursor!"}, "cursor", "not a cursor"),
        ({"text": "x" * 501}, "text", "longer than 500"),
        ({"flagged": ["suspicious"]}, "flagged", "unknown flag kind 'suspicious'"),
    ],
)
def test_invalid_query_names_the_field(kwargs: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(QueryError) as err:
        SearchQuery(**kwargs)
    assert err.value.field == field
    assert words in str(err.value)


def test_valid_query_is_normalised() -> None:
    query = SearchQuery(
        near=(30.25, -97.75),
        radius_km=5,
        modalities=["NMT", "neuromuscular"],
        credentials="bctmb",
        state=" tx ",
        sort="distance",
    )
    assert query.point == GeoPoint(30.25, -97.75)
    assert query.modalities == ("neuromuscular_therapy",)  # duplicates by synonym collapse
    assert query.credentials == ("bctmb",)
    assert query.state == "TX"
    assert SearchQuery(flagged="data").flagged == ("data",)
    assert SearchQuery(flagged=["data", "credential", "data"]).flagged == ("credential", "data")


@pytest.mark.parametrize(
    ("text", "km"),
    [("10mi", 16.09344), ("10 miles", 16.09344), ("15km", 15.0), ("2.5 KM", 2.5), ("10", 16.09344)],
)
def test_parse_radius(text: str, km: float) -> None:
    assert parse_radius(text) == pytest.approx(km)


@pytest.mark.parametrize("text", ["", "ten miles", "10 parsecs", "-5km"])
def test_parse_radius_rejects_nonsense(text: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_radius(text)
    assert err.value.field == "radius"


def test_text_is_split_into_vocabulary_and_words() -> None:
    plan = SearchQuery(
        text="Neuro-Muscular therapy for TMJ, Jane", modalities=["deep tissue"]
    ).plan()
    assert plan.modalities == ("deep_tissue", "neuromuscular_therapy")
    assert plan.conditions == ("tmj",)
    assert plan.words == ("for", "jane")
    # The terms' own words, and their labels, score without being required.
    assert {"neuro", "muscular", "tmj"} <= set(plan.term_words)
    assert "jane" not in plan.term_words
    assert "neuromuscular therapy" in plan.term_phrases


def test_a_term_alone_is_optional_text() -> None:
    plan = SearchQuery(text="trigger point").plan()
    assert plan.words == ()
    assert plan.modalities == ("trigger_point_therapy",)
    assert plan.term_words == ("trigger", "point")
    assert plan.term_phrases == ("trigger point therapy",)
    assert plan.has_text
    assert not SearchQuery(text="  ").plan().has_text


def test_best_match_ranks_only_a_search_near_a_place_without_text() -> None:
    assert SearchQuery(near=(30.0, -97.0)).ranked_by_best_match
    assert not SearchQuery(near=(30.0, -97.0), text="garcia").ranked_by_best_match
    assert not SearchQuery(near=(30.0, -97.0), sort="rating").ranked_by_best_match
    assert not SearchQuery().ranked_by_best_match


def test_one_identity_names_a_search_and_the_cursor_its_page() -> None:
    first = SearchQuery(near=(30.25, -97.75), modalities=["NMT"], sort="rating", page_size=5)
    same = SearchQuery(
        near=GeoPoint(30.25, -97.75),
        modalities=["neuromuscular therapy"],
        sort="rating",
        page_size=5,
    )
    other = SearchQuery(near=(30.25, -97.75), modalities=["NMT"], sort="reviews", page_size=5)
    assert first.identity() == same.identity() != other.identity()
    assert first.fingerprint() == same.fingerprint() != other.fingerprint()
    assert first.cache_key() == same.cache_key() != other.cache_key()
    hash(first.cache_key())  # a cache can key on it
    cursor = encode_cursor(first.fingerprint(), [4.8, 120, "p01"])
    page_two = SearchQuery(
        near=(30.25, -97.75), modalities=["NMT"], sort="rating", page_size=5, cursor=cursor
    )
    # The same search (a cursor continues it), another page (a cache keeps both).
    assert page_two.fingerprint() == first.fingerprint()
    assert page_two.cache_key() != first.cache_key()


@pytest.mark.parametrize(
    ("rating", "distance", "expected"),
    [
        (5.0, 0.0, 1.0),
        (4.0, 0.0, 0.8),
        (None, 0.0, 0.8),  # unrated: the rating prior, 4.0
        (5.0, 10 * KM_PER_MILE, 0.5),  # half weight at 10 miles
        (5.0, 20 * KM_PER_MILE, 0.5**4),  # gaussian: a sixteenth at 20 miles
        (4.5, None, 0.0),  # no location
        (5.0, 500.0, 0.0),  # beyond a 32-bit float's reach
    ],
)
def test_best_match_score(rating: float | None, distance: float | None, expected: float) -> None:
    assert best_match_score(rating, distance) == pytest.approx(expected, rel=1e-6)
