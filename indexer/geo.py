"""Great-circle geometry shared by both search backends and the indexer.

The earth radius is the one Elasticsearch uses for ``arc`` distances, so a distance computed here
and a radius filtered there agree to well under a metre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

EARTH_RADIUS_KM = 6371.0087714
KM_PER_MILE = 1.609344  # the international mile

DistanceUnit = Literal["mi", "km"]


def to_km(value: float, unit: DistanceUnit) -> float:
    """A distance given in ``unit``, in kilometres."""
    return value * KM_PER_MILE if unit == "mi" else value


def from_km(km: float, unit: DistanceUnit) -> float:
    """A distance in kilometres, in ``unit``."""
    return km / KM_PER_MILE if unit == "mi" else km


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS 84 point; construction fails for coordinates off the globe."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (isinstance(self.lat, int | float) and -90.0 <= self.lat <= 90.0):
            raise ValueError(f"latitude {self.lat!r} is outside -90..90")
        if not (isinstance(self.lon, int | float) and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"longitude {self.lon!r} is outside -180..180")


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle (haversine) distance between two points in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """A lat/lon box; ``min_lon > max_lon`` means it wraps across the antimeridian."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float

    def lon_ranges(self) -> list[tuple[float, float]]:
        """Return the box's longitude span as one or two non-wrapping ranges."""
        if self.min_lon <= self.max_lon:
            return [(self.min_lon, self.max_lon)]
        return [(self.min_lon, 180.0), (-180.0, self.max_lon)]


def bounding_box(center: GeoPoint, radius_km: float) -> BoundingBox:
    """Return a box that contains every point within ``radius_km`` of ``center``.

    Used as a cheap index prefilter before the exact distance check, so it may be a little
    larger than the circle but never smaller.
    """
    angular = radius_km / EARTH_RADIUS_KM
    min_lat = center.lat - math.degrees(angular)
    max_lat = center.lat + math.degrees(angular)
    if min_lat <= -90.0 or max_lat >= 90.0:
        # The circle reaches a pole: every longitude is inside.
        return BoundingBox(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)
    lat_rad = math.radians(center.lat)
    # The widest longitude span of the circle (Chamberlain's formula), exact for a sphere.
    delta_lon = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(lat_rad))))
    min_lon, max_lon = center.lon - delta_lon, center.lon + delta_lon
    if delta_lon >= 180.0:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    if min_lon < -180.0:
        min_lon += 360.0
    if max_lon > 180.0:
        max_lon -= 360.0
    return BoundingBox(min_lat, max_lat, min_lon, max_lon)
