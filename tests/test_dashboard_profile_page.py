"""The profile page through Streamlit's ``AppTest``, on both search backends."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.sources import source_title
from tests.e2e.apptest import PROFILE, open_page, point_app_at, shown
from tests.e2e.dashboard_world import DOE_REVIEWS_NOTE, ZIP, profiles


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


def captions(at: AppTest) -> list[str]:
    return [shown(c.value) for c in at.caption]


def header_badges(at: AppTest) -> str:
    """The header's badges as displayed (the first line of badges on the page)."""
    return next(shown(m.value) for m in at.markdown if "-badge[" in m.value)


def status_badges(at: AppTest) -> list[str]:
    """The status badge of each credential card (on the Credentials tab), as displayed."""
    credentials = at.tabs[2]
    return [shown(m.value) for m in credentials.markdown if "-badge[" in m.value]


def map_pins(at: AppTest) -> list[dict[str, Any]]:
    """The pins of the profile's map (not the base map beneath them)."""
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return [row for layer in spec["layers"] if layer["id"] == "therapists" for row in layer["data"]]


def test_the_header_sums_the_therapist_up(directory: Any) -> None:
    at = doe()
    assert at.title[0].value == "Jane A\u2060\\. Doe"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Combined rating": "4.67",
        "Ratings": "122",
        "Distance": "1.0 mi",
        "Listed on": "2 sites",
        "Last confirmed": "Nov 20, 2026",
        # The Reviews tab's site-by-site columns, by the sites' titles in the catalog.
        "Bodywork Atlas": "4.7 ★",
        "Knead Reviews": "4.5 ★",
    }
    assert header_badges(at) == (
        ":green-badge[:material/verified: License verified (TX)] "
        ":blue-badge[:material/workspace_premium: Board certified (BCTMB) \u2014 confirmed by "
        "registry]"
    )
    assert "License confirmed active by the TX board on Nov 18, 2026." in captions(at)
    back = at.page_link[0]
    assert back.value == "Back to results"
    assert back.proto.query_string == "near=78704&radius=5"


def test_contact_modalities_conditions_and_locations(directory: Any) -> None:
    at = doe()
    # The phone is a link a phone dials when tapped; the website one to open.
    call, website = at.get("link_button")[:2]
    assert (call.proto.label, call.proto.url) == ("Call (512) 555-0100", "tel:+15125550100")
    assert website.proto.url == "https://t-doe.example/"
    markdown = [m.value for m in at.markdown]
    assert "Neuromuscular therapy · Trigger point therapy" in markdown
    assert "Sciatica" in " ".join(markdown)
    assert len(at.get("deck_gl_json_chart")) == 1


def test_every_location_is_on_the_map_and_in_the_address_list(directory: Any) -> None:
    at = doe()
    addresses = [t for t in texts(at) if t in ("100 Main St, Austin, TX 78704", "Waco, TX")]
    assert addresses == ["100 Main St, Austin, TX 78704", "Waco, TX"]
    notes = captions(at)
    assert f"exact position · from {source_title('atlas')}, {source_title('reviews')}" in notes
    city = "\u2248 approximate position: only the city's centre is known"
    assert f"{city} · from {source_title('reviews')}" in notes
    pins = {(p["lat"], p["lon"]): p for p in map_pins(at)}
    assert set(pins) == {(30.2480, -97.7500), (31.5496, -97.1673)}
    exact, approximate = pins[(30.2480, -97.7500)], pins[(31.5496, -97.1673)]
    assert (exact["approximate"], approximate["approximate"]) == (False, True)
    # The approximate pin is hollow: a pale fill inside a ring of its colour.
    assert approximate["color"][3] < exact["color"][3]
    assert approximate["ring"][:3] == approximate["color"][:3] != exact["ring"][:3]
    assert approximate["detail"] == "Waco, TX · approximate: city only"
    assert any("hollow: approximate position" in c for c in notes)


