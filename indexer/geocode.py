"""Offline geocoding of US places from the ZIP code data the ``zipcodes`` package ships.

A ZIP resolves to its centroid; "City, ST" to the centroid of the city's ZIP centroids. Each
answer records its precision, so a profile (or a search) can say how exact its point is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from statistics import fmean
from typing import Literal

import zipcodes

from indexer.geo import GeoPoint
from indexer.taxonomy import fold

Precision = Literal["rooftop", "zip", "city"]

_ZIP = re.compile(r"^\s*(\d{5})(?:-?\d{4})?\s*$")
_LAT_LON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
_CITY_STATE = re.compile(r"^\s*(?P<city>[^,]+?)\s*,\s*(?P<state>[A-Za-z]{2})\s*$")


class PlaceNotFoundError(ValueError):
    """A place description that names no known ZIP, city or coordinates."""


@dataclass(frozen=True, slots=True)
class Place:
    """A geocoded place: its point, how precise it is, and a label for people."""

    point: GeoPoint
    precision: Precision
    label: str


def zip_centroid(zip_code: str) -> Place | None:
    """Return the centroid of a five-digit (or ZIP+4) US ZIP code, or None if it is unknown."""
    match = _ZIP.match(zip_code or "")
    return _zip_centroid(match[1]) if match else None


@cache
def _zip_centroid(zip5: str) -> Place | None:
    # The package scans its table on every call; a directory repeats the same ZIPs many times.
    found = zipcodes.matching(zip5)
    if not found or not found[0].get("lat"):
        return None
    row = found[0]
    label = f"{zip5} ({row['city']}, {row['state']})"
    return Place(GeoPoint(float(row["lat"]), float(row["long"])), "zip", label)


@cache
def _cities() -> dict[tuple[str, str], tuple[float, float, str]]:
    grouped: dict[tuple[str, str], list[tuple[float, float]]] = {}
    names: dict[tuple[str, str], str] = {}
    for row in zipcodes.list_all():
        if not row.get("lat") or row.get("zip_code_type") == "MILITARY":
            continue
        key = (fold(row["city"]), row["state"])
        grouped.setdefault(key, []).append((float(row["lat"]), float(row["long"])))
        names.setdefault(key, f"{row['city']}, {row['state']}")
    return {
        key: (fmean(p[0] for p in pts), fmean(p[1] for p in pts), names[key])
        for key, pts in grouped.items()
    }


def city_centroid(city: str, state: str) -> Place | None:
    """Return the centroid of a city's ZIP centroids, or None if the city is unknown."""
    found = _cities().get((fold(city), state.strip().upper()))
    if not found:
        return None
    lat, lon, label = found
    return Place(GeoPoint(lat, lon), "city", label)


def geocode_place(text: str) -> Place:
    """Resolve what a user typed for "where": a ZIP, "City, ST" or "lat,lon".

    Raises PlaceNotFoundError naming the input when it is none of those or is unknown.
    """
    if match := _LAT_LON.match(text):
        try:
            point = GeoPoint(float(match[1]), float(match[2]))
        except ValueError as exc:
            raise PlaceNotFoundError(f"{text!r}: {exc}") from None
        return Place(point, "rooftop", f"{point.lat:.5f}, {point.lon:.5f}")
    if _ZIP.match(text):
        place = zip_centroid(text)
        if place is None:
            raise PlaceNotFoundError(f"{text.strip()!r} is not a known US ZIP code")
        return place
    if match := _CITY_STATE.match(text):
        place = city_centroid(match["city"], match["state"])
        if place is None:
            raise PlaceNotFoundError(f"no US city {match['city']!r} in {match['state'].upper()}")
        return place
    raise PlaceNotFoundError(
        f"{text!r} is not a place: use a ZIP code, 'City, ST' or 'latitude,longitude'"
    )
