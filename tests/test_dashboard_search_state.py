"""The search state round-trips through the URL and tolerates hand-edited links."""

from __future__ import annotations

import pytest

from dashboard.search_state import (
    DEFAULT_RADIUS,
    SearchState,
    option_id,
    option_ids,
    read_state,
)
from indexer.geo import GeoPoint
from indexer.search import SortOrder
from indexer.taxonomy import load_taxonomy


class Params:
    """Query parameters as ``st.query_params`` holds them."""

    def __init__(self, data: dict[str, str | list[str]]) -> None:
        self.data = data

    def get_all(self, key: str) -> list[str]:
        value = self.data.get(key, [])
        return [value] if isinstance(value, str) else list(value)


def read(data: dict[str, str | list[str]]) -> tuple[SearchState, list[str]]:
    return read_state(Params(data), load_taxonomy())


def test_a_full_search_round_trips() -> None:
    state = SearchState(
        near="Austin, TX",
        radius=10,
        unit="km",
        text="sciatica relief",
        modalities=("neuromuscular_therapy", "trigger_point_therapy"),
        conditions=("sciatica",),
        credentials=("lmt",),
        verified_only=True,
        min_rating=4.5,
        min_reviews=10,
        sort="distance",
        cursor="abc",
        page=3,
        compare=("t1", "t2"),
    )
    again, problems = read(state.to_params())
    assert problems == []
    assert again == state and again.compare == state.compare


def test_defaults_are_left_out_of_the_url() -> None:
    assert SearchState().to_params() == {}
    assert SearchState(near="78704").to_params() == {"near": "78704"}
    # A radius means nothing without a place.
    assert SearchState(radius=5).to_params() == {}


def test_any_spelling_of_a_term_reads_as_its_id() -> None:
    state, problems = read({"modality": ["NMT", "neuro-muscular", "trigger point"]})
    assert state.modalities == ("neuromuscular_therapy", "trigger_point_therapy")
    assert problems == []


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"radius": "0"}, "The radius '0' is not a number from 1 to 500."),
        ({"radius": "nan"}, "The radius 'nan' is not a number from 1 to 500."),
        ({"min_rating": "6"}, "The minimum rating '6' is not a number from 0 to 5."),
        ({"min_reviews": "-1"}, "The minimum number of reviews '-1' is not a whole number."),
        ({"sort": "price"}, "Unknown sort 'price'; showing the best matches first."),
        ({"condition": "hiccups"}, "Unknown condition 'hiccups' was left out."),
    ],
)
def test_unusable_values_are_dropped_and_reported(params: dict[str, str], problem: str) -> None:
    state, problems = read(params)
    assert problems == [problem]
    assert state.radius == DEFAULT_RADIUS and state.sort == SortOrder.RELEVANCE.value


def test_a_page_number_without_a_cursor_is_page_one() -> None:
    state, _ = read({"page": "4"})
    assert state.page == 1


def test_compare_keeps_four_distinct_ids() -> None:
    state, _ = read({"compare": ["a", "b", "a", "c", "d", "e"]})
    assert state.compare == ("a", "b", "c", "d")


def test_the_query_converts_units_and_drops_an_impossible_distance_sort() -> None:
    taxonomy = load_taxonomy()
    state = SearchState(near="78704", radius=10, unit="mi", sort="distance")
    query = state.to_query(GeoPoint(30.25, -97.75), taxonomy)
    assert query.radius_km == pytest.approx(16.09344)
    assert query.sort is SortOrder.DISTANCE
    no_place = state.to_query(None, taxonomy)
    assert no_place.radius_km is None and no_place.sort is SortOrder.RELEVANCE
    in_km = SearchState(near="78704", radius=10, unit="km").to_query(
        GeoPoint(30.25, -97.75), taxonomy
    )
    assert in_km.radius_km == 10


@pytest.mark.parametrize(
    "value",
    [
        "neuromuscular_therapy",
        "Neuromuscular therapy",
        "Neuromuscular therapy (9)",
        "Neuromuscular therapy (1,204)",
        "Neuromuscular therapy (0)",
        "NMT",
    ],
)
def test_a_filter_value_is_read_back_as_its_id(value: str) -> None:
    """An id stays an id; a label the browser held, count and all, is mapped to its id."""
    assert option_id(value, "modality", load_taxonomy()) == "neuromuscular_therapy"


def test_filter_values_become_ids_in_order_without_repeats() -> None:
    taxonomy = load_taxonomy()
    values = ["Deep tissue massage (3)", "neuromuscular_therapy", "NMT", "Nonsense (4)"]
    assert option_ids(values, "modality", taxonomy) == ["deep_tissue", "neuromuscular_therapy"]
    assert option_ids(None, "modality", taxonomy) == []


def test_the_url_holds_ids_only() -> None:
    state, problems = read({"modality": ["Neuromuscular therapy"], "near": "78704"})
    assert problems == []
    assert state.to_params()["modality"] == ["neuromuscular_therapy"]