def test_a_distance_to_a_zip_centre_is_marked_approximate(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-garcia", "near": ZIP})
    distance = next(m for m in at.metric if m.label == "Distance")
    assert distance.value == "\u2248 3.3 mi"
    assert "(approximate: ZIP only)" in captions(at)
    assert "Austin, TX 78702" in texts(at)
    assert (
        "\u2248 approximate position: only the ZIP code's centre is known · from "
        + source_title("atlas")
        in captions(at)
    )
    (pin,) = map_pins(at)
    assert pin["approximate"] is True


def test_credentials_with_status_and_checked_on_date(directory: Any) -> None:
    at = doe()
    cards = [m.value for m in at.markdown if m.value.startswith("**") and "\n:gray[" in m.value]
    assert [shown(c.split("  \n")[0]) for c in cards] == [
        "**Board Certified in Therapeutic Massage & Bodywork (BCTMB)**",
        "**Licensed Massage Therapist (LMT)**",
    ]
    assert shown(cards[1]).endswith(":gray[State license · TX · No. MT012345]")
    checked = "Checked on Nov 18, 2026 · issuer: Texas TDLR"
    assert f"{checked} · claimed on {source_title('atlas')}" in texts(at)
    # Only the state license reads "Verified"; the certification is confirmed by its registry.
    assert status_badges(at) == [
        ":blue-badge[:material/workspace_premium: Confirmed by registry]",
        ":green-badge[:material/verified: Verified (TX)]",
    ]
    # Only an http(s) record link becomes a button; the javascript: one stays unlinked.
    urls = [b.proto.url for b in at.get("link_button")]
    assert "https://ncbtmb.example/record/123456" in urls
    assert not any(u.startswith("javascript") for u in urls)


@pytest.mark.parametrize(
    ("profile_id", "badge", "status"),
    [
        (
            "t-patel",
            ":gray-badge[:material/badge: NPI confirmed]",
            ":blue-badge[:material/workspace_premium: Confirmed in NPI registry]",
        ),
        (
            "t-torres",
            ":blue-badge[:material/workspace_premium: Board certified (BCTMB) \u2014 confirmed "
            "by registry]",
            ":blue-badge[:material/workspace_premium: Confirmed by registry]",
        ),
    ],
)
def test_an_npi_or_a_certification_alone_is_never_verified(
    directory: Any, profile_id: str, badge: str, status: str
) -> None:
    at = open_page(PROFILE, {"id": profile_id})
    badges = header_badges(at)
    assert badges == ":gray-badge[:material/remove_circle_outline: No license listed] " + badge
    assert "verified" not in badges.casefold()
    assert status_badges(at) == [status]
    assert "No listing claims a state license, so none could be verified." in captions(at)


def test_an_expired_license_says_so_and_is_not_verified(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-chen"})
    badges = header_badges(at)
    assert badges == ":orange-badge[:material/event_busy: License expired]"
    assert "verified" not in badges.casefold()
    assert "The TX board lists the license as expired: not verified." in captions(at)
    assert status_badges(at) == [":orange-badge[:material/event_busy: Expired (TX)]"]


def test_ratings_per_source_beside_the_combined_score(directory: Any) -> None:
    at = doe()
    table = at.dataframe[0].value
    assert list(table["Site"]) == ["Bodywork Atlas", "Knead Reviews", "Combined (tdir)"]
    assert list(table["Score"]) == [4.7, 4.5, 4.67]
    # atlas publishes its own average; the reviews site's rating is computed from its reviews.
    assert list(table["Rating"]) == [
        "4.7 from 120 (published by the site; 3 reviews shown here)",
        "4.5 from 2 reviews",
        "4.67 from 122 ratings on all sites, copies counted once",
    ]
    assert list(table["Note"]) == ["", DOE_REVIEWS_NOTE, ""]
    assert list(table["Newest review shown"]) == ["Oct 1, 2026", "Sep 12, 2026", ""]
    assert "5 imaginary reviews of 4 stars" in " ".join(captions(at))
    # ... and worked out for this therapist: 4.67 * 127 - 20 = 573.1 over 122 ratings.
    assert (
        "For this therapist: 5 imaginary reviews of 4.0 + 122 ratings averaging 4.70 = "
        "(20.0 + 573.1) / 127 = 4.67." in captions(at)
    )


def test_the_star_chart_is_of_the_reviews_read_here(directory: Any) -> None:
    at = doe()
    assert "Stars in the reviews shown here" in [s.value for s in at.subheader]
    (chart,) = at.get("vega_lite_chart")
    assert "Reviews shown here" in chart.proto.spec
    assert (
        "Counts only the 4 rated reviews read here; a site's published average is not broken "
        "down by stars." in captions(at)
    )


def test_a_published_aggregate_without_reviews_read(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-garcia"})
    table = at.dataframe[0].value
    assert table["Rating"][0] == "4.5 from 40 (published by the site; no reviews shown here)"
    assert "No individual reviews were read for this therapist." in captions(at)


def review_lines(at: AppTest) -> list[str]:
    return [shown(m.value) for m in at.markdown if m.value.startswith((":orange[", ":gray[no"))]


def test_reviews_newest_first_then_filtered_and_sorted(directory: Any) -> None:
    at = doe()
    lines = review_lines(at)
    assert [line.split(" · ")[1:] for line in lines] == [
        ["Bodywork Atlas", "Oct 1, 2026", "Ann"],
        ["Knead Reviews", "Sep 12, 2026", "Bo"],
        ["Bodywork Atlas", "Jan 5, 2025", "Cy"],
        ["Knead Reviews", "Jun 30, 2024", "Di"],
        ["Bodywork Atlas", "undated", "Ed"],
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
    assert list(provenance["Source"]) == ["Bodywork Atlas", "Knead Reviews", "Bodywork Atlas"]
    assert list(provenance["Last seen"]) == ["Nov 20, 2026"] * 3
    listings = next(f for f in frames if "Listed as" in f.columns)
    assert list(listings["Source"]) == ["Bodywork Atlas", "Knead Reviews"]
    evidence = next(f for f in frames if "Why they are the same therapist" in f.columns)
    assert list(evidence["Why they are the same therapist"]) == [
        "weighed evidence: first name same, surname same, phone same"
    ]
    # Listings in words (as listed, and where), each field's weight beside the total.
    assert list(evidence["Listings"]) == [
        "Jane A. Doe (Bodywork Atlas) and Jane A. Doe (Knead Reviews)"
    ]
    assert list(evidence["Match weight"]) == ["21.4"]
    # Pages are links to follow.
    assert list(listings["Page"]) == [
        "https://atlas.example/t-doe",
        "https://reviews.example/t-doe",
    ]
    assert "surname same (doe) (+8.0)" in evidence.iloc[0, 3]
    # The table cell is cut short on screen; the expander spells every field out.
    (weights,) = [t.value for t in at.text if "match weight 21.4" in t.value]
    assert weights.splitlines()[1:] == [
        "  first name same (+6.7),",
        "  surname same (doe) (+8.0),",
        "  phone same (+7.7)",
    ]


def test_a_flagged_credential_is_shown_as_a_red_flag(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-hostile"})
    flags = [shown(e.value) for e in at.error]
    assert flags == [
        "claims Licensed Massage Therapist (LMT) MT999999 in TX: the board has no license MT999999"
    ]
    assert header_badges(at).startswith(
        ":red-badge[:material/report: License not found at the TX board]"
    )
    assert status_badges(at) == [":red-badge[:material/report: Not found at the TX board]"]
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


def test_reviews_site_by_site_each_with_its_own_rating_and_newest_reviews(directory: Any) -> None:
    at = doe()
    assert "Site by site" in [s.value for s in at.subheader]
    notes = captions(at)
    assert "Newest review Oct 1, 2026" in notes and "Newest review Sep 12, 2026" in notes
    # Each column: that site's reviews only, newest first, at most three.
    per_site = [c for c in notes if re.match(r"^(\d(\.\d)? ★|no rating) · ", c)]
    authors = [c.split(" · ")[2] for c in per_site]
    assert authors == ["Ann", "Cy", "Ed", "Bo", "Di"]
