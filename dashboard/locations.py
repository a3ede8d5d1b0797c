"""Where a therapist practises, as a client reads it: addresses, the location nearest a searched
place, and whether a position is the office itself or only a ZIP or city centre.

A distance to an approximate position (``Location.approximate``) is never shown as if it were
exact: it reads "≈ 4.5 mi (approximate: city only)".
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.formatting import format_distance
from dashboard.markup import escape_markdown, plain_text
from dashboard.search_state import SearchState
from indexer.geo import DistanceUnit, GeoPoint, distance_km
from indexer.geocode import PlaceNotFoundError, geocode_place
from indexer.profile import Location, Profile

APPROXIMATE_MARK = "\u2248"  # ≈
_ONLY = {"zip": "ZIP only", "city": "city only"}
_CENTRE = {"zip": "the ZIP code's centre", "city": "the city's centre"}


@dataclass(frozen=True, slots=True)
class Nearest:
    """The therapist's location nearest a place, and how far it is."""

    location: Location
    km: float


def searched_point(state: SearchState) -> GeoPoint | None:
    """The place the search was about, if it had one that can be found."""
    if not state.near:
        return None
    try:
        return geocode_place(state.near).point
    except PlaceNotFoundError:
        return None


def nearest_location(profile: Profile, point: GeoPoint | None) -> Nearest | None:
    """The profile's location nearest ``point``; None without a point or a location."""
    if point is None or not profile.locations:
        return None
    measured = [
        Nearest(loc, distance_km(point.lat, point.lon, loc.lat, loc.lon))
        for loc in profile.locations
    ]
    # Equal distances: the exact position wins, so "≈" is shown only when it has to be.
    return min(measured, key=lambda n: (n.km, n.location.approximate))


def approximate_note(location: Location) -> str | None:
    """ "approximate: city only" for a position that is only a ZIP or city centre, else None."""
    if not location.approximate:
        return None
    return f"approximate: {_ONLY.get(location.precision, 'area only')}"


def distance_value(km: float, location: Location | None, unit: DistanceUnit) -> str:
    """ "1.0 mi", or "≈ 4.5 mi" when measured to an approximate position."""
    value = format_distance(km, unit)
    if location is not None and location.approximate:
        return f"{APPROXIMATE_MARK} {value}"
    return value


def distance_text(nearest: Nearest, unit: DistanceUnit) -> str:
    """ "1.0 mi", or "≈ 4.5 mi (approximate: city only)" (plain text)."""
    value = distance_value(nearest.km, nearest.location, unit)
    note = approximate_note(nearest.location)
    return f"{value} ({note})" if note else value


def distance_markdown(nearest: Nearest, unit: DistanceUnit) -> str:
    """ "**1.0 mi** away", or "**≈ 4.5 mi** away (approximate: city only)" with the note in
    grey, for a result or compare card (markdown)."""
    line = f"**{escape_markdown(distance_value(nearest.km, nearest.location, unit))}** away"
    note = approximate_note(nearest.location)
    return f"{line} :gray[{escape_markdown(f'({note})')}]" if note else line


def place_line(location: Location | None) -> str:
    """ "Austin, TX" (plain text); empty without a location."""
    if location is None:
        return ""
    return ", ".join(plain_text(p) for p in (location.city, location.state) if p)


def address_line(location: Location) -> str:
    """ "100 Main St, Austin, TX 78704" as plain text, with whatever parts are known."""
    region = " ".join(p for p in (location.state, location.postal_code) if p)
    parts = (location.street, location.city, region)
    return ", ".join(plain_text(p) for p in parts if p) or "Address not given"


def position_note(location: Location) -> str:
    """What the map pin of this location stands for (plain text)."""
    if not location.approximate:
        return "exact position"
    centre = _CENTRE.get(location.precision, "the area's centre")
    return f"{APPROXIMATE_MARK} approximate position: only {centre} is known"


def first_location(profile: Profile) -> Location | None:
    """The location a one-line summary names (the indexer lists first the one most sources give)."""
    return profile.locations[0] if profile.locations else None
