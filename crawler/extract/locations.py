"""Where a listing can be found: every practice location a schema.org node publishes.

A node gives its locations in three ways, all read here, in this order:

- its own ``address`` (one value or several) with its own ``geo`` (or ``latitude`` and
  ``longitude``); the n-th geo belongs to the n-th address, as sites write them side by side;
- ``location`` (a person's ``workLocation`` likewise): Place nodes each with their own address and
  geo, PostalAddress nodes, or text;
- ``department``: departments that are places of their own, with an address or a geo.

The first address found is the listing's main one, as it has always been. Coordinates stay raw
here; the extractor parses them and reports the ones it refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from crawler.extract.nodes import Node, Properties, get, get_all, is_node, text, types_of
from crawler.extract.values import address_of, geo_pairs, parse_addresses
from crawler.items import PostalAddress

_ADDRESS_PROPERTIES = (
    "streetAddress",
    "addressLocality",
    "addressRegion",
    "postalCode",
    "addressCountry",
    "postOfficeBoxNumber",
)
# Properties naming the places a node is at (workLocation is a Person's).
PLACE_PROPERTIES = ("location", "workLocation")
_PLACES = Properties(*PLACE_PROPERTIES)
# A Place inside a department inside a listing is as deep as real pages go; deeper is a loop.
_MAX_DEPTH = 2


@dataclass(slots=True)
class RawLocation:
    """One place a node gives: an address and raw coordinates, either of which may be missing.

    ``own`` marks a place given on the node itself rather than through ``location`` or
    ``department``.
    """

    address: PostalAddress | None = None
    latitude: Any = None
    longitude: Any = None
    own: bool = False

    @property
    def has_coordinates(self) -> bool:
        """Whether the page gave any coordinate for this place (valid or not)."""
        return self.latitude is not None or self.longitude is not None


def raw_locations(node: Node) -> list[RawLocation]:
    """Return every place a node publishes, in the order described in the module docstring."""
    found = _own_locations(node, own=True)
    found += _location_values(node, depth=0)
    for department in get_all(node, "department"):
        if is_node(department):
            found += _place_locations(department, depth=1)
    return found


def split_main(spots: list[RawLocation]) -> tuple[RawLocation, list[RawLocation]]:
    """Return a node's main location and its further ones, without repeats.

    The main address is the first address given. Its coordinates are the node's own (as they
    have always been), else those given with that address, else those of another place at the
    same address, else the first coordinates given with no address at all. Every other place,
    in order, is a further location unless it repeats the main one or an earlier one.
    """
    if len(spots) == 1:  # what the rules below make of a single place, worked out
        (spot,) = spots
        main = RawLocation(address=spot.address)
        if spot.has_coordinates:
            main.latitude, main.longitude = spot.latitude, spot.longitude
        return main, []
    addressed = next((s for s in spots if s.address is not None), None)
    located = _main_coordinates(spots, addressed)
    main = RawLocation(address=addressed.address if addressed is not None else None)
    if located is not None:
        main.latitude, main.longitude = located.latitude, located.longitude
    others: list[RawLocation] = []
    for spot in spots:
        if spot is addressed or spot is located:
            continue
        if any(_same_place(spot, kept) for kept in [main, *others]):
            continue
        others.append(spot)
    return main, others


def _main_coordinates(
    spots: list[RawLocation], addressed: RawLocation | None
) -> RawLocation | None:
    """The place whose coordinates are the main location's (see :func:`split_main`)."""
    own = next((s for s in spots if s.own and s.has_coordinates), None)
    if own is not None:
        return own
    if addressed is None:
        return next((s for s in spots if s.has_coordinates), None)
    if addressed.has_coordinates:
        return addressed
    same_address = (
        s for s in spots if s.has_coordinates and _same_address(s.address, addressed.address)
    )
    return next(same_address, None) or next(
        (s for s in spots if s.has_coordinates and s.address is None), None
    )


def _own_locations(node: Node, *, own: bool) -> list[RawLocation]:
    """A node's own addresses, each with the geo at the same position."""
    addresses = parse_addresses(get_all(node, "address"))
    geos = geo_pairs(node)
    spots = []
    for position in range(max(len(addresses), len(geos))):
        address = addresses[position] if position < len(addresses) else None
        latitude, longitude = geos[position] if position < len(geos) else (None, None)
        spots.append(RawLocation(address, latitude, longitude, own=own))
    return spots


def _location_values(node: Node, depth: int) -> list[RawLocation]:
    """The places of a node's ``location`` (and ``workLocation``) properties."""
    found: list[RawLocation] = []
    for name in _PLACES.of(node):
        for value in get_all(node, name):
            found += _location_value(value, depth)
    return found


def _location_value(value: Any, depth: int) -> Iterator[RawLocation]:
    if is_node(value):
        if _is_postal_address(value):
            address = address_of(value)
            if address is not None:
                yield RawLocation(address)
        elif depth < _MAX_DEPTH:
            yield from _place_locations(value, depth + 1)
        return
    flat = text(value)
    # An unresolved reference (a blank node id, a link) names a place, it is not one.
    if flat and not _is_reference(flat):
        yield RawLocation(PostalAddress(raw=flat))


def _place_locations(node: Node, depth: int) -> list[RawLocation]:
    """The places a Place (or a department) gives: its own, then its ``location`` ones."""
    return _own_locations(node, own=False) + _location_values(node, depth)


def _is_postal_address(node: Node) -> bool:
    if "PostalAddress" in types_of(node):
        return True
    if get(node, "address") is not None or get(node, "geo") is not None:
        return False
    return any(get(node, name) is not None for name in _ADDRESS_PROPERTIES)


def _is_reference(value: str) -> bool:
    return value.startswith("_:") or urlsplit(value).scheme in ("http", "https")


def _same_place(spot: RawLocation, kept: RawLocation) -> bool:
    """Whether ``spot`` says nothing ``kept`` does not: the same address, or (having no
    address) the same coordinates."""
    if spot.address is not None:
        return kept.address is not None and _same_address(spot.address, kept.address)
    return (text(spot.latitude), text(spot.longitude)) == (
        text(kept.latitude),
        text(kept.longitude),
    )


def _same_address(one: PostalAddress | None, other: PostalAddress | None) -> bool:
    """Whether two addresses are the same, ignoring case and spacing, and the country when only
    one of them names it."""
    if one is None or other is None:
        return one is other
    keys = ["street", "locality", "region", "postal_code", "raw"]
    if one.country and other.country:
        keys.append("country")
    return all(_fold(getattr(one, k)) == _fold(getattr(other, k)) for k in keys)


def _fold(value: str | None) -> str:
    return " ".join((value or "").lower().split())
