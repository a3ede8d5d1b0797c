"""What a profile's verification, locations and ratings read as, on hand-written profiles.

"Verified" is only ever an active state license its board confirms; a board certification or an
NPI is confirmed on its own; a position that is only a ZIP or city centre reads as approximate;
a source's published aggregate is never passed off as computed from reviews read here.
"""

from __future__ import annotations

import pytest

from dashboard.credentials import (
    badges,
    credential_status,
    license_badge,
    license_sentence,
)
from dashboard.locations import Nearest, distance_text, nearest_location, position_note
from dashboard.maps import MapPoint, pin_colors
from dashboard.ratings import format_score, source_rating_cell, source_rating_text
from indexer.geo import GeoPoint
from indexer.profile import CredentialCheck, Location, Profile, SourceRating, Verification

AUSTIN = GeoPoint(30.2428, -97.7658)


def check(type_: str, kind: str, status: str, state: str | None = None) -> CredentialCheck:
    return CredentialCheck(
        type=type_,
        label={
            "lmt": "Licensed Massage Therapist (LMT)",
            "bctmb": "Board Certified in Therapeutic Massage & Bodywork (BCTMB)",
            "npi": "National Provider Identifier (NPI)",
        }[type_],
        kind=kind,
        state=state,
        number="12345",
        claimed_by=("atlas",),
        status=status,  # type: ignore[arg-type]
        checked_on="2026-11-18",
        issuer=None,
        record_url=None,
        reason="",
    )


LICENSE_OK = check("lmt", "state_license", "verified", "TX")
LICENSE_EXPIRED = check("lmt", "state_license", "expired", "TX")
LICENSE_INACTIVE = check("lmt", "state_license", "inactive", "TX")
LICENSE_UNKNOWN = check("lmt", "state_license", "not_found", "TX")
BCTMB_OK = check("bctmb", "board_certification", "verified")
NPI_OK = check("npi", "identifier", "verified")


def therapist(
    verification: Verification, *credentials: CredentialCheck, locations: tuple[Location, ...] = ()
) -> Profile:
    return Profile(
        id="t-1",
        name="Test Therapist",
        credentials=credentials,
        verification=verification,
        locations=locations,
    )


def labels(profile: Profile) -> list[str]:
    return [b.label for b in badges(profile)]


NPI_ONLY = therapist(Verification(license="none", npi_confirmed=True), NPI_OK)
BCTMB_ONLY = therapist(Verification(license="none", board_certified=True), BCTMB_OK)


def test_an_npi_alone_is_confirmed_not_verified() -> None:
    assert labels(NPI_ONLY) == ["No license listed", "NPI confirmed"]
    assert not any("verified" in b.casefold() for b in labels(NPI_ONLY))
    assert credential_status(NPI_OK).label == "Confirmed in NPI registry"


def test_a_board_certification_alone_is_confirmed_not_verified() -> None:
    assert labels(BCTMB_ONLY) == [
        "No license listed",
        "Board certified (BCTMB) \u2014 confirmed by registry",
    ]
    assert not any("verified" in b.casefold() for b in labels(BCTMB_ONLY))
    assert credential_status(BCTMB_OK).label == "Confirmed by registry"
    assert license_badge(BCTMB_ONLY).color != "green"


def test_verified_is_read_from_the_verification_not_from_credential_statuses() -> None:
    # Every credential check says "verified", but none is a state license the board confirms.
    both = therapist(
        Verification(license="none", board_certified=True, npi_confirmed=True), BCTMB_OK, NPI_OK
    )
    assert labels(both) == [
        "No license listed",
        "Board certified (BCTMB) \u2014 confirmed by registry",
        "NPI confirmed",
    ]


@pytest.mark.parametrize(
    ("verification", "credential", "badge", "status"),
    [
        (Verification(license="expired"), LICENSE_EXPIRED, "License expired", "Expired (TX)"),
        (Verification(license="inactive"), LICENSE_INACTIVE, "License inactive", "Inactive (TX)"),
        (
            Verification(license="not_found"),
            LICENSE_UNKNOWN,
            "License not found at the TX board",
            "Not found at the TX board",
        ),
    ],
)
def test_a_license_that_is_not_active_says_so_plainly(
    verification: Verification, credential: CredentialCheck, badge: str, status: str
) -> None:
    profile = therapist(verification, credential)
    assert labels(profile) == [badge]
    assert license_badge(profile).color != "green"
    assert credential_status(credential).label == status
    assert not profile.verification.license_verified


