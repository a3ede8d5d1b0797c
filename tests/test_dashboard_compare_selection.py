"""The therapists chosen for comparison through ``AppTest``: the choice stays through the top
navigation's Compare and Search tabs (pages opened without the URL's parameters), changes made
on the compare page come back to the search page, and a link naming others replaces it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.apptest import COMPARE, SEARCH, card_names, open_page, point_app_at, shown
from tests.e2e.dashboard_world import ZIP, profiles

TRAY = ":material/compare_arrows: **Compare:** "


@pytest.fixture
def directory(
    sqlite_backend: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Any:
    sqlite_backend.rebuild(profiles())
    point_app_at(sqlite_backend, tmp_path, monkeypatch, request)
    return sqlite_backend


def open_tab(at: AppTest, page: str) -> AppTest:
    """Open a page from the top navigation: its link carries no query parameters."""
    at.switch_page(page)
    at.query_params.clear()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tray(at: AppTest) -> str | None:
    """The names in the search page's compare tray, as displayed; None without a tray."""
    line = next((m.value for m in at.markdown if m.value.startswith(TRAY)), None)
    return shown(line.removeprefix(TRAY)) if line is not None else None


def test_the_choice_survives_the_compare_and_search_tabs(directory: Any) -> None:
    at = open_page(SEARCH, {"near": ZIP, "radius": "5", "sort": "distance"})
    at.button(key="compare_t-doe").click().run()
    at.button(key="compare_t-garcia").click().run()
    assert tray(at) == "Jane A. Doe, Maria Garcia"

    open_tab(at, COMPARE)
    assert card_names(at) == ["Jane A. Doe", "Maria Garcia"]
    assert "At a glance" in [h.value for h in at.subheader]

    open_tab(at, SEARCH)
    assert tray(at) == "Jane A. Doe, Maria Garcia"
    # The page opened without parameters leaves its URL so (a second history entry for one
    # page would make Back seem to do nothing); the next change writes the choice there.
    assert "compare" not in at.query_params
    # Without a place every therapist is listed; add the first one not chosen yet.
    added = next(str(b.key) for b in at.button if b.label == "Add to compare")
    at.button(key=added).click().run()
    assert at.query_params["compare"] == ["t-doe", "t-garcia", added[len("compare_") :]]

    open_tab(at, COMPARE)
    assert len(card_names(at)) == 3
    at.button(key="remove_t-doe").click().run()
    assert len(card_names(at)) == 2
    open_tab(at, SEARCH)
    assert tray(at) is not None and "Jane A. Doe" not in tray(at)
    assert "Maria Garcia" in tray(at)


def test_a_link_naming_therapists_replaces_the_choice(directory: Any) -> None:
    at = open_page(SEARCH, {"near": ZIP})
    at.button(key="compare_t-doe").click().run()
    at.switch_page(COMPARE)
    at.query_params.clear()
    at.query_params["compare"] = ["t-chen", "t-garcia"]
    at.run()
    assert card_names(at) == ["Robert Chen", "Maria Garcia"]
    open_tab(at, SEARCH)
    assert tray(at) == "Robert Chen, Maria Garcia"


def test_clearing_the_choice_empties_the_compare_tab(directory: Any) -> None:
    at = open_page(SEARCH, {"near": ZIP, "radius": "5"})
    at.button(key="compare_t-doe").click().run()
    at.button(key="compare_t-garcia").click().run()
    at.button(key="compare_clear").click().run()
    assert tray(at) is None
    open_tab(at, COMPARE)
    assert card_names(at) == []
    assert any("Choose two to four therapists" in i.value for i in at.info)
