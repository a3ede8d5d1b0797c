"""The search page through Streamlit's ``AppTest``, on both search backends."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.apptest import SEARCH, card_names, open_page, point_app_at, shown
from tests.e2e.browser_selections import BrowserSelections
from tests.e2e.dashboard_world import HOSTILE_NAME, SAN_ANTONIO_ZIP, WACO_ZIP, ZIP, profiles

NMT = "neuromuscular_therapy"
# Round Rock therapists offering NMT: 19 mi from 78704, inside 25 mi and outside 10, so the
# NMT count in the filter's label changes with the radius.
ROUND_ROCK_NMT = {"t-rr00", "t-rr01", "t-rr02"}


@pytest.fixture
def directory(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Any:
    """The test directory indexed on the backend, and the app pointed at it."""
    backend.rebuild(profiles())
    point_app_at(backend, tmp_path, monkeypatch, request)
    return backend


def search(params: dict[str, str | list[str]]) -> AppTest:
    return open_page(SEARCH, params)


def summary(at: AppTest) -> str:
    line = next(m.value for m in at.markdown if "therapist" in m.value and "**" in m.value)
    return shown(line).replace("**", "")


def distances(at: AppTest) -> list[str]:
    """The distance line of each result card, as displayed."""
    return [shown(m.value) for m in at.markdown if " away" in m.value]


def card_badges(at: AppTest) -> dict[str, str]:
    """Each result card's badges (as displayed), by the therapist's name."""
    found: dict[str, str] = {}
    name = None
    for markdown in at.markdown:
        if markdown.value.startswith("#### "):
            name = shown(markdown.value[5:])
        elif name is not None and "-badge[" in markdown.value:
            found[name] = shown(markdown.value)
            name = None
    return found


def test_near_a_zip_sorted_by_distance(directory: Any) -> None:
    at = search({"near": ZIP, "radius": "5", "sort": "distance"})
    assert summary(at).startswith("3 therapists within 5 mi of 78704 (Austin, TX)")
    assert card_names(at) == ["Jane A. Doe", HOSTILE_NAME, "Maria Garcia"]
    # Maria Garcia's position is her ZIP code's centre: her distance is marked approximate.
    assert distances(at) == [
        "**1.0 mi** away",
        "**2.0 mi** away",
        "**\u2248 3.3 mi** away :gray[(approximate: ZIP only)]",
    ]
    # Each card says when a source last listed the therapist.
    confirmed = [shown(c.value) for c in at.caption if c.value.startswith("Last confirmed")]
    assert confirmed == ["Last confirmed Nov 20, 2026"] * 3


def test_a_modality_filter_with_facet_counts(directory: Any) -> None:
    at = search({"near": ZIP, "radius": "10", "modality": "nmt"})
    assert sorted(card_names(at)) == sorted(["Jane A. Doe", HOSTILE_NAME])
    modality = at.multiselect(key="s_modality")
    assert modality.value == ["neuromuscular_therapy"]
    # Beside each option, how many of the current results carry it.
    labels = dict(zip(modality.options, modality.options, strict=True))
    assert "Neuromuscular therapy (2)" in labels
    assert "Trigger point therapy (2)" in labels
    assert at.toggle(key="s_verified").label == "Verified license only (1)"


def test_filters_verified_rating_and_review_count(directory: Any) -> None:
    at = search({"near": ZIP, "radius": "10", "verified": "1", "sort": "rating"})
    assert card_names(at) == ["Jane A. Doe", "Maria Garcia"]
    at = search({"near": ZIP, "radius": "10", "min_rating": "4.6", "sort": "rating"})
    assert card_names(at) == ["Jane A. Doe", "Robert Chen"]
    at = search({"near": ZIP, "radius": "10", "min_reviews": "50"})
    assert card_names(at) == ["Jane A. Doe"]


def test_sorting_by_review_count(directory: Any) -> None:
    at = search({"near": ZIP, "radius": "10", "sort": "reviews"})
    assert card_names(at) == ["Jane A. Doe", "Maria Garcia", "Robert Chen", HOSTILE_NAME]


def test_widgets_write_the_search_into_the_url(directory: Any) -> None:
    at = search({"near": ZIP})
    at.text_input(key="s_near").input("Round Rock, TX")
    at.number_input(key="s_radius").set_value(10)
    at.selectbox(key="s_unit").set_value("km")
    at.multiselect(key="s_modality").set_value(["swedish_massage"])
    at.toggle(key="s_verified").set_value(False)
    at.selectbox(key="s_sort").set_value("rating")
    at.run()
    assert not at.exception
    assert at.query_params == {
        "near": "Round Rock, TX",
        "radius": "10",
        "unit": "km",
        "modality": "swedish_massage",
        "sort": "rating",
    }


def test_paging_with_a_bookmarkable_cursor(directory: Any) -> None:
    at = search({"near": "Round Rock, TX", "radius": "10", "sort": "rating"})
    assert summary(at).startswith("25 therapists")
    first_page = card_names(at)
    assert len(first_page) == 20
    assert first_page[0] == "Round Rock Therapist 24"
    at.button(key="page_next").click().run()
    second_page = card_names(at)
    assert second_page == [f"Round Rock Therapist {n:02d}" for n in range(4, -1, -1)]
    assert at.button(key="page_next").disabled
    params = dict(at.query_params)
    assert params["page"] == "2" and params["cursor"]
    # The URL alone reopens the same page.
    again = search(params)
    assert card_names(again) == second_page
    again.button(key="page_1").click().run()
    assert card_names(again) == first_page
    assert "cursor" not in again.query_params


def test_changing_the_search_returns_to_page_one(directory: Any) -> None:
    at = search({"near": "Round Rock, TX", "radius": "10", "sort": "rating"})
    at.button(key="page_next").click().run()
    at.slider(key="s_min_rating").set_value(4.0).run()
    assert "cursor" not in at.query_params
    assert card_names(at)[0] == "Round Rock Therapist 24"


def test_an_empty_result_says_why_and_offers_wider_searches(directory: Any) -> None:
    at = search({"near": ZIP, "radius": "1", "modality": "sports_massage"})
    assert at.subheader[0].value == "No therapist matches this search"
    explanation = " ".join(shown(m.value) for m in at.markdown)
    assert "within 1 mi of 78704 (Austin, TX)" in explanation
    assert "offering Sports massage" in explanation
    assert "The nearest match is 7 mi away." in explanation
    assert suggestion_labels(at) == ["Widen to 10 mi — 1 therapist"]
    at.button(key="suggestion_0").click().run()
    assert card_names(at) == ["Robert Chen"]
    assert at.query_params["radius"] == "10"


def test_an_empty_result_offers_to_drop_a_filter(directory: Any) -> None:
    at = search({"near": ZIP, "radius": "10", "modality": "sports_massage", "verified": "1"})
    assert at.subheader[0].value == "No therapist matches this search"
    assert suggestion_labels(at) == [
        "Drop Sports massage — 2 therapists",
        "Include unverified licenses — 1 therapist",
    ]
    at.button(key="suggestion_1").click().run()
    assert card_names(at) == ["Robert Chen"]
    assert "verified" not in at.query_params


def suggestion_labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.key and b.key.startswith("suggestion_")]


def test_an_unknown_place_says_so(directory: Any) -> None:
    at = search({"near": "00000"})
    assert "not a known US ZIP code" in shown(at.error[0].value)


def test_a_place_typed_as_people_type_it(directory: Any) -> None:
    at = search({"near": "austin, texas"})
    assert summary(at).startswith("29 therapists within 25 mi of Austin, TX")
    at = search({"near": "Austin"})  # several states have one: the likeliest, and the others
    assert summary(at).startswith("29 therapists within 25 mi of Austin, TX")
    note = next(c.value for c in at.caption if "Did you mean" in c.value)
    assert shown(note).startswith("Showing Austin, TX. Did you mean Austin, ")
    at = search({"near": "Austn, TX"})
    assert "did you mean Austin, TX?" in shown(at.error[0].value)


def test_bad_link_values_are_reported_not_fatal(directory: Any) -> None:
    at = search({"near": ZIP, "radius": "-3", "modality": "<b>x</b>", "sort": "sideways"})
    warning = shown(at.warning[0].value)
    assert "radius '-3'" in warning
    assert "Unknown modality '<b>x</b>'" in warning
    assert "Unknown sort 'sideways'" in warning
    assert summary(at).startswith("29 therapists within 25 mi")


def test_without_a_place_everyone_is_listed(directory: Any) -> None:
    at = search({})
    assert summary(at).startswith("33 therapists — enter a ZIP code or city")
    assert "Old Listing" not in card_names(at)


def test_choosing_therapists_to_compare(directory: Any) -> None:
    at = search({"near": ZIP, "radius": "5", "sort": "distance"})
    at.button(key="compare_t-doe").click().run()
    assert at.query_params["compare"] == "t-doe"
    assert "Choose one more to compare." in [c.value for c in at.caption]
    at.button(key="compare_t-garcia").click().run()
    assert at.query_params["compare"] == ["t-doe", "t-garcia"]
    link = next(p for p in at.page_link if p.value.startswith("Compare 2"))
    assert link.proto.page == "compare"
    assert "compare=t-doe&compare=t-garcia" in link.proto.query_string
    at.button(key="compare_t-doe").click().run()
    assert at.query_params["compare"] == "t-garcia"


def test_the_map_shows_the_page_of_results(directory: Any) -> None:
    at = search({"near": ZIP, "radius": "5"})
    charts = [e for e in at.get("deck_gl_json_chart")]
    assert len(charts) == 1
    spec = charts[0].proto.json
    assert '"Jane A. Doe"' in spec and '"Maria Garcia"' in spec
    # Maria Garcia's pin stands on her ZIP code's centre: drawn hollow, unlike the others.
    approximate = {p["name"]: p["approximate"] for p in map_pins(at)}
    assert approximate == {"Jane A. Doe": False, HOSTILE_NAME: False, "Maria Garcia": True}


def test_cards_say_plainly_what_the_license_check_found(directory: Any) -> None:
    badges = card_badges(search({"near": ZIP, "radius": "10"}))
    assert badges["Jane A. Doe"] == (
        ":green-badge[:material/verified: License verified (TX)] "
        ":blue-badge[:material/workspace_premium: Board certified (BCTMB) \u2014 confirmed by "
        "registry]"
    )
    # An expired license and one the board does not know are never shown as verified.
    assert badges["Robert Chen"] == ":orange-badge[:material/event_busy: License expired]"
    assert badges[HOSTILE_NAME] == (
        ":red-badge[:material/report: License not found at the TX board] "
        ":red-badge[:material/flag: Credential flagged]"
    )


def test_an_npi_or_a_board_certification_is_not_a_verified_license(directory: Any) -> None:
    at = search({"near": SAN_ANTONIO_ZIP, "radius": "5", "sort": "distance"})
    badges = card_badges(at)
    assert badges == {
        "Lena Ortiz": ":green-badge[:material/verified: License verified (TX)]",
        "Nina Patel": ":gray-badge[:material/remove_circle_outline: No license listed] "
        ":gray-badge[:material/badge: NPI confirmed]",
        "Bea Torres": ":gray-badge[:material/remove_circle_outline: No license listed] "
        ":blue-badge[:material/workspace_premium: Board certified (BCTMB) \u2014 confirmed by "
        "registry]",
    }
    assert "verified" not in badges["Nina Patel"].casefold()
    assert "verified" not in badges["Bea Torres"].casefold()
    # The filter counts and keeps only the active state license.
    assert at.toggle(key="s_verified").label == "Verified license only (1)"
    at.toggle(key="s_verified").set_value(True).run()
    assert card_names(at) == ["Lena Ortiz"]


def test_a_city_centre_position_is_marked_approximate(directory: Any) -> None:
    # Jane A. Doe's Waco practice is known only as "Waco, TX".
    at = search({"near": WACO_ZIP, "radius": "5"})
    assert card_names(at) == ["Jane A. Doe"]
    assert distances(at) == ["**\u2248 1.6 mi** away :gray[(approximate: city only)]"]
    assert ":gray[South Congress Bodywork · Waco, TX]" in [shown(m.value) for m in at.markdown]
    pins = map_pins(at)
    assert [(p["lat"], p["approximate"]) for p in pins] == [(31.5496, True)]
    assert pins[0]["detail"].endswith(" · approximate: city only")
    legend = next(shown(c.value) for c in at.caption if "hollow" in c.value)
    assert "hollow: approximate position (ZIP or city centre only)" in legend


def map_pins(at: AppTest) -> list[dict[str, Any]]:
    """The therapists' pins on the results map (the base map, searched place and area left
    out)."""
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return [row for layer in spec["layers"] if layer["id"] == "therapists" for row in layer["data"]]


# -- filter values are ids; labels and counts are for display only --------------------------


@pytest.fixture
def nmt_directory(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Any:
    """The test directory with three Round Rock therapists offering NMT."""
    backend.rebuild(
        [
            replace(p, modalities=(NMT, *p.modalities)) if p.id in ROUND_ROCK_NMT else p
            for p in profiles()
        ]
    )
    point_app_at(backend, tmp_path, monkeypatch, request)
    return backend


def nmt_label(at: AppTest) -> str:
    """How the NMT option reads in the technique filter."""
    return next(o for o in at.multiselect(key="s_modality").options if o.startswith("Neuromus"))


def assert_nmt_kept(at: AppTest) -> None:
    """The NMT filter is still chosen, by its id, in the widget and the URL; no error shown."""
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == []
    assert at.multiselect(key="s_modality").value == [NMT]
    assert at.query_params["modality"] == NMT


def test_the_filter_survives_a_count_change_where_radius_sort(
    nmt_directory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where 78704 → Technique NMT → Within 10 → Sort by Distance, as a browser sends it."""
    browser = BrowserSelections(monkeypatch)
    at = search({})
    at.text_input(key="s_near").input(ZIP)
    browser.run(at)
    assert nmt_label(at) == "Neuromuscular therapy (5)"
    browser.pick(at, "s_modality", [NMT])
    browser.run(at)
    assert_nmt_kept(at)
    assert len(card_names(at)) == 5
    at.number_input(key="s_radius").set_value(10)
    browser.run(at)
    assert_nmt_kept(at)
    assert nmt_label(at) == "Neuromuscular therapy (2)"
    assert sorted(card_names(at)) == sorted(["Jane A. Doe", HOSTILE_NAME])
    at.selectbox(key="s_sort").set_value("distance")
    browser.run(at)
    assert_nmt_kept(at)
    assert card_names(at) == ["Jane A. Doe", HOSTILE_NAME]
    assert at.query_params == {
        "near": ZIP,
        "radius": "10",
        "modality": NMT,
        "sort": "distance",
    }


