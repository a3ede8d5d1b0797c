"""Great-circle distance and the bounding-box prefilter."""

from __future__ import annotations

import random

import pytest

from indexer.geo import GeoPoint, bounding_box, distance_km


def test_known_distance_austin_to_dallas() -> None:
    # Austin (30.2672, -97.7431) to Dallas (32.7767, -96.7970): about 293 km on a sphere.
    assert distance_km(30.2672, -97.7431, 32.7767, -96.7970) == pytest.approx(293.0, abs=2.0)


def test_one_degree_of_latitude() -> None:
    assert distance_km(0, 0, 1, 0) == pytest.approx(111.195, abs=0.001)


@pytest.mark.parametrize(
    "center",
    [
        GeoPoint(30.25, -97.75),
        GeoPoint(64.8, -147.7),
        GeoPoint(-33.9, 151.2),
        GeoPoint(0.0, 179.9),
        GeoPoint(89.9, 10.0),
    ],
)
def test_box_contains_every_point_of_the_circle(center: GeoPoint) -> None:
    radius = 50.0
    box = bounding_box(center, radius)
    rng = random.Random(7)
    checked = 0
    while checked < 2000:
        lat = center.lat + rng.uniform(-1, 1)
        lon = center.lon + rng.uniform(-3, 3)
        if not (-90 <= lat <= 90):
            continue
        lon = (lon + 180) % 360 - 180
        if distance_km(center.lat, center.lon, lat, lon) > radius:
            continue
        checked += 1
        assert box.min_lat <= lat <= box.max_lat
        assert any(lo <= lon <= hi for lo, hi in box.lon_ranges()), (lat, lon)


def test_box_wraps_the_antimeridian() -> None:
    box = bounding_box(GeoPoint(0.0, 179.9), 50)
    assert len(box.lon_ranges()) == 2


def test_box_near_a_pole_spans_all_longitudes() -> None:
    assert bounding_box(GeoPoint(89.9, 10.0), 50).lon_ranges() == [(-180.0, 180.0)]


@pytest.mark.parametrize(("lat", "lon"), [(90.1, 0), (-91, 0), (0, 180.5), (0, -200)])
def test_points_off_the_globe_are_refused(lat: float, lon: float) -> None:
    with pytest.raises(ValueError):
        GeoPoint(lat, lon)
