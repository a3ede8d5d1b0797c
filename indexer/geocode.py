"""Offline geocoding of US places from the ZIP code data the ``zipcodes`` package ships.

``geocode_place`` takes any place a person types: a ZIP or ZIP+4, "City, ST", "City State" with
the state's code or name in any case, a city alone ("Austin": the likeliest, with the others as
``alternatives``), a nickname from ``data/place_aliases.yaml`` ("NYC"), a street address (placed
at its ZIP, else its city: there is no street database), or "lat,lon". A ZIP resolves to its
centroid; a city to the centroid of the city's ZIP centroids. Each answer records its
precision, so a profile (or a search) can say how exact its point is.

A ZIP is looked up in :mod:`indexer.zip_table`, a copy of ``zipcodes``' table that opens in
milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from indexer.gazetteer import (
    STATE_MAX_WORDS,
    STATES,
    City,
    aliases,
    city_key,
    gazetteer,
    normalize_spaces,
    state_code,
)
from indexer.geo import GeoPoint
from indexer.online_geocoder import online_geocoder
from indexer.zip_table import zip_row

Precision = Literal["rooftop", "zip", "city"]

# A ZIP, or a ZIP+4 with a hyphen, a space or nothing before its last four digits.
_ZIP = re.compile(r"^\s*(\d{5})(?:[-\s]?\d{4})?\s*$")
# Only digits and the marks numbers are written with: meant as a ZIP code or coordinates.
_NUMBERS = re.compile(r"^[\d\s.,;+()-]+$")
_LAT_LON = re.compile(r"^\s*\(?\s*([-+]?\d+(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d+(?:\.\d+)?)\s*\)?\s*$")
# A ZIP or ZIP+4 at the end of a longer text ("Austin, TX 78704").
_TRAILING_ZIP = re.compile(r"(?:^|[\s,])(\d{5})(?:-\d{4})?\s*\.?\s*$")
# A street address begins with its house number ("1200 S Lamar Blvd").
_HOUSE_NUMBER = re.compile(r"^\d+[A-Za-z]?(?:-\d+)?\s+[^\d\s]")
# How many other places an ambiguous name's answer lists.
MAX_ALTERNATIVES = 8


class PlaceNotFoundError(ValueError):
    """A place description that names no known ZIP, city or coordinates."""


@dataclass(frozen=True, slots=True)
class Place:
    """A geocoded place: its point, how precise it is, and a label for people."""

    point: GeoPoint
    precision: Precision
    label: str
    # Other places the text could have meant ("Austin, MN" for "Austin"), likeliest first.
    alternatives: tuple[str, ...] = ()


def zip_centroid(zip_code: str) -> Place | None:
    """Return the centroid of a five-digit (or ZIP+4) US ZIP code, or None if it is unknown."""
    match = _ZIP.match(zip_code or "")
    return _zip_centroid(match[1]) if match else None


@cache
def _zip_centroid(zip5: str) -> Place | None:
    # Cached: a directory repeats the same ZIPs many times.
    row = zip_row(zip5)
    if row is None or not row[0]:
        return None
    lat, lon, city, state = row
    return Place(GeoPoint(float(lat), float(lon)), "zip", f"{zip5} ({city}, {state})")


def zip_state(zip5: str) -> str | None:
    """The state a ZIP code is in, or None for a ZIP the table does not know."""
    row = zip_row(zip5)
    return row[3] if row else None


def city_centroid(city: str, state: str) -> Place | None:
    """Return the centroid of a city's ZIP centroids, or None if the city is unknown."""
    code = state_code(state)
    found = gazetteer().find(city, code) if code else ()
    return _city_place(found[0]) if found else None


def _city_place(city: City, alternatives: tuple[City, ...] = ()) -> Place:
    return Place(
        GeoPoint(city.lat, city.lon),
        "city",
        city.label,
        tuple(other.label for other in alternatives[:MAX_ALTERNATIVES]),
    )


def geocode_place(text: str) -> Place:
    """Resolve what a user typed for "where" to a point: offline, and online where configured.

    Accepts a ZIP (or ZIP+4), a city with or without its state (code or name, any case,
    commas optional), a street address, a nickname such as "NYC", or "lat,lon". A city named
    without a state is the likeliest one (most people, then most ZIP codes), the others in
    ``alternatives``. A street address is placed at its ZIP's centroid, else its city's:
    ``precision`` says which. With an online geocoder configured (``TDIR_GEOCODER_URL``, see
    :mod:`indexer.online_geocoder`), a street address it places at a building is placed there,
    and a place unknown offline is looked up there before it is refused.

    Raises PlaceNotFoundError naming the input (with a suggestion when one is close) when it
    is none of those or is unknown.
    """
    typed = normalize_spaces(text or "")
    if not typed:
        raise PlaceNotFoundError("no place given: use a ZIP code, 'City, ST' or 'lat,lon'")
    # "78704 1234" is a ZIP+4 (its latitude would be off the globe).
    if (match := _LAT_LON.match(typed)) and not _ZIP.match(typed):
        try:
            point = GeoPoint(float(match[1]), float(match[2]))
        except ValueError as exc:
            raise PlaceNotFoundError(f"{typed!r}: {exc}") from None
        return Place(point, "rooftop", f"{point.lat:.5f}, {point.lon:.5f}")
    try:
        place = _offline(typed)
    except PlaceNotFoundError:
        found = _online(typed, any_precision=True)
        if found is None:
            raise
        return found
    if place.precision != "rooftop" and _HOUSE_NUMBER.match(typed):
        # A street address: offline it is only at its ZIP's or city's centre.
        return _online(typed, any_precision=False) or place
    return place


