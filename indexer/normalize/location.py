"""A listing's point on the map and how exact it is: the source's coordinates, else the ZIP's
centroid, else the city's."""

from __future__ import annotations

import math
from dataclasses import dataclass

from indexer.geo import GeoPoint, distance_km
from indexer.geocode import Place, city_centroid, zip_centroid, zip_state
from indexer.normalize.addresses import NormalizedAddress
from indexer.normalize.flags import Flag, Normalized


@dataclass(frozen=True, slots=True)
class LocatedAddress:
    """An address a listing gives and where it puts the listing."""

    address: NormalizedAddress | None
    place: Place


# Farther than this from the ZIP's centroid, the source's coordinates are wrong (a dropped minus
# sign, swapped latitude and longitude, a default point) rather than a large rural ZIP.
MAX_KM_FROM_ZIP = 150.0


def locate(
    latitude: float | None,
    longitude: float | None,
    address: NormalizedAddress | None,
    *,
    field: str = "location",
) -> Normalized[Place]:
    """Return where a listing is, with precision ``rooftop``, ``zip`` or ``city``.

    The source's coordinates win when valid. Flags: ``invalid_coordinates`` (off the globe,
    half given, or 0,0), ``coordinates_far_from_zip`` (more than 150 km from the address's ZIP;
    the ZIP centroid is used instead), ``unknown_zip`` (no such ZIP), ``zip_state_mismatch``
    (the ZIP belongs to another state), ``unknown_city`` and ``no_location`` (nothing to place
    the listing by; the value is None).
    """
    flags: list[Flag] = []
    point = _coordinates(latitude, longitude, field, flags)
    zip_place = None
    if address is not None and address.zip5:
        zip_place = zip_centroid(address.zip5)
        if zip_place is None:
            flags.append(Flag(f"{field}.zip", "unknown_zip", address.zip5))
        elif address.state and zip_state(address.zip5) not in (None, address.state):
            detail = f"{address.zip5} is in {zip_state(address.zip5)}"
            flags.append(Flag(f"{field}.zip", "zip_state_mismatch", address.state, detail))
    if point is not None:
        if (
            zip_place is None
            or distance_km(point.lat, point.lon, zip_place.point.lat, zip_place.point.lon)
            <= MAX_KM_FROM_ZIP
        ):
            return Normalized(
                Place(point, "rooftop", f"{point.lat:.5f}, {point.lon:.5f}"), tuple(flags)
            )
        given = f"{latitude}, {longitude}"
        flags.append(Flag(field, "coordinates_far_from_zip", given, zip_place.label))
    if zip_place is not None:
        return Normalized(zip_place, tuple(flags))
    if address is not None and address.city and address.state:
        city_place = city_centroid(address.city, address.state)
        if city_place is not None:
            return Normalized(city_place, tuple(flags))
        flags.append(Flag(f"{field}.city", "unknown_city", f"{address.city}, {address.state}"))
    raw = address.raw if address is not None else None
    flags.append(Flag(field, "no_location", raw))
    return Normalized(None, tuple(flags))


def _coordinates(
    latitude: float | None, longitude: float | None, field: str, flags: list[Flag]
) -> GeoPoint | None:
    if latitude is None and longitude is None:
        return None
    raw = f"{latitude}, {longitude}"
    if latitude is None or longitude is None:
        flags.append(Flag(field, "invalid_coordinates", raw, "only one of the pair"))
        return None
    try:
        lat, lon = float(latitude), float(longitude)
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise ValueError("not a finite number")
        point = GeoPoint(lat, lon)
    except (TypeError, ValueError) as exc:
        flags.append(Flag(field, "invalid_coordinates", raw, str(exc)))
        return None
    if lat == 0.0 and lon == 0.0:
        flags.append(Flag(field, "invalid_coordinates", raw, "0,0 is a placeholder"))
        return None
    return point
