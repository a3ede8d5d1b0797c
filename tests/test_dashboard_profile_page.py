"""The profile page through Streamlit's ``AppTest``, on both search backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.e2e.apptest import PROFILE, open_page, point_app_at, shown
from tests.e2e.dashboard_world import ZIP, profiles


@pytest.fixture
def directory(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Any:
    backend.rebuild(profiles())
    point_app_at(backend, tmp_path, monkeypatch, request)
    return backend


def doe(**extra: str) -> AppTest:
    return open_page(PROFILE, {"id": "t-doe", "near": ZIP, "radius": "5", **extra})


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_the_header_sums_the_therapist_up(directory: Any) -> None:
    at = doe()
    assert at.title[0].value == "Jane A\u2060\\. Doe"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Combined rating": "4.69",
        "Reviews": "180",
        "Distance": "1.0 mi",
        "Listed on": "2 sites",
        "Last confirmed": "Nov 20, 2026",
    }
    badges = " ".join(m.value for m in at.markdown if "-badge[" in m.value)
    assert "License verified" in badges and "BCTMB verified" in badges
    back = at.page_link[0]
    assert back.value == "Back to results"
    assert back.proto.query_string == "near=78704&radius=5"


def test_contact_modalities_conditions_and_locations(directory: Any) -> None:
    at = doe()
    assert "☎ (512) 555-0100" in texts(at)
    assert "100 Main St, Austin, TX 78704" in texts(at)
    assert at.get("link_button")[0].proto.url == "https://t-doe.example/"
    markdown = [m.value for m in at.markdown]
    assert "Neuromuscular therapy · Trigger point therapy" in markdown
    assert "Sciatica" in " ".join(markdown)
    assert len(at.get("deck_gl_json_chart")) == 1


def test_credentials_with_status_and_checked_on_date(directory: Any) -> None:
    at = doe()
    cards = [m.value for m in at.markdown if m.value.startswith("**") and "\n:gray[" in m.value]
    assert [shown(c.split("  \n")[0]) for c in cards] == [
        "**Board Certified in Therapeutic Massage & Bodywork (BCTMB)**",
        "**Licensed Massage Therapist (LMT)**",
    ]
    assert shown(cards[1]).endswith(":gray[State license · TX · No. MT012345]")
    assert "Checked on Nov 18, 2026 · issuer: Texas TDLR · claimed on atlas" in texts(at)
    statuses = [m.value for m in at.markdown if m.value.endswith(" Verified]")]
    assert statuses == [":green-badge[:material/verified: Verified]"] * 2
    # Only an http(s) record link becomes a button; the javascript: one stays unlinked.
    urls = [b.proto.url for b in at.get("link_button")]
    assert "https://ncbtmb.example/record/123456" in urls
    assert not any(u.startswith("javascript") for u in urls)


def test_ratings_per_source_beside_the_combined_score(directory: Any) -> None:
    at = doe()
    table = at.dataframe[0].value
    assert list(table["Site"]) == ["atlas", "reviews", "Combined (tdir)"]
    assert list(table["Rating"]) == [4.7, 4.6, 4.69]
    assert list(table["Reviews"]) == [120, 60, 180]
    assert list(table["Newest review"]) == ["Oct 1, 2026", "Sep 12, 2026", ""]
    assert "5 imaginary reviews of 4 stars" in " ".join(c.value for c in at.caption)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1


def review_lines(at: AppTest) -> list[str]:
    return [shown(m.value) for m in at.markdown if m.value.startswith((":orange[", ":gray[no"))]


def test_reviews_newest_first_then_filtered_and_sorted(directory: Any) -> None:
    at = doe()
    lines = review_lines(at)
    assert [line.split(" · ")[1:] for line in lines] == [
        ["atlas", "Oct 1, 2026", "Ann"],
        ["reviews", "Sep 12, 2026", "Bo"],
        ["atlas", "Jan 5, 2025", "Cy"],
        ["reviews", "Jun 30, 2024", "Di"],
        ["atlas", "undated", "Ed"],
    ]
    at.button_group(key="review_sources_t-doe").set_value(["reviews"]).run()
    assert [line.split(" · ")[-1] for line in review_lines(at)] == ["Bo", "Di"]
    at.button_group(key="review_sources_t-doe").set_value(["atlas", "reviews"])
    at.selectbox(key="review_order_t-doe").set_value("lowest").run()
    assert [line.split(" · ")[-1] for line in review_lines(at)] == ["Cy", "Bo", "Ann", "Di", "Ed"]


def test_provenance_listings_and_merge_evidence(directory: Any) -> None:
    at = doe()
    frames = [d.value for d in at.dataframe]
    provenance = next(f for f in frames if "Fact" in f.columns)
    assert list(provenance["Fact"]) == ["Name", "Name", "Phone"]
    assert list(provenance["Source"]) == ["atlas", "reviews", "atlas"]
    assert list(provenance["Last seen"]) == ["Nov 20, 2026"] * 3
    listings = next(f for f in frames if "Listed as" in f.columns)
    assert list(listings["Source"]) == ["atlas", "reviews"]
    evidence = next(f for f in frames if "Why they are the same therapist" in f.columns)
    assert list(evidence["Why they are the same therapist"]) == ["same name + phone + ZIP"]


def test_a_flagged_credential_is_shown_as_a_red_flag(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-hostile"})
    flags = [shown(e.value) for e in at.error]
    assert flags == [
        "claims Licensed Massage Therapist (LMT) MT999999 in TX: the board has no license MT999999"
    ]
    statuses = " ".join(m.value for m in at.markdown if m.value.startswith(":red-badge"))
    assert "Not found at issuer" in statuses
    data_flags = next(d.value for d in at.dataframe if "Value as found" in d.value.columns)
    assert list(data_flags["Value as found"]) == ["<script>1</script>"]


def test_an_inactive_therapist_is_marked(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-old"})
    assert "No source lists this therapist any more" in at.warning[0].value


def test_an_old_id_opens_the_profile_under_its_current_id(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-doe-before"})
    assert at.title[0].value == "Jane A\u2060\\. Doe"
    assert at.query_params["id"] == "t-doe"


def test_an_unknown_id_says_the_listing_is_gone(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-nobody"})
    assert "no longer in the directory" in at.warning[0].value


def test_without_an_id_it_points_to_search(directory: Any) -> None:
    at = open_page(PROFILE, {})
    assert "Choose a therapist from the search results" in at.info[0].value
