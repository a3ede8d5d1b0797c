"""A listing's point: the source's coordinates, else its ZIP's centroid, else its city's."""

from __future__ import annotations

from indexer.geo import distance_km
from indexer.normalize.addresses import normalize_address
from indexer.normalize.location import locate

# South Austin (ZIP 78704) and downtown Austin, for distance checks.
SOUTH_AUSTIN = (30.243, -97.766)
AUSTIN = (30.267, -97.743)


def _address(raw: str):
    return normalize_address(raw).value


def _near(place, point: tuple[float, float], km: float) -> bool:
    return distance_km(place.point.lat, place.point.lon, *point) < km


def test_valid_source_coordinates_are_rooftop() -> None:
    result = locate(30.2601, -97.7601, _address("1200 S Lamar Blvd, Austin, TX 78704"))
    assert result.value.precision == "rooftop"
    assert (result.value.point.lat, result.value.point.lon) == (30.2601, -97.7601)
    assert result.flags == ()


def test_without_coordinates_the_zip_centroid_is_used() -> None:
    result = locate(None, None, _address("1200 S Lamar Blvd, Austin, TX 78704"))
    assert result.value.precision == "zip"
    assert result.value.label == "78704 (Austin, TX)"
    assert _near(result.value, SOUTH_AUSTIN, 5)
    assert result.flags == ()


def test_without_a_zip_the_city_centroid_is_used() -> None:
    result = locate(None, None, _address("Austin, TX"))
    assert result.value.precision == "city"
    assert result.value.label == "Austin, TX"
    assert _near(result.value, AUSTIN, 15)


def test_a_zip_that_does_not_exist_is_flagged_and_the_city_used() -> None:
    result = locate(None, None, _address("1 Main St, Austin, TX 00001"))
    assert result.value.precision == "city"
    assert [(f.field, f.reason, f.raw) for f in result.flags] == [
        ("location.zip", "unknown_zip", "00001")
    ]


def test_a_zip_in_another_state_is_flagged() -> None:
    result = locate(None, None, _address("1 Main St, Austin, CA 78704"))
    assert result.value.precision == "zip"
    assert [f.reason for f in result.flags] == ["zip_state_mismatch"]


def test_coordinates_with_a_dropped_minus_sign_fall_back_to_the_zip() -> None:
    result = locate(30.26, 97.76, _address("1200 S Lamar Blvd, Austin, TX 78704"))
    assert result.value.precision == "zip"
    assert [f.reason for f in result.flags] == ["coordinates_far_from_zip"]


def test_swapped_or_placeholder_coordinates_are_flagged() -> None:
    swapped = locate(-97.76, 30.26, None)
    assert swapped.value is None
    assert [f.reason for f in swapped.flags] == ["invalid_coordinates", "no_location"]
    null_island = locate(0.0, 0.0, _address("Austin, TX"))
    assert null_island.value.precision == "city"
    assert [f.reason for f in null_island.flags] == ["invalid_coordinates"]
    half = locate(30.26, None, None)
    assert [f.reason for f in half.flags] == ["invalid_coordinates", "no_location"]


def test_an_unknown_city_without_zip_is_no_location() -> None:
    result = locate(None, None, _address("Nowhereville, TX"))
    assert result.value is None
    assert [f.reason for f in result.flags] == ["unknown_city", "no_location"]


def test_nothing_at_all_is_no_location() -> None:
    result = locate(None, None, None)
    assert result.value is None
    assert [f.reason for f in result.flags] == ["no_location"]
