"""Yelp's and Google's content shown with the credit their terms ask for, through ``AppTest``.

One therapist with a Yelp business and a Google Maps place (written by hand, as the indexer
serves it): the profile, the search result card and the compare page name each provider where
its rating or reviews show, link Yelp's business page and each Google review's author; a
therapist known only from a directory carries no such credit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dashboard.app_pages.profile import provenance_rows
from dashboard.sources import source_title
from indexer.profile import (
    ListingRef,
    Location,
    Profile,
    Rating,
    ReviewEntry,
    SourceRating,
)
from tests.e2e.apptest import COMPARE, PROFILE, SEARCH, open_page, point_app_at

SEEN = "2026-11-20T10:00:00+00:00"
YELP_PAGE = "https://www.yelp.com/biz/lane-neuromuscular-therapy-austin"
MAPS_PAGE = "https://maps.google.com/?cid=12345678901234567890"
AUTHOR_PAGE = "https://www.google.com/maps/contrib/109876543210"
YELP_REVIEW = f"{YELP_PAGE}?hrid=Qx1Yz2"


def lane() -> Profile:
    office = Location(
        lat=30.2480,
        lon=-97.7500,
        precision="rooftop",
        street="200 Oak St",
        city="Austin",
        state="TX",
        postal_code="78704",
        sources=("yelp", "google-places"),
    )
    return Profile(
        id="t-lane",
        name="Lane Neuromuscular Therapy",
        practice_name="Lane Neuromuscular Therapy",
        locations=(office,),
        phones=("+15125550199",),
        rating=Rating(
            combined=4.55,
            review_count=30,
            by_source={
                "yelp": SourceRating(4.5, 12, "2026-10-01", "published", reviews_crawled=1),
                "google-places": SourceRating(
                    4.6, 18, "2026-09-01", "published", reviews_crawled=1
                ),
            },
            distribution={"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
        ),
        reviews=(
            ReviewEntry(
                id="r-yelp",
                source="yelp",
                url=YELP_REVIEW,
                author="Ann B.",
                rating=5.0,
                published="2026-10-01",
                body="Worked out the knot in my shoulder...",
                author_url="https://www.yelp.com/user_details?userid=u1",
            ),
            ReviewEntry(
                id="r-google",
                source="google-places",
                url=f"{MAPS_PAGE}&review=g1",
                author="Carl Diaz",
                rating=4.0,
                published="2026-09-01",
                body="Good session, easy to book.",
                author_url=AUTHOR_PAGE,
            ),
        ),
        listings=(
            ListingRef(
                "l-yelp",
                "yelp",
                "https://api.yelp.com/v3/businesses/Qq1",
                "Lane Neuromuscular Therapy",
                SEEN,
                True,
                page_url=YELP_PAGE,
            ),
            ListingRef(
                "l-google",
                "google-places",
                "https://places.googleapis.com/v1/places/ChIJq1",
                "Lane Neuromuscular Therapy",
                SEEN,
                True,
                page_url=MAPS_PAGE,
            ),
        ),
        last_confirmed=SEEN,
    )


def plain_directory_listing() -> Profile:
    return replace(
        lane(),
        id="t-west",
        name="Dana West",
        rating=Rating(
            combined=4.2,
            review_count=3,
            by_source={"atlas": SourceRating(4.3, 3, "2026-10-01", "published")},
        ),
        reviews=(),
        listings=(
            ListingRef("l-atlas", "atlas", "https://atlas.example/t/1", "Dana West", SEEN, True),
        ),
    )


@pytest.fixture
def directory(
    sqlite_backend: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Any:
    sqlite_backend.rebuild([lane(), plain_directory_listing()])
    point_app_at(sqlite_backend, tmp_path, monkeypatch, request)
    return sqlite_backend


def markdown_of(at: Any) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


CREDITS = f"Ratings include [Google Maps]({MAPS_PAGE}) · [Yelp]({YELP_PAGE})"


def test_a_profile_credits_yelp_and_google_maps_where_their_content_shows(
    directory: Any,
) -> None:
    at = open_page(PROFILE, {"id": "t-lane"})
    shown = markdown_of(at)
    # Beside the figures, and with each provider's rating: named, linking back to the business.
    assert CREDITS in shown
    assert f"Rating and reviews from **Yelp** · [View this business on Yelp]({YELP_PAGE})" in shown
    assert (
        "Rating and reviews from **Google Maps** · "
        f"[View this business on Google Maps]({MAPS_PAGE})"
    ) in shown
    # Each review: Google Maps' with its author's link, Yelp's with a link to it on Yelp.
    assert f"by [Carl Diaz]({AUTHOR_PAGE}) on **Google Maps**" in shown
    assert f"on **Yelp** · [Read it on Yelp]({YELP_REVIEW})" in shown


def test_a_search_card_and_the_compare_page_credit_the_providers(directory: Any) -> None:
    at = open_page(SEARCH, {"near": "78704"})
    assert CREDITS in markdown_of(at)
    at = open_page(COMPARE, {"near": "78704", "compare": ["t-lane", "t-west"]})
    assert CREDITS in markdown_of(at)
    table = next(d.value for d in at.dataframe if "Combined rating" in d.value.index)
    # A provider is named as its terms ask, not by the catalog's internal name.
    atlas = f"Rating on {source_title('atlas')}"
    assert {"Rating on Yelp", "Rating on Google Maps", atlas} <= set(table.index)


def test_content_from_a_directory_needs_no_credit_line(directory: Any) -> None:
    at = open_page(PROFILE, {"id": "t-west"})
    shown = " ".join(markdown_of(at))
    assert "Ratings include" not in shown
    assert "Rating and reviews from" not in shown


def test_facts_from_an_api_link_to_the_providers_page_not_the_api() -> None:
    api = "https://places.googleapis.com/v1/places/ChIJ123"
    maps = "https://maps.google.com/?cid=123"
    profile = Profile.from_dict(
        {
            "id": "t1",
            "name": "Jane Doe",
            "listings": [
                {
                    "id": "l1",
                    "source": "google-places",
                    "url": api,
                    "name": "Jane Doe",
                    "last_seen": "2026-12-01T00:00:00+00:00",
                    "active": True,
                    "page_url": maps,
                }
            ],
            "provenance": {"name": [{"source": "google-places", "url": api, "last_seen": None}]},
        }
    )
    assert [row["Page"] for row in provenance_rows(profile)] == [maps]
