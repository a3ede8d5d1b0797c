"""The compare page through Streamlit's ``AppTest``, on both search backends."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.formatting import MISSING
from dashboard.sources import source_title
from tests.e2e.apptest import COMPARE, card_names, open_page, point_app_at, shown
from tests.e2e.dashboard_world import ZIP, profile, profiles


@pytest.fixture
def directory(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Any:
    backend.rebuild(profiles())
    point_app_at(backend, tmp_path, monkeypatch, request)
    return backend


def compare(*ids: str, **extra: str) -> AppTest:
    return open_page(COMPARE, {"near": ZIP, "compare": list(ids), **extra})


def frame(at: AppTest, first_index: str) -> Any:
    return next(d.value for d in at.dataframe if first_index in d.value.index)


def test_side_by_side_figures_from_the_searched_place(directory: Any) -> None:
    at = compare("t-doe", "t-garcia", "t-chen")
    assert card_names(at) == ["Jane A. Doe", "Maria Garcia", "Robert Chen"]
    table = frame(at, "Distance")
    assert list(table.columns) == ["Jane A. Doe", "Maria Garcia", "Robert Chen"]
    # Maria Garcia is known only by her ZIP code's centre: the distance says so.
    assert list(table.loc["Distance"]) == [
        "1.0 mi",
        "\u2248 3.3 mi (approximate: ZIP only)",
        "6.8 mi",
    ]
    assert list(table.loc["Combined rating"]) == ["4.67", "4.44", "4.62"]
    assert list(table.loc["Reviews (all sites)"]) == ["122", "40", "8"]
    # A published aggregate and a rating computed from every review read differently.
    assert list(table.loc[f"Rating on {source_title('atlas')}"]) == [
        "4.7 from 120 (published)",
        "4.5 from 40 (published)",
        MISSING,
    ]
    assert list(table.loc[f"Rating on {source_title('reviews')}"]) == [
        "4.5 from 2 reviews",
        MISSING,
        "5.0 from 8 reviews",
    ]


def test_the_cards_mark_an_approximate_distance(directory: Any) -> None:
    at = compare("t-doe", "t-garcia")
    distances = [shown(m.value) for m in at.markdown if "away" in m.value]
    assert distances == ["**1.0 mi** away", "**\u2248 3.3 mi** away :gray[(approximate: ZIP only)]"]


def test_verified_means_an_active_state_license_only(directory: Any) -> None:
    at = compare("t-doe", "t-chen", "t-hostile")
    table = frame(at, "State license")
    assert list(table.loc["State license"]) == [
        "License verified (TX)",
        "License expired",
        "License not found at the TX board",
    ]
    at = compare("t-ortiz", "t-patel", "t-torres")
    table = frame(at, "State license")
    assert list(table.loc["State license"]) == [
        "License verified (TX)",
        "No license listed",
        "No license listed",
    ]
    cards = [shown(m.value) for m in at.markdown if "-badge[" in m.value]
    assert "NPI confirmed" in cards[1] and "verified" not in cards[1].casefold()
    assert "Board certified (BCTMB) \u2014 confirmed by registry" in cards[2]
    assert "verified" not in cards[2].casefold()


def test_credentials_and_their_status(directory: Any) -> None:
    at = compare("t-doe", "t-chen", "t-hostile")
    table = frame(at, "LMT")
    assert list(table.loc["LMT"]) == [
        "Verified (TX)",
        "Expired (TX)",
        "Not found at the TX board",
    ]
    # A board certification is confirmed by its registry, never "verified".
    assert list(table.loc["BCTMB"]) == ["Confirmed by registry", "", ""]


def test_techniques_matrix(directory: Any) -> None:
    at = compare("t-doe", "t-chen")
    table = frame(at, "Deep tissue massage")
    assert list(table.loc["Neuromuscular therapy"]) == ["✓", ""]
    assert list(table.loc["Deep tissue massage"]) == ["", "✓"]


def test_removing_one_keeps_the_rest_in_the_url(directory: Any) -> None:
    at = compare("t-doe", "t-garcia", "t-chen", radius="10")
    at.button(key="remove_t-garcia").click().run()
    assert at.query_params["compare"] == ["t-doe", "t-chen"]
    assert at.query_params["radius"] == "10"
    assert card_names(at) == ["Jane A. Doe", "Robert Chen"]


def test_fewer_than_two_asks_for_a_choice(directory: Any) -> None:
    at = compare("t-doe")
    assert "Choose two to four therapists" in at.info[0].value
    at = compare("t-doe", "t-vanished")
    assert "1 therapist you chose is no longer in the directory." in at.warning[0].value


def test_namesakes_get_distinct_columns(directory: Any) -> None:
    directory.upsert([replace(profile("t-garcia"), id="t-garcia-2")])
    at = compare("t-garcia", "t-garcia-2")
    assert list(frame(at, "Combined rating").columns) == ["Maria Garcia", "Maria Garcia (2)"]


def test_back_to_the_same_results(directory: Any) -> None:
    at = compare("t-doe", "t-garcia", radius="10", sort="distance")
    back = at.page_link[0]
    assert back.value == "Back to results"
    assert back.proto.query_string == (
        "near=78704&radius=10&compare=t-doe&compare=t-garcia&sort=distance"
    )
