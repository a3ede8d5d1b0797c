"""Covering an area with search circles, for APIs that cap the results of one search.

An area (a centre and a radius) is cut into a grid of square tiles; each tile is searched with
the circle around it (its corners on the circle), so every point of the tile is in its search.
A tile whose search the API would cut short is split into its four quarters, each searched in
turn, until every search fits under the cap or a tile is as small as the catalog allows.
Neighbouring circles overlap: a business found twice is fetched once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crawler.errors import CatalogError
from indexer.geo import distance_km

_KM_PER_DEGREE = 111.32


@dataclass(frozen=True, slots=True)
class Tile:
    """A rectangle of latitude and longitude, searched by the circle through its corners."""

    south: float
    west: float
    north: float
    east: float

    @property
    def center(self) -> tuple[float, float]:
        """The tile's centre, (latitude, longitude)."""
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    @property
    def radius_m(self) -> float:
        """The radius of the circle around the tile: centre to the farthest corner, in metres."""
        lat, lon = self.center
        corners = [(self.south, self.west), (self.south, self.east), (self.north, self.west)]
        return 1000 * max(distance_km(lat, lon, a, b) for a, b in corners)

    @property
    def side_km(self) -> float:
        """The tile's longer side, in kilometres."""
        lat = math.radians(self.center[0])
        height = (self.north - self.south) * _KM_PER_DEGREE
        width = (self.east - self.west) * _KM_PER_DEGREE * math.cos(lat)
        return max(height, width)

    def quarters(self) -> tuple[Tile, Tile, Tile, Tile]:
        """The four tiles this one splits into."""
        lat, lon = self.center
        return (
            Tile(self.south, self.west, lat, lon),
            Tile(self.south, lon, lat, self.east),
            Tile(lat, self.west, self.north, lon),
            Tile(lat, lon, self.north, self.east),
        )

    def contains(self, lat: float, lon: float) -> bool:
        """Whether a point is inside the tile's search circle."""
        here = self.center
        return distance_km(here[0], here[1], lat, lon) * 1000 <= self.radius_m

    def key(self) -> tuple[float, float, float, float]:
        """The tile as plain numbers (what a queued request carries)."""
        return (self.south, self.west, self.north, self.east)


@dataclass(frozen=True, slots=True)
class Area:
    """Where a source's businesses are searched for: a centre and a radius."""

    name: str
    latitude: float
    longitude: float
    radius_km: float

    def tiles(self, side_km: float) -> list[Tile]:
        """Square tiles of about ``side_km`` covering the area's circle, row by row."""
        count = max(1, math.ceil(2 * self.radius_km / side_km))
        height = 2 * self.radius_km / count / _KM_PER_DEGREE
        width = height / max(0.05, math.cos(math.radians(self.latitude)))
        south = self.latitude - count * height / 2
        west = self.longitude - count * width / 2
        return [
            Tile(
                round(south + row * height, 6),
                round(west + col * width, 6),
                round(south + (row + 1) * height, 6),
                round(west + (col + 1) * width, 6),
            )
            for row in range(count)
            for col in range(count)
        ]


def parse_areas(raw: Any, where: str) -> tuple[Area, ...]:
    """The catalog's ``areas``: ``[{name, center: [lat, lon], radius_km}, ...]``."""
    if not isinstance(raw, list) or not raw:
        raise CatalogError(
            f"{where}: give at least one area {{name, center: [lat, lon], radius_km}}"
        )
    areas = []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise CatalogError(f"{at}: expected {{name, center: [lat, lon], radius_km}}")
        center = item.get("center")
        if (
            not isinstance(center, list)
            or len(center) != 2
            or not all(_is_number(c) for c in center)
            or not -90 <= center[0] <= 90
            or not -180 <= center[1] <= 180
        ):
            raise CatalogError(f"{at}.center: expected [latitude, longitude]")
        radius = item.get("radius_km")
        if not isinstance(radius, int | float) or isinstance(radius, bool) or not 0 < radius <= 500:
            raise CatalogError(f"{at}.radius_km: expected a number of kilometres, 0 to 500")
        areas.append(
            Area(str(item.get("name") or index), float(center[0]), float(center[1]), float(radius))
        )
    return tuple(areas)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
