"""Cheap parse-to-type of schema.org values: addresses, coordinates, hours, counts.

Values stay as the source wrote them except where a typed field needs a number; whatever does not
parse is reported, never guessed.
"""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.nodes import (
    Properties,
    get,
    get_all,
    get_first,
    is_node,
    text,
    texts,
    types_of,
)
from crawler.items import PostalAddress

_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
# Built once: a union written in a call is built on every call.
_SEQUENCE = list | tuple
_NUMERIC = int | float


def parse_addresses(value: Any) -> list[PostalAddress]:
    """Return every address of a schema.org ``address`` value, in the order given.

    Each PostalAddress node and each string is one address (schema.org gives a property several
    values by repeating it, so a list of strings is several addresses, not the lines of one).
    Values without content are skipped.
    """
    candidates = value if isinstance(value, _SEQUENCE) else [value]
    found: list[PostalAddress] = []
    for candidate in candidates:
        address = address_of(candidate)
        if address is not None:
            found.append(address)
    return found


def address_of(value: Any) -> PostalAddress | None:
    """Return one address value (a PostalAddress node or a flat string) as a PostalAddress."""
    if is_node(value):
        return _address_from_node(value)
    flat = text(value)
    return PostalAddress(raw=flat) if flat else None


def _address_from_node(node: dict[str, Any]) -> PostalAddress | None:
    street_parts = texts(get_all(node, "streetAddress"))
    box = get_all(node, "postOfficeBoxNumber")
    if box:
        street_parts += texts(box)
    address = PostalAddress(
        street=", ".join(street_parts) or None,
        locality=text(get(node, "addressLocality")),
        region=text(get(node, "addressRegion")),
        postal_code=text(get(node, "postalCode")),
        country=_country(get(node, "addressCountry")),
    )
    if not any((address.street, address.locality, address.region, address.postal_code)):
        # Some sites put the whole address in "name" or "description" of the node.
        flat = text(get_first(node, "name", "description"))
        if flat is None and address.country is None:
            return None
        address.raw = flat
    return address


def _country(value: Any) -> str | None:
    """Return a country as written: a code or name string, or a Country node's name or code."""
    if is_node(value):
        return text(get_first(value, "name", "identifier", "alternateName", "@id"))
    return text(value)


def parse_coordinate(raw: Any, limit: float) -> float | None:
    """Return ``raw`` as a coordinate within ``±limit``, or None.

    A decimal comma (``"40,75"``) is accepted; anything else that is not one number is refused.
    """
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, _NUMERIC):
        number = float(raw)
    else:
        candidate = str(raw).strip()
        if not _NUMBER.match(candidate):
            return None
        number = float(candidate.replace(",", "."))
    if number != number or not -limit <= number <= limit:  # NaN never equals itself
        return None
    return number


def geo_pairs(node: dict[str, Any]) -> list[tuple[Any, Any]]:
    """Return the raw (latitude, longitude) of every ``geo`` of a node, in the order given.

    A node without a ``geo`` that has ``latitude``/``longitude`` of its own gives that one
    pair. A pair missing one half is still returned: the caller reports it.
    """
    pairs = []
    for geo in get_all(node, "geo"):
        if is_node(geo):
            lat, lon = get(geo, "latitude"), get(geo, "longitude")
            if lat is not None or lon is not None:
                pairs.append((lat, lon))
    if not pairs:
        lat, lon = get(node, "latitude"), get(node, "longitude")
        if lat is not None or lon is not None:
            pairs.append((lat, lon))
    return pairs


def parse_count(raw: Any) -> int | None:
    """Return a count (``reviewCount``, ``ratingCount``) as an int, or None if it is not one."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() and raw >= 0 else None
    digits = str(raw).strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
    return int(digits) if digits.isdigit() else None


def opening_hours(node: dict[str, Any]) -> dict[str, Any]:
    """Return a node's opening hours in one shape, for the listing's extras.

    ``openingHours`` becomes a list of strings; ``openingHoursSpecification`` (a node or a list)
    becomes a list of dicts with bare day names. Missing parts are left out.
    """
    out: dict[str, Any] = {}
    present = _HOURS_PROPERTIES.of(node)
    if not present:
        return out
    hours = texts(get_all(node, "openingHours"))
    if hours:
        out["opening_hours"] = hours
    specs = []
    for spec in get_all(node, "openingHoursSpecification"):
        if not is_node(spec):
            continue
        entry: dict[str, Any] = {}
        days = [_bare_day(d) for d in get_all(spec, "dayOfWeek")]
        days = [d for d in days if d]
        if days:
            entry["day_of_week"] = days
        for key, name in (
            ("opens", "opens"),
            ("closes", "closes"),
            ("valid_from", "validFrom"),
            ("valid_through", "validThrough"),
        ):
            value = text(get(spec, name))
            if value is not None:
                entry[key] = value
        if entry:
            specs.append(entry)
    if specs:
        out["opening_hours_specification"] = specs
    return out


_HOURS_PROPERTIES = Properties("openingHours", "openingHoursSpecification")


def _bare_day(value: Any) -> str | None:
    day = text(value)
    if day is None:
        return None
    if is_node(value) and types_of(value):
        day = text(get(value, "name")) or day
    return day.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