def test_an_active_license_is_verified_with_its_state_and_date() -> None:
    profile = therapist(
        Verification(license="verified", license_checked_on="2026-11-18", license_states=("TX",)),
        LICENSE_OK,
    )
    assert license_badge(profile).label == "License verified (TX)"
    assert license_badge(profile).color == "green"
    assert license_sentence(profile) == "License confirmed active by the TX board on Nov 18, 2026."
    assert credential_status(LICENSE_OK).label == "Verified (TX)"


def test_an_expired_license_beside_an_npi_is_still_not_verified() -> None:
    profile = therapist(
        Verification(license="expired", npi_confirmed=True), LICENSE_EXPIRED, NPI_OK
    )
    assert labels(profile) == ["License expired", "NPI confirmed"]
    assert license_sentence(profile) == "The TX board lists the license as expired: not verified."


OFFICE = Location(lat=30.2480, lon=-97.7500, precision="rooftop", street="100 Main St")
ZIP_CENTRE = Location(lat=30.2638, lon=-97.7166, precision="zip", postal_code="78702")
CITY_CENTRE = Location(lat=31.5496, lon=-97.1673, precision="city", city="Waco", state="TX")


def test_distances_to_zip_or_city_centres_read_as_approximate() -> None:
    assert distance_text(Nearest(OFFICE, 7.2), "mi") == "4.5 mi"
    assert distance_text(Nearest(CITY_CENTRE, 7.2), "mi") == (
        "\u2248 4.5 mi (approximate: city only)"
    )
    assert distance_text(Nearest(ZIP_CENTRE, 5.3), "km") == "\u2248 5.3 km (approximate: ZIP only)"
    assert position_note(OFFICE) == "exact position"
    assert position_note(ZIP_CENTRE) == (
        "\u2248 approximate position: only the ZIP code's centre is known"
    )


def test_the_nearest_location_decides_whether_a_distance_is_approximate() -> None:
    profile = therapist(Verification(), locations=(CITY_CENTRE, OFFICE))
    near_austin = nearest_location(profile, AUSTIN)
    assert near_austin is not None and near_austin.location == OFFICE
    near_waco = nearest_location(profile, GeoPoint(31.5525, -97.1396))
    assert near_waco is not None and near_waco.location == CITY_CENTRE
    assert nearest_location(profile, None) is None


def test_approximate_pins_are_hollow() -> None:
    exact = pin_colors(MapPoint(30.0, -97.0, "A", "", verified=True))
    hollow = pin_colors(MapPoint(30.0, -97.0, "A", "", verified=True, approximate=True))
    # An exact pin: solid with a white ring. An approximate one: pale inside its coloured ring.
    assert exact[1] == [255, 255, 255, 255]
    assert hollow[0][:3] == hollow[1][:3] == exact[0][:3]
    assert hollow[0][3] < exact[0][3]


PUBLISHED = SourceRating(
    rating=4.7,
    count=112,
    latest="2026-10-01",
    basis="published",
    reviews_crawled=3,
    reviews_average=4.33,
)
FROM_REVIEWS = SourceRating(
    rating=4.5,
    count=12,
    latest="2026-10-01",
    basis="reviews",
    reviews_crawled=12,
    reviews_average=4.5,
)


def test_a_published_aggregate_shows_its_value_and_count_as_published() -> None:
    assert source_rating_text(PUBLISHED) == (
        "4.7 from 112 (published by the site; 3 reviews shown here)"
    )
    assert source_rating_cell(PUBLISHED) == "4.7 from 112 (published)"
    none_read = SourceRating(rating=4.2, count=12, latest=None, basis="published")
    assert source_rating_text(none_read) == (
        "4.2 from 12 (published by the site; no reviews shown here)"
    )


def test_a_rating_computed_from_reviews_says_how_many() -> None:
    assert source_rating_text(FROM_REVIEWS) == "4.5 from 12 reviews"
    assert source_rating_cell(FROM_REVIEWS) == "4.5 from 12 reviews"


def test_scores_read_as_people_write_them() -> None:
    assert [format_score(v) for v in (4.7, 4.67, 5.0, 4.666)] == ["4.7", "4.67", "5.0", "4.67"]
    assert format_score(None) == "\u2013"