def test_the_rating_slider_and_the_reviews_step_keep_the_filter(
    nmt_directory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = BrowserSelections(monkeypatch)
    at = search({"near": ZIP})
    browser.pick(at, "s_modality", [NMT])
    browser.run(at)
    assert nmt_label(at) == "Neuromuscular therapy (5)"
    at.slider(key="s_min_rating").set_value(4.0)
    browser.run(at)
    assert_nmt_kept(at)
    assert nmt_label(at) == "Neuromuscular therapy (1)"
    assert card_names(at) == ["Jane A. Doe"]
    at.number_input(key="s_min_reviews").increment()
    browser.run(at)
    assert_nmt_kept(at)
    at.number_input(key="s_min_reviews").increment()
    browser.run(at)
    assert_nmt_kept(at)
    assert at.query_params["min_reviews"] == "2"
    assert card_names(at) == ["Jane A. Doe"]


def test_a_chosen_term_whose_count_fell_to_zero_stays_chosen(
    nmt_directory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = BrowserSelections(monkeypatch)
    at = search({"near": ZIP})
    browser.pick(at, "s_modality", [NMT])
    browser.run(at)
    at.number_input(key="s_min_reviews").set_value(1000)
    browser.run(at)
    assert_nmt_kept(at)
    assert nmt_label(at) == "Neuromuscular therapy (0)"
    assert at.subheader[0].value == "No therapist matches this search"
    # Another change: the "(0)" label the browser now holds still means NMT.
    at.number_input(key="s_min_reviews").set_value(0)
    browser.run(at)
    assert_nmt_kept(at)
    assert len(card_names(at)) == 5
    # A term no result carries and nobody chose shows its name alone.
    assert "Sports massage" in at.multiselect(key="s_modality").options


def test_a_stale_label_is_read_back_as_its_id(nmt_directory: Any) -> None:
    """Whatever label a browser sends for a term, the search gets the term's id."""
    at = search({"near": ZIP})
    at.session_state["s_modality"] = ["Neuromuscular therapy (9)"]
    at.run()
    assert_nmt_kept(at)


# -- the pager ---------------------------------------------------------------------------


def test_previous_next_and_page_numbers(directory: Any) -> None:
    at = search({"near": "Round Rock, TX", "radius": "10", "sort": "rating"})
    first_page = card_names(at)
    assert at.button(key="page_prev").disabled
    assert at.button(key="page_1").disabled  # the page shown
    assert not at.button(key="page_2").disabled
    assert "page 1 of 2" in at.caption[-1].value or any(
        "page 1 of 2" in c.value for c in at.caption
    )
    at.button(key="page_2").click().run()
    assert card_names(at)[0] == "Round Rock Therapist 04"
    assert at.query_params["page"] == "2"
    assert at.button(key="page_next").disabled
    at.button(key="page_prev").click().run()
    assert card_names(at) == first_page
    assert "page" not in at.query_params and "cursor" not in at.query_params
    # A page number not reached yet is found by walking from the pages known.
    at.session_state["s_cursors"] = {}
    at.button(key="page_2").click().run()
    assert card_names(at)[0] == "Round Rock Therapist 04"
    assert at.query_params["cursor"]


def test_a_page_change_asks_to_scroll_back_to_the_results(directory: Any) -> None:
    at = search({"near": "Round Rock, TX", "radius": "10"})
    assert not any("scrollIntoView" in str(h.proto) for h in at.get("html"))
    at.button(key="page_next").click().run()
    scripts = [h for h in at.get("html") if "scrollIntoView" in str(h.proto)]
    assert len(scripts) == 1
    at.slider(key="s_min_rating").set_value(1.0).run()
    assert not any("scrollIntoView" in str(h.proto) for h in at.get("html"))


def test_no_index_yet_says_so_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TDIR_ES_URL", "TDIR_ES_INDEX", "TDIR_SQLITE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TDIR_HOME", str(tmp_path))
    monkeypatch.setenv("TDIR_BACKEND", "sqlite")
    monkeypatch.setenv("TDIR_SQLITE_PATH", str(tmp_path / "never-built.sqlite3"))
    at = search({"near": ZIP})
    assert "has not been built yet" in shown(at.error[0].value)
    assert "tdir index" in shown(at.error[0].value)
    assert not (tmp_path / "never-built.sqlite3").exists()


def test_a_condition_match_says_how_the_therapist_matches(directory: Any) -> None:
    at = search({"near": ZIP, "condition": "sciatica"})
    cards = [m.value for m in at.markdown if m.value.startswith("#### ")]
    reasons = [shown(c.value) for c in at.caption if "sciatica" in c.value]
    assert cards and len(reasons) == len(cards)  # one reason per card
    listed = [r for r in reasons if r == "Treats sciatica (listed)"]
    through = [r for r in reasons if r.startswith("Matches sciatica through ")]
    assert len(listed) + len(through) == len(reasons)
    # Found through a technique that addresses it (the taxonomy's addressed_by).
    assert through, reasons