def _online(typed: str, *, any_precision: bool) -> Place | None:
    """The configured online geocoder's answer, if there is one and it is precise enough."""
    geocoder = online_geocoder()
    located = geocoder.locate(typed) if geocoder is not None else None
    if located is None or not (located.building or any_precision):
        return None
    return Place(located.point, "rooftop" if located.building else "city", located.label)


def _offline(typed: str) -> Place:
    """A ZIP, a ZIP at the end of a longer text, or a city with its state and street."""
    if _ZIP.match(typed):
        place = zip_centroid(typed)
        if place is None:
            raise PlaceNotFoundError(f"{typed!r} is not a known US ZIP code")
        return place
    if _NUMBERS.match(typed):
        raise PlaceNotFoundError(_not_a_zip_or_point(typed))
    rest, zip5 = typed, None
    if match := _TRAILING_ZIP.search(typed):
        rest, zip5 = typed[: match.start()].strip(" ,"), match[1]
        place = zip_centroid(zip5)
        if place is not None:
            return place
    return _by_name(typed, rest, zip5)


def _by_name(typed: str, rest: str, zip5: str | None) -> Place:
    """Resolve the text before any ZIP as a city, its state and perhaps a street before it."""
    segments = [city_key(part) for part in rest.split(",")]
    segments = [part for part in segments if part]
    if not segments:
        raise PlaceNotFoundError(f"{zip5!r} is not a known US ZIP code")
    nickname = aliases().get(" ".join(segments))
    if nickname is not None:
        return _city_place(gazetteer().find(*nickname)[0])
    state, words, street = _split_state(segments)
    books = gazetteer()
    if words:
        found = _find_suffix(words, state)
        if state is not None and not found:
            # "Maple Mount" keys as "maple mt": its last word read as Montana. A city whose
            # name ends in what looked like the state comes before a miss.
            whole = segments[-1].split()
            found = _find_suffix(whole, None, min_size=len(whole) - len(words) + 1)
            state = None if found else state
        if found:
            city, others = found
            return _city_place(city, () if state else others)
    elif state is not None and not street:
        # Only a state: it may still be a city ("New York", "Washington").
        cities = books.find(segments[-1])
        if cities:
            return _city_place(cities[0], cities[1:])
        raise PlaceNotFoundError(f"{typed!r} is a state: add a city or a ZIP code")
    raise PlaceNotFoundError(_not_found(typed, words, state, zip5))


def _split_state(segments: list[str]) -> tuple[str | None, list[str], bool]:
    """Split the state off the end: (its code or None, the city's words, whether more came
    before the city)."""
    last = segments[-1].split()
    for size in range(min(STATE_MAX_WORDS, len(last)), 0, -1):
        code = state_code(" ".join(last[-size:]))
        if code is None:
            continue
        words = last[:-size]
        if words:
            return code, words, len(segments) > 1
        if len(segments) > 1:
            return code, segments[-2].split(), len(segments) > 2
        return code, [], False
    return None, last, len(segments) > 1


def _find_suffix(
    words: list[str], state: str | None, min_size: int = 1
) -> tuple[City, tuple[City, ...]] | None:
    """The city named by the longest run of words at the end ("1200 S Lamar Blvd Austin"),
    of at least ``min_size`` words."""
    books = gazetteer()
    for size in range(min(len(words), 6), min_size - 1, -1):
        name = " ".join(words[-size:])
        nickname = aliases().get(name)
        if nickname is not None and state in (None, nickname[1]):
            return books.find(*nickname)[0], ()
        found = books.find(name, state)
        if found:
            return found[0], found[1:]
    return None


def _not_a_zip_or_point(typed: str) -> str:
    """Say why numbers that are neither a ZIP code nor coordinates are neither."""
    if typed.isdecimal():
        return (
            f"{typed!r} has {len(typed)} digits: a US ZIP code has 5 "
            "(a ZIP+4 such as 78704-1234 is read as its ZIP)"
        )
    return (
        f"{typed!r} is neither a US ZIP code (5 digits) nor 'latitude,longitude' "
        "(such as 30.25,-97.75)"
    )


def _not_found(typed: str, words: list[str], state: str | None, zip5: str | None) -> str:
    """Say what was not found and, when a known place is close, suggest it."""
    name = " ".join(words)
    where = f"no US city {typed!r}"
    if zip5 is not None:
        where = f"{typed!r}: {zip5!r} is not a known US ZIP code and there is no such US city"
    suggestion = gazetteer().suggest(name, state) if name else None
    if suggestion is None and state is None and len(words) > 1:
        # "Austin Texsa": perhaps the last word is a misspelt state.
        code = _close_state(words[-1])
        if code is not None:
            suggestion = gazetteer().suggest(" ".join(words[:-1]), code)
    if suggestion is not None:
        return f"{where}; did you mean {suggestion.label}?"
    return f"{where}: use a ZIP code, 'City, ST' or 'latitude,longitude'"


def _close_state(word: str) -> str | None:
    from rapidfuzz import fuzz, process

    names = {name.lower(): code for code, name in STATES.items()}
    found = process.extractOne(word, list(names), scorer=fuzz.ratio, score_cutoff=80)
    return names[found[0]] if found else None
