"""The browser's position becomes a search's "lat,lon", or nothing when it is not a position."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dashboard.my_location import position_text
from indexer.geo import distance_km
from indexer.geocode import geocode_place


@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180))
def test_a_position_becomes_a_place_within_100_m(lat: float, lon: float) -> None:
    text = position_text({"lat": lat, "lon": lon})
    assert text is not None
    place = geocode_place(text)
    assert distance_km(place.point.lat, place.point.lon, lat, lon) < 0.1


def test_anything_else_is_no_position() -> None:
    for junk in (
        None,
        "30,-97",
        {},
        {"lat": 30},
        {"lat": "30", "lon": "-97"},
        {"lat": True, "lon": 1},
        {"lat": 95.0, "lon": 0},
        {"lat": 0, "lon": -181},
    ):
        assert position_text(junk) is None
